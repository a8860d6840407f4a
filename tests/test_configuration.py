"""configure(): validation, resources, providers, real OTLP export, and behaviour under faults.

The OTLP receivers are in-process: a gRPC server built from the collector's
service stubs and a tiny HTTP server decoding the protobuf bodies, both on
127.0.0.1:0. Fault tests use short export timeouts to stay fast.
"""

from __future__ import annotations

import collections
import contextlib
import gc
import logging
import os
import subprocess
import sys
import textwrap
import threading
import tracemalloc
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from opentelemetry import metrics, trace
from opentelemetry._logs import _internal as logs_internal
from opentelemetry.metrics import _internal as metrics_internal
from opentelemetry.proto.common.v1.common_pb2 import AnyValue
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.util._once import Once

from otel_llm import semconv
from otel_llm.configuration import Telemetry, configure, guard
from otel_llm.errors import ConfigurationError
from otel_llm.schema import AIMessage, ChatGeneration, HumanMessage, LLMResult
from otel_llm.telemetry import CaptureMode, OpenTelemetryCallbackHandler
from otel_llm.testing.collector import GrpcCollector, HttpCollector, dead_endpoint

MODEL = "gpt-4o-mini"
MESSAGES = [[HumanMessage("Hello")]]
PARAMS = {"model": MODEL, "base_url": "https://api.openai.com/v1", "temperature": 0.2}
RESULT = LLMResult(
    generations=[
        [ChatGeneration(message=AIMessage("Hi"), generation_info={"finish_reason": "stop"})]
    ],
    llm_output={"token_usage": {"prompt_tokens": 7, "completion_tokens": 3}, "id": "chatcmpl-1"},
)


def llm_run(handler: OpenTelemetryCallbackHandler | None, tokens: int = 10) -> None:
    """One streamed chat run as the manager would report it (no handler: the bare app work)."""
    run_id = uuid.uuid4()
    pieces = []
    if handler is not None:
        handler.on_chat_model_start(
            {},
            MESSAGES,
            run_id=run_id,
            metadata={"ls_provider": "openai"},
            invocation_params=PARAMS,
        )
    for i in range(tokens):
        pieces.append(str(i))
        if handler is not None:
            handler.on_llm_new_token(pieces[-1], run_id=run_id)
    "".join(pieces)
    if handler is not None:
        handler.on_llm_end(RESULT, run_id=run_id)


# --- fixtures ------------------------------------------------------------------------------


def _reset_otel_globals() -> None:
    trace._TRACER_PROVIDER_SET_ONCE = Once()
    trace._TRACER_PROVIDER = None
    trace._PROXY_TRACER_PROVIDER = trace.ProxyTracerProvider()
    metrics_internal._METER_PROVIDER_SET_ONCE = Once()
    metrics_internal._METER_PROVIDER = None
    metrics_internal._PROXY_METER_PROVIDER = metrics_internal._ProxyMeterProvider()
    logs_internal._LOGGER_PROVIDER_SET_ONCE = Once()
    logs_internal._LOGGER_PROVIDER = None
    logs_internal._PROXY_LOGGER_PROVIDER = logs_internal.ProxyLoggerProvider()


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No OTEL_* variable from the shell, fresh global providers, fresh log rate limits."""
    for name in list(os.environ):
        if name.startswith("OTEL_"):
            monkeypatch.delenv(name)
    _reset_otel_globals()
    guard.EXPORT_LOG_FILTER.reset()
    yield
    _reset_otel_globals()


@pytest.fixture
def handles() -> Iterator[list[Telemetry]]:
    """Configured handles to shut down after the test, whatever happens."""
    made: list[Telemetry] = []
    yield made
    for handle in made:
        handle.shutdown(timeout=1.0)


@pytest.fixture
def make(handles: list[Telemetry]) -> Callable[..., Telemetry]:
    def build(**kwargs: Any) -> Telemetry:
        kwargs.setdefault("install", False)
        handle = configure(**kwargs)
        handles.append(handle)
        return handle

    return build


def attrs_of(key_values: Any) -> dict[str, Any]:
    return {kv.key: _value(kv.value) for kv in key_values}


def _value(value: AnyValue) -> Any:
    kind = value.WhichOneof("value")
    if kind == "array_value":
        return tuple(_value(v) for v in value.array_value.values)
    return getattr(value, kind) if kind else None


# --- validation ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "setting"),
    [
        ({"endpoint": "localhost:4317"}, "endpoint"),
        ({"endpoint": "ftp://collector:4317"}, "endpoint"),
        ({"endpoint": "http://collector:99999"}, "endpoint"),
        ({"protocol": "http/json"}, "protocol"),
        ({"protocol": "carrier-pigeon"}, "protocol"),
        ({"export_timeout": -1}, "export_timeout"),
        ({"export_timeout": 0}, "export_timeout"),
        ({"metric_export_interval": -5}, "metric_export_interval"),
        ({"headers": {"bad header": "x"}}, "headers"),
        ({"headers": {"x-key": "a\nb"}}, "headers"),
        ({"traces_exporter": "jaeger-thrift"}, "traces_exporter"),
        ({"metrics_exporter": "nope"}, "metrics_exporter"),
        ({"capture_content": "ALL"}, "capture_content"),
        ({"max_queue_size": 0}, "max_queue_size"),
        ({"prometheus_port": 70000}, "prometheus_port"),
        ({"on_existing_provider": "replace"}, "on_existing_provider"),
        # issue #19
        ({"endpoint": "http://user:s3cr3t@collector:4317"}, "endpoint"),
        ({"endpoint": "unix:///tmp/otel.sock", "protocol": "http/protobuf"}, "endpoint"),
        ({"endpoint": "unix://"}, "endpoint"),
        ({"export_timeout": float("inf")}, "export_timeout"),
        ({"export_timeout": float("nan")}, "export_timeout"),
        ({"export_timeout": 7200}, "export_timeout"),
        ({"metric_export_interval": float("inf")}, "metric_export_interval"),
        ({"max_queue_size": 10**12}, "max_queue_size"),
        ({"max_queue_size": 2.5}, "max_queue_size"),
        ({"max_queue_size": True}, "max_queue_size"),
        ({"headers": {"x-key": "caf\u00e9"}}, "headers"),
        ({"headers": {"x-key": "a\x00b"}}, "headers"),
        ({"traces_exporter": "none,otlp"}, "traces_exporter"),
        ({"traces_exporter": " , "}, "traces_exporter"),
        ({"metrics_exporter": "otlp,otlp"}, "metrics_exporter"),
        ({"service_name": "chat\udcffbot"}, "service_name"),
        ({"resource_attributes": {"team": "m\udcffl"}}, "resource_attributes"),
    ],
)
def test_invalid_arguments_name_the_setting(kwargs: dict[str, Any], setting: str) -> None:
    """Each invalid argument raises ConfigurationError naming that argument."""
    with pytest.raises(ConfigurationError) as info:
        configure(install=False, **kwargs)
    assert info.value.setting == setting


#: (variables set, the variable the error must name): the cases rejected before #19 first.
INVALID_ENVIRONMENTS: list[tuple[dict[str, str], str]] = [
    ({"OTEL_EXPORTER_OTLP_ENDPOINT": "collector:4317"}, "OTEL_EXPORTER_OTLP_ENDPOINT"),
    ({"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://"}, "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"),
    ({"OTEL_EXPORTER_OTLP_PROTOCOL": "udp"}, "OTEL_EXPORTER_OTLP_PROTOCOL"),
    ({"OTEL_EXPORTER_OTLP_METRICS_PROTOCOL": "http/json"}, "OTEL_EXPORTER_OTLP_METRICS_PROTOCOL"),
    ({"OTEL_EXPORTER_OTLP_HEADERS": "novalue"}, "OTEL_EXPORTER_OTLP_HEADERS"),
    ({"OTEL_EXPORTER_OTLP_TRACES_HEADERS": "a=1,b c=2"}, "OTEL_EXPORTER_OTLP_TRACES_HEADERS"),
    ({"OTEL_METRIC_EXPORT_INTERVAL": "-5"}, "OTEL_METRIC_EXPORT_INTERVAL"),
    ({"OTEL_BSP_SCHEDULE_DELAY": "soon"}, "OTEL_BSP_SCHEDULE_DELAY"),
    ({"OTEL_EXPORTER_OTLP_TIMEOUT": "0"}, "OTEL_EXPORTER_OTLP_TIMEOUT"),
    ({"OTEL_TRACES_EXPORTER": "zipkin-v9"}, "OTEL_TRACES_EXPORTER"),
    # issue #19: compression
    ({"OTEL_EXPORTER_OTLP_COMPRESSION": "brotli"}, "OTEL_EXPORTER_OTLP_COMPRESSION"),
    ({"OTEL_EXPORTER_OTLP_TRACES_COMPRESSION": "zstd"}, "OTEL_EXPORTER_OTLP_TRACES_COMPRESSION"),
    ({"OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf", "OTEL_EXPORTER_OTLP_COMPRESSION": "lz4"},
     "OTEL_EXPORTER_OTLP_COMPRESSION"),
    # headers, checked after URL-decoding
    ({"OTEL_EXPORTER_OTLP_HEADERS": "x=a%0Ab"}, "OTEL_EXPORTER_OTLP_HEADERS"),
    ({"OTEL_EXPORTER_OTLP_HEADERS": "x=a%0D%0Ab"}, "OTEL_EXPORTER_OTLP_HEADERS"),
    ({"OTEL_EXPORTER_OTLP_HEADERS": "x=a%00b"}, "OTEL_EXPORTER_OTLP_HEADERS"),
    ({"OTEL_EXPORTER_OTLP_HEADERS": "x%0Ay=b"}, "OTEL_EXPORTER_OTLP_HEADERS"),
    ({"OTEL_EXPORTER_OTLP_METRICS_HEADERS": "x=caf%C3%A9"}, "OTEL_EXPORTER_OTLP_METRICS_HEADERS"),
    # samplers and their argument
    ({"OTEL_TRACES_SAMPLER": "bogus"}, "OTEL_TRACES_SAMPLER"),
    ({"OTEL_TRACES_SAMPLER": "traceidratio", "OTEL_TRACES_SAMPLER_ARG": "abc"},
     "OTEL_TRACES_SAMPLER_ARG"),
    ({"OTEL_TRACES_SAMPLER_ARG": "abc"}, "OTEL_TRACES_SAMPLER_ARG"),
    ({"OTEL_TRACES_SAMPLER": "parentbased_traceidratio", "OTEL_TRACES_SAMPLER_ARG": "1.5"},
     "OTEL_TRACES_SAMPLER_ARG"),
    ({"OTEL_TRACES_SAMPLER_ARG": "nan"}, "OTEL_TRACES_SAMPLER_ARG"),
    # integers with sane bounds
    ({"OTEL_BSP_MAX_QUEUE_SIZE": "1e12"}, "OTEL_BSP_MAX_QUEUE_SIZE"),
    ({"OTEL_BSP_MAX_QUEUE_SIZE": "2.5"}, "OTEL_BSP_MAX_QUEUE_SIZE"),
    ({"OTEL_BSP_MAX_QUEUE_SIZE": "10000000"}, "OTEL_BSP_MAX_QUEUE_SIZE"),
    ({"OTEL_BSP_MAX_EXPORT_BATCH_SIZE": "0"}, "OTEL_BSP_MAX_EXPORT_BATCH_SIZE"),
    ({"OTEL_BLRP_EXPORT_TIMEOUT": "-1"}, "OTEL_BLRP_EXPORT_TIMEOUT"),
    ({"OTEL_BLRP_MAX_QUEUE_SIZE": "0x10"}, "OTEL_BLRP_MAX_QUEUE_SIZE"),
    ({"OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT": "abc"}, "OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT"),
    ({"OTEL_SPAN_EVENT_COUNT_LIMIT": "-1"}, "OTEL_SPAN_EVENT_COUNT_LIMIT"),
    ({"OTEL_EXPORTER_PROMETHEUS_PORT": "http"}, "OTEL_EXPORTER_PROMETHEUS_PORT"),
    # numbers: finite, with upper bounds
    ({"OTEL_EXPORTER_OTLP_TIMEOUT": "inf"}, "OTEL_EXPORTER_OTLP_TIMEOUT"),
    ({"OTEL_EXPORTER_OTLP_TIMEOUT": "nan"}, "OTEL_EXPORTER_OTLP_TIMEOUT"),
    ({"OTEL_EXPORTER_OTLP_LOGS_TIMEOUT": "100000"}, "OTEL_EXPORTER_OTLP_LOGS_TIMEOUT"),
    ({"OTEL_METRIC_EXPORT_INTERVAL": "inf"}, "OTEL_METRIC_EXPORT_INTERVAL"),
    # exporter lists
    ({"OTEL_TRACES_EXPORTER": "none,otlp"}, "OTEL_TRACES_EXPORTER"),
    ({"OTEL_TRACES_EXPORTER": " , "}, "OTEL_TRACES_EXPORTER"),
    ({"OTEL_METRICS_EXPORTER": "otlp,,console"}, "OTEL_METRICS_EXPORTER"),
    ({"OTEL_TRACES_EXPORTER": "otlp,OTLP"}, "OTEL_TRACES_EXPORTER"),
    # endpoints: credentials, unix sockets only for gRPC
    ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://user:s3cr3t@collector:4317"},
     "OTEL_EXPORTER_OTLP_ENDPOINT"),
    ({"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "https://t0ken@collector/v1/traces"},
     "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"),
    ({"OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf",
      "OTEL_EXPORTER_OTLP_ENDPOINT": "unix:///tmp/otel.sock"}, "OTEL_EXPORTER_OTLP_ENDPOINT"),
    # choices, files, resource, encoding
    ({"OTEL_EXPORTER_OTLP_INSECURE": "yes"}, "OTEL_EXPORTER_OTLP_INSECURE"),
    ({"OTEL_SDK_DISABLED": "maybe"}, "OTEL_SDK_DISABLED"),
    ({"OTEL_METRICS_EXEMPLAR_FILTER": "sometimes"}, "OTEL_METRICS_EXEMPLAR_FILTER"),
    ({"OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE": "weekly"},
     "OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE"),
    ({"OTEL_EXPORTER_OTLP_CERTIFICATE": "/nonexistent/ca.pem"}, "OTEL_EXPORTER_OTLP_CERTIFICATE"),
    ({"OTEL_RESOURCE_ATTRIBUTES": "team=ml,novalue"}, "OTEL_RESOURCE_ATTRIBUTES"),
    ({"OTEL_SERVICE_NAME": "chat\udcffbot"}, "OTEL_SERVICE_NAME"),
]


@pytest.mark.parametrize(("variables", "setting"), INVALID_ENVIRONMENTS)
def test_invalid_environment_names_the_variable(
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    variables: dict[str, str],
    setting: str,
) -> None:
    """Invalid standard variables fail at start-up, naming the variable (not a later warning,
    a fallback to a default or a raw SDK exception); credentials never reach the message or logs."""
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    caplog.set_level(logging.DEBUG)
    with pytest.raises(ConfigurationError) as info:
        configure(install=False)
    assert info.value.setting == setting
    for secret in ("s3cr3t", "t0ken"):
        assert secret not in str(info.value) and secret not in caplog.text


@pytest.mark.parametrize(
    "variables",
    [
        {"OTEL_EXPORTER_OTLP_COMPRESSION": "none"},
        {"OTEL_EXPORTER_OTLP_COMPRESSION": "GZIP"},
        {"OTEL_EXPORTER_OTLP_TRACES_COMPRESSION": "deflate"},
        {"OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf", "OTEL_EXPORTER_OTLP_COMPRESSION": "none"},
        {"OTEL_TRACES_SAMPLER": "ParentBased_TraceIdRatio", "OTEL_TRACES_SAMPLER_ARG": "1"},
        {"OTEL_BSP_MAX_QUEUE_SIZE": "4096", "OTEL_BSP_MAX_EXPORT_BATCH_SIZE": "+256"},
        {"OTEL_EXPORTER_OTLP_TIMEOUT": "2.5", "OTEL_TRACES_EXPORTER": " otlp "},
        {"OTEL_EXPORTER_OTLP_HEADERS": "authorization=Basic%20dXNlcjpwYXNz,x-tenant=acme"},
    ],
)
def test_valid_environments_export_for_real(
    monkeypatch: pytest.MonkeyPatch, make: Any, variables: dict[str, str]
) -> None:
    """Accepted values work end to end: spans reach a real receiver (gRPC compression 'none'
    and 'deflate' used to raise inside the SDK's exporter)."""
    http = variables.get("OTEL_EXPORTER_OTLP_PROTOCOL") == "http/protobuf"
    with HttpCollector() if http else GrpcCollector() as collector:
        monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", collector.endpoint)
        monkeypatch.setenv("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf" if http else "grpc")
        for name, value in variables.items():
            monkeypatch.setenv(name, value)
        handle = make(metrics_exporter="none")
        llm_run(handle.handler())
        assert handle.force_flush(timeout=10)
        assert len(collector.received.spans()) == 1


def test_unix_socket_grpc_target(tmp_path: Path, make: Any) -> None:
    """A unix:// endpoint works with gRPC: spans and metrics reach a receiver on the socket."""
    socket_path = tmp_path / "otlp.sock"
    collector = GrpcCollector()
    collector.server.add_insecure_port(f"unix://{socket_path}")
    with collector:
        handle = make(endpoint=f"unix://{socket_path}", protocol="grpc")
        llm_run(handle.handler())
        assert handle.force_flush(timeout=10)
        assert [s.name for s in collector.received.spans()] == [f"chat {MODEL}"]
        assert collector.received.metric(semconv.METRIC_OPERATION_DURATION)


def test_unix_socket_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, make: Any
) -> None:
    """OTEL_EXPORTER_OTLP_ENDPOINT=unix:///... with the grpc protocol is accepted and used as a
    plain-text gRPC target (http/protobuf, the default, rejects it at configure time)."""
    socket_path = tmp_path / "otlp.sock"
    collector = GrpcCollector()
    collector.server.add_insecure_port(f"unix://{socket_path}")
    with collector:
        monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", f"unix://{socket_path}")
        monkeypatch.setenv("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc")
        handle = make(metrics_exporter="none")
        llm_run(handle.handler())
        assert handle.force_flush(timeout=10)
        assert len(collector.received.spans()) == 1


def test_invalid_capture_env_warns_and_captures_nothing(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, make: Any
) -> None:
    """The content variable fails closed: a warning and NO_CONTENT, not an exception."""
    monkeypatch.setenv("OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT", "maybe")
    handle = make(traces_exporter="none", metrics_exporter="none")
    assert handle.capture_content is CaptureMode.NO_CONTENT
    assert handle.logger_provider is None
    assert "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT" in caplog.text


# --- resource and providers ----------------------------------------------------------------


def test_resource_from_arguments(make: Any) -> None:
    """service.name, service.version and deployment.environment.name from arguments."""
    handle = make(
        service_name="chatbot",
        service_version="1.4.0",
        environment="prod",
        resource_attributes={"team": "ml"},
        traces_exporter="none",
        metrics_exporter="none",
    )
    attrs = handle.tracer_provider.resource.attributes
    assert attrs["service.name"] == "chatbot"
    assert attrs["service.version"] == "1.4.0"
    assert attrs["deployment.environment.name"] == "prod"
    assert attrs["team"] == "ml"


def test_resource_precedence(monkeypatch: pytest.MonkeyPatch, make: Any) -> None:
    """Argument > OTEL_SERVICE_NAME > service.name in OTEL_RESOURCE_ATTRIBUTES."""
    monkeypatch.setenv(
        "OTEL_RESOURCE_ATTRIBUTES", "service.name=ra,deployment.environment.name=dev"
    )
    monkeypatch.setenv("OTEL_SERVICE_NAME", "env")
    from_env = make(traces_exporter="none", metrics_exporter="none")
    assert from_env.tracer_provider.resource.attributes["service.name"] == "env"
    assert from_env.tracer_provider.resource.attributes["deployment.environment.name"] == "dev"
    from_arg = make(service_name="arg", traces_exporter="none", metrics_exporter="none")
    assert from_arg.tracer_provider.resource.attributes["service.name"] == "arg"


def test_install_sets_the_global_providers(handles: list[Telemetry]) -> None:
    """install=True makes the built providers the global ones."""
    handle = configure(traces_exporter="none", metrics_exporter="none")
    handles.append(handle)
    assert trace.get_tracer_provider() is handle.tracer_provider
    assert metrics.get_meter_provider() is handle.meter_provider


def test_existing_sdk_provider_is_reused_not_replaced(
    handles: list[Telemetry], caplog: pytest.LogCaptureFixture
) -> None:
    """An application's own SDK TracerProvider stays; it is reused (logged) and not shut down."""
    app_provider = TracerProvider()
    trace.set_tracer_provider(app_provider)
    with caplog.at_level(logging.INFO, logger="otel_llm.configuration"):
        handle = configure(traces_exporter="none", metrics_exporter="none")
    handles.append(handle)
    assert handle.tracer_provider is app_provider
    assert trace.get_tracer_provider() is app_provider
    assert "reusing the application's TracerProvider" in caplog.text
    handle.shutdown(timeout=1.0)
    span = app_provider.get_tracer("x").start_span("still works")
    assert span.is_recording()


def test_existing_provider_can_be_refused() -> None:
    """on_existing_provider='raise' refuses to run with someone else's provider."""
    trace.set_tracer_provider(TracerProvider())
    with pytest.raises(ConfigurationError) as info:
        configure(on_existing_provider="raise", traces_exporter="none", metrics_exporter="none")
    assert info.value.setting == "on_existing_provider"


def test_logger_provider_only_for_content_events(make: Any) -> None:
    """A LoggerProvider is built only when the capture mode emits events."""
    quiet = make(traces_exporter="none", metrics_exporter="none", logs_exporter="none")
    assert quiet.logger_provider is None
    events = make(
        traces_exporter="none",
        metrics_exporter="none",
        logs_exporter="console",
        capture_content="EVENT_ONLY",
        max_queue_size=100,  # smaller than the SDK's default batch: must still be accepted
    )
    assert events.logger_provider is not None
    assert events.handler().capture_content is CaptureMode.EVENT_ONLY


def test_console_exporter(make: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """traces_exporter='console' loads the SDK's console exporter by its entry-point name."""
    from opentelemetry.sdk.trace.export import ConsoleSpanExporter, SpanExportResult

    printed: list[str] = []

    def export(self: Any, spans: Any) -> SpanExportResult:
        printed.extend(s.name for s in spans)
        return SpanExportResult.SUCCESS

    monkeypatch.setattr(ConsoleSpanExporter, "export", export)
    handle = make(traces_exporter="console", metrics_exporter="none")
    llm_run(handle.handler())
    assert handle.force_flush(timeout=5)
    assert printed == [f"chat {MODEL}"]


def test_shutdown_is_idempotent_and_ends_open_runs(make: Any) -> None:
    """shutdown() ends runs still open in its handlers, exports them, and can be called twice."""
    with GrpcCollector() as collector:
        handle = make(endpoint=collector.endpoint, protocol="grpc", metrics_exporter="none")
        handler = handle.handler()
        handler.on_chat_model_start({}, MESSAGES, run_id=uuid.uuid4(), invocation_params=PARAMS)
        assert handle.shutdown(timeout=5) is True
        assert handle.shutdown(timeout=5) is True
        [span] = collector.received.spans()
        assert span.status.code == span.status.STATUS_CODE_ERROR
        assert handler.open_runs == 0


@pytest.mark.prometheus
def test_prometheus_endpoint_on_loopback(make: Any) -> None:
    """prometheus_port serves the metrics under their Prometheus names, on 127.0.0.1 only."""
    handle = make(traces_exporter="none", metrics_exporter="none", prometheus_port=0)
    llm_run(handle.handler())
    assert handle._prometheus_server.server_address[0] == "127.0.0.1"
    with urllib.request.urlopen(f"http://127.0.0.1:{handle.prometheus_port}/metrics") as reply:
        text = reply.read().decode()
    for metric in (semconv.METRIC_OPERATION_DURATION, semconv.METRIC_TOKEN_USAGE):
        assert f"{semconv.PROMETHEUS_NAMES[metric]}_bucket{{" in text
    assert 'gen_ai_token_type="input"' in text


# --- real OTLP export ----------------------------------------------------------------------


def test_spans_and_histograms_arrive_over_grpc(make: Any) -> None:
    """configure() -> OTLP/gRPC: attributes, resource, custom headers and histograms intact."""
    with GrpcCollector() as collector:
        handle = make(
            endpoint=collector.endpoint,
            protocol="grpc",
            headers={"x-api-key": "s3cret"},
            service_name="chatbot",
            environment="test",
        )
        llm_run(handle.handler())
        assert handle.force_flush(timeout=10)
        [span] = collector.received.spans()
        assert span.name == f"chat {MODEL}"
        assert span.kind == span.SPAN_KIND_CLIENT
        attrs = attrs_of(span.attributes)
        assert attrs[semconv.GEN_AI_REQUEST_MODEL] == MODEL
        assert attrs[semconv.GEN_AI_USAGE_INPUT_TOKENS] == 7
        assert attrs[semconv.GEN_AI_REQUEST_TEMPERATURE] == 0.2
        assert attrs[semconv.GEN_AI_RESPONSE_FINISH_REASONS] == ("stop",)
        resource = attrs_of(collector.received.traces[0].resource_spans[0].resource.attributes)
        assert resource["service.name"] == "chatbot"
        assert resource["deployment.environment.name"] == "test"
        assert all(h.get("x-api-key") == "s3cret" for h in collector.received.headers)
        [duration] = collector.received.metric(semconv.METRIC_OPERATION_DURATION)
        assert duration.unit == "s"
        point = duration.histogram.data_points[0]
        assert list(point.explicit_bounds) == list(semconv.DURATION_BUCKETS)
        assert attrs_of(point.attributes)[semconv.GEN_AI_PROVIDER_NAME] == "openai"
        tokens = collector.received.metric(semconv.METRIC_TOKEN_USAGE)[0].histogram.data_points
        assert sorted(p.sum for p in tokens) == [3, 7]


def test_http_protobuf_from_environment(monkeypatch: pytest.MonkeyPatch, make: Any) -> None:
    """Only standard variables: OTLP/HTTP endpoint, headers, service name, resource attributes."""
    with HttpCollector() as collector:
        monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", collector.endpoint)
        monkeypatch.setenv("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf")
        monkeypatch.setenv("OTEL_EXPORTER_OTLP_HEADERS", "x-tenant=acme,authorization=Bearer%20tok")
        monkeypatch.setenv("OTEL_SERVICE_NAME", "from-env")
        monkeypatch.setenv("OTEL_RESOURCE_ATTRIBUTES", "deployment.environment.name=staging")
        handle = make()
        llm_run(handle.handler())
        assert handle.force_flush(timeout=10)
        [span] = collector.received.spans()
        assert attrs_of(span.attributes)[semconv.GEN_AI_OPERATION_NAME] == "chat"
        resource = attrs_of(collector.received.traces[0].resource_spans[0].resource.attributes)
        assert resource["service.name"] == "from-env"
        assert resource["deployment.environment.name"] == "staging"
        assert collector.received.metric(semconv.METRIC_TOKEN_USAGE)
        for headers in collector.received.headers:
            assert headers["x-tenant"] == "acme"
            assert headers["authorization"] == "Bearer tok"
            assert headers["content-type"] == "application/x-protobuf"


def test_per_signal_variables_win(monkeypatch: pytest.MonkeyPatch, make: Any) -> None:
    """Traces over HTTP to one receiver, metrics over gRPC to another, via per-signal variables."""
    with HttpCollector() as http_rx, GrpcCollector() as grpc_rx:
        monkeypatch.setenv("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc")
        monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", grpc_rx.endpoint)
        monkeypatch.setenv("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "http/protobuf")
        monkeypatch.setenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", f"{http_rx.endpoint}/v1/traces")
        handle = make()
        llm_run(handle.handler())
        assert handle.force_flush(timeout=10)
        assert len(http_rx.received.spans()) == 1 and grpc_rx.received.spans() == []
        assert grpc_rx.received.metric(semconv.METRIC_OPERATION_DURATION)


def test_content_events_exported_as_logs(make: Any) -> None:
    """EVENT_ONLY content travels as an OTLP log record tied to the span."""
    with GrpcCollector() as collector:
        handle = make(endpoint=collector.endpoint, protocol="grpc", capture_content="EVENT_ONLY")
        llm_run(handle.handler())
        assert handle.force_flush(timeout=10)
        [span] = collector.received.spans()
        [record] = collector.received.log_records()
        assert record.event_name == semconv.EVENT_INFERENCE_DETAILS
        assert record.span_id == span.span_id
        assert "Hello" in attrs_of(record.attributes)[semconv.GEN_AI_INPUT_MESSAGES]


def test_a_short_script_loses_nothing(tmp_path: Path) -> None:
    """A script that never calls shutdown still exports: the handle is registered with atexit."""
    with HttpCollector() as collector:
        script = tmp_path / "script.py"
        script.write_text(
            textwrap.dedent(
                f"""
                import uuid
                from otel_llm.configuration import configure
                from otel_llm.schema import HumanMessage
                handle = configure(endpoint={collector.endpoint!r}, protocol="http/protobuf")
                handler = handle.handler()
                handler.on_chat_model_start(
                    {{}}, [[HumanMessage("hi")]], run_id=uuid.uuid4(),
                    invocation_params={{"model": "m"}},
                )
                print("exiting with the run still open")
                """
            )
        )
        env = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
        done = subprocess.run(
            [sys.executable, str(script)], env=env, capture_output=True, text=True, timeout=60
        )
        assert done.returncode == 0, done.stderr
        [span] = collector.received.spans()
        assert span.name == "chat m"
        assert collector.received.metrics


# --- faults --------------------------------------------------------------------------------


DOWN = "traces (otlp): collector unavailable"
FAULTS = [
    ("grpc", "down"),
    ("grpc", "hang"),
    ("grpc", "error"),
    ("http/protobuf", "down"),
    ("http/protobuf", "hang"),
    ("http/protobuf", "error"),
]


class _Seen(logging.Handler):
    """Sets an event when a log message containing ``text`` is emitted (wait, don't sleep)."""

    def __init__(self, text: str) -> None:
        super().__init__(logging.DEBUG)
        self.text = text
        self.event = threading.Event()

    def emit(self, record: logging.LogRecord) -> None:
        if self.text in record.getMessage():
            self.event.set()


@contextlib.contextmanager
def _watch(text: str) -> Iterator[threading.Event]:
    seen = _Seen(text)
    root = logging.getLogger()
    root.addHandler(seen)
    try:
        yield seen.event
    finally:
        root.removeHandler(seen)


def _collector(protocol: str, fault: str) -> Any:
    if fault == "down":
        return None
    return GrpcCollector(fault) if protocol == "grpc" else HttpCollector(fault)


@pytest.mark.parametrize(("protocol", "fault"), FAULTS)
def test_faulty_collector_never_reaches_the_app(
    protocol: str,
    fault: str,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    make: Any,
) -> None:
    """Collector down / hanging / failing: no raise into the app, runs end, logged once.

    The app keeps running while the exporters meet the fault (until the failure
    is logged, then 2,000 more runs). The added latency is a benchmark figure
    (``bench/fault_bench.py``), never a test budget.
    """
    monkeypatch.setenv("OTEL_BSP_SCHEDULE_DELAY", "50")
    collector = _collector(protocol, fault)
    with collector or contextlib.nullcontext(), _watch(DOWN) as failed:
        endpoint = collector.endpoint if collector else dead_endpoint()
        handle = make(
            endpoint=endpoint,
            protocol=protocol,
            export_timeout=0.2,
            metric_export_interval=0.2,
            max_queue_size=256,
        )
        caplog.set_level(logging.WARNING)
        handler = handle.handler()
        for _ in range(100_000):  # until the first export has met the fault (an event)
            llm_run(handler)
            if failed.wait(0.001):
                break
        assert failed.is_set(), "the fault should have been met and logged"
        for _ in range(2000):
            llm_run(handler)
        handle.shutdown(timeout=1.0)
    assert handler.failures.counts() == {}
    assert handler.open_runs == 0
    if collector is not None:
        assert collector.received.attempts > 0
        assert collector.received.spans() == []
    # Over a thousand spans dropped: a handful of log lines, each message once.
    messages = [(r.name, r.msg) for r in caplog.records]
    assert len(messages) == len(set(messages)), messages
    assert len(messages) <= 6, messages
    failures = [r for r in caplog.records if DOWN in r.getMessage()]
    assert len(failures) == 1


def test_memory_stays_bounded_with_a_hanging_collector(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, make: Any
) -> None:
    """Exports stuck for the whole test: the queue cap bounds memory; drops are logged once."""
    monkeypatch.setenv("OTEL_BSP_SCHEDULE_DELAY", "50")
    caplog.set_level(logging.WARNING)
    with GrpcCollector("hang") as collector:
        handle = make(
            endpoint=collector.endpoint,
            protocol="grpc",
            export_timeout=30,  # the first export hangs until the collector is stopped
            metrics_exporter="none",
            max_queue_size=200,
        )
        handler = handle.handler()
        # The worker takes at most one batch (<= the queue size) into the export that hangs;
        # whatever else arrives fills the queue: after twice its size it is full.
        for _ in range(2 * 200):
            llm_run(handler, tokens=3)
        gc.collect()
        tracemalloc.start()
        try:
            before = tracemalloc.take_snapshot()
            for _ in range(3000):
                llm_run(handler, tokens=3)
            gc.collect()
            after = tracemalloc.take_snapshot()
        finally:
            tracemalloc.stop()
        assert collector.received.spans() == []  # nothing got through: exports are stuck
        growth = sum(stat.size_diff for stat in after.compare_to(before, "filename"))
        # 3,000 more spans kept in memory would be several MB.
        assert growth < 1_000_000, f"grew {growth} bytes"
        assert handler.open_runs == 0
    dropped = [r for r in caplog.records if "queue full" in r.getMessage()]
    assert len(dropped) == 1
    # All but at most one batch (taken by a hanging export meanwhile) of those 3,000.
    assert handle.export_stats()["traces (otlp)"].dropped_full >= 3000 - 200


@pytest.mark.parametrize("protocol", ["grpc", "http/protobuf"])
def test_shutdown_with_a_dead_collector_reports_what_it_could_not_deliver(
    protocol: str, caplog: pytest.LogCaptureFixture, make: Any
) -> None:
    """Long export timeouts and retries pending: shutdown returns, closes the handle, and
    reports (log and export_stats) how many spans were left undelivered.

    How long it takes is a benchmark figure (``bench/fault_bench.py``).
    """
    caplog.set_level(logging.WARNING, logger="otel_llm.configuration")
    handle = make(
        endpoint=dead_endpoint(), protocol=protocol, export_timeout=10, max_queue_size=2048,
        metrics_exporter="none",
    )
    handler = handle.handler()
    for _ in range(1500):
        llm_run(handler, tokens=2)
    handle.shutdown()  # the default deadline (3 s)
    assert handler.open_runs == 0
    assert handle.export_stats()["traces (otlp)"].queued == 1500
    [report] = [r.getMessage() for r in caplog.records if "could not be delivered" in r.getMessage()]
    assert "traces (otlp): 1500" in report
    handle.shutdown(timeout=1.0)  # idempotent


def test_rate_limited_log_filter(monkeypatch: pytest.MonkeyPatch) -> None:
    """The export-log filter lets one record per message through per interval, then counts."""
    now = [100.0]
    monkeypatch.setattr(guard.time, "monotonic", lambda: now[0])
    limiter = guard.OncePerInterval(interval=0.2)
    record = logging.LogRecord(
        "opentelemetry.x", logging.ERROR, __file__, 1, "Failed %s", ("a",), None
    )
    assert limiter.filter(record)
    assert not limiter.filter(
        logging.LogRecord("opentelemetry.x", 40, "", 1, "Failed %s", ("b",), None)
    )
    assert limiter.filter(logging.LogRecord("opentelemetry.x", 40, "", 1, "Other", (), None))
    now[0] += 0.25
    later = logging.LogRecord("opentelemetry.x", 40, "", 1, "Failed %s", ("c",), None)
    assert limiter.filter(later)
    assert later.getMessage() == "Failed c [1 similar messages suppressed in the last 0.2 s]"


# --- outages: keep what the queue holds, resume when the collector is back ------------------


def _traces(handle: Telemetry, start: int, count: int) -> None:
    """``count`` traces of three spans (two children, then their parent), numbered from start."""
    tracer = handle.tracer_provider.get_tracer("outage-test")
    for i in range(start, start + count):
        with tracer.start_as_current_span(f"t{i}"):
            for child in ("a", "b"):
                with tracer.start_as_current_span(f"t{i}.{child}"):
                    pass


def _arrived_in_order(spans: list[Any]) -> bool:
    """Every trace's spans arrived as they ended: children a, b, then the parent."""
    by_trace: dict[bytes, list[str]] = {}
    for span in spans:
        by_trace.setdefault(span.trace_id, []).append(span.name)
    return all(
        names == [f"{names[-1]}.a", f"{names[-1]}.b", names[-1]] for names in by_trace.values()
    )


OUTAGES = [
    ("grpc", "unavailable"),
    ("grpc", "error"),
    ("grpc", "hang"),
    ("grpc", "down"),
    ("http/protobuf", "unavailable"),
    ("http/protobuf", "error"),
    ("http/protobuf", "down"),
]


@pytest.mark.parametrize(("protocol", "fault"), OUTAGES)
def test_an_outage_loses_nothing_the_queue_holds(
    protocol: str,
    fault: str,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    make: Any,
) -> None:
    """A collector failing (503/UNAVAILABLE, 500/INTERNAL, hanging, refusing connections) then
    recovering: every span produced during the outage arrives afterwards, in order per trace,
    with the log records; while down only empty probe requests reach it (nothing is encoded);
    the outage is logged once when it starts and once when it ends.
    """
    monkeypatch.setenv("OTEL_BSP_SCHEDULE_DELAY", "50")
    monkeypatch.setenv("OTEL_BLRP_SCHEDULE_DELAY", "50")
    caplog.set_level(logging.WARNING, logger="otel_llm.configuration")
    Collector = GrpcCollector if protocol == "grpc" else HttpCollector
    endpoint = dead_endpoint()
    port = int(endpoint.rsplit(":", 1)[1])
    # "down": nothing listens until the collector starts on that port at recovery.
    collector = Collector(fault, port=port) if fault != "down" else None
    if collector is not None:
        collector.__enter__()
    try:
        with _watch(DOWN) as down, _watch("traces (otlp): export works again") as back:
            handle = make(
                endpoint=endpoint, protocol=protocol, export_timeout=2.0,
                metrics_exporter="none", max_queue_size=1000, capture_content="EVENT_ONLY",
            )
            handler = handle.handler()
            for _ in range(100):
                llm_run(handler)  # a span and a log record each
            assert down.wait(60), "the outage should have been noticed"
            _traces(handle, 0, 100)
            if collector is not None:
                probes = collector.received.attempts
                assert collector.received.wait_for(lambda r: r.attempts >= probes + 2)
                assert collector.received.spans() == []
            if collector is None:
                collector = Collector(port=port).__enter__()
            else:
                collector.fault = None
                collector.release.set()
            assert collector.received.wait_for(lambda r: len(r.spans()) == 400)
            assert back.wait(60)
            assert collector.received.wait_for(lambda r: len(r.log_records()) == 100)
            _traces(handle, 100, 10)
            assert handle.force_flush(timeout=30)
            assert collector.received.wait_for(lambda r: len(r.spans()) == 430)
    finally:
        if collector is not None:
            collector.__exit__(None, None, None)
    spans = collector.received.spans()
    assert len({s.span_id for s in spans}) == 430
    assert _arrived_in_order([s for s in spans if s.name.startswith("t")])
    # After the first failed attempt only probes went out: empty requests, nothing encoded.
    for kind in ("traces", "logs") if fault != "down" else ():
        sizes = collector.received.attempt_sizes[kind]
        first_probe = sizes.index(0)
        last_probe = max(i for i, size in enumerate(sizes) if size == 0)
        assert set(sizes[first_probe:last_probe + 1]) == {0}, kind
    stats = handle.export_stats()["traces (otlp)"]
    assert (stats.delivered, stats.dropped_full, stats.outages) == (430, 0, 1)
    messages = [r.getMessage() for r in caplog.records]
    assert len([m for m in messages if DOWN in m]) == 1
    [end] = [m for m in messages if "traces (otlp): export works again" in m]
    assert "400 items delivered late, 0 dropped" in end or "items delivered late" in end


def test_grpc_channels_reconnect_within_a_quarter_second(make: Any) -> None:
    """The gRPC exporters configure() builds cap the channel's reconnect backoff at 250 ms
    (gRPC's own grows to 120 s, which kept a collector that was back unused for seconds;
    bench/outage_bench.py times it); the connect timeout is left alone."""
    handle = make(endpoint=dead_endpoint(), protocol="grpc", metrics_exporter="otlp")
    built = handle._exporters  # the exporters configure() built
    assert len(built) >= 3
    for exporter in built:
        options = dict(exporter._channel_options)
        assert options["grpc.initial_reconnect_backoff_ms"] == 250
        assert options["grpc.max_reconnect_backoff_ms"] == 250
        assert "grpc.min_reconnect_backoff_ms" not in options


def test_overflow_drops_the_oldest_queued_and_counts_them(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, make: Any
) -> None:
    """A full queue drops its oldest queued spans for new ones (the batch being sent stays
    and, as in the SDK, is not counted in the queue size; the order of the rest is kept),
    counts them, says so once, and reports the count when the outage ends."""
    monkeypatch.setenv("OTEL_BSP_SCHEDULE_DELAY", "50")
    monkeypatch.setenv("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", "9")
    caplog.set_level(logging.WARNING, logger="otel_llm.configuration")
    with GrpcCollector("unavailable") as collector, _watch(DOWN) as down, \
            _watch("export works again") as back:
        handle = make(endpoint=collector.endpoint, protocol="grpc", export_timeout=2.0, metrics_exporter="none",
                      max_queue_size=30)
        _traces(handle, 0, 10)  # 30 spans: the first 9 are being sent, 21 queued
        assert down.wait(60)
        _traces(handle, 10, 40)  # 120 more: 9 fill the queue, the oldest 111 make room
        collector.fault = None
        assert back.wait(60)
        assert collector.received.wait_for(lambda r: len(r.spans()) == 39)
    kept = [f"t{i}{c}" for i in range(50) for c in (".a", ".b", "")]
    assert [s.name for s in collector.received.spans()] == kept[:9] + kept[-30:]
    assert handle.export_stats()["traces (otlp)"].dropped_full == 111
    messages = [r.getMessage() for r in caplog.records]
    assert len([m for m in messages if "queue full (30 items)" in m]) == 1
    [end] = [m for m in messages if "export works again" in m]
    assert "39 items delivered late, 111 dropped (queue full)" in end


@pytest.mark.parametrize("protocol", ["grpc", "http/protobuf"])
def test_a_refusing_collector_is_a_configuration_error_logged_once(
    protocol: str, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, make: Any
) -> None:
    """PERMISSION_DENIED / HTTP 403: one ERROR naming the code, the refused batch dropped and
    counted, no retry loop: more batches send nothing more to the collector."""
    monkeypatch.setenv("OTEL_BSP_SCHEDULE_DELAY", "50")
    caplog.set_level(logging.WARNING, logger="otel_llm.configuration")
    Collector = GrpcCollector if protocol == "grpc" else HttpCollector
    with Collector("denied") as collector, _watch("configuration error") as refused:
        handle = make(endpoint=collector.endpoint, protocol=protocol, export_timeout=2.0,
                      metrics_exporter="none")
        _traces(handle, 0, 10)
        assert refused.wait(60)
        attempts = collector.received.attempts
        for start in range(10, 1000, 100):
            _traces(handle, start, 100)
            handle.force_flush(timeout=5)
        assert collector.received.attempts == attempts
    errors = [r for r in caplog.records
              if r.levelno == logging.ERROR and r.name == "otel_llm.configuration"]
    [error] = errors
    assert ("PERMISSION_DENIED" if protocol == "grpc" else "HTTP 403") in error.getMessage()
    stats = handle.export_stats()["traces (otlp)"]
    # The refused batch (what was queued when it went out) is dropped; the rest waits.
    assert 0 < stats.dropped_refused <= 30 and stats.down and stats.delivered == 0
    assert stats.dropped_refused + stats.queued + stats.dropped_full == 3030


@pytest.mark.parametrize("protocol", ["grpc", "http/protobuf"])
def test_an_unencodable_batch_is_dropped_alone(
    protocol: str, caplog: pytest.LogCaptureFixture, make: Any
) -> None:
    """A batch that cannot be encoded is dropped and counted; the collector took an empty
    request meanwhile, so it is no outage and the next spans flow as usual."""
    from opentelemetry.sdk.trace import ReadableSpan
    from opentelemetry.trace import SpanContext, TraceFlags

    caplog.set_level(logging.WARNING, logger="otel_llm.configuration")
    with (GrpcCollector if protocol == "grpc" else HttpCollector)() as collector:
        handle = make(endpoint=collector.endpoint, protocol=protocol, metrics_exporter="none")
        _traces(handle, 0, 1)
        assert handle.force_flush(timeout=10)
        context = SpanContext(1, 2, is_remote=False, trace_flags=TraceFlags(TraceFlags.SAMPLED))
        bad = ReadableSpan(name=b"\xff", context=context)  # type: ignore[arg-type]  # not UTF-8
        [processor] = handle.tracer_provider._active_span_processor._span_processors  # type: ignore[attr-defined]
        processor.on_end(bad)
        assert handle.force_flush(timeout=10)
        _traces(handle, 1, 1)
        assert handle.force_flush(timeout=10)
    assert [s.name for s in collector.received.spans()] == ["t0.a", "t0.b", "t0", "t1.a", "t1.b", "t1"]
    stats = handle.export_stats()["traces (otlp)"]
    assert (stats.dropped_bad, stats.outages, stats.delivered) == (1, 0, 6)
    assert not any(DOWN in r.getMessage() for r in caplog.records)
    assert any("could not be sent" in r.getMessage() for r in caplog.records)


def test_metrics_stay_cumulative_across_an_outage(make: Any) -> None:
    """Counts made before, during and after an outage add up in the first export after it,
    with the same start time: a backend sees no reset."""
    with GrpcCollector() as collector:
        handle = make(endpoint=collector.endpoint, protocol="grpc", metric_export_interval=0.1,
                      export_timeout=0.2, traces_exporter="none")
        handler = handle.handler()

        def points() -> list[Any]:
            return [
                p for m in collector.received.metric(semconv.METRIC_OPERATION_DURATION)
                for p in m.histogram.data_points
            ]

        for _ in range(5):
            llm_run(handler)
        assert collector.received.wait_for(lambda r: any(p.count == 5 for p in points()))
        start = points()[-1].start_time_unix_nano
        collector.fault = "unavailable"
        failed = collector.received.attempts
        for _ in range(7):
            llm_run(handler)
        assert collector.received.wait_for(lambda r: r.attempts >= failed + 2)
        collector.fault = None
        for _ in range(3):
            llm_run(handler)
        assert collector.received.wait_for(lambda r: any(p.count == 15 for p in points()))
    counts = [p.count for p in points()]
    assert counts == sorted(counts)  # cumulative: never goes back
    assert {p.start_time_unix_nano for p in points()} == {start}


def test_shutdown_delivers_what_is_queued_and_stops_the_exporters(make: Any) -> None:
    """A healthy collector: shutdown sends the queued spans, then stops every exporter (the
    probe exporters too), reporting nothing undelivered."""
    with GrpcCollector() as collector:
        handle = make(endpoint=collector.endpoint, protocol="grpc", metrics_exporter="none")
        _traces(handle, 0, 5)
        assert handle.shutdown()
        assert len(collector.received.spans()) == 15
    assert handle.export_stats()["traces (otlp)"].queued == 0
    assert all(exporter._shutdown for exporter in handle._exporters)


# --- install extras, default protocol, whose logs are rate-limited ------------------------------


def test_default_protocol_is_http_protobuf(monkeypatch: pytest.MonkeyPatch, make: Any) -> None:
    """With only an endpoint set, OTLP goes over http/protobuf (the spec's default, and the
    exporter the `otlp`/`openai` extras install): an OTLP/HTTP receiver gets the span."""
    with HttpCollector() as collector:
        monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", collector.endpoint)
        handle = make(metrics_exporter="none")
        llm_run(handle.handler())
        assert handle.force_flush(timeout=10)
        assert len(collector.received.spans()) == 1


@pytest.mark.parametrize(
    ("protocol", "env", "setting", "line"),
    [
        ("grpc", {}, "protocol", 'pip install "otel-llm[grpc]"'),
        (None, {"OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"}, "OTEL_EXPORTER_OTLP_PROTOCOL",
         'pip install "otel-llm[grpc]"'),
        (None, {}, "OTEL_EXPORTER_OTLP_PROTOCOL", 'pip install "otel-llm[otlp]"'),
    ],
)
def test_missing_exporter_package_names_the_extra(
    monkeypatch: pytest.MonkeyPatch,
    protocol: str | None,
    env: dict[str, str],
    setting: str,
    line: str,
) -> None:
    """An OTLP protocol whose exporter is not installed (its entry points absent, as in an
    install without that extra) is a ConfigurationError at configure() naming the extra."""
    from otel_llm.configuration import exporters

    real = exporters.entry_points

    def without_otlp(**kwargs: Any) -> Any:
        if kwargs.get("name", "").startswith("otlp_proto_"):
            return real(group="otel-llm-test-nothing-here")
        return real(**kwargs)

    monkeypatch.setattr(exporters, "entry_points", without_otlp)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ConfigurationError) as caught:
        configure(protocol=protocol, install=False, metrics_exporter="none")
    assert caught.value.setting == setting
    assert str(caught.value).endswith(line)


def test_export_logs_are_rate_limited_for_our_pipelines_only(
    caplog: pytest.LogCaptureFixture, make: Any
) -> None:
    """configure()'s own exporter logs a repeated failure once; an exporter of the same class
    that the application built itself logs through the same SDK logger and keeps every line."""
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    caplog.set_level(logging.WARNING)
    # A 500: every SDK release logs it (a refused connection, some raise out of export()).
    with HttpCollector("error") as collector:
        endpoint = collector.endpoint
        handle = make(
            endpoint=endpoint, protocol="http/protobuf", metrics_exporter="none", export_timeout=1
        )
        ours = next(e for e in handle._exporters if isinstance(e, OTLPSpanExporter))  # data, probe
        memory = InMemorySpanExporter()
        source = TracerProvider()
        source.add_span_processor(SimpleSpanProcessor(memory))
        source.get_tracer("t").start_span("s").end()
        spans = memory.get_finished_spans()

        def failures() -> collections.Counter[str]:
            """Records per message template on the SDK's exporter loggers."""
            return collections.Counter(
                str(r.msg) for r in caplog.records if r.name.startswith("opentelemetry.exporter")
            )

        for _ in range(3):  # the span exporter configure() built, failing three times
            ours.export(spans)
        assert failures() and set(failures().values()) == {1}, failures()

        theirs = OTLPSpanExporter(endpoint=f"{endpoint}/v1/traces", timeout=1)
        caplog.clear()
        for _ in range(3):
            theirs.export(spans)
        assert max(failures().values()) == 3, failures()  # one "failed" line per export
        theirs.shutdown()


def _transport_failures() -> list[BaseException]:
    """Connection failures as the HTTP stacks under the OTLP/HTTP exporters raise them."""
    import requests
    from urllib3.exceptions import (
        MaxRetryError,
        NewConnectionError,
        ProtocolError,
        ReadTimeoutError,
    )

    refused = NewConnectionError(None, "Failed to establish a new connection: [Errno 111]")
    return [
        requests.ConnectionError("connection refused"),  # requests (OSError)
        MaxRetryError(None, "/v1/traces", refused),  # urllib3 directly (SDK 1.45.0)
        ReadTimeoutError(None, "/v1/traces", "read timed out"),
        ProtocolError("Connection aborted.", ConnectionResetError(104, "reset")),
        ConnectionRefusedError(111, "refused"),
    ]


@pytest.mark.parametrize("error", _transport_failures(), ids=lambda e: type(e).__name__)
def test_transport_failures_are_outages(error: BaseException) -> None:
    """A refused, reset or timed-out connection is an outage (kept, probed, resent), whatever
    exception type the exporter's HTTP stack reports it with, never a refusal or bad data."""
    from otel_llm.configuration.delivery import Outcome, classify

    verdict = classify(error, None)
    assert verdict is not None and verdict.outcome is Outcome.OUTAGE, verdict
    assert type(error).__name__ in verdict.reason
