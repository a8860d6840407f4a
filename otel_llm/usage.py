"""Token usage of one LLM run, read from whichever place the provider put it.

Shared by every handler that reads usage (the OTel handler, the token counter),
so they always agree on what a run cost.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["IMAGE_SIZE_GUESSED_KEY", "USAGE_ESTIMATED_KEY", "TokenUsage", "usage_from_result"]

#: ``llm_output`` key set by our SDK instrumentation when it counted tokens itself.
USAGE_ESTIMATED_KEY = "otel_llm_usage_estimated"
#: ``llm_output`` key: that estimate counted images whose size it could not know (remote
#: URLs), at an assumed size.
IMAGE_SIZE_GUESSED_KEY = "otel_llm_image_size_guessed"


@dataclass(frozen=True, slots=True)
class TokenUsage:
    """Counts as the GenAI conventions define them.

    ``input_tokens`` includes cached ones, ``output_tokens`` includes reasoning
    ones. ``estimated`` is true when the numbers were counted locally
    (tiktoken) rather than reported by the provider.
    """

    input_tokens: int | None = None
    output_tokens: int | None = None
    cache_read_input_tokens: int | None = None
    cache_creation_input_tokens: int | None = None
    reasoning_output_tokens: int | None = None
    estimated: bool = False


def usage_from_result(response: Any) -> TokenUsage | None:
    """``llm_output["token_usage"]`` (provider-reported) first, else the messages' usage."""
    llm_output = getattr(response, "llm_output", None) or {}
    estimated = llm_output.get(USAGE_ESTIMATED_KEY) is True
    reported = llm_output.get("token_usage") or llm_output.get("usage")
    if type(reported) is dict or isinstance(reported, Mapping):
        usage = _from_provider_usage(reported, estimated)
        if usage is not None:
            return usage
    return _from_usage_metadata(getattr(response, "generations", None) or [], estimated)


def _from_provider_usage(raw: Mapping[str, Any], estimated: bool) -> TokenUsage | None:
    # OpenAI names first, then Anthropic-style names that some LangChain models forward
    # (looked up only when the OpenAI count is not a plain non-negative int).
    inputs, outputs = raw.get("prompt_tokens"), raw.get("completion_tokens")
    if type(inputs) is not int or inputs < 0:
        inputs = _count(raw, "prompt_tokens", "input_tokens")
    if type(outputs) is not int or outputs < 0:
        outputs = _count(raw, "completion_tokens", "output_tokens")
    if inputs is None and outputs is None:
        return None
    prompt_details = raw.get("prompt_tokens_details") or raw.get("input_tokens_details") or {}
    completion_details = (
        raw.get("completion_tokens_details") or raw.get("output_tokens_details") or {}
    )
    cache_read = prompt_details.get("cached_tokens") if type(prompt_details) is dict else None
    if type(cache_read) is not int or cache_read < 0:
        cache_read = _count(prompt_details, "cached_tokens")
    # Cache writes: OpenAI's ``cache_write_tokens`` (null or absent where it reports none),
    # else Anthropic's name. Read without a call where absent: this runs on every LLM end.
    written = None
    if type(prompt_details) is not dict or "cache_write_tokens" in prompt_details:
        written = _count(prompt_details, "cache_write_tokens")
    if written is None and "cache_creation_input_tokens" in raw:
        written = _count(raw, "cache_creation_input_tokens")
    reasoning = (completion_details.get("reasoning_tokens")
                 if type(completion_details) is dict else None)
    if type(reasoning) is not int or reasoning < 0:
        reasoning = _count(completion_details, "reasoning_tokens")
    return TokenUsage(
        input_tokens=inputs,
        output_tokens=outputs,
        cache_read_input_tokens=cache_read
        if cache_read is not None
        else _count(raw, "cache_read_input_tokens"),
        cache_creation_input_tokens=written,
        reasoning_output_tokens=reasoning,
        estimated=estimated,
    )


def _from_usage_metadata(generations: Any, estimated: bool) -> TokenUsage | None:
    """Sum LangChain's ``usage_metadata`` over prompts (one request each), first generation each."""
    totals = [0, 0, 0, 0, 0]
    seen = [False] * 5
    for per_prompt in generations:
        if not per_prompt:
            continue
        meta = getattr(getattr(per_prompt[0], "message", None), "usage_metadata", None)
        if not isinstance(meta, Mapping):
            continue
        in_details = meta.get("input_token_details") or {}
        out_details = meta.get("output_token_details") or {}
        values = (
            _count(meta, "input_tokens"),
            _count(meta, "output_tokens"),
            _count(in_details, "cache_read"),
            _count(in_details, "cache_creation"),
            _count(out_details, "reasoning"),
        )
        for i, value in enumerate(values):
            if value is not None:
                totals[i] += value
                seen[i] = True
    if not (seen[0] or seen[1]):
        return None
    got = [t if s else None for t, s in zip(totals, seen, strict=True)]
    return TokenUsage(
        input_tokens=got[0],
        output_tokens=got[1],
        cache_read_input_tokens=got[2],
        cache_creation_input_tokens=got[3],
        reasoning_output_tokens=got[4],
        estimated=estimated,
    )


def _count(raw: Any, *keys: str) -> int | None:
    if type(raw) is not dict and not isinstance(raw, Mapping):  # dict first: ABC checks are slow
        return None
    for key in keys:
        value = raw.get(key)
        if type(value) is int:  # the common case, without the isinstance checks
            if value >= 0:
                return value
        elif isinstance(value, int) and not isinstance(value, bool) and value >= 0:
            return value
    return None
