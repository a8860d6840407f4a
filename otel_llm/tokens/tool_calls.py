"""How tool calls are rendered for the model, in the history and as completions.

Since the 1106 models the API re-serialises a call's arguments (parsed, then
dumped compactly) and addresses the call like the model emits it:

* a single call: ``assistant to=functions.NAME`` + compact arguments;
* several calls: ``assistant to=multi_tool_use.parallel`` + compact
  ``{"tool_uses":[{"recipient_name":"functions.NAME","parameters":{...}}]}``;
* a tool result is headed ``NAME to=assistant`` (NAME found through
  ``tool_call_id``).

Pre-1106 models (gpt-4 = gpt-4-0613, gpt-3.5-turbo-0613) keep the argument
text as sent and head results with the bare function name.

Evidence: the history rule reproduces gpt-3.5-turbo-0125's ``prompt_tokens`` in
the shared recordings (40) and gpt-4-0613's in a published report (35). Only
the total of a call plus its result is pinned down by these numbers; how it
splits between the two messages is inferred. A completion that is a tool call
costs its rendering plus 4 tokens: measured at 16 (one call) and 46 (two calls)
on gpt-3.5-turbo-0125 and 18 on gpt-4-0613 (legacy ``function_call``).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from otel_llm.tokens.models import chat_format_for, encoding_for

__all__ = [
    "TOOL_CALL_COMPLETION_OVERHEAD",
    "ToolCall",
    "count_tool_call_tokens",
    "parse_tool_calls",
]

#: Tokens a tool-call completion costs beyond its rendered header and arguments.
TOOL_CALL_COMPLETION_OVERHEAD = 4


@dataclass(frozen=True)
class ToolCall:
    """A function call reduced to what the model sees."""

    name: str
    arguments: str
    id: str | None = None


def parse_tool_calls(calls: Iterable[Any]) -> list[ToolCall]:
    """Accept OpenAI wire dicts, OpenAI SDK objects, LangChain dicts or legacy function_call."""
    out: list[ToolCall] = []
    for call in calls:
        get = call.get if isinstance(call, Mapping) else lambda k, c=call: getattr(c, k, None)
        fn = get("function")
        if fn is not None:
            fget = fn.get if isinstance(fn, Mapping) else lambda k, f=fn: getattr(f, k, None)
            name, args = fget("name"), fget("arguments")
        else:  # LangChain {"name", "args", "id"} or a bare {"name", "arguments"}
            name, args = get("name"), get("arguments")
            if args is None:
                args = get("args")
        if not isinstance(args, str):
            args = json.dumps(args if args is not None else {}, ensure_ascii=False)
        out.append(ToolCall(str(name or ""), args, get("id")))
    return out


def compact_arguments(arguments: str) -> str:
    """Arguments as the API re-serialises them; unparsable text is kept as is."""
    try:
        return json.dumps(json.loads(arguments), separators=(",", ":"), ensure_ascii=False)
    except ValueError:
        return arguments


def history_renderings(calls: list[ToolCall], legacy: bool) -> list[tuple[str, str]]:
    """``(header, body)`` per assistant message the calls become in the history."""
    if legacy:
        return [(f"assistant to=functions.{c.name}", c.arguments) for c in calls]
    if len(calls) == 1:
        c = calls[0]
        return [(f"assistant to=functions.{c.name}", compact_arguments(c.arguments))]
    return [("assistant to=multi_tool_use.parallel", _parallel_body(calls))]


def result_header(name: str, legacy: bool) -> str:
    """Header of the message carrying a tool's result."""
    return name if legacy else f"{name} to=assistant"


def count_tool_call_tokens(tool_calls: Iterable[Any], model: str) -> int:
    """Completion tokens of a reply that consists of ``tool_calls``.

    Reasoning models add their (invisible) reasoning tokens on top; those are
    not reproducible from the response.
    """
    calls = parse_tool_calls(tool_calls)
    if not calls:
        return 0
    enc, _ = encoding_for(model)
    n = enc.encode_ordinary
    if chat_format_for(model).legacy_tools:
        return sum(len(n(c.name)) + len(n(c.arguments)) + TOOL_CALL_COMPLETION_OVERHEAD
                   for c in calls)
    if len(calls) == 1:
        c = calls[0]
        text = f" to=functions.{c.name}"
        return len(n(text)) + len(n(compact_arguments(c.arguments))) + TOOL_CALL_COMPLETION_OVERHEAD
    return (len(n(" to=multi_tool_use.parallel")) + len(n(_parallel_body(calls)))
            + TOOL_CALL_COMPLETION_OVERHEAD)


def _parallel_body(calls: list[ToolCall]) -> str:
    uses = []
    for c in calls:
        try:
            params: Any = json.loads(c.arguments)
        except ValueError:
            params = c.arguments
        uses.append({"recipient_name": f"functions.{c.name}", "parameters": params})
    return json.dumps({"tool_uses": uses}, separators=(",", ":"), ensure_ascii=False)
