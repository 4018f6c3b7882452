"""Project instructions: ``AGENTS.md`` files the agent follows in a project.

``AGENTS.md`` and ``.agentkit/instructions.md`` are read from the workspace
root and from each parent directory up to the project root (the nearest
directory, from the workspace up, with a ``.git``; the workspace itself when
there is none). Outer directories come first, so the instructions nearest the
workspace come last and read as the most specific. The text is capped at
``instructions_max_chars`` (a marker says where it was cut) and goes at the
end of the system prompt, so it is part of the cached prefix of every prompt.

``agentkit doctor`` and the TUI's context panel show which files were read.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from agentkit.config import Settings

FILE_NAMES = ("AGENTS.md", ".agentkit/instructions.md")
HEADER = "Project instructions (from {names}); follow them:"
CUT_MARKER = "\n[... cut at {limit} characters ...]"


@dataclass(frozen=True)
class InstructionFile:
    path: Path
    chars: int  # its length
    used: int  # how many of its characters made it into the prompt


@dataclass(frozen=True)
class ProjectInstructions:
    files: list[InstructionFile] = field(default_factory=list)
    text: str = ""  # what goes into the system prompt ("" when there is none)
    project_root: Path | None = None

    @property
    def truncated(self) -> bool:
        return any(f.used < f.chars for f in self.files)


def project_root(workspace: Path) -> Path:
    """The nearest directory from ``workspace`` up that holds a ``.git``
    (the workspace itself when none does)."""
    for directory in (workspace, *workspace.parents):
        if (directory / ".git").exists():
            return directory
    return workspace


def find_files(workspace: Path) -> list[Path]:
    """Instruction files, outermost directory first."""
    workspace = workspace.resolve()
    root = project_root(workspace)
    chain = [workspace]
    if root != workspace:
        for parent in workspace.parents:
            chain.append(parent)
            if parent == root:
                break
    found: list[Path] = []
    for directory in reversed(chain):
        for name in FILE_NAMES:
            candidate = directory / name
            if candidate.is_file():
                found.append(candidate)
    return found


def load_instructions(workspace: Path, max_chars: int = 8000) -> ProjectInstructions:
    """The instructions for ``workspace``, capped at ``max_chars`` in all."""
    files: list[InstructionFile] = []
    parts: list[str] = []
    budget = max_chars
    for path in find_files(workspace):
        try:
            text = path.read_text(encoding="utf-8", errors="replace").strip()
        except OSError:
            continue
        if not text:
            continue
        used = min(len(text), max(budget, 0))
        files.append(InstructionFile(path=path, chars=len(text), used=used))
        if used:
            rel = _shown(path, workspace)
            body = text[:used] + (CUT_MARKER.format(limit=max_chars) if used < len(text) else "")
            parts.append(f"# {rel}\n{body}")
        budget -= used
    if not parts:
        return ProjectInstructions(files=files, project_root=project_root(workspace.resolve()))
    names = ", ".join(_shown(f.path, workspace) for f in files if f.used)
    text = HEADER.format(names=names) + "\n" + "\n\n".join(parts)
    return ProjectInstructions(
        files=files, text=text, project_root=project_root(workspace.resolve())
    )


def from_settings(settings: Settings) -> ProjectInstructions:
    if not settings.project_instructions:
        return ProjectInstructions()
    workspace = settings.resolved_workspace()
    if not workspace.is_dir():
        return ProjectInstructions()
    return load_instructions(workspace, settings.instructions_max_chars)


def _shown(path: Path, workspace: Path) -> str:
    """A path as the user recognises it: relative to the workspace when it is
    inside, else as is."""
    try:
        return str(path.relative_to(workspace.resolve()))
    except ValueError:
        return str(path)
