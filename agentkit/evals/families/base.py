"""Task families: one intent, several wordings, randomised workspaces.

A :class:`Family` turns a random generator into an :class:`Instance` (the
slot values its wordings are filled with, the case's workspace and checks,
and a gold solution); :func:`instantiate` makes the :class:`EvalCase` for
one wording. The same family yields the built-in eval case (a seed fixed by
family and wording) and any number of fresh episodes (``make(rng)``).

Families of the ``heldout`` split live in modules whose names contain
``heldout``: only their aggregate scores are ever reported (docs/evals.md).
"""

from __future__ import annotations

import hashlib
import random
import string
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal, get_args

from pydantic import JsonValue

from agentkit.evals.cases import (
    FINAL_ANSWER,
    KNOWN_TOOLS,
    Checks,
    EvalCase,
    Gold,
    GoldCall,
    Split,
)

Kind = Literal[
    "read",
    "search",
    "count",
    "write",
    "edit",
    "files",
    "calc",
    "time",
    "shell",
    "http",
    "docs",
    "memory",
    "no_tool",
    "multi_step",
]
KINDS: tuple[Kind, ...] = get_args(Kind)

# Typed file operations that arrive with the tools-ops work. A gold solution
# that uses one (or read_file's negative start_line) needs them; until they
# exist an instance falls back to a solution with the older tools.
TYPED_OPS = frozenset(
    {"copy_file", "move_file", "count", "sort_lines", "dedupe_lines", "read_field"}
)


def typed_ops_available() -> bool:
    return TYPED_OPS <= set(KNOWN_TOOLS)


@dataclass(frozen=True)
class Call:
    """A concrete tool call; ``{base_url}`` in a string argument is the
    case's page server."""

    tool: str
    args: Mapping[str, JsonValue] = field(default_factory=dict)

    @property
    def needs_typed_ops(self) -> bool:
        start = self.args.get("start_line")
        return self.tool in TYPED_OPS or (isinstance(start, int) and start < 0)


@dataclass(frozen=True)
class Solution:
    """Calls that solve an instance and a final answer that passes its
    checks (``{result}`` in it: the last call's output)."""

    calls: tuple[Call, ...]
    answer: str
    evidence: tuple[str, ...] = ()  # texts the calls' outputs must show

    @property
    def needs_typed_ops(self) -> bool:
        return any(c.needs_typed_ops for c in self.calls)

    def as_gold(self) -> Gold:
        return Gold(
            calls=[GoldCall(tool=c.tool, args=dict(c.args)) for c in self.calls],
            answer=self.answer,
            evidence=list(self.evidence),
        )


@dataclass(frozen=True)
class Instance:
    """One randomised task of a family: everything but the wording."""

    slots: Mapping[str, str]
    gold: Solution
    checks: Checks
    files: Mapping[str, str] = field(default_factory=dict)
    docs: Mapping[str, str] = field(default_factory=dict)
    memories: tuple[str, ...] = ()
    http_pages: Mapping[str, str] = field(default_factory=dict)
    read_only: bool = False
    may_change: tuple[str, ...] | None = None
    # Acceptable first tools; names of tools this build lacks are dropped.
    expect_first_tool: tuple[str, ...] = ()
    # The same result with the tools every release has (for a gold that
    # needs TYPED_OPS while they are missing).
    fallback: Solution | None = None

    def solution(self) -> Solution:
        """The gold solution this build of the tools can run."""
        if self.gold.needs_typed_ops and not typed_ops_available():
            if self.fallback is None:
                raise LookupError("the gold solution needs the typed file operations")
            return self.fallback
        return self.gold

    def first_tools(self) -> list[str]:
        return [t for t in self.expect_first_tool if t in KNOWN_TOOLS or t == FINAL_ANSWER]


class Draw:
    """The random choices of one instance. Named draws become slots (the
    values wordings are filled with); ``pins`` fix some of them."""

    def __init__(self, rng: random.Random, pins: Mapping[str, str] | None = None) -> None:
        self.rng = rng
        self.pins = dict(pins or {})
        self.slots: dict[str, str] = {}

    def pick(self, slot: str, options: Sequence[str], avoid: Sequence[str] = ()) -> str:
        """One of ``options`` (not in ``avoid``), kept as ``slot``."""
        if slot in self.pins:
            value = self.pins[slot]
        else:
            value = self.rng.choice([o for o in options if o not in avoid])
        self.slots[slot] = value
        return value

    def number(self, slot: str, low: int, high: int, avoid: Sequence[int] = ()) -> int:
        if slot in self.pins:
            value = int(self.pins[slot])
        else:
            value = self.rng.choice([n for n in range(low, high + 1) if n not in avoid])
        self.slots[slot] = str(value)
        return value

    def let(self, slot: str, value: str | int) -> str:
        """A slot derived from other draws (a file's path, a sum)."""
        self.slots[slot] = str(value)
        return str(value)

    def choice(self, options: Sequence[str], avoid: Sequence[str] = ()) -> str:
        """An unnamed draw (content, distractors)."""
        return self.rng.choice([o for o in options if o not in avoid])

    def sample(self, options: Sequence[str], k: int, avoid: Sequence[str] = ()) -> list[str]:
        return self.rng.sample([o for o in options if o not in avoid], k)

    def randint(self, low: int, high: int) -> int:
        return self.rng.randint(low, high)

    def shuffled(self, items: Sequence[str]) -> list[str]:
        out = list(items)
        self.rng.shuffle(out)
        return out

    def instance(
        self,
        *,
        gold: Solution,
        checks: Checks,
        files: Mapping[str, str] | None = None,
        docs: Mapping[str, str] | None = None,
        memories: tuple[str, ...] = (),
        http_pages: Mapping[str, str] | None = None,
        read_only: bool = False,
        may_change: tuple[str, ...] | None = None,
        expect_first_tool: tuple[str, ...] = (),
        fallback: Solution | None = None,
    ) -> Instance:
        """An :class:`Instance` with this draw's slots."""
        return Instance(
            slots=dict(self.slots),
            gold=gold,
            checks=checks,
            files=dict(files or {}),
            docs=dict(docs or {}),
            memories=memories,
            http_pages=dict(http_pages or {}),
            read_only=read_only,
            may_change=may_change,
            expect_first_tool=expect_first_tool,
            fallback=fallback,
        )


Builder = Callable[[Draw], Instance]


@dataclass(frozen=True)
class Family:
    """One intent in several wordings (``str.format`` templates over the
    slots a builder draws; ``{base_url}`` stays for the page server)."""

    name: str
    split: Split
    kind: Kind
    wordings: tuple[str, ...]
    build: Builder
    # Slot values fixed for the built-in case of a wording (the README's
    # own examples are cases word for word).
    pinned: Mapping[int, Mapping[str, str]] = field(default_factory=dict)
    tags: tuple[str, ...] = ()

    def make(self, rng: random.Random, pins: Mapping[str, str] | None = None) -> Instance:
        return self.build(Draw(rng, pins))

    def task(self, wording_index: int, instance: Instance) -> str:
        return self.wordings[wording_index].format(**instance.slots, base_url="{base_url}")


def case_seed(family: str, wording_index: int) -> int:
    """The built-in case's seed: stable across runs and Python versions."""
    digest = hashlib.sha256(f"{family}#{wording_index}".encode()).digest()
    return int.from_bytes(digest[:8], "big")


def case_id(family: Family, wording_index: int) -> str:
    return f"{family.name}.w{wording_index}"


def to_case(family: Family, wording_index: int, instance: Instance) -> EvalCase:
    """The eval case for one wording of ``instance``."""
    first = instance.first_tools()
    return EvalCase(
        id=case_id(family, wording_index),
        task=family.task(wording_index, instance),
        files=dict(instance.files),
        docs=dict(instance.docs),
        memories=list(instance.memories),
        http_pages=dict(instance.http_pages),
        read_only=instance.read_only,
        may_change=list(instance.may_change) if instance.may_change is not None else None,
        expect_first_tool=(first[0] if len(first) == 1 else first) if first else None,
        checks=instance.checks,
        tags=[family.kind, *family.tags],
        family=family.name,
        kind=family.kind,
        split=family.split,
        gold=instance.solution().as_gold(),
    )


def instantiate(family: Family, wording_index: int, seed: int | None = None) -> EvalCase:
    """The case for ``family``'s wording ``wording_index``; ``seed`` None:
    the built-in seed (with the wording's pinned slots)."""
    if not 0 <= wording_index < len(family.wordings):
        raise IndexError(f"{family.name} has {len(family.wordings)} wordings, not {wording_index}")
    pins = family.pinned.get(wording_index) if seed is None else None
    rng = random.Random(case_seed(family.name, wording_index) if seed is None else seed)
    return to_case(family, wording_index, family.make(rng, pins))


def template_slots(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}
