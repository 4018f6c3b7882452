"""Attack surface: file tool paths. Every escape must be refused with a clear
error for read, list and write (and the other file tools), and nothing outside
the workspace may be read or changed."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest
from langchain_core.messages import ToolMessage
from langchain_core.tools import BaseTool

from agentkit.config import load_settings
from agentkit.tools.files import file_tools
from agentkit.tools.limits import ToolLimits
from agentkit.tools.workspace import PathRefused, Workspace, protected_paths_from_settings

SECRET = "TOP-SECRET-OUTSIDE"


@pytest.fixture
def layout(tmp_path: Path) -> dict[str, Path]:
    proj = tmp_path / "proj"
    (proj / "sub").mkdir(parents=True)
    (proj / "a.txt").write_text("inside\n")
    (proj / "sub" / "b.txt").write_text("inside b\n")
    evil = tmp_path / "proj-evil"  # sibling sharing the root's prefix
    evil.mkdir()
    (evil / "secret.txt").write_text(SECRET)
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text(SECRET)
    data = proj / ".agentkit"
    (data / "chroma").mkdir(parents=True)
    (data / "checkpoints.sqlite").write_text("db")
    (proj / "evil_link").symlink_to(evil)  # dir symlink pointing out
    (proj / "secret_link").symlink_to(outside / "secret.txt")  # file symlink pointing out
    (proj / "abs_link").symlink_to("/etc")  # absolute symlink
    (proj / "inner_link").symlink_to("sub")  # symlink that stays inside
    (proj / "data_link").symlink_to(".agentkit")  # inside, but to protected data
    return {"proj": proj, "evil": evil, "outside": outside, "data": data, "tmp": tmp_path}


@pytest.fixture
def tools(layout: dict[str, Path]) -> dict[str, BaseTool]:
    ws = Workspace(layout["proj"], protected=[layout["data"], layout["proj"] / "state.sqlite"])
    return {t.name: t for t in file_tools(ws, ToolLimits())}


def call(tool: BaseTool, args: dict[str, object]) -> ToolMessage:
    message = tool.invoke({"type": "tool_call", "name": tool.name, "args": args, "id": "t"})
    assert isinstance(message, ToolMessage)
    return message


def escapes(layout: dict[str, Path]) -> list[tuple[str, str, str]]:
    """(case id, path, expected words in the error)."""
    return [
        ("dotdot", "../outside/secret.txt", "outside the workspace"),
        ("dotdot-deep", "sub/../../outside/secret.txt", "outside the workspace"),
        ("absolute-outside", str(layout["outside"] / "secret.txt"), "outside the workspace"),
        ("absolute-etc", "/etc/passwd", "outside the workspace"),
        ("sibling-prefix", str(layout["evil"] / "secret.txt"), "outside the workspace"),
        ("sibling-prefix-dotdot", "../proj-evil/secret.txt", "outside the workspace"),
        ("symlink-dir-out", "evil_link/secret.txt", "symlink"),
        ("symlink-file-out", "secret_link", "symlink"),
        ("symlink-absolute", "abs_link/passwd", "symlink"),
        ("home", "~/.bashrc", "home-directory"),
        ("nul-byte", "a.txt\x00../../etc/passwd", "NUL"),
    ]


CASE_IDS = [c[0] for c in escapes({k: Path("/x") for k in ("outside", "evil")})]


@pytest.mark.parametrize("case", CASE_IDS)
def test_read_file_refuses_escape(
    case: str, layout: dict[str, Path], tools: dict[str, BaseTool]
) -> None:
    _, path, words = next(c for c in escapes(layout) if c[0] == case)
    message = call(tools["read_file"], {"path": path})
    assert message.status == "error"
    assert words in message.content
    assert SECRET not in message.content


@pytest.mark.parametrize("case", CASE_IDS)
def test_write_file_refuses_escape(
    case: str, layout: dict[str, Path], tools: dict[str, BaseTool]
) -> None:
    _, path, words = next(c for c in escapes(layout) if c[0] == case)
    message = call(tools["write_file"], {"path": path, "content": "pwned"})
    assert message.status == "error"
    assert words in message.content
    assert (layout["outside"] / "secret.txt").read_text() == SECRET
    assert (layout["evil"] / "secret.txt").read_text() == SECRET


@pytest.mark.parametrize("case", CASE_IDS)
def test_edit_file_refuses_escape(
    case: str, layout: dict[str, Path], tools: dict[str, BaseTool]
) -> None:
    _, path, words = next(c for c in escapes(layout) if c[0] == case)
    message = call(tools["edit_file"], {"path": path, "old_string": "TOP", "new_string": "pwned"})
    assert message.status == "error"
    assert words in message.content
    assert (layout["outside"] / "secret.txt").read_text() == SECRET


@pytest.mark.parametrize(
    "path,words",
    [
        ("..", "outside the workspace"),
        ("../proj-evil", "outside the workspace"),
        ("sub/../..", "outside the workspace"),
        ("evil_link", "symlink"),
        ("abs_link", "symlink"),
        ("/", "outside the workspace"),
    ],
)
@pytest.mark.parametrize("tool_name", ["list_dir", "glob", "grep"])
def test_listing_tools_refuse_escape(
    tool_name: str, path: str, words: str, layout: dict[str, Path], tools: dict[str, BaseTool]
) -> None:
    args: dict[str, object] = {"path": path}
    if tool_name == "glob":
        args["pattern"] = "**/*"
    if tool_name == "grep":
        args["pattern"] = "SECRET"
    message = call(tools[tool_name], args)
    assert message.status == "error"
    assert words in message.content
    assert "secret.txt" not in message.content


def test_absolute_sibling_dir_listing_refused(
    layout: dict[str, Path], tools: dict[str, BaseTool]
) -> None:
    message = call(tools["list_dir"], {"path": str(layout["evil"])})
    assert message.status == "error" and "outside the workspace" in message.content


def test_walks_never_follow_symlinks_out(
    layout: dict[str, Path], tools: dict[str, BaseTool]
) -> None:
    found = call(tools["grep"], {"pattern": "TOP-SECRET"})
    assert found.status == "success" and SECRET not in found.content
    listed = call(tools["glob"], {"pattern": "**/secret.txt"})
    assert listed.content.startswith("no paths match")


@pytest.mark.parametrize(
    "path",
    [
        ".agentkit/checkpoints.sqlite",
        ".agentkit/chroma/evil.bin",
        ".agentkit/new.txt",
        "data_link/x.txt",
        "state.sqlite",
        ".agentkit",
    ],
)
def test_data_dir_is_never_writable(
    path: str, layout: dict[str, Path], tools: dict[str, BaseTool]
) -> None:
    before = (layout["data"] / "checkpoints.sqlite").read_text()
    message = call(tools["write_file"], {"path": path, "content": "x"})
    assert message.status == "error"
    assert "agentkit's own data" in message.content or "is a directory" in message.content
    assert (layout["data"] / "checkpoints.sqlite").read_text() == before
    assert not (layout["data"] / "new.txt").exists()
    assert not (layout["proj"] / "state.sqlite").exists()


def test_data_dir_edit_refused(layout: dict[str, Path], tools: dict[str, BaseTool]) -> None:
    message = call(
        tools["edit_file"],
        {"path": ".agentkit/checkpoints.sqlite", "old_string": "db", "new_string": "x"},
    )
    assert message.status == "error" and "agentkit's own data" in message.content
    assert (layout["data"] / "checkpoints.sqlite").read_text() == "db"


def test_protected_paths_come_from_settings(
    layout: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    proj = layout["proj"]
    (proj / "agentkit.toml").write_text("")
    monkeypatch.chdir(proj)
    monkeypatch.delenv("AGENTKIT_CONFIG", raising=False)
    settings = load_settings(
        data_dir=proj / "store",
        checkpointer=str(proj / "threads.sqlite"),
        policy_file=proj / "rules.toml",
    )
    protected = protected_paths_from_settings(settings)
    ws = Workspace.from_settings(settings, proj)
    for target in (
        "store/x",
        "threads.sqlite",
        "threads.sqlite-wal",
        "rules.toml",
        "agentkit.toml",
    ):
        with pytest.raises(PathRefused, match="agentkit's own data"):
            ws.write_text(target, "x")
    assert (proj / "store").resolve() in protected


def test_allowed_paths_inside(layout: dict[str, Path], tools: dict[str, BaseTool]) -> None:
    proj = layout["proj"]
    assert "inside" in call(tools["read_file"], {"path": str(proj / "a.txt")}).content
    assert "inside" in call(tools["read_file"], {"path": "sub/../a.txt"}).content
    assert "inside b" in call(tools["read_file"], {"path": "inner_link/b.txt"}).content
    assert (
        call(tools["write_file"], {"path": "inner_link/new/c.txt", "content": "c"}).status
        == "success"
    )
    assert (proj / "sub" / "new" / "c.txt").read_text() == "c"


# --- check-then-use races (symlink swapped in after the check) ---------------------


def _swap_after_check(monkeypatch: pytest.MonkeyPatch, swap) -> None:  # type: ignore[no-untyped-def]
    original = Workspace.resolve

    def resolve_then_swap(self: Workspace, path: str, *, for_write: bool = False) -> Path:
        real = original(self, path, for_write=for_write)
        swap()
        return real

    monkeypatch.setattr(Workspace, "resolve", resolve_then_swap)


def test_swap_parent_dir_for_symlink_before_read(
    layout: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    proj, outside = layout["proj"], layout["outside"]
    (proj / "sub" / "secret.txt").write_text("harmless")
    ws = Workspace(proj)

    def swap() -> None:
        os.rename(proj / "sub", proj / "sub.orig")
        (proj / "sub").symlink_to(outside)

    _swap_after_check(monkeypatch, swap)
    with pytest.raises(PathRefused, match="symlink"):
        ws.read_bytes("sub/secret.txt")


def test_swap_file_for_symlink_before_read(
    layout: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    proj, outside = layout["proj"], layout["outside"]
    ws = Workspace(proj)

    def swap() -> None:
        (proj / "a.txt").unlink()
        (proj / "a.txt").symlink_to(outside / "secret.txt")

    _swap_after_check(monkeypatch, swap)
    with pytest.raises(PathRefused, match="symlink"):
        ws.read_bytes("a.txt")


def test_swap_parent_dir_for_symlink_before_write(
    layout: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    proj, outside = layout["proj"], layout["outside"]
    ws = Workspace(proj)

    def swap() -> None:
        os.rename(proj / "sub", proj / "sub.orig")
        (proj / "sub").symlink_to(outside)

    _swap_after_check(monkeypatch, swap)
    with pytest.raises(PathRefused, match="symlink"):
        ws.write_text("sub/secret.txt", "pwned")
    assert (outside / "secret.txt").read_text() == SECRET
    assert sorted(p.name for p in outside.iterdir()) == ["secret.txt"]


def test_swap_target_for_symlink_before_write_replaces_link_not_target(
    layout: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    proj, outside = layout["proj"], layout["outside"]
    ws = Workspace(proj)

    def swap() -> None:
        (proj / "a.txt").unlink()
        (proj / "a.txt").symlink_to(outside / "secret.txt")

    _swap_after_check(monkeypatch, swap)
    ws.write_text("a.txt", "new content")
    assert (outside / "secret.txt").read_text() == SECRET
    assert not (proj / "a.txt").is_symlink()
    assert (proj / "a.txt").read_text() == "new content"


def test_swap_dir_for_symlink_before_list(
    layout: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    proj, outside = layout["proj"], layout["outside"]
    ws = Workspace(proj)

    def swap() -> None:
        os.rename(proj / "sub", proj / "sub.orig")
        (proj / "sub").symlink_to(outside)

    _swap_after_check(monkeypatch, swap)
    with pytest.raises(PathRefused, match="symlink"):
        ws.list_dir("sub")


def test_concurrent_symlink_flipping_never_leaks(layout: dict[str, Path]) -> None:
    """A thread keeps swapping sub/ (a real directory) with a symlink to the
    outside while reads run: each read gets the inside file or an error, never
    the secret, even when the swap lands between the check and the open."""
    proj, outside = layout["proj"], layout["outside"]
    (proj / "sub" / "secret.txt").write_text("harmless")
    (proj / "sub.link").symlink_to(outside)
    stop = threading.Event()

    def flip() -> None:
        while not stop.is_set():
            try:
                os.rename(proj / "sub", proj / "sub.real")
                os.rename(proj / "sub.link", proj / "sub")
                os.rename(proj / "sub", proj / "sub.link")
                os.rename(proj / "sub.real", proj / "sub")
            except OSError:
                pass

    ws = Workspace(proj)
    worker = threading.Thread(target=flip)
    worker.start()
    leaked = ok = refused = 0
    try:
        for _ in range(1000):
            try:
                data, _ = ws.read_bytes("sub/secret.txt")
            except Exception:  # noqa: BLE001 - refused, or missing mid-flip
                refused += 1
                continue
            if SECRET.encode() in data:
                leaked += 1
            else:
                ok += 1
    finally:
        stop.set()
        worker.join()
    assert leaked == 0
    assert refused > 0


def test_symlink_loops_are_refused_not_half_resolved(tmp_path: Path) -> None:
    """Found by test_fuzz.py: realpath gives up inside a loop and returns the
    rest unresolved, so `loop/../in` came back as `in` (itself a symlink)."""
    (tmp_path / "sub").mkdir()
    (tmp_path / "in").symlink_to("sub")
    (tmp_path / "loop").symlink_to("loop2")
    (tmp_path / "loop2").symlink_to("loop")
    ws = Workspace(tmp_path)
    with pytest.raises(PathRefused, match="symlink loop"):
        ws.resolve("loop/../in/x.txt")
    target = ws.target("loop/../in/x.txt", write=True)
    assert target.resolved is None and target.redirected
    assert ws.target("in/x.txt").resolved == "sub/x.txt"
