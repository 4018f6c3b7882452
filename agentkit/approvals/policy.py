"""Which tool calls run at once, which ask a human, which never run.

A :class:`Policy` is a list of :class:`PolicyRule` plus one action per side
effect. A rule names a tool (or a side effect) and may be narrowed by argument
patterns: ``paths`` (globs on a path argument) and ``command_prefixes`` (on a
command argument). Evaluation, for one call:

1. any matching ``deny`` rule wins;
2. rules that name the tool, those with argument patterns first; among rules of
   the same specificity ``ask`` beats ``allow``;
3. the tool's own default (``declare(..., policy=...)``, e.g. from MCP config);
4. rules on one of the tool's side effects (patterned first);
5. the per-side-effect action (strictest of the tool's side effects); built-in
   default: ``read`` allow, everything else ask.

A call the tool classifies as ``destructive`` is never allowed by a pattern,
prefix, side-effect or "always allow" rule: it asks. Only a rule naming the
tool without patterns can allow it outright.

Path rules match where a path really leads (the tool's
:func:`~agentkit.tools.base.targets_of`: symlinks followed, ``..``
collapsed); a path that leads elsewhere than written is never allowed by a
path or "always allow" rule. Three guards then hold whatever the rules say
(only ``deny`` passes through them): a write to a protected path
(``.git/``, ``.envrc``, shell rc files, ...; see
:data:`~agentkit.tools.protected.PROTECTED_PATHS`) asks, and so does a
side-effecting call that copies text from untrusted content the run has
seen (:mod:`.untrusted`).

TOML format (see docs/agent.md)::

    [side_effects]
    read = "allow"
    write = "ask"

    [tools]
    web_fetch = "deny"

    [[rules]]
    tool = "write_file"
    action = "allow"
    paths = ["notes/**"]
"""

from __future__ import annotations

import json
import threading
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

from langchain_core.tools import BaseTool
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    model_validator,
)

from agentkit.approvals.rules import (
    COMMAND_ARGS,
    PATH_ARGS,
    PolicyRule,
    PolicyVerdict,
    RuleSource,
)
from agentkit.approvals.untrusted import Provenance, UntrustedMode, normalise
from agentkit.errors import ConfigError
from agentkit.events import AlwaysScope, PolicyAction, SideEffect
from agentkit.tools.base import danger_of, default_policy_of, side_effects_of, targets_of
from agentkit.tools.protected import PathTarget, named_in
from agentkit.user_files import read_user_file, validate_user_data

if TYPE_CHECKING:
    from agentkit.config import Settings

__all__ = [
    "COMMAND_ARGS",
    "DEFAULT_SIDE_EFFECT_ACTIONS",
    "PATH_ARGS",
    "Policy",
    "PolicyAction",
    "PolicyRule",
    "PolicyVerdict",
    "RuleSource",
]

_STRICTNESS: dict[PolicyAction, int] = {"allow": 0, "ask": 1, "deny": 2}
DEFAULT_SIDE_EFFECT_ACTIONS: dict[SideEffect, PolicyAction] = {
    "read": "allow",
    "write": "ask",
    "exec": "ask",
    "network": "ask",
}


def _as_list(value: object) -> object:
    return [value] if isinstance(value, str) else value


Patterns = Annotated[tuple[str, ...], BeforeValidator(_as_list)]  # a string or a list of them


class RuleTable(BaseModel):
    """One ``[[rules]]`` table of a policy file."""

    model_config = ConfigDict(extra="forbid")

    id: str | int | None = None
    action: PolicyAction
    tool: str | None = None
    side_effect: SideEffect | None = None
    paths: Patterns = ()
    command_prefixes: Patterns = ()
    arg: str | None = None
    workspace: str | None = None  # only calls in this workspace
    source: RuleSource = "file"  # "always": recorded from an approval
    scope: AlwaysScope | None = None  # accepted for older files; the source decides

    @model_validator(mode="after")
    def _selects_something(self) -> RuleTable:
        if self.tool is None and self.side_effect is None:
            raise ValueError("a rule needs `tool` or `side_effect`")
        return self

    def rule(self) -> PolicyRule:
        fields = self.model_dump(exclude={"id", "scope"})
        if self.id is not None:
            fields["id"] = str(self.id)
        if self.workspace is not None:
            fields["workspace"] = str(Path(self.workspace).expanduser().resolve())
        return PolicyRule(**fields, scope="project" if self.source == "always" else None)


class PolicyFile(BaseModel):
    """A policy TOML file: see the module docstring."""

    model_config = ConfigDict(extra="forbid")

    side_effects: dict[SideEffect, PolicyAction] = Field(default_factory=dict)
    tools: dict[str, PolicyAction] = Field(default_factory=dict)
    rules: list[RuleTable] = Field(default_factory=list)


class Policy:
    """Rules deciding allow / ask / deny per call. Thread-safe."""

    def __init__(
        self,
        rules: Sequence[PolicyRule] = (),
        side_effects: Mapping[SideEffect, PolicyAction] | None = None,
        path: Path | None = None,
        records_path: Path | None = None,
        untrusted_content: UntrustedMode = "copied",
    ) -> None:
        """``path``: the project policy file ("always allow" with scope
        ``project`` is appended there). ``records_path``: a JSON file keeping
        thread-scoped "always allow" records across processes.
        ``untrusted_content``: what a side-effecting call asks for after the
        run has seen untrusted content (``copied``: when it copies text from
        it; ``all``: always; ``off``: nothing)."""
        self.untrusted_content: UntrustedMode = untrusted_content
        self._lock = threading.RLock()
        self._rules: list[PolicyRule] = list(rules)
        self.side_effects: dict[SideEffect, PolicyAction] = {
            **DEFAULT_SIDE_EFFECT_ACTIONS,
            **(side_effects or {}),
        }
        self.path = path
        self.records_path = records_path
        self._load_records()

    # --- construction -----------------------------------------------------------
    @classmethod
    def default(cls, path: Path | None = None, records_path: Path | None = None) -> Policy:
        """read allow, everything else ask; no rules."""
        return cls(path=path, records_path=records_path)

    @classmethod
    def from_settings(cls, settings: Settings, *, on_disk: bool = False) -> Policy:
        """``policy_file`` if set, else ``<data_dir>/policy.toml`` if present,
        else the default. ``on_disk``: "always allow" records persist in the
        data dir (thread scope) and its ``policy.toml`` (project scope)."""
        data_dir = settings.resolved_data_dir()
        records = data_dir / "always_allow.json" if on_disk else None
        project = data_dir / "policy.toml"
        if settings.policy_file is not None:
            policy = cls.from_toml(settings.policy_file, records_path=records)
        elif project.is_file():
            policy = cls.from_toml(project, records_path=records)
        else:
            policy = cls.default(path=project if on_disk else None, records_path=records)
        policy.untrusted_content = settings.untrusted_content
        return policy

    @classmethod
    def from_toml(cls, path: str | Path, records_path: Path | None = None) -> Policy:
        path = Path(path)
        data = read_user_file(path, "policy file", tomllib.loads, tomllib.TOMLDecodeError, "TOML")
        return cls.from_dict(data, where=str(path), path=path, records_path=records_path)

    @classmethod
    def from_dict(
        cls,
        data: Mapping[str, object],
        where: str = "policy",
        path: Path | None = None,
        records_path: Path | None = None,
    ) -> Policy:
        spec = validate_user_data(PolicyFile, data, where)
        rules = [PolicyRule(action=action, tool=name) for name, action in spec.tools.items()]
        rules += [table.rule() for table in spec.rules]
        return cls(rules, spec.side_effects, path=path, records_path=records_path)

    # --- evaluation -------------------------------------------------------------
    def evaluate(
        self,
        tool: BaseTool,
        args: Mapping[str, Any],
        thread_id: str | None = None,
        workspace: str | None = None,
        *,
        seen: Provenance | None = None,
    ) -> PolicyVerdict:
        """allow / ask / deny for one call, and why. ``workspace``: the
        directory the call acts in (rules recorded for another workspace do
        not apply). ``seen``: what the run has seen so far (untrusted content
        makes copying calls ask)."""
        effects = side_effects_of(tool)
        targets = targets_of(tool, args)
        with self._lock:
            selected = [r for r in self._rules if r.selects(tool, effects, thread_id, workspace)]
        matching = [r for r in selected if r.args_match(args, targets)]
        for rule in matching:
            if rule.action == "deny":
                return PolicyVerdict(
                    "deny", f"rule: {rule.describe()}", rule.id, tuple(targets or ())
                )
        verdict = self._by_rules(tool, args, effects, matching, targets or [])
        return self._guarded(verdict, effects, args, targets or [], seen)

    def _by_rules(
        self,
        tool: BaseTool,
        args: Mapping[str, Any],
        effects: frozenset[SideEffect],
        matching: list[PolicyRule],
        targets: list[PathTarget],
    ) -> PolicyVerdict:
        destructive = danger_of(tool, args) == "destructive"
        redirected = [t for t in targets if t.redirected]

        def pick(rules: list[PolicyRule]) -> PolicyVerdict | None:
            if not rules:
                return None
            rule = max(rules, key=lambda r: _STRICTNESS[r.action])
            verdict = PolicyVerdict(rule.action, f"rule: {rule.describe()}", rule.id)
            explicit = rule.tool is not None and not rule.patterned and rule.source == "file"
            if verdict.action == "allow" and destructive and not explicit:
                return PolicyVerdict(
                    "ask", f"destructive call; {verdict.reason} does not cover it", rule.id
                )
            if verdict.action == "allow" and redirected and rule.source == "always":
                return PolicyVerdict(
                    "ask", f"a symlink on the way; {verdict.reason} does not cover it", rule.id
                )
            return verdict

        by_tool = [r for r in matching if r.tool is not None]
        for tier in ([r for r in by_tool if r.patterned], [r for r in by_tool if not r.patterned]):
            if (verdict := pick(tier)) is not None:
                return verdict
        tool_default = default_policy_of(tool)
        if tool_default is not None:
            if tool_default == "allow" and destructive:
                return PolicyVerdict(
                    "ask", "destructive call; the tool's default allow does not cover it"
                )
            return PolicyVerdict(tool_default, f"tool default: {tool_default}")
        by_effect = [r for r in matching if r.tool is None]
        for tier in (
            [r for r in by_effect if r.patterned],
            [r for r in by_effect if not r.patterned],
        ):
            if (verdict := pick(tier)) is not None:
                return verdict
        effect, action = max(
            ((e, self.side_effects[e]) for e in effects), key=lambda item: _STRICTNESS[item[1]]
        )
        if action == "allow" and destructive:
            return PolicyVerdict("ask", f"destructive call; {effect}: allow does not cover it")
        return PolicyVerdict(action, f"{effect}: {action} (default)")

    def _guarded(
        self,
        verdict: PolicyVerdict,
        effects: frozenset[SideEffect],
        args: Mapping[str, Any],
        targets: list[PathTarget],
        seen: Provenance | None,
    ) -> PolicyVerdict:
        """The guards no rule overrides: protected paths and untrusted content
        turn an allow into an ask; the reasons are added to any ask."""
        holds: list[str] = []
        for target in targets:
            if target.write and target.protected:
                holds.append(
                    f"writes {target.shown()}, a protected path ({target.protected}); "
                    "only a human can allow that"
                )
        side_effecting = bool(effects - {"read"})
        if seen is not None and seen.untrusted and side_effecting:
            if self.untrusted_content == "all":
                holds.append(
                    "the run has seen untrusted content "
                    f"({seen.observations[-1].source}); side-effecting calls ask"
                )
            elif self.untrusted_content == "copied":
                copy = seen.copied(args, skip=_data_args(args, targets, seen))
                if copy is not None:
                    holds.append(f"{copy.describe()}; no rule auto-allows that")
        notes = [
            f"{t.shown()} leads through a symlink, so path rules do not cover it"
            if t.resolved is not None
            else f"{t.written} leads outside the workspace (the tool refuses it)"
            for t in targets
            if t.redirected
        ]
        result = PolicyVerdict(verdict.action, verdict.reason, verdict.rule_id, tuple(targets))
        if verdict.action == "allow" and holds:
            return PolicyVerdict("ask", "; ".join(holds), verdict.rule_id, tuple(targets))
        if verdict.action == "ask" and (holds or notes):
            reason = "; ".join([*holds, *notes, verdict.reason])
            return PolicyVerdict("ask", reason, verdict.rule_id, tuple(targets))
        return result

    def label(self, tool: BaseTool, workspace: str | None = None) -> str:
        """allow / ask / deny for a call with no arguments, and why (``agentkit tools list``)."""
        verdict = self.evaluate(tool, {}, workspace=workspace)
        return f"{verdict.action} ({verdict.reason})"

    # --- rules ----------------------------------------------------------------
    def list_rules(self) -> list[PolicyRule]:
        with self._lock:
            return list(self._rules)

    def add_rule(self, rule: PolicyRule) -> PolicyRule:
        """Add a rule for this process only (not written anywhere)."""
        with self._lock:
            self._rules.append(rule)
        return rule

    def add_always_allow(
        self,
        tool_name: str,
        *,
        paths: Sequence[str] = (),
        command_prefixes: Sequence[str] = (),
        scope: AlwaysScope = "thread",
        thread_id: str | None = None,
        workspace: str | None = None,
    ) -> PolicyRule:
        """Record "always allow this" from an approval.

        ``scope="thread"`` needs ``thread_id`` and lasts as long as the records
        file (or the process, without one); ``scope="project"`` appends the rule
        to the project policy file, keyed by ``workspace`` when given (the rule
        then allows nothing in any other workspace). Revoke either with
        :meth:`revoke`.
        """
        if scope == "thread" and not thread_id:
            raise ValueError("a thread-scoped rule needs thread_id")
        if scope == "project" and self.path is None:
            raise ConfigError(
                "no project policy file to record the rule in",
                hint="load the policy with Policy.from_toml(path) or pass path=",
            )
        rule = PolicyRule(
            action="allow",
            tool=tool_name,
            paths=tuple(paths),
            command_prefixes=tuple(command_prefixes),
            source="always",
            scope=scope,
            thread_id=thread_id if scope == "thread" else None,
            workspace=workspace if scope == "project" else None,
        )
        with self._lock:
            duplicate = next((r for r in self._rules if replace(r, id=rule.id) == rule), None)
            if duplicate is not None:
                return duplicate
            self._rules.append(rule)
            if scope == "project":
                self._append_to_file(rule)
            else:
                self._save_records()
        return rule

    def revoke(self, rule_id: str) -> PolicyRule:
        """Remove a rule by id (and from the file that holds it). Raises
        ``KeyError`` for an unknown id."""
        with self._lock:
            rule = next((r for r in self._rules if r.id == rule_id), None)
            if rule is None:
                raise KeyError(f"no policy rule with id {rule_id!r}")
            self._rules.remove(rule)
            if rule.scope == "thread":
                self._save_records()
            elif rule.scope == "project" and self.path is not None:
                self._remove_from_file(rule)
        return rule

    # --- persistence of "always allow" records ---------------------------------
    _MARK = "# agentkit:always-allow {id}"
    _END = "# agentkit:end {id}"

    def _append_to_file(self, rule: PolicyRule) -> None:
        assert self.path is not None
        self.path.parent.mkdir(parents=True, exist_ok=True)
        existing = self.path.read_text(encoding="utf-8") if self.path.exists() else ""
        block = (
            f"{self._MARK.format(id=rule.id)}\n{rule.to_toml()}\n{self._END.format(id=rule.id)}\n"
        )
        sep = "" if not existing or existing.endswith("\n") else "\n"
        self.path.write_text(existing + sep + "\n" + block, encoding="utf-8")

    def _remove_from_file(self, rule: PolicyRule) -> None:
        assert self.path is not None
        if not self.path.exists():
            return
        text = self.path.read_text(encoding="utf-8")
        start = text.find(self._MARK.format(id=rule.id))
        end_mark = self._END.format(id=rule.id)
        end = text.find(end_mark, start)
        if start < 0 or end < 0:
            return
        self.path.write_text(
            text[:start].rstrip("\n") + "\n" + text[end + len(end_mark) :].lstrip("\n"),
            encoding="utf-8",
        )

    def _load_records(self) -> None:
        if self.records_path is None or not self.records_path.exists():
            return
        try:
            items = json.loads(self.records_path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as err:
            raise ConfigError(f"{self.records_path}: unreadable approval records: {err}") from None
        for item in items:
            self._rules.append(
                PolicyRule(
                    action="allow",
                    tool=item["tool"],
                    paths=tuple(item.get("paths", ())),
                    command_prefixes=tuple(item.get("command_prefixes", ())),
                    id=item["id"],
                    source="always",
                    scope="thread",
                    thread_id=item["thread_id"],
                )
            )

    def _save_records(self) -> None:
        if self.records_path is None:
            return
        items = [
            {
                "id": r.id,
                "tool": r.tool,
                "paths": list(r.paths),
                "command_prefixes": list(r.command_prefixes),
                "thread_id": r.thread_id,
            }
            for r in self._rules
            if r.scope == "thread"
        ]
        self.records_path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.records_path.with_suffix(".tmp")
        tmp.write_text(json.dumps(items, indent=2), encoding="utf-8")
        tmp.replace(self.records_path)


def _data_args(args: Mapping[str, Any], targets: list[PathTarget], seen: Provenance) -> list[str]:
    """Arguments that are data, not control: a write's content, when every
    path it writes is one the user named, free of symlinks (copying untrusted
    text into a file the user chose is the flow they asked for)."""
    writes = [t for t in targets if t.write]
    if not writes:
        return []
    for t in writes:
        if t.redirected or t.resolved is None:
            return []
        if not any(named_in(normalise(p), seen.trusted) for p in (t.written, t.resolved) if p):
            return []
    paths = {t.arg for t in targets}
    return [name for name in args if name not in paths]
