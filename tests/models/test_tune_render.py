"""Training examples are exactly what the agent sends the real model.

The bundled model runs a task through the agent (greedy), with
``ChatLlama._prompt`` and the generated text recorded; the same steps,
replayed as an episode's gold calls, must render byte-identical prompts
(forced prefix included) and completions identical to what the model
generated. Gold calls are written in the grammar's key order and checked
against the step's grammar: one the decoder could not produce leaves the
episode out."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pytest
from langchain_core.outputs import ChatGenerationChunk
from pydantic import PrivateAttr

from agentkit.config import Settings, load_settings
from agentkit.evals.cases import AnswerCheck, Checks, EvalCase, FileCheck
from agentkit.evals.harness import AgentHarness
from agentkit.evals.sandbox import CaseEnv
from agentkit.models import chat as chat_module
from agentkit.models.calls import final_chunk
from agentkit.models.chat import ChatLlama
from agentkit.models.engine import GenerationStats
from agentkit.tune import Episode, GoldCall, play_episode, render_episode

pytestmark = pytest.mark.model

NOTES = "colour: green\nsize: 7\n"


@dataclass
class Seen:
    prompt: str
    generated: str
    calls: list[tuple[str, dict[str, Any]]]


class SpyLlama(ChatLlama):
    """The real model, recording each act step's prompt and generated text."""

    _seen: list[Seen] = PrivateAttr(default_factory=list)
    _last_prompt: str = PrivateAttr(default="")

    def _prompt(self, *args: Any, **kwargs: Any) -> tuple[str, str | None, str]:
        prompt, gbnf, prefix = super()._prompt(*args, **kwargs)
        self._last_prompt = prompt
        return prompt, gbnf, prefix

    def record(self, chunk: ChatGenerationChunk, stats: GenerationStats) -> None:
        calls = [
            (c["name"], json.loads(c["args"]))
            for c in chunk.message.tool_call_chunks  # type: ignore[attr-defined]
        ]
        self._seen.append(Seen(self._last_prompt, stats.text, calls))


def spy_on_replies(monkeypatch: pytest.MonkeyPatch, spy: SpyLlama) -> None:
    """Record each reply that was offered tools, as ChatLlama builds it."""

    def recording(
        stats: GenerationStats,
        tools: list[dict[str, Any]] | None,
        metadata: dict[str, Any],
        prefix: str = "",
    ) -> ChatGenerationChunk:
        chunk = final_chunk(stats, tools, metadata, prefix)
        if tools:
            spy.record(chunk, stats)
        return chunk

    monkeypatch.setattr(chat_module, "final_chunk", recording)


@pytest.fixture(scope="module")
def settings() -> Settings:
    return load_settings(temperature=0.0)


def test_episode_prompts_are_what_the_agent_sends_the_real_model(
    settings: Settings, bundled_model_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    case = EvalCase(
        id="render-read",
        task="What is the colour in notes.txt?",
        files={"notes.txt": NOTES},
        checks=Checks(),
    )
    spy = SpyLlama.from_settings(settings, temperature=0.0)
    spy_on_replies(monkeypatch, spy)
    with CaseEnv(case, settings) as env:
        trace = AgentHarness().run(env, spy)
    seen = spy._seen
    assert trace.status == "finished" and seen[-1].calls[0][0] == "final_answer", trace
    calls = tuple(GoldCall(name, args) for s in seen[:-1] for name, args in s.calls)
    episode = Episode(case=case, calls=calls, answer=seen[-1].calls[0][1]["answer"])

    run = play_episode(episode, settings)

    assert run.passed, run.problems
    assert len(run.examples) == len(seen) >= 2
    for example, real in zip(run.examples, seen, strict=True):
        assert example.prompt == real.prompt  # byte for byte, forced prefix included
        assert example.prompt.endswith('<tool_call>{"name": "')
        assert example.completion == real.generated  # the model's own text, through </tool_call>
        assert example.completion.endswith("</tool_call>")
    assert [e.step for e in run.examples] == list(range(1, len(seen) + 1))
    assert run.examples[-1].tools == ["final_answer"]


def test_gold_calls_take_the_grammars_key_order(settings: Settings) -> None:
    episode = Episode(
        case=EvalCase(
            id="render-order",
            task="Show the first line of notes.txt and then replace green with blue in it.",
            files={"notes.txt": NOTES},
            checks=Checks(
                files={"notes.txt": FileCheck(contains="colour: blue")},
                answer=AnswerCheck(contains="blue"),
            ),
        ),
        calls=(
            GoldCall("read_file", {"end_line": 1, "start_line": 1, "path": "notes.txt"}),
            GoldCall(
                "edit_file", {"new_string": "blue", "old_string": "green", "path": "notes.txt"}
            ),
        ),
        answer="The colour is now blue.",
    )
    run = play_episode(episode, settings)
    assert run.passed, run.problems
    read, edit, answer = run.examples
    assert read.completion == (
        'read_file", "arguments": {"path": "notes.txt", "start_line": 1, "end_line": 1}}'
        "</tool_call>"
    )
    assert edit.completion.endswith(
        '{"path": "notes.txt", "old_string": "green", "new_string": "blue"}}</tool_call>'
    )
    assert answer.completion == (
        'final_answer", "arguments": {"answer": "The colour is now blue."}}</tool_call>'
    )


def test_an_episode_the_decoder_could_not_produce_is_left_out(settings: Settings) -> None:
    # Steering grounds read_file's path in the workspace: a file that is not
    # there is no path the grammar allows.
    episode = Episode(
        case=EvalCase(
            id="render-unreachable",
            task="What is the colour in notes.txt?",
            files={"notes.txt": NOTES},
            checks=Checks(),
        ),
        calls=(GoldCall("read_file", {"path": "elsewhere/secret.txt"}),),
        answer="green",
    )
    run = play_episode(episode, settings)
    assert not run.passed
    assert any("the grammar does not allow" in p for p in run.problems), run.problems
    assert render_episode(episode, settings) == []


def test_an_episode_that_misses_its_outcome_is_left_out(settings: Settings) -> None:
    episode = Episode(
        case=EvalCase(
            id="render-wrong",
            task="Write the text hello to the file hello.txt",
            checks=Checks(files={"hello.txt": FileCheck(contains="hello")}),
        ),
        calls=(GoldCall("write_file", {"path": "hello.txt", "content": "bye"}),),
        answer="Done.",
    )
    run = play_episode(episode, settings)
    assert len(run.examples) == 2 and not run.passed
    assert any("check failed" in p and "hello.txt" in p for p in run.problems), run.problems


def test_dev_family_episodes_render_through_the_agent(settings: Settings) -> None:
    from agentkit.tune.episodes import episodes_from_families, examples_of, render_episodes

    runs = render_episodes(episodes_from_families("dev", 6, seed=11), settings)
    kept = [r for r in runs if r.passed]
    assert kept, [r.problems for r in runs]
    for run in runs:
        assert run.passed or run.problems  # a run left out says why
    examples = examples_of(runs)
    assert len(examples) == sum(len(r.examples) for r in kept)
    assert all(e.source.startswith("episode:") and e.label == "gold" for e in examples)
    assert all(e.completion.endswith("</tool_call>") for e in examples)
