"""What an LLM run records beyond its span's start and end: TTFT, chunk gaps, response
attributes, usage, cost, durations and (opt-in) content.

Kept apart from the handler's hooks so the hooks stay a readable map of events
to spans; every method here runs inside a guarded hook.
"""

from __future__ import annotations

from array import array
from typing import Any

from otel_llm import semconv
from otel_llm.pricing import price_key
from otel_llm.telemetry import attributes as attrs_of
from otel_llm.telemetry.capture import ContentCapture
from otel_llm.telemetry.guard import FailureLog
from otel_llm.telemetry.instruments import NO_EXEMPLAR, Instruments
from otel_llm.telemetry.options import CostFn
from otel_llm.telemetry.runs import Run
from otel_llm.telemetry.values import clean_attributes
from otel_llm.usage import TokenUsage, usage_from_result

__all__ = ["LLMRecorder"]

_NS = 1e9


class LLMRecorder:
    def __init__(
        self,
        instruments: Instruments,
        content: ContentCapture,
        cost_fn: CostFn | None,
        failures: FailureLog,
        first_event: bool,
        gap_every: int,
    ) -> None:
        self.instruments = instruments
        self.content = content
        self._content_on = content.mode.enabled  # read per run
        self._cost_fn = cost_fn
        self._failures = failures
        self._first_event = first_event
        self.gap_every = gap_every
        self._gap_phase = 0

    def first_chunk(self, run: Run, now: int) -> None:
        ttft = max(now - run.start_ns, 0) / _NS
        every = self.gap_every
        if every:
            run.chunk_gaps = array("d")
            # The sampled positions rotate from run to run, so no chunk index is favoured.
            self._gap_phase = run.gap_phase = (self._gap_phase + 1) % every
        span = run.span
        span.set_attribute(semconv.GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK, ttft)
        span.set_attribute(semconv.GEN_AI_REQUEST_STREAM, True)
        if self._first_event:
            span.add_event(semconv.EVENT_FIRST_TOKEN, timestamp=now)
        self.instruments.record_first_chunk(run, ttft)

    def finish(self, response: Any, now: int, run: Run) -> None:
        response_attrs = clean_attributes(attrs_of.llm_response_attributes(response))
        span_attrs = dict(response_attrs)  # one set_attributes: each call takes the span's lock
        metric_attrs = run.metric_attrs
        response_model = response_attrs.get(semconv.GEN_AI_RESPONSE_MODEL)
        tier = response_attrs.get(semconv.OPENAI_RESPONSE_SERVICE_TIER)
        if tier is not None:
            tier = attrs_of.metric_service_tier(tier)
        if response_model or tier:  # the fingerprint stays off metrics: servers choose it freely
            metric_attrs = dict(metric_attrs)
            if response_model:
                metric_attrs[semconv.GEN_AI_RESPONSE_MODEL] = response_model
            if tier:
                metric_attrs[semconv.OPENAI_RESPONSE_SERVICE_TIER] = tier
        try:
            self.instruments.record_end(run, now, metric_attrs)
            usage = usage_from_result(response)
            if usage is not None:
                span_attrs.update(clean_attributes(attrs_of.usage_attributes(usage)))
                model = response_model or metric_attrs.get(semconv.GEN_AI_REQUEST_MODEL)
                cost = self._usage(run, usage, metric_attrs, model)
                if cost is not None:
                    span_attrs[semconv.OTEL_LLM_USAGE_COST] = cost
        finally:  # what is known reaches the span even if usage could not be read
            run.span.set_attributes(span_attrs)
        if self._content_on:
            self.content.llm_output(run, response, now, response_attrs)

    def failed(self, run: Run, kind: str, end_ns: int) -> None:
        """The duration of a run that failed (``error.type`` on the metric)."""
        self.instruments.record_end(run, end_ns, {**run.metric_attrs, semconv.ERROR_TYPE: kind})

    def _usage(self, run: Run, usage: TokenUsage, metric_attrs: dict[str, Any],
               model: Any) -> float | None:
        """Records token counts and cost; returns the cost for the span, if known."""
        attrs = self.instruments.record_usage(run, usage, metric_attrs)
        if self._cost_fn is None or not isinstance(model, str):
            return None
        provider = metric_attrs.get(semconv.GEN_AI_PROVIDER_NAME)
        try:
            cost = self._cost_fn(price_key(model, provider), usage)
        except Exception as exc:
            self._failures.record("cost_fn", exc)
            return None
        if (type(cost) is float or (isinstance(cost, int | float) and not isinstance(cost, bool))) \
                and cost >= 0:
            self.instruments.cost.record(cost, attrs, NO_EXEMPLAR)
            return float(cost)
        return None
