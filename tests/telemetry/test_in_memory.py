"""otel_llm.testing.otel.InMemoryTelemetry: the helpers users assert with."""

from __future__ import annotations

import pytest
from opentelemetry import trace

from otel_llm import semconv
from otel_llm.testing.otel import InMemoryTelemetry

from .events import MODEL, chat_result, chat_start

LLM = f"chat {MODEL}"


def test_spans_and_span(otel: InMemoryTelemetry) -> None:
    """spans() filters by name; span() demands exactly one and lists names otherwise."""
    handler = otel.handler()
    for _ in range(2):
        handler.on_llm_end(chat_result(), run_id=chat_start(handler))
    assert len(otel.spans()) == 2
    assert len(otel.spans(LLM)) == 2
    with pytest.raises(AssertionError, match="2 spans named"):
        otel.span(LLM)
    with pytest.raises(AssertionError, match=r"finished spans: \['chat gpt-4o-mini'\]"):
        otel.span("nope")


def test_metric_points_accumulate_across_reads_and_filter(otel: InMemoryTelemetry) -> None:
    """Points merge everything since clear(), however often they were read; attrs filter."""
    handler = otel.handler()
    handler.on_llm_end(chat_result(prompt_tokens=10), run_id=chat_start(handler))
    assert otel.metric_points(semconv.METRIC_TOKEN_USAGE, **{semconv.GEN_AI_TOKEN_TYPE: "input"})
    handler.on_llm_end(chat_result(prompt_tokens=5), run_id=chat_start(handler))
    [point] = otel.metric_points(semconv.METRIC_TOKEN_USAGE, **{semconv.GEN_AI_TOKEN_TYPE: "input"})
    assert (point.count, point.sum, point.min, point.max) == (2, 15, 5, 10)
    assert otel.metric_points(semconv.METRIC_TOKEN_USAGE, **{semconv.GEN_AI_TOKEN_TYPE: "x"}) == []


def test_clear_forgets_everything(otel: InMemoryTelemetry) -> None:
    """After clear() spans, metric points and logs start from zero."""
    handler = otel.handler(capture_content="EVENT_ONLY")
    handler.on_llm_end(chat_result(), run_id=chat_start(handler))
    assert otel.spans() and otel.logs() and otel.metric_names()
    otel.clear()
    assert otel.spans() == [] and otel.logs() == [] and otel.metric_names() == set()
    handler.on_llm_end(chat_result(), run_id=chat_start(handler))
    [point] = otel.metric_points(semconv.METRIC_OPERATION_DURATION)
    assert point.count == 1


def test_providers_are_private() -> None:
    """Using InMemoryTelemetry leaves the global providers alone."""
    before = trace.get_tracer_provider()
    with InMemoryTelemetry(resource={"service.name": "mine"}) as otel:
        handler = otel.handler()
        handler.on_llm_end(chat_result(), run_id=chat_start(handler))
        assert otel.span(LLM).resource.attributes["service.name"] == "mine"
    assert trace.get_tracer_provider() is before
