"""Turning a human's answers into decisions the graph can trust.

:func:`resolve_decisions` is the one check, made before the graph resumes
(pydantic-ai's ``DeferredToolRequests.build_results`` plays the same part): a
decision for an unknown call id, a missing or doubled decision, or an edit
whose arguments fail the tool's schema is refused with a one-line message,
nothing runs, and the thread stays pending so the human can answer again. The
approve node then trusts what it gets; a value refused inside the graph would
stay in the checkpoint and come back on every later resume.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from langchain_core.tools import BaseTool
from pydantic import BaseModel, TypeAdapter, ValidationError

from agentkit.approvals.rules import COMMAND_ARGS
from agentkit.errors import AgentkitError
from agentkit.events import ApprovalRequest, Decision, Edit

__all__ = [
    "DecisionError",
    "InvalidEditError",
    "MissingDecisionError",
    "NoPendingApprovalError",
    "UnknownCallError",
    "always_allow_patterns",
    "call_signature",
    "parse_decisions",
    "resolve_decisions",
    "validate_args",
]

_DECISIONS: TypeAdapter[list[Decision]] = TypeAdapter(list[Decision])


class DecisionError(AgentkitError):
    """The decisions do not fit the pending calls; nothing was run."""


class UnknownCallError(DecisionError):
    """A decision names a call id that is not pending."""


class MissingDecisionError(DecisionError):
    """A pending call got no decision."""


class InvalidEditError(DecisionError):
    """Edited arguments do not validate against the tool's schema."""


class NoPendingApprovalError(DecisionError):
    """Decisions were given for a thread that waits for none."""


def parse_decisions(raw: Sequence[Decision | Mapping[str, object]]) -> list[Decision]:
    """Decisions from objects or their JSON dumps (a resume value)."""
    return _DECISIONS.validate_python(
        [d.model_dump() if isinstance(d, BaseModel) else d for d in raw]
    )


def validate_args(tool: BaseTool, args: Mapping[str, Any]) -> str | None:
    """None when ``args`` fit the tool's schema, else a one-line message."""
    schema = tool.args_schema
    if isinstance(schema, type) and issubclass(schema, BaseModel):
        try:
            schema.model_validate(dict(args))
        except ValidationError as err:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in e['loc']) or 'args'}: {e['msg']}" for e in err.errors()
            )
            return f"invalid arguments for {tool.name}: {problems}"
        return None
    if isinstance(schema, dict):
        try:
            import jsonschema
        except ImportError:  # pragma: no cover - jsonschema ships with our deps
            return None
        try:
            jsonschema.validate(dict(args), schema)
        except jsonschema.ValidationError as err:
            where = ".".join(str(p) for p in err.absolute_path) or "args"
            return f"invalid arguments for {tool.name}: {where}: {err.message}"
    return None


def call_signature(tool: str, args: Mapping[str, Any]) -> str:
    """Identity of a call for the repeated-call detector."""
    return f"{tool}:{json.dumps(args, sort_keys=True, default=str)}"


def resolve_decisions(
    requests: Sequence[ApprovalRequest],
    answers: Sequence[Decision | Mapping[str, object]],
    tools: Mapping[str, BaseTool],
) -> list[Decision]:
    """One decision per request, in the order of ``requests``; raises
    :class:`DecisionError` when ``answers`` do not fit them."""
    if not requests:
        raise NoPendingApprovalError("this thread is not waiting for an approval")
    try:
        decisions = parse_decisions(answers)
    except ValidationError as err:
        raise DecisionError(f"not a decision: {err.errors()[0]['msg']}") from None
    by_id: dict[str, Decision] = {}
    known = {r.call_id for r in requests}
    for decision in decisions:
        if decision.call_id not in known:
            raise UnknownCallError(
                f"no pending call with id {decision.call_id!r}",
                hint=f"pending: {', '.join(sorted(known))}",
            )
        if decision.call_id in by_id:
            raise DecisionError(f"two decisions for call {decision.call_id!r}")
        by_id[decision.call_id] = decision
    missing = [r.call_id for r in requests if r.call_id not in by_id]
    if missing:
        raise MissingDecisionError(
            f"no decision for pending call(s) {', '.join(missing)}",
            hint="decide every pending call (approve, edit, reject or respond)",
        )
    for request in requests:
        decision = by_id[request.call_id]
        tool = tools.get(request.tool)
        if isinstance(decision, Edit) and tool is not None:
            problem = validate_args(tool, decision.args)
            if problem:
                raise InvalidEditError(f"edit of {request.call_id} refused: {problem}")
    return [by_id[r.call_id] for r in requests]


def always_allow_patterns(args: Mapping[str, Any]) -> dict[str, list[str]]:
    """What "always allow this" covers: for a command, commands starting with
    the same command line; otherwise every call of the tool."""
    for name in COMMAND_ARGS:
        if isinstance(args.get(name), str) and args[name].strip():
            return {"command_prefixes": [args[name].strip()]}
    return {}
