"""Streams folded into one result while the caller iterates them.

``on_chunk`` runs once per chunk, so it only reads attributes and appends:
pieces are joined, tool-call arguments assembled and tokens counted once, when
the stream ends. Token events go into ``pending`` (a list the caller's wrapper
drains and reuses), which keeps this module free of sync/async differences.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from otel_llm.instrumentation.openai._request import tool_call
from otel_llm.instrumentation.openai._results import (
    llm_output,
    responses_result,
    usage_dict,
)
from otel_llm.schema import (
    AIMessage,
    ChatGeneration,
    ChatGenerationChunk,
    Generation,
    GenerationChunk,
    LLMResult,
    TextChunk,
)
from otel_llm.tokens import count_completion_tokens, count_tool_call_tokens

__all__ = ["Accumulator", "ChatStream", "CompletionStream", "Pending", "ResponsesStream"]

#: Token events waiting to be emitted: ``(text, chunk)``.
Pending = list[tuple[str, Any]]


class _ToolCall:
    __slots__ = ("args", "id", "name")

    def __init__(self) -> None:
        self.id: str | None = None
        self.name = ""
        self.args: list[str] = []

    def as_dict(self) -> dict[str, Any]:
        return tool_call(self.name, "".join(self.args), self.id)

    def as_wire(self) -> dict[str, Any]:
        return {"id": self.id, "function": {"name": self.name, "arguments": "".join(self.args)}}


def _tool_chunk(name: str | None, args: str | None, call_id: str | None,
                index: int | None) -> ChatGenerationChunk:
    delta = {"name": name, "args": args, "id": call_id, "index": index,
             "type": "tool_call_chunk"}
    message = AIMessage(content="", additional_kwargs={"tool_call_chunks": [delta]})
    return ChatGenerationChunk(text="", message=message)


class Accumulator:
    """What every stream kind offers the call recorder.

    ``chunks``: text tokens go to ``pending`` with their chunk object; False (no
    handler reads it) leaves ``None`` in its place: no object per token.
    """

    __slots__ = ("chunks", "model", "response_id")

    def __init__(self) -> None:
        self.response_id: str | None = None
        self.model: str | None = None
        self.chunks = True

    def on_chunk(self, chunk: Any, pending: Pending) -> bool:
        """Fold one chunk in; False when the chunk must not reach the caller."""
        raise NotImplementedError

    def result(self) -> LLMResult:
        raise NotImplementedError

    def output_tokens(self, model: str) -> int:
        """Completion tokens of what arrived, counted locally."""
        raise NotImplementedError


class ChatStream(Accumulator):
    """``chat.completions.create(stream=True)``: text and tool calls per choice."""

    __slots__ = ("_raw_usage", "fingerprint", "finish", "hide_usage", "texts", "tier", "tools")

    def __init__(self, hide_usage: bool) -> None:
        super().__init__()
        self.hide_usage = hide_usage
        self.fingerprint: str | None = None
        self.tier: str | None = None
        self.texts: defaultdict[int, list[str]] = defaultdict(list)
        self.tools: dict[int, dict[int, _ToolCall]] = {}
        self.finish: dict[int, str] = {}
        self._raw_usage: Any = None

    def on_chunk(self, chunk: Any, pending: Pending) -> bool:
        if self.response_id is None and chunk.id:  # Azure opens with an id-less filter chunk
            self.response_id = chunk.id
            self.model = chunk.model
            self.fingerprint = getattr(chunk, "system_fingerprint", None)
            self.tier = getattr(chunk, "service_tier", None)
        usage = chunk.usage
        choices = chunk.choices
        if usage is not None:
            self._raw_usage = usage
            if not choices:  # the usage-only chunk: hidden if we asked for it
                return not self.hide_usage
        for choice in choices:
            delta = choice.delta
            text = delta.content
            if text:
                self.texts[choice.index].append(text)
                pending.append((text, TextChunk(text) if self.chunks else None))
            if delta.tool_calls:
                self._tool_deltas(choice.index, delta.tool_calls, pending)
            elif delta.function_call is not None:
                self._legacy_function_delta(choice.index, delta.function_call, pending)
            if choice.finish_reason:
                self.finish[choice.index] = choice.finish_reason
        return True

    def _tool_deltas(self, choice: int, deltas: Any, pending: Pending) -> None:
        calls = self.tools.setdefault(choice, {})
        for d in deltas:
            call = calls.get(d.index)
            if call is None:
                call = calls[d.index] = _ToolCall()
            fn = d.function
            name = fn.name if fn is not None else None
            args = fn.arguments if fn is not None else None
            if d.id:
                call.id = d.id
            if name:
                call.name += name
            if args:
                call.args.append(args)
            pending.append(("", _tool_chunk(name, args, d.id, d.index)))

    def _legacy_function_delta(self, choice: int, fn: Any, pending: Pending) -> None:
        call = self.tools.setdefault(choice, {}).setdefault(0, _ToolCall())
        if fn.name:
            call.name += fn.name
        if fn.arguments:
            call.args.append(fn.arguments)
        pending.append(("", _tool_chunk(fn.name, fn.arguments, None, 0)))

    def _indexes(self) -> list[int]:
        return sorted({*self.texts, *self.tools, *self.finish})

    def result(self) -> LLMResult:
        generations: list[Generation] = []
        for i in self._indexes():
            calls = [c.as_dict() for _, c in sorted(self.tools.get(i, {}).items())]
            message = AIMessage(content="".join(self.texts.get(i, ())), tool_calls=calls)
            info = {"finish_reason": self.finish.get(i)}
            generations.append(ChatGeneration(message=message, generation_info=info))
        return LLMResult(generations=[generations],
                         llm_output=llm_output(usage_dict(self._raw_usage), self.model,
                                               self.response_id, self.fingerprint, self.tier))

    def output_tokens(self, model: str) -> int:
        total = 0
        for i in self._indexes():
            calls = self.tools.get(i)
            if calls:  # a reply of tool calls is billed as the calls, as the API renders them
                total += count_tool_call_tokens([c.as_wire() for _, c in sorted(calls.items())],
                                                model)
            else:
                total += count_completion_tokens(self.texts.get(i, ()), model)
        return total


class CompletionStream(Accumulator):
    """Legacy ``completions.create(stream=True)``: text per choice."""

    __slots__ = ("_raw_usage", "finish", "texts")

    def __init__(self) -> None:
        super().__init__()
        self.texts: dict[int, list[str]] = {}
        self.finish: dict[int, str] = {}
        self._raw_usage: Any = None

    def on_chunk(self, chunk: Any, pending: Pending) -> bool:
        if self.response_id is None:
            self.response_id = chunk.id
            self.model = chunk.model
        if chunk.usage is not None:
            self._raw_usage = chunk.usage
        for choice in chunk.choices:
            text = choice.text
            if text:
                self.texts.setdefault(choice.index, []).append(text)
                pending.append((text, GenerationChunk(text=text) if self.chunks else None))
            if choice.finish_reason:
                self.finish[choice.index] = choice.finish_reason
        return True

    def result(self) -> LLMResult:
        indexes = sorted({*self.texts, *self.finish})
        generations: list[Generation] = [
            Generation(text="".join(self.texts.get(i, ())),
                       generation_info={"finish_reason": self.finish.get(i)})
            for i in indexes
        ]
        return LLMResult(generations=[generations],
                         llm_output=llm_output(usage_dict(self._raw_usage), self.model,
                                               self.response_id))

    def output_tokens(self, model: str) -> int:
        return sum(count_completion_tokens(t, model, endpoint="completions")
                   for t in self.texts.values())


class ResponsesStream(Accumulator):
    """``responses.create(stream=True)``: the final response, or what arrived before a cut."""

    __slots__ = ("calls", "final", "texts")

    def __init__(self) -> None:
        super().__init__()
        self.texts: list[str] = []
        self.calls: dict[str, _ToolCall] = {}  # by output item id
        self.final: Any = None

    def on_chunk(self, chunk: Any, pending: Pending) -> bool:
        kind = chunk.type
        if kind == "response.output_text.delta":
            text = chunk.delta
            if text:
                self.texts.append(text)
                pending.append((text, TextChunk(text) if self.chunks else None))
        elif kind == "response.function_call_arguments.delta":
            call = self.calls.get(chunk.item_id)
            if call is not None:
                call.args.append(chunk.delta)
                pending.append(("", _tool_chunk(None, chunk.delta, call.id, chunk.output_index)))
        elif kind == "response.output_item.added":
            item = chunk.item
            if getattr(item, "type", None) == "function_call":
                call = self.calls[item.id] = _ToolCall()
                call.id, call.name = item.call_id, item.name
                pending.append(("", _tool_chunk(item.name, None, item.call_id, chunk.output_index)))
        elif kind in ("response.completed", "response.incomplete", "response.failed"):
            self.final = chunk.response
        elif kind == "response.created":
            self.response_id = chunk.response.id
            self.model = chunk.response.model
        return True

    def result(self) -> LLMResult:
        if self.final is not None:
            return responses_result(self.final)
        calls = [c.as_dict() for c in self.calls.values()]
        message = AIMessage(content="".join(self.texts), tool_calls=calls)
        generation = ChatGeneration(message=message, generation_info={"finish_reason": None})
        return LLMResult(generations=[[generation]],
                         llm_output=llm_output(None, self.model, self.response_id))

    def output_tokens(self, model: str) -> int:
        if self.calls and not self.texts:
            return count_tool_call_tokens([c.as_wire() for c in self.calls.values()], model)
        return count_completion_tokens(self.texts, model, endpoint="responses")
