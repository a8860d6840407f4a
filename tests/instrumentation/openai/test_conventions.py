"""The conventions' attributes of real SDK calls: OpenAI service tier and fingerprint,
output type, embeddings dimensions and encodings, provider from the API host (and its
prices), schema URL, system messages and interrupted outputs in captured content."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import openai
import pydantic
import pytest
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader

from otel_llm import semconv
from otel_llm.devserver import ModelServer
from otel_llm.instrumentation.openai import instrument_openai
from otel_llm.telemetry import OpenTelemetryCallbackHandler
from otel_llm.testing.otel import InMemoryTelemetry
from tests.devserver.support import TRANSPORT as httpx2  # httpx, or httpx2 for openai 3

from ...tokens.test_tokens_images import data_url
from .support import USER

DURATION = semconv.METRIC_OPERATION_DURATION


@pytest.fixture
def otel() -> Iterator[InMemoryTelemetry]:
    with InMemoryTelemetry() as telemetry:
        instrument_openai([telemetry.handler(capture_content="SPAN_ONLY")])
        yield telemetry


def _attrs(otel: InMemoryTelemetry, name: str) -> dict[str, Any]:
    return dict(otel.span(name).attributes or {})


def test_service_tier_and_fingerprint(client: openai.OpenAI, otel: InMemoryTelemetry) -> None:
    """A request for the flex tier: request and response tier and the fingerprint on the
    span; the duration and token metrics carry the (bounded) response tier, never the
    fingerprint. ``auto`` is not a requested tier: no request attribute."""
    reply = client.chat.completions.create(model="gpt-4o-mini", messages=USER,
                                           service_tier="flex")
    attrs = _attrs(otel, "chat gpt-4o-mini")
    assert attrs[semconv.OPENAI_REQUEST_SERVICE_TIER] == "flex"
    assert attrs[semconv.OPENAI_RESPONSE_SERVICE_TIER] == "flex"
    assert attrs[semconv.OPENAI_RESPONSE_SYSTEM_FINGERPRINT] == reply.system_fingerprint
    for metric in (DURATION, semconv.METRIC_TOKEN_USAGE):
        points = otel.metric_points(metric)
        assert points and all(
            (p.attributes or {})[semconv.OPENAI_RESPONSE_SERVICE_TIER] == "flex"
            and semconv.OPENAI_RESPONSE_SYSTEM_FINGERPRINT not in (p.attributes or {})
            for p in points)
    otel.clear()
    list(client.chat.completions.create(model="gpt-4o-mini", messages=USER, stream=True,
                                        service_tier="auto"))
    attrs = _attrs(otel, "chat gpt-4o-mini")
    assert semconv.OPENAI_REQUEST_SERVICE_TIER not in attrs
    assert attrs[semconv.OPENAI_RESPONSE_SERVICE_TIER] == "default"
    assert attrs[semconv.OPENAI_RESPONSE_SYSTEM_FINGERPRINT].startswith("fp_")


class Flower(pydantic.BaseModel):
    name: str


@pytest.mark.parametrize(("call", "expected"), [
    pytest.param(lambda c: c.chat.completions.create(
        model="gpt-4o-mini", messages=USER, response_format={"type": "json_object"}),
        "json", id="json_object"),
    pytest.param(lambda c: c.chat.completions.create(
        model="gpt-4o-mini", messages=USER, response_format={"type": "text"}),
        "text", id="text"),
    pytest.param(lambda c: c.chat.completions.parse(
        model="gpt-4o-mini", messages=USER, response_format=Flower), "json", id="parse"),
    pytest.param(lambda c: c.responses.create(
        model="gpt-4o-mini", input="hi",
        text={"format": {"type": "json_schema", "name": "f", "schema": {"type": "object"}}}),
        "json", id="responses-text-format"),
    pytest.param(lambda c: c.responses.parse(model="gpt-4o-mini", input="hi",
                                             text_format=Flower), "json", id="responses-parse"),
    pytest.param(lambda c: c.chat.completions.create(model="gpt-4o-mini", messages=USER),
                 None, id="unnamed"),
])
def test_output_type(client: openai.OpenAI, otel: InMemoryTelemetry, call: Any,
                     expected: str | None) -> None:
    """gen_ai.output.type follows the requested format; absent when none is named."""
    call(client)
    assert _attrs(otel, "chat gpt-4o-mini").get(semconv.GEN_AI_OUTPUT_TYPE) == expected


def test_embeddings_dimensions_and_encoding(client: openai.OpenAI,
                                            otel: InMemoryTelemetry) -> None:
    """An embeddings call names its dimension count and encoding formats (a string array)."""
    result = client.embeddings.create(model="text-embedding-3-small", input="roses",
                                      dimensions=8, encoding_format="float")
    assert len(result.data[0].embedding) == 8
    attrs = _attrs(otel, "embeddings text-embedding-3-small")
    assert attrs[semconv.GEN_AI_EMBEDDINGS_DIMENSION_COUNT] == 8
    assert attrs[semconv.GEN_AI_REQUEST_ENCODING_FORMATS] == ("float",)
    assert semconv.GEN_AI_OUTPUT_TYPE not in attrs


class _ToServer(httpx2.HTTPTransport):
    """Sends what the SDK addresses to a provider's host to the devserver, over real HTTP."""

    def __init__(self, server: ModelServer) -> None:
        super().__init__()
        self._host, port = server.url.removeprefix("http://").split(":")
        self._port = int(port)

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        path = "/v1" + request.url.path[request.url.path.index("/chat/"):]  # chat calls only
        request.url = request.url.copy_with(scheme="http", host=self._host, port=self._port,
                                            path=path)
        return super().handle_request(request)


@pytest.mark.parametrize(("base_url", "provider", "priced_as"), [
    ("https://api.deepseek.com/v1", "deepseek", "deepseek/deepseek-chat"),
    ("https://api.groq.com/openai/v1", "groq", "groq/deepseek-chat"),
    ("https://api.mistral.ai/v1", "mistral_ai", "mistral_ai/deepseek-chat"),
    ("https://api.x.ai/v1", "x_ai", "x_ai/deepseek-chat"),
    ("https://api.perplexity.ai", "perplexity", "perplexity/deepseek-chat"),
    ("https://my-res.openai.azure.com/openai/v1", "azure.ai.openai", "deepseek-chat"),
    ("https://llm.internal.example/v1", "openai", "deepseek-chat"),
])
def test_provider_from_the_api_host(server: ModelServer, base_url: str, provider: str,
                                    priced_as: str) -> None:
    """An OpenAI client pointed at a known provider's API host reports that provider (spans
    and metrics) and is priced under ``provider/model``; unknown hosts stay ``openai``."""
    priced: list[str] = []
    with InMemoryTelemetry() as otel:
        instrument_openai([otel.handler(cost_fn=lambda model, usage: priced.append(model))])
        with openai.OpenAI(base_url=base_url, api_key="sk-test", max_retries=0,
                           http_client=httpx2.Client(transport=_ToServer(server))) as client:
            client.chat.completions.create(model="deepseek-chat", messages=USER)
        attrs = _attrs(otel, "chat deepseek-chat")
        assert attrs[semconv.GEN_AI_PROVIDER_NAME] == provider
        assert attrs[semconv.SERVER_ADDRESS] == httpx2.URL(base_url).host
        assert [(p.attributes or {})[semconv.GEN_AI_PROVIDER_NAME]
                for p in otel.metric_points(DURATION)] == [provider]
    assert priced == [priced_as]


def test_schema_url_on_tracer_and_meter(client: openai.OpenAI) -> None:
    """Spans and metric points name the conventions version they follow."""
    reader = InMemoryMetricReader()
    with InMemoryTelemetry() as otel:
        handler = OpenTelemetryCallbackHandler(tracer_provider=otel.tracer_provider,
                                               meter_provider=MeterProvider([reader]))
        instrument_openai([handler])
        client.chat.completions.create(model="gpt-4o-mini", messages=USER)
        [span] = otel.spans()
    assert span.instrumentation_scope is not None
    assert span.instrumentation_scope.schema_url == semconv.SCHEMA_URL
    data = reader.get_metrics_data()
    assert data is not None
    scopes = [sm.scope for rm in data.resource_metrics for sm in rm.scope_metrics]
    assert scopes and {s.schema_url for s in scopes} == {semconv.SCHEMA_URL}


def test_system_messages_and_instructions(client: openai.OpenAI,
                                          otel: InMemoryTelemetry) -> None:
    """A system message of the chat history stays in gen_ai.input.messages; Responses
    ``instructions`` (given apart) are gen_ai.system_instructions."""
    client.chat.completions.create(model="gpt-4o-mini", messages=[
        {"role": "system", "content": "Be brief."}, *USER])
    attrs = _attrs(otel, "chat gpt-4o-mini")
    assert [m["role"] for m in json.loads(attrs[semconv.GEN_AI_INPUT_MESSAGES])] == [
        "system", "user"]
    assert semconv.GEN_AI_SYSTEM_INSTRUCTIONS not in attrs
    otel.clear()
    client.responses.create(model="gpt-4o-mini", instructions="Be brief.", input="hi")
    attrs = _attrs(otel, "chat gpt-4o-mini")
    assert json.loads(attrs[semconv.GEN_AI_SYSTEM_INSTRUCTIONS]) == [
        {"type": "text", "content": "Be brief."}]
    assert [m["role"] for m in json.loads(attrs[semconv.GEN_AI_INPUT_MESSAGES])] == ["user"]


def test_interrupted_stream_output_finishes_with_error(client: openai.OpenAI,
                                                       otel: InMemoryTelemetry) -> None:
    """A chat stream and a Responses stream closed mid-way: the captured output message
    says finish_reason "error", not an empty string."""
    with client.chat.completions.create(model="gpt-4o-mini+len=10", messages=USER,
                                        stream=True) as stream:
        for i, _ in enumerate(stream):
            if i == 3:
                break
    with client.responses.create(model="gpt-4o-mini+len=10", input="hi", stream=True) as events:
        for i, _ in enumerate(events):
            if i == 4:
                break
    for span in otel.spans():
        [output] = json.loads((span.attributes or {})[semconv.GEN_AI_OUTPUT_MESSAGES])
        assert output["finish_reason"] == "error"
        assert output["parts"]


def test_estimated_input_counts_images(client: openai.OpenAI) -> None:
    """A stream without provider usage is estimated with its images: a data-URL image at its
    real size (two tiles: +425 on gpt-4o), a remote one at a guess that the span flags."""
    text = {"type": "text", "text": "What is in this image?"}
    remote = {"type": "image_url", "image_url": {"url": "https://example.com/cat.png"}}
    local = {"type": "image_url", "image_url": {"url": data_url(1024, 512)}}
    with InMemoryTelemetry() as otel:
        instrument_openai([otel.handler()], stream_usage=False)
        inputs = []
        for content in ([text], [text, local], [text, remote]):
            list(client.chat.completions.create(
                model="gpt-4o", stream=True, messages=[{"role": "user", "content": content}]))
            [span] = otel.spans()
            inputs.append(dict(span.attributes or {}))
            otel.clear()
    assert all(a[semconv.OTEL_LLM_USAGE_ESTIMATED] for a in inputs)
    plain, with_local, with_remote = (a[semconv.GEN_AI_USAGE_INPUT_TOKENS] for a in inputs)
    assert with_local - plain == 425
    assert semconv.OTEL_LLM_USAGE_IMAGE_SIZE_GUESSED not in inputs[1]
    assert inputs[2][semconv.OTEL_LLM_USAGE_IMAGE_SIZE_GUESSED] is True
    assert with_remote - plain == 765  # ASSUMED_SIZE, 1024x1024: four tiles
