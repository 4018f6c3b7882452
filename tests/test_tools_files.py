"""File tools: what they return and what they change (inside the workspace)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from langchain_core.messages import ToolMessage
from langchain_core.tools import BaseTool

from agentkit.tools.files import file_tools
from agentkit.tools.globs import glob_match, glob_regex
from agentkit.tools.limits import ToolLimits
from agentkit.tools.patching import apply_patch
from agentkit.tools.workspace import Workspace


@pytest.fixture
def root(tmp_path: Path) -> Path:
    (tmp_path / "src" / "pkg").mkdir(parents=True)
    (tmp_path / "src" / "main.py").write_text("import pkg\n\nprint('main')\n")
    (tmp_path / "src" / "pkg" / "util.py").write_text("def helper():\n    return 42\n")
    (tmp_path / "README.md").write_text("".join(f"line {i}\n" for i in range(1, 21)))
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "config").write_text("print('git')\n")
    (tmp_path / "blob.bin").write_bytes(b"\x00\x01\x02print")
    return tmp_path


@pytest.fixture
def tools(root: Path) -> dict[str, BaseTool]:
    return {t.name: t for t in file_tools(Workspace(root), ToolLimits())}


def call(t: BaseTool, args: dict[str, object]) -> ToolMessage:
    message = t.invoke({"type": "tool_call", "name": t.name, "args": args, "id": "t"})
    assert isinstance(message, ToolMessage)
    return message


def test_read_file_line_range(tools: dict[str, BaseTool]) -> None:
    out = call(tools["read_file"], {"path": "README.md", "start_line": 3, "end_line": 5}).content
    assert out == "README.md (lines 3-5 of 20)\nline 3\nline 4\nline 5"
    past = call(tools["read_file"], {"path": "README.md", "start_line": 99})
    assert past.status == "error" and "has 20 lines" in past.content


def test_read_file_errors(tools: dict[str, BaseTool]) -> None:
    missing = call(tools["read_file"], {"path": "nope.txt"})
    assert missing.status == "error" and missing.content == "'nope.txt' does not exist"
    assert "directory" in call(tools["read_file"], {"path": "src"}).content
    assert "binary" in call(tools["read_file"], {"path": "blob.bin"}).content
    bad = call(tools["read_file"], {"path": "README.md", "start_line": 0})
    assert bad.status == "error" and bad.content.startswith("invalid arguments: start_line")


def test_read_file_refuses_fifo(tools: dict[str, BaseTool], root: Path) -> None:
    os.mkfifo(root / "pipe")
    message = call(tools["read_file"], {"path": "pipe"})  # must not block
    assert message.status == "error" and "not a regular file" in message.content


def test_list_dir(tools: dict[str, BaseTool], root: Path) -> None:
    (root / "link").symlink_to("README.md")
    out = call(tools["list_dir"], {"path": "."}).content.splitlines()
    # a count line first: "what is here?" and "how many?" are one line to copy
    assert out[0].startswith("5 entries: .git/, src/, ")
    assert out[1:3] == [".git/", "src/"]
    assert "README.md (151 bytes)" in out and "link@ (symlink)" in out


@pytest.mark.parametrize(
    "pattern,expected",
    [
        ("*.md", ["README.md"]),
        ("**/*.py", ["src/main.py", "src/pkg/util.py"]),
        ("src/*.py", ["src/main.py"]),
        ("src/**", ["src/main.py", "src/pkg/", "src/pkg/util.py"]),
        ("**/util.?y", ["src/pkg/util.py"]),
        ("[Rr]EADME.*", ["README.md"]),
    ],
)
def test_glob(pattern: str, expected: list[str], tools: dict[str, BaseTool]) -> None:
    out = call(tools["glob"], {"pattern": pattern}).content.splitlines()
    if len(expected) > 1:
        assert out[0] == f"{len(expected)} matches: {', '.join(expected)}"
        out = out[1:]
    assert out == expected


def test_glob_in_subdir(tools: dict[str, BaseTool]) -> None:
    assert call(tools["glob"], {"pattern": "*.py", "path": "src/pkg"}).content == "src/pkg/util.py"


def test_glob_regex_components() -> None:
    assert glob_regex("*.py").match("a.py") and not glob_regex("*.py").match("d/a.py")
    assert glob_regex("**/*.py").match("a.py") and glob_regex("**/*.py").match("x/y/a.py")


@pytest.mark.parametrize(
    "pattern,path,matches",
    [
        ("notes/**", "notes/a/b.md", True),
        ("notes/**", "other/a.md", False),
        ("**.md", "x/y/a.md", True),  # inside a component, ** crosses directories too
        ("/etc/**", "/etc/passwd", True),  # a leading / matches absolute paths only
        ("/etc/**", "etc/passwd", False),
        ("./src/*.py", "src/a.py", True),
        ("file[0-9].txt", "file1.txt", True),
        ("f[!a].txt", "fa.txt", False),
        ("a?c", "a/c", False),
    ],
)
def test_one_glob_meaning_for_tools_and_policies(pattern: str, path: str, matches: bool) -> None:
    assert glob_match(pattern, path) is matches


def test_grep(tools: dict[str, BaseTool]) -> None:
    out = call(tools["grep"], {"pattern": r"print\("}).content
    assert out.splitlines() == ["src/main.py:3: print('main')"]  # .git and binary skipped
    assert (
        call(tools["grep"], {"pattern": "HELPER", "ignore_case": True, "include": "*.py"}).content
        == "src/pkg/util.py:1: def helper():"
    )
    assert (
        call(tools["grep"], {"pattern": "42", "path": "src/pkg/util.py"}).content
        == "src/pkg/util.py:2:     return 42"
    )
    assert "no matches" in call(tools["grep"], {"pattern": "zzz"}).content
    # A pattern that names a file, not its text, is told so.
    assert call(tools["grep"], {"pattern": "util.py"}).content == (
        "a file named 'util.py' exists: src/pkg/util.py "
        "(grep searched the text inside the files under ., which does not hold it)"
    )
    # Several matches: a first line counts them and names their files.
    several = call(tools["grep"], {"pattern": "main|helper"}).content.splitlines()
    assert several[0] == "2 matching lines in 2 files: src/main.py, src/pkg/util.py"
    bad = call(tools["grep"], {"pattern": "("})
    assert bad.status == "error" and "invalid regular expression" in bad.content


def test_write_file_creates_and_overwrites(tools: dict[str, BaseTool], root: Path) -> None:
    assert (
        call(tools["write_file"], {"path": "out/new.txt", "content": "a\nb\n"}).content
        == "created out/new.txt (2 lines, 4 bytes)"
    )
    assert (root / "out" / "new.txt").read_text() == "a\nb\n"
    os.chmod(root / "out" / "new.txt", 0o640)
    assert call(tools["write_file"], {"path": "out/new.txt", "content": "c"}).content.startswith(
        "overwrote"
    )
    assert (root / "out" / "new.txt").read_text() == "c"
    assert stat.S_IMODE((root / "out" / "new.txt").stat().st_mode) == 0o640  # mode kept
    assert [p.name for p in (root / "out").iterdir()] == ["new.txt"]  # no temp files left


def test_write_file_onto_directory_fails(tools: dict[str, BaseTool]) -> None:
    message = call(tools["write_file"], {"path": "src", "content": "x"})
    assert message.status == "error" and "directory" in message.content


def test_edit_file_exact(tools: dict[str, BaseTool], root: Path) -> None:
    ok = call(
        tools["edit_file"],
        {"path": "src/pkg/util.py", "old_string": "return 42", "new_string": "return 43"},
    )
    assert ok.content == "edited src/pkg/util.py (+1 -1 lines)"
    assert (root / "src/pkg/util.py").read_text() == "def helper():\n    return 43\n"


def test_edit_file_requires_unique_match(tools: dict[str, BaseTool], root: Path) -> None:
    many = call(
        tools["edit_file"], {"path": "README.md", "old_string": "line 1", "new_string": "x"}
    )
    assert many.status == "error" and "occurs 11 times" in many.content
    call(
        tools["edit_file"],
        {"path": "README.md", "old_string": "line", "new_string": "row", "replace_all": True},
    )
    assert (root / "README.md").read_text().count("row") == 20
    missing = call(
        tools["edit_file"], {"path": "README.md", "old_string": "absent", "new_string": "x"}
    )
    assert missing.status == "error" and "not found" in missing.content


def test_edit_file_patch(tools: dict[str, BaseTool], root: Path) -> None:
    patch = "--- a/src/main.py\n+++ b/src/main.py\n@@ -1,3 +1,4 @@\n import pkg\n+import sys\n \n print('main')\n"
    assert call(tools["edit_file"], {"path": "src/main.py", "patch": patch}).status == "success"
    assert (root / "src/main.py").read_text() == "import pkg\nimport sys\n\nprint('main')\n"
    stale = call(
        tools["edit_file"],
        {"path": "src/main.py", "patch": "@@ -1 +1 @@\n-import os\n+import re\n"},
    )
    assert stale.status == "error" and "does not match" in stale.content


def test_apply_patch_multiple_hunks_and_offsets() -> None:
    text = "".join(f"{i}\n" for i in range(1, 11))
    patch = "@@ -2,1 +2,1 @@\n-2\n+two\n@@ -9,2 +9,2 @@\n 9\n-10\n+ten\n"
    assert apply_patch(text, patch) == text.replace("2\n", "two\n", 1).replace("10\n", "ten\n")
    shifted = "@@ -1,1 +1,1 @@\n-5\n+five\n"  # wrong line number, unique context: still applies
    assert "five\n" in apply_patch(text, shifted)


def test_edit_with_an_empty_old_string_appends_lines(tmp_path: Path) -> None:
    from agentkit.config import load_settings
    from agentkit.tools import builtin_tools

    (tmp_path / "log.txt").write_text("one\ntwo")
    settings = load_settings(workspace=tmp_path, data_dir=tmp_path / ".data")
    edit = {t.name: t for t in builtin_tools(settings, workspace=tmp_path)}["edit_file"]
    assert "edited log.txt" in edit.invoke({"path": "log.txt", "new_string": "three"})
    assert (tmp_path / "log.txt").read_text() == "one\ntwo\nthree\n"
    edit.invoke({"path": "log.txt", "old_string": "", "new_string": "four\n"})
    assert (tmp_path / "log.txt").read_text() == "one\ntwo\nthree\nfour\n"
    nothing = edit.invoke({"path": "log.txt", "old_string": "", "new_string": ""})
    assert "old_string is empty" in nothing
