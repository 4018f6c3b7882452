"""Running a suite against one or more targets (a model plus options).

A target's options are settings (any ``Settings`` field, e.g.
``temperature``) and agent options (``planning``, ``tool_choice``); a
technique that a setting switches on is compared by running the same model
twice with different options (``agentkit eval --variant``). Each case runs
in a fresh :class:`~agentkit.evals.sandbox.CaseEnv` and is scored there.
"""

from __future__ import annotations

import time
import traceback
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from agentkit.config import Settings, load_settings
from agentkit.errors import AgentkitError, ConfigError
from agentkit.evals.cases import EvalCase, Suite
from agentkit.evals.checks import RunOutcome, run_checks
from agentkit.evals.harness import AgentHarness, Harness
from agentkit.evals.report import EvalReport, TargetReport
from agentkit.evals.sandbox import CaseEnv
from agentkit.evals.scoring import CaseResult, score
from agentkit.evals.trace import Trace

if TYPE_CHECKING:
    from langchain_core.embeddings import Embeddings
    from langchain_core.language_models import BaseChatModel

OptionValue = str | int | float | bool | list[str] | None
ModelFactory = Callable[[EvalCase], "BaseChatModel"]
"""Called once per case: tests give each case its own scripted model."""

DEFAULT_MAX_STEPS = 6  # one- and two-step tasks: room for a recovery or two
AGENT_OPTIONS = ("planning", "tool_choice", "harness")
# Evals compare runs: greedy decoding unless an option says otherwise.
EVAL_DEFAULTS: dict[str, OptionValue] = {"temperature": 0.0}


@dataclass
class EvalTarget:
    """One column of the table: a model (a ``Settings.model`` spec, a chat
    model object reused for every case, or a per-case factory) and options."""

    label: str
    model: str | BaseChatModel | ModelFactory
    options: Mapping[str, OptionValue] = field(default_factory=dict)
    harness: Harness | None = None  # default: AgentHarness from the agent options

    def settings_overrides(self) -> dict[str, OptionValue]:
        overrides = {
            **EVAL_DEFAULTS,
            **{k: v for k, v in self.options.items() if k not in AGENT_OPTIONS},
        }
        if isinstance(self.model, str):
            overrides["model"] = self.model
        return overrides

    def make_harness(self) -> Harness:
        if self.harness is not None:
            return self.harness
        if self.options.get("harness") == "langchain":
            from agentkit.evals.langchain_harness import LangChainAgentHarness

            return LangChainAgentHarness()
        if self.options.get("harness") not in (None, "agentkit"):
            raise ConfigError("option harness must be agentkit or langchain")
        planning = self.options.get("planning")
        choice = self.options.get("tool_choice", "any")
        if not isinstance(planning, bool | None) or not isinstance(choice, str):
            raise ConfigError("option planning must be true/false and tool_choice a string")
        return AgentHarness(planning=planning, tool_choice=choice)


def model_label(spec: str) -> str:
    """``bundled:gemma3-270m`` as is; a path by its file name."""
    return spec if spec.startswith("bundled:") or "://" in spec else Path(spec).name


HELDOUT_LABEL = "held-out case"


class EvalProgress(Protocol):
    """Told about each case as it runs. A held-out case is only ever named
    ``HELDOUT_LABEL`` and its result is None: its task, answer and failure
    are never shown."""

    def case_started(self, target: EvalTarget, label: str, index: int, total: int) -> None: ...

    def case_finished(self, target: EvalTarget, label: str, result: CaseResult | None) -> None: ...


class _Models:
    """Chat models for a target: built from a spec before any case runs (a
    model file that does not exist is a usage error, not 40 failed cases),
    its weights loaded before the first case (load time is not charged to a
    task), then reused; or made per case by a factory."""

    def __init__(self, target: EvalTarget, settings: Settings) -> None:
        self.target = target
        self._shared: BaseChatModel | None = None
        self._loaded = False
        if isinstance(target.model, str):
            from agentkit.models.factory import make_chat_model

            self._shared = make_chat_model(settings)

    def for_case(self, case: EvalCase) -> BaseChatModel:
        from langchain_core.language_models import BaseChatModel

        model = self.target.model
        if isinstance(model, BaseChatModel):
            return model
        if callable(model):
            return model(case)
        assert self._shared is not None
        if not self._loaded:
            getattr(self._shared, "engine", None)  # ChatLlama: load the GGUF now
            self._loaded = True
        return self._shared


class _Embeddings:
    """The embedder for memory cases, loaded on first need and shared."""

    def __init__(self, given: Embeddings | None) -> None:
        self._value = given
        self._owned = False

    def get(self, settings: Settings) -> Embeddings:
        if self._value is None:
            from agentkit.models.factory import make_embeddings

            self._value = make_embeddings(settings)
            self._owned = True
        return self._value

    def close(self) -> None:
        close = getattr(self._value, "close", None)
        if self._owned and callable(close):
            close()


def run_case(
    case: EvalCase,
    model: BaseChatModel | None,
    settings: Settings,
    *,
    harness: Harness | None = None,
    embeddings: Embeddings | None = None,
    max_steps: int = DEFAULT_MAX_STEPS,
) -> CaseResult:
    """Run one case in a fresh sandbox and score it. A failure of the harness
    itself (a bug, a model that cannot load) is a result of class ``error``,
    so one broken case does not end a suite."""
    harness = harness or AgentHarness()
    try:
        with CaseEnv(case, settings, embeddings, max_steps) as env:
            started = time.perf_counter()
            try:
                trace = harness.run(env, model)
            except AgentkitError as err:
                trace = Trace(status="error", error=f"{type(err).__name__}: {err}")
            except Exception as err:  # noqa: BLE001 - recorded with its traceback, suite goes on
                where = traceback.extract_tb(err.__traceback__)[-1]
                trace = Trace(
                    status="error",
                    error=f"{type(err).__name__}: {err} ({where.filename}:{where.lineno})",
                )
            seconds = time.perf_counter() - started
            outcome = RunOutcome(env.workspace, trace, env.new_memories())
            return score(case, trace, run_checks(case, outcome), env.changed_files(), seconds)
    except AgentkitError as err:  # the sandbox could not be built (e.g. the embedder)
        trace = Trace(status="error", error=f"{type(err).__name__}: {err}")
        return score(case, trace, [], [], 0.0)


def run_suite(
    suite: Suite,
    targets: Sequence[EvalTarget],
    *,
    settings: Settings | None = None,
    embeddings: Embeddings | None = None,
    max_steps: int = DEFAULT_MAX_STEPS,
    progress: EvalProgress | None = None,
) -> EvalReport:
    """Every case of ``suite`` on every target, targets one after another
    (one model in memory at a time)."""
    started = datetime.now(UTC)
    clock = time.perf_counter()
    base = settings or load_settings()
    shared_embeddings = _Embeddings(embeddings)
    reports: list[TargetReport] = []
    total = len(suite.cases) * len(targets)
    index = 0
    # Every target's options and model are checked before the first case runs.
    prepared = []
    for target in targets:
        target_settings = _apply(base, target.settings_overrides())
        prepared.append(
            (target, target_settings, target.make_harness(), _Models(target, target_settings))
        )
    try:
        for target, target_settings, harness, models in prepared:
            results: list[CaseResult] = []
            for case in suite.cases:
                index += 1
                heldout = case.split == "heldout"
                label = HELDOUT_LABEL if heldout else case.id
                if progress is not None:
                    progress.case_started(target, label, index, total)
                try:
                    model = models.for_case(case)
                    vectors = shared_embeddings.get(target_settings) if case.uses_memory() else None
                except AgentkitError as err:
                    result = score(case, Trace(status="error", error=str(err)), [], [], 0.0)
                else:
                    result = run_case(
                        case,
                        model,
                        target_settings,
                        harness=harness,
                        embeddings=vectors,
                        max_steps=max_steps,
                    )
                results.append(result)
                if progress is not None:
                    progress.case_finished(target, label, None if heldout else result)
            reports.append(
                TargetReport.from_results(
                    label=target.label,
                    model=target_settings.model
                    if isinstance(target.model, str)
                    else type(target.model).__name__,
                    options=dict(target.options),
                    results=results,
                )
            )
    finally:
        shared_embeddings.close()
    return EvalReport.create(suite, reports, started, time.perf_counter() - clock, max_steps)


def _apply(base: Settings, overrides: Mapping[str, OptionValue]) -> Settings:
    """``base`` with ``overrides``, validated like any setting (a bad value
    is one line naming it). A dotted key sets a field of a settings table
    (``steering.tool_routing=false``)."""
    from pydantic import ValidationError

    values = base.model_dump(exclude_unset=True)
    for key, value in overrides.items():
        table, _, field = key.partition(".")
        known = Settings.model_fields.get(table)
        if known is None or (field and not isinstance(values.get(table, {}), dict)):
            raise ConfigError(
                f"unknown option {key!r}: options are settings (`agentkit config show`, "
                f"a table's field as table.field) or {', '.join(AGENT_OPTIONS)}"
            )
        if field:
            values[table] = {**dict(values.get(table) or {}), field: value}
        else:
            values[table] = value
    try:
        return Settings.model_validate(values)
    except ValidationError as err:
        first = err.errors()[0]
        key = ".".join(str(p) for p in first["loc"])
        raise ConfigError(f"invalid option {key!r}: {first['msg']}") from None
