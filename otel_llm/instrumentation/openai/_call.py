"""One SDK call, from its start event to its single end: the logic sync and async share.

A ``Call`` turns the request into start-event arguments, folds stream chunks
(via an accumulator) and builds the ``LLMResult``, estimating usage when the
provider sent none. It emits nothing itself: ``_runs`` does, sync or async.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from otel_llm.errors import BugReport
from otel_llm.instrumentation.openai._accumulators import (
    Accumulator,
    ChatStream,
    CompletionStream,
    Pending,
    ResponsesStream,
)
from otel_llm.instrumentation.openai._request import Request, is_given
from otel_llm.instrumentation.openai._results import (
    chat_result,
    completion_result,
    embeddings_result,
    responses_result,
)
from otel_llm.schema import LLMResult
from otel_llm.tokens import (
    count_completion_tokens,
    count_message_tokens,
    count_prompt_tokens,
    count_tool_call_tokens,
)
from otel_llm.tokens.images import ImageCount
from otel_llm.usage import IMAGE_SIZE_GUESSED_KEY, USAGE_ESTIMATED_KEY

__all__ = ["Call", "StreamAbandonedError", "internal_error"]

logger = logging.getLogger("otel_llm.instrumentation.openai")
#: Logs a bug of ours (with its traceback once per place); the user's call goes on.
internal_error = BugReport(logger, "openai instrumentation",
                           "the SDK call proceeds unobserved where needed")


class StreamAbandonedError(Exception):
    """The run of a stream the caller dropped without consuming it to the end or closing it."""


_SERIALIZED_NAME = "OpenAI"


class Call:
    """The events of one SDK call; ``claim_end`` makes its end happen exactly once."""

    __slots__ = ("_end", "acc", "ended", "exhausted", "is_chat", "pending", "request")

    def __init__(self, request: Request) -> None:
        self.request = request
        self.is_chat = request.endpoint.model_type == "chat"
        self.pending: Pending = []
        self.acc: Accumulator | None = None
        self.ended = False  # chunks read after the end (a closed stream's buffer) emit nothing
        self.exhausted = False  # the stream was read to its end (not cut, closed or dropped)
        self._end = threading.Lock()  # acquired once, never released: the end is claimed

    # --- start --------------------------------------------------------------------
    def start_event(self, read: bool = True) -> tuple[dict[str, Any], list[Any], dict[str, Any]]:
        """``(serialized, [input], kwargs)`` for ``on_chat_model_start`` / ``on_llm_start``;
        ``read=False`` (no handler reads inputs) leaves the input empty, unconverted."""
        request = self.request
        endpoint = request.endpoint
        serialized = {"name": _SERIALIZED_NAME,
                      "id": ["openai", *endpoint.resource, endpoint.method]}
        chat = self.is_chat
        inputs: Any = (request.messages() if chat else request.prompt()) if read else (
            [] if chat else "")
        kwargs = {"invocation_params": request.invocation_params(), "name": _SERIALIZED_NAME}
        return serialized, [inputs], kwargs

    def open_stream(self, hide_usage: bool) -> Accumulator:
        kind = self.request.endpoint.kind
        acc: Accumulator
        if kind == "responses":
            acc = ResponsesStream()
        elif kind == "completions":
            acc = CompletionStream()
        else:
            acc = ChatStream(hide_usage)
        self.acc = acc
        return acc

    # --- end ----------------------------------------------------------------------
    def fold(self, chunk: Any) -> bool:
        """Fold one streamed chunk in; its tokens wait in ``pending``. False: hide the chunk.

        A failure in our folding is logged and the chunk shown as is; chunks read
        after the run ended leave nothing to emit. (The SDK stream wrappers inline
        this per chunk, with :meth:`fold_failed` as their ``except``.)
        """
        try:
            show: bool = self.acc.on_chunk(chunk, self.pending)  # type: ignore[union-attr]
        except Exception as exc:
            return self.fold_failed(exc)
        if self.ended:
            self.pending.clear()
        return show

    def fold_failed(self, exc: Exception) -> bool:
        """Our folding of a chunk raised: logged, its tokens dropped, the chunk shown."""
        internal_error("chunk", exc)
        self.pending.clear()
        return True

    def claim_end(self) -> bool:
        """True for the first caller only: whoever gets it emits the run's end."""
        if self._end.acquire(blocking=False):
            self.ended = True
            return True
        return False

    def result(self, response: Any = None) -> LLMResult:
        """The result of a returned response, or (``None``) of the stream so far."""
        if response is None:
            result = self.acc.result() if self.acc is not None else LLMResult([[]], {})
            if self.acc is not None and not self.exhausted:
                _interrupted(result)
        else:
            kind = self.request.endpoint.kind
            if kind in ("chat", "parse"):
                result = chat_result(response)
            elif kind == "completions":
                result = completion_result(response)
            elif kind == "embeddings":
                result = embeddings_result(response)
            else:
                result = responses_result(response)
        out = result.llm_output
        if out is not None and "token_usage" not in out:
            images = ImageCount()
            usage = self._estimate(result, out.get("model_name"), images)
            if usage is not None:
                out["token_usage"] = usage
                out[USAGE_ESTIMATED_KEY] = True
                if images.guessed:
                    out[IMAGE_SIZE_GUESSED_KEY] = True
        return result

    # --- usage estimate -------------------------------------------------------------
    def _estimate(self, result: LLMResult, response_model: Any, images: ImageCount
                  ) -> dict[str, Any] | None:
        """Usage counted locally, once, when the provider reported none."""
        model = response_model if isinstance(response_model, str) and response_model else (
            self.request.model)
        if not model:
            return None
        try:
            prompt = self._input_tokens(model, images)
            if self.request.endpoint.kind == "embeddings":
                return {"prompt_tokens": prompt, "total_tokens": prompt}
            completion = (self.acc.output_tokens(model) if self.acc is not None
                          else _generation_tokens(result, model))
        except Exception as exc:  # e.g. tokenizer data missing: no usage rather than a wrong one
            logger.debug("usage estimate failed for %s: %r", model, exc)
            return None
        return {"prompt_tokens": prompt, "completion_tokens": completion,
                "total_tokens": prompt + completion}

    def _input_tokens(self, model: str, images: ImageCount) -> int:
        kw = self.request.kwargs
        kind = self.request.endpoint.kind
        if kind == "embeddings":
            return count_prompt_tokens(kw.get("input") or "", model)
        if kind == "completions":
            return count_prompt_tokens(kw.get("prompt") or "", model)
        choice = kw.get("tool_choice")
        if not is_given(choice):
            choice = kw.get("function_call")
        choice = choice if is_given(choice) else None
        if kind == "responses":
            tools = [{"type": "function", "function": {k: v for k, v in t.items() if k != "type"}}
                     for t in _given_list(kw.get("tools"))
                     if isinstance(t, dict) and t.get("type") == "function"]
            return count_message_tokens(self.request.messages(), model, tools=tools,
                                        tool_choice=choice, images=images)
        return count_message_tokens(
            kw.get("messages") or (), model, tools=_given_list(kw.get("tools")) or None,
            functions=_given_list(kw.get("functions")) or None, tool_choice=choice,
            images=images,
        )


#: Finish reason of an output a stream was cut in the middle of (closed early, or a chunk
#: left without its finish reason): the conventions' value for "did not finish normally".
INTERRUPTED = "error"


def _interrupted(result: LLMResult) -> None:
    """Outputs of a stream that did not reach its end finish with ``INTERRUPTED``."""
    for generations in result.generations:
        for generation in generations:
            info = generation.generation_info
            if info is None:
                generation.generation_info = {"finish_reason": INTERRUPTED}
            elif not info.get("finish_reason"):
                info["finish_reason"] = INTERRUPTED


def _given_list(value: Any) -> list[Any]:
    return list(value) if is_given(value) and isinstance(value, list | tuple) else []


def _generation_tokens(result: LLMResult, model: str) -> int:
    """Completion tokens of a non-streamed reply that came without usage."""
    total = 0
    for generation in result.generations[0] if result.generations else ():
        calls = getattr(getattr(generation, "message", None), "tool_calls", None)
        if calls:
            total += count_tool_call_tokens(calls, model)
        else:
            total += count_completion_tokens([generation.text], model)
    return total
