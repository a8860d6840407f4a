"""configure() and its handle: capture mode, logger provider, atexit, shutdown, metrics."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import textwrap
import uuid
from pathlib import Path
from typing import Any

import pytest

from otel_llm import semconv
from otel_llm.telemetry import CaptureMode
from otel_llm.testing.collector import GrpcCollector, HttpCollector, dead_endpoint

from .support import MESSAGES, PARAMS, _traces, llm_run


def test_invalid_capture_env_warns_and_captures_nothing(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, make: Any
) -> None:
    """The content variable fails closed: a warning and NO_CONTENT, not an exception."""
    monkeypatch.setenv("OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT", "maybe")
    handle = make(traces_exporter="none", metrics_exporter="none")
    assert handle.capture_content is CaptureMode.NO_CONTENT
    assert handle.logger_provider is None
    assert "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT" in caplog.text


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
