"""Model name -> encoding and chat layout."""

from __future__ import annotations

import pytest

from otel_llm.tokens import DEFAULT_ENCODING, encoding_for, encoding_name_for, normalize_model
from otel_llm.tokens.models import chat_format_for


@pytest.mark.parametrize(
    ("model", "expected"),
    [
        ("gpt-3.5-turbo", "cl100k_base"),
        ("gpt-3.5-turbo-0125", "cl100k_base"),
        ("gpt-35-turbo", "cl100k_base"),
        ("gpt-3.5-turbo-instruct", "cl100k_base"),
        ("gpt-4", "cl100k_base"),
        ("gpt-4-0613", "cl100k_base"),
        ("gpt-4-turbo-2024-04-09", "cl100k_base"),
        ("davinci-002", "cl100k_base"),
        ("babbage-002", "cl100k_base"),
        ("text-embedding-ada-002", "cl100k_base"),
        ("text-embedding-3-small", "cl100k_base"),
        ("text-embedding-3-large", "cl100k_base"),
        ("gpt-4o", "o200k_base"),
        ("gpt-4o-mini-2024-07-18", "o200k_base"),
        ("chatgpt-4o-latest", "o200k_base"),
        ("gpt-4.1-nano", "o200k_base"),
        ("gpt-5", "o200k_base"),
        ("gpt-5-nano-2025-08-07", "o200k_base"),
        ("gpt-5.2", "o200k_base"),
        ("o1", "o200k_base"),
        ("o1-mini", "o200k_base"),
        ("o3-mini-2025-01-31", "o200k_base"),
        ("o4-mini", "o200k_base"),
        ("ft:gpt-4o-mini-2024-07-18:org:name:abc123", "o200k_base"),
        ("ft:gpt-3.5-turbo:org::abc", "cl100k_base"),
        ("openai/gpt-4o", "o200k_base"),
        ("GPT-4O", "o200k_base"),
    ],
)
def test_known_models_map_to_their_encoding(model: str, expected: str) -> None:
    """Every supported family, dated snapshot and fine-tune resolves and is marked known."""
    assert encoding_name_for(model) == (expected, True)
    enc, known = encoding_for(model)
    assert (enc.name, known) == (expected, True)


@pytest.mark.parametrize("model", ["my-llama", "claude-3-5-sonnet", "text-davinci-003",
                                   "gpt-4x", "o1x", ""])
def test_unknown_models_fall_back_and_say_so(model: str) -> None:
    """Unrecognised names (incl. legacy encodings not shipped offline) get the default, flagged."""
    assert encoding_name_for(model) == (DEFAULT_ENCODING, False)
    assert encoding_for(model)[1] is False


def test_fine_tune_ids_normalise_to_base() -> None:
    """Fine-tune ids lose org, suffix and job id; provider prefixes are dropped."""
    assert normalize_model("ft:gpt-4o-mini:org::id") == "gpt-4o-mini"
    assert normalize_model("azure/gpt-4o") == "gpt-4o"


def test_reasoning_models_prime_with_two_tokens() -> None:
    """gpt-5 and o-series replies are primed with <|start|>assistant only."""
    assert chat_format_for("gpt-5-nano").reply_priming == 2
    assert chat_format_for("o3").reply_priming == 2
    assert chat_format_for("gpt-4o").reply_priming == 3


def test_only_pre_1106_models_use_legacy_tool_rendering() -> None:
    """gpt-4 (0613) renders tool history the old way; gpt-3.5-turbo (0125) does not."""
    assert chat_format_for("gpt-4").legacy_tools
    assert chat_format_for("gpt-3.5-turbo-0613").legacy_tools
    assert not chat_format_for("gpt-3.5-turbo").legacy_tools
    assert not chat_format_for("gpt-4-turbo").legacy_tools
    assert not chat_format_for("gpt-4o").legacy_tools
