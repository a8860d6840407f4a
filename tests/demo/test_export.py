"""Where the demo's telemetry goes: an OTLP collector (with Jaeger links), or the terminal
when the configured collector refuses connections; a hanging collector costs bounded time."""

from __future__ import annotations

import io
import re
import socket

import pytest

from otel_llm.demo import run_demo
from otel_llm.demo.console import Console
from otel_llm.demo.export import (
    MemorySink,
    OtlpSink,
    collector_answers,
    endpoint_address,
    select_sink,
)
from otel_llm.testing.collector import GrpcCollector


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.usefixtures("clean_env")
def test_spans_arrive_at_the_collector_and_jaeger_links_name_their_traces(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """With OTEL_EXPORTER_OTLP_ENDPOINT set, every span is exported and each trace is linked."""
    monkeypatch.setenv("OTEL_LLM_JAEGER_URL", "http://jaeger.example:16686/")
    with GrpcCollector() as collector:
        monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", collector.endpoint)
        monkeypatch.setenv("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc")  # the default is http/protobuf
        out = io.StringIO()
        assert run_demo(out=out, err=io.StringIO()) == 0
        spans = collector.received.spans()
        metrics = {m.name for r in collector.received.metrics for rm in r.resource_metrics
                   for sm in rm.scope_metrics for m in sm.metrics}
    text = out.getvalue()
    assert f"OTLP to {collector.endpoint} (service otel-llm-demo)" in text
    links = re.findall(r"http://jaeger\.example:16686/trace/([0-9a-f]{32})", text)
    roots = {s.trace_id.hex(): s.name for s in spans if not s.parent_span_id}
    assert len(links) == 4 and set(links) == set(roots)
    assert sorted(roots.values()) == ["demo: asyncio.gather", "demo: conversation",
                                      "demo: failing call", "demo: flower shop"]
    assert sum(s.name == "chat gpt-4o-mini" for s in spans) == 7
    failing = next(s for s in spans if s.name == "chat gpt-4o-mini+error=429")
    assert failing.status.code == 2  # STATUS_CODE_ERROR
    assert {"gen_ai.client.token.usage", "gen_ai.client.operation.duration"} <= metrics
    assert "Traces (" not in text, "exported, not rendered locally"


@pytest.mark.usefixtures("clean_env")
def test_a_collector_refusing_connections_is_reported_and_telemetry_shown_locally(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A closed endpoint port: one line saying so, the run completes with the local tree."""
    endpoint = f"http://127.0.0.1:{_closed_port()}"
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint)
    out, err = io.StringIO(), io.StringIO()
    assert run_demo(out=out, err=err) == 0
    text = out.getvalue()
    assert f"the collector at {endpoint} does not answer" in text.replace("\n           ", " ")
    assert "Traces (4, 12 spans)" in text and err.getvalue() == ""


@pytest.mark.usefixtures("clean_env")
def test_a_hanging_collector_costs_bounded_time_and_one_line(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A collector that accepts but never answers: finish() gives up (it returns), says so."""
    with GrpcCollector(fault="hang") as collector:
        monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", collector.endpoint)
        monkeypatch.setenv("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc")
        sink = select_sink("auto")
        assert isinstance(sink, OtlpSink)
        try:
            tracer = sink.tracer_provider.get_tracer("test")
            with tracer.start_as_current_span("demo: test") as span:
                trace_id = span.get_span_context().trace_id
            out = io.StringIO()
            delivered = sink.finish(Console(out), [("demo: test", trace_id)])
        finally:
            sink.close()
    assert not delivered
    problems = [line for line in out.getvalue().splitlines() if line.startswith("! ")]
    assert len(problems) == 1 and f"export to {collector.endpoint} failed" in problems[0]
    assert "/trace/" not in out.getvalue()


@pytest.mark.usefixtures("clean_env")
def test_auto_mode_exports_only_where_a_collector_can_answer() -> None:
    """Endpoint set and listening: OTLP; set but refused: memory; --export memory wins."""
    with GrpcCollector() as collector:
        host, port = endpoint_address(collector.endpoint)
        assert collector_answers(host, port)
        sink = select_sink("auto", {"OTEL_EXPORTER_OTLP_ENDPOINT": collector.endpoint})
        try:
            assert isinstance(sink, OtlpSink)
        finally:
            sink.close()
        assert isinstance(select_sink("memory", {"OTEL_EXPORTER_OTLP_ENDPOINT":
                                                 collector.endpoint}), MemorySink)
    closed = _closed_port()
    assert not collector_answers("127.0.0.1", closed)
    refused = select_sink("otlp", {"OTEL_EXPORTER_OTLP_ENDPOINT": f"http://127.0.0.1:{closed}"})
    assert isinstance(refused, MemorySink) and "does not answer" in refused.label


def test_endpoint_addresses_follow_otlp_url_forms() -> None:
    """Scheme defaults and bare host:port forms resolve to the port the exporter would dial."""
    assert endpoint_address("http://collector:4318/v1/traces") == ("collector", 4318)
    assert endpoint_address("https://otel.example.com") == ("otel.example.com", 443)
    assert endpoint_address("localhost:4317") == ("localhost", 4317)
    assert endpoint_address("http://[::1]:4317") == ("::1", 4317)
