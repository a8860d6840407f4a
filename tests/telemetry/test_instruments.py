"""The metric instruments: the conventions' names, units and bucket boundaries."""

from __future__ import annotations

from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import HistogramDataPoint, InMemoryMetricReader

from otel_llm import semconv
from otel_llm.telemetry import OpenTelemetryCallbackHandler
from otel_llm.telemetry.instruments import metric_attributes

from .events import chat_result, chat_start, stream


def test_names_units_and_buckets() -> None:
    """Every histogram is exported under its semconv name, unit and explicit buckets."""
    reader = InMemoryMetricReader()
    handler = OpenTelemetryCallbackHandler(
        meter_provider=MeterProvider(metric_readers=[reader]),
        cost_fn=lambda model, usage: 0.5,
        chunk_metrics="all",
    )
    run = chat_start(handler)
    stream(handler, run, 3)
    handler.on_llm_end(chat_result(), run_id=run)
    expected = {
        semconv.METRIC_TOKEN_USAGE: (semconv.UNIT_TOKEN, semconv.TOKEN_BUCKETS),
        semconv.METRIC_OPERATION_DURATION: (semconv.UNIT_SECONDS, semconv.DURATION_BUCKETS),
        semconv.METRIC_TIME_TO_FIRST_CHUNK: (semconv.UNIT_SECONDS, semconv.DURATION_BUCKETS),
        semconv.METRIC_TIME_PER_OUTPUT_CHUNK: (semconv.UNIT_SECONDS, semconv.DURATION_BUCKETS),
        semconv.METRIC_COST: (semconv.UNIT_USD, semconv.COST_BUCKETS),
    }
    data = reader.get_metrics_data()
    assert data is not None
    seen = {}
    for rm in data.resource_metrics:
        for sm in rm.scope_metrics:
            assert sm.scope.name == "otel_llm"
            for metric in sm.metrics:
                point = metric.data.data_points[0]
                assert isinstance(point, HistogramDataPoint)
                seen[metric.name] = (metric.unit, tuple(point.explicit_bounds))
    assert seen == {name: (unit, tuple(map(float, b))) for name, (unit, b) in expected.items()}


def test_metric_attributes_filter() -> None:
    """Only the bounded attribute set survives; everything else is dropped."""
    attrs = {
        semconv.GEN_AI_OPERATION_NAME: "chat",
        semconv.GEN_AI_REQUEST_TEMPERATURE: 0.2,
        semconv.GEN_AI_RESPONSE_ID: "chatcmpl-1",
        "user.id": "u1",
        semconv.SERVER_PORT: 443,
    }
    assert metric_attributes(attrs) == {
        semconv.GEN_AI_OPERATION_NAME: "chat",
        semconv.SERVER_PORT: 443,
    }
