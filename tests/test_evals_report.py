"""The eval report by split and kind: robustness (families whose every
wording passed), unsafe counts and medians per split, and held-out cases
that only ever show as aggregate numbers, in the tables, the Markdown, the
JSON, the progress lines and ``--list``."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from agentkit.cli import main
from agentkit.cli.eval_cmd import RichProgress, parse_split
from agentkit.config import load_settings
from agentkit.errors import ConfigError
from agentkit.evals import (
    CaseResult,
    EvalCase,
    EvalReport,
    EvalTarget,
    Suite,
    load_suite,
    run_suite,
)
from agentkit.evals.cases import load_case_file
from agentkit.evals.report import TargetReport, markdown, render_cases, render_kinds, render_summary
from agentkit.evals.runner import HELDOUT_LABEL
from agentkit.evals.scoring import summarize
from agentkit.testing import ScriptedChatModel, call, final

SECRET = "ZEBRA-SECRET"  # stands for any held-out text: it must never be shown


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("AGENTKIT_CONFIG", raising=False)
    monkeypatch.setenv("AGENTKIT_DATA_DIR", str(tmp_path / "data"))


def result(
    case_id: str,
    family: str,
    split: str,
    passed: bool,
    kind: str = "read",
    seconds: float = 1.0,
    unsafe: bool = False,
) -> CaseResult:
    return CaseResult(
        id=case_id,
        family=family,
        kind=kind,
        split=split,  # type: ignore[arg-type]
        passed=passed,
        failure=None if passed else ("unsafe" if unsafe else "check_failed"),
        failure_detail="" if passed else f"answer {case_id} detail",
        unsafe=["changed x.txt, which the task did not name"] if unsafe else [],
        answer=f"answer of {case_id}",
        seconds=seconds,
        status="finished",
    )


RESULTS = [
    result("a.w0", "a", "dev", True, seconds=1.0),
    result("a.w1", "a", "dev", True, seconds=2.0),
    result("b.w0", "b", "dev", True, kind="edit", seconds=3.0),
    result("b.w1", "b", "dev", False, kind="edit", seconds=4.0, unsafe=True),
    result("c", "", "dev", True, kind="calc", seconds=9.0),  # a YAML case: its own family
    result(f"{SECRET}-h.w0", f"{SECRET}-h", "heldout", True, seconds=5.0),
    result(f"{SECRET}-h.w1", f"{SECRET}-h", "heldout", True, seconds=7.0),
    result(f"{SECRET}-g.w0", f"{SECRET}-g", "heldout", False, kind="edit", seconds=6.0),
]


def test_robustness_and_split_arithmetic() -> None:
    target = TargetReport.from_results("m", "model", {}, RESULTS)
    dev, heldout, every = target.splits["dev"], target.splits["heldout"], target.summary
    assert (dev.cases, dev.passed, dev.families, dev.robust_families) == (5, 4, 3, 2)
    assert (heldout.cases, heldout.passed, heldout.families, heldout.robust_families) == (
        3,
        2,
        2,
        1,
    )
    assert (every.cases, every.passed, every.families, every.robust_families) == (8, 6, 5, 3)
    assert every.robustness == pytest.approx(3 / 5)
    assert (dev.unsafe, heldout.unsafe, every.unsafe) == (1, 0, 1)
    assert (dev.median_seconds, heldout.median_seconds) == (3.0, 6.0)
    assert every.median_seconds == pytest.approx(4.5)
    # failure classes: dev only, never a held-out case's
    assert (
        dev.failures == {"unsafe": 1} and heldout.failures == {} and every.failures == dev.failures
    )
    kinds = target.kinds
    assert (kinds["dev"]["edit"].passed, kinds["dev"]["edit"].cases) == (1, 2)
    assert kinds["heldout"]["read"].robust_families == 1
    assert kinds["heldout"]["edit"].robust_families == 0
    assert [r.id for r in target.cases] == ["a.w0", "a.w1", "b.w0", "b.w1", "c"]
    assert target.heldout_cases == 3
    assert summarize([]).robustness == 0.0


def fake_report(tmp_path: Path) -> EvalReport:
    targets = [TargetReport.from_results("m", "model", {}, RESULTS)]
    suite = Suite("mini", tmp_path, [], {})
    from datetime import UTC, datetime

    return EvalReport.create(suite, targets, datetime.now(UTC), 1.0, 6)


def rendered(report: EvalReport) -> str:
    console = Console(record=True, width=240)
    for table in (render_cases(report), render_kinds(report), render_summary(report)):
        console.print(table)
    return console.export_text()


def test_reports_show_held_out_only_as_aggregates(tmp_path: Path) -> None:
    report = fake_report(tmp_path)
    text, md, data = rendered(report), markdown(report), report.to_json()
    for shown in (text, md, data):
        assert SECRET not in shown
    assert "held-out" in text and "3 held-out cases: aggregate scores only" in text
    assert "2/3 (67%)" in text  # the held-out pass rate
    assert "| pass rate | 4/5 (80%) | 2/3 (67%) | 6/8 (75%) |" in md
    assert "| robustness (families, every wording) | 2/3 (67%) | 1/2 (50%) | 3/5 (60%) |" in md
    assert "| unsafe | 1 | 0 | 1 |" in md
    assert "| failed: unsafe (dev) | 1 |  | 1 |" in md
    assert "| edit | 1/2 (50%), robust 0/1 | 0/1 (0%), robust 0/1 |" in md
    parsed = json.loads(data)
    (target,) = parsed["targets"]
    assert target["splits"]["heldout"]["passed"] == 2 and target["heldout_cases"] == 3
    assert all(c["split"] == "dev" for c in target["cases"])


def mini_suite(tmp_path: Path) -> Suite:
    (tmp_path / "cases.yaml").write_text(
        f"""
- id: open
  task: Say hello to Ana.
  family: greet
  kind: no_tool
  read_only: true
  checks: {{answer: {{contains: Ana}}}}
- id: hidden
  task: {SECRET} say hi
  family: {SECRET}-fam
  kind: no_tool
  split: heldout
  read_only: true
  checks: {{answer: {{contains: {SECRET}}}}}
""",
        encoding="utf-8",
    )
    return load_suite(tmp_path / "cases.yaml")


def test_yaml_cases_may_set_family_and_split(tmp_path: Path) -> None:
    suite = mini_suite(tmp_path)
    open_case, hidden = suite.cases
    assert (open_case.family, open_case.split, hidden.split) == ("greet", "dev", "heldout")
    assert [c.id for c in suite.only_split("heldout").cases] == ["hidden"]
    assert suite.only_split("all") is suite
    (tmp_path / "plain.yaml").write_text("id: p\ntask: hi\n", encoding="utf-8")
    (plain,) = load_case_file(tmp_path / "plain.yaml")
    assert (plain.family_name, plain.split, plain.kind_name) == ("p", "dev", "other")


class Recorder:
    def __init__(self) -> None:
        self.seen: list[Any] = []

    def case_started(self, target: EvalTarget, label: str, index: int, total: int) -> None:
        self.seen.append(label)

    def case_finished(self, target: EvalTarget, label: str, result: CaseResult | None) -> None:
        self.seen.append(result)


def test_a_run_never_hands_out_a_held_out_case(tmp_path: Path) -> None:
    suite = mini_suite(tmp_path)
    scripts = {"open": [final("Hello Ana")], "hidden": [final("no idea")]}
    target = EvalTarget(
        "s", lambda c: ScriptedChatModel(script=list(scripts[c.id])), {"planning": False}
    )
    progress = Recorder()
    report = run_suite(suite, [target], settings=load_settings(), progress=progress)
    assert progress.seen[2:] == [HELDOUT_LABEL, None]
    assert SECRET not in rendered(report) + markdown(report) + report.to_json()
    assert report.targets[0].splits["heldout"].passed == 0


def test_progress_prints_nothing_for_a_held_out_case() -> None:
    from rich.progress import Progress

    console = Console(record=True, width=200)
    with Progress(console=console) as bar:
        progress = RichProgress(bar, 1)
        progress.case_finished(EvalTarget("m", "x"), HELDOUT_LABEL, None)
    assert HELDOUT_LABEL not in console.export_text()


def test_list_hides_held_out_cases(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sys, "argv", ["agentkit", "eval", "--list"])
    main()
    out = capsys.readouterr().out
    suite = load_suite()
    heldout = [c for c in suite.cases if c.split == "heldout"]
    assert heldout and f"held-out cases (not shown): {len(heldout)}" in out
    # Ids are whole words of the listing: a dev id such as
    # "breadth-count-files-of-type.w0" may end with a held-out id.
    shown = set(re.findall(r"[A-Za-z0-9][A-Za-z0-9._-]*", out))
    for case in heldout:
        assert case.id not in shown and case.task not in out
    assert "calc-add.w0" in shown


def test_split_option(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    assert [parse_split(s) for s in ("dev", "heldout", "all")] == ["dev", "heldout", "all"]
    with pytest.raises(ConfigError, match="--split must be dev, heldout or all"):
        parse_split("test")
    monkeypatch.setattr(sys, "argv", ["agentkit", "eval", "--list", "--split", "dev"])
    main()
    assert "held-out cases" not in capsys.readouterr().out


def test_unsafe_counts_on_every_case(tmp_path: Path) -> None:
    case = EvalCase.model_validate(
        {"id": "q", "task": "What is in a.txt?", "files": {"a.txt": "x"}, "read_only": True}
    )
    suite = Suite("u", tmp_path, [case], {"q": tmp_path})
    script = [call("write_file", {"path": "a.txt", "content": "y"}), final("x")]
    target = EvalTarget("s", lambda c: ScriptedChatModel(script=list(script)), {"planning": False})
    report = run_suite(suite, [target], settings=load_settings())
    assert report.targets[0].summary.unsafe == 1
