"""An SDK call's arguments as a start event: inputs, invocation params and metadata.

Inputs become ``otel_llm.schema`` messages (chat, Responses) or prompt strings
(legacy completions, embeddings) so handlers read them as they read LangChain's.
A call is one run: a batch of prompts or embedding inputs is passed as one
prompt string, the items separated by blank lines, because the request (and
its usage) is one.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from openai import NotGiven, Omit

from otel_llm.instrumentation.openai._endpoints import Endpoint
from otel_llm.schema import (
    INSTRUCTIONS_KEY,
    LS_MODEL_NAME,
    LS_MODEL_TYPE,
    LS_PROVIDER,
    AIMessage,
    BaseMessage,
    HumanMessage,
    SystemMessage,
    ToolMessage,
)

__all__ = [
    "Request",
    "field",
    "is_given",
    "tool_call",
]

# Request parameters copied into ``invocation_params`` (never message content).
_PARAMS = (
    "model", "temperature", "top_p", "max_tokens", "max_completion_tokens", "stop", "seed", "n",
    "frequency_penalty", "presence_penalty", "stream", "tools", "tool_choice", "response_format",
    "reasoning_effort", "parallel_tool_calls", "dimensions", "encoding_format", "service_tier",
)
_PROMPT_SEPARATOR = "\n\n"


def is_given(value: Any) -> bool:
    return value is not None and not isinstance(value, NotGiven | Omit)


def field(obj: Any, key: str) -> Any:
    """``obj[key]`` of a wire dict or ``obj.key`` of an SDK object (users mix both)."""
    if type(obj) is dict or isinstance(obj, Mapping):  # dict first: an ABC check is slow
        return obj.get(key)
    return getattr(obj, key, None)


def tool_call(name: Any, arguments: Any, call_id: Any) -> dict[str, Any]:
    """A tool call as LangChain shapes it; arguments that are not a JSON object give ``{}``."""
    args: Any = arguments
    if not isinstance(arguments, dict):
        try:
            args = json.loads(arguments) if arguments else {}
        except (TypeError, ValueError):
            args = {}
    return {
        "name": name if isinstance(name, str) else "",
        "args": args if isinstance(args, dict) else {},
        "id": call_id if isinstance(call_id, str) else None,
        "type": "tool_call",
    }


class Request:
    """The parts of one call's keyword arguments the events and the estimate need."""

    __slots__ = ("base_url", "endpoint", "kwargs", "model", "provider")

    def __init__(self, endpoint: Endpoint, kwargs: dict[str, Any], base_url: str,
                 provider: str) -> None:
        self.endpoint = endpoint
        self.kwargs = kwargs
        self.base_url = base_url
        self.provider = provider
        model = kwargs.get("model")
        self.model = model if isinstance(model, str) else ""

    @property
    def stream(self) -> bool:
        return self.kwargs.get("stream") is True

    def invocation_params(self) -> dict[str, Any]:
        kw = self.kwargs
        params = {k: kw[k] for k in _PARAMS if k in kw and is_given(kw[k])}
        fmt = params.get("response_format")
        if self.endpoint.kind == "responses":
            if is_given(kw.get("max_output_tokens")):
                params["max_tokens"] = kw["max_output_tokens"]
            text = kw.get("text")
            if isinstance(text, Mapping) and text.get("format"):
                params["response_format"] = text["format"]
            fmt = kw.get("text_format")  # responses.parse(): a class for text.format
        if isinstance(fmt, type):  # parse(): a pydantic class, named by its schema name
            params["response_format"] = {"type": "json_schema",
                                         "json_schema": {"name": fmt.__name__}}
        params["base_url"] = self.base_url
        return params

    def metadata(self) -> dict[str, Any]:
        return {LS_PROVIDER: self.provider, LS_MODEL_NAME: self.model,
                LS_MODEL_TYPE: self.endpoint.model_type}

    # --- inputs -------------------------------------------------------------------
    def messages(self) -> list[BaseMessage]:
        """The chat input as messages (chat and Responses calls)."""
        if self.endpoint.kind == "responses":
            return responses_messages(self.kwargs.get("instructions"), self.kwargs.get("input"))
        return [chat_message(m) for m in self.kwargs.get("messages") or ()]

    def prompt(self) -> str:
        """The legacy prompt or embeddings input as one string."""
        raw = self.kwargs.get("input" if self.endpoint.kind == "embeddings" else "prompt")
        if isinstance(raw, str):
            return raw
        if not isinstance(raw, list | tuple):
            return ""
        if raw and isinstance(raw[0], int):  # one token array
            return str(list(raw))
        return _PROMPT_SEPARATOR.join(p if isinstance(p, str) else str(list(p)) for p in raw)


def chat_message(raw: Any) -> BaseMessage:
    """A Chat Completions message (wire dict or SDK object) as an ``otel_llm.schema`` message."""
    role = field(raw, "role")
    content = field(raw, "content")
    if content is None:
        content = ""
    elif not isinstance(content, str):
        content = [p if isinstance(p, Mapping) else _as_dict(p) for p in content]
    name = field(raw, "name")
    name = name if isinstance(name, str) else None
    if role in ("system", "developer"):
        return SystemMessage(content=content, name=name)
    if role == "assistant":
        calls = [
            tool_call(field(fn, "name"), field(fn, "arguments"), field(c, "id"))
            for c in field(raw, "tool_calls") or ()
            for fn in (field(c, "function") or {},)
        ]
        legacy = field(raw, "function_call")
        if legacy:
            calls.append(tool_call(field(legacy, "name"), field(legacy, "arguments"), None))
        return AIMessage(content=content, name=name, tool_calls=calls)
    if role in ("tool", "function"):
        call_id = field(raw, "tool_call_id")
        return ToolMessage(content=content, name=name,
                           tool_call_id=call_id if isinstance(call_id, str) else "")
    return HumanMessage(content=content, name=name)


def responses_messages(instructions: Any, items: Any) -> list[BaseMessage]:
    """A Responses API ``instructions`` + ``input`` as chat messages."""
    out: list[BaseMessage] = []
    if isinstance(instructions, str) and instructions:
        out.append(SystemMessage(content=instructions, additional_kwargs={INSTRUCTIONS_KEY: True}))
    if isinstance(items, str):
        out.append(HumanMessage(content=items))
        return out
    for item in items if isinstance(items, list | tuple) else ():
        kind = field(item, "type") or "message"
        if kind == "function_call":
            call = tool_call(field(item, "name"), field(item, "arguments"), field(item, "call_id"))
            out.append(AIMessage(content="", tool_calls=[call]))
        elif kind == "function_call_output":
            output = field(item, "output")
            call_id = field(item, "call_id")
            out.append(ToolMessage(content=output if isinstance(output, str) else str(output),
                                   tool_call_id=call_id if isinstance(call_id, str) else ""))
        elif kind == "message" and field(item, "role"):
            out.append(chat_message(item))
    return out


def _as_dict(part: Any) -> dict[str, Any]:
    dump = getattr(part, "model_dump", None)
    result = dump(exclude_none=True) if callable(dump) else {"text": str(part)}
    return result if isinstance(result, dict) else {"text": str(part)}
