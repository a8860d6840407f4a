"""The ``LLMResult`` our handlers get at an LLM run's end: LangChain's, with ``llm_output`` filled.

LangChain puts a run's facts in different places depending on the path: a
non-streamed ``ChatOpenAI`` call fills ``llm_output`` (``token_usage``,
``model_name``, ``id``), a stream leaves it empty and carries usage (if the
provider sent any) in the message's ``usage_metadata``. Every handler of ours
reads ``llm_output`` first, so the bridge completes it once per run, on a copy
(LangChain's object is shared with other handlers):

- ``token_usage`` in OpenAI's names from ``usage_metadata``; when the provider
  sent no usage at all (``astream`` without ``stream_usage``: no ``token_usage``
  key and no ``usage_metadata``), counted with
  tiktoken exactly as the SDK layer does for streams, and flagged with
  :data:`~otel_llm.usage.USAGE_ESTIMATED_KEY`. Only OpenAI and Azure OpenAI
  runs are estimated: other providers' tokenizers differ;
- ``model_name`` from the message's ``response_metadata``;
- from the SDK layer's details (see ``_ownership``): ``id``, ``model_name``,
  ``system_fingerprint`` and ``base_url`` when LangChain did not say them.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from otel_llm import semconv
from otel_llm.tokens import (
    count_completion_tokens,
    count_message_tokens,
    count_prompt_tokens,
    count_tool_call_tokens,
)
from otel_llm.usage import USAGE_ESTIMATED_KEY, TokenUsage, usage_from_result

__all__ = ["ESTIMATED_PROVIDERS", "LLMRequest", "completed", "provider_usage"]

logger = logging.getLogger("otel_llm.integrations.langchain")

#: Providers (semconv names) whose usage is estimated with tiktoken when they report none.
ESTIMATED_PROVIDERS = frozenset({semconv.PROVIDER_OPENAI, semconv.PROVIDER_AZURE_OPENAI})

# details key -> llm_output key, filled only when LangChain left it out.
_DETAILS = (("response_id", "id"), ("response_model", "model_name"),
            ("system_fingerprint", "system_fingerprint"), ("base_url", "base_url"))


@dataclass(frozen=True, slots=True)
class LLMRequest:
    """What an estimate needs from a run's start: its input and request model."""

    chat: bool
    inputs: Any  # the run's message list (chat) or prompt string
    model: str | None
    tools: Sequence[Any] | None = None
    tool_choice: Any = None


def completed(response: Any, request: LLMRequest | None,
              details: Mapping[str, Any] | None) -> Any:
    """``response`` with ``llm_output`` completed, or ``response`` itself if nothing was missing."""
    original = getattr(response, "llm_output", None)
    out: dict[str, Any] = dict(original) if isinstance(original, Mapping) else {}
    if details:
        for key, field in _DETAILS:
            value = details.get(key)
            if value and not out.get(field):
                out[field] = value
    if not out.get("model_name"):
        model = _first_response_metadata(response).get("model_name")
        if isinstance(model, str) and model:
            out["model_name"] = model
    usage = usage_from_result(response)
    # An explicit empty token_usage means "counted on another run" (LangChain's
    # LLMResult.flatten() keeps a batched call's usage on the first prompt only).
    if usage is None and request is not None and "token_usage" not in out:
        estimate = _estimate(request, response, out.get("model_name"))
        if estimate is not None:
            out["token_usage"] = estimate
            out[USAGE_ESTIMATED_KEY] = True
    elif usage is not None and not isinstance(out.get("token_usage"), Mapping):
        out["token_usage"] = provider_usage(usage)
    if out == (original or {}):
        return response
    return _with_llm_output(response, out)


def provider_usage(usage: TokenUsage) -> dict[str, Any]:
    """A :class:`TokenUsage` in OpenAI's ``usage`` names (what ``usage_from_result`` reads)."""
    raw: dict[str, Any] = {}
    if usage.input_tokens is not None:
        raw["prompt_tokens"] = usage.input_tokens
    if usage.output_tokens is not None:
        raw["completion_tokens"] = usage.output_tokens
    raw["total_tokens"] = (usage.input_tokens or 0) + (usage.output_tokens or 0)
    if usage.cache_read_input_tokens is not None:
        raw["prompt_tokens_details"] = {"cached_tokens": usage.cache_read_input_tokens}
    if usage.reasoning_output_tokens is not None:
        raw["completion_tokens_details"] = {"reasoning_tokens": usage.reasoning_output_tokens}
    if usage.cache_creation_input_tokens is not None:
        raw["cache_creation_input_tokens"] = usage.cache_creation_input_tokens
    return raw


def _estimate(request: LLMRequest, response: Any, response_model: Any) -> dict[str, Any] | None:
    """Usage counted locally, as the SDK layer counts a stream that came without usage."""
    model = response_model if isinstance(response_model, str) and response_model else (
        request.model)
    if not model:
        return None
    generations = getattr(response, "generations", None) or [[]]
    try:
        if request.chat:
            prompt = count_message_tokens(request.inputs, model, tools=request.tools or None,
                                          tool_choice=request.tool_choice)
        else:
            prompt = count_prompt_tokens(request.inputs, model)
        completion = sum(_output_tokens(g, model, request.chat) for g in generations[0] or ())
    except Exception as exc:  # e.g. tokenizer data missing: no usage rather than a wrong one
        logger.debug("usage estimate failed for %s: %r", model, exc)
        return None
    return {"prompt_tokens": prompt, "completion_tokens": completion,
            "total_tokens": prompt + completion}


def _output_tokens(generation: Any, model: str, chat: bool) -> int:
    calls = getattr(getattr(generation, "message", None), "tool_calls", None)
    if calls:  # a reply of tool calls is billed as the calls, as the API renders them
        return count_tool_call_tokens(calls, model)
    text = getattr(generation, "text", "") or ""
    return count_completion_tokens([text], model, endpoint="chat" if chat else "completions")


def _first_response_metadata(response: Any) -> Mapping[str, Any]:
    generations = getattr(response, "generations", None) or []
    first = generations[0][0] if generations and generations[0] else None
    meta = getattr(getattr(first, "message", None), "response_metadata", None)
    return meta if isinstance(meta, Mapping) else {}


def _with_llm_output(response: Any, llm_output: dict[str, Any]) -> Any:
    copy = getattr(response, "model_copy", None)  # LangChain's pydantic LLMResult
    if callable(copy):
        return copy(update={"llm_output": llm_output})
    if dataclasses.is_dataclass(response) and not isinstance(response, type):
        return dataclasses.replace(response, llm_output=llm_output)
    return response
