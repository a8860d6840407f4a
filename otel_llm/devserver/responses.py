"""Wire builder for ``/v1/responses``: the response object and its event stream.

The stream replays production's event order (created, in_progress, item and part
added, text deltas, text/part/item done, completed) with ``sequence_number``s,
because the SDK's ``responses.stream()`` accumulator and instrumentation that
follows item ids depend on that order, not just on the final object.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from otel_llm.devserver.errors import context_length_error
from otel_llm.devserver.options import Controls
from otel_llm.devserver.scripts import (
    chat_reply,
    group,
    message_text,
    pieces,
    structured,
    tool_call_plan,
)
from otel_llm.devserver.usage import (
    PromptCache,
    completion_tokens,
    fit_pieces,
    prompt_tokens,
    reasoning_tokens,
)
from otel_llm.devserver.wire import ApiError, Reply, dumps, new_id, now, served_tier, sse_event

__all__ = ["response"]


def _as_messages(body: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The request's ``instructions`` and ``input`` as chat messages, for counting and replies."""
    messages: list[dict[str, Any]] = []
    if isinstance(body.get("instructions"), str):
        messages.append({"role": "system", "content": body["instructions"]})
    items = body.get("input")
    if items is None:
        raise ApiError(
            400, "Missing required parameter: 'input'.", param="input",
            code="missing_required_parameter",
        )
    if isinstance(items, str):
        return [*messages, {"role": "user", "content": items}]
    for item in items:
        kind = item.get("type", "message")
        if kind == "function_call":
            function = {"name": item.get("name", ""), "arguments": item.get("arguments", "")}
            call = {"id": item.get("call_id", ""), "type": "function", "function": function}
            messages.append({"role": "assistant", "content": None, "tool_calls": [call]})
        elif kind == "function_call_output":
            output = item.get("output", "")
            messages.append({
                "role": "tool",
                "tool_call_id": item.get("call_id", ""),
                "content": output if isinstance(output, str) else message_text(output),
            })
        elif "role" in item:
            role = "system" if item["role"] == "developer" else item["role"]
            messages.append({"role": role, "content": message_text(item.get("content"))})
    return messages


def _echo_tools(tools: list[Any]) -> list[dict[str, Any]]:
    return [
        {"description": None, "strict": True, **t} if t.get("type") == "function" else dict(t)
        for t in tools
        if isinstance(t, Mapping)
    ]


def response(
    body: Mapping[str, Any], controls: Controls, *, context_window: int, cache: PromptCache
) -> Reply:
    model = controls.model
    messages = _as_messages(body)
    tools = [t for t in body.get("tools") or [] if isinstance(t, Mapping)]
    functions = [t for t in tools if t.get("type") == "function"]
    chat_tools = [
        {"type": "function", "function": {k: v for k, v in f.items() if k != "type"}}
        for f in functions
    ]
    prompt = prompt_tokens(messages, model, chat_tools, body.get("tool_choice"))
    if prompt > context_window:
        raise context_length_error(context_window, prompt, param="input")
    cached = cache.cached([messages, chat_tools], prompt)
    reasoning = reasoning_tokens(model, (body.get("reasoning") or {}).get("effort"))

    tool_choice = body.get("tool_choice", "auto")
    forced = tool_choice == "required" or isinstance(tool_choice, Mapping)
    plan: list[tuple[str, str]] = []
    if functions and (forced or messages[-1].get("role") != "tool"):
        users = [m for m in messages if m.get("role") == "user"]
        plan = tool_call_plan(
            functions,
            tool_choice,
            str(users[-1]["content"]) if users else "",
            count=controls.tool_calls,
            parallel=body.get("parallel_tool_calls") is not False,
        )
    parts: list[str] = []
    cut = False
    if not plan:
        text_format = (body.get("text") or {}).get("format")
        parts = pieces(structured(text_format, chat_reply(messages, length=controls.length)))
        limit = body.get("max_output_tokens")
        if limit is not None:
            # A complete answer also spends the end-of-message token; a cut one does not.
            budget = max(0, int(limit) - reasoning)
            _, cut = fit_pieces(parts, budget - 1, model)
            if cut:
                parts, _ = fit_pieces(parts, budget, model)
    text = "".join(parts)
    if cut:
        completion = completion_tokens(text, model) + reasoning
    else:
        completion = completion_tokens(text, model, plan, endpoint="responses") + reasoning
    usage = {
        "input_tokens": prompt,
        "input_tokens_details": {"cached_tokens": cached, "cache_write_tokens": 0},
        "output_tokens": completion,
        "output_tokens_details": {"reasoning_tokens": reasoning},
        "total_tokens": prompt + completion,
    }

    rid, created = new_id("resp_", 50, hex_only=True), now()
    base: dict[str, Any] = {
        "id": rid,
        "object": "response",
        "created_at": created,
        "status": "in_progress",
        "background": False,
        "completed_at": None,
        "error": None,
        "frequency_penalty": 0.0,
        "incomplete_details": None,
        "instructions": body.get("instructions"),
        "max_output_tokens": body.get("max_output_tokens"),
        "max_tool_calls": body.get("max_tool_calls"),
        "model": model,
        "output": [],
        "parallel_tool_calls": body.get("parallel_tool_calls", True),
        "presence_penalty": 0.0,
        "previous_response_id": body.get("previous_response_id"),
        "prompt_cache_key": body.get("prompt_cache_key"),
        "prompt_cache_retention": None,
        "reasoning": {"effort": (body.get("reasoning") or {}).get("effort"), "summary": None},
        "safety_identifier": body.get("safety_identifier"),
        "service_tier": served_tier(body),
        "store": body.get("store", True),
        "temperature": body.get("temperature", 1.0),
        "text": body.get("text") or {"format": {"type": "text"}, "verbosity": "medium"},
        "tool_choice": tool_choice,
        "tools": _echo_tools(tools),
        "top_logprobs": body.get("top_logprobs", 0),
        "top_p": body.get("top_p", 1.0),
        "truncation": body.get("truncation", "disabled"),
        "usage": None,
        "user": body.get("user"),
        "metadata": body.get("metadata") or {},
    }
    items: list[dict[str, Any]] = []
    if reasoning:
        items.append({"id": new_id("rs_", 50, hex_only=True), "type": "reasoning", "summary": []})
    for name, arguments in plan:
        items.append({
            "id": new_id("fc_", 50, hex_only=True),
            "type": "function_call",
            "status": "completed",
            "arguments": arguments,
            "call_id": new_id("call_", 24),
            "name": name,
        })
    if not plan:
        content = {"type": "output_text", "annotations": [], "logprobs": [], "text": text}
        items.append({
            "id": new_id("msg_", 50, hex_only=True),
            "type": "message",
            "status": "incomplete" if cut else "completed",
            "content": [content],
            "role": "assistant",
        })
    final = {
        **base,
        "status": "incomplete" if cut else "completed",
        "completed_at": None if cut else now(),
        "incomplete_details": {"reason": "max_output_tokens"} if cut else None,
        "output": items,
        "usage": usage,
    }
    if not body.get("stream"):
        return Reply.json(final)
    return Reply.stream(_events(base, final, items, parts, controls.chunk))


def _events(
    base: dict[str, Any],
    final: dict[str, Any],
    items: list[dict[str, Any]],
    parts: list[str],
    chunk: int,
) -> list[bytes]:
    events: list[bytes] = []

    def emit(kind: str, **fields: Any) -> None:
        events.append(sse_event(kind, {"type": kind, **fields, "sequence_number": len(events)}))

    emit("response.created", response=base)
    emit("response.in_progress", response=base)
    for index, item in enumerate(items):
        if item["type"] == "function_call":
            emit(
                "response.output_item.added",
                item={**item, "status": "in_progress", "arguments": ""},
                output_index=index,
            )
            for piece in group(pieces(item["arguments"]), chunk):
                emit(
                    "response.function_call_arguments.delta",
                    delta=piece, item_id=item["id"], output_index=index,
                )
            emit(
                "response.function_call_arguments.done",
                arguments=item["arguments"], item_id=item["id"], output_index=index,
            )
        elif item["type"] == "message":
            iid = item["id"]
            emit(
                "response.output_item.added",
                item={**item, "status": "in_progress", "content": []},
                output_index=index,
            )
            part = item["content"][0]
            ids = {"content_index": 0, "item_id": iid, "output_index": index}
            emit("response.content_part.added", **ids, part={**part, "text": ""})
            # Deltas are the bulk of the stream: encode them from a template.
            head = (
                'event: response.output_text.delta\ndata: {"type":"response.output_text.delta",'
                '"content_index":0,"delta":'
            )
            tail = f',"item_id":"{iid}","logprobs":[],"output_index":{index},"sequence_number":'
            for piece in group(parts, chunk):
                events.append(f"{head}{dumps(piece)}{tail}{len(events)}}}\n\n".encode())
            emit("response.output_text.done", **ids, logprobs=[], text=part["text"])
            emit("response.content_part.done", **ids, part=part)
        else:
            emit("response.output_item.added", item=item, output_index=index)
        emit("response.output_item.done", item=item, output_index=index)
    kind = "response.incomplete" if final["status"] == "incomplete" else "response.completed"
    emit(kind, response=final)
    return events
