"""``with_raw_response`` / ``with_streaming_response``: every covered endpoint, sync and
async, plain and streamed, is one run ending exactly once, while the caller gets the SDK's
own response objects, as lazy as without us."""

from __future__ import annotations

import asyncio
import gc
import json
from typing import Any

import openai
import pydantic
import pytest

from otel_llm.devserver import ModelServer
from otel_llm.instrumentation.openai import StreamAbandonedError, instrument_openai, wrap_openai
from tests.devserver.support import assert_cut_mid_body, transport_error

from .support import USER, Recorder


class Flower(pydantic.BaseModel):
    name: str
    price: int


#: (name, resource path, method, kwargs, streamable)
ENDPOINTS: list[tuple[str, tuple[str, ...], str, dict[str, Any], bool]] = [
    ("chat", ("chat", "completions"), "create",
     {"model": "gpt-4o-mini+len=5", "messages": USER}, True),
    ("parse", ("chat", "completions"), "parse",
     {"model": "gpt-4o-mini", "messages": USER, "response_format": Flower}, False),
    ("completions", ("completions",), "create",
     {"model": "gpt-3.5-turbo-instruct+len=5", "prompt": "Say"}, True),
    ("embeddings", ("embeddings",), "create",
     {"model": "text-embedding-3-small", "input": "roses"}, False),
    ("responses", ("responses",), "create", {"model": "gpt-4o-mini+len=5", "input": "hi"}, True),
    ("responses-parse", ("responses",), "parse",
     {"model": "gpt-4o-mini", "input": "hi", "text_format": Flower}, False),
    ("beta-responses", ("beta", "responses"), "create",
     {"model": "gpt-4o-mini+len=5", "input": "hi"}, True),
]
CASES = [pytest.param(e, stream, id=f"{e[0]}{'-stream' if stream else ''}")
         for e in ENDPOINTS for stream in ((False, True) if e[4] else (False,))]



def _method(client: Any, endpoint: tuple[Any, ...], wrapper: str) -> Any:
    resource = client
    for attr in endpoint[1]:
        resource = getattr(resource, attr)
    return getattr(getattr(resource, wrapper), endpoint[2])


def _offered(wrapper: str) -> list[Any]:
    """The cases whose method the installed SDK offers through ``wrapper`` (it has no
    ``with_streaming_response.parse`` on Responses, and older SDKs no ``beta.responses``)."""
    offered = []
    with openai.OpenAI(base_url="http://127.0.0.1:9", api_key="sk-test") as probe:  # no call
        for case in CASES:
            try:
                _method(probe, case.values[0], wrapper)
            except AttributeError:
                continue
            offered.append(case)
    return offered


RAW_CASES = _offered("with_raw_response")
STREAMING_CASES = _offered("with_streaming_response")


def _kwargs(endpoint: tuple[Any, ...], stream: bool) -> dict[str, Any]:
    return {**endpoint[3], "stream": True} if stream else dict(endpoint[3])


def _shape(parsed: Any, stream: bool) -> Any:
    """What the caller got, without the per-call ids and times."""
    if stream:
        return [type(item).__name__ for item in parsed]
    return type(parsed).__name__, sorted(parsed.model_dump(exclude={"id"}, warnings=False))


def _client(server: ModelServer) -> openai.OpenAI:
    """A second client for the uninstrumented reference call. The SDK caches a resource's
    with_raw_response wrapper, bound to the method as it was when first used."""
    return openai.OpenAI(base_url=server.base_url, api_key="sk-test", max_retries=0)


def _skeleton(lines: Any) -> list[Any]:
    """Body lines with each JSON document reduced to its keys (ids and times differ)."""
    out: list[Any] = []
    for line in lines:
        text = line.removeprefix("data: ")
        out.append(sorted(json.loads(text)) if text.startswith("{") else line)
    return out


def _settled(recorder: Recorder) -> Any:
    gc.collect()
    return recorder.assert_one_run_ended_once()


@pytest.mark.parametrize(("endpoint", "stream"), RAW_CASES)
def test_with_raw_response_is_one_run_and_the_sdk_object(
        client: openai.OpenAI, server: ModelServer, recorder: Recorder,
        endpoint: tuple[Any, ...], stream: bool) -> None:
    """with_raw_response: the caller gets the SDK's LegacyAPIResponse (same class, headers,
    parse() result shape as uninstrumented); the call is one run ending once with
    on_llm_end, whose usage is the one the server reported (streams: the tokens read)."""
    with _client(server) as other:
        plain = _method(other, endpoint, "with_raw_response")(**_kwargs(endpoint, stream))
        expected = _shape(plain.parse(), stream)
    instrument_openai([recorder])
    raw = _method(client, endpoint, "with_raw_response")(**_kwargs(endpoint, stream))
    assert type(raw) is type(plain)
    assert raw.headers["content-type"] == plain.headers["content-type"]
    assert raw.http_response.is_stream_consumed is (not stream)  # a stream is still unread
    parsed = raw.parse()
    assert raw.parse() is parsed  # the SDK's cache is the caller's
    assert _shape(parsed, stream) == expected
    end = _settled(recorder)
    assert end.hook == "end"
    usage = end.payload.llm_output["token_usage"]
    if not stream:
        assert usage["prompt_tokens"] == parsed.usage.model_dump().get(
            "prompt_tokens", parsed.usage.model_dump().get("input_tokens"))
    elif endpoint[0] != "completions":
        assert "".join(recorder.tokens)


@pytest.mark.parametrize(("endpoint", "stream"), STREAMING_CASES)
def test_with_streaming_response_is_lazy_and_ends_once(
        client: openai.OpenAI, server: ModelServer, recorder: Recorder,
        endpoint: tuple[Any, ...], stream: bool) -> None:
    """with_streaming_response: nothing is read before the caller reads; iter_lines() gives
    the same lines as uninstrumented; the run ends once, on_llm_end, after the body."""
    with _client(server) as other, _method(other, endpoint, "with_streaming_response")(
            **_kwargs(endpoint, stream)) as r:
        plain = _skeleton(r.iter_lines())
    instrument_openai([recorder])
    with _method(client, endpoint, "with_streaming_response")(**_kwargs(endpoint, stream)) as r:
        assert r.http_response.is_stream_consumed is False
        assert [e.hook for e in recorder.events] in (["chat_start"], ["llm_start"])
        lines = list(r.iter_lines())
    assert _skeleton(lines) == plain
    end = _settled(recorder)
    assert end.hook == "end"
    assert end.payload.llm_output.get("model_name")


def test_streaming_response_parse_of_a_stream_emits_tokens(client: openai.OpenAI,
                                                           instrumented: Recorder) -> None:
    """parse() of a with_streaming_response stream gives the SDK's Stream; its chunks are the
    run's tokens and the output finishes with the server's finish reason."""
    with client.chat.completions.with_streaming_response.create(
            model="gpt-4o-mini+len=5", messages=USER, stream=True) as response:
        stream = response.parse()
        assert isinstance(stream, openai.Stream)
        text = "".join(c.choices[0].delta.content or "" for c in stream if c.choices)
    end = _settled(instrumented)
    assert "".join(instrumented.tokens) == text and len(instrumented.tokens) == 5
    assert end.payload.generations[0][0].generation_info == {"finish_reason": "stop"}


def test_streaming_response_closed_early_ends_with_what_arrived(
        client: openai.OpenAI, instrumented: Recorder) -> None:
    """Leaving the block after a few lines closes the response: on_llm_end with the tokens
    read so far, the output's finish reason "error" (it did not finish)."""
    with client.chat.completions.with_streaming_response.create(
            model="gpt-4o-mini+len=10", messages=USER, stream=True) as response:
        for i, _ in enumerate(response.iter_lines()):
            if i == 6:  # role chunk, then "data" / blank line pairs
                break
    end = _settled(instrumented)
    assert end.hook == "end"
    [[generation]] = end.payload.generations
    assert generation.text == "".join(instrumented.tokens) and instrumented.tokens
    assert generation.generation_info == {"finish_reason": "error"}


def test_raw_stream_dropped_unread_is_abandoned_once(client: openai.OpenAI,
                                                     instrumented: Recorder) -> None:
    """A raw streamed response dropped without reading or closing ends once, as abandoned."""
    raw = client.chat.completions.with_raw_response.create(model="gpt-4o-mini", messages=USER,
                                                           stream=True)
    assert instrumented.hooks == ["chat_start"]
    del raw
    end = _settled(instrumented)
    assert end.hook == "error" and isinstance(end.payload, StreamAbandonedError)


def test_raw_stream_cut_mid_way_fails_the_run(client: openai.OpenAI,
                                              instrumented: Recorder) -> None:
    """A connection cut in the middle of a raw stream: the caller gets the SDK's exception
    and the run ends once with on_llm_error carrying the transport's exception (read from
    the body: recent SDKs' Stream wraps it, so it is the caller's exception's cause)."""
    raw = client.chat.completions.with_raw_response.create(
        model="gpt-4o-mini+len=10+error=drop:4", messages=USER, stream=True)
    seen = []
    with pytest.raises(Exception) as info:
        for chunk in raw.parse():
            seen.append(chunk)
    assert len(seen) == 4
    end = _settled(instrumented)
    assert end.hook == "error"
    assert_cut_mid_body(info.value)
    assert end.payload is transport_error(info.value)


# --- async ---------------------------------------------------------------------------


async def _asettled(recorder: Recorder) -> Any:
    gc.collect()
    await asyncio.sleep(0)
    return recorder.assert_one_run_ended_once()


@pytest.mark.parametrize(("endpoint", "stream"), RAW_CASES)
async def test_async_with_raw_response(aclient: openai.AsyncOpenAI, instrumented: Recorder,
                                       endpoint: tuple[Any, ...], stream: bool) -> None:
    """Async with_raw_response: the SDK's response object, parsed by the caller; one run,
    ending once with on_llm_end after the body was read."""
    raw = await _method(aclient, endpoint, "with_raw_response")(**_kwargs(endpoint, stream))
    assert type(raw).__name__ == "LegacyAPIResponse"
    parsed = raw.parse()
    if stream:
        assert isinstance(parsed, openai.AsyncStream)
        assert [item async for item in parsed]
    end = await _asettled(instrumented)
    assert end.hook == "end"
    assert end.payload.llm_output.get("model_name")


@pytest.mark.parametrize(("endpoint", "stream"), STREAMING_CASES)
async def test_async_with_streaming_response(aclient: openai.AsyncOpenAI,
                                             instrumented: Recorder,
                                             endpoint: tuple[Any, ...], stream: bool) -> None:
    """Async with_streaming_response: lazy until the caller reads; await parse() (and for a
    stream, iterating it) ends the run once with on_llm_end."""
    method = _method(aclient, endpoint, "with_streaming_response")
    async with method(**_kwargs(endpoint, stream)) as response:
        assert response.http_response.is_stream_consumed is False
        parsed = await response.parse()
        if stream:
            assert [item async for item in parsed]
    end = await _asettled(instrumented)
    assert end.hook == "end"
    assert end.payload.llm_output.get("model_name")


async def test_async_raw_stream_abandoned_and_cut(aclient: openai.AsyncOpenAI,
                                                  recorder: Recorder) -> None:
    """Async raw streams: dropped unread -> StreamAbandonedError; cut mid-way -> the
    transport's exception; each run ends exactly once."""
    instrument_openai([recorder])
    raw = await aclient.chat.completions.with_raw_response.create(
        model="gpt-4o-mini", messages=USER, stream=True)
    del raw
    end = await _asettled(recorder)
    assert isinstance(end.payload, StreamAbandonedError)
    recorder.events.clear()
    raw = await aclient.chat.completions.with_raw_response.create(
        model="gpt-4o-mini+len=10+error=drop:4", messages=USER, stream=True)
    with pytest.raises(Exception) as info:
        async for _ in raw.parse():
            pass
    end = await _asettled(recorder)
    assert end.hook == "error"
    assert_cut_mid_body(info.value)
    assert end.payload is transport_error(info.value)


def test_wrap_openai_rebuilds_cached_raw_wrappers(server: ModelServer, recorder: Recorder
                                                  ) -> None:
    """A client that used with_raw_response before wrap_openai() (the SDK caches the wrapper,
    bound to the method of that moment) is observed after wrapping."""
    with _client(server) as client:
        client.chat.completions.with_raw_response.create(model="gpt-4o-mini", messages=USER)
        wrap_openai(client, [recorder])
        raw = client.chat.completions.with_raw_response.create(model="gpt-4o-mini",
                                                               messages=USER)
        assert raw.parse().choices
    assert _settled(recorder).hook == "end"
