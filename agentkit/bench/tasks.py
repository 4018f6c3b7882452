"""Time per task: a fixed handful of the built-in eval cases (``agentkit
eval``) run by the agent on the bundled model with the default decoding, and
with prompt-lookup speculation or jump-forward decoding off, side by side in
one run.

Each case runs in its own sandbox (``agentkit.evals.runner.run_case``), the
two settings interleaved case by case so a change in machine load hits both.
The split comes from the chat model's own accounting of every call: prefill
(prompt evaluation) and decode time; the rest of the task's wall time is
tools and framework (graph, policy, checkpoints, LangChain), not separated
here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.outputs import ChatGeneration, LLMResult

from agentkit.bench.core import BenchContext, Row, median

# Short tasks of different kinds (a file read, a search, a calculation, a
# reply): one or two steps each on the bundled model.
CASES = ("read-config-value.w0", "which-file-mentions.w0", "calc-add.w0", "greet-person.w0")
QUICK_CASES = CASES[:2]


class ModelTimes(BaseCallbackHandler):
    """Sums the chat model's prefill and decode time over its calls."""

    def __init__(self) -> None:
        super().__init__()
        self.prefill = 0.0
        self.decode = 0.0

    def on_llm_end(
        self, response: LLMResult, *, run_id: UUID, parent_run_id: UUID | None = None, **_: Any
    ) -> None:
        for generations in response.generations:
            for generation in generations:
                if isinstance(generation, ChatGeneration):
                    timings = generation.message.response_metadata.get("timings") or {}
                    self.prefill += timings.get("prompt_ms", 0.0) / 1000
                    self.decode += timings.get("decode_ms", 0.0) / 1000


@dataclass
class Runs:
    seconds: list[float] = field(default_factory=list)
    per_step: list[float] = field(default_factory=list)
    prefill: list[float] = field(default_factory=list)
    decode: list[float] = field(default_factory=list)
    passed: int = 0

    def add(self, seconds: float, steps: int, times: ModelTimes, passed: bool) -> None:
        self.seconds.append(seconds)
        self.per_step.append(seconds / max(1, steps))
        self.prefill.append(times.prefill)
        self.decode.append(times.decode)
        self.passed += passed

    def split(self) -> str:
        rest = [s - p - d for s, p, d in zip(self.seconds, self.prefill, self.decode, strict=True)]
        return (
            f"prefill {median(self.prefill):.2f} s, decode {median(self.decode):.2f} s, "
            f"tools + framework {median(rest):.2f} s"
        )


def run(ctx: BenchContext) -> list[Row]:
    from agentkit.evals.cases import load_suite
    from agentkit.evals.runner import run_case
    from agentkit.models import ChatLlama

    wanted = QUICK_CASES if ctx.quick else CASES
    cases = [case for case in load_suite().cases if case.id in wanted]
    base = ChatLlama.from_settings(ctx.settings, temperature=0.0)
    _ = base.engine  # loaded outside the timings
    variants: dict[str, dict[str, bool]] = {
        "on": {},
        "off": {"prompt_lookup": False},
        "no-jump": {"jump_forward": False},
    }
    sides = {name: Runs() for name in variants}
    ctx.say(f"[tasks] {len(cases)} eval cases; defaults, prompt lookup off, jump-forward off")
    for case in cases:
        for name, update in variants.items():
            times = ModelTimes()
            model = base.model_copy(update={**update, "callbacks": [times]})
            base.engine.reset_cache()  # each task starts cold, as a new session would
            result = run_case(case, model, ctx.settings)
            sides[name].add(result.seconds, result.steps, times, result.passed)
    on, off, no_jump = sides["on"], sides["off"], sides["no-jump"]
    names = ", ".join(case.id for case in cases)
    return [
        Row(
            "tasks",
            "time per task, median",
            median(on.seconds),
            "s",
            note=f"{names}; {on.passed}/{len(cases)} passed; {on.split()}",
        ),
        Row(
            "tasks",
            "time per step, median",
            median(on.per_step),
            "s",
            note="task seconds ÷ agent steps",
        ),
        Row(
            "tasks",
            "time per task, prompt lookup off",
            median(off.seconds),
            "s",
            note=f"{off.passed}/{len(cases)} passed; {off.split()}; per step "
            f"{median(off.per_step):.2f} s",
        ),
        Row(
            "tasks",
            "time per task, jump-forward off",
            median(no_jump.seconds),
            "s",
            note=f"{no_jump.passed}/{len(cases)} passed; {no_jump.split()}; per step "
            f"{median(no_jump.per_step):.2f} s",
        ),
    ]
