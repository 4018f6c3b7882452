"""LangChain's own agent over the same model and tools, scored like ours.

Most LangChain users plug a chat model into ``langchain.agents.create_agent``
(formerly LangGraph's ``create_react_agent``), which binds the tools with
``tool_choice="auto"``: the model answers in text when it is done. This
harness runs that agent on a case and reads its messages into a
:class:`~agentkit.evals.trace.Trace`, so ``agentkit eval --variant
lc:harness=langchain`` puts it beside agentkit's own loop. It has no
approvals (LangChain's HITL middleware is not used): every call runs, as with
the eval's yes-to-everything user.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from langchain_core.messages import AIMessage, ToolMessage

from agentkit.errors import ConfigError
from agentkit.evals.harness import metering
from agentkit.evals.trace import CallRecord, Trace

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel

    from agentkit.evals.sandbox import CaseEnv


class LangChainAgentHarness:
    """``create_agent(model, tools)`` on the case's task."""

    def run(self, env: CaseEnv, model: BaseChatModel | None) -> Trace:
        from langchain.agents import create_agent
        from langgraph.errors import GraphRecursionError

        if model is None:
            raise ConfigError("the langchain harness needs a chat model")
        agent = create_agent(model, list(env.tools))
        # create_agent counts graph steps (a model turn and a tool turn are
        # two): max_steps model turns need about twice that.
        config = {"recursion_limit": 2 * env.max_steps + 1}
        stop_reason = ""
        status = "finished"
        messages = []
        with metering() as meter:
            try:
                state = agent.invoke({"messages": [("user", env.task)]}, config)
                messages = state["messages"]
            except GraphRecursionError:
                status, stop_reason = "stopped", f"max steps ({env.max_steps}) reached"
        calls: list[CallRecord] = []
        results = {m.tool_call_id: m for m in messages if isinstance(m, ToolMessage)}
        steps = 0
        answer = ""
        for message in messages:
            if not isinstance(message, AIMessage):
                continue
            steps += 1
            for call in message.tool_calls:
                result = results.get(call["id"] or "")
                failed = result is None or result.status == "error"
                calls.append(
                    CallRecord(
                        call_id=call["id"] or "",
                        tool=call["name"],
                        args=call["args"],
                        outcome="pending" if result is None else "error" if failed else "ok",
                        output="" if result is None else str(result.content)[:400],
                    )
                )
            for bad in message.invalid_tool_calls:
                calls.append(
                    CallRecord(call_id=bad.get("id") or "", tool="?", outcome="unparseable")
                )
            if not message.tool_calls and isinstance(message.content, str):
                answer = message.content
        if status == "finished" and not answer.strip():
            status, stop_reason = "stopped", "no text answer"
        return Trace(
            status=status,
            stop_reason=stop_reason,
            answer=answer,
            steps=steps,
            calls=calls,
            **meter.counts(),
        )
