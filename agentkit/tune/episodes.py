"""Agent episodes → training examples, rendered by the real agent.

An :class:`Episode` is a task in a workspace (an eval case: files, and
optionally documents, memories and web pages; its checks are the outcome a
run must reach), the gold calls in order and the final answer. Playing it
drives the real :class:`~agentkit.agent.Agent` graph, approving everything,
in a temporary workspace, with a :class:`~agentkit.tune.replay.GoldReplayModel`
in place of the model: every act step's prompt is what the bundled model
would see at that point, and the gold call is its label. The examples are
kept only when the run reached the case's outcome with every step
reachable under the decoder's grammar.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from langchain_core.embeddings import Embeddings

from agentkit.config import Settings
from agentkit.errors import AgentkitError
from agentkit.evals.cases import EvalCase
from agentkit.events import FINAL_ANSWER_TOOL
from agentkit.tune.examples import TrainingExample
from agentkit.tune.forms import vary_form
from agentkit.tune.replay import GoldCall, GoldReplayModel, GoldStep

BASE_URL_SLOT = "{base_url}"


@dataclass(frozen=True)
class Episode:
    """A task, its workspace, its gold solution and the outcome to reach.

    ``case`` holds the task, the workspace files, documents, memories, web
    pages and the checks (agentkit.evals.cases); ``calls`` the gold calls in
    order; ``answer`` the final answer (``{result}`` in it: the last tool
    result). ``{base_url}`` in the task or an argument is the case's page
    server."""

    case: EvalCase
    calls: tuple[GoldCall, ...]
    answer: str

    @classmethod
    def from_case(cls, case: EvalCase) -> Episode:
        """The episode of an eval case with a gold solution."""
        if case.gold is None:
            raise AgentkitError(f"case {case.id} has no gold solution to train on")
        calls = tuple(GoldCall(c.tool, dict(c.args)) for c in case.gold.calls)
        return cls(case=case, calls=calls, answer=case.gold.answer)

    @property
    def id(self) -> str:
        return self.case.id

    def steps(self, base_url: str = "") -> list[GoldStep]:
        """One act step per call, then the final answer."""
        calls = [*self.calls, GoldCall(FINAL_ANSWER_TOOL, {"answer": self.answer})]
        return [
            GoldStep((GoldCall(c.tool, _fill(dict(c.args), base_url)),), "gold", index)
            for index, c in enumerate(calls, start=1)
        ]


def _fill(value: Any, base_url: str) -> Any:
    if isinstance(value, str):
        return value.replace(BASE_URL_SLOT, base_url)
    if isinstance(value, Mapping):
        return {k: _fill(v, base_url) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill(v, base_url) for v in value]
    return value


@dataclass
class EpisodeRun:
    """What playing an episode gave: its examples, and whether to keep them."""

    episode_id: str
    examples: list[TrainingExample] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    """Failed checks, and steps the decoder could not have produced."""

    @property
    def passed(self) -> bool:
        return not self.problems


def play_episode(
    episode: Episode,
    settings: Settings,
    *,
    model: GoldReplayModel | None = None,
    embeddings: Embeddings | None = None,
) -> EpisodeRun:
    """Run ``episode`` through the agent graph with the gold calls; every
    step's example, and the problems that make the run unfit for training."""
    from agentkit.evals.checks import RunOutcome, run_checks
    from agentkit.evals.harness import AgentHarness
    from agentkit.evals.sandbox import CaseEnv

    model = model or replay_model(settings)
    vectors = embeddings
    if vectors is None and episode.case.uses_memory():
        from agentkit.models.factory import shared_embeddings

        vectors = shared_embeddings(settings)
    steps = len(episode.calls) + 1
    with CaseEnv(episode.case, settings, vectors, max_steps=steps + 2) as env:
        model.expect(episode.steps(env.base_url), f"episode:{episode.id}")
        trace = AgentHarness().run(env, model)
        outcome = RunOutcome(env.workspace, trace, env.new_memories())
        failed = [
            f"check failed: {c.name}" + (f" ({c.detail})" if c.detail else "")
            for c in run_checks(episode.case, outcome)
            if not c.passed
        ]
    problems = [*model.problems, *failed]
    if model.steps_left:
        problems.append(f"the run ended with {model.steps_left} gold steps unplayed")
    return EpisodeRun(episode.id, model.examples, problems)


def render_episode(episode: Episode, settings: Settings) -> list[TrainingExample]:
    """The episode's training examples; [] unless the run reached the gold outcome."""
    run = play_episode(episode, settings)
    return run.examples if run.passed else []


def render_episodes(
    episodes: Iterable[Episode],
    settings: Settings,
    on_episode: Callable[[EpisodeRun], None] | None = None,
) -> list[EpisodeRun]:
    """Every episode played with one replay model (one llama.cpp load)."""
    model = replay_model(settings)
    runs = []
    for episode in episodes:
        run = play_episode(episode, settings, model=model)
        runs.append(run)
        if on_episode is not None:
            on_episode(run)
    return runs


def replay_model(settings: Settings) -> GoldReplayModel:
    """The replay twin of the model ``settings`` name (in process only)."""
    from agentkit.models.factory import uses_model_servers

    if uses_model_servers(settings):
        raise AgentkitError(
            "training examples are rendered with the in-process model, not a model server",
            hint="unset model_urls for `agentkit tune`",
        )
    style = "tuned" if settings.steering.mode == "tuned" else ""
    return GoldReplayModel.from_settings(settings, temperature=0.0, steering_style=style)


Split = Literal["dev"]


class FamiliesUnavailable(AgentkitError):
    """This build has no eval task families to draw episodes from."""


# Forms a user's wording takes around the same request (politeness, a
# greeting, no final punctuation): applied at random to a family's wordings,
# so the model learns the request, not the template's frame.
OPENERS = ("please ", "Please ", "could you ", "Can you ", "hey, ", "Quick one: ", "hi! ")
CLOSERS = (" please", " thanks", ", thank you", " pls", " asap")


def vary_wording(task: str, rng: random.Random) -> str:
    """``task`` with a random opener, closer or dropped final punctuation
    (each at most once; the request's own words never change)."""
    if rng.random() < 0.2:
        opener = rng.choice(OPENERS)
        first = task[:1].lower() if opener[0].islower() or opener.endswith(": ") else task[:1]
        task = opener + first + task[1:]
    if rng.random() < 0.15 and task[-1:] in ".?!":
        task = task[:-1]
    if rng.random() < 0.12:
        task = task.rstrip(".!") + rng.choice(CLOSERS)
    return task


def episodes_from_families(
    split: Split = "dev",
    n: int = 100,
    seed: int = 0,
    vary: bool = False,
    prefix: str = "",
    balanced: bool = False,
    forms: bool = False,
) -> list[Episode]:
    """``n`` episodes from the eval's task families of ``split`` (dev only:
    held-out families are never trained on; with the dev modules'
    training-only families): each a random dev family, in a
    random wording, instantiated with its own random seed, with the gold
    solution the instance comes with (``vary``: the wording's frame varied,
    :func:`vary_wording`; ``prefix``: only families whose names start with
    it; ``balanced``: the families in turn instead of at random; ``forms``:
    the task also put in another user's form, :func:`~agentkit.tune.forms.vary_form`).
    The same ``seed`` draws the same episodes."""
    if split != "dev":
        raise FamiliesUnavailable(
            f"episodes come from dev families only, not {split!r}",
            hint="held-out families are never trained on",
        )
    try:
        from agentkit.evals.families import instantiate, training_families
    except ImportError:
        raise FamiliesUnavailable(
            "this build has no eval task families (agentkit.evals.families) to draw episodes from",
            hint="pass training data with --data FILE.jsonl",
        ) from None
    rng = random.Random(seed)
    families = [f for f in training_families() if f.name.startswith(prefix)]
    if not families:
        raise FamiliesUnavailable(f"no dev family's name starts with {prefix!r}")
    episodes: list[Episode] = []
    for index in range(n):
        family = families[index % len(families)] if balanced else rng.choice(families)
        wording = rng.randrange(len(family.wordings))
        case = instantiate(family, wording, seed=rng.getrandbits(63))
        task = case.task
        if forms and case.gold is not None:
            keep = json.dumps([c.args for c in case.gold.calls]) + "\n" + case.gold.answer
            task = vary_form(task, keep, rng)
        task = vary_wording(task, rng) if vary else task
        case = case.model_copy(update={"id": f"{case.id}.s{seed}-{index}", "task": task})
        episodes.append(Episode.from_case(case))
    return episodes


def examples_of(runs: Sequence[EpisodeRun]) -> list[TrainingExample]:
    """The examples of the runs that passed."""
    return [e for run in runs if run.passed for e in run.examples]
