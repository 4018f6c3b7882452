"""Hooks: your code at fixed points of a run.

From Python, pass ``Agent(hooks=...)`` one object (or a list) with any of
these methods; a :class:`Hooks` subclass has them all as no-ops::

    class NoLockfiles(Hooks):
        def before_tool(self, call: ToolCall) -> Verdict | None:
            if call.tool in ("write_file", "edit_file") and call.args["path"].endswith(".lock"):
                return Deny("lock files are generated; change the manifest instead")
            return None

- ``before_tool(call)`` → ``None`` (no opinion), :class:`Allow` (answers an
  ``ask`` in the human's place; never lifts a policy ``deny`` or a
  destructive call), :class:`Deny` (the model sees the reason), :class:`Ask`
  (a human must decide even if the policy allows) or :class:`Rewrite` (new
  arguments: validated against the tool's schema, then evaluated by the
  policy and the mode again, so a hook can never launder a call past them).
- ``after_tool(call, result)`` → ``None`` or ``result`` (unchanged),
  :class:`Replace` (or a ``str``): what the model sees instead.
- ``on_approval_request(requests)``: the run waits for a human (notify one).
- ``on_run_end(result)``: the run finished, stopped or paused for approval.

From ``agentkit.toml``, ``[[hooks]]`` tables run a command with the call as
JSON on stdin (:class:`CommandHook`; the contract is in docs/control.md): exit
0 with no output is no opinion, exit 0 with a JSON verdict says one, exit 2
denies with stderr as the reason, anything else (or a timeout, or output that
is not a verdict) is an error, and errors fail closed: the call is denied, or
its result withheld.

Every outcome is a :class:`~agentkit.events.HookEvent` in the stream and a
:class:`~agentkit.events.HookRecord` in the thread.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from fnmatch import fnmatchcase
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agentkit.events import (
    ApprovalRequest,
    HookEvent,
    HookOutcome,
    HookRecord,
    HookStage,
    RunResult,
    SideEffect,
)

if TYPE_CHECKING:
    from agentkit.config import HookConfig, Settings

__all__ = [
    "Allow",
    "Ask",
    "CommandHook",
    "Deny",
    "HookSet",
    "Hooks",
    "Replace",
    "Rewrite",
    "ToolCall",
    "ToolResult",
    "Verdict",
]


# --- what hooks say ------------------------------------------------------------------


@dataclass(frozen=True)
class Allow:
    reason: str = ""


@dataclass(frozen=True)
class Deny:
    reason: str


@dataclass(frozen=True)
class Ask:
    reason: str = ""


@dataclass(frozen=True)
class Rewrite:
    args: dict[str, Any]
    reason: str = ""


@dataclass(frozen=True)
class Replace:
    text: str
    reason: str = ""


Verdict = Allow | Deny | Ask | Rewrite


# --- what hooks see ------------------------------------------------------------------


@dataclass(frozen=True)
class ToolCall:
    """The call a tool hook is about."""

    call_id: str
    tool: str
    args: dict[str, Any]
    side_effects: list[SideEffect]
    thread_id: str = ""
    workspace: str = ""
    mode: str = "default"

    def payload(self, stage: HookStage) -> dict[str, Any]:
        return {"event": stage, **asdict(self)}


@dataclass(frozen=True)
class ToolResult:
    """A call's result, as ``after_tool`` sees it."""

    output: str
    status: str  # ok, error, ...
    duration_s: float = 0.0


class Hooks:
    """Base class: every method a no-op. Override the ones you need."""

    name: str = ""

    def before_tool(self, call: ToolCall) -> Verdict | None:
        return None

    def after_tool(self, call: ToolCall, result: ToolResult) -> ToolResult | Replace | str | None:
        return None

    def on_approval_request(self, requests: list[ApprovalRequest]) -> None:
        return None

    def on_run_end(self, result: RunResult) -> None:
        return None


class HookError(Exception):
    """A hook failed (raised, timed out, answered nonsense): fail closed."""


# --- command hooks -------------------------------------------------------------------


@dataclass
class CommandHook(Hooks):
    """A ``[[hooks]]`` entry: a command run with the call as JSON on stdin."""

    event: HookStage
    command: str | list[str]
    name: str = ""
    tools: list[str] = field(default_factory=list)
    side_effects: list[SideEffect] = field(default_factory=list)
    timeout_s: float = 10.0
    cwd: str | None = None

    def __post_init__(self) -> None:
        if not self.name:
            self.name = self.command if isinstance(self.command, str) else " ".join(self.command)

    @classmethod
    def from_config(cls, config: HookConfig, cwd: Path | None = None) -> CommandHook:
        return cls(
            event=config.event,
            command=config.command,
            name=config.name or "",
            tools=list(config.tools),
            side_effects=list(config.side_effects),
            timeout_s=config.timeout_s,
            cwd=str(cwd) if cwd else None,
        )

    def matches(self, tool: str, side_effects: Iterable[str]) -> bool:
        if self.tools and not any(fnmatchcase(tool, pattern) for pattern in self.tools):
            return False
        if self.side_effects and not set(self.side_effects) & set(side_effects):
            return False
        return True

    def run(self, payload: Mapping[str, Any]) -> tuple[int, str, str]:
        """(exit code, stdout, stderr); :class:`HookError` on a timeout or a
        command that cannot start."""
        argv = ["/bin/sh", "-c", self.command] if isinstance(self.command, str) else self.command
        where = str(payload.get("workspace") or "")
        cwd = where if where and os.path.isdir(where) else self.cwd  # the thread's workspace
        env = {
            **os.environ,
            "AGENTKIT_HOOK_EVENT": str(payload.get("event", "")),
            "AGENTKIT_THREAD_ID": str(payload.get("thread_id", "")),
            "AGENTKIT_WORKSPACE": str(payload.get("workspace", "")),
        }
        try:
            done = subprocess.run(
                argv,
                input=json.dumps(payload, default=str),
                capture_output=True,
                text=True,
                timeout=self.timeout_s,
                cwd=cwd,
                env=env,
                check=False,
            )
        except subprocess.TimeoutExpired:
            raise HookError(f"timed out after {self.timeout_s:g}s") from None
        except OSError as err:
            raise HookError(f"cannot run: {err}") from None
        return done.returncode, done.stdout, done.stderr

    def _answer(self, payload: Mapping[str, Any]) -> dict[str, Any] | str | None:
        """None: exit 0, no output; a dict: exit 0 with a JSON object; a str:
        exit 2 (the reason)."""
        code, out, err = self.run(payload)
        if code == 2:
            return err.strip() or f"denied by hook {self.name}"
        if code != 0:
            detail = (err.strip() or out.strip())[:300]
            raise HookError(f"exit code {code}" + (f": {detail}" if detail else ""))
        if not out.strip():
            return None
        try:
            value = json.loads(out)
        except json.JSONDecodeError:
            raise HookError(f"printed something that is not JSON: {out.strip()[:200]}") from None
        if not isinstance(value, dict):
            raise HookError("printed JSON that is not an object")
        return value

    def before_tool(self, call: ToolCall) -> Verdict | None:
        answer = self._answer(call.payload("before_tool"))
        if answer is None:
            return None
        if isinstance(answer, str):
            return Deny(answer)
        decision, reason = answer.get("decision"), str(answer.get("reason", ""))
        if decision == "allow":
            return Allow(reason)
        if decision == "deny":
            return Deny(reason or f"denied by hook {self.name}")
        if decision == "ask":
            return Ask(reason)
        if decision == "rewrite" and isinstance(answer.get("args"), dict):
            return Rewrite(dict(answer["args"]), reason)
        if decision in (None, "pass"):
            return None
        raise HookError(f"unknown verdict {json.dumps(answer)[:200]}")

    def after_tool(self, call: ToolCall, result: ToolResult) -> ToolResult | Replace | None:
        payload = {**call.payload("after_tool"), "output": result.output, "status": result.status}
        answer = self._answer(payload)
        if answer is None:
            return None
        if isinstance(answer, str):
            return Replace(f"result withheld by hook {self.name}: {answer}", reason=answer)
        if "replace" in answer:
            return Replace(str(answer["replace"]), str(answer.get("reason", "")))
        return None

    def on_approval_request(self, requests: list[ApprovalRequest]) -> None:
        self._answer(
            {
                "event": "approval_request",
                "thread_id": self.thread_id,
                "workspace": self.cwd or "",
                "requests": [r.model_dump(mode="json") for r in requests],
            }
        )

    def on_run_end(self, result: RunResult) -> None:
        self._answer(
            {"event": "run_end", "workspace": self.cwd or "", **result.model_dump(mode="json")}
        )

    thread_id: str = ""  # set by HookSet before a notification


# --- a set of hooks, as the graph and the Agent use them --------------------------------


def _name(hook: object, index: int) -> str:
    name = getattr(hook, "name", "") or type(hook).__name__
    return name if name not in ("Hooks", "object") else f"hook {index + 1}"


@dataclass
class HookSet:
    """Every hook of an agent. ``run_*`` methods apply them in order and
    return what happened; each outcome is also a record and an event."""

    hooks: list[Any] = field(default_factory=list)

    @classmethod
    def build(
        cls, hooks: object | Sequence[object] | None = None, settings: Settings | None = None
    ) -> HookSet:
        """Python hooks (an object or a list) plus the ``[[hooks]]`` of ``settings``."""
        found: list[Any] = []
        if hooks is not None:
            found += list(hooks) if isinstance(hooks, list | tuple) else [hooks]
        if settings is not None:
            cwd = settings.resolved_workspace()
            found += [
                CommandHook.from_config(c, cwd if cwd.is_dir() else None) for c in settings.hooks
            ]
        return cls(found)

    def __bool__(self) -> bool:
        return bool(self.hooks)

    def _for(
        self, stage: HookStage, method: str, tool: str = "", effects: Iterable[str] = ()
    ) -> Iterable[tuple[str, Any]]:
        """(name, bound method) of every hook that handles ``stage`` for this call."""
        for index, hook in enumerate(self.hooks):
            if isinstance(hook, CommandHook):
                if hook.event != stage or not hook.matches(tool, effects):
                    continue
            elif getattr(type(hook), method, None) is getattr(Hooks, method):
                continue  # a Hooks subclass that leaves this one as the no-op
            fn = getattr(hook, method, None)
            if callable(fn):
                yield _name(hook, index), fn

    def before_tool(self, call: ToolCall) -> list[tuple[HookRecord, Verdict | None]]:
        """Each matching hook's verdict, in order, up to the first ``Deny`` (a
        hook that fails is one). A ``Rewrite`` hands its arguments to the
        hooks after it; the caller evaluates the final ones again."""
        out: list[tuple[HookRecord, Verdict | None]] = []
        for name, fn in self._for("before_tool", "before_tool", call.tool, call.side_effects):
            try:
                verdict = fn(call)
                if verdict is not None and not isinstance(verdict, Allow | Deny | Ask | Rewrite):
                    raise HookError(f"returned {type(verdict).__name__}, not a verdict")
            except Exception as err:  # noqa: BLE001 - a failing hook fails closed
                reason = f"hook {name} failed ({_describe(err)}); the call is denied"
                out.append((record("before_tool", name, "error", reason, call), Deny(reason)))
                return out
            outcome: HookOutcome = (
                "pass" if verdict is None else type(verdict).__name__.lower()  # type: ignore[assignment]
            )
            reason = getattr(verdict, "reason", "") if verdict is not None else ""
            out.append((record("before_tool", name, outcome, reason, call), verdict))
            if isinstance(verdict, Deny):
                return out
            if isinstance(verdict, Rewrite):  # later hooks see the new arguments
                call = replace(call, args=dict(verdict.args))
        return out

    def after_tool(self, call: ToolCall, result: ToolResult) -> tuple[ToolResult, list[HookRecord]]:
        """The result the model sees after every matching hook had its say."""
        records: list[HookRecord] = []
        for name, fn in self._for("after_tool", "after_tool", call.tool, call.side_effects):
            try:
                answer = fn(call, result)
            except Exception as err:  # noqa: BLE001 - fail closed: withhold the result
                reason = f"hook {name} failed ({_describe(err)})"
                records.append(record("after_tool", name, "error", reason, call))
                return ToolResult(f"error: result withheld: {reason}", "error"), records
            if isinstance(answer, str):
                answer = Replace(answer)
            if isinstance(answer, Replace):
                records.append(record("after_tool", name, "replace", answer.reason, call))
                result = ToolResult(answer.text, result.status, result.duration_s)
            elif answer is None or answer is result or isinstance(answer, ToolResult):
                if isinstance(answer, ToolResult) and answer is not result:
                    result = answer
                    records.append(record("after_tool", name, "replace", "", call))
                else:
                    records.append(record("after_tool", name, "pass", "", call))
            else:
                reason = f"hook {name} returned {type(answer).__name__}"
                records.append(record("after_tool", name, "error", reason, call))
                return ToolResult(f"error: result withheld: {reason}", "error"), records
        return result, records

    def approval_request(self, requests: list[ApprovalRequest], thread_id: str) -> list[HookEvent]:
        events: list[HookEvent] = []
        for name, fn in self._for("approval_request", "on_approval_request"):
            owner = getattr(fn, "__self__", None)
            if isinstance(owner, CommandHook):
                owner.thread_id = thread_id
            events.append(_notify("approval_request", name, fn, requests))
        return events

    def run_end(self, result: RunResult) -> list[HookEvent]:
        return [
            _notify("run_end", name, fn, result) for name, fn in self._for("run_end", "on_run_end")
        ]


def _notify(stage: HookStage, name: str, fn: Any, value: object) -> HookEvent:
    try:
        fn(value)
    except Exception as err:  # noqa: BLE001 - a notification that fails is reported, no more
        return HookEvent(stage=stage, hook=name, outcome="error", reason=_describe(err))
    return HookEvent(stage=stage, hook=name, outcome="pass")


def _describe(err: BaseException) -> str:
    if isinstance(err, HookError):
        return str(err)
    return f"{type(err).__name__}: {err}"


def record(
    stage: HookStage, hook: str, outcome: HookOutcome, reason: str, call: ToolCall
) -> HookRecord:
    return HookRecord(
        stage=stage,
        hook=hook,
        outcome=outcome,
        reason=reason,
        call_id=call.call_id,
        tool=call.tool,
        at=time.time(),
    )


def event_of(entry: HookRecord) -> HookEvent:
    return HookEvent(
        stage=entry["stage"],
        hook=entry["hook"],
        outcome=entry["outcome"],
        reason=entry["reason"],
        call_id=entry["call_id"],
        tool=entry["tool"],
    )
