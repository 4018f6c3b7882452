"""A GGUF LoRA adapter loaded through llama-cpp-python really applies:
llama.cpp's logits and greedy output change, and the adapted model is its
own shared engine (the base model's callers are unaffected)."""

from __future__ import annotations

import numpy as np
import pytest

pytestmark = pytest.mark.model

PROMPTS = ["The capital of France is", "List three colours:", "Write a haiku about rain."]


def _logits(model, prompt: str) -> np.ndarray:
    engine = model.engine
    engine.reset_cache()
    engine.llm.eval(engine.tokenize(prompt))
    return engine.logits().copy()


def test_loading_an_adapter_changes_llama_cpps_output(real_chat_model, adapted_chat_model) -> None:
    assert adapted_chat_model.engine is not real_chat_model.engine
    assert adapted_chat_model.engine.llm._lora_adapter is not None
    assert real_chat_model.engine.llm._lora_adapter is None
    changed = 0
    for prompt in PROMPTS:
        drift = np.abs(_logits(adapted_chat_model, prompt) - _logits(real_chat_model, prompt))
        assert drift.max() > 0.1, prompt
        plain = real_chat_model.invoke(prompt, max_tokens=12).content
        changed += adapted_chat_model.invoke(prompt, max_tokens=12).content != plain
        # The base model's engine still answers as before the adapter loaded.
        assert real_chat_model.invoke(prompt, max_tokens=12).content == plain
    assert changed >= 1
