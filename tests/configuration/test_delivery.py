"""Delivery: what a failed export means: an outage, a refusal, or a batch that cannot be sent."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from otel_llm.testing.collector import GrpcCollector, HttpCollector

from .support import DOWN, _traces, _watch


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
