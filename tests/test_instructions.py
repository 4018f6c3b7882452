"""Project instructions on real files: AGENTS.md and .agentkit/instructions.md
from the workspace up to the project root go into the system prompt (the
cached prefix), capped; a thread in another workspace gets that workspace's;
``agentkit doctor`` lists them; switching them off leaves the prompt alone."""

from __future__ import annotations

from pathlib import Path

import pytest
from control_support import control_agent, control_settings
from typer.testing import CliRunner

from agentkit.cli import app
from agentkit.instructions import CUT_MARKER, load_instructions
from agentkit.testing import final


def project(tmp_path: Path) -> Path:
    """tmp/proj (a git project) with AGENTS.md, and ws below it with its own."""
    root = tmp_path / "proj"
    ws = root / "pkg" / "ws"
    ws.mkdir(parents=True)
    (root / ".git").mkdir()
    (root / "AGENTS.md").write_text("Use tabs. Run make test.\n")
    (ws / ".agentkit").mkdir()
    (ws / ".agentkit" / "instructions.md").write_text("This package is frozen.\n")
    (tmp_path / "AGENTS.md").write_text("OUTSIDE THE PROJECT\n")  # above the root: never read
    return ws


def test_files_from_the_workspace_up_to_the_project_root(tmp_path: Path) -> None:
    ws = project(tmp_path)
    found = load_instructions(ws)
    assert [f.path.name for f in found.files] == ["AGENTS.md", "instructions.md"]
    assert found.project_root == (tmp_path / "proj").resolve()
    assert found.text.index("Use tabs") < found.text.index("frozen"), "nearest last"
    assert "OUTSIDE" not in found.text


def test_the_cap(tmp_path: Path) -> None:
    ws = project(tmp_path)
    found = load_instructions(ws, max_chars=10)
    assert found.truncated and CUT_MARKER.format(limit=10) in found.text
    assert "frozen" not in found.text, "nothing left for the second file"


def test_they_are_in_the_system_prompt_of_every_call(tmp_path: Path) -> None:
    ws = project(tmp_path)
    settings = control_settings(tmp_path).model_copy(update={"workspace": ws})
    agent, model, _ = control_agent(tmp_path, [final("a"), final("b")], settings=settings)
    agent.run("one", "t")
    agent.run("two", "t")
    systems = [str(p[0].content) for p in model.prompts]
    assert all("Use tabs. Run make test." in s and "This package is frozen." in s for s in systems)
    assert systems[0] == systems[1], "part of the stable (cached) prefix"
    assert agent.instructions.files


def test_switched_off(tmp_path: Path) -> None:
    ws = project(tmp_path)
    settings = control_settings(tmp_path).model_copy(
        update={"workspace": ws, "project_instructions": False}
    )
    agent, model, _ = control_agent(tmp_path, [final("a")], settings=settings)
    agent.run("one", "t")
    assert "Use tabs" not in str(model.prompts[0][0].content)


def test_a_thread_in_another_workspace_gets_its_own(tmp_path: Path) -> None:
    ws = project(tmp_path)
    other = tmp_path / "other"
    other.mkdir()
    (other / "AGENTS.md").write_text("Other rules.\n")
    settings = control_settings(tmp_path).model_copy(update={"workspace": ws})
    agent, model, _ = control_agent(tmp_path, [final("a"), final("b")], settings=settings)
    agent.run("one", "t")
    agent.threads.relocate("t", other)
    agent.run("two", "t")
    assert "Use tabs" in str(model.prompts[0][0].content)
    assert "Other rules." in str(model.prompts[1][0].content)
    assert "Use tabs" not in str(model.prompts[1][0].content)


def test_doctor_lists_them(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ws = project(tmp_path)
    monkeypatch.setenv("AGENTKIT_WORKSPACE", str(ws))
    monkeypatch.setenv("AGENTKIT_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("AGENTKIT_MODEL", str(tmp_path / "missing.gguf"))
    out = CliRunner().invoke(app, ["doctor"], env={"COLUMNS": "200"})
    assert "project instructions" in out.output
    assert "AGENTS.md" in out.output and "instructions.md" in out.output
