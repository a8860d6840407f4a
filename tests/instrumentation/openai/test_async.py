"""AsyncOpenAI: the same events as sync, through the async callback manager, and every
async stream ending ends its run exactly once."""

from __future__ import annotations

import asyncio
import gc
import weakref
from collections import Counter
from typing import Any

import openai
import pytest
from opentelemetry.sdk.trace import TracerProvider

from otel_llm.callbacks import AsyncCallbackHandler
from otel_llm.instrumentation.openai import StreamAbandonedError, instrument_openai
from otel_llm.telemetry import OpenTelemetryCallbackHandler

from .support import DROP_MODEL, USER, Recorder

MODEL = "gpt-4o-mini+len=10"


def _dump(chunks: list[Any]) -> list[dict[str, Any]]:
    return [c.model_dump(exclude={"id", "created"}) for c in chunks]


async def _stream(aclient: openai.AsyncOpenAI, model: str = MODEL) -> Any:
    return await aclient.chat.completions.create(model=model, messages=USER, stream=True)


async def _settled(recorder: Recorder) -> Any:
    gc.collect()
    await asyncio.sleep(0)
    return recorder.assert_one_run_ended_once()


class AsyncRecorder(AsyncCallbackHandler):
    def __init__(self) -> None:
        self.hooks: list[str] = []

    async def on_chat_model_start(self, serialized, messages, **kw):  # type: ignore[no-untyped-def]
        self.hooks.append("chat_start")

    async def on_llm_new_token(self, token, **kw):  # type: ignore[no-untyped-def]
        self.hooks.append("token")

    async def on_llm_end(self, response, **kw):  # type: ignore[no-untyped-def]
        self.hooks.append("end")

    async def on_llm_error(self, error, **kw):  # type: ignore[no-untyped-def]
        self.hooks.append("error")


async def test_non_streamed_async_chat(aclient: openai.AsyncOpenAI, instrumented: Recorder
                                       ) -> None:
    """An awaited create() is one run with the provider's usage and the SDK's result type."""
    result = await aclient.chat.completions.create(model="gpt-4o-mini+len=6", messages=USER)
    end = instrumented.assert_one_run_ended_once()
    assert end.payload.generations[0][0].text == result.choices[0].message.content
    assert end.payload.llm_output["token_usage"] == result.usage.to_dict()
    assert end.payload.llm_output["id"] == result.id


async def test_async_caller_sees_the_same_chunks(aclient: openai.AsyncOpenAI,
                                                 recorder: Recorder) -> None:
    """Async streams: the same chunks as uninstrumented, an AsyncStream, tokens in order."""
    plain = [c async for c in await _stream(aclient)]
    instrument_openai([recorder])
    stream = await _stream(aclient)
    assert isinstance(stream, openai.AsyncStream)
    traced = [c async for c in stream]
    assert _dump(traced) == _dump(plain)
    end = await _settled(recorder)
    assert end.hook == "end"
    assert "".join(recorder.tokens) == end.payload.generations[0][0].text
    assert end.payload.llm_output["token_usage"]["completion_tokens"] == 10


async def test_async_context_manager_and_close(aclient: openai.AsyncOpenAI,
                                               instrumented: Recorder) -> None:
    """`async with` + break closes the stream: one on_llm_end with the partial text."""
    async with await _stream(aclient) as stream:
        async for _ in stream:
            if len(instrumented.tokens) == 2:
                break
    end = await _settled(instrumented)
    assert end.hook == "end"
    assert end.payload.generations[0][0].text == "".join(instrumented.tokens)


async def test_async_explicit_close_twice(aclient: openai.AsyncOpenAI,
                                          instrumented: Recorder) -> None:
    """await close() twice after one chunk: still one end."""
    stream = await _stream(aclient)
    await stream.__anext__()
    await stream.close()
    await stream.close()
    del stream
    assert (await _settled(instrumented)).hook == "end"


async def test_async_abandoned_stream(aclient: openai.AsyncOpenAI, instrumented: Recorder
                                      ) -> None:
    """An async stream dropped mid-way ends once with StreamAbandonedError (delivered
    synchronously from the finalizer)."""
    stream = await _stream(aclient)
    await stream.__anext__()
    await stream.__anext__()
    del stream
    end = await _settled(instrumented)
    assert isinstance(end.payload, StreamAbandonedError)


async def _drop_error(aclient: openai.AsyncOpenAI) -> BaseException:
    stream = await _stream(aclient, DROP_MODEL)
    try:
        async for _ in stream:
            pass
    except Exception as exc:
        return exc
    raise AssertionError("the cut stream ended without an error")


async def test_async_mid_stream_drop(aclient: openai.AsyncOpenAI, recorder: Recorder
                                     ) -> None:
    """A cut connection: the caller's exception has the type the SDK raises without
    instrumentation, and is the very object on_llm_error received."""
    plain = await _drop_error(aclient)
    instrument_openai([recorder])
    traced = await _drop_error(aclient)
    assert type(traced) is type(plain)
    end = await _settled(recorder)
    assert end.hook == "error" and end.payload is traced


async def test_async_error_is_reraised_unchanged(aclient: openai.AsyncOpenAI,
                                                 instrumented: Recorder) -> None:
    """A 429 on an awaited call: on_llm_error gets the SDK's exception, then the caller."""
    with pytest.raises(openai.RateLimitError) as info:
        await aclient.chat.completions.create(model="gpt-4o-mini+error=429", messages=USER)
    end = instrumented.assert_one_run_ended_once()
    assert end.payload is info.value


async def test_async_handlers_get_stream_events(aclient: openai.AsyncOpenAI) -> None:
    """AsyncCallbackHandler hooks are awaited for start, every token and the end."""
    handler = AsyncRecorder()
    instrument_openai([handler])
    async for _ in await _stream(aclient):
        pass
    assert handler.hooks == ["chat_start", *["token"] * 10, "end"]


async def test_async_abandoned_stream_reaches_async_handlers(aclient: openai.AsyncOpenAI
                                                             ) -> None:
    """The finalizer delivers the abandon error to async handlers too (on the callbacks'
    background loop)."""
    handler = AsyncRecorder()
    instrument_openai([handler])
    stream = await _stream(aclient)
    await stream.__anext__()
    del stream
    gc.collect()
    assert handler.hooks == ["chat_start", "error"]


class CallerBug(Exception):
    """The caller's own exception, raised while it iterates a stream."""


async def test_async_caller_exception_inside_with(aclient: openai.AsyncOpenAI,
                                                  instrumented: Recorder) -> None:
    """Async: the caller raises inside `async with`: its exception reaches it unchanged and
    the run ends once, on_llm_end with what arrived, the output finishing with "error"."""
    bug = CallerBug("caller bug")
    with pytest.raises(CallerBug) as info:
        async with await _stream(aclient) as stream:
            async for _ in stream:
                if len(instrumented.tokens) == 2:
                    raise bug
    assert info.value is bug
    end = await _settled(instrumented)
    assert end.hook == "end"
    assert end.payload.generations[0][0].generation_info == {"finish_reason": "error"}


async def test_async_caller_exception_without_with_is_abandoned(
        aclient: openai.AsyncOpenAI, instrumented: Recorder) -> None:
    """Async: the caller raises while iterating a stream it never closes: one end,
    StreamAbandonedError, once the stream is dropped."""
    async def consume() -> None:
        async for _ in await _stream(aclient):
            if len(instrumented.tokens) == 2:
                raise CallerBug("caller bug")

    with pytest.raises(CallerBug):
        await consume()
    end = await _settled(instrumented)
    assert end.hook == "error" and isinstance(end.payload, StreamAbandonedError)


def _ours() -> Counter[str]:
    """Live objects of otel_llm's own types (the instrumentation's per-stream state)."""
    names = Counter()
    for o in gc.get_objects():
        module = type(o).__dict__.get("__module__")
        if isinstance(module, str) and module.startswith("otel_llm") and "devserver" not in module:
            names[type(o).__qualname__] += 1
    return names


@pytest.mark.parametrize("ending", ["dropped", "closed"])
async def test_async_streams_read_once_then_left_retain_nothing(
    aclient: openai.AsyncOpenAI, ending: str
) -> None:
    """Streams read for one chunk, then dropped unclosed or closed early, leave none of
    otel_llm's state behind once warmed up: no otel_llm objects (proxies, runs, calls,
    managers), no pending ``weakref.finalize`` callbacks, no open runs in the handler."""
    handler = OpenTelemetryCallbackHandler(tracer_provider=TracerProvider())
    instrument_openai([handler])

    async def streams(n: int) -> None:
        for _ in range(n):
            stream = await _stream(aclient, "gpt-4o-mini+len=50")
            await stream.__anext__()
            if ending == "closed":
                await stream.close()
            del stream
        for _ in range(3):
            await asyncio.sleep(0.01)  # the loop's aclose() of dropped async generators
            gc.collect()

    await streams(50)  # warm-up: tokenizer, caches, connection pool
    objects, finalizers = _ours(), len(weakref.finalize._registry)  # type: ignore[attr-defined]
    await streams(300)
    grown = {name: n for name, n in (_ours() - objects).items() if n >= 30}
    assert grown == {}
    assert len(weakref.finalize._registry) == finalizers  # type: ignore[attr-defined]
    assert handler.open_runs == 0
