"""Guard: a faulty collector never reaches the application; our export logs are rate-limited."""

from __future__ import annotations

import collections
import contextlib
import logging
from typing import Any

import pytest
from opentelemetry.sdk.trace import TracerProvider

from otel_llm.configuration import guard
from otel_llm.testing.collector import GrpcCollector, HttpCollector, dead_endpoint

from .support import DOWN, _watch, llm_run

FAULTS = [
    ("grpc", "down"),
    ("grpc", "hang"),
    ("grpc", "error"),
    ("http/protobuf", "down"),
    ("http/protobuf", "hang"),
    ("http/protobuf", "error"),
]


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
