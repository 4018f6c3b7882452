"""Bad input on every file option, and empty tasks: one ``error:`` line that
names the file (and the line and column, or the key), exit code 2, never a
traceback, and nothing saved."""

from __future__ import annotations

from pathlib import Path

import pytest
from fault_support import THREAD, Harness, assert_clean


@pytest.fixture
def harness(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Harness:
    h = Harness(tmp_path, monkeypatch)
    files = {
        "misspelt.yaml": b"tasks:\n  - tsak: Summarise notes.txt\n",
        "broken.yaml": b"tasks:\n  - task: ok\n  - task: [unclosed\n",
        "latin1.yaml": "tasks:\n  - task: r\xe9sum\xe9\n".encode("latin-1"),
        "blank.yaml": b"tasks:\n  - task: '   '\n",
        "latin1.toml": "[side_effects]\nwrite = 'allow'  # caf\xe9\n".encode("latin-1"),
        "broken.toml": b"[side_effects]\nwrite = \n",
        "folder": None,
    }
    for name, content in files.items():
        path = h.work / name
        if content is None:
            path.mkdir()
        else:
            path.write_bytes(content)
    return h


CASES = {
    "misspelt key": (["run", "--file", "misspelt.yaml"], ["misspelt.yaml", "unknown key 'tsak'"]),
    "yaml syntax": (["run", "--file", "broken.yaml"], ["broken.yaml:3:", "invalid YAML"]),
    "tasks not utf-8": (["run", "--file", "latin1.yaml"], ["latin1.yaml", "not UTF-8"]),
    "tasks is a directory": (["run", "--file", "folder"], ["folder is a directory"]),
    "blank task in file": (["run", "--file", "blank.yaml"], ["blank.yaml", "task is empty"]),
    "empty task": (["run", ""], ["task is empty"]),
    "blank task": (["run", "  \t "], ["task is empty"]),
    "policy not utf-8": (["run", "x", "--policy", "latin1.toml"], ["latin1.toml", "not UTF-8"]),
    "policy is a directory": (["run", "x", "--policy", "folder"], ["folder is a directory"]),
    "policy syntax": (["run", "x", "--policy", "broken.toml"], ["broken.toml:2:", "invalid TOML"]),
    "settings not utf-8": (["run", "x", "--config", "latin1.toml"], ["latin1.toml", "UTF-8"]),
    "settings is a directory": (["config", "show", "--config", "folder"], ["is a directory"]),
    "settings syntax": (["threads", "list", "--config", "broken.toml"], ["broken.toml:2:"]),
    "export to a directory": (["threads", "export", THREAD, "--output", "folder"], ["folder"]),
    "resume with bad json": (["resume", THREAD, "--edit", "w1", "--args", "{"], ["--args"]),
}


@pytest.mark.parametrize("case", list(CASES))
def test_one_line_and_nothing_saved(harness: Harness, case: str) -> None:
    args, says = CASES[case]
    if case in ("export to a directory", "resume with bad json"):
        assert_clean(harness.run(), {3})  # a thread to export or resume
    before = harness.status()
    outcome = harness.cli(*args)
    assert_clean(outcome, {2})
    assert len(outcome.text.strip().splitlines()) == 1, outcome
    (line,) = outcome.error_lines()
    for words in says:
        assert words in line, line
    assert harness.status() == before  # nothing saved, nothing run
