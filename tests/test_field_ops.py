"""set_field, and edits that would break a structured file: what they
write in each format, what they keep (comments, indent, the other keys),
their one-line results and errors, previews, targets and policy."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest
import yaml
from langchain_core.messages import ToolMessage
from langchain_core.tools import BaseTool

from agentkit.approvals.policy import Policy
from agentkit.tools.base import preview_of, targets_of
from agentkit.tools.field_ops import typed_value
from agentkit.tools.fields import broken_structure
from agentkit.tools.files import file_tools
from agentkit.tools.limits import ToolLimits
from agentkit.tools.workspace import Workspace

CONFIG_JSON = '{\n    "worker": {\n        "timeout": 30,\n        "debug": false\n    },\n    "name": "api"\n}\n'
APP_TOML = (
    '# the app\ntitle = "t"\n\n[server]\nport = 8080  # public\nhost = "a"\n\n[db]\nuser = "u"\n'
)
APP_YAML = "server:\n  port: 8080\n  host: a  # primary\nname: x\n"
APP_INI = "[server]\nport = 8080\n\n[db]\nuser=u\n"
DOT_ENV = "export API_URL=http://x\nDEBUG=false\n"


@pytest.fixture
def root(tmp_path: Path) -> Path:
    files = {
        "config.json": CONFIG_JSON,
        "one.json": '{"port": 8080, "tags": ["a", "b"]}',
        "app.toml": APP_TOML,
        "app.yaml": APP_YAML,
        "app.ini": APP_INI,
        ".env": DOT_ENV,
        "two.json": '{"a": {"port": 1}, "b": {"port": 2}}\n',
        "broken.json": '{"port": 1,,}\n',
        "notes.txt": "just prose\n",
    }
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    return tmp_path


@pytest.fixture
def tools(root: Path) -> dict[str, BaseTool]:
    return {t.name: t for t in file_tools(Workspace(root), ToolLimits())}


def call(tool: BaseTool, **args: object) -> ToolMessage:
    message = tool.invoke({"type": "tool_call", "name": tool.name, "args": args, "id": "t"})
    assert isinstance(message, ToolMessage)
    return message


def ok(tool: BaseTool, **args: object) -> str:
    message = call(tool, **args)
    assert message.status == "success", message.content
    return str(message.content)


def error(tool: BaseTool, **args: object) -> str:
    message = call(tool, **args)
    assert message.status == "error", message.content
    return str(message.content)


def test_json_by_short_key_keeps_indent_and_type(tools: dict[str, BaseTool], root: Path) -> None:
    assert ok(tools["set_field"], path="config.json", key="timeout", value="652") == (
        "set worker.timeout = 652 in config.json (was 30)"
    )
    assert ok(tools["set_field"], path="config.json", key="worker.debug", value="true") == (
        "set worker.debug = true in config.json (was False)"
    )
    text = (root / "config.json").read_text()
    assert json.loads(text) == {"worker": {"timeout": 652, "debug": True}, "name": "api"}
    assert text.startswith('{\n    "worker": {\n        "timeout": 652,') and text.endswith("}\n")


def test_json_one_line_new_keys_and_list_items(tools: dict[str, BaseTool], root: Path) -> None:
    ok(tools["set_field"], path="one.json", key="tags[1]", value="c")
    ok(tools["set_field"], path="one.json", key="cache.size", value="64")
    assert (root / "one.json").read_text() == (
        '{"port": 8080, "tags": ["a", "c"], "cache": {"size": 64}}'
    )
    assert "past the end" in error(tools["set_field"], path="one.json", key="tags[5]", value="x")


def test_toml_changes_one_line_and_keeps_comments(tools: dict[str, BaseTool], root: Path) -> None:
    ok(tools["set_field"], path="app.toml", key="port", value="9090")
    ok(tools["set_field"], path="app.toml", key="server.host", value="b c")
    ok(tools["set_field"], path="app.toml", key="db.password", value="p")
    ok(tools["set_field"], path="app.toml", key="owner", value="me")
    ok(tools["set_field"], path="app.toml", key="cache.size", value="3")
    text = (root / "app.toml").read_text()
    assert "port = 9090  # public\n" in text and "# the app\n" in text
    assert tomllib.loads(text) == {
        "title": "t",
        "owner": "me",
        "server": {"port": 9090, "host": "b c"},
        "db": {"user": "u", "password": "p"},
        "cache": {"size": 3},
    }
    assert text.index('owner = "me"') < text.index("[server]")


def test_yaml_ini_and_env(tools: dict[str, BaseTool], root: Path) -> None:
    ok(tools["set_field"], path="app.yaml", key="port", value="9")
    ok(tools["set_field"], path="app.yaml", key="host", value="yes")  # a string, not True
    ok(tools["set_field"], path="app.yaml", key="level", value="info")
    yaml_text = (root / "app.yaml").read_text()
    assert "# primary" in yaml_text
    assert yaml.safe_load(yaml_text) == {
        "server": {"port": 9, "host": "yes"},
        "name": "x",
        "level": "info",
    }
    ok(tools["set_field"], path="app.ini", key="port", value="1")
    ok(tools["set_field"], path="app.ini", key="db.password", value="z")
    assert (root / "app.ini").read_text() == "[server]\nport = 1\n\n[db]\nuser=u\npassword = z\n"
    ok(tools["set_field"], path=".env", key="DEBUG", value="true")
    ok(tools["set_field"], path=".env", key="TOKEN", value="abc")
    assert (root / ".env").read_text() == "export API_URL=http://x\nDEBUG=true\nTOKEN=abc\n"


def test_a_missing_file_is_created(tools: dict[str, BaseTool], root: Path) -> None:
    assert ok(tools["set_field"], path="conf/new.toml", key="port", value="8080") == (
        "set port = 8080 in conf/new.toml (new key)"
    )
    assert (root / "conf" / "new.toml").read_text() == "port = 8080\n"
    ok(tools["set_field"], path="new.json", key="a.b", value="x")
    assert json.loads((root / "new.json").read_text()) == {"a": {"b": "x"}}


@pytest.mark.parametrize(
    ("args", "says"),
    [
        ({"path": "two.json", "key": "port", "value": "3"}, "give the full key"),
        ({"path": "config.json", "key": "worker", "value": "3"}, "holds a section"),
        ({"path": "broken.json", "key": "port", "value": "3"}, "not valid JSON"),
        ({"path": "config.json", "key": " ", "value": "3"}, "key is empty"),
        ({"path": "../out.json", "key": "a", "value": "3"}, "outside the workspace"),
    ],
)
def test_errors_say_what_to_do(
    tools: dict[str, BaseTool], root: Path, args: dict[str, str], says: str
) -> None:
    before = {p.name: p.read_bytes() for p in root.iterdir() if p.is_file()}
    assert says in error(tools["set_field"], **args)
    assert {p.name: p.read_bytes() for p in root.iterdir() if p.is_file()} == before


def test_typed_value_follows_the_old_value() -> None:
    assert typed_value("8080", 80) == 8080
    assert typed_value("1.5", 2) == 1.5
    assert typed_value("True", False) is True
    assert typed_value("8080", "80") == "8080"  # a string stays a string
    assert typed_value("8080", None) == 8080
    assert typed_value("hello", None) == "hello"
    assert typed_value("[1, 2]", None) == "[1, 2]"  # a value, not a container


def test_preview_is_a_diff_and_writes_nothing(tools: dict[str, BaseTool], root: Path) -> None:
    preview = preview_of(tools["set_field"], {"path": "app.toml", "key": "port", "value": "1"})
    assert preview is not None and preview["kind"] == "diff"
    assert preview["summary"] == "set server.port in app.toml (+1 -1 lines)"
    assert "-port = 8080  # public\n+port = 1  # public\n" in preview["body"]
    created = preview_of(tools["set_field"], {"path": "n.yaml", "key": "a", "value": "1"})
    assert created is not None and created["summary"] == "set a in create n.yaml"
    assert (root / "app.toml").read_text() == APP_TOML and not (root / "n.yaml").exists()


def test_targets_and_the_default_policy(tools: dict[str, BaseTool]) -> None:
    args = {"path": "app.toml", "key": "port", "value": "1"}
    assert [(t.arg, t.written, t.write) for t in targets_of(tools["set_field"], args) or []] == [
        ("path", "app.toml", True)
    ]
    verdict = Policy.default().evaluate(tools["set_field"], args)
    assert (verdict.action, verdict.reason) == ("ask", "write: ask (default)")
    deny = Policy.from_dict({"rules": [{"tool": "*", "action": "deny", "paths": ["*.toml"]}]})
    assert deny.evaluate(tools["set_field"], args).action == "deny"


# --- edits that would break the file's syntax ------------------------------------------


def test_an_edit_that_breaks_json_is_refused(tools: dict[str, BaseTool], root: Path) -> None:
    # what the 270M model did: a newline written into a key
    message = error(
        tools["edit_file"], path="config.json", old_string="timeout", new_string="timeout\n"
    )
    assert message.startswith("edit_file: the edit would leave 'config.json' not valid JSON")
    assert (root / "config.json").read_text() == CONFIG_JSON
    assert "not valid TOML" in error(
        tools["write_file"], path="app.toml", content="[server\nport = 1\n"
    )
    assert (root / "app.toml").read_text() == APP_TOML
    preview = preview_of(
        tools["edit_file"], {"path": "app.yaml", "old_string": "", "new_string": "]["}
    )
    assert preview is not None and "not valid YAML" in preview["summary"]


def test_edits_that_keep_the_syntax_or_had_none_still_run(
    tools: dict[str, BaseTool], root: Path
) -> None:
    ok(tools["edit_file"], path="config.json", old_string="30", new_string="45")
    ok(tools["edit_file"], path="broken.json", old_string=",,", new_string=",")  # a fix
    ok(tools["write_file"], path="notes.txt", content="{not json")
    ok(tools["write_file"], path="fresh.json", content="")  # a new file: the user's call
    assert broken_structure("a.txt", '{"a": 1}', "{") is None  # sniffed, not named
    assert broken_structure("a.json", "", "{") is None
    assert broken_structure("a.yml", "a: 1\n", "a: [\n") is not None


def test_tab_indents_quoted_ini_values_and_null(tools: dict[str, BaseTool], root: Path) -> None:
    (root / "tabs.json").write_text('{\n\t"a": {\n\t\t"b": 2\n\t}\n}\n')
    (root / "quoted.ini").write_text('[s]\nname = "bob"\n')
    ok(tools["set_field"], path="tabs.json", key="b", value="null")
    assert (root / "tabs.json").read_text() == '{\n\t"a": {\n\t\t"b": null\n\t}\n}\n'
    ok(tools["set_field"], path="quoted.ini", key="name", value="ann")
    assert (root / "quoted.ini").read_text() == '[s]\nname = "ann"\n'


def test_a_boolean_takes_yamls_words_for_it(tools: dict[str, BaseTool], root: Path) -> None:
    ok(tools["set_field"], path="app.yaml", key="port", value="9")
    (root / "flags.yaml").write_text("debug: false\ncache: true\n")
    ok(tools["set_field"], path="flags.yaml", key="debug", value="on")
    ok(tools["set_field"], path="flags.yaml", key="cache", value="no")
    assert yaml.safe_load((root / "flags.yaml").read_text()) == {"debug": True, "cache": False}
    assert typed_value("off", True) is False and typed_value("on", "x") == "on"
