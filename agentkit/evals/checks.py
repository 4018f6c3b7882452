"""Evaluating a case's checks against what a run left behind.

Each check gives a :class:`CheckResult` with a short name and, when it
fails, what was found instead, so a failed case explains itself in the JSON
report without re-running it.
"""

from __future__ import annotations

import json
import math
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

import yaml
from pydantic import BaseModel, JsonValue

from agentkit.evals.cases import AnswerCheck, EvalCase, FileCheck, JsonPathCheck, as_list
from agentkit.evals.trace import Trace

SHOWN_CHARS = 80  # of a file or answer quoted in a failed check's detail

# Thousands separators only in groups of three, so "3, 4" stays two numbers.
_NUMBER = re.compile(r"(?<![\d.])-?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?")


class CheckResult(BaseModel):
    name: str
    passed: bool
    detail: str = ""


@dataclass(frozen=True)
class RunOutcome:
    """What the checks look at after a run."""

    workspace: Path
    trace: Trace
    new_memories: list[str]


def _quote(text: str) -> str:
    short = text if len(text) <= SHOWN_CHARS else text[:SHOWN_CHARS] + "…"
    return json.dumps(short, ensure_ascii=False)


def numbers_in(text: str) -> list[float]:
    return [float(m.group().replace(",", "")) for m in _NUMBER.finditer(text)]


def lookup(data: JsonValue, path: str) -> tuple[bool, JsonValue]:
    """(found, value) at a dotted path with ``[n]`` indexes."""
    current = data
    for token in re.findall(r"\[\d+\]|[^.\[\]]+", path):
        if token.startswith("["):
            index = int(token[1:-1])
            if not isinstance(current, list) or index >= len(current):
                return False, None
            current = current[index]
        elif isinstance(current, dict) and token in current:
            current = current[token]
        else:
            return False, None
    return True, current


def _parse_structured(name: str, text: str) -> JsonValue:
    if name.endswith(".toml"):
        return json.loads(json.dumps(tomllib.loads(text), default=str))
    if name.endswith((".yaml", ".yml")):
        return json.loads(json.dumps(yaml.safe_load(text), default=str))
    return json.loads(text)


def check_file(
    name: str, check: FileCheck, outcome: RunOutcome, initial: str | None
) -> list[CheckResult]:
    path = outcome.workspace / name
    exists = path.is_file()
    if check.absent:
        return [
            CheckResult(
                name=f"{name} absent", passed=not exists, detail="still exists" if exists else ""
            )
        ]
    text = path.read_text(encoding="utf-8", errors="replace") if exists else None
    results: list[CheckResult] = []
    if check.unchanged:
        same = text == initial
        results.append(
            CheckResult(
                name=f"{name} unchanged",
                passed=same,
                detail="" if same else ("deleted" if text is None else f"now {_quote(text)}"),
            )
        )
    if text is None:
        content = [check.contains, check.not_contains, check.equals, check.regex, check.json_path]
        if any(c is not None for c in content):
            results.append(CheckResult(name=f"{name} exists", passed=False, detail="no such file"))
        return results
    for needle in as_list(check.contains):
        ok = needle in text
        results.append(
            CheckResult(
                name=f"{name} contains {_quote(needle)}",
                passed=ok,
                detail="" if ok else f"content {_quote(text)}",
            )
        )
    for needle in as_list(check.not_contains):
        ok = needle not in text
        results.append(
            CheckResult(
                name=f"{name} lacks {_quote(needle)}",
                passed=ok,
                detail="" if ok else f"content {_quote(text)}",
            )
        )
    if check.equals is not None:
        ok = text.rstrip() == check.equals.rstrip()
        results.append(
            CheckResult(
                name=f"{name} equals {_quote(check.equals)}",
                passed=ok,
                detail="" if ok else f"content {_quote(text)}",
            )
        )
    if check.regex is not None:
        ok = re.search(check.regex, text, re.MULTILINE) is not None
        results.append(
            CheckResult(
                name=f"{name} matches /{check.regex}/",
                passed=ok,
                detail="" if ok else f"content {_quote(text)}",
            )
        )
    for item in check.json_paths():
        results.append(_check_json_path(name, text, item))
    return results


def _check_json_path(name: str, text: str, item: JsonPathCheck) -> CheckResult:
    label = f"{name} {item.path} == {json.dumps(item.equals)}"
    try:
        data = _parse_structured(name, text)
    except (ValueError, tomllib.TOMLDecodeError, yaml.YAMLError) as err:
        return CheckResult(name=label, passed=False, detail=f"does not parse: {err}")
    found, value = lookup(data, item.path)
    if not found:
        return CheckResult(name=label, passed=False, detail=f"no {item.path}")
    ok = value == item.equals
    return CheckResult(name=label, passed=ok, detail="" if ok else f"is {json.dumps(value)}")


def check_answer(check: AnswerCheck, answer: str) -> list[CheckResult]:
    lowered = answer.lower()
    shown = f"answer {_quote(answer)}"
    results: list[CheckResult] = []
    if check.contains is not None:
        options = as_list(check.contains)
        ok = any(o.lower() in lowered for o in options)
        results.append(
            CheckResult(
                name=f"answer contains one of {options}", passed=ok, detail="" if ok else shown
            )
        )
    for needle in check.contains_all or []:
        ok = needle.lower() in lowered
        results.append(
            CheckResult(
                name=f"answer contains {_quote(needle)}", passed=ok, detail="" if ok else shown
            )
        )
    for needle in as_list(check.not_contains):
        ok = needle.lower() not in lowered
        results.append(
            CheckResult(
                name=f"answer lacks {_quote(needle)}", passed=ok, detail="" if ok else shown
            )
        )
    if check.regex is not None:
        ok = re.search(check.regex, answer) is not None
        results.append(
            CheckResult(
                name=f"answer matches /{check.regex}/", passed=ok, detail="" if ok else shown
            )
        )
    if check.number is not None:
        target, tolerance = check.number, check.tolerance
        ok = any(math.isclose(n, target, abs_tol=max(tolerance, 1e-9)) for n in numbers_in(answer))
        label = f"answer has {target:g}" + (f" ± {tolerance:g}" if tolerance else "")
        results.append(CheckResult(name=label, passed=ok, detail="" if ok else shown))
    return results


def run_checks(case: EvalCase, outcome: RunOutcome) -> list[CheckResult]:
    """Every check of ``case``, in the order the case lists them."""
    checks = case.checks
    trace = outcome.trace
    # A task is not done until the agent says so: a run that wrote the right
    # file and then looped until a limit fails too.
    finished = trace.status == "finished"
    results = [
        CheckResult(
            name="run finished",
            passed=finished,
            detail="" if finished else trace.stop_reason or trace.error or trace.status,
        )
    ]
    for name, file_check in checks.files.items():
        results += check_file(name, file_check, outcome, case.files.get(name))
    if checks.answer is not None:
        results += check_answer(checks.answer, trace.answer)
    for tool in checks.tools_called:
        ok = trace.ran(tool)
        results.append(
            CheckResult(
                name=f"{tool} called", passed=ok, detail="" if ok else f"called: {_called(trace)}"
            )
        )
    for tool in checks.tools_not_called:
        ok = all(c.tool != tool for c in trace.calls)
        results.append(
            CheckResult(
                name=f"{tool} not called",
                passed=ok,
                detail="" if ok else f"called: {_called(trace)}",
            )
        )
    if checks.memory is not None:
        options = as_list(checks.memory.contains)
        stored = outcome.new_memories
        ok = any(o.lower() in m.lower() for m in stored for o in options)
        results.append(
            CheckResult(
                name=f"a memory contains one of {options}",
                passed=ok,
                detail="" if ok else f"stored: {stored}",
            )
        )
    if checks.max_steps is not None:
        ok = trace.steps <= checks.max_steps
        results.append(
            CheckResult(
                name=f"at most {checks.max_steps} steps",
                passed=ok,
                detail="" if ok else f"{trace.steps} steps",
            )
        )
    return results


def _called(trace: Trace) -> str:
    return ", ".join(c.tool for c in trace.tool_calls) or "none"
