"""Export in the background without hurting the application: bounded waits, quiet logs.

Waits on flush/shutdown are bounded; the SDK's repeated export-failure log
lines are rate-limited, for the pipelines ``configure()`` built only (the same
SDK loggers also serve exporters the application built itself, and their
records pass untouched), and silenced while otel-llm probes a collector it has
already reported down (the outage is logged once, by the export queue).
"""

from __future__ import annotations

import contextlib
import logging
import sys
import threading
import time
import weakref
from collections.abc import Callable, Iterator
from types import FrameType
from typing import Any

__all__ = [
    "EXPORT_LOG_FILTER",
    "OncePerInterval",
    "bounded",
    "own",
    "quiet_exports",
    "quietly",
    "rate_limit_export_logs",
]

_log = logging.getLogger("otel_llm.configuration")


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
        if getattr(_quiet, "on", False):
            return False
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
_quiet = threading.local()


@contextlib.contextmanager
def quiet_exports() -> Iterator[None]:
    """Drop the SDK's export-path log records made on this thread meanwhile."""
    _quiet.on = True
    try:
        yield
    finally:
        _quiet.on = False


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
