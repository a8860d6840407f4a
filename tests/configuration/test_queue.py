"""Queue: an outage loses nothing the queue holds; a full queue drops its oldest; bounded memory."""

from __future__ import annotations

import gc
import logging
import tracemalloc
from typing import Any

import pytest

from otel_llm.testing.collector import GrpcCollector, HttpCollector, dead_endpoint

from .support import DOWN, _traces, _watch, llm_run


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
