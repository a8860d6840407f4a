"""``with_raw_response`` / ``with_streaming_response`` calls: observed, handed back untouched.

The caller gets the SDK's own response object (``LegacyAPIResponse``,
``APIResponse``, ``AsyncAPIResponse``), with ``.parse()``, ``.headers``,
``http_response`` and laziness exactly as without us: we never parse it with
the SDK (its parse cache stays the caller's) and never read a body the caller
has not read. Instead the body is read *alongside* the caller:

- a body the SDK already read (``with_raw_response`` without ``stream``) is
  decoded from its bytes and the run ends at once;
- otherwise the ``httpx`` response's ``iter_bytes``/``aiter_bytes`` and
  ``close``/``aclose`` are shadowed on that one instance. Every way of reading
  the body goes through them (``parse()`` and the SDK stream it returns,
  ``read()``, ``text()``, ``json()``, ``iter_lines()``, ...), so each decoded
  byte the caller reads is also folded into the run (SSE events into the same
  accumulators as ``Stream`` chunks), and the run ends exactly once: at the end
  of the body, on ``close`` (with what arrived), on a transport error
  (``on_llm_error``, re-raised unchanged), or when the response is dropped
  unclosed (``StreamAbandonedError``, from a ``weakref.finalize``). Reading
  with ``iter_raw()`` (undecoded bytes) bypasses the fold: the run then ends
  on close with what is known.
"""

from __future__ import annotations

import json
import weakref
from collections.abc import AsyncIterator, Iterator, Mapping
from typing import Any

from otel_llm.instrumentation.openai._call import Call
from otel_llm.instrumentation.openai._runs import AsyncRun, SyncRun, emit_pending

__all__ = ["RAW_RESPONSE_HEADER", "observe_async", "observe_sync", "raw_mode"]

#: The header the SDK's ``with_raw_response``/``with_streaming_response`` wrappers add.
RAW_RESPONSE_HEADER = "X-Stainless-Raw-Response"


def raw_mode(kwargs: dict[str, Any]) -> bool:
    """Whether the call comes through ``with_raw_response`` / ``with_streaming_response``."""
    extra = kwargs.get("extra_headers")
    # None first: isinstance(None, Mapping) goes through the ABC machinery (two calls).
    return extra is not None and isinstance(extra, Mapping) and RAW_RESPONSE_HEADER in extra


class _Wire(dict):  # type: ignore[type-arg]
    """A decoded JSON object read by attribute, missing fields as None (as SDK models do).

    The result readers take SDK objects or wire dicts; this is both, without
    building SDK models the caller did not ask for.
    """

    __slots__ = ()

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):  # protocols (copy, pickle, ...) must not see None
            raise AttributeError(name)
        return self.get(name)


def wire(value: Any) -> Any:
    if isinstance(value, dict):
        return _Wire({k: wire(v) for k, v in value.items()})
    if isinstance(value, list):
        return [wire(v) for v in value]
    return value


def _decode(body: bytes) -> Any:
    """The JSON body as a ``_Wire``, or None when it is not a JSON object."""
    try:
        data = json.loads(body)
    except ValueError:
        return None
    return wire(data) if isinstance(data, dict) else None


class _Body:
    """One response body as it is read: SSE events folded into the call, or JSON collected."""

    __slots__ = ("_data", "_lines", "_parts", "call", "reading", "sse")

    def __init__(self, call: Call) -> None:
        self.call = call
        self.sse = call.request.stream
        self._parts: list[bytes] = []  # JSON: the body so far
        self._lines = b""  # SSE: the unfinished line
        self._data: list[bytes] = []  # SSE: the data lines of the current event
        self.reading = 0  # tapped iterators open (see may_end)

    def may_end(self) -> bool:
        """Whether a close ends the run now. httpx closes the response when its last raw
        bytes are read, before the decoder's tail reaches the reader: a close while a read
        is under way leaves the end to that read, unless the stream already said [DONE]
        (the SDK stops reading there, leaving its reader suspended)."""
        return not self.reading or self.call.exhausted

    def feed(self, chunk: bytes) -> None:
        if not self.sse:
            self._parts.append(chunk)
            return
        *lines, self._lines = (self._lines + chunk).split(b"\n")
        for line in lines:
            line = line.rstrip(b"\r")
            if not line:
                self._event()
            elif line.startswith(b"data:"):
                value = line[5:]
                self._data.append(value[1:] if value.startswith(b" ") else value)

    def _event(self) -> None:
        if not self._data:
            return
        data = b"\n".join(self._data)
        self._data = []
        if data == b"[DONE]":
            self.call.exhausted = True
            return
        event = _decode(data)
        if event is not None and not event.get("error"):
            self.call.fold(event)

    def finished(self) -> Any:
        """At the end of the body: the response to end with (None: a stream's chunks)."""
        self.call.exhausted = True
        if self.sse:
            self.feed(b"\n\n")  # a last event without its blank line
            return None
        return _decode(b"".join(self._parts))


def _start(raw: Any, call: Call) -> tuple[Any, _Body | None]:
    """``(http response, body)``; body None when the SDK has read it already (the response
    to end with is then ``http.content``, decoded)."""
    http = raw.http_response
    if http.is_stream_consumed:
        return http, None
    if call.request.stream:
        call.open_stream(False)  # the caller reads every byte: nothing to hide
    return http, _Body(call)


def observe_sync(raw: Any, run: SyncRun) -> None:
    """Fold what the caller reads of ``raw`` into ``run`` and end it exactly once."""
    http, body = _start(raw, run.call)
    if body is None:
        run.end(_decode(http.content))
        return
    cls = type(http)
    ref = weakref.ref(http)  # the shadows must not keep the response alive

    def iter_bytes(chunk_size: int | None = None) -> Iterator[bytes]:
        return _tapped(cls.iter_bytes(ref(), chunk_size), ref, run, body)

    def close() -> None:
        try:
            cls.close(ref())
        finally:
            if body.may_end():
                run.end()

    http.iter_bytes, http.close = iter_bytes, close
    weakref.finalize(http, run.abandon).atexit = False


def _tapped(source: Iterator[bytes], ref: Any, run: SyncRun, body: _Body) -> Iterator[bytes]:
    pending = run.call.pending
    emitter = run.token_emitter()
    body.reading += 1
    try:
        for chunk in source:
            body.feed(chunk)
            if pending:
                emit_pending(emitter, pending)
                pending.clear()
            yield chunk
    except GeneratorExit:
        raise
    except BaseException as exc:
        run.fail(exc)
        raise
    else:
        run.end(body.finished())
    finally:
        body.reading -= 1
        http = ref()
        if http is None or http.is_closed:  # closed while we were reading: end with what came
            run.end()


async def observe_async(raw: Any, run: AsyncRun) -> None:
    """:func:`observe_sync` for the async client (``aiter_bytes`` / ``aclose``)."""
    http, body = _start(raw, run.call)
    if body is None:
        await run.end(_decode(http.content))
        return
    cls = type(http)
    ref = weakref.ref(http)

    def aiter_bytes(chunk_size: int | None = None) -> AsyncIterator[bytes]:
        return _atapped(cls.aiter_bytes(ref(), chunk_size), ref, run, body)

    async def aclose() -> None:
        try:
            await cls.aclose(ref())
        finally:
            if body.may_end():
                await run.end()

    http.aiter_bytes, http.aclose = aiter_bytes, aclose
    weakref.finalize(http, run.abandon).atexit = False


async def _atapped(source: AsyncIterator[bytes], ref: Any, run: AsyncRun, body: _Body
                   ) -> AsyncIterator[bytes]:
    pending = run.call.pending
    emit = run.token_emitter()
    body.reading += 1
    try:
        async for chunk in source:
            body.feed(chunk)
            if pending:
                for text, token_chunk in pending:
                    await emit(text, chunk=token_chunk)
                pending.clear()
            yield chunk
    except GeneratorExit:
        raise
    except BaseException as exc:
        await run.fail(exc)
        raise
    else:
        await run.end(body.finished())
    finally:
        body.reading -= 1
        http = ref()
        if http is None or http.is_closed:
            await run.end()
