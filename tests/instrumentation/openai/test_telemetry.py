"""The SDK layer feeding the OpenTelemetry handler: spans and metrics of real SDK calls."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import openai
import pytest
from opentelemetry.trace import StatusCode

from otel_llm import semconv
from otel_llm.devserver import ModelServer
from otel_llm.instrumentation.openai import instrument_openai
from otel_llm.testing.otel import InMemoryTelemetry

from .support import DROP_MODEL, USER, read_until_cut


@pytest.fixture
def otel() -> Iterator[InMemoryTelemetry]:
    with InMemoryTelemetry() as telemetry:
        instrument_openai([telemetry.handler()])
        yield telemetry


def test_streamed_chat_span(client: openai.OpenAI, otel: InMemoryTelemetry,
                            server: ModelServer) -> None:
    """A streamed call is one client span with server, response and usage attributes and a
    time to first chunk; the token-usage metric gets the provider's numbers."""
    chunks = list(client.chat.completions.create(model="gpt-4o-mini+len=25", messages=USER,
                                                 stream=True, temperature=0.5))
    span = otel.span("chat gpt-4o-mini+len=25")
    attrs = span.attributes or {}
    host, port = server.url.removeprefix("http://").split(":")
    assert attrs[semconv.GEN_AI_PROVIDER_NAME] == "openai"
    assert attrs[semconv.SERVER_ADDRESS] == host and attrs[semconv.SERVER_PORT] == int(port)
    assert attrs[semconv.GEN_AI_REQUEST_TEMPERATURE] == 0.5
    assert attrs[semconv.GEN_AI_RESPONSE_ID] == chunks[0].id
    assert attrs[semconv.GEN_AI_RESPONSE_MODEL] == "gpt-4o-mini"
    assert attrs[semconv.GEN_AI_RESPONSE_FINISH_REASONS] == ("stop",)
    assert attrs[semconv.GEN_AI_USAGE_OUTPUT_TOKENS] == 25
    assert semconv.GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK in attrs
    assert semconv.OTEL_LLM_USAGE_ESTIMATED not in attrs
    output = otel.metric_points("gen_ai.client.token.usage",
                                **{semconv.GEN_AI_TOKEN_TYPE: "output"})
    assert [p.sum for p in output] == [25]


def test_error_and_abandoned_spans(client: openai.OpenAI, otel: InMemoryTelemetry) -> None:
    """A 429 and an abandoned stream each end their span with status ERROR and an error type
    naming the exception."""
    with pytest.raises(openai.RateLimitError):
        client.chat.completions.create(model="gpt-4o-mini+error=429", messages=USER)
    stream = client.chat.completions.create(model="gpt-4o-mini", messages=USER, stream=True)
    next(stream)
    del stream
    gc.collect()
    spans = otel.spans()
    assert len(spans) == 2
    assert all(s.status.status_code is StatusCode.ERROR for s in spans)
    assert [(s.attributes or {})[semconv.ERROR_TYPE] for s in spans] == [
        "openai.RateLimitError", "otel_llm.instrumentation.openai.StreamAbandonedError"]


def test_mid_stream_drop_span(client: openai.OpenAI) -> None:
    """A stream cut mid-way ends its span with status ERROR and an error type naming the
    exception the caller got, which has the type the SDK raises without instrumentation."""
    plain, _ = read_until_cut(
        client.chat.completions.create(model=DROP_MODEL, messages=USER, stream=True))
    with InMemoryTelemetry() as otel:
        instrument_openai([otel.handler()])
        traced, _ = read_until_cut(
            client.chat.completions.create(model=DROP_MODEL, messages=USER, stream=True))
    assert type(traced) is type(plain)
    [span] = otel.spans()
    assert span.status.status_code is StatusCode.ERROR
    public_module = type(plain).__module__.split("._")[0]  # openai._exceptions -> openai
    assert (span.attributes or {})[semconv.ERROR_TYPE] == (
        f"{public_module}.{type(plain).__qualname__}")


def test_server_address_follows_a_changed_base_url(client: openai.OpenAI,
                                                   otel: InMemoryTelemetry) -> None:
    """The rendered base URL is cached per client, yet assigning ``client.base_url`` (a new
    URL object) is seen by the next call."""
    client.chat.completions.create(model="gpt-4o-mini+len=2", messages=USER)
    port = client.base_url.port
    client.base_url = f"http://localhost:{port}/v1/"
    client.chat.completions.create(model="gpt-4o-mini+len=3", messages=USER)
    first = otel.span("chat gpt-4o-mini+len=2").attributes or {}
    second = otel.span("chat gpt-4o-mini+len=3").attributes or {}
    assert first[semconv.SERVER_ADDRESS] == "127.0.0.1"
    assert second[semconv.SERVER_ADDRESS] == "localhost"
    assert second[semconv.SERVER_PORT] == port
