"""One policy rule: which calls it selects and whether their arguments match
(see :mod:`agentkit.approvals.policy` for how a policy weighs its rules)."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from typing import Any, Literal

from langchain_core.tools import BaseTool

from agentkit.approvals.commands import GLOB, collapse, command_matches
from agentkit.events import AlwaysScope, PolicyAction, SideEffect
from agentkit.tools.globs import glob_match
from agentkit.tools.protected import PathTarget

# Argument names a ``paths`` / ``command_prefixes`` rule looks at when the rule
# does not name one with ``arg``.
PATH_ARGS = (
    "path",
    "file_path",
    "file",
    "filename",
    "target",
    "dest",
    "destination",
    "directory",
    "dir",
    "source",  # a move writes (removes) its source; a copy reads it
)
COMMAND_ARGS = ("command", "cmd")
# A prefix rule must not allow "git status; rm -rf ~": commands that chain or
# redirect never match a prefix.
_SHELL_CONTROL = re.compile(r"[;&|`<>\n\r]|\$\(")

RuleSource = Literal["file", "always"]


@dataclass(frozen=True)
class PolicyVerdict:
    """What the policy says about one call, and why (shown to the human)."""

    action: PolicyAction
    reason: str
    rule_id: str | None = None
    targets: tuple[PathTarget, ...] = ()  # where the call's paths really lead


@dataclass(frozen=True)
class PolicyRule:
    """One rule. ``tool`` (exact name or glob) and/or ``side_effect`` select
    calls; ``paths`` / ``command_prefixes`` narrow them by argument."""

    action: PolicyAction
    tool: str | None = None
    side_effect: SideEffect | None = None
    paths: tuple[str, ...] = ()
    command_prefixes: tuple[str, ...] = ()
    arg: str | None = None
    id: str = field(default_factory=lambda: uuid.uuid4().hex[:8])
    source: RuleSource = "file"
    scope: AlwaysScope | None = None  # set for "always allow" records
    thread_id: str | None = None  # set for thread-scoped records
    workspace: str | None = None  # only calls in this workspace (absolute path)

    @property
    def patterned(self) -> bool:
        return bool(self.paths or self.command_prefixes)

    def describe(self) -> str:
        target = f"tool {self.tool}" if self.tool else f"side effect {self.side_effect}"
        parts = [f"{self.action} {target}"]
        if self.paths:
            parts.append(f"paths {list(self.paths)}")
        if self.command_prefixes and (
            self.source == "always" or any(GLOB.search(p) for p in self.command_prefixes)
        ):
            parts.append(f"commands exactly like {list(self.command_prefixes)}")
        elif self.command_prefixes:
            parts.append(f"commands starting {list(self.command_prefixes)}")
        if self.scope == "thread":
            parts.append(f"in thread {self.thread_id}")
        elif self.scope == "project":
            parts.append("(always, project)")
        if self.workspace:
            parts.append(f"in workspace {self.workspace}")
        return " ".join(parts)

    def selects(
        self,
        tool: BaseTool,
        effects: frozenset[SideEffect],
        thread_id: str | None,
        workspace: str | None = None,
    ) -> bool:
        if self.thread_id is not None and self.thread_id != thread_id:
            return False
        if self.workspace is not None and self.workspace != workspace:
            return False
        if self.tool is not None and not fnmatchcase(tool.name, self.tool):
            return False
        if self.side_effect is not None and self.side_effect not in effects:
            return False
        return True

    def args_match(
        self, args: Mapping[str, Any], targets: Sequence[PathTarget] | None = None
    ) -> bool:
        """Whether the call's arguments fit the rule's patterns. ``targets``
        (from the tool) say where its paths really lead: an ``allow`` rule
        then matches only a real path inside its globs that is the path as
        written (no symlink on the way); ``deny`` and ``ask`` rules match the
        written or the real path. A call with several paths (copy_file's
        source and destination) is allowed only when every one of them is,
        and denied or asked about when any one is."""
        if self.paths:
            names = (self.arg,) if self.arg else PATH_ARGS
            resolved = [t for t in targets or () if t.arg in names]
            every = all if self.action == "allow" else any
            if resolved:
                check = _target_allowed if self.action == "allow" else _target_matches
                if not every(check(t, self.paths) for t in resolved):
                    return False
            else:
                values = _arg_values(args, names)
                if not values or not every(_path_matches(v, self.paths) for v in values):
                    return False
        if self.command_prefixes:
            values = _arg_values(args, (self.arg,) if self.arg else COMMAND_ARGS)
            # "Always allow" records and glob patterns match whole commands
            # word by word (agentkit.approvals.commands); file rules by prefix.
            whole = self.source == "always" or any(GLOB.search(p) for p in self.command_prefixes)
            check = command_matches if whole else _command_matches
            if not values or not all(check(v, self.command_prefixes) for v in values):
                return False
        return True

    def to_toml(self) -> str:
        lines = ["[[rules]]", f"id = {json.dumps(self.id)}", f"action = {json.dumps(self.action)}"]
        if self.tool:
            lines.append(f"tool = {json.dumps(self.tool)}")
        if self.side_effect:
            lines.append(f"side_effect = {json.dumps(self.side_effect)}")
        if self.paths:
            lines.append(f"paths = {json.dumps(list(self.paths))}")
        if self.command_prefixes:
            lines.append(f"command_prefixes = {json.dumps(list(self.command_prefixes))}")
        if self.arg:
            lines.append(f"arg = {json.dumps(self.arg)}")
        if self.workspace:
            lines.append(f"workspace = {json.dumps(self.workspace)}")
        lines.append('source = "always"')
        return "\n".join(lines)


def _arg_values(args: Mapping[str, Any], names: Iterable[str]) -> list[str]:
    values: list[str] = []
    for name in names:
        value = args.get(name)
        if isinstance(value, str):
            values.append(value)
        elif isinstance(value, list | tuple):
            values.extend(str(v) for v in value)
    return values


def _normalise_path(value: str) -> str | None:
    """Collapse ``.`` and ``..``; None for a path that climbs out of its root
    (``notes/../../etc/passwd`` must not match ``notes/**``)."""
    collapsed = collapse(value)
    if collapsed is None:
        return None
    return ("/" if value.replace("\\", "/").startswith("/") else "") + collapsed


def _path_matches(value: str, globs: Sequence[str]) -> bool:
    path = _normalise_path(value)
    if path is None:
        return False
    return any(glob_match(g, path) for g in globs)


def _target_allowed(target: PathTarget, globs: Sequence[str]) -> bool:
    """An allow rule covers the real path, and only when it is the written one."""
    if target.resolved is None or target.redirected:
        return False
    return any(
        glob_match(g, target.real or "") if g.startswith("/") else glob_match(g, target.resolved)
        for g in globs
    )


def _target_matches(target: PathTarget, globs: Sequence[str]) -> bool:
    """A deny or ask rule covers the path as written or where it really leads."""
    if _path_matches(target.written, globs):
        return True
    candidates = [target.lexical, target.resolved]
    return any(
        glob_match(g, target.real or "") if g.startswith("/") else glob_match(g, c)
        for c in candidates
        if c is not None
        for g in globs
    )


def _command_matches(command: str, prefixes: Sequence[str]) -> bool:
    command = command.strip()
    if _SHELL_CONTROL.search(command):
        return False
    return any(command == p or command.startswith(p.rstrip() + " ") for p in prefixes)
