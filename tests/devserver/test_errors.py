"""Fault injection: each failure surfaces as the SDK exception production would raise."""

from __future__ import annotations

import time

import openai
import pytest

from otel_llm.devserver import ModelServer

from .support import CONNECTION_ERRORS, assert_cut_mid_body

USER = [{"role": "user", "content": "hello"}]


@pytest.mark.parametrize(
    ("kind", "exception", "code"),
    [
        ("429", openai.RateLimitError, "rate_limit_exceeded"),
        ("500", openai.InternalServerError, None),
        ("503", openai.InternalServerError, None),
        ("400", openai.BadRequestError, "context_length_exceeded"),
        ("context_length", openai.BadRequestError, "context_length_exceeded"),
        ("401", openai.AuthenticationError, "invalid_api_key"),
        ("403", openai.PermissionDeniedError, "model_not_found"),
        ("404", openai.NotFoundError, "model_not_found"),
    ],
)
def test_status_faults_raise_sdk_exceptions(
    client: openai.OpenAI, kind: str, exception: type[openai.APIStatusError], code: str | None
) -> None:
    """``x-devserver-error: <kind>`` answers with OpenAI's error body; the SDK raises
    the matching typed exception with ``code``/``type`` filled in."""
    with pytest.raises(exception) as info:
        client.chat.completions.create(
            model="gpt-4o-mini", messages=USER, extra_headers={"x-devserver-error": kind}
        )
    assert info.value.code == code
    assert info.value.type in ("invalid_request_error", "server_error", "requests")
    assert isinstance(info.value.message, str) and info.value.message


def test_model_name_selects_error_and_429_has_retry_after(client: openai.OpenAI) -> None:
    """The model name ``error-429-2`` gives a 429 whose Retry-After says 2 seconds."""
    with pytest.raises(openai.RateLimitError) as info:
        client.chat.completions.create(model="error-429-2", messages=USER)
    assert info.value.response.headers["retry-after"] == "2"
    assert info.value.response.headers["x-ratelimit-remaining-requests"] == "0"
    assert info.value.body == {
        "message": info.value.body["message"],
        "type": "requests",
        "param": None,
        "code": "rate_limit_exceeded",
    }


def test_sdk_retries_honour_retry_after(server: ModelServer) -> None:
    """With retries on, the SDK waits Retry-After and then succeeds on the next call."""
    server.inject("429:0.2", times=1, path="/v1/chat/completions")
    retrying = openai.OpenAI(base_url=server.base_url, api_key="sk-test", max_retries=1)
    start = time.perf_counter()
    r = retrying.chat.completions.create(model="gpt-4o-mini", messages=USER)
    assert r.choices[0].message.content and time.perf_counter() - start >= 0.2
    retrying.close()


def test_schedule_fails_the_next_requests(client: openai.OpenAI, server: ModelServer) -> None:
    """A server-wide schedule fails exactly the next N matching requests."""
    server.inject("500", times=2, path="/v1/embeddings")
    client.chat.completions.create(model="gpt-4o-mini", messages=USER)  # other path: unaffected
    for _ in range(2):
        with pytest.raises(openai.InternalServerError):
            client.embeddings.create(model="text-embedding-3-small", input="x", encoding_format="float")
    client.embeddings.create(model="text-embedding-3-small", input="x", encoding_format="float")
    assert len(server.faults) == 0


def test_mid_stream_drop_raises_in_iterator(client: openai.OpenAI) -> None:
    """``drop:3`` sends three chunks then cuts the connection: the iterator raises the
    SDK's report of a body cut short."""
    stream = client.chat.completions.create(
        model="gpt-4o-mini+len=50", messages=USER, stream=True,
        extra_headers={"x-devserver-error": "drop:3"},
    )
    received = []
    with pytest.raises(CONNECTION_ERRORS) as info:
        for chunk in stream:
            received.append(chunk)
    assert_cut_mid_body(info.value)
    assert len(received) == 3
    # The client's pool recovers: the next call works.
    assert client.chat.completions.create(model="gpt-4o-mini", messages=USER).choices


async def test_mid_stream_drop_async(aclient: openai.AsyncOpenAI) -> None:
    """The async iterator raises on a dropped stream as well."""
    stream = await aclient.responses.create(
        model="gpt-4o-mini+len=50+error=drop:5", input="hi", stream=True
    )
    seen = 0
    with pytest.raises(CONNECTION_ERRORS) as info:
        async for _ in stream:
            seen += 1
    assert_cut_mid_body(info.value)
    assert seen == 5


def test_drop_of_json_body(client: openai.OpenAI) -> None:
    """A dropped non-streamed answer surfaces as a connection error."""
    with pytest.raises(openai.APIConnectionError):
        client.chat.completions.create(model="error-drop", messages=USER)


def test_hang_times_out_the_client(client: openai.OpenAI) -> None:
    """``hang`` never answers in time: a short client timeout raises APITimeoutError."""
    with pytest.raises(openai.APITimeoutError):  # a 60 s answer would have come back instead
        client.with_options(timeout=0.3, max_retries=0).chat.completions.create(
            model="gpt-4o-mini+error=hang:60", messages=USER
        )


def test_short_hang_is_latency(client: openai.OpenAI) -> None:
    """``hang:<seconds>`` shorter than the client timeout is just a slow first byte."""
    start = time.perf_counter()
    r = client.chat.completions.create(model="gpt-4o-mini+error=hang:0.2", messages=USER)
    assert r.choices[0].message.content and time.perf_counter() - start >= 0.2


def test_real_context_window_overflow() -> None:
    """A prompt longer than the server's context window gets a real 400
    ``context_length_exceeded`` quoting both numbers."""
    with ModelServer(context_window=50) as srv:
        c = openai.OpenAI(base_url=srv.base_url, api_key="sk-test", max_retries=0)
        c.chat.completions.create(model="gpt-4o-mini", messages=USER)
        long = [{"role": "user", "content": "word " * 100}]
        with pytest.raises(openai.BadRequestError) as info:
            c.chat.completions.create(model="gpt-4o-mini", messages=long)
        assert info.value.code == "context_length_exceeded"
        assert "maximum context length is 50 tokens" in info.value.message
        c.close()


def test_api_key_is_checked_when_configured() -> None:
    """With ``api_key`` set, other keys get 401 ``invalid_api_key``."""
    with ModelServer(api_key="sk-right") as srv:
        bad = openai.OpenAI(base_url=srv.base_url, api_key="sk-wrong", max_retries=0)
        with pytest.raises(openai.AuthenticationError):
            bad.models.list()
        good = openai.OpenAI(base_url=srv.base_url, api_key="sk-right", max_retries=0)
        assert good.models.list().data
        bad.close()
        good.close()


def test_bad_control_is_a_clear_400(client: openai.OpenAI) -> None:
    """An unknown control or fault kind is rejected with a message naming the valid ones."""
    with pytest.raises(openai.BadRequestError, match="unknown fault"):
        client.chat.completions.create(model="gpt-4o-mini+error=418", messages=USER)
    with pytest.raises(openai.BadRequestError, match="unknown control"):
        client.chat.completions.create(model="gpt-4o-mini+colour=red", messages=USER)
