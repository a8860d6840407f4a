"""The SDK's processor interfaces in front of :class:`~otel_llm.configuration.queue.ExportQueue`.

They replace ``BatchSpanProcessor`` / ``BatchLogRecordProcessor`` in the
pipelines ``configure()`` builds: same settings, same hand-off of ended spans
and emitted log records, but a failed batch stays queued (see the queue).
"""

from __future__ import annotations

import copy

from opentelemetry.context import Context
from opentelemetry.sdk._logs import LogRecordProcessor, ReadableLogRecord, ReadWriteLogRecord
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, SpanProcessor

from otel_llm.configuration.queue import ExportQueue

__all__ = ["QueuedLogRecordProcessor", "QueuedSpanProcessor"]


class QueuedSpanProcessor(SpanProcessor):
    """Ended, sampled spans into an :class:`ExportQueue`."""

    def __init__(self, queue: ExportQueue[ReadableSpan]) -> None:
        self.queue = queue

    def on_end(self, span: ReadableSpan) -> None:
        if span.context is not None and span.context.trace_flags.sampled:
            self.queue.put(span)

    def shutdown(self) -> None:
        self.queue.shutdown()

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        return self.queue.force_flush(timeout_millis / 1000)


class QueuedLogRecordProcessor(LogRecordProcessor):
    """Emitted log records into an :class:`ExportQueue`, detached as the SDK's batch one does."""

    def __init__(self, queue: ExportQueue[ReadableLogRecord]) -> None:
        self.queue = queue

    def on_emit(self, log_record: ReadWriteLogRecord) -> None:
        # As BatchLogRecordProcessor: a shallow copy without the (possibly large) context.
        record = copy.copy(log_record.log_record)
        record.context = Context()
        self.queue.put(
            ReadableLogRecord(
                log_record=record,
                resource=log_record.resource or Resource.create({}),
                instrumentation_scope=log_record.instrumentation_scope,
                limits=log_record.limits,
            )
        )

    def shutdown(self) -> None:
        self.queue.shutdown()

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        return self.queue.force_flush(timeout_millis / 1000)
