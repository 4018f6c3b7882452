"""Eval cases: the YAML format (pydantic models) and loading suites.

A suite is a directory of ``*.yaml`` files, or one file. A file holds one
case (a mapping) or a list of cases. Every model forbids unknown keys, so a
typo (``contians``) is an error naming the file, the case and the field,
never a silently skipped check. The format is documented in docs/evals.md.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path, PurePosixPath
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    JsonValue,
    ValidationError,
    model_validator,
)

from agentkit.errors import ConfigError
from agentkit.tools.registry import BUILTIN_NAMES

MEMORY_TOOL_NAMES = ("search_docs", "remember", "recall")
FINAL_ANSWER = "final_answer"  # as an expected first "tool": answer without a tool
KNOWN_TOOLS = (*BUILTIN_NAMES, *MEMORY_TOOL_NAMES)
BUILTIN_SUITE = "builtin"
Split = Literal["dev", "heldout"]
SPLITS: tuple[Split, ...] = ("dev", "heldout")


class CaseError(ConfigError):
    """A case file that does not load; the message is one line."""


def _tool_name(value: str) -> str:
    if value not in KNOWN_TOOLS:
        raise ValueError(f"unknown tool {value!r} (known: {', '.join(KNOWN_TOOLS)})")
    return value


def _first_tool_name(value: str) -> str:
    return value if value == FINAL_ANSWER else _tool_name(value)


def _relative_path(value: str) -> str:
    """Workspace paths stay inside the workspace: relative, no ``..``."""
    path = PurePosixPath(value)
    if not value or path.is_absolute() or ".." in path.parts:
        raise ValueError(f"{value!r} must be a relative path inside the workspace")
    return str(path)


def _regex(value: str) -> str:
    try:
        re.compile(value)
    except re.error as err:
        raise ValueError(f"invalid regular expression {value!r}: {err}") from None
    return value


def _url_path(value: str) -> str:
    if not value.startswith("/"):
        raise ValueError(f"{value!r} must start with '/'")
    return value


ToolName = Annotated[str, AfterValidator(_tool_name)]
FirstToolName = Annotated[str, AfterValidator(_first_tool_name)]
RelPath = Annotated[str, AfterValidator(_relative_path)]
Regex = Annotated[str, AfterValidator(_regex)]
UrlPath = Annotated[str, AfterValidator(_url_path)]
Texts = str | list[str]
PolicyAction = Literal["allow", "ask", "deny"]


def as_list(value: Texts | None) -> list[str]:
    if value is None:
        return []
    return [value] if isinstance(value, str) else list(value)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class JsonPathCheck(_Strict):
    """``path`` is dotted keys with ``[n]`` indexes: ``server.ports[0]``."""

    path: str = Field(min_length=1)
    equals: JsonValue


class FileCheck(_Strict):
    """Checks on one workspace file after the run."""

    contains: Texts | None = None  # every one of them, case-sensitive
    not_contains: Texts | None = None
    equals: str | None = None  # whole content, trailing whitespace ignored
    regex: Regex | None = None  # re.search, MULTILINE
    json_path: JsonPathCheck | list[JsonPathCheck] | None = None  # JSON, or TOML for *.toml
    absent: bool = False  # the file must not exist
    unchanged: bool = False  # the file must be byte-for-byte as the case created it

    @model_validator(mode="after")
    def _consistent(self) -> FileCheck:
        content = [self.contains, self.not_contains, self.equals, self.regex, self.json_path]
        if self.absent and (self.unchanged or any(c is not None for c in content)):
            raise ValueError("absent cannot be combined with other file checks")
        if not self.absent and not self.unchanged and all(c is None for c in content):
            raise ValueError(
                "a file check needs at least one of contains, not_contains, "
                "equals, regex, json_path, absent, unchanged"
            )
        return self

    @property
    def wants_change(self) -> bool:
        """The task is expected to create, change or delete this file."""
        return not self.unchanged

    def json_paths(self) -> list[JsonPathCheck]:
        if self.json_path is None:
            return []
        return (
            [self.json_path] if isinstance(self.json_path, JsonPathCheck) else list(self.json_path)
        )


class AnswerCheck(_Strict):
    """Checks on the final answer; all that are given must hold."""

    contains: Texts | None = None  # any one of them, case-insensitive
    contains_all: list[str] | None = None  # every one of them, case-insensitive
    not_contains: Texts | None = None  # none of them, case-insensitive
    regex: Regex | None = None  # re.search, as written (use (?i) for case-insensitive)
    number: float | None = None  # some number in the answer is within tolerance
    tolerance: float = Field(0.0, ge=0.0)


class MemoryCheck(_Strict):
    contains: Texts  # some memory stored during the run contains one of them (case-insensitive)


class Checks(_Strict):
    files: dict[RelPath, FileCheck] = Field(default_factory=dict)
    answer: AnswerCheck | None = None
    tools_called: list[ToolName] = Field(default_factory=list)  # each ran at least once
    tools_not_called: list[ToolName] = Field(default_factory=list)  # none was proposed
    memory: MemoryCheck | None = None
    max_steps: int | None = Field(None, ge=1)  # also the run's step limit


class GoldCall(_Strict):
    """One tool call of a gold solution; ``{base_url}`` in a string argument
    becomes the case's page server address."""

    tool: ToolName
    args: dict[str, JsonValue] = Field(default_factory=dict)


class Gold(_Strict):
    """A solution that passes the case: the calls, then the final answer.
    In ``answer``, ``{result}`` is the last call's output (for values only the
    run can know, such as the time) and ``{base_url}`` the page server."""

    calls: list[GoldCall] = Field(default_factory=list)
    answer: str = Field(min_length=1)
    evidence: list[str] = Field(default_factory=list)  # each must show in some call's output


class CasePolicy(_Strict):
    """The ``policy.toml`` tables (see docs/agent.md), inline."""

    side_effects: dict[Literal["read", "write", "exec", "network"], PolicyAction] = Field(
        default_factory=dict
    )
    tools: dict[str, PolicyAction] = Field(default_factory=dict)
    rules: list[dict[str, str | list[str]]] = Field(default_factory=list)


class EvalCase(_Strict):
    id: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
    task: str = Field(min_length=1)
    files: dict[RelPath, str] = Field(default_factory=dict)
    tools: list[ToolName] | None = None  # default: every built-in (+ memory tools, see `memory`)
    # the knowledge base (search_docs/remember/recall, retrieval); default:
    # on, as every front end builds the agent (agentkit.assembly)
    memory: bool | None = None
    policy: CasePolicy | None = None  # default: reads allowed, everything else asks
    approve: Literal["all", "none"] = "all"  # how the simulated user answers each ask
    docs: dict[RelPath, str] = Field(default_factory=dict)  # ingested before the run
    memories: list[str] = Field(default_factory=list)  # stored before the run
    http_pages: dict[UrlPath, str] = Field(default_factory=dict)  # served on 127.0.0.1
    read_only: bool = False  # the task only asks: any write is unsafe
    may_change: list[RelPath] | None = None  # default: the files checks expect to change
    expect_first_tool: FirstToolName | list[FirstToolName] | None = None
    checks: Checks = Field(default_factory=Checks)
    tags: list[str] = Field(default_factory=list)
    # Task families (docs/evals.md): wordings of one intent are scored together
    # (robustness); a case without a family is a family of its own.
    family: str | None = Field(None, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
    kind: str | None = Field(None, pattern=r"^[a-z][a-z0-9_]*$")  # read, edit, calc, ...
    split: Split = "dev"  # heldout: only aggregate scores are ever reported
    gold: Gold | None = None  # a known solution (agentkit.evals.gold runs it without a model)

    @model_validator(mode="after")
    def _consistent(self) -> EvalCase:
        if self.read_only and self.may_change:
            raise ValueError("read_only cases cannot list may_change")
        offered = self.offered_tool_names()
        gold_tools = [c.tool for c in self.gold.calls] if self.gold is not None else []
        for name in [*self.checks.tools_called, *self.expected_first_tools(), *gold_tools]:
            if name != FINAL_ANSWER and name not in offered:
                raise ValueError(f"tool {name!r} is expected but not offered by `tools`")
        if "{base_url}" in self.task and not self.http_pages:
            raise ValueError("the task uses {base_url} but the case has no http_pages")
        return self

    # --- derived -------------------------------------------------------------------
    def expected_first_tools(self) -> list[str]:
        first = self.expect_first_tool
        if first is None:
            return []
        return [first] if isinstance(first, str) else list(first)

    def uses_memory(self) -> bool:
        """Whether the agent gets the knowledge base (its tools and
        retrieval): as every user's agent does, unless the case says not."""
        return self.memory is not False

    def offered_tool_names(self) -> list[str]:
        if self.tools is not None:
            return list(self.tools)
        return [*BUILTIN_NAMES, *(MEMORY_TOOL_NAMES if self.uses_memory() else ())]

    def allowed_changes(self) -> set[str]:
        """Workspace files the run may create, change or delete."""
        if self.read_only:
            return set()
        if self.may_change is not None:
            return set(self.may_change)
        return {path for path, check in self.checks.files.items() if check.wants_change}

    def step_limit(self, default: int) -> int:
        limit = self.checks.max_steps
        return min(limit, default) if limit is not None else default

    @property
    def family_name(self) -> str:
        """The family whose robustness this case counts towards."""
        return self.family or self.id

    @property
    def kind_name(self) -> str:
        return self.kind or "other"


# --- loading -------------------------------------------------------------------------


@dataclass(frozen=True)
class Suite:
    name: str
    path: Path
    cases: list[EvalCase]
    sources: dict[str, Path]  # case id -> the file it came from

    def select(self, patterns: Sequence[str]) -> Suite:
        """Cases whose id matches one of ``patterns`` (globs; a plain word
        matches ids containing it)."""
        if not patterns:
            return self
        globs = [p if any(ch in p for ch in "*?[") else f"*{p}*" for p in patterns]
        kept = [c for c in self.cases if any(fnmatch.fnmatchcase(c.id, g) for g in globs)]
        if not kept:
            raise CaseError(f"no case id matches {', '.join(patterns)} in suite {self.name}")
        return self._keep(kept)

    def only_split(self, split: Split | Literal["all"]) -> Suite:
        """The cases of one split (``all``: every case)."""
        if split == "all":
            return self
        kept = [c for c in self.cases if c.split == split]
        if not kept:
            raise CaseError(f"suite {self.name} has no {split} cases")
        return self._keep(kept)

    def _keep(self, kept: list[EvalCase]) -> Suite:
        return Suite(self.name, self.path, kept, {c.id: self.sources[c.id] for c in kept})


def builtin_suite_path() -> Path:
    """Where the built-in suite is defined: the task families' package."""
    return Path(str(resources.files("agentkit.evals") / "families"))


def load_suite(spec: str | Path | None = None) -> Suite:
    """``None`` or ``"builtin"``: the shipped suite (every task family in
    every wording, see :mod:`agentkit.evals.families`); else a directory or a
    file of YAML cases."""
    if spec is None or str(spec) == BUILTIN_SUITE:
        from agentkit.evals.families import builtin_suite

        return builtin_suite()
    path = Path(spec).expanduser()
    if not path.exists():
        raise CaseError(
            f"no suite {str(spec)!r}: give a directory or a YAML file of cases, "
            f"or '{BUILTIN_SUITE}'"
        )
    name = path.stem if path.is_file() else path.name
    files = (
        sorted(p for p in path.iterdir() if p.suffix in (".yaml", ".yml"))
        if path.is_dir()
        else [path]
    )
    cases: list[EvalCase] = []
    sources: dict[str, Path] = {}
    for file in files:
        for case in load_case_file(file):
            if case.id in sources:
                raise CaseError(f"{file}: case id {case.id!r} is also used in {sources[case.id]}")
            sources[case.id] = file
            cases.append(case)
    if not cases:
        raise CaseError(f"suite {path} has no cases (*.yaml files with one case or a list)")
    return Suite(name, path, cases, sources)


def load_case_file(path: Path) -> list[EvalCase]:
    import yaml

    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as err:
        raise CaseError(f"{path}: cannot read: {err.strerror}") from None
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        problem = getattr(err, "problem", None) or str(err).splitlines()[0]
        raise CaseError(f"{path}: invalid YAML{where}: {problem}") from None
    items = data if isinstance(data, list) else [data]
    if not items or not all(isinstance(i, dict) for i in items):
        raise CaseError(f"{path}: expected a case (a mapping) or a list of cases")
    cases: list[EvalCase] = []
    for index, item in enumerate(items):
        label = (
            f"case {item.get('id')!r}" if isinstance(item.get("id"), str) else f"case #{index + 1}"
        )
        try:
            case = EvalCase.model_validate(item)
        except ValidationError as err:
            raise CaseError(f"{path}: {label}: {describe_error(err)}") from None
        if case.policy is not None:
            from agentkit.approvals.policy import Policy

            Policy.from_dict(case.policy.model_dump(), where=f"{path}: {label}: policy")
        cases.append(case)
    return cases


def describe_error(err: ValidationError) -> str:
    """The first problem as ``field.path: message`` on one line."""
    first = err.errors()[0]
    parts: list[str] = []
    for part in first["loc"]:
        if isinstance(part, str) and _is_union_tag(part):
            continue
        if isinstance(part, int):
            parts.append(f"[{part}]")
        elif re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", part):
            parts.append(f".{part}" if parts else part)
        else:  # a file name or URL path as a key
            parts.append(f"[{part!r}]")
    field = "".join(parts) or "case"
    message = first["msg"].removeprefix("Value error, ")
    if first["type"] == "extra_forbidden":
        message = "unknown field"
    elif first["type"] == "missing":
        message = "required field missing"
    return f"{field}: {message}"


def _is_union_tag(part: str) -> bool:
    """pydantic puts the union member tried (``str``, ``list[str]``,
    ``JsonPathCheck``) into the error location; field names are lower case."""
    models = {cls.__name__ for cls in _Strict.__subclasses__()}
    return "[" in part or part in models or part in ("str", "int", "float", "bool", "list", "dict")
