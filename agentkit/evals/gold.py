"""Playing a case's gold solution without a model.

:class:`GoldHarness` runs a case's ``gold`` calls against the sandbox's real
tools, in order, and answers with its ``answer``: the result is scored like
any run. A gold that fails its own case means the case cannot be solved or
its checks are wrong (tests/test_eval_families.py runs every one).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import JsonValue

from agentkit.evals.trace import OUTPUT_CHARS, CallRecord, Trace
from agentkit.graphs import prompts as P

if TYPE_CHECKING:
    from langchain_core.embeddings import Embeddings
    from langchain_core.language_models import BaseChatModel

    from agentkit.config import Settings
    from agentkit.evals.cases import EvalCase
    from agentkit.evals.sandbox import CaseEnv
    from agentkit.evals.scoring import CaseResult

BASE_URL = "{base_url}"
RESULT = "{result}"


def _with_base_url(value: JsonValue, base_url: str) -> JsonValue:
    if isinstance(value, str):
        return value.replace(BASE_URL, base_url)
    if isinstance(value, list):
        return [_with_base_url(v, base_url) for v in value]
    if isinstance(value, dict):
        return {k: _with_base_url(v, base_url) for k, v in value.items()}
    return value


class GoldHarness:
    """A :class:`~agentkit.evals.harness.Harness` that ignores the model and
    plays the case's gold solution."""

    def run(self, env: CaseEnv, model: BaseChatModel | None) -> Trace:
        from agentkit.graphs.calls import run_tool

        gold = env.case.gold
        if gold is None:
            return Trace(status="error", error=f"case {env.case.id} has no gold solution")
        tools = {t.name: t for t in env.tools}
        calls: list[CallRecord] = []
        outputs: list[str] = []
        for index, gold_call in enumerate(gold.calls):
            args = _with_base_url(dict(gold_call.args), env.base_url)
            assert isinstance(args, dict)
            call_id = f"gold-{index}"
            tool = tools.get(gold_call.tool)
            if tool is None:
                calls.append(
                    CallRecord(
                        call_id=call_id, tool=gold_call.tool, args=args, outcome="unknown_tool"
                    )
                )
                continue
            done = run_tool(tool, args, call_id)
            outputs.append(done.output)
            calls.append(
                CallRecord(
                    call_id=call_id,
                    tool=tool.name,
                    args=args,
                    outcome="ok" if done.status == "ok" else "error",
                    output=done.output[:OUTPUT_CHARS],
                )
            )
        last = outputs[-1].strip() if outputs else ""
        answer = gold.answer.replace(RESULT, last).replace(BASE_URL, env.base_url)
        calls.append(
            CallRecord(
                call_id="final", tool=P.FINAL_ANSWER_TOOL, args={"answer": answer}, outcome="ok"
            )
        )
        shown = "\n".join(outputs)
        missing = [e for e in gold.evidence if e not in shown]
        return Trace(
            status="finished",
            answer=answer,
            steps=len(calls),
            calls=calls,
            error=f"gold evidence not in any tool output: {missing}" if missing else "",
        )


def run_gold(
    case: EvalCase,
    settings: Settings,
    *,
    embeddings: Embeddings | None = None,
) -> CaseResult:
    """``case``'s gold solution, run and scored in a fresh sandbox."""
    from agentkit.evals.runner import run_case

    return run_case(case, None, settings, harness=GoldHarness(), embeddings=embeddings)
