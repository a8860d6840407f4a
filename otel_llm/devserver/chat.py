"""Wire builders for ``/v1/chat/completions`` and the legacy ``/v1/completions``.

Shapes follow the recorded production traffic field for field (see the
recordings in ``shared/fixtures/openai-recordings``) so the SDK's typed models
and any instrumentation reading them behave as against api.openai.com. Stream
events are pre-encoded here; the chunk envelope is serialised once per
response and only the delta is encoded per chunk.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from itertools import chain, zip_longest
from typing import Any

from otel_llm.devserver.errors import context_length_error
from otel_llm.devserver.options import Controls
from otel_llm.devserver.scripts import (
    chat_reply,
    group,
    message_text,
    pieces,
    prompt_reply,
    structured,
    tool_call_plan,
)
from otel_llm.devserver.usage import (
    PromptCache,
    chat_usage,
    completion_tokens,
    fit_pieces,
    input_tokens,
    prompt_tokens,
    reasoning_tokens,
    text_tokens,
)
from otel_llm.devserver.wire import (
    SSE_DONE,
    SYSTEM_FINGERPRINT,
    ApiError,
    Reply,
    dumps,
    new_id,
    now,
    served_tier,
)

__all__ = ["chat_completion", "text_completion"]

LEGACY_DEFAULT_MAX_TOKENS = 16  # what /v1/completions uses when max_tokens is absent


@dataclass
class _Choice:
    parts: list[str]
    finish_reason: str = "stop"
    calls: list[tuple[str, str, str]] = field(default_factory=list)  # (id, name, arguments)

    @property
    def text(self) -> str:
        return "".join(self.parts)


def _require_list(body: Mapping[str, Any], key: str) -> list[Any]:
    value = body.get(key)
    if value is None:
        raise ApiError(
            400,
            f"Missing required parameter: '{key}'.",
            param=key,
            code="missing_required_parameter",
        )
    if not isinstance(value, list) or not value:
        raise ApiError(
            400,
            f"Invalid '{key}': empty array. Expected an array with minimum length 1, "
            "but got an empty array instead.",
            param=key,
            code="empty_array",
        )
    return value


def _limit(body: Mapping[str, Any], default: int | None = None) -> int | None:
    value = body.get("max_completion_tokens", body.get("max_tokens"))
    return default if value is None else int(value)


def chat_completion(
    body: Mapping[str, Any], controls: Controls, *, context_window: int, cache: PromptCache
) -> Reply:
    messages = _require_list(body, "messages")
    model = controls.model
    tools = body.get("tools") or []
    prompt = prompt_tokens(messages, model, tools, body.get("tool_choice"))
    if prompt > context_window:
        raise context_length_error(context_window, prompt)
    cached = cache.cached([messages, tools], prompt)
    reasoning = reasoning_tokens(model, body.get("reasoning_effort"))
    limit = _limit(body)

    functions = [t["function"] for t in tools if isinstance(t, Mapping) and "function" in t]
    tool_choice = body.get("tool_choice", "auto")
    forced = tool_choice == "required" or isinstance(tool_choice, Mapping)
    wants_tools = forced or messages[-1].get("role") != "tool"
    users = [m for m in messages if m.get("role") == "user"]
    user_text = message_text(users[-1].get("content")) if users else ""

    choices: list[_Choice] = []
    for i in range(max(1, int(body.get("n") or 1))):
        plan = []
        if functions and wants_tools:
            plan = tool_call_plan(
                functions,
                tool_choice,
                user_text,
                count=controls.tool_calls,
                parallel=body.get("parallel_tool_calls") is not False,
            )
        if plan:
            calls = [(new_id("call_", 24), name, args) for name, args in plan]
            choices.append(_Choice([], "tool_calls", calls))
            continue
        reply = chat_reply(messages, length=controls.length, choice=i)
        text = structured(body.get("response_format"), reply)
        parts, cut = pieces(text), False
        if limit is not None:
            parts, cut = fit_pieces(parts, max(0, limit - reasoning), model)
        choices.append(_Choice(parts, "length" if cut else "stop"))

    completion = sum(
        completion_tokens(c.text, model, [(n, a) for _, n, a in c.calls]) + reasoning
        for c in choices
    )
    usage = chat_usage(prompt, completion, cached, reasoning * len(choices))
    cid, created = new_id("chatcmpl-"), now()
    if body.get("stream"):
        include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
        return Reply.stream(
            _chat_events(cid, created, model, choices, controls.chunk, usage, include_usage,
                         served_tier(body))
        )
    return Reply.json(
        {
            "id": cid,
            "object": "chat.completion",
            "created": created,
            "model": model,
            "choices": [_chat_choice(i, c) for i, c in enumerate(choices)],
            "usage": usage,
            "service_tier": served_tier(body),
            "system_fingerprint": SYSTEM_FINGERPRINT,
        }
    )


def _chat_choice(index: int, choice: _Choice) -> dict[str, Any]:
    message: dict[str, Any] = {
        "role": "assistant",
        "content": None if choice.calls else choice.text,
        "refusal": None,
        "annotations": [],
    }
    if choice.calls:
        message["tool_calls"] = [
            {"id": cid, "type": "function", "function": {"name": name, "arguments": args}}
            for cid, name, args in choice.calls
        ]
    return {
        "index": index,
        "message": message,
        "logprobs": None,
        "finish_reason": choice.finish_reason,
    }


def _envelope(head: Mapping[str, Any], include_usage: bool) -> tuple[bytes, bytes]:
    """Bytes before and after the ``choices`` list of every chunk of one stream."""
    prefix = b"data: " + dumps(dict(head))[:-1].encode() + b',"choices":['
    suffix = b'],"usage":null}\n\n' if include_usage else b"]}\n\n"
    return prefix, suffix


def _delta(index: int, delta: str, finish_reason: str | None = None) -> bytes:
    finish = "null" if finish_reason is None else f'"{finish_reason}"'
    return (
        f'{{"index":{index},"delta":{delta},"logprobs":null,"finish_reason":{finish}}}'.encode()
    )


def _choice_deltas(index: int, choice: _Choice, chunk: int) -> list[bytes]:
    if choice.calls:
        out = [_delta(index, '{"role":"assistant","content":null}')]
        for k, (cid, name, args) in enumerate(choice.calls):
            function = {"name": name, "arguments": ""}
            first = {"index": k, "id": cid, "type": "function", "function": function}
            out.append(_delta(index, dumps({"tool_calls": [first]})))
            head = f'{{"tool_calls":[{{"index":{k},"function":{{"arguments":'
            out.extend(
                _delta(index, f"{head}{dumps(piece)}}}}}]}}")
                for piece in group(pieces(args), chunk)
            )
    else:
        out = [_delta(index, '{"role":"assistant","content":"","refusal":null}')]
        out.extend(
            _delta(index, '{"content":' + dumps(piece) + "}")
            for piece in group(choice.parts, chunk)
        )
    out.append(_delta(index, "{}", choice.finish_reason))
    return out


def _chat_events(
    cid: str,
    created: int,
    model: str,
    choices: Sequence[_Choice],
    chunk: int,
    usage: dict[str, Any],
    include_usage: bool,
    tier: str,
) -> list[bytes]:
    head = {
        "id": cid,
        "object": "chat.completion.chunk",
        "created": created,
        "model": model,
        "service_tier": tier,
        "system_fingerprint": SYSTEM_FINGERPRINT,
    }
    prefix, suffix = _envelope(head, include_usage)
    per_choice = [_choice_deltas(i, c, chunk) for i, c in enumerate(choices)]
    ordered = chain.from_iterable(zip_longest(*per_choice))  # n > 1: choices interleave
    events = [prefix + d + suffix for d in ordered if d is not None]
    if include_usage:
        events.append(b"data: " + dumps({**head, "choices": [], "usage": usage}).encode() + b"\n\n")
    events.append(SSE_DONE)
    return events


def _prompts(body: Mapping[str, Any]) -> list[str | list[int]]:
    prompt = body.get("prompt")
    if prompt is None:
        raise ApiError(
            400, "Missing required parameter: 'prompt'.", param="prompt",
            code="missing_required_parameter",
        )
    if isinstance(prompt, str) or (
        isinstance(prompt, list) and prompt and isinstance(prompt[0], int)
    ):
        return [prompt]
    return list(prompt) or [""]


def text_completion(
    body: Mapping[str, Any], controls: Controls, *, context_window: int, cache: PromptCache
) -> Reply:
    """Legacy completions: a continuation of each prompt, 16 tokens unless told otherwise."""
    model = controls.model
    prompts = _prompts(body)
    prompt = input_tokens(body["prompt"], model)
    if prompt > context_window:
        raise context_length_error(context_window, prompt, param="prompt")
    limit = _limit(body, LEGACY_DEFAULT_MAX_TOKENS)
    n = max(1, int(body.get("n") or 1))
    choices: list[_Choice] = []
    completion = 0
    for p in prompts:
        text_prompt = p if isinstance(p, str) else ""
        for i in range(n):
            reply = prompt_reply(text_prompt.strip(), length=controls.length, choice=i)
            if text_prompt and not text_prompt[-1].isspace():
                reply = " " + reply
            parts, cut = pieces(reply), False
            if limit is not None:
                parts, cut = fit_pieces(parts, limit, model)
            completion += text_tokens("".join(parts), model)
            if body.get("echo") and text_prompt:
                parts.insert(0, text_prompt)
            choices.append(_Choice(parts, "length" if cut else "stop"))
    usage = {"prompt_tokens": prompt, "completion_tokens": completion,
             "total_tokens": prompt + completion}
    cid, created = new_id("cmpl-"), now()
    head = {"id": cid, "object": "text_completion", "created": created, "model": model}
    if not body.get("stream"):
        return Reply.json({
            **head,
            "choices": [
                {"text": c.text, "index": i, "logprobs": None, "finish_reason": c.finish_reason}
                for i, c in enumerate(choices)
            ],
            "usage": usage,
        })
    include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
    prefix, suffix = _envelope(head, include_usage)
    per_choice = [
        [
            *(b'{"text":%s,"index":%d,"logprobs":null,"finish_reason":null}'
              % (dumps(piece).encode(), i) for piece in group(c.parts, controls.chunk)),
            b'{"text":"","index":%d,"logprobs":null,"finish_reason":"%s"}'
            % (i, c.finish_reason.encode()),
        ]
        for i, c in enumerate(choices)
    ]
    events = [prefix + d + suffix for d in chain.from_iterable(zip_longest(*per_choice)) if d]
    if include_usage:
        events.append(b"data: " + dumps({**head, "choices": [], "usage": usage}).encode() + b"\n\n")
    events.append(SSE_DONE)
    return Reply.stream(events)
