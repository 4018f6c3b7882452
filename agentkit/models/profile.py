"""What kind of model a chat model is: the one place that decides "small".

Steering (agentkit.steering) is on for small models only, and it is
decided from the model actually built (``model_profile(model)``), never from
the settings: a custom model factory gets what its model is.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Protocol, runtime_checkable

from agentkit.errors import AgentkitError

SMALL_MODEL_PARAMS = 2_000_000_000


@dataclass(frozen=True)
class ModelProfile:
    """``n_params`` 0 means unknown. ``base``: no chat template (a base model
    continues patterns rather than following instructions). ``served``: the
    model runs on a server, whose weights agentkit does not inspect."""

    n_params: int = 0
    base: bool = False
    served: bool = False
    tuned: bool = False
    """A LoRA adapter trained on agentkit's episodes is loaded (its steering
    is the preset for tuned models)."""

    @property
    def small(self) -> bool:
        """An in-process model under 2B parameters: small-model steering helps it."""
        return not self.served and 0 < self.n_params < SMALL_MODEL_PARAMS

    def describe(self) -> str:
        size = f"{self.n_params / 1e9:.2f}B parameters" if self.n_params else "size unknown"
        kind = "served" if self.served else ("base model" if self.base else "chat model")
        tuned = ", tuned adapter" if self.tuned else ""
        return f"{size}, {kind}{tuned}, {'small' if self.small else 'capable'}"


CAPABLE = ModelProfile()


@runtime_checkable
class Profiled(Protocol):
    def agentkit_profile(self) -> ModelProfile: ...


def model_profile(model: object) -> ModelProfile:
    """The profile a model reports (agentkit's chat models and the scripted
    test model do); any other chat model (a hosted API, your own) counts as
    capable."""
    if isinstance(model, Profiled):
        return model.agentkit_profile()
    return CAPABLE


@lru_cache(maxsize=16)
def file_profile(path: Path) -> ModelProfile:
    """The profile of a GGUF file, from its metadata (no weights loaded)."""
    from agentkit.models.resolve import read_gguf_info

    try:
        info = read_gguf_info(path)
    except AgentkitError:
        return CAPABLE  # reported when the model loads
    return ModelProfile(n_params=info.n_params, base=not info.chat_template)
