"""LangChain's standard chat-model suites against ChatLlama on the bundled model.

Capabilities the model truly lacks are switched off through the suite's own
properties (which makes the suite skip those tests); each says why.
"""

from __future__ import annotations

from typing import Any

import pytest
from langchain_tests.integration_tests import ChatModelIntegrationTests
from langchain_tests.unit_tests import ChatModelUnitTests

from agentkit.models.chat import ChatLlama


def _params(model: str = "bundled:gemma3-270m") -> dict[str, Any]:
    from agentkit.config import load_settings
    from agentkit.models.resolve import resolve_model_path

    path = resolve_model_path(model, load_settings().resolved_cache_dir())
    return {"model_path": str(path), "model": model, "temperature": 0.0}


class _Capabilities:
    @property
    def chat_model_class(self) -> type[ChatLlama]:
        return ChatLlama

    @property
    def chat_model_params(self) -> dict[str, Any]:
        return _params()

    @property
    def has_tool_choice(self) -> bool:
        return True

    @property
    def supports_json_mode(self) -> bool:
        return True

    # Text-only GGUF model: no image, audio, PDF or video inputs (the suite
    # skips the tests for these when False).
    @property
    def supports_image_inputs(self) -> bool:
        return False

    @property
    def supports_image_tool_message(self) -> bool:
        return False

    @property
    def supports_model_override(self) -> bool:
        # One process-wide llama.cpp engine per model file; switching the model
        # per call (invoke(model=...)) would load another GGUF. Not supported.
        return False


class TestChatLlamaUnit(_Capabilities, ChatModelUnitTests):
    @property
    def chat_model_params(self) -> dict[str, Any]:
        # Unit tests never load the model: a fixed path keeps the serialised
        # snapshot (test_serdes) the same on every machine.
        return {
            "model_path": "/models/gemma-3-270m-q4_k_m.gguf",
            "model": "bundled:gemma3-270m",
            "temperature": 0.0,
        }


@pytest.mark.model
class TestChatLlamaIntegration(_Capabilities, ChatModelIntegrationTests):
    @property
    def chat_model_params(self) -> dict[str, Any]:
        # The base model rarely ends a reply by itself: cap replies so the
        # suite runs in minutes on 2 cores.
        return {**_params(), "max_tokens": 40}

    @pytest.mark.xfail(
        reason="base model answers the cat-joke prompt in JSON mode with "
        "{'type': 'string'} (valid JSON, no setup/punchline keys)",
        strict=True,
    )
    def test_json_mode(self, model: Any) -> None:
        super().test_json_mode(model)

    @pytest.mark.xfail(
        reason="base model copies the English gloss, not the Japanese name: "
        "for the 'Hello Corporation' prompt it calls unicode_customer with "
        "customer_name='Hello Corporation' (the Chinese prompt passes)",
        strict=False,
    )
    def test_unicode_tool_call_integration(self, model: Any, **kwargs: Any) -> None:
        super().test_unicode_tool_call_integration(model, **kwargs)


@pytest.mark.model
class TestChatLlamaSmolLM2Integration(_Capabilities, ChatModelIntegrationTests):
    """The same suite on a second architecture: SmolLM2-135M Instruct, whose own
    chat template (ChatML, from the GGUF's metadata) renders the prompt."""

    @property
    def chat_model_params(self) -> dict[str, Any]:
        return {**_params("bundled:smollm2-135m"), "max_tokens": 40}

    # JSON mode's grammar is any object: the 135M model fills it wrongly
    # (output quoted at temperature 0).
    @pytest.mark.xfail(
        reason="SmolLM2-135M answers the cat-joke prompt in JSON mode with "
        "{'type': 'object'} (valid JSON, no setup/punchline keys)",
        strict=False,
    )
    def test_json_mode(self, model: Any) -> None:
        super().test_json_mode(model)
