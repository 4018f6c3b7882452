"""Training examples: the prompt the agent renders for one act step and the
call it should produce, one JSON object per line.

``prompt`` is byte for byte what :class:`~agentkit.models.ChatLlama` sends
llama.cpp at that step (prompt format, steering's prompt, the tool
instructions, and the grammar's forced prefix such as
``<tool_call>{"name": "``); ``completion`` is the rest of the call, in the
canonical JSON the grammar writes, through ``</tool_call>``. The trainer
tokenises the two apart, as the engine does (it tokenises the prompt and the
model generates the rest), and puts the loss on the completion only.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from agentkit.errors import AgentkitError

Label = Literal["gold", "approved", "edited", "allowed", "answer"]
"""Where an example's completion comes from: an episode's gold solution, a
call a human approved, a human's edited arguments, a call the policy
allowed that ran without error, or a finished run's final answer."""


class TrainingExample(BaseModel):
    """One act step: ``prompt`` → ``completion``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    prompt: str = Field(min_length=1)
    completion: str = Field(min_length=1)
    source: str = Field(description="episode:<id> or thread:<id>.")
    step: int = Field(0, ge=0, description="Act step of the run, from 1 (0: unknown).")
    tools: list[str] = Field(default_factory=list, description="The tools the completion calls.")
    label: Label = "gold"
    tool_prompt: str = Field("", description="How the prompt described the tools.")
    steering: str = Field("", description="'tuned': rendered with the tuned-model preset.")


class DataError(AgentkitError):
    """A training-data file cannot be used."""


def write_jsonl(examples: Iterable[TrainingExample], path: Path | None = None) -> str:
    """The examples as JSON lines; written to ``path`` when given."""
    text = "".join(e.model_dump_json() + "\n" for e in examples)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return text


def read_jsonl(paths: Sequence[Path]) -> list[TrainingExample]:
    """Every example of ``paths``, in order; a bad line is one error naming
    the file and line."""
    examples: list[TrainingExample] = []
    for path in paths:
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except OSError as err:
            raise DataError(
                f"cannot read training data {path}: {err.strerror or err}",
                hint="pass a JSONL file written by `agentkit threads export --format training`",
            ) from None
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                examples.append(TrainingExample.model_validate(json.loads(line)))
            except (json.JSONDecodeError, ValidationError) as err:
                reason = (
                    err.errors()[0]["msg"] if isinstance(err, ValidationError) else err.msg
                ) + (
                    f" at {'.'.join(str(p) for p in err.errors()[0]['loc'])}"
                    if isinstance(err, ValidationError) and err.errors()[0]["loc"]
                    else ""
                )
                raise DataError(
                    f"{path}:{number} is not a training example ({reason})",
                    hint='each line is {"prompt": ..., "completion": ..., "source": ...}',
                ) from None
    return examples
