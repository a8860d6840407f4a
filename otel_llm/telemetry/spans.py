"""``RunSpans``: the one place a run's span starts and ends.

The handler's hooks say *what* happened (a run started with these attributes, a
run ended, a run failed); this class owns *how* that becomes a span: the parent
from the registry (the nearest recorded ancestor), who the run is for
(attribution), the metric attributes it records with, and an end that happens
exactly once whatever fails on the way, followed by the ends of the children
that outlived it. Runs the registry drops (too many, too old) and runs open when
the handler closes end here too, with status ERROR saying why.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import partial
from typing import Any
from uuid import UUID

from opentelemetry.trace import SpanKind, Status, StatusCode, Tracer

from otel_llm import attribution, semconv
from otel_llm.telemetry.capture import ContentCapture
from otel_llm.telemetry.dimensions import MetricDimensions
from otel_llm.telemetry.exceptions import MessagePolicy
from otel_llm.telemetry.exceptions import describe as describe_error
from otel_llm.telemetry.guard import FailureLog
from otel_llm.telemetry.instruments import metric_attributes
from otel_llm.telemetry.llm import LLMRecorder
from otel_llm.telemetry.runs import Run, RunKind, RunRegistry
from otel_llm.telemetry.starts import RunStart
from otel_llm.telemetry.values import bounded_text, clean_attributes

__all__ = ["RunSpans"]

_CONVERSATION = semconv.GEN_AI_CONVERSATION_ID


class RunSpans:
    """Opens and closes the spans of the runs in ``runs`` (see the module docstring).

    ``error_message`` renders an exception's message for the span; ``None`` keeps
    messages out (they may quote the prompt: recorded only as content).
    """

    __slots__ = ("_content", "_dimensions", "_error_message", "_failures", "_llm", "_runs",
                 "_tracer")

    def __init__(
        self,
        tracer: Tracer,
        runs: RunRegistry,
        dimensions: MetricDimensions,
        llm: LLMRecorder,
        content: ContentCapture,
        failures: FailureLog,
        error_message: MessagePolicy | None,
    ) -> None:
        self._tracer = tracer
        self._runs = runs
        self._dimensions = dimensions
        self._llm = llm
        self._content = content
        self._failures = failures
        self._error_message = error_message

    # --- start ----------------------------------------------------------------------
    def start(
        self,
        now: int,
        kind: RunKind,
        name: str,
        span_name: str,
        span_kind: SpanKind,
        attrs: dict[str, Any],
        run_id: UUID,
        parent_run_id: UUID | None,
        metadata: Mapping[str, Any] | None,
    ) -> Run:
        """Start a run from an event's raw attributes and names."""
        # Event payloads enter the OTel API here: clean once (see ``values``).
        start = RunStart(clean_attributes(attrs), {}, bounded_text(name), bounded_text(span_name))
        return self.open(now, kind, start, span_kind, run_id, parent_run_id, metadata)

    def open(
        self,
        now: int,
        kind: RunKind,
        start: RunStart,
        span_kind: SpanKind,
        run_id: UUID,
        parent_run_id: UUID | None,
        metadata: Mapping[str, Any] | None,
    ) -> Run:
        """Start the span of a run whose attributes and names are clean already."""
        attrs, metric_attrs, name, span_name = start
        parent = self._runs.parent(parent_run_id)
        if parent is not None:  # the nearest recorded ancestor (see ``step_spans``)
            parent_run_id = parent.run_id
        # Who the run is for (otel_llm.attributes(), the parent's, a LangGraph thread):
        # under the run's own attributes, inherited by its children.
        extra = attribution.for_run(metadata, parent.attribution if parent is not None else None)
        if parent is not None and _CONVERSATION in extra \
                and _CONVERSATION not in parent.attribution:
            _name_conversation(parent, extra[_CONVERSATION])
        if extra:
            attrs = {**clean_attributes(extra), **attrs}
            if metric_attrs:
                metric_attrs = metric_attributes(attrs)
                if self._dimensions.keys:
                    metric_attrs = {**self._dimensions.labels(extra), **metric_attrs}
        # No parent run: the caller's current span (context=None) is the parent.
        span = self._tracer.start_span(
            span_name,
            context=parent.context if parent is not None else None,
            kind=span_kind,
            attributes=attrs,
            start_time=now,
        )
        run = Run(run_id, parent_run_id, kind, name, span, now, extra, metric_attrs)
        dropped = self._runs.add(run, now)  # from here on, _close ends the span
        if dropped:
            self._abandon([(r, f"evicted: {why}") for r, why in dropped],
                          semconv.ERROR_TYPE_RUN_EVICTED)
        return run

    def promote_to_agent(self, run_id: UUID) -> None:
        """A chain that reports agent actions is an agent, whatever its name said at start."""
        run = self._runs.get(run_id)
        if run is not None and run.kind is RunKind.WORKFLOW:
            run.kind = RunKind.AGENT
            run.span.update_name(f"{semconv.OP_INVOKE_AGENT} {run.name}")
            run.span.set_attributes(
                {
                    semconv.GEN_AI_OPERATION_NAME: semconv.OP_INVOKE_AGENT,
                    semconv.GEN_AI_AGENT_NAME: run.name,
                }
            )

    # --- end ------------------------------------------------------------------------
    def end(
        self,
        run_id: UUID,
        now: int,
        where: str = "end",
        record: Callable[[Run], None] | None = None,
    ) -> None:
        """End a run on its end or error event (unknown or already ended runs: nothing).

        ``record(run)`` adds what the event carries (response, usage, content) first;
        ``where`` names the hook in the failure log if it raises.
        """
        popped = self._runs.pop(run_id)
        if popped is not None:
            run, orphans = popped
            self._close(run, now, where, record, orphans)

    def fail(self, run_id: UUID, error: BaseException, now: int) -> None:
        """End a run on its error event: the exception event, ``error.type``, ERROR status."""
        self.end(run_id, now, "on_error", partial(self._record_error, error, now))

    def close_all(self, reason: str) -> None:
        """End every open run (status ERROR, ``reason``), e.g. before the providers shut down."""
        self._abandon([(run, reason) for run in self._runs.pop_all()],
                      semconv.ERROR_TYPE_RUN_EVICTED)

    def _close(
        self,
        run: Run,
        end_ns: int,
        where: str,
        record: Callable[[Run], None] | None,
        orphans: list[Run] | None = None,
    ) -> None:
        """The one place a span ends: exactly once, whatever fails on the way.

        The registry hands each run out once (``pop`` and eviction are atomic),
        so a run reaches this method once. Whatever ``record``, the content
        capture, the redact hook or a span processor raises is counted, and the
        span still ends, then its still-open children.
        """
        try:
            if record is not None:
                record(run)
        except Exception as exc:
            self._failures.record(where, exc)
        finally:
            try:
                run.span.end(end_ns)
            except Exception as exc:  # a span processor's on_end
                self._failures.record(f"{where}:end", exc)
            if orphans:
                reason = "parent run ended first"
                self._abandon([(r, reason) for r in orphans], semconv.ERROR_TYPE_PARENT_ENDED,
                              end_ns)

    def _record_error(self, error: object, now: int, run: Run) -> None:
        """The exception event, ``error.type`` and ERROR status (the message only as content)."""
        details = describe_error(error, self._error_message)
        run.span.add_event(semconv.EVENT_EXCEPTION, details.event, now)
        run.span.set_attributes(details.attributes)
        self._failed_as(details.type, details.status, now, run)
        if run.kind is RunKind.LLM:
            self._content.emit_event(run, now, {semconv.ERROR_TYPE: details.type})

    def _abandon(self, runs: list[tuple[Run, str]], kind: str, end_ns: int | None = None) -> None:
        """End runs that will get no end event: ERROR status with the reason, no exception."""
        for run, reason in runs:
            end = end_ns if end_ns is not None else run.last_activity_ns
            self._close(run, end, "abandon", partial(self._failed_as, kind, reason, end))

    def _failed_as(self, kind: str, description: str, end_ns: int, run: Run) -> None:
        """ERROR status, ``error.type`` and, for LLM runs, the failed duration metric."""
        run.span.set_attribute(semconv.ERROR_TYPE, kind)
        run.span.set_status(Status(StatusCode.ERROR, description))
        if run.kind is RunKind.LLM:
            self._llm.failed(run, kind, end_ns)


def _name_conversation(run: Run, conversation: str) -> None:
    """A run that started with no conversation takes the one its child names (LangChain
    starts the outermost run of an ``invoke`` before its ``configurable`` is readable),
    unless the child has it from an ``attributes()`` block the run is not in."""
    if attribution.current().get(_CONVERSATION) == conversation:
        return
    run.attribution = {**run.attribution, _CONVERSATION: conversation}
    run.span.set_attribute(_CONVERSATION, conversation)
