"""Tasks files for ``agentkit run --file``: several tasks, each with its
tools, policy, limits and the outcome it expects (docs/agent.md)::

    tasks:
      - id: summary
        task: Summarise notes.txt into summary.md
        tools: [read_file, write_file]
        policy: policy.toml            # relative to this file
        max_steps: 6
        expect:
          status: finished
          answer_contains: [summary]
          files: {summary.md: "notes"}  # the file exists and contains the text
      - Just a task, with the defaults

A bare list works too.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, field_validator

from agentkit.errors import ConfigError
from agentkit.events import RunResult, RunStatus
from agentkit.user_files import read_user_file, validate_user_data


class Expectations(BaseModel):
    """What a finished task must show; a miss makes ``agentkit run`` exit 1."""

    model_config = ConfigDict(extra="forbid")

    status: RunStatus | None = None
    answer_contains: list[str] = Field(default_factory=list)
    files: dict[str, str | None] = Field(default_factory=dict)  # name -> text it contains

    def missed(self, result: RunResult, base: Path) -> list[str]:
        """What ``result`` missed: an empty list means it met every expectation."""
        problems: list[str] = []
        if self.status is not None and result.status != self.status:
            problems.append(f"status {result.status!r}, expected {self.status!r}")
        for needle in self.answer_contains:
            if needle.lower() not in result.answer.lower():
                problems.append(f"answer lacks {needle!r}")
        for name, needle in self.files.items():
            file = base / name
            if not file.is_file():
                problems.append(f"file {name} was not written")
            elif needle and needle.lower() not in _read(file).lower():
                problems.append(f"file {name} lacks {needle!r}")
        return problems


class TaskSpec(BaseModel):
    """One task of a tasks file (or the one task given on the command line)."""

    model_config = ConfigDict(extra="forbid")

    task: str
    id: str | None = None
    tools: list[str] | None = None
    policy: Path | None = None
    max_steps: int | None = Field(None, ge=1)
    expect: Expectations | None = None
    thread: str | None = None

    @field_validator("task")
    @classmethod
    def _says_something(cls, task: str) -> str:
        if not task.strip():
            raise ValueError("the task is empty: say what the agent should do")
        return task


class TasksFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    tasks: list[TaskSpec] = Field(min_length=1)

    @field_validator("tasks", mode="before")
    @classmethod
    def _bare_strings_are_tasks(cls, tasks: object) -> object:
        if isinstance(tasks, list):
            return [{"task": t} if isinstance(t, str) else t for t in tasks]
        return tasks


def load_tasks(path: Path) -> list[TaskSpec]:
    """The tasks of ``path``: ids default to ``task1``, ``task2``...; a
    policy path is relative to the tasks file."""
    import yaml

    data = read_user_file(path, "tasks file", yaml.safe_load, yaml.YAMLError, "YAML")
    if not isinstance(data, dict | list):
        raise ConfigError(f"{path}: expected a non-empty `tasks:` list")
    spec = validate_user_data(
        TasksFile, {"tasks": data} if isinstance(data, list) else data, str(path)
    )
    return [
        task.model_copy(
            update={
                "id": task.id or f"task{i}",
                "policy": (path.parent / task.policy).resolve() if task.policy else None,
            }
        )
        for i, task in enumerate(spec.tasks, start=1)
    ]


def _read(file: Path) -> str:
    return file.read_text(encoding="utf-8", errors="replace")
