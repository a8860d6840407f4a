"""The metric instruments, declared once with the conventions' names, units and buckets,
and the few ways a run records into them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from opentelemetry.metrics import Histogram, Meter
from opentelemetry.trace import INVALID_SPAN, set_span_in_context

from otel_llm import semconv
from otel_llm.telemetry.runs import Run
from otel_llm.usage import TokenUsage

__all__ = ["NO_EXEMPLAR", "Instruments", "metric_attributes"]

_NS = 1e9
#: Exemplars (trace links, ~15 % of a record's cost) go on durations only: tokens,
#: cost and chunk gaps are read as totals and distributions, never clicked through.
#: Not an empty Context: the SDK treats a falsy one as "use the current context".
NO_EXEMPLAR = set_span_in_context(INVALID_SPAN)


class Instruments:
    """All histograms this package records; cost is the extension ``semconv.METRIC_COST``."""

    __slots__ = (
        "cost",
        "operation_duration",
        "time_per_output_chunk",
        "time_to_first_chunk",
        "token_usage",
    )

    def __init__(self, meter: Meter) -> None:
        self.token_usage: Histogram = meter.create_histogram(
            semconv.METRIC_TOKEN_USAGE,
            unit=semconv.UNIT_TOKEN,
            description="Input and output tokens per LLM run",
            explicit_bucket_boundaries_advisory=semconv.TOKEN_BUCKETS,
        )
        self.operation_duration: Histogram = meter.create_histogram(
            semconv.METRIC_OPERATION_DURATION,
            unit=semconv.UNIT_SECONDS,
            description="Duration of an LLM run, from start to end or error",
            explicit_bucket_boundaries_advisory=semconv.DURATION_BUCKETS,
        )
        self.time_to_first_chunk: Histogram = meter.create_histogram(
            semconv.METRIC_TIME_TO_FIRST_CHUNK,
            unit=semconv.UNIT_SECONDS,
            description="Time from the start of a streamed LLM run to its first chunk",
            explicit_bucket_boundaries_advisory=semconv.DURATION_BUCKETS,
        )
        self.time_per_output_chunk: Histogram = meter.create_histogram(
            semconv.METRIC_TIME_PER_OUTPUT_CHUNK,
            unit=semconv.UNIT_SECONDS,
            description="Time between consecutive chunks of a streamed LLM run",
            explicit_bucket_boundaries_advisory=semconv.DURATION_BUCKETS,
        )
        self.cost: Histogram = meter.create_histogram(
            semconv.METRIC_COST,
            unit=semconv.UNIT_USD,
            description="Cost of an LLM run in USD (otel-llm extension; only known prices)",
            explicit_bucket_boundaries_advisory=semconv.COST_BUCKETS,
        )

    # Exemplars of durations point at the run's own span (``run.context``), not at
    # whatever span happens to be current when the run ends.

    def record_first_chunk(self, run: Run, seconds: float) -> None:
        self.time_to_first_chunk.record(seconds, run.metric_attrs, run.context)

    def record_end(self, run: Run, end_ns: int, attrs: Mapping[str, Any]) -> None:
        """The run's duration, and the gaps between its chunks still buffered."""
        self.operation_duration.record(max(end_ns - run.start_ns, 0) / _NS, attrs, run.context)
        self.record_chunk_gaps(run)

    def record_chunk_gaps(self, run: Run) -> None:
        """One value per chunk after the first (buffered by the handler's token hook)."""
        gaps = run.chunk_gaps
        if not gaps:
            return
        record, attrs = self.time_per_output_chunk.record, run.metric_attrs
        for gap in gaps:
            record(gap if gap > 0 else 0.0, attrs, NO_EXEMPLAR)
        del gaps[:]

    def record_usage(self, run: Run, usage: TokenUsage, attrs: Mapping[str, Any]) -> dict[str, Any]:
        """Input and output token counts; returns the attributes usage-derived metrics share."""
        attrs = {**attrs, semconv.OTEL_LLM_USAGE_ESTIMATED: usage.estimated}
        for count, kind in (
            (usage.input_tokens, semconv.TOKEN_TYPE_INPUT),
            (usage.output_tokens, semconv.TOKEN_TYPE_OUTPUT),
        ):
            if count is not None:
                self.token_usage.record(
                    count, {**attrs, semconv.GEN_AI_TOKEN_TYPE: kind}, NO_EXEMPLAR
                )
        return attrs


def metric_attributes(attributes: Mapping[str, Any]) -> dict[str, Any]:
    """The bounded subset allowed on metrics (``semconv.METRIC_ATTRIBUTES``).

    The returned dict must not be changed after it is first recorded: the SDK
    keeps a reference to it as the attribute set of a series.
    """
    return {k: v for k, v in attributes.items() if k in semconv.METRIC_ATTRIBUTES}
