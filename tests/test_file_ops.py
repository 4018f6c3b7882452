"""copy_file, move_file, sort_lines and dedupe_lines: what they write, their
one-line results and errors, previews, targets (policy, protected paths,
rewind) and the confinement they share with the other file tools."""

from __future__ import annotations

from pathlib import Path

import pytest
from langchain_core.messages import ToolMessage
from langchain_core.tools import BaseTool

from agentkit.approvals.always import always_options, pattern_rule
from agentkit.approvals.policy import Policy
from agentkit.config import load_settings
from agentkit.steering.arguments import GROUNDED_ARGS, choices
from agentkit.steering.examples import examples_for
from agentkit.tools import builtin_tools
from agentkit.tools.base import preview_of, targets_of
from agentkit.tools.file_ops import TextLines, sorted_lines, without_duplicates
from agentkit.tools.files import file_tools
from agentkit.tools.limits import ToolLimits
from agentkit.tools.protected import pinned_targets
from agentkit.tools.registry import call_target
from agentkit.tools.workspace import Workspace

WRITERS = ("copy_file", "move_file", "sort_lines", "dedupe_lines")


@pytest.fixture
def root(tmp_path: Path) -> Path:
    ws = tmp_path / "ws"
    (ws / "archive").mkdir(parents=True)
    (ws / "names.txt").write_text("carol\nAlice\nbob\nalice\nbob\n")
    (ws / "nums.txt").write_text("10\n9\n-2.5\n100\n")
    (ws / "crlf.txt").write_text("b\r\na\r\nb\r\n", newline="")
    (ws / "blob.bin").write_bytes(b"\x00\x01\x02")
    (tmp_path / "outside.txt").write_text("secret\n")
    return ws


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
    assert "\n" not in str(message.content), "errors are one line"
    return str(message.content)


# --- copy_file --------------------------------------------------------------------------


def test_copy_into_a_new_sub_folder(tools: dict[str, BaseTool], root: Path) -> None:
    out = ok(tools["copy_file"], source="names.txt", destination="backup/2024/names.txt")
    assert out == "copied names.txt to backup/2024/names.txt (5 lines)"
    assert (root / "backup/2024/names.txt").read_bytes() == (root / "names.txt").read_bytes()


def test_copy_into_a_folder_keeps_the_name(tools: dict[str, BaseTool], root: Path) -> None:
    assert ok(tools["copy_file"], source="names.txt", destination="archive") == (
        "copied names.txt to archive/names.txt (5 lines)"
    )
    assert ok(tools["copy_file"], source="nums.txt", destination="new/") == (
        "copied nums.txt to new/nums.txt (4 lines)"
    )
    assert (root / "archive/names.txt").exists() and (root / "new/nums.txt").exists()


def test_copy_refuses_an_existing_destination_unless_overwrite(
    tools: dict[str, BaseTool], root: Path
) -> None:
    message = error(tools["copy_file"], source="names.txt", destination="nums.txt")
    assert "'nums.txt' already exists; set overwrite to true" in message
    assert (root / "nums.txt").read_text().startswith("10")
    ok(tools["copy_file"], source="names.txt", destination="nums.txt", overwrite=True)
    assert (root / "nums.txt").read_text() == (root / "names.txt").read_text()


@pytest.mark.parametrize(
    ("source", "destination", "message"),
    [
        ("missing.txt", "x.txt", "'missing.txt' does not exist"),
        ("archive", "x.txt", "'archive' is a folder"),
        ("names.txt", "names.txt", "are the same file"),
        ("names.txt", "./names.txt", "are the same file"),
        ("../outside.txt", "x.txt", "outside the workspace"),
        ("names.txt", "../x.txt", "outside the workspace"),
        ("names.txt", "/etc/x.txt", "outside the workspace"),
    ],
)
def test_copy_errors(
    tools: dict[str, BaseTool], root: Path, source: str, destination: str, message: str
) -> None:
    assert message in error(tools["copy_file"], source=source, destination=destination)
    assert not (root / "x.txt").exists() and not (root.parent / "x.txt").exists()


def test_copy_binary_crlf_unicode_and_empty(tools: dict[str, BaseTool], root: Path) -> None:
    assert ok(tools["copy_file"], source="blob.bin", destination="b.bin") == (
        "copied blob.bin to b.bin (3 bytes)"
    )
    assert (root / "b.bin").read_bytes() == b"\x00\x01\x02"
    ok(tools["copy_file"], source="crlf.txt", destination="crlf2.txt")
    assert (root / "crlf2.txt").read_bytes() == b"b\r\na\r\nb\r\n"
    (root / "übung.txt").write_text("grüße\n")
    assert ok(tools["copy_file"], source="übung.txt", destination="kopie/übung.txt") == (
        "copied übung.txt to kopie/übung.txt (1 line)"
    )
    (root / "empty.txt").write_text("")
    assert ok(tools["copy_file"], source="empty.txt", destination="e2.txt") == (
        "copied empty.txt to e2.txt (0 lines)"
    )


def test_copy_through_a_symlink_out_is_refused(tools: dict[str, BaseTool], root: Path) -> None:
    (root / "link").symlink_to(root.parent)
    assert "outside the workspace" in error(
        tools["copy_file"], source="link/outside.txt", destination="x.txt"
    )
    assert "outside the workspace" in error(
        tools["copy_file"], source="names.txt", destination="link/stolen.txt"
    )
    assert not (root.parent / "stolen.txt").exists()


def test_agentkit_data_is_never_written(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    (ws / ".agentkit").mkdir(parents=True)
    (ws / ".agentkit" / "threads.sqlite").write_text("db")
    (ws / "a.txt").write_text("a\n")
    workspace = Workspace(ws, protected=[ws / ".agentkit"])
    tools = {t.name: t for t in file_tools(workspace, ToolLimits())}
    for name, args in [
        ("copy_file", {"source": "a.txt", "destination": ".agentkit/threads.sqlite"}),
        ("copy_file", {"source": "a.txt", "destination": ".agentkit/x"}),
        ("move_file", {"source": ".agentkit/threads.sqlite", "destination": "db.txt"}),
        ("move_file", {"source": "a.txt", "destination": ".agentkit/"}),
        ("sort_lines", {"path": "a.txt", "destination": ".agentkit/x"}),
        ("dedupe_lines", {"path": "a.txt", "destination": ".agentkit/x"}),
    ]:
        message = error(tools[name], **args)
        assert "agentkit's own data" in message, (name, message)
    assert (ws / ".agentkit" / "threads.sqlite").read_text() == "db"
    assert sorted(p.name for p in (ws / ".agentkit").iterdir()) == ["threads.sqlite"]


# --- move_file --------------------------------------------------------------------------


def test_move_renames_and_moves_into_folders(tools: dict[str, BaseTool], root: Path) -> None:
    content = (root / "names.txt").read_bytes()
    assert ok(tools["move_file"], source="names.txt", destination="people.txt") == (
        "moved names.txt to people.txt"
    )
    assert not (root / "names.txt").exists() and (root / "people.txt").read_bytes() == content
    assert ok(tools["move_file"], source="people.txt", destination="archive/") == (
        "moved people.txt to archive/people.txt"
    )
    assert ok(tools["move_file"], source="archive/people.txt", destination="a/b/c.txt") == (
        "moved archive/people.txt to a/b/c.txt"
    )
    assert (root / "a/b/c.txt").read_bytes() == content


def test_move_refuses_an_existing_destination_unless_overwrite(
    tools: dict[str, BaseTool], root: Path
) -> None:
    assert "already exists" in error(tools["move_file"], source="names.txt", destination="nums.txt")
    assert (root / "names.txt").exists()
    ok(tools["move_file"], source="names.txt", destination="nums.txt", overwrite=True)
    assert (root / "nums.txt").read_text().startswith("carol") and not (root / "names.txt").exists()


def test_move_errors(tools: dict[str, BaseTool], root: Path) -> None:
    assert "does not exist" in error(tools["move_file"], source="nope.txt", destination="x.txt")
    assert "is a folder" in error(tools["move_file"], source="archive", destination="x")
    assert "outside the workspace" in error(
        tools["move_file"], source="names.txt", destination="../x.txt"
    )
    assert "outside the workspace" in error(
        tools["move_file"], source="../outside.txt", destination="x.txt"
    )
    (root / "alias.txt").symlink_to("names.txt")
    assert "is a symlink to 'names.txt'" in error(
        tools["move_file"], source="alias.txt", destination="x.txt"
    )
    assert (root / "names.txt").exists() and (root.parent / "outside.txt").exists()


def test_move_keeps_the_file_mode(tools: dict[str, BaseTool], root: Path) -> None:
    (root / "run.sh").write_text("echo hi\n")
    (root / "run.sh").chmod(0o755)
    ok(tools["move_file"], source="run.sh", destination="bin/run.sh")
    assert (root / "bin/run.sh").stat().st_mode & 0o777 == 0o755


def test_a_pinned_move_that_now_leads_elsewhere_is_refused(
    tools: dict[str, BaseTool], root: Path
) -> None:
    (root / "notes").mkdir()
    with pinned_targets({"notes/n.txt": "notes/n.txt"}):
        (root / "notes").rmdir()
        (root / "notes").symlink_to("archive")
        message = error(tools["move_file"], source="names.txt", destination="notes/n.txt")
    assert "changed after it was checked" in message
    assert (root / "names.txt").exists() and not (root / "archive/n.txt").exists()


# --- sort_lines and dedupe_lines ----------------------------------------------------------


def test_sort_in_place_case_insensitively(tools: dict[str, BaseTool], root: Path) -> None:
    assert ok(tools["sort_lines"], path="names.txt") == "sorted 5 lines of names.txt"
    assert (root / "names.txt").read_text() == "Alice\nalice\nbob\nbob\ncarol\n"
    assert ok(tools["sort_lines"], path="names.txt") == "names.txt is already sorted (5 lines)"


def test_sort_numbers_numerically_into_a_destination(
    tools: dict[str, BaseTool], root: Path
) -> None:
    out = ok(tools["sort_lines"], path="nums.txt", destination="out/sorted.txt", descending=True)
    assert out == "sorted 4 lines of nums.txt into out/sorted.txt"
    assert (root / "out/sorted.txt").read_text() == "100\n10\n9\n-2.5\n"
    assert (root / "nums.txt").read_text() == "10\n9\n-2.5\n100\n", "the source is unchanged"


def test_sort_unique_counts_the_duplicates(tools: dict[str, BaseTool], root: Path) -> None:
    out = ok(tools["sort_lines"], path="names.txt", destination="u.txt", unique=True)
    assert out == "sorted 5 lines of names.txt into u.txt, 1 duplicate removed (4 left)"
    assert (root / "u.txt").read_text() == "Alice\nalice\nbob\ncarol\n"


def test_sort_keeps_crlf_and_no_final_newline(tools: dict[str, BaseTool], root: Path) -> None:
    ok(tools["sort_lines"], path="crlf.txt")
    assert (root / "crlf.txt").read_bytes() == b"a\r\nb\r\nb\r\n"
    (root / "bare.txt").write_text("β\nα")
    ok(tools["sort_lines"], path="bare.txt")
    assert (root / "bare.txt").read_text() == "α\nβ"


def test_sort_and_dedupe_an_empty_file(tools: dict[str, BaseTool], root: Path) -> None:
    (root / "empty.txt").write_text("")
    assert ok(tools["sort_lines"], path="empty.txt") == "empty.txt has no lines; nothing to sort"
    assert ok(tools["dedupe_lines"], path="empty.txt") == (
        "empty.txt has no duplicate lines (0 lines)"
    )


def test_sort_and_dedupe_errors(tools: dict[str, BaseTool]) -> None:
    for name in ("sort_lines", "dedupe_lines"):
        assert "does not exist" in error(tools[name], path="missing.txt")
        assert "binary" in error(tools[name], path="blob.bin")
        assert "outside the workspace" in error(tools[name], path="names.txt", destination="../o")


def test_dedupe_keeps_first_occurrences_in_order(tools: dict[str, BaseTool], root: Path) -> None:
    (root / "list.txt").write_text("b\na\nb \n\nc\na\n\nb\n")
    assert ok(tools["dedupe_lines"], path="list.txt") == (
        "removed 3 duplicate lines from list.txt (5 left)"
    )
    assert (root / "list.txt").read_text() == "b\na\n\nc\n\n", "blank lines are kept"
    assert ok(tools["dedupe_lines"], path="list.txt") == (
        "list.txt has no duplicate lines (5 lines)"
    )


def test_dedupe_into_a_destination(tools: dict[str, BaseTool], root: Path) -> None:
    out = ok(tools["dedupe_lines"], path="crlf.txt", destination="uniq.txt")
    assert out == "removed 1 duplicate line from crlf.txt (2 left), wrote the rest to uniq.txt"
    assert (root / "uniq.txt").read_bytes() == b"b\r\na\r\n"
    assert (root / "crlf.txt").read_bytes() == b"b\r\na\r\nb\r\n"


def test_line_helpers() -> None:
    parsed = TextLines.parse("x\r\ny")
    assert (parsed.lines, parsed.newline, parsed.trailing) == (["x", "y"], "\r\n", False)
    assert parsed.text(["y", "x"]) == "y\r\nx"
    assert sorted_lines(["10", "", "9", "1e2"], descending=False) == (["9", "10", "1e2", ""], True)
    assert sorted_lines(["b", "10", "A"], descending=False) == (["10", "A", "b"], False)
    assert without_duplicates(["a", "a ", "", "", "b", "a"]) == ["a", "", "", "b"]


# --- previews, targets, policy -------------------------------------------------------------


def test_previews_are_diffs_and_write_nothing(tools: dict[str, BaseTool], root: Path) -> None:
    before = sorted(p.name for p in root.rglob("*"))
    copy = preview_of(tools["copy_file"], {"source": "nums.txt", "destination": "b/n.txt"})
    assert copy is not None and copy["kind"] == "diff"
    assert copy["summary"] == "copy nums.txt to b/n.txt (4 lines)"
    assert copy["body"].startswith("--- /dev/null\n+++ b/b/n.txt\n") and "+100\n" in copy["body"]
    over = preview_of(
        tools["copy_file"], {"source": "nums.txt", "destination": "names.txt", "overwrite": True}
    )
    assert over is not None and "replacing names.txt (+4 -5 lines)" in over["summary"]
    assert "--- a/names.txt" in over["body"] and "-carol\n" in over["body"]
    move = preview_of(tools["move_file"], {"source": "nums.txt", "destination": "archive/"})
    assert move is not None and move["summary"] == "move nums.txt to archive/nums.txt (4 lines)"
    assert "--- a/nums.txt\n+++ /dev/null\n" in move["body"]
    assert "--- /dev/null\n+++ b/archive/nums.txt\n" in move["body"]
    sort = preview_of(tools["sort_lines"], {"path": "nums.txt"})
    assert sort is not None and sort["summary"] == (
        "sort 4 lines of nums.txt numerically: rewrite nums.txt (+2 -2 lines)"
    )
    dedupe = preview_of(tools["dedupe_lines"], {"path": "names.txt", "destination": "u.txt"})
    assert dedupe is not None and dedupe["summary"] == (
        "remove 1 duplicate line from names.txt: create u.txt"
    )
    binary = preview_of(tools["copy_file"], {"source": "blob.bin", "destination": "c.bin"})
    assert binary is not None and binary["kind"] == "text" and "3 bytes" in binary["summary"]
    assert sorted(p.name for p in root.rglob("*")) == before


def test_a_preview_of_a_refused_call_says_why(tools: dict[str, BaseTool]) -> None:
    preview = preview_of(tools["copy_file"], {"source": "names.txt", "destination": "nums.txt"})
    assert preview is not None and "already exists" in preview["summary"]


def test_targets_cover_every_path_written(tools: dict[str, BaseTool]) -> None:
    def shown(name: str, args: dict[str, object]) -> list[tuple[str, str, bool]]:
        return [(t.arg, t.written, t.write) for t in targets_of(tools[name], args) or []]

    assert shown("copy_file", {"source": "names.txt", "destination": "archive"}) == [
        ("source", "names.txt", False),
        ("destination", "archive/names.txt", True),
    ]
    assert shown("move_file", {"source": "names.txt", "destination": "b.txt"}) == [
        ("source", "names.txt", True),
        ("destination", "b.txt", True),
    ]
    assert shown("sort_lines", {"path": "nums.txt"}) == [("path", "nums.txt", True)]
    assert shown("dedupe_lines", {"path": "nums.txt", "destination": "o.txt"}) == [
        ("path", "nums.txt", False),
        ("destination", "o.txt", True),
    ]


@pytest.mark.parametrize("name", WRITERS)
def test_the_default_policy_asks_for_each_writer(tools: dict[str, BaseTool], name: str) -> None:
    args = {"source": "names.txt", "destination": "b.txt", "path": "names.txt"}
    verdict = Policy.default().evaluate(tools[name], args)
    assert (verdict.action, verdict.reason) == ("ask", "write: ask (default)")


def test_path_rules_apply_to_source_and_destination(tools: dict[str, BaseTool]) -> None:
    policy = Policy.from_dict(
        {
            "rules": [
                {"tool": "copy_file", "action": "allow", "paths": ["notes/**", "*.txt"]},
                {"tool": "move_file", "action": "allow", "paths": ["*.txt"]},
                {"tool": "*", "action": "deny", "paths": ["secrets/**"]},
            ]
        }
    )
    copy, move = tools["copy_file"], tools["move_file"]
    assert policy.evaluate(copy, {"source": "names.txt", "destination": "b.txt"}).action == "allow"
    assert policy.evaluate(copy, {"source": "names.txt", "destination": "x.md"}).action == "ask"
    assert policy.evaluate(copy, {"source": "x.md", "destination": "b.txt"}).action == "ask"
    for args in (
        {"source": "secrets/key.txt", "destination": "b.txt"},
        {"source": "names.txt", "destination": "secrets/k.txt"},
    ):
        assert policy.evaluate(copy, args).action == "deny", args
        assert policy.evaluate(move, args).action == "deny", args
    assert policy.evaluate(move, {"source": "a.txt", "destination": "b.txt"}).action == "allow"
    sort = tools["sort_lines"]
    assert policy.evaluate(sort, {"path": "names.txt", "destination": "secrets/s"}).action == (
        "deny"
    )


def test_always_allow_covers_every_path_of_a_copy(tools: dict[str, BaseTool]) -> None:
    copy = tools["copy_file"]
    args = {"source": "notes/a.md", "destination": "archive"}
    options = always_options(copy, args)
    assert [o["pattern"] for o in options] == [
        "notes/a.md, archive/a.md",
        "notes/*, archive/*",
        "notes/**, archive/**",
    ]
    assert options[0]["label"] == "copy_file on notes/a.md and archive/a.md only"
    policy = Policy()
    for option in options:
        rule = pattern_rule(args, option["pattern"], tool=copy)
        policy.add_always_allow("copy_file", **rule, scope="thread", thread_id="t")
        assert policy.evaluate(copy, args, thread_id="t").action == "allow", option
    assert pattern_rule(args, None, tool=copy) == {"paths": ["notes/a.md", "archive/a.md"]}
    elsewhere = {"source": "names.txt", "destination": "archive/n.txt"}
    assert policy.evaluate(copy, elsewhere, thread_id="t").action == "ask"


def test_each_writer_has_routing_examples(tools: dict[str, BaseTool]) -> None:
    for name in (*WRITERS, "set_field"):
        examples = examples_for(tools[name])
        worked = [e for e in examples if "args" in e]
        assert len(worked) == 1 and 3 <= len(examples) - 1 <= 5, name
        assert worked[0]["answer"] == worked[0]["result"].splitlines()[0]


def test_destinations_the_task_names(tools: dict[str, BaseTool]) -> None:
    def grounded(name: str, arg: str, text: str) -> object:
        return choices(tools[name], GROUNDED_ARGS[name][arg], text)

    assert grounded("copy_file", "destination", "copy names.txt to backup/names.txt") == [
        "backup/names.txt"
    ]
    assert grounded("move_file", "destination", "Move names.txt into the archive folder") == [
        "archive/"
    ]
    assert grounded("copy_file", "source", "copy names.txt to b.txt") == [
        "blob.bin",
        "crlf.txt",
        "names.txt",
        "nums.txt",
    ]
    assert grounded("sort_lines", "destination", "Sort names.txt") == [""]
    # a new file named: only there (the source stays as it is)
    assert grounded("sort_lines", "destination", "sort names.txt into out/sorted.txt") == [
        "out/sorted.txt"
    ]
    assert grounded("dedupe_lines", "destination", "dedupe the list") is None


def test_the_approval_target_is_where_the_call_writes(root: Path) -> None:
    tools = {t.name: t for t in builtin_tools(load_settings(), workspace=root)}
    copy = {"source": "names.txt", "destination": "archive"}
    assert call_target(tools["copy_file"], copy) == str(root / "archive" / "names.txt")
    move = {"source": "names.txt", "destination": "b.txt"}
    assert call_target(tools["move_file"], move) == str(root / "b.txt")
    assert call_target(tools["count"], {"path": "nums.txt"}) == str(root / "nums.txt")
