"""Export in the background without hurting the application.

While a collector keeps failing, span and log batches are dropped without being
encoded (encoding costs more CPU than creating the span and competes with the
application for the GIL); waits on flush/shutdown are bounded; the SDK's
repeated export-failure log lines are rate-limited, for the pipelines
``configure()`` built only: the same SDK loggers also serve exporters the
application built itself, and their records pass untouched.
"""

from __future__ import annotations

import contextlib
import logging
import sys
import threading
import time
import weakref
from collections.abc import Callable, Sequence
from types import FrameType
from typing import Any

from opentelemetry.sdk._logs import ReadableLogRecord
from opentelemetry.sdk._logs.export import LogRecordExporter, LogRecordExportResult
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

__all__ = [
    "EXPORT_LOG_FILTER",
    "LogBreaker",
    "OncePerInterval",
    "SpanBreaker",
    "bounded",
    "own",
    "quietly",
    "rate_limit_export_logs",
]

_log = logging.getLogger("otel_llm.configuration")


class _Breaker:
    """Stops paying for exports while the collector keeps failing.

    After a failed export, batches are dropped without being encoded for a
    back-off period (1 s, doubling up to 60 s); then a probe of a few items is
    sent, and the rest of that batch only if the probe got through. The first
    failure and the recovery are logged once each, with the number dropped.
    Only the processor's worker thread calls ``export`` (under its lock).
    """

    PROBE = 8
    MAX_BACKOFF = 60.0

    def __init__(self, exporter: Any, what: str) -> None:
        self._exporter = exporter
        self._what = what
        self._failures = 0
        self._dropped = 0
        self._closed_until = 0.0

    def _export(self, batch: Sequence[Any]) -> bool:
        if time.monotonic() < self._closed_until:
            self._dropped += len(batch)
            return False
        if self._failures:
            head, tail = list(batch[: self.PROBE]), list(batch[self.PROBE :])
            sent = self._send(head) and (not tail or self._send(tail))
        else:
            sent = self._send(batch)
        if sent:
            if self._failures:
                _log.warning(
                    "otel-llm: %s export works again; %d items were dropped meanwhile",
                    self._what,
                    self._dropped,
                )
                self._failures = self._dropped = 0
            return True
        self._failures += 1
        self._dropped += len(batch)
        backoff = min(2.0 ** (self._failures - 1), self.MAX_BACKOFF)
        self._closed_until = time.monotonic() + backoff
        if self._failures == 1:
            _log.warning(
                "otel-llm: %s export failed; dropping batches unsent, retrying after 1 s "
                "and then up to every %g s until it works (the application is not affected)",
                self._what,
                self.MAX_BACKOFF,
            )
        return False

    def _send(self, batch: Sequence[Any]) -> bool:
        try:
            return bool(self._exporter.export(batch) == self._success)
        except Exception:
            _log.debug("otel-llm: %s exporter raised", self._what, exc_info=True)
            return False

    _success: Any = None

    def shutdown(self) -> None:
        self._exporter.shutdown()

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        return bool(self._exporter.force_flush(timeout_millis))


class SpanBreaker(_Breaker, SpanExporter):
    _success = SpanExportResult.SUCCESS

    def __init__(self, exporter: SpanExporter, name: str) -> None:
        super().__init__(exporter, f"traces ({name})")

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        return SpanExportResult.SUCCESS if self._export(spans) else SpanExportResult.FAILURE


class LogBreaker(_Breaker, LogRecordExporter):
    _success = LogRecordExportResult.SUCCESS

    def __init__(self, exporter: LogRecordExporter, name: str) -> None:
        super().__init__(exporter, f"logs ({name})")

    def export(self, batch: Sequence[ReadableLogRecord]) -> LogRecordExportResult:
        return (
            LogRecordExportResult.SUCCESS if self._export(batch) else LogRecordExportResult.FAILURE
        )


def bounded(fn: Callable[[], bool], timeout: float, what: str) -> bool:
    """Run ``fn`` on a daemon thread; give up waiting after ``timeout`` seconds."""
    result: list[bool] = []

    def target() -> None:
        try:
            result.append(fn())
        except Exception:
            _log.warning("otel-llm: %s failed", what, exc_info=True)
            result.append(False)

    thread = threading.Thread(target=target, name=f"otel-llm-{what}", daemon=True)
    thread.start()
    thread.join(timeout)
    if thread.is_alive():
        _log.warning("otel-llm: %s did not finish within %.1f s; not waiting longer", what, timeout)
        return False
    return bool(result and result[0])


def quietly(fn: Callable[[], Any]) -> None:
    try:
        fn()
    except Exception:
        _log.debug("otel-llm: ignored error while stopping %r", fn, exc_info=True)


class OncePerInterval(logging.Filter):
    """Lets the first record of each message template through per interval, counts the rest.

    The SDK logs one line per failed batch (and one per dropped span when its
    queue is full): with a collector down that is a line every few seconds,
    forever. One per minute, with a count, says the same. Records for which
    ``applies`` is false pass untouched.
    """

    def __init__(
        self, interval: float, applies: Callable[[logging.LogRecord], bool] | None = None
    ) -> None:
        super().__init__()
        self.interval = interval
        self.applies = applies
        self._seen: dict[tuple[str, Any], tuple[float, int]] = {}
        self._lock = threading.Lock()

    def reset(self) -> None:
        """Forget what was seen (tests)."""
        with self._lock:
            self._seen.clear()

    def filter(self, record: logging.LogRecord) -> bool:
        if self.applies is not None and not self.applies(record):
            return True
        key = (record.name, record.msg)
        now = time.monotonic()
        with self._lock:
            last, suppressed = self._seen.get(key, (None, 0))
            if last is not None and now - last < self.interval:
                self._seen[key] = (last, suppressed + 1)
                return False
            self._seen[key] = (now, 0)
        if suppressed:
            record.msg = (
                f"{record.getMessage()} [{suppressed} similar messages suppressed "
                f"in the last {self.interval:g} s]"
            )
            record.args = None
        return True


_owned: weakref.WeakSet[Any] = weakref.WeakSet()
#: Frames searched above a log call for one of our objects (the SDK's export paths are ~6 deep).
_MAX_DEPTH = 40


def own(*objects: Any) -> None:
    """Mark exporters, processors and readers as built by ``configure()``."""
    for obj in objects:
        with contextlib.suppress(TypeError):  # not weak-referenceable: left alone
            _owned.add(obj)


def from_own_pipeline(record: logging.LogRecord) -> bool:
    """Whether the record is being logged from inside one of our exporters or processors.

    Loggers are per SDK module, shared by every exporter of that class in the
    process, so the record itself cannot tell whose export failed; the call
    stack can (a method of an object registered with :func:`own` is on it).
    Only runs when the SDK logs, which is rare, never per span.
    """
    if not _owned:
        return False
    frame: FrameType | None = sys._getframe(1)
    for _ in range(_MAX_DEPTH):
        if frame is None:
            return False
        if frame.f_code.co_varnames[:1] == ("self",):
            try:
                if frame.f_locals.get("self") in _owned:
                    return True
            except TypeError:  # an unhashable self
                pass
        frame = frame.f_back
    return False


EXPORT_LOG_FILTER = OncePerInterval(60.0, applies=from_own_pipeline)
_EXPORT_LOGGER_PREFIXES = ("opentelemetry.exporter", "opentelemetry.sdk")


def rate_limit_export_logs() -> None:
    """Attach the filter to the SDK's export-path loggers (records do not inherit filters).

    The filter acts only on records logged from the pipelines ``configure()``
    built (:func:`from_own_pipeline`); everything else passes untouched.
    """
    for name, logger in list(logging.Logger.manager.loggerDict.items()):
        if (
            isinstance(logger, logging.Logger)
            and name.startswith(_EXPORT_LOGGER_PREFIXES)
            and EXPORT_LOG_FILTER not in logger.filters
        ):
            logger.addFilter(EXPORT_LOG_FILTER)
