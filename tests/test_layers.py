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
# Bottom first. Packages of one layer may import each other; a module
# belongs to the longest name that prefixes it (agentkit.tools.base is the
# tool contract, agentkit.tools.files a concrete tool).
LAYERS: tuple[tuple[str, ...], ...] = (
    ("agentkit.errors", "agentkit.events"),
    (
        "agentkit.config",
        "agentkit.config_sections",
        "agentkit.user_files",
        "agentkit._llama_compat",
    ),
    # the model layer: GGUF files, llama.cpp, chat models, embedders
    (
        "agentkit",  # the package itself: prewarm()
        "agentkit.models",
        "agentkit.testing",
        "agentkit.tracing",
        "agentkit.hooks",
        "agentkit.instructions",
    ),
    ("agentkit.memory",),  # stores over the models' embedders
    # the tool contract: side effects, protected paths, globs, the workspace
    (
        "agentkit.tools.base",
        "agentkit.tools.protected",
        "agentkit.tools.globs",
        "agentkit.tools.workspace",
        "agentkit.tools.limits",
    ),
    ("agentkit.approvals", "agentkit.modes"),  # read the contract, never a concrete tool
    ("agentkit.tools",),  # the concrete tools
    ("agentkit.steering",),  # small-model steering over models and tools
    ("agentkit.graphs", "agentkit.checkpoint", "agentkit.postgres", "agentkit.claims"),
    (
        "agentkit.threads",
        "agentkit.thread_records",
        "agentkit.agent",
        "agentkit.agent_async",
        "agentkit.agent_loop",
        "agentkit.assembly",
        "agentkit.session",
        "agentkit.audit",
        "agentkit.export",
        "agentkit.rewind",
        "agentkit.repair",
    ),
    (
        "agentkit.cli",
        "agentkit.tui",
        "agentkit.bench",
        "agentkit.evals",
        "agentkit.acp",
        "agentkit.tune",
    ),
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


def upward_imports(module: str, path: Path) -> list[str]:
    """The agentkit modules ``path`` (module ``module``) imports from higher layers."""
    own = layer_of(module)
    known = dict(SOURCES)
    upward = []
    for target, names in imports(path):
        if target != "agentkit" and not target.startswith("agentkit."):
            continue
        # `from agentkit import prewarm` is the package; `from agentkit import _llama_compat` a module.
        targets = [f"{target}.{n}" if f"{target}.{n}" in known else target for n in names] or [
            target
        ]
        upward += [t for t in targets if layer_of(t) > own]
    return sorted(set(upward))


@pytest.mark.parametrize(("module", "path"), SOURCES, ids=[m for m, _ in SOURCES])
def test_imports_go_down_the_layers(module: str, path: Path) -> None:
    upward = upward_imports(module, path)
    assert not upward, f"{module} (layer {layer_of(module)}) imports from higher layers: {upward}"


@pytest.mark.parametrize(
    ("module", "source", "upward"),
    [
        # the cycles the layers exist to prevent, each added on purpose
        ("agentkit.models.factory", "from agentkit.memory.store import VectorStore", "memory"),
        ("agentkit.memory.knowledge", "from agentkit.tools.memory import memory_tools", "tools"),
        ("agentkit.approvals.policy", "from agentkit.tools.files import ReadFile", "tools"),
        ("agentkit.tools.base", "from agentkit.approvals.policy import Policy", "approvals"),
        ("agentkit.tools.files", "from agentkit.steering import steering_for", "steering"),
        ("agentkit.steering.small", "from agentkit.graphs.state import AgentState", "graphs"),
        ("agentkit.models.chat", "from agentkit.models.hints import DecodeHints", ""),
        # a function-level import counts too
        ("agentkit.tools.shell", "def f():\n    from agentkit.agent import Agent\n", "agent"),
    ],
)
def test_an_upward_import_is_caught(tmp_path: Path, module: str, source: str, upward: str) -> None:
    path = tmp_path / "probe.py"
    path.write_text(source + "\n", encoding="utf-8")
    found = upward_imports(module, path)
    if upward:
        assert found and all(f".{upward}" in f for f in found), found
    else:
        assert found == []


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


# Front ends see the model layer only through what agentkit.models exports
# (and its helper modules: resolve, prompt, kernels, remote, factory): never
# the engine, the modules its decode loop is made of, ChatLlama's module, a
# private name, or a chat model's engine attribute.
FRONT_ENDS = ("agentkit.cli", "agentkit.tui", "agentkit.acp")
MODEL_INTERNALS = tuple(
    f"agentkit.models.{name}"
    for name in (
        "engine",
        "decode",
        "sampling",
        "closing",
        "speculate",
        "forced",
        "generation",
        "chat",
    )
)
FRONT_END_SOURCES = [
    (m, p) for m, p in SOURCES if any(m == f or m.startswith(f + ".") for f in FRONT_ENDS)
]


@pytest.mark.parametrize(
    ("module", "path"), FRONT_END_SOURCES, ids=[m for m, _ in FRONT_END_SOURCES]
)
def test_front_ends_do_not_reach_into_the_model_layer(module: str, path: Path) -> None:
    found = []
    for target, names in imports(path):
        if target != "agentkit.models" and not target.startswith("agentkit.models."):
            continue
        modules = [f"{target}.{n}" for n in names if f"{target}.{n}" in dict(SOURCES)]
        found += [m for m in [target, *modules] if m.startswith(MODEL_INTERNALS)]
        found += [f"{target}.{n}" for n in names if n.startswith("_")]
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found += [
        f".{node.attr} (line {node.lineno})"
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute) and node.attr in ("engine", "llm")
    ]
    assert not found, (
        f"{module} uses model internals {sorted(set(found))}: use agentkit.models' exports "
        "(ensure_loaded, context_usage, ChatLlama, ...) or add one there"
    )


def test_the_front_end_check_sees_the_old_tui_import(tmp_path: Path) -> None:
    old = tmp_path / "views.py"
    old.write_text("from agentkit.models.engine import LlamaEngine\nx = model.engine\n")
    with pytest.raises(AssertionError, match=r"agentkit\.models\.engine.*\.engine \(line 2\)"):
        test_front_ends_do_not_reach_into_the_model_layer("agentkit.tui.views", old)


def test_every_package_ships() -> None:
    """A subpackage left out of pyproject's list works in an editable install
    and is missing from a wheel: every folder with an ``__init__.py`` is listed."""
    import tomllib

    listed = set(
        tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]
    )
    found = {module for module, path in SOURCES if path.name == "__init__.py"}
    assert found - listed == set()
