"""Stand-ins for the SDK's ``Stream``/``AsyncStream`` that end the call's run exactly once.

The caller gets a proxy that passes ``isinstance(x, openai.Stream)``, iterates,
works as a context manager, closes, and hands every other attribute
(``response``, ...) to the SDK's stream. Nothing is read before the caller
iterates. The run ends when the stream is exhausted (``on_llm_end``), fails
(``on_llm_error`` with the SDK's exception, re-raised unchanged), is closed
(``on_llm_end`` with what arrived), or is dropped unclosed (``on_llm_error``
with ``StreamAbandonedError``, from a ``weakref.finalize``; never ``__del__``).
The generator that does the work holds the run but not the proxy, so dropping
both frees them at once, without waiting for the cycle collector.
"""

from __future__ import annotations

import weakref
from collections.abc import AsyncIterator, Iterator
from types import TracebackType
from typing import Any

from otel_llm.instrumentation.openai._accumulators import ChatStream
from otel_llm.instrumentation.openai._runs import AsyncRun, SyncRun, emit_pending
from otel_llm.schema import TextChunk

__all__ = ["PeekedAsyncStream", "PeekedStream", "TracedAsyncStream", "TracedStream", "peek"]


def _traced(stream: Any, run: SyncRun) -> Iterator[Any]:
    # Per chunk: fold it in, emit its tokens, pass it on. Written out here (not Call.fold,
    # not the run manager's on_llm_new_token) because a stream's cost is its per-chunk
    # calls. Most chat chunks are one choice's next piece of text: those take the
    # plain path below (this frame, one append, the handler's pre-bound hook); any
    # other chunk (the first, usage, tool calls, a finish, several choices, other
    # endpoints) goes through the accumulator's on_chunk.
    call, acc = run.call, run.call.acc
    assert acc is not None, "streams are wrapped once their accumulator is open"
    on_chunk, pending = acc.on_chunk, call.pending
    emitter = run.token_emitter()
    emit = emitter.emit if emitter is not None else None
    chunks = acc.chunks = emitter is not None and emitter.chunks
    texts = acc.texts if type(acc) is ChatStream else None  # choice index -> pieces
    try:
        for item in stream:
            text, show = None, True
            try:
                if texts is not None and item.usage is None and acc.response_id is not None:
                    choices = item.choices
                    if choices and not choices[1:]:  # exactly one choice, without a call
                        choice = choices[0]
                        delta = choice.delta
                        if (choice.index == 0 and not choice.finish_reason
                                and not delta.tool_calls and delta.function_call is None):
                            text = delta.content or ""
                            if text:
                                texts[0].append(text)
                if text is None:
                    show = on_chunk(item, pending)
            except Exception as exc:
                show = call.fold_failed(exc)
            if text:
                if emit is not None and not call.ended:
                    token_chunk = TextChunk(text) if chunks else None
                    try:
                        emit(text, chunk=token_chunk)
                    except Exception as exc:
                        emitter.failed(exc, text, token_chunk)  # type: ignore[union-attr]
            elif pending:
                if not call.ended:
                    emit_pending(emitter, pending)
                del pending[:]  # reused: no list per chunk
            if show:
                yield item
    except GeneratorExit:  # our iterator was dropped or closed: close()/finalize decide
        raise
    except BaseException as exc:
        run.fail(exc)
        raise
    call.exhausted = True
    run.end()


async def _atraced(stream: Any, run: AsyncRun) -> AsyncIterator[Any]:
    call = run.call
    fold, pending = call.fold, call.pending
    emit = run.token_emitter()
    try:
        async for item in stream:
            show = fold(item)
            if pending:
                for text, token_chunk in pending:
                    await emit(text, chunk=token_chunk)
                pending.clear()
            if show:
                yield item
    except GeneratorExit:
        raise
    except BaseException as exc:
        await run.fail(exc)
        raise
    call.exhausted = True
    await run.end()


class _Proxy:
    """Is the SDK's stream to ``isinstance`` and attribute access; iterates ``_otel_iter``."""

    __slots__ = ("_otel_iter", "_otel_stream")
    _otel_stream: Any

    @property  # type: ignore[misc]
    def __class__(self) -> type[Any]:  # isinstance(proxy, openai.Stream) holds
        return type(self._otel_stream)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._otel_stream, name)

    def __repr__(self) -> str:
        return repr(self._otel_stream)


class _SyncProxy(_Proxy):
    __slots__ = ()
    _otel_iter: Iterator[Any]

    def __iter__(self) -> _SyncProxy:
        return self

    def __next__(self) -> Any:
        return next(self._otel_iter)

    def __enter__(self) -> _SyncProxy:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        self._otel_stream.close()


class _AsyncProxy(_Proxy):
    __slots__ = ()
    _otel_iter: AsyncIterator[Any]

    def __aiter__(self) -> _AsyncProxy:
        return self

    async def __anext__(self) -> Any:
        return await self._otel_iter.__anext__()

    async def __aenter__(self) -> _AsyncProxy:
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        await self.close()

    async def close(self) -> None:
        await self._otel_stream.close()


class TracedStream(_SyncProxy):
    """An ``openai.Stream`` whose chunks feed the call's run.

    ``iter()`` hands out the traced generator itself (as the SDK's ``Stream.__iter__``
    hands out a generator), so a ``for`` loop resumes one frame per chunk, not a
    ``__next__`` and then the generator. The abandonment finalizer therefore watches
    the generator: the proxy holds it, a loop holds it, and once neither does the
    stream can no longer be read.
    """

    __slots__ = ("__weakref__", "_otel_run")

    def __init__(self, stream: Any, run: SyncRun) -> None:
        self._otel_stream = stream
        self._otel_run = run
        self._otel_iter = _traced(stream, run)
        # not during interpreter shutdown
        weakref.finalize(self._otel_iter, run.abandon).atexit = False

    def __iter__(self) -> Iterator[Any]:  # type: ignore[override]
        return self._otel_iter

    def close(self) -> None:
        try:
            super().close()
        finally:
            self._otel_run.end()


class TracedAsyncStream(_AsyncProxy):
    """An ``openai.AsyncStream`` whose chunks feed the call's run."""

    __slots__ = ("__weakref__", "_otel_run")

    def __init__(self, stream: Any, run: AsyncRun) -> None:
        self._otel_stream = stream
        self._otel_run = run
        self._otel_iter = _atraced(stream, run)
        weakref.finalize(self, run.abandon).atexit = False

    async def close(self) -> None:
        try:
            await super().close()
        finally:
            await self._otel_run.end()


# --- suppressed calls: the framework owns the run, we only read the response id -------------


def _fill(details: dict[str, Any], chunk: Any) -> bool:
    """Response id/model/fingerprint from a chunk into ``details``; True once found."""
    source = getattr(chunk, "response", None) if hasattr(chunk, "type") else chunk  # Responses
    response_id = getattr(source, "id", None)
    if not isinstance(response_id, str) or not response_id:
        return False  # Azure opens with an id-less content-filter chunk
    details["response_id"] = response_id
    for key, attr in (("response_model", "model"), ("system_fingerprint", "system_fingerprint")):
        value = getattr(source, attr, None)
        if isinstance(value, str) and value and key not in details:
            details[key] = value
    return True


def _peeked(stream: Any, details: dict[str, Any]) -> Iterator[Any]:
    found = False
    for item in stream:
        if not found:
            found = _fill(details, item)
        yield item


async def _apeeked(stream: Any, details: dict[str, Any]) -> AsyncIterator[Any]:
    found = False
    async for item in stream:
        if not found:
            found = _fill(details, item)
        yield item


class PeekedStream(_SyncProxy):
    """An ``openai.Stream`` passed through unchanged except that its id is read."""

    __slots__ = ()

    def __init__(self, stream: Any, details: dict[str, Any]) -> None:
        self._otel_stream = stream
        self._otel_iter = _peeked(stream, details)


class PeekedAsyncStream(_AsyncProxy):
    """An ``openai.AsyncStream`` passed through unchanged except that its id is read."""

    __slots__ = ()

    def __init__(self, stream: Any, details: dict[str, Any]) -> None:
        self._otel_stream = stream
        self._otel_iter = _apeeked(stream, details)


def peek(result: Any, details: dict[str, Any]) -> Any:
    """Wrap an SDK stream so its first chunk completes ``details``; anything else as is."""
    import openai  # the SDK is there whenever this layer runs

    if isinstance(result, openai.AsyncStream):
        return PeekedAsyncStream(result, details)
    if isinstance(result, openai.Stream):
        return PeekedStream(result, details)
    return result
