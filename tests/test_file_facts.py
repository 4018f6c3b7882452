"""count, read_field and read_file's lines from the end: one copyable line
per fact, one-line errors that say what to do, and the grounded arguments
a small model picks from (a key of the named file, a phrase to count)."""

from __future__ import annotations

from functools import partial
from pathlib import Path

import pytest
from langchain_core.messages import ToolMessage
from langchain_core.tools import BaseTool

from agentkit.approvals.policy import Policy
from agentkit.models.grammar import RequiredChoices
from agentkit.steering.arguments import arg_choices, choices
from agentkit.steering.examples import examples_for
from agentkit.steering.grounding import file_keys, occurrence_phrases
from agentkit.tools import builtin_tools
from agentkit.tools.base import untrusted_of
from agentkit.tools.fields import (
    FieldsError,
    file_format,
    find_field,
    key_choices,
    parse_fields,
)
from agentkit.tools.files import file_tools
from agentkit.tools.limits import ToolLimits
from agentkit.tools.workspace import Workspace

CONFIG_JSON = '{"server": {"port": 8443, "tls": true}, "items": [{"name": "a"}, {"name": "b"}]}'
CONFIG_YAML = "server:\n  port: 8080\n  hosts:\n    - alpha\n    - beta\ndebug: false\n"
CONFIG_TOML = '[project]\nname = "kite"\nversion = "1.2.0"\n[tool.lint]\nline = 100\n'
CONFIG_INI = "owner = sam\n[server]\nhost = 0.0.0.0\nport = 8443\n[db]\nport = 5432\n"
DOT_ENV = "# secrets\nexport API_URL=https://api.test\nTOKEN='abc'\n"


@pytest.fixture
def root(tmp_path: Path) -> Path:
    files = {
        "notes.txt": "one two\nthree four five\n\nsix\n",
        "log.txt": "Error: disk\nok\nerror again, ERROR twice\n",
        "crlf.txt": "a b\r\nc\r\n",
        "uni.txt": "grüße welt\n",
        "empty.txt": "",
        "config.json": CONFIG_JSON,
        "config.yaml": CONFIG_YAML,
        "pyproject.toml": CONFIG_TOML,
        "server.ini": CONFIG_INI,
        ".env": DOT_ENV,
        "reports/a.md": "error\n",
        "reports/b.md": "",
        "reports/c.py": "",
        "reports/deep/d.md": "",
        "reports/deep/Makefile": "",
        "reports/.git/config": "",
        "broken.json": "{nope",
    }
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text, newline="")
    return tmp_path


@pytest.fixture
def tools(root: Path) -> dict[str, BaseTool]:
    return {t.name: t for t in file_tools(Workspace(root), ToolLimits())}


def run(tool: BaseTool, **args: object) -> ToolMessage:
    message = tool.invoke({"type": "tool_call", "name": tool.name, "args": args, "id": "t"})
    assert isinstance(message, ToolMessage)
    return message


def ok(tool: BaseTool, **args: object) -> str:
    message = run(tool, **args)
    assert message.status == "success", message.content
    return str(message.content)


def error(tool: BaseTool, **args: object) -> str:
    message = run(tool, **args)
    assert message.status == "error" and "\n" not in str(message.content), message.content
    return str(message.content)


# --- count ------------------------------------------------------------------------------


def test_count_a_file(tools: dict[str, BaseTool]) -> None:
    assert ok(tools["count"], path="notes.txt").splitlines() == [
        "notes.txt has 4 lines",
        "notes.txt has 6 words",
        "notes.txt has 29 characters",
    ]


@pytest.mark.parametrize(
    ("path", "lines"),
    [
        ("crlf.txt", ["crlf.txt has 2 lines", "crlf.txt has 3 words", "crlf.txt has 6 characters"]),
        ("uni.txt", ["uni.txt has 1 line", "uni.txt has 2 words", "uni.txt has 11 characters"]),
        (
            "empty.txt",
            ["empty.txt has 0 lines", "empty.txt has 0 words", "empty.txt has 0 characters"],
        ),
    ],
)
def test_count_crlf_unicode_and_empty(
    tools: dict[str, BaseTool], path: str, lines: list[str]
) -> None:
    assert ok(tools["count"], path=path).splitlines() == lines


def test_count_occurrences_ignoring_case(tools: dict[str, BaseTool]) -> None:
    assert ok(tools["count"], path="log.txt", text="error").splitlines() == [
        '"error" occurs 3 times in 2 lines of log.txt',
        "line numbers: 1, 3",
    ]
    assert ok(tools["count"], path="log.txt", text="zebra") == '"zebra" does not occur in log.txt'
    assert ok(tools["count"], path="log.txt", text="  ").startswith("log.txt has 3 lines")


def test_count_a_folder_by_extension(tools: dict[str, BaseTool]) -> None:
    assert ok(tools["count"], path="reports").splitlines() == [
        "reports has 5 files",
        "3 .md files",
        "1 .py file",
        "1 file without an extension",
        "reports has 1 subfolder",
    ]
    whole = ok(tools["count"], path=".").splitlines()
    assert whole[0].startswith("the workspace has ") and ".git" not in "\n".join(whole)
    assert ok(tools["count"], path="reports", text="ERROR").splitlines() == [
        '"ERROR" occurs 1 time in 1 line of 1 file under reports',
        "reports/a.md: 1 time",
    ]


def test_count_errors(tools: dict[str, BaseTool]) -> None:
    assert "does not exist" in error(tools["count"], path="missing.txt")
    assert "outside the workspace" in error(tools["count"], path="../x")


def test_count_states_no_file_content(tools: dict[str, BaseTool]) -> None:
    assert not untrusted_of(tools["count"], {"path": "log.txt", "text": "error"})
    assert untrusted_of(tools["read_field"], {"path": "config.json", "key": "x"})


# --- read_field -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "key", "line"),
    [
        ("config.json", "server.port", "server.port = 8443"),
        ("config.json", "port", "server.port = 8443"),
        ("config.json", "server.tls", "server.tls = true"),
        ("config.json", "items[1].name", "items[1].name = b"),
        ("config.json", "items.0.name", "items[0].name = a"),
        ("config.json", "server", 'server = {"port": 8443, "tls": true}'),
        ("config.yaml", "server.hosts[1]", "server.hosts[1] = beta"),
        ("config.yaml", "debug", "debug = false"),
        ("pyproject.toml", "version", "project.version = 1.2.0"),
        ("pyproject.toml", "tool.lint.line", "tool.lint.line = 100"),
        ("server.ini", "server.port", "server.port = 8443"),
        ("server.ini", "host", "server.host = 0.0.0.0"),
        ("server.ini", "owner", "owner = sam"),
        ("server.ini", "SERVER.HOST", "server.host = 0.0.0.0"),
        (".env", "API_URL", "API_URL = https://api.test"),
        (".env", "TOKEN", "TOKEN = abc"),
    ],
)
def test_read_field(tools: dict[str, BaseTool], path: str, key: str, line: str) -> None:
    assert ok(tools["read_field"], path=path, key=key) == line


def test_read_field_errors_say_what_to_do(tools: dict[str, BaseTool]) -> None:
    unknown = error(tools["read_field"], path="config.json", key="prot")
    assert unknown == (
        "read_field: no key 'prot' in config.json; keys: server.port, server.tls, "
        "items[0].name, items[1].name"
    )
    ambiguous = error(tools["read_field"], path="server.ini", key="port")
    assert "more than one key" in ambiguous and "server.port, db.port" in ambiguous
    assert "not valid JSON" in error(tools["read_field"], path="broken.json", key="a")
    assert "no fields found" in error(tools["read_field"], path="empty.txt", key="a")
    assert "does not exist" in error(tools["read_field"], path="nope.json", key="a")


def test_an_unknown_key_lists_at_most_ten(tools: dict[str, BaseTool], root: Path) -> None:
    (root / "many.json").write_text("{" + ",".join(f'"k{i}": {i}' for i in range(25)) + "}")
    message = error(tools["read_field"], path="many.json", key="zz")
    assert message.endswith("keys: k0, k1, k2, k3, k4, k5, k6, k7, k8, k9 (25 in all)")


def test_fields_parsing() -> None:
    assert file_format("a/b.yml", "") == "yaml" and file_format(".env.local", "") == "lines"
    assert file_format("settings", '{"a": 1}') == "json"
    assert file_format("settings", "[core]\nx = 1\n") == "ini"
    assert file_format("settings", "x: 1\n") == "lines"
    conf = parse_fields("nginx.conf", "worker_processes = 4\nuser = www\n")
    assert conf == {"worker_processes": "4", "user": "www"}
    with pytest.raises(FieldsError, match="not valid TOML"):
        parse_fields("x.toml", "a = = 1")
    fields = parse_fields("c.json", CONFIG_JSON)
    assert find_field(fields, "name") == ["items[0].name", "items[1].name"]
    assert find_field(fields, "PORT") == ["server.port"]
    assert key_choices(fields) == [
        "server.port",
        "server.tls",
        "items[0].name",
        "items[1].name",
        "port",
        "tls",
    ]


# --- grounding ----------------------------------------------------------------------------


def test_key_choices_come_from_the_named_file(tools: dict[str, BaseTool], root: Path) -> None:
    ws = Workspace(root)
    keys = file_keys(ws, "What does server.ini set?")
    assert keys is not None and list(keys) == [
        "owner",
        "server.host",
        "server.port",
        "db.port",
        "host",
    ]
    # keys the task names by their own words, and only those
    named = file_keys(ws, "What's the port in server.ini?")
    assert named is not None and list(named) == ["server.port", "db.port"]
    owner = file_keys(ws, "who is the OWNER in server.ini")
    assert owner is not None and list(owner) == ["owner"]
    both = choices(tools["read_field"], "file_key", "Compare config.yaml with .env")
    assert both is not None and {"server.port", "debug", "API_URL", "hosts[0]"} <= set(both)
    assert choices(tools["read_field"], "file_key", "what's in broken.json?") is None
    # a file with no fields: read_field has nothing to read there
    assert choices(tools["read_field"], "file_key", "What does notes.txt say about six?") == []
    assert choices(tools["read_field"], "file_key", "What's the port?") is None


def test_keys_of_a_named_file_in_a_workspace_too_large_to_list(tmp_path: Path) -> None:
    # A project's repository has more entries than the groundings list;
    # the file the task names by its path still gives its keys.
    for index in range(400):
        (tmp_path / f"m{index}.py").write_text("x = 1\n")
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "demo"\nversion = "1.4.0"\n')
    ws = Workspace(tmp_path)
    keys = file_keys(ws, "what version is in pyproject.toml?")
    assert keys is not None and list(keys) == ["project.version", "version"]
    assert file_keys(ws, "what version is in missing.toml?") is None


def test_a_key_is_named_by_its_words() -> None:
    from agentkit.steering.grounding import keys_named

    keys = ["db.max_retries", "max_retries", "db.id", "id", "db.timeout", "timeout"]
    assert keys_named(keys, "what are the max retries for the db?") == [
        "db.max_retries",
        "max_retries",
    ]
    assert keys_named(keys, "what is the id in db.ini") == []  # too short to tell
    assert keys_named(keys, "timeouts?") == []  # whole words only


def test_count_text_is_a_phrase_only_when_asked_how_often(tools: dict[str, BaseTool]) -> None:
    assert occurrence_phrases("How many words are in notes.txt?") == [""]
    often = occurrence_phrases('How many times does "disk full" appear in log.txt?')
    assert often[:2] == ["", "disk full"] and "times does" not in " ".join(often)
    assert choices(tools["count"], "occurrence_phrase", "count the lines of notes.txt") == [""]


def counted_text(ws: Path, task: str) -> object:
    """What count's ``text`` may be without content grounding (the tuned preset)."""
    tools = builtin_tools(workspace=ws)
    return arg_choices(tools, task, content=False, task=task)["count"].get("text")


def test_without_content_grounding_count_text_is_in_the_file_or_quoted(tmp_path: Path) -> None:
    (tmp_path / "poem.txt").write_text("roses are red\nviolets are blue\n")
    counted = partial(counted_text, tmp_path)
    # the tuned model counted "word count" in the file and answered "1"
    assert counted("poem.txt word count please") == [""]
    # a phrase the file holds is what to count, and it must be given: the
    # tuned model counted every line for "count the lines ... that mention disk"
    assert counted("how often is blue used in poem.txt") == ["blue"]
    assert counted("count the lines of poem.txt that mention violets") == ["violets"]
    assert isinstance(counted("how often is blue used in poem.txt"), RequiredChoices)
    # as whole words only: "viol" is part of "violets", not a word of the file
    assert counted("how many times is viol in poem.txt") == [""]
    # a quoted phrase is what to count, even when the file lacks it: 0 is an answer
    assert counted("How many times does 'zebra' appear in poem.txt?") == ["zebra"]
    assert counted("how many lines does poem.txt have") == [""]
    assert counted("count the words") is None  # no file named: free
    # with content grounding the English gate decides, as before
    task = "poem.txt word count please"
    tools = builtin_tools(workspace=tmp_path)
    assert arg_choices(tools, task, content=True, task=task)["count"]["text"] == [""]


def test_count_text_is_never_a_word_that_asks_for_a_count(tmp_path: Path) -> None:
    # Files that hold count's own units and the words of the request: the
    # tuned model counted "lines" in "read between the lines", "count" in
    # "the count is wrong".
    (tmp_path / "notes.txt").write_text("read between the lines\nin other words the count\n")
    counted = partial(counted_text, tmp_path)
    assert counted("how many lines are in notes.txt") == [""]
    assert counted("count the words in notes.txt") == [""]
    assert counted("how many characters does notes.txt have") == [""]
    # quoted, a unit is what to count after all
    assert counted('how often does "lines" occur in notes.txt') == ["lines"]
    assert counted("how many lines of notes.txt mention between") == ["between"]


def test_examples_route_and_answer_with_one_line(tools: dict[str, BaseTool]) -> None:
    for name in ("count", "read_field"):
        examples = examples_for(tools[name])
        worked = [e for e in examples if "args" in e]
        assert len(worked) == 1 and 3 <= len(examples) - 1 <= 5, name
        assert worked[0]["answer"] in worked[0]["result"].splitlines()


def test_reads_run_without_asking(tools: dict[str, BaseTool]) -> None:
    policy = Policy.default()
    assert policy.evaluate(tools["count"], {"path": "log.txt"}).action == "allow"
    assert policy.evaluate(tools["read_field"], {"path": ".env", "key": "TOKEN"}).action == "allow"


# --- read_file from the end -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        (-1, None, "notes.txt (lines 4-4 of 4)\nsix"),
        (-3, None, "notes.txt (lines 2-4 of 4)\nthree four five\n\nsix"),
        (-99, 1, "notes.txt (lines 1-1 of 4)\none two"),
        (-2, 3, "notes.txt (lines 3-3 of 4)\n"),
    ],
)
def test_read_file_counts_negative_lines_from_the_end(
    tools: dict[str, BaseTool], start: int, end: int | None, expected: str
) -> None:
    args: dict[str, object] = {"path": "notes.txt", "start_line": start}
    if end is not None:
        args["end_line"] = end
    assert ok(tools["read_file"], **args) == expected


def test_read_file_line_zero_is_an_error(tools: dict[str, BaseTool]) -> None:
    message = error(tools["read_file"], path="notes.txt", start_line=0)
    assert message.startswith("invalid arguments: start_line") and "-1 for the last line" in message
    assert "negative" in tools["read_file"].description
