"""The OpenTelemetry SDK set-up every worker shares, whatever the contender.

A production-shaped pipeline whose exporters cost (almost) nothing: spans go
through a ``BatchSpanProcessor`` (the one apps use) into an exporter that counts
them and, only while a probe asks, keeps them; metrics go to an in-memory reader
(delta temporality, collected between batches like a periodic reader would);
log records (content events) go through a ``BatchLogRecordProcessor`` into a
counter. The providers are also installed globally, for peers that ignore the
providers they are given.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from opentelemetry import _logs, metrics, trace
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import (
    BatchLogRecordProcessor,
    LogRecordExporter,
    LogRecordExportResult,
)
from opentelemetry.sdk.metrics import Counter, Histogram, MeterProvider, UpDownCounter
from opentelemetry.sdk.metrics.export import AggregationTemporality, InMemoryMetricReader
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult

__all__ = ["CollectingSpanExporter", "WorkerTelemetry"]


class CollectingSpanExporter(SpanExporter):
    """Counts every span; keeps them only while ``keep`` is set (probes read them)."""

    def __init__(self) -> None:
        self.count = 0
        self.keep = False
        self.kept: list[ReadableSpan] = []

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        self.count += len(spans)
        if self.keep:
            self.kept.extend(spans)
        return SpanExportResult.SUCCESS

    def shutdown(self) -> None:
        self.keep = False


class _CountingLogExporter(LogRecordExporter):
    def __init__(self) -> None:
        self.count = 0

    def export(self, batch: Sequence[Any]) -> LogRecordExportResult:
        self.count += len(batch)
        return LogRecordExportResult.SUCCESS

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        return True

    def shutdown(self) -> None:
        pass


class WorkerTelemetry:
    """Tracer, meter and logger providers of one worker process."""

    def __init__(self, service: str) -> None:
        resource = Resource({"service.name": f"bench-{service}"})
        self.spans = CollectingSpanExporter()
        self.tracer_provider = TracerProvider(resource=resource)
        self.tracer_provider.add_span_processor(BatchSpanProcessor(self.spans))
        delta = AggregationTemporality.DELTA
        self.reader = InMemoryMetricReader(
            preferred_temporality={Histogram: delta, Counter: delta, UpDownCounter: delta}
        )
        self.meter_provider = MeterProvider(resource=resource, metric_readers=[self.reader])
        self.logs = _CountingLogExporter()
        self.logger_provider = LoggerProvider(resource=resource)
        self.logger_provider.add_log_record_processor(BatchLogRecordProcessor(self.logs))
        trace.set_tracer_provider(self.tracer_provider)
        metrics.set_meter_provider(self.meter_provider)
        _logs.set_logger_provider(self.logger_provider)

    def flush(self) -> None:
        """Export every ended span and log record now (the end of a timed batch)."""
        self.tracer_provider.force_flush()
        self.logger_provider.force_flush()

    def collect_metrics(self) -> dict[str, list[Any]]:
        """Points recorded since the last collection, by metric name."""
        data = self.reader.get_metrics_data()
        out: dict[str, list[Any]] = {}
        if data is None:
            return out
        for resource_metrics in data.resource_metrics:
            for scope_metrics in resource_metrics.scope_metrics:
                for metric in scope_metrics.metrics:
                    out.setdefault(metric.name, []).extend(metric.data.data_points)
        return out

    def start_keeping(self) -> None:
        self.flush()
        self.collect_metrics()
        self.spans.kept.clear()
        self.spans.keep = True

    def stop_keeping(self) -> list[ReadableSpan]:
        self.flush()
        self.spans.keep = False
        kept, self.spans.kept = self.spans.kept, []
        return kept
