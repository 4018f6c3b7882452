"""``agentkit eval``: case files and their validation, every check kind,
failure classes from scripted runs through the real Agent and tools, the
JSON report, the tables, and (marked ``model``) the bundled model end to end."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from langchain_core.embeddings import DeterministicFakeEmbedding
from langchain_core.messages import BaseMessage, HumanMessage
from rich.console import Console

from agentkit.cli import main
from agentkit.cli.eval_cmd import build_targets, parse_option
from agentkit.config import Settings, load_settings
from agentkit.errors import ConfigError
from agentkit.evals import (
    AgentHarness,
    CaseError,
    CaseResult,
    EvalCase,
    EvalReport,
    EvalTarget,
    Suite,
    Trace,
    load_case_file,
    load_suite,
    run_case,
    run_suite,
)
from agentkit.evals.cases import FINAL_ANSWER, MEMORY_TOOL_NAMES, AnswerCheck, FileCheck
from agentkit.evals.checks import RunOutcome, check_answer, check_file, numbers_in, run_checks
from agentkit.evals.report import markdown, render_cases, render_summary
from agentkit.evals.sandbox import EVAL_PORT, CaseEnv, PageServer
from agentkit.evals.trace import CallRecord
from agentkit.testing import ScriptedChatModel, call, final, invalid_call
from agentkit.tools.registry import BUILTIN_NAMES

NO_PLAN = AgentHarness(planning=False)


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No user config or data dir leaks into a run."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("AGENTKIT_CONFIG", raising=False)
    monkeypatch.setenv("AGENTKIT_DATA_DIR", str(tmp_path / "data"))


def make_case(**fields: Any) -> EvalCase:
    return EvalCase.model_validate({"id": "c", "task": "do it", **fields})


def run(
    case: EvalCase, script: list[Any], settings: Settings | None = None, **kw: Any
) -> CaseResult:
    model = ScriptedChatModel(script=script, repeat_last=kw.pop("repeat_last", False))
    return run_case(case, model, settings or load_settings(), harness=NO_PLAN, **kw)


def write_yaml(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


# --- the built-in suite ------------------------------------------------------------------


def test_builtin_suite_covers_every_tool_and_no_tool_cases() -> None:
    suite = load_suite()
    assert len(suite.cases) >= 200
    assert len({c.id for c in suite.cases}) == len(suite.cases)
    expected = {t for c in suite.cases for t in [*c.expected_first_tools(), *c.checks.tools_called]}
    assert set(BUILTIN_NAMES) - {"think"} <= expected
    assert set(MEMORY_TOOL_NAMES) <= expected
    no_tool = [c for c in suite.cases if c.expected_first_tools() == [FINAL_ANSWER]]
    assert len(no_tool) >= 6
    assert all(c.read_only for c in no_tool)
    assert any("{base_url}" in c.task for c in suite.cases)


def test_select_cases_by_glob_or_word() -> None:
    suite = load_suite()
    assert [c.id for c in suite.select(["calc-add.w1"]).cases] == ["calc-add.w1"]
    assert [c.id for c in suite.select(["calc-add"]).cases] == [f"calc-add.w{i}" for i in range(4)]
    assert all(c.id.startswith("edit-") for c in suite.select(["edit-*"]).cases)
    with pytest.raises(CaseError, match="no case id matches nothing-like-this"):
        suite.select(["nothing-like-this"])


# --- loading and validation errors -----------------------------------------------------


def test_file_with_one_case_or_a_list(tmp_path: Path) -> None:
    one = write_yaml(tmp_path / "one.yaml", "id: a\ntask: say hi\n")
    many = write_yaml(tmp_path / "many.yaml", "- id: b\n  task: x\n- id: c\n  task: y\n")
    assert [c.id for c in load_case_file(one)] == ["a"]
    assert [c.id for c in load_suite(tmp_path).cases] == ["b", "c", "a"]  # files in name order
    assert load_suite(many).name == "many"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "- id: x\n  task: t\n  checks:\n    files:\n      a.txt: {contians: hi}\n",
            "case 'x': checks.files['a.txt'].contians: unknown field",
        ),
        ("- id: x\n", "case 'x': task: required field missing"),
        (
            "- id: x\n  task: t\n  tools: [read_fil]\n",
            "case 'x': tools[0]: unknown tool 'read_fil'",
        ),
        (
            "- id: x\n  task: t\n  checks: {answer: {regex: '(('}}\n",
            "checks.answer.regex: invalid regular expression",
        ),
        (
            "- id: x\n  task: t\n  files: {/etc/passwd: x}\n",
            "must be a relative path inside the workspace",
        ),
        ("- id: x\n  task: get {base_url}/a\n", "no http_pages"),
        (
            "- id: x\n  task: t\n  tools: [calculator]\n  expect_first_tool: shell\n",
            "tool 'shell' is expected but not offered",
        ),
        ("- id: x\n  task: t\n  checks: {answer: {contains: 5}}\n", "checks.answer.contains:"),
        ("- id: x\n  task: t\n  checks: {files: {a.txt: {}}}\n", "a file check needs at least one"),
        ("- id: x\n  task: t\n  policy: {tools: {shell: maybe}}\n", "policy.tools.shell:"),
        ("- task: t\n", "case #1: id: required field missing"),
        ("- id: x\n  task: [unclosed\n", "invalid YAML at line"),
        ("just a string\n", "expected a case (a mapping) or a list of cases"),
    ],
)
def test_bad_case_file_is_one_line_naming_file_and_field(
    tmp_path: Path, text: str, message: str
) -> None:
    path = write_yaml(tmp_path / "bad.yaml", text)
    with pytest.raises(CaseError) as info:
        load_case_file(path)
    text_of_error = str(info.value)
    assert "\n" not in text_of_error
    assert text_of_error.startswith(str(path))
    assert message in text_of_error


def test_duplicate_ids_and_missing_suites(tmp_path: Path) -> None:
    write_yaml(tmp_path / "a.yaml", "id: same\ntask: x\n")
    write_yaml(tmp_path / "b.yaml", "id: same\ntask: y\n")
    with pytest.raises(CaseError, match="case id 'same' is also used in"):
        load_suite(tmp_path)
    with pytest.raises(CaseError, match="no suite 'nowhere'"):
        load_suite("nowhere")
    (tmp_path / "empty").mkdir()
    with pytest.raises(CaseError, match="has no cases"):
        load_suite(tmp_path / "empty")


def test_cli_bad_case_file_exits_2_with_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    write_yaml(tmp_path / "bad.yaml", "- id: x\n  task: t\n  chekcs: {}\n")
    monkeypatch.setattr(sys, "argv", ["agentkit", "eval", str(tmp_path / "bad.yaml")])
    with pytest.raises(SystemExit) as info:
        main()
    err = capsys.readouterr().err.strip()
    assert info.value.code == 2
    assert err == f"error: {tmp_path / 'bad.yaml'}: case 'x': chekcs: unknown field"


def test_cli_draw_of_a_yaml_suite_exits_2_with_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    write_yaml(tmp_path / "c.yaml", "id: a\ntask: hi\n")
    suite = str(tmp_path / "c.yaml")
    monkeypatch.setattr(sys, "argv", ["agentkit", "eval", suite, "--draw", "2"])
    with pytest.raises(SystemExit) as info:
        main()
    assert info.value.code == 2
    err = capsys.readouterr().err.strip()
    assert err == f"error: --draw draws the built-in suite's families again, not {suite!r}"


def test_bad_option_is_refused_before_any_model_loads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    write_yaml(tmp_path / "c.yaml", "id: a\ntask: hi\n")
    monkeypatch.setattr(
        sys, "argv", ["agentkit", "eval", str(tmp_path / "c.yaml"), "--set", "temperature=hot"]
    )
    with pytest.raises(SystemExit) as info:
        main()
    assert info.value.code == 2
    assert capsys.readouterr().err.strip().startswith("error: invalid option 'temperature':")
    scripted = EvalTarget(
        "x", lambda c: ScriptedChatModel(script=[final("hi")]), {"no_such_setting": 1}
    )
    with pytest.raises(ConfigError, match="unknown option 'no_such_setting'"):
        run_suite(load_suite(tmp_path / "c.yaml"), [scripted])


def test_missing_model_file_is_a_usage_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "nope.gguf"
    monkeypatch.setattr(
        sys, "argv", ["agentkit", "eval", "-k", "calc-add", "--model", str(missing)]
    )
    with pytest.raises(SystemExit) as info:
        main()
    assert info.value.code == 2
    assert capsys.readouterr().err.strip().startswith(f"error: model file {missing} does not exist")


def test_list_prints_the_suite(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sys, "argv", ["agentkit", "eval", "--list", "--case", "calc"])
    main()
    out = capsys.readouterr().out
    assert "calc-multiply.w0" in out and "read-config-value" not in out


def test_options_and_variants_make_targets() -> None:
    assert parse_option("planning=false", "--set") == ("planning", False)
    assert parse_option("temperature=0.3", "--set") == ("temperature", 0.3)
    assert parse_option("chat_format=gemma", "--set") == ("chat_format", "gemma")
    assert parse_option("steering.mode=on", "--set") == ("steering.mode", "on")
    with pytest.raises(ConfigError, match="expected KEY=VALUE"):
        parse_option("planning", "--set")
    targets = build_targets(
        ["bundled:gemma3-270m", "/models/other.gguf"],
        ["base", "noplan:planning=false"],
        ["n_ctx=4096"],
    )
    assert [t.label for t in targets] == [
        "bundled:gemma3-270m · base",
        "bundled:gemma3-270m · noplan",
        "other.gguf · base",
        "other.gguf · noplan",
    ]
    assert targets[1].options == {"n_ctx": 4096, "planning": False}
    assert targets[1].make_harness() == AgentHarness(planning=False)
    assert targets[1].settings_overrides()["model"] == "bundled:gemma3-270m"
    twice = build_targets(["a.gguf", "a.gguf"], [], [])
    assert [t.label for t in twice] == ["a.gguf", "a.gguf #2"]


# --- check kinds --------------------------------------------------------------------------


def outcome(
    tmp_path: Path,
    answer: str = "",
    calls: list[CallRecord] | None = None,
    memories: list[str] | None = None,
    steps: int = 1,
) -> RunOutcome:
    trace = Trace(status="finished", answer=answer, calls=calls or [], steps=steps)
    return RunOutcome(tmp_path, trace, memories or [])


@pytest.mark.parametrize(
    ("content", "check", "passes"),
    [
        ("hello world\n", {"contains": "hello"}, True),
        ("hello world\n", {"contains": ["hello", "moon"]}, False),
        ("hello world\n", {"not_contains": "moon"}, True),
        ("hello world\n", {"not_contains": ["world"]}, False),
        ("hello world\n", {"equals": "hello world"}, True),  # trailing newline ignored
        ("hello world\n", {"equals": "Hello world"}, False),
        ("a = 1\nlevel = DEBUG\n", {"regex": "^level = DEBUG$"}, True),
        ("level = INFO\n", {"regex": "DEBUG"}, False),
        (
            '{"server": {"ports": [80, 443]}}',
            {"json_path": {"path": "server.ports[1]", "equals": 443}},
            True,
        ),
        (
            '{"server": {"ports": [80]}}',
            {"json_path": {"path": "server.ports[1]", "equals": 443}},
            False,
        ),
        ('{"a": 1', {"json_path": {"path": "a", "equals": 1}}, False),
        (None, {"absent": True}, True),
        ("x", {"absent": True}, False),
        ("start", {"unchanged": True}, True),
        ("changed", {"unchanged": True}, False),
        (None, {"contains": "x"}, False),
    ],
)
def test_file_checks(
    tmp_path: Path, content: str | None, check: dict[str, Any], passes: bool
) -> None:
    if content is not None:
        (tmp_path / "f.json").write_text(content)
    results = check_file(
        "f.json", FileCheck.model_validate(check), outcome(tmp_path), initial="start"
    )
    assert results and all(r.passed for r in results) is passes, results


def test_toml_json_path(tmp_path: Path) -> None:
    (tmp_path / "s.toml").write_text("[network]\ntimeout = 30\n")
    check = FileCheck.model_validate({"json_path": {"path": "network.timeout", "equals": 30}})
    assert all(r.passed for r in check_file("s.toml", check, outcome(tmp_path), None))


@pytest.mark.parametrize(
    ("answer", "check", "passes"),
    [
        ("The answer is Paris.", {"contains": ["paris", "lyon"]}, True),  # any of, any case
        ("The answer is Rome.", {"contains": ["paris", "lyon"]}, False),
        ("q1.md and q2.md", {"contains_all": ["q1.md", "q2.md"]}, True),
        ("only q1.md", {"contains_all": ["q1.md", "q2.md"]}, False),
        ("no changelog here", {"not_contains": "CHANGELOG"}, False),
        ("It is 14:05 now", {"regex": r"\d{1,2}:\d{2}"}, True),
        ("It is late", {"regex": r"\d{1,2}:\d{2}"}, False),
        ("37 x 12 = 444", {"number": 444}, True),
        ("about 1,250.5 units", {"number": 1250.5}, True),
        ("2.499", {"number": 2.5, "tolerance": 0.01}, True),
        ("2.4", {"number": 2.5, "tolerance": 0.01}, False),
        ("no number", {"number": 3}, False),
    ],
)
def test_answer_checks(answer: str, check: dict[str, Any], passes: bool) -> None:
    results = check_answer(AnswerCheck.model_validate(check), answer)
    assert results and all(r.passed for r in results) is passes, results


def test_numbers_in_keeps_lists_apart() -> None:
    assert numbers_in("3, 4 and 1,234 or -5.5") == [3.0, 4.0, 1234.0, -5.5]


def test_tool_memory_and_step_checks(tmp_path: Path) -> None:
    calls = [
        CallRecord(call_id="1", tool="read_file", outcome="ok"),
        CallRecord(call_id="2", tool="shell", outcome="error"),
    ]
    case = make_case(
        checks={
            "tools_called": ["read_file", "shell"],
            "tools_not_called": ["shell"],
            "memory": {"contains": "teal"},
            "max_steps": 2,
        }
    )
    results = {
        r.name: r.passed
        for r in run_checks(
            case, outcome(tmp_path, calls=calls, memories=["Favourite colour: teal"], steps=3)
        )
    }
    assert results == {
        "run finished": True,
        "read_file called": True,
        "shell called": False,
        "shell not called": False,
        "a memory contains one of ['teal']": True,
        "at most 2 steps": False,
    }


# --- failure classes from scripted runs --------------------------------------------------


READ_CASE = {  # a wrong first tool alone does not fail a case; these checks do
    "task": "What does a.txt say?",
    "files": {"a.txt": "plums"},
    "read_only": True,
    "expect_first_tool": "read_file",
    "checks": {"answer": {"contains": "plums"}, "tools_called": ["read_file"]},
}


def test_pass_records_calls_tokens_and_metrics() -> None:
    result = run(
        make_case(**READ_CASE), [call("read_file", {"path": "a.txt"}), final("It says plums.")]
    )
    assert result.passed and result.failure is None
    assert [c.tool for c in result.calls] == ["read_file", "final_answer"]
    assert result.calls[0].outcome == "ok" and "plums" in result.calls[0].output
    assert result.right_first_tool is True and result.steps == 2
    assert result.model_calls == 2 and result.prompt_tokens > 0 and result.generated_tokens > 0
    assert result.approvals == []  # reads are allowed without asking


@pytest.mark.parametrize(
    ("script", "failure", "detail"),
    [
        (
            [call("calculator", {"expression": "1+1"}), final("plums")],
            "wrong_tool",
            "first call calculator",
        ),
        (
            [call("read_file", {"path": "file_path"}), final("no idea")],
            "bad_argument",
            "does not exist",
        ),
        (
            [call("read_file", {"start_line": "x"}), final("no idea")],
            "bad_argument",
            "invalid arguments",
        ),
        (
            [invalid_call("read_file", '{"path": "aaaaaaaaaaaa'), final("no idea")],
            "invalid_call",
            "unparseable",
        ),
        ([call("read_fiel", {"path": "a.txt"}), final("no idea")], "invalid_call", "unknown_tool"),
        ([invalid_call("?", "{{{"), final("no idea")], "invalid_call", "unparseable: ?"),
        ([call("read_file", {"path": "a.txt"})], "loop", "repeated identical call"),
        (
            [call("read_file", {"path": "a.txt"}), final("It says pears.")],
            "check_failed",
            "answer contains",
        ),
        (
            [call("write_file", {"path": "a.txt", "content": "x"}), final("plums")],
            "unsafe",
            "on a read-only task",
        ),
        (
            [call("calculator", {"expression": "1+1"}), final("2")],
            "wrong_tool",
            "first call calculator",
        ),
        (
            [
                call("read_file", {"path": "a.txt"}),
                call("write_file", {"path": "a.txt", "content": "x"}),
                final("plums"),
            ],
            "unsafe",
            "write_file a.txt on a read-only task",
        ),
        (
            [call("read_file", {"path": "a.txt"})] * 1,
            "error",
            "IndexError",
        ),  # script runs out: a harness error
    ],
)
def test_failure_classes(script: list[Any], failure: str, detail: str) -> None:
    repeat = failure == "loop"
    result = run(make_case(**READ_CASE), script, repeat_last=repeat)
    assert not result.passed
    assert result.failure == failure, result.failure_detail
    assert detail in result.failure_detail


def test_required_tool_never_called_is_a_wrong_tool() -> None:
    case = make_case(**{**READ_CASE, "expect_first_tool": None})
    result = run(case, [call("list_dir", {}), final("plums")])
    assert (result.failure, result.failure_detail) == ("wrong_tool", "never called read_file")


def test_no_answer_when_a_budget_stops_the_run() -> None:
    result = run(
        make_case(**READ_CASE),
        [call("read_file", {"path": "a.txt"}), final("plums")],
        settings=load_settings(max_run_tokens=1),
    )
    assert (result.failure, result.status) == ("no_answer", "stopped")
    assert "token budget" in result.failure_detail


def test_unsafe_change_to_a_file_the_task_did_not_name() -> None:
    case = make_case(task="Write hi to out.txt", checks={"files": {"out.txt": {"equals": "hi"}}})
    result = run(
        case,
        [
            call("write_file", {"path": "out.txt", "content": "hi"}),
            call("write_file", {"path": "file_path", "content": "hi"}),
            final("done"),
        ],
    )
    assert result.failure == "unsafe"
    assert result.unsafe == ["changed file_path, which the task did not name"]
    assert result.changed_files == ["file_path", "out.txt"]
    assert [a.tool for a in result.approvals] == ["write_file", "write_file"]
    assert all(a.approved for a in result.approvals)


def test_shell_side_effects_count_and_may_change_widens() -> None:
    script = [call("shell", {"command": "touch made.txt"}), final("done")]
    assert run(make_case(task="touch it"), script).failure == "unsafe"
    assert run(make_case(task="touch it", may_change=["made.txt"]), script).passed


def test_snapshot_sees_links_without_following_them(tmp_path: Path) -> None:
    from agentkit.evals.sandbox import changed_files, snapshot

    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "x.txt").write_text("1")
    before = snapshot(tmp_path)
    (tmp_path / "root").symlink_to("/")
    (tmp_path / "a" / "x.txt").write_text("2")
    after = snapshot(tmp_path)
    assert after["root"] == "link:/"
    assert changed_files(before, after) == ["a/x.txt", "root"]


def test_loop_after_the_task_is_done_is_a_loop_not_a_pass() -> None:
    case = make_case(task="Write hi to out.txt", checks={"files": {"out.txt": {"equals": "hi"}}})
    result = run(case, [call("write_file", {"path": "out.txt", "content": "hi"})], repeat_last=True)
    assert result.failure == "loop"
    assert next(c for c in result.checks if c.name == "run finished").passed is False


def test_approve_none_rejects_and_is_recorded() -> None:
    case = make_case(
        task="Write hi to out.txt", approve="none", checks={"files": {"out.txt": {"equals": "hi"}}}
    )
    result = run(
        case, [call("write_file", {"path": "out.txt", "content": "hi"}), final("could not")]
    )
    assert result.calls[0].outcome == "rejected"
    assert [a.approved for a in result.approvals] == [False]
    assert result.failure == "check_failed"


def test_case_policy_applies() -> None:
    case = make_case(
        task="Write hi to out.txt",
        policy={"tools": {"write_file": "deny"}},
        checks={"files": {"out.txt": {"equals": "hi"}}},
    )
    result = run(case, [call("write_file", {"path": "out.txt", "content": "hi"}), final("denied")])
    assert result.calls[0].outcome == "denied" and result.calls[0].valid
    assert result.approvals == []


def test_http_pages_are_served_locally_and_allowed() -> None:
    case = make_case(
        task="Fetch {base_url}/index.html and give the title",
        http_pages={"/index.html": "<title>Acme</title>"},
        read_only=True,
        checks={"answer": {"contains": "Acme"}},
    )

    def fetch(messages: list[BaseMessage]) -> Any:
        task = next(str(m.content) for m in messages if isinstance(m, HumanMessage))
        url = re.search(r"http://\S+", task).group()
        return call("http_get", {"url": url})

    result = run(case, [fetch, final("The title is Acme")])
    assert result.passed, result.failure_detail
    assert "title: Acme" in result.calls[0].output  # the page shown as its text
    assert result.calls[0].args["url"].startswith("http://127.0.0.1:")
    outside = run(case, [call("http_get", {"url": "http://example.com/"}), final("Acme")])
    assert "not in http_allowed_hosts" in outside.calls[0].output


def citation(messages: list[BaseMessage], name: str) -> str:
    text = "\n".join(str(m.content) for m in messages)
    found = re.search(rf"[^\s\[]*{re.escape(name)}:[0-9-]+", text)
    assert found, text
    return found.group()


def test_memory_cases_get_the_knowledge_base_tools() -> None:
    fake = DeterministicFakeEmbedding(size=16)
    remember = make_case(
        task="Remember that my favourite colour is teal.",
        read_only=True,
        checks={"memory": {"contains": "teal"}},
    )
    result = run(
        remember,
        [call("remember", {"text": "Favourite colour: teal"}), final("Noted.")],
        embeddings=fake,
    )
    assert result.passed, result.failure_detail
    docs = make_case(
        task="Search the docs for the wifi password",
        read_only=True,
        docs={"office.md": "# Office\nThe wifi password is Orchard-42.\n"},
        checks={"answer": {"contains_all": ["Orchard-42", "office.md"]}},
    )
    result = run(
        docs,
        [
            call("search_docs", {"query": "wifi password"}),
            lambda m: final(f"Orchard-42 [{citation(m, 'office.md')}]"),
        ],
        embeddings=fake,
    )
    assert result.passed, result.failure_detail


def test_validity_counts_only_calls_that_parsed_and_validated() -> None:
    result = run(
        make_case(**READ_CASE),
        [
            invalid_call("read_file", "{{{"),
            call("nope", {}),
            call("read_file", {"path": "a.txt"}),
            final("plums"),
        ],
    )
    assert [c.valid for c in result.calls] == [False, False, True, True]
    assert result.runaways == 1  # the scripted runaway ended at max_tokens


# --- reports --------------------------------------------------------------------------------


def two_target_report(tmp_path: Path) -> EvalReport:
    cases = [
        make_case(id="read", **READ_CASE),
        make_case(
            id="hello",
            task="Say hello to Ana.",
            read_only=True,
            expect_first_tool="final_answer",
            checks={"answer": {"contains": "Ana"}},
        ),
    ]
    suite = Suite("mini", tmp_path, cases, {c.id: tmp_path / "mini.yaml" for c in cases})
    good = {
        "read": [call("read_file", {"path": "a.txt"}), final("plums")],
        "hello": [final("Hello Ana!")],
    }
    bad = {
        "read": [call("calculator", {"expression": "2*2"}), final("4")],
        "hello": [final("Hello!")],
    }
    targets = [
        EvalTarget("good", lambda c: ScriptedChatModel(script=good[c.id]), {"planning": False}),
        EvalTarget("bad", lambda c: ScriptedChatModel(script=bad[c.id]), {"planning": False}),
    ]
    return run_suite(suite, targets, settings=load_settings())


def test_json_report_schema(tmp_path: Path) -> None:
    report = two_target_report(tmp_path)
    path = tmp_path / "out" / "eval.json"
    report.write(path)
    data = json.loads(path.read_text())
    assert data["schema_version"] == 2
    assert set(data) == {
        "schema_version",
        "suite",
        "suite_path",
        "started",
        "seconds",
        "max_steps",
        "machine",
        "targets",
    }
    good, bad = data["targets"]
    assert (good["label"], good["options"]) == ("good", {"planning": False})
    assert set(good) == {
        "label",
        "model",
        "options",
        "summary",
        "splits",
        "kinds",
        "cases",
        "heldout_cases",
    }
    assert set(good["summary"]) >= {
        "cases",
        "passed",
        "pass_rate",
        "families",
        "robust_families",
        "robustness",
        "unsafe",
        "median_seconds",
        "mean_steps",
        "calls",
        "valid_calls",
        "validity",
        "right_first_tool_rate",
        "mean_prompt_tokens",
        "mean_generated_tokens",
        "mean_tokens",
        "mean_seconds",
        "failures",
    }
    assert good["summary"]["pass_rate"] == 1.0 and good["summary"]["right_first_tool_rate"] == 1.0
    assert bad["summary"]["failures"] == {"wrong_tool": 1, "check_failed": 1}
    case = bad["cases"][0]
    assert set(case) >= {
        "id",
        "passed",
        "failure",
        "failure_detail",
        "checks",
        "unsafe",
        "changed_files",
        "first_tool",
        "right_first_tool",
        "status",
        "answer",
        "steps",
        "calls",
        "approvals",
        "prompt_tokens",
        "generated_tokens",
        "seconds",
    }
    assert (case["id"], case["failure"], case["first_tool"]) == ("read", "wrong_tool", "calculator")
    assert (case["family"], case["split"], case["kind"]) == ("read", "dev", "other")
    assert EvalReport.model_validate_json(path.read_text()) == report


def test_tables_put_targets_side_by_side(tmp_path: Path) -> None:
    report = two_target_report(tmp_path)
    console = Console(record=True, width=200)
    console.print(render_cases(report))
    console.print(render_summary(report))
    text = console.export_text()
    assert "good" in text and "bad" in text and "[planning=False]" in text
    assert re.search(r"read\s+│ pass.*│ wrong_tool", text)
    assert re.search(r"hello\s+│ pass.*│ check_failed", text)
    assert re.search(r"pass rate\s+│\s+2/2 \(100%\) │\s+0/2 \(0%\)", text)
    md = markdown(report)
    assert "| pass rate | 2/2 (100%) | 0/2 (0%) |" in md
    assert "| robustness (families, every wording) | 2/2 (100%) | 0/2 (0%) |" in md
    assert "| read | pass | wrong_tool |" in md


# --- the bundled model (plumbing: structure, not pass/fail) -------------------------------


@pytest.mark.model
@pytest.mark.slow
def test_real_model_runs_builtin_cases_end_to_end() -> None:
    suite = load_suite().select(["calc-add.w0", "write-text.w0", "greet-person.w0"])
    # Short generations keep a runaway call from taking a minute; the plan call stays on.
    report = run_suite(
        suite, [EvalTarget("gemma", "bundled:gemma3-270m", {"max_tokens": 96})], max_steps=3
    )
    (target,) = report.targets
    assert [c.id for c in target.cases] == [c.id for c in suite.cases]
    for result in target.cases:
        assert result.error == "", result.error
        assert result.status in ("finished", "stopped")
        assert result.model_calls >= 1 and result.prompt_tokens > 0 and result.seconds > 0
        assert result.passed or result.failure is not None
    assert 0.0 <= target.summary.validity <= 1.0


@pytest.mark.model
@pytest.mark.slow
def test_cli_two_models_side_by_side(tmp_path: Path, bundled_model_path: Path) -> None:
    out = tmp_path / "eval.json"
    done = subprocess.run(
        [
            str(Path(sys.executable).parent / "agentkit"),
            "eval",
            "-k",
            "greet-person.w0",
            "-k",
            "reply-word.w0",
            "--model",
            "bundled:gemma3-270m",
            "--model",
            str(bundled_model_path),
            "--set",
            "planning=false",
            "--set",
            "max_tokens=64",
            "--max-steps",
            "2",
            "--json",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=900,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert any("bundled:gemma3-270m" in line and bundled_model_path.name in line for line in lines)
    pass_rate = next(line for line in lines if line.strip("│┃ ").startswith("pass rate"))
    assert len(re.findall(r"\d/2 \(\d+%\)", pass_rate)) == 2  # one column per model
    assert "greet-person.w0" in done.stdout
    data = json.loads(out.read_text())
    assert [len(t["cases"]) for t in data["targets"]] == [2, 2]


def test_the_page_server_keeps_one_port_so_runs_read_the_same_urls() -> None:
    """The URL is part of the task the model reads: a port drawn at random
    made two runs of the same code differ. A second server beside the first
    (another eval running) falls back to a free port."""
    first, second = PageServer({"/a": "x"}), PageServer({"/a": "y"})
    try:
        assert first.base_url != second.base_url
        with urllib.request.urlopen(f"{second.base_url}/a", timeout=5) as reply:
            assert reply.read() == b"y"
    finally:
        first.close()
        second.close()
    again = PageServer({})
    again.close()
    if first.base_url.endswith(f":{EVAL_PORT}"):  # else something else holds it
        assert again.base_url == first.base_url


def test_a_cases_memories_are_seeded_the_same_every_run() -> None:
    """Recall shows the model each memory's id and date: drawn afresh, they
    made two runs of the same code differ. Seeded ones are the same every
    run, a minute apart in the case's order."""
    fake = DeterministicFakeEmbedding(size=16)
    case = make_case(task="what did I say?", memories=["gate B12", "seat 14C"], read_only=True)
    seen = []
    for _ in range(2):
        with CaseEnv(case, load_settings(), embeddings=fake) as env:
            assert env.kb is not None
            seen.append([(m.id, m.text, m.created_at) for m in env.kb.memories.list()])
    assert seen[0] == seen[1]
    assert [text for _, text, _ in seen[0]] == ["seat 14C", "gate B12"]  # newest first
