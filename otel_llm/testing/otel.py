"""In-memory OpenTelemetry for tests: assert on the spans, metrics and events your code emits.

::

    def test_my_chain():
        with InMemoryTelemetry() as otel:
            run_my_chain(callbacks=[otel.handler(capture_content="SPAN_ONLY")])
            span = otel.span("chat gpt-4o-mini")
            assert span.attributes["gen_ai.usage.output_tokens"] == 12
            inputs = {"gen_ai.token.type": "input"}
            usage = otel.metric_points("gen_ai.client.token.usage", **inputs)
            assert usage[0].sum == 30

The providers are private to the instance (the global ones are untouched), so
tests can run side by side. Spans are exported synchronously: they are
visible as soon as they end.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from types import TracebackType
from typing import Any

from opentelemetry._logs import LogRecord
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import InMemoryLogRecordExporter, SimpleLogRecordProcessor
from opentelemetry.sdk.metrics import Counter, Histogram, MeterProvider
from opentelemetry.sdk.metrics.export import (
    AggregationTemporality,
    HistogramDataPoint,
    InMemoryMetricReader,
    NumberDataPoint,
    Sum,
)
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from otel_llm.telemetry import OpenTelemetryCallbackHandler

__all__ = ["InMemoryTelemetry", "MetricPoint"]

MetricPoint = HistogramDataPoint | NumberDataPoint


class InMemoryTelemetry:
    """Private tracer, meter and logger providers that keep everything in memory."""

    def __init__(self, *, resource: Mapping[str, Any] | None = None) -> None:
        self.resource = Resource({"service.name": "otel-llm-test", **(resource or {})})
        self._spans = InMemorySpanExporter()
        self.tracer_provider = TracerProvider(resource=self.resource, shutdown_on_exit=False)
        self.tracer_provider.add_span_processor(SimpleSpanProcessor(self._spans))
        # Delta temporality: each read returns what is new, so ``clear()`` can forget.
        self._reader = InMemoryMetricReader(
            preferred_temporality={
                Histogram: AggregationTemporality.DELTA,
                Counter: AggregationTemporality.DELTA,
            }
        )
        self.meter_provider = MeterProvider(
            resource=self.resource, metric_readers=[self._reader], shutdown_on_exit=False
        )
        self._logs = InMemoryLogRecordExporter()  # type: ignore[no-untyped-call]
        self.logger_provider = LoggerProvider(resource=self.resource, shutdown_on_exit=False)
        self.logger_provider.add_log_record_processor(SimpleLogRecordProcessor(self._logs))
        self._points: dict[tuple[str, frozenset[tuple[str, Any]]], MetricPoint] = {}
        self._lock = threading.Lock()

    def handler(self, **kwargs: Any) -> OpenTelemetryCallbackHandler:
        """A handler bound to these providers; ``kwargs`` go to its constructor."""
        kwargs.setdefault("tracer_provider", self.tracer_provider)
        kwargs.setdefault("meter_provider", self.meter_provider)
        kwargs.setdefault("logger_provider", self.logger_provider)
        return OpenTelemetryCallbackHandler(**kwargs)

    # --- spans ------------------------------------------------------------------------
    def spans(self, name: str | None = None) -> list[ReadableSpan]:
        """Finished spans in the order they ended, optionally only those called ``name``."""
        spans = self._spans.get_finished_spans()
        return [s for s in spans if name is None or s.name == name]

    def span(self, name: str) -> ReadableSpan:
        """The one finished span called ``name`` (``AssertionError`` if none or several)."""
        found = self.spans(name)
        if len(found) != 1:
            names = sorted({s.name for s in self.spans()})
            raise AssertionError(f"{len(found)} spans named {name!r}; finished spans: {names}")
        return found[0]

    # --- metrics ----------------------------------------------------------------------
    def metric_points(self, name: str, /, **attributes: Any) -> list[MetricPoint]:
        """Points of metric ``name``, one per attribute set, that carry all of ``attributes``.

        Attribute names have dots, so pass them unpacked:
        ``metric_points("gen_ai.client.token.usage", **{"gen_ai.token.type": "input"})``.
        Histogram points accumulate everything recorded since the last ``clear()``.
        """
        with self._lock:
            self._collect()
            points = [p for (metric, _), p in self._points.items() if metric == name]
        return [
            p
            for p in points
            if all((p.attributes or {}).get(k) == v for k, v in attributes.items())
        ]

    def metric_names(self) -> set[str]:
        with self._lock:
            self._collect()
            return {metric for metric, _ in self._points}

    # --- log events -------------------------------------------------------------------
    def logs(self, event_name: str | None = None) -> list[LogRecord]:
        """Emitted log records (content events), optionally only those called ``event_name``."""
        records = [r.log_record for r in self._logs.get_finished_logs()]
        return [r for r in records if event_name is None or r.event_name == event_name]

    # --- lifecycle --------------------------------------------------------------------
    def clear(self) -> None:
        """Forget every span, metric point and log record recorded so far."""
        with self._lock:
            self._collect()
            self._points.clear()
        self._spans.clear()
        self._logs.clear()

    def shutdown(self) -> None:
        self.tracer_provider.shutdown()
        self.meter_provider.shutdown(timeout_millis=1000)
        self.logger_provider.shutdown()

    def __enter__(self) -> InMemoryTelemetry:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.shutdown()

    def _collect(self) -> None:
        """Fold the points recorded since the last read into ``self._points``; lock held."""
        data = self._reader.get_metrics_data()
        if data is None:
            return
        for resource_metrics in data.resource_metrics:
            for scope_metrics in resource_metrics.scope_metrics:
                for metric in scope_metrics.metrics:
                    adds = (
                        isinstance(metric.data, Sum)
                        and metric.data.aggregation_temporality is AggregationTemporality.DELTA
                    )
                    for point in metric.data.data_points:
                        if not isinstance(point, HistogramDataPoint | NumberDataPoint):
                            continue
                        key = (metric.name, frozenset((point.attributes or {}).items()))
                        self._points[key] = _merge(self._points.get(key), point, adds)


def _merge(old: MetricPoint | None, new: MetricPoint, adds: bool) -> MetricPoint:
    if old is None:
        return new
    if isinstance(old, HistogramDataPoint) and isinstance(new, HistogramDataPoint):
        return HistogramDataPoint(
            attributes=new.attributes,
            start_time_unix_nano=old.start_time_unix_nano,
            time_unix_nano=new.time_unix_nano,
            count=old.count + new.count,
            sum=old.sum + new.sum,
            bucket_counts=[
                a + b for a, b in zip(old.bucket_counts, new.bucket_counts, strict=True)
            ],
            explicit_bounds=new.explicit_bounds,
            min=min(old.min, new.min),
            max=max(old.max, new.max),
        )
    if adds and isinstance(old, NumberDataPoint) and isinstance(new, NumberDataPoint):
        return NumberDataPoint(
            attributes=new.attributes,
            start_time_unix_nano=old.start_time_unix_nano,
            time_unix_nano=new.time_unix_nano,
            value=old.value + new.value,
        )
    return new
