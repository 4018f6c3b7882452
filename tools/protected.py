"""What the approval policy needs to know about paths (docs/security.md):
the protected-path lists (files that run code or steer agentkit, written
only after a human's yes), :class:`PathTarget` (where a path argument really
leads) and pinned targets (a write must still lead where it was checked).
:class:`~agentkit.tools.workspace.Workspace` applies them."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from agentkit.config import Settings


def named_in(path: str | None, text: str) -> bool:
    """Whether ``text`` names ``path`` (as a whole word; ``.`` never counts):
    a file the user named is one they vouch for (``trust_named_files``)."""
    if not path:
        return False
    path = path.strip().removeprefix("./").rstrip("/")
    if path in ("", ".", ".."):
        return False
    return re.search(rf"(?<![\w./-]){re.escape(path)}(?![\w/-]|\.\w)", text) is not None


# Glob (relative to the workspace root, matched case-insensitively) -> why a
# write there needs a human. Each leads to code execution or to agentkit's
# own control. ``unprotect_paths`` removes entries (agentkit doctor warns).
_GIT = "git metadata: hooks and config (core.fsmonitor, core.pager, core.hooksPath) run code"
_RC = "a shell or tool startup file: runs in every new shell or git command"
PROTECTED_PATHS: dict[str, str] = {
    "**/.git": _GIT,
    "**/.git/**": _GIT,
    "**/.agentkit": "agentkit's data dir: policy, approvals, threads",
    "**/.agentkit/**": "agentkit's data dir: policy, approvals, threads",
    "**/agentkit.toml": "agentkit's config: MCP server commands, the policy file",
    "**/.envrc": "direnv runs it when a shell enters the directory",
    "**/.vscode/**": "editor config: tasks, launch configs and settings run code",
    "**/.idea/**": "editor config: run configurations and tools run code",
    "**/.devcontainer/**": "dev container config: its commands run when the project opens",
    "**/.pre-commit-config.yaml": "pre-commit runs its hooks on every git commit",
    "**/sitecustomize.py": "Python imports it at every start",
    "**/usercustomize.py": "Python imports it at every start",
    "**/*.pth": "Python runs its import lines at every start (in site-packages)",
    **{
        f"**/{name}": _RC
        for name in (
            ".bashrc",
            ".bash_profile",
            ".bash_login",
            ".bash_logout",
            ".profile",
            ".zshrc",
            ".zshenv",
            ".zprofile",
            ".zlogin",
            ".zlogout",
            ".kshrc",
            ".cshrc",
            ".tcshrc",
            ".inputrc",
            ".gitconfig",
        )
    },
    "**/.config/fish/**": _RC,
    "**/.config/git/**": _RC,
    "**/.ssh/**": "ssh keys and config (authorized_keys, ProxyCommand)",
}
# Build entry points: the next `make`, `npm test` or `pytest` runs them. Not
# built in (agents edit them often); ``protect_build_files = true`` adds them.
_BUILD = "a build or test entry point: the next build or test run executes it"
BUILD_FILES: dict[str, str] = {
    f"**/{name}": _BUILD
    for name in (
        "Makefile",
        "GNUmakefile",
        "*.mk",
        "justfile",
        ".justfile",
        "Taskfile.yml",
        "Taskfile.yaml",
        "package.json",
        "setup.py",
        "pyproject.toml",
        "conftest.py",
        "noxfile.py",
        "tox.ini",
        "Rakefile",
        "build.gradle",
        "build.gradle.kts",
        "CMakeLists.txt",
        "build.rs",
        ".gitlab-ci.yml",
        ".github/workflows/**",
    )
}


def protected_patterns(
    extra: Iterable[str] = (), *, build_files: bool = False, removed: Iterable[str] = ()
) -> dict[str, str]:
    """The protected-path globs: the built-in ones (less ``removed``), the
    build files when asked, and the user's ``extra``."""
    gone = set(removed)
    found = {p: why for p, why in PROTECTED_PATHS.items() if p not in gone}
    if build_files:
        found.update(BUILD_FILES)
    for pattern in extra:
        found.setdefault(pattern, "listed in protected_paths")
    return found


def unknown_unprotected(removed: Iterable[str]) -> list[str]:
    """Entries of ``unprotect_paths`` that name no built-in protected path."""
    return [p for p in removed if p not in PROTECTED_PATHS]


def security_warnings(settings: Settings) -> list[str]:
    """What ``agentkit doctor`` warns about: built-in protections switched off."""
    warnings = []
    for pattern in settings.unprotect_paths:
        if pattern in PROTECTED_PATHS:
            warnings.append(
                f"unprotect_paths removes the built-in protected path {pattern} "
                f"({PROTECTED_PATHS[pattern]}): an allow rule now lets the agent write it "
                "without asking"
            )
    for pattern in unknown_unprotected(settings.unprotect_paths):
        warnings.append(
            f"unprotect_paths: {pattern!r} is not a built-in protected path; ignored "
            "(entries must match the list in docs/security.md exactly)"
        )
    if settings.untrusted_content == "off":
        warnings.append(
            "untrusted_content = 'off': calls that copy text from web pages or files are "
            "allowed by rules like any other"
        )
    if settings.read_hard_links:
        warnings.append(
            "read_hard_links = true: file tools read hard-linked files, which may be files "
            "outside the workspace"
        )
    return warnings


@dataclass(frozen=True)
class PathTarget:
    """What one path argument will really touch.

    ``lexical`` is the path as written, relative to the root with ``.`` and
    ``..`` collapsed (symlinks not followed); ``resolved`` is the real path
    relative to the root, every symlink followed. Either is None when it
    leads outside the root. ``real`` is the absolute real path.
    """

    arg: str
    written: str
    lexical: str | None
    resolved: str | None
    real: str | None = None
    write: bool = False
    protected: str | None = None  # why writing it needs a human's yes

    @property
    def redirected(self) -> bool:
        """The real path differs from the written one (a symlink on the way)."""
        return self.lexical != self.resolved

    def shown(self) -> str:
        """``notes/up/.bashrc → .bashrc`` when they differ, else the path."""
        if self.resolved is None:
            return f"{self.written} → (outside the workspace)"
        if self.redirected:
            return f"{self.written} → {self.resolved}"
        return self.written


_PINNED: ContextVar[Mapping[str, str] | None] = ContextVar("agentkit_pinned_targets", default=None)


@contextmanager
def pinned_targets(pinned: Mapping[str, str] | None) -> Iterator[None]:
    """While the block runs, a write to a path in ``pinned`` (as written ->
    the real path it was evaluated for, relative to the workspace root) must
    still lead there, or it
    is refused: a symlink swapped in after the policy (or the human) looked
    cannot redirect it."""
    token = _PINNED.set(dict(pinned) if pinned else None)
    try:
        yield
    finally:
        _PINNED.reset(token)
