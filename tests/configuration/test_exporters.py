"""Exporters: the resource, exporter choice, gRPC options, real OTLP export (gRPC, HTTP, unix)."""

from __future__ import annotations

import urllib.request
from pathlib import Path
from typing import Any

import pytest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue

from otel_llm import semconv
from otel_llm.configuration import configure
from otel_llm.errors import ConfigurationError
from otel_llm.testing.collector import GrpcCollector, HttpCollector, dead_endpoint

from .support import MODEL, llm_run


def attrs_of(key_values: Any) -> dict[str, Any]:
    return {kv.key: _value(kv.value) for kv in key_values}


def _value(value: AnyValue) -> Any:
    kind = value.WhichOneof("value")
    if kind == "array_value":
        return tuple(_value(v) for v in value.array_value.values)
    return getattr(value, kind) if kind else None


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
