"""SDK results as ``LLMResult``: generations, finish reasons and usage in OpenAI's names.

Handlers read usage from ``llm_output["token_usage"]`` with Chat Completions
field names, so the Responses API's ``input_tokens``/``output_tokens`` are
renamed here, once, for every handler.
"""

from __future__ import annotations

from typing import Any

from otel_llm.instrumentation.openai._request import field, tool_call
from otel_llm.schema import AIMessage, ChatGeneration, Generation, LLMResult

__all__ = [
    "chat_result",
    "completion_result",
    "embeddings_result",
    "llm_output",
    "responses_finish_reason",
    "responses_result",
    "responses_usage",
    "usage_dict",
]


def usage_dict(usage: Any) -> dict[str, Any] | None:
    """A Chat Completions / Completions / Embeddings ``usage`` object as the wire dict."""
    if usage is None:
        return None
    to_dict = getattr(usage, "to_dict", None)
    if callable(to_dict):
        result = to_dict()
        return result if isinstance(result, dict) else None
    return dict(usage) if isinstance(usage, dict) else None


def responses_usage(usage: Any) -> dict[str, Any] | None:
    """A Responses API ``usage`` in Chat Completions names."""
    if usage is None:
        return None
    prompt, completion = field(usage, "input_tokens"), field(usage, "output_tokens")
    total = field(usage, "total_tokens")
    out: dict[str, Any] = {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": total if isinstance(total, int) else (prompt or 0) + (completion or 0),
    }
    details = field(usage, "input_tokens_details")
    prompt_details = {key: count for key in ("cached_tokens", "cache_write_tokens")
                      if isinstance(count := field(details, key), int)}
    if prompt_details:
        out["prompt_tokens_details"] = prompt_details
    reasoning = field(field(usage, "output_tokens_details"), "reasoning_tokens")
    if isinstance(reasoning, int):
        out["completion_tokens_details"] = {"reasoning_tokens": reasoning}
    return out


def llm_output(usage: dict[str, Any] | None, model: Any, response_id: Any,
               fingerprint: Any = None, service_tier: Any = None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if usage is not None:
        out["token_usage"] = usage
    if model:
        out["model_name"] = model
    if response_id:
        out["id"] = response_id
    if fingerprint:
        out["system_fingerprint"] = fingerprint
    if service_tier:
        out["service_tier"] = service_tier
    return out


def chat_result(response: Any) -> LLMResult:
    generations: list[Generation] = []
    for choice in response.choices or ():
        message = choice.message
        calls = [tool_call(c.function.name, c.function.arguments, c.id)
                 for c in message.tool_calls or () if getattr(c, "function", None) is not None]
        legacy = getattr(message, "function_call", None)
        if legacy is not None:
            calls.append(tool_call(legacy.name, legacy.arguments, None))
        ai = AIMessage(content=message.content or "", tool_calls=calls)
        refusal = getattr(message, "refusal", None)
        if refusal:
            ai.additional_kwargs["refusal"] = refusal
        generations.append(
            ChatGeneration(message=ai, generation_info={"finish_reason": choice.finish_reason})
        )
    return LLMResult(
        generations=[generations],
        llm_output=llm_output(usage_dict(response.usage), response.model, response.id,
                              getattr(response, "system_fingerprint", None),
                              getattr(response, "service_tier", None)),
    )


def completion_result(response: Any) -> LLMResult:
    generations: list[Generation] = [
        Generation(text=choice.text or "", generation_info={"finish_reason": choice.finish_reason})
        for choice in response.choices or ()
    ]
    return LLMResult(
        generations=[generations],
        llm_output=llm_output(usage_dict(response.usage), response.model, response.id,
                              getattr(response, "system_fingerprint", None)),
    )


def embeddings_result(response: Any) -> LLMResult:
    return LLMResult(generations=[[]],
                     llm_output=llm_output(usage_dict(response.usage), response.model, None))


def responses_finish_reason(response: Any, has_calls: bool) -> str:
    """Responses have a status, not a finish reason: map it to Chat Completions' words."""
    status = field(response, "status")
    if status == "completed":
        return "tool_calls" if has_calls else "stop"
    if status == "incomplete":
        reason = field(field(response, "incomplete_details"), "reason")
        return "length" if reason in (None, "max_output_tokens") else str(reason)
    return "error" if status == "failed" else str(status or "")


def responses_result(response: Any) -> LLMResult:
    texts: list[str] = []
    calls: list[dict[str, Any]] = []
    for item in field(response, "output") or ():
        kind = field(item, "type")
        if kind == "message":
            texts.extend(
                t for part in field(item, "content") or ()
                if isinstance(t := field(part, "text"), str)
            )
        elif kind == "function_call":
            calls.append(tool_call(field(item, "name"), field(item, "arguments"),
                                   field(item, "call_id")))
    generation = ChatGeneration(
        message=AIMessage(content="".join(texts), tool_calls=calls),
        generation_info={"finish_reason": responses_finish_reason(response, bool(calls))},
    )
    return LLMResult(
        generations=[[generation]],
        llm_output=llm_output(responses_usage(field(response, "usage")), field(response, "model"),
                              field(response, "id"), None, field(response, "service_tier")),
    )
