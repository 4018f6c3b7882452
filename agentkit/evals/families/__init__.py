"""The built-in eval suite as task families (docs/evals.md, "Task families").

A :class:`Family` is one intent in several wordings, with a builder that
draws a fresh workspace, checks and gold solution from a random generator.
The built-in suite is every family in every wording, each with a seed fixed
by (family, wording), so runs are reproducible; ``family.make(rng)`` yields
as many other episodes as wanted (for training data: dev families only).

Dev families are tuned against. Held-out families live in the modules
named ``heldout_*``: only their aggregate scores are read.

>>> from agentkit.evals.families import dev_families, instantiate
>>> case = instantiate(dev_families()[0], 0)
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Literal

from agentkit.evals.cases import BUILTIN_SUITE, EvalCase, Split, Suite
from agentkit.evals.families import (
    dev_breadth_asks,
    dev_breadth_changes,
    dev_breadth_fourth,
    dev_breadth_fourth_more,
    dev_breadth_third,
    dev_breadth_training,
    dev_edit,
    dev_knowledge,
    dev_multi,
    dev_ops,
    dev_read,
    dev_search,
    dev_tools,
    dev_write,
    heldout_edits,
    heldout_files,
    heldout_more,
    heldout_tools,
)
from agentkit.evals.families.base import (
    KINDS,
    TYPED_OPS,
    Call,
    Draw,
    Family,
    Instance,
    Kind,
    Solution,
    case_id,
    case_seed,
    instantiate,
    to_case,
    typed_ops_available,
)

MODULES: tuple[ModuleType, ...] = (
    dev_read,
    dev_search,
    dev_write,
    dev_edit,
    dev_tools,
    dev_knowledge,
    dev_multi,
    dev_ops,
    dev_breadth_asks,
    dev_breadth_changes,
    dev_breadth_third,
    dev_breadth_training,
    dev_breadth_fourth,
    dev_breadth_fourth_more,
    heldout_files,
    heldout_edits,
    heldout_tools,
    heldout_more,
)


def _collect() -> tuple[tuple[tuple[Family, Path], ...], tuple[Family, ...]]:
    """The suite's families with their modules, and the dev modules'
    ``TRAINING_ONLY`` families; one name each across both."""
    found: list[tuple[Family, Path]] = []
    training_only: list[Family] = []
    names: set[str] = set()

    def claim(family: Family) -> None:
        if family.name in names:
            raise ValueError(f"two task families are called {family.name!r}")
        names.add(family.name)

    for module in MODULES:
        heldout_module = "heldout" in module.__name__.rsplit(".", 1)[-1]
        for family in module.FAMILIES:
            claim(family)
            if (family.split == "heldout") != heldout_module:
                raise ValueError(f"{family.name}: split {family.split} in {module.__name__}")
            found.append((family, Path(str(module.__file__))))
        for family in getattr(module, "TRAINING_ONLY", ()):
            claim(family)
            if heldout_module or family.split != "dev":
                raise ValueError(f"{family.name}: training-only families are dev families")
            training_only.append(family)
    return tuple(found), tuple(training_only)


_FAMILIES, _TRAINING_ONLY = _collect()


def all_families() -> tuple[Family, ...]:
    return tuple(f for f, _ in _FAMILIES)


def dev_families() -> tuple[Family, ...]:
    """The families a change may be tuned against (and training data drawn from)."""
    return tuple(f for f in all_families() if f.split == "dev")


def training_families() -> tuple[Family, ...]:
    """The families training episodes are drawn from: the dev families, and
    dev modules' ``TRAINING_ONLY`` families (dev intents kept out of the
    suite so that held-out stays about a third of its families)."""
    return (*dev_families(), *_TRAINING_ONLY)


def families_of(split: Split) -> tuple[Family, ...]:
    return tuple(f for f in all_families() if f.split == split)


def get_family(name: str) -> Family:
    for family in all_families():
        if family.name == name:
            return family
    raise KeyError(f"no task family {name!r}")


def builtin_cases() -> list[EvalCase]:
    """Every family in every wording, with the built-in seeds."""
    return [instantiate(f, i) for f in all_families() for i in range(len(f.wordings))]


def builtin_suite() -> Suite:
    return _suite(BUILTIN_SUITE, instantiate)


def _suite(
    name: str,
    make: Callable[[Family, int], EvalCase],
    split: Split | Literal["all"] = "all",
) -> Suite:
    """Every family of ``split`` in every wording, each case made by ``make``."""
    cases: list[EvalCase] = []
    sources: dict[str, Path] = {}
    for family, module_path in _FAMILIES:
        if split != "all" and family.split != split:
            continue
        for index in range(len(family.wordings)):
            case = make(family, index)
            cases.append(case)
            sources[case.id] = module_path
    return Suite(name, Path(__file__).parent, cases, sources)


# How often an instance whose gold solution fails its own checks is drawn
# again before the built-in instance stands in for it.
DRAW_TRIES = 8


def drawn_suite(
    draw: int, valid: Callable[[EvalCase], bool], split: Split | Literal["all"] = "all"
) -> Suite:
    """The built-in suite drawn again: every family in every wording, with
    other files, names and values drawn by ``draw`` (0 is the built-in
    suite). One fixed draw of 167 held-out cases moves by several cases when
    nothing but rounding changes; more draws tell a real gain from that.
    An instance ``valid`` rejects (its gold fails) is drawn again. Only the
    families of ``split`` are drawn."""
    if draw == 0:
        return builtin_suite().only_split(split)

    def make(family: Family, index: int) -> EvalCase:
        for attempt in range(DRAW_TRIES):
            seed = case_seed(f"{family.name}@{draw}.{attempt}", index)
            drawn = instantiate(family, index, seed=seed)
            if valid(drawn):
                return drawn
        return instantiate(family, index)

    return _suite(f"{BUILTIN_SUITE} (draw {draw})", make, split)


__all__ = [
    "DRAW_TRIES",
    "KINDS",
    "TYPED_OPS",
    "Call",
    "Draw",
    "Family",
    "Instance",
    "Kind",
    "Solution",
    "all_families",
    "builtin_cases",
    "builtin_suite",
    "case_id",
    "case_seed",
    "dev_families",
    "drawn_suite",
    "families_of",
    "get_family",
    "instantiate",
    "to_case",
    "training_families",
    "typed_ops_available",
]
