"""Imports go one way (README, "Architecture"): a module imports only from
its own layer or the layers below it, and never a private LangGraph name
except through the one wrapper in graphs/state.py."""

from __future__ import annotations

import ast
import importlib
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent
# Source folder -> installed package (pyproject.toml's package-dir).
PACKAGES = {
    "agentkit": "agentkit",
    "tools": "agentkit.tools",
    "graphs": "agentkit.graphs",
    "tui": "agentkit.tui",
}
# Bottom first. Packages of one layer may import each other.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("agentkit.errors", "agentkit.events"),
    ("agentkit.config", "agentkit.user_files", "agentkit._llama_compat"),
    (
        "agentkit",  # the package itself: prewarm()
        "agentkit.models",
        "agentkit.memory",
        "agentkit.tools",
        "agentkit.approvals",
        "agentkit.testing",
        "agentkit.tracing",
    ),
    ("agentkit.graphs", "agentkit.checkpoint", "agentkit.postgres", "agentkit.claims"),
    (
        "agentkit.threads",
        "agentkit.agent",
        "agentkit.session",
        "agentkit.audit",
        "agentkit.export",
        "agentkit.rewind",
        "agentkit.repair",
    ),
    ("agentkit.cli", "agentkit.tui", "agentkit.bench", "agentkit.evals", "agentkit.acp"),
)
PRIVATE_LANGGRAPH_ALLOWED = {
    ("agentkit.graphs.state", "langgraph.graph.message", "_messages_delta_reducer")
}


def layer_of(module: str) -> int:
    best, found = "", -1
    for index, names in enumerate(LAYERS):
        for name in names:
            if (module == name or module.startswith(name + ".")) and len(name) > len(best):
                best, found = name, index
    assert found >= 0, f"{module} is in no layer: add it to LAYERS (and the README)"
    return found


def sources() -> list[tuple[str, Path]]:
    out = []
    for folder, package in PACKAGES.items():
        for path in sorted((ROOT / folder).rglob("*.py")):
            parts = [*package.split("."), *path.relative_to(ROOT / folder).with_suffix("").parts]
            if parts[-1] == "__init__":
                parts.pop()
            out.append((".".join(parts), path))
    return out


def imports(path: Path) -> list[tuple[str, list[str]]]:
    """(module, names) for every import, function-level ones included."""
    found: list[tuple[str, list[str]]] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [(alias.name, []) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.module, [alias.name for alias in node.names]))
    return found


SOURCES = sources()


@pytest.mark.parametrize(("module", "path"), SOURCES, ids=[m for m, _ in SOURCES])
def test_imports_go_down_the_layers(module: str, path: Path) -> None:
    own = layer_of(module)
    upward = []
    for target, names in imports(path):
        if target != "agentkit" and not target.startswith("agentkit."):
            continue
        # `from agentkit import prewarm` is the package; `from agentkit import _llama_compat` a module.
        targets = [
            f"{target}.{n}" if f"{target}.{n}" in dict(SOURCES) else target for n in names
        ] or [target]
        upward += [t for t in targets if layer_of(t) > own]
    assert not upward, f"{module} (layer {own}) imports from higher layers: {sorted(set(upward))}"


@pytest.mark.parametrize(("module", "path"), SOURCES, ids=[m for m, _ in SOURCES])
def test_no_private_langgraph_names(module: str, path: Path) -> None:
    for target, names in imports(path):
        if not target.startswith("langgraph"):
            continue
        assert "._" not in f".{target}", f"{module} imports the private module {target}"
        for name in names:
            if name.startswith("_"):
                assert (module, target, name) in PRIVATE_LANGGRAPH_ALLOWED, (
                    f"{module}: {target}.{name}"
                )


CITATION = re.compile(r":(?:func|class|mod|meth|data|attr|exc):`~?(agentkit(?:\.\w+)+)`")


def resolve(dotted: str) -> object:
    """The object a dotted name means: the longest importable module, then attributes."""
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            found: object = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        for name in parts[cut:]:
            found = getattr(found, name)
        return found
    raise ImportError(dotted)


@pytest.mark.parametrize(("module", "path"), SOURCES, ids=[m for m, _ in SOURCES])
def test_names_cited_in_docstrings_exist(module: str, path: Path) -> None:
    for dotted in CITATION.findall(path.read_text(encoding="utf-8")):
        try:
            resolve(dotted)
        except (ImportError, AttributeError):
            pytest.fail(f"{module} cites {dotted}, which does not exist")
