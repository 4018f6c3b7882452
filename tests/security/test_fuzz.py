"""Property-based tests (hypothesis) for the parts an attacker feeds with
arbitrary input: the shell danger grader, the path resolver, the policy's
path matcher and the model-output parser. Example counts are set so the
security suite stays under a minute; ``pytest --hypothesis-show-statistics``
prints how many ran, and ``AGENTKIT_FUZZ_SCALE=20`` multiplies them."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from langchain_core.messages import AIMessage
from langchain_core.messages.tool import tool_call
from langchain_core.tools import BaseTool, StructuredTool
from langgraph.checkpoint.memory import InMemorySaver

from agentkit.agent import Agent
from agentkit.approvals.policy import Policy
from agentkit.config import load_settings
from agentkit.models.calls import parse_tool_calls
from agentkit.models.prompt import TOOL_CALL_CLOSE, TOOL_CALL_OPEN
from agentkit.testing import ScriptedChatModel, final
from agentkit.tools.base import declare
from agentkit.tools.files import file_tools
from agentkit.tools.globs import glob_match
from agentkit.tools.limits import ToolLimits
from agentkit.tools.shell_danger import classify
from agentkit.tools.workspace import PathRefused, Workspace

# AGENTKIT_FUZZ_SCALE=20 runs twenty times as many examples (a deeper search).
SCALE = float(os.environ.get("AGENTKIT_FUZZ_SCALE", "1"))


def examples(n: int) -> int:
    return max(1, int(n * SCALE))


FAST = settings(
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    database=None,
)

# --- the shell danger grader ------------------------------------------------------------------

READ_ONLY = st.sampled_from(
    [
        "ls",
        "ls -la notes",
        "cat a.txt",
        "echo hi",
        "grep -n x a.txt",
        "wc -l a.txt",
        "head -n 3 a.txt",
        "pwd",
        "date",
        "true",
        "sort a.txt",
        "git status",
        "git log --oneline",
        "stat a.txt",
    ]
)
# Commands that write or run code: none may ever grade `safe`.
WRITES_OR_RUNS = st.sampled_from(
    [
        "touch f",
        "cp a.txt b.txt",
        "mv a.txt b.txt",
        "tee out.txt",
        "mkdir d",
        "ln -s a.txt l",
        "rm a.txt",
        "rmdir d",
        "sed -i s/a/b/ a.txt",
        "chmod +x run.sh",
        "dd if=a.txt of=b.txt",
        "truncate -s 0 a.txt",
        "install a.txt b.txt",
        "patch -p1",
        "git config core.pager less",
        "git commit -m x",
        "git checkout .",
        "git -c core.pager=sh log",
        "bash -c 'touch f'",
        "sh run.sh",
        "python3 -c 'print(1)'",
        "node -e 1",
        "perl -e 1",
        "eval ls",
        "exec ls",
        "source env.sh",
        ". env.sh",
        "xargs touch",
        "find . -exec touch {} ;",
        "find . -delete",
        "awk 'BEGIN{system(\"touch f\")}'",
        "./run.sh",
        "make",
        "npm test",
        "curl -o f http://x",
        "env touch f",
        "sudo ls",
    ]
)
REDIRECTS = st.sampled_from(["> out.txt", ">> out.txt", "&> out.txt", "2> err.txt", ">| out.txt"])


@st.composite
def dangerous_commands(draw: st.DrawFn) -> str:
    """A random composition of the shell grammar with at least one write or
    exec construct somewhere in it."""
    read = draw(READ_ONLY)
    kind = draw(st.integers(0, 4))
    if kind == 0:
        core = draw(WRITES_OR_RUNS)
    elif kind == 1:
        core = f"{read} {draw(REDIRECTS)}"
    elif kind == 2:
        core = f"echo $({draw(WRITES_OR_RUNS)})"
    elif kind == 3:
        core = f"echo `{draw(WRITES_OR_RUNS)}`"
    else:
        core = f"cat <({draw(WRITES_OR_RUNS)})"
    if draw(st.booleans()):  # how the command word is spelled
        head, _, rest = core.partition(" ")
        spelled = draw(
            st.sampled_from(
                [head, f"'{head}'", f'"{head}"', f"\\{head}", f"/usr/bin/{head}", f"command {head}"]
            )
        )
        if head.isalpha():
            core = f"{spelled} {rest}".strip()
    for _ in range(draw(st.integers(0, 4))):
        other = draw(READ_ONLY)
        wrap = draw(st.integers(0, 19))
        core = [
            f"{other}; {core}",
            f"{core} && {other}",
            f"{other} || {core}",
            f"{other} | {core}",
            f"{core} | {other}",
            f"( {core} )",
            f"{{ {core}; }}",
            f"if {other}; then {core}; fi",
            f"for i in 1 2; do {core}; done",
            f"while {other}; do {core}; done",
            f"{other} & {core}",
            f"timeout 5 {core}",
            f"nice {core}",
            f"! {core}",
            f"until {other}; do {core}; done",
            f"case x in *) {core};; esac",
            f"f() {{ {core}; }}; f",
            f'{other} <<< "$({core})"',
            f"[[ -n $({core}) ]]",
            f"x=$({core}) {other}",
        ][wrap]
    return core


@settings(FAST, max_examples=examples(400))
@given(dangerous_commands())
def test_grader_never_calls_a_write_or_exec_construct_safe(command: str) -> None:
    assessment = classify(command, Path("/work/proj"))
    assert assessment.level != "safe", (command, assessment)


@settings(FAST, max_examples=examples(300))
@given(st.text(max_size=80))
def test_grader_never_raises(command: str) -> None:
    classify(command, Path("/work/proj"))


# --- the path resolver --------------------------------------------------------------------------

SECRET = "OUTSIDE-SECRET"


@pytest.fixture(scope="module")
def layout(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A workspace with symlinks that stay in, point out, chain, loop, and
    names in other scripts."""
    base = tmp_path_factory.mktemp("fuzz")
    root = base / "proj"
    (root / "sub" / "deep").mkdir(parents=True)
    (root / "ü名").mkdir()
    (root / "a.txt").write_text("inside")
    (root / "sub" / "deep" / "b.txt").write_text("inside")
    outside = base / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text(SECRET)
    (base / "proj-evil").mkdir()
    links = {
        "in": "sub",
        "up": "..",
        "deep_up": "sub/deep/../..",
        "out": str(outside),
        "out_rel": "../outside",
        "evil": "../proj-evil",
        "chain": "chain2",
        "chain2": "in/deep",
        "loop": "loop2",
        "loop2": "loop",
        "file_out": "../outside/secret.txt",
    }
    for name, target in links.items():
        (root / name).symlink_to(target)
    (root / "sub" / "back").symlink_to("../..")
    yield root


COMPONENTS = st.sampled_from(
    [
        "..",
        ".",
        "",
        "a.txt",
        "sub",
        "deep",
        "b.txt",
        "in",
        "up",
        "deep_up",
        "out",
        "out_rel",
        "evil",
        "chain",
        "chain2",
        "loop",
        "file_out",
        "back",
        "ü名",
        "secret.txt",
        "proj",
        "proj-evil",
        "outside",
        "x y",
        "é\u0301",
        "\u200b",
    ]
)


@st.composite
def paths(draw: st.DrawFn, root: Path) -> str:
    parts = draw(st.lists(COMPONENTS, min_size=1, max_size=7))
    path = "/".join(parts)
    prefix = draw(st.sampled_from(["", "", "", "/", str(root) + "/", str(root.parent) + "/"]))
    return prefix + path


@settings(FAST, max_examples=examples(400))
@given(data=st.data())
def test_paths_never_resolve_outside(layout: Path, data: st.DataObject) -> None:
    ws = Workspace(layout)
    path = data.draw(paths(layout))
    try:
        real = ws.resolve(path)
    except PathRefused:
        pass
    else:
        assert real.is_relative_to(layout), (path, real)
        assert Path(os.path.realpath(real)) == real
    target = ws.target(path, write=True)  # never raises
    if target.resolved is not None:
        real_target = Path(os.path.realpath(layout / target.resolved))
        assert real_target.is_relative_to(layout), (path, target)
        assert real_target == Path(os.path.realpath(layout / path)), (path, target)
    try:
        data_read, _ = ws.read_bytes(path)
    except Exception:  # noqa: BLE001 - refused, missing, a directory...
        return
    assert SECRET.encode() not in data_read


# --- the policy's path matcher -----------------------------------------------------------------

GLOB_PARTS = st.sampled_from(["sub", "in", "*", "**", "*.txt", "deep", "?.txt", "[ab]*", "up"])


@settings(FAST, max_examples=examples(300))
@given(data=st.data())
def test_a_path_rule_never_allows_outside_its_glob(layout: Path, data: st.DataObject) -> None:
    glob = "/".join(data.draw(st.lists(GLOB_PARTS, min_size=1, max_size=4)))
    path = data.draw(paths(layout))
    tool = _write_tool(layout)
    policy = Policy.from_dict(
        {"rules": [{"tool": "write_file", "action": "allow", "paths": [glob]}]}
    )
    verdict = policy.evaluate(tool, {"path": path, "content": ""})
    if verdict.action != "allow":
        return
    real = Path(os.path.realpath(path if os.path.isabs(path) else layout / path))
    assert real.is_relative_to(layout), (glob, path)
    rel = real.relative_to(layout).as_posix()
    assert glob_match(glob, rel), (glob, path, rel)
    # and it is the path as written: no symlink on the way
    lexical = Path(os.path.normpath(path if os.path.isabs(path) else layout / path))
    assert lexical == real, (glob, path, real)


_TOOLS: dict[Path, BaseTool] = {}


def _write_tool(root: Path) -> BaseTool:
    if root not in _TOOLS:
        tools = {t.name: t for t in file_tools(Workspace(root), ToolLimits())}
        _TOOLS[root] = tools["write_file"]
    return _TOOLS[root]


# --- the model-output parser and the loop -------------------------------------------------------

SCHEMAS = [
    {
        "type": "function",
        "function": {
            "name": "calculator",
            "parameters": {
                "type": "object",
                "properties": {"expression": {"type": "string"}},
                "required": ["expression"],
            },
        },
    },
    {
        "type": "function",
        "function": {
            "name": "note",
            "parameters": {
                "type": "object",
                "properties": {"text": {"type": "string"}},
                "required": ["text"],
            },
        },
    },
]
JSONISH = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=12),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)


@st.composite
def model_outputs(draw: st.DrawFn) -> str:
    """What a model might print after <tool_call>: random bytes, or JSON
    that is nearly a call, cut off or not, several blocks."""
    blocks = []
    for _ in range(draw(st.integers(1, 3))):
        if draw(st.booleans()):
            raw = draw(st.binary(max_size=120)).decode(
                "utf-8", errors=draw(st.sampled_from(["replace", "ignore", "surrogateescape"]))
            )
        else:
            name = draw(st.sampled_from(["calculator", "note", "final_answer", "", "x" * 3]))
            args = draw(
                st.one_of(st.fixed_dictionaries({"expression": st.text(max_size=10)}), JSONISH)
            )
            payload: Any = draw(
                st.sampled_from(
                    [{"name": name, "arguments": args}, {"name": name}, [name, args], name]
                )
            )
            raw = json.dumps(payload)
            if draw(st.booleans()):
                raw = raw[: draw(st.integers(0, len(raw)))]
        close = draw(
            st.sampled_from([TOOL_CALL_CLOSE, "", TOOL_CALL_CLOSE + "trailing", TOOL_CALL_OPEN])
        )
        blocks.append(TOOL_CALL_OPEN + raw + close)
    return "".join(blocks)


@settings(FAST, max_examples=examples(500))
@given(model_outputs())
def test_parser_never_raises(text: str) -> None:
    valid, invalid = parse_tool_calls(text, SCHEMAS)
    for call in valid:
        assert call["name"] in ("calculator", "note") and isinstance(call["args"], dict)
    assert len(valid) + len(invalid) <= text.count(TOOL_CALL_OPEN)


def _loop_tools(log: list[str]) -> list[BaseTool]:
    def calculator(expression: str) -> str:
        return "42"

    def note(text: str) -> str:
        log.append(text)
        return "noted"

    return [
        declare(StructuredTool.from_function(calculator, description="calc"), ["read"]),
        declare(StructuredTool.from_function(note, description="note"), ["write"]),
    ]


@settings(FAST, max_examples=examples(40))
@given(model_outputs())
def test_random_model_output_never_crashes_the_loop(tmp_path: Path, text: str) -> None:
    valid, invalid = parse_tool_calls(text, SCHEMAS)
    reply = AIMessage(
        content="",
        tool_calls=[tool_call(name=c["name"], args=c["args"], id=c["id"]) for c in valid],
        invalid_tool_calls=invalid,
        response_metadata={"invalid_tool_calls": invalid, "finish_reason": "stop"},
    )
    log: list[str] = []
    agent = Agent(
        model=ScriptedChatModel(script=[reply, final("done")]),
        tools=_loop_tools(log),
        policy=Policy.default(),
        checkpointer=InMemorySaver(),
        settings=load_settings(workspace=tmp_path, data_dir=tmp_path / "data"),
        planning=False,
    )
    result = agent.run("go")
    assert result.status in ("finished", "needs_approval", "stopped")
    assert log == []  # a write never ran without a yes
