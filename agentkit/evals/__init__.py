"""Task evals: does the agent do the user's task, on this model?

``agentkit eval`` runs a suite of small tasks (a task, the files it starts
from, checks on the result) through the public
:class:`~agentkit.agent.Agent` with real tools in a fresh temp workspace, and
reports pass rate, robustness across wordings, tool-call validity, right
first tool, unsafe changes, cost per task and the failure class of each
failed dev case. The built-in suite is made of task families
(:mod:`agentkit.evals.families`), split into dev and held-out; a user's suite
is YAML cases. See docs/evals.md.

>>> from agentkit.evals import EvalTarget, load_suite, run_suite
>>> report = run_suite(load_suite(), [EvalTarget("gemma", "bundled:gemma3-270m")])
"""

from __future__ import annotations

from agentkit.evals.cases import (
    CaseError,
    EvalCase,
    Gold,
    GoldCall,
    Suite,
    load_case_file,
    load_suite,
)
from agentkit.evals.gold import GoldHarness, run_gold
from agentkit.evals.harness import AgentHarness, Harness
from agentkit.evals.report import EvalReport, TargetReport
from agentkit.evals.runner import EvalTarget, run_case, run_suite
from agentkit.evals.scoring import CaseResult, FailureClass, Summary
from agentkit.evals.trace import CallRecord, Trace

__all__ = [
    "AgentHarness",
    "CallRecord",
    "CaseError",
    "CaseResult",
    "EvalCase",
    "EvalReport",
    "EvalTarget",
    "FailureClass",
    "Gold",
    "GoldCall",
    "GoldHarness",
    "Harness",
    "Suite",
    "Summary",
    "TargetReport",
    "Trace",
    "load_case_file",
    "load_suite",
    "run_case",
    "run_gold",
    "run_suite",
]
