"""Export in the background without hurting the application: bounded waits, quiet logs.

Waits on flush/shutdown are bounded; the SDK's repeated export-failure log
lines are rate-limited, and silenced while otel-llm probes a collector it has
already reported down (the outage is logged once, by the export queue).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

__all__ = [
    "EXPORT_LOG_FILTER",
    "OncePerInterval",
    "bounded",
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
    forever. One per minute, with a count, says the same.
    """

    def __init__(self, interval: float) -> None:
        super().__init__()
        self.interval = interval
        self._seen: dict[tuple[str, Any], tuple[float, int]] = {}
        self._lock = threading.Lock()

    def reset(self) -> None:
        """Forget what was seen (tests)."""
        with self._lock:
            self._seen.clear()

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(_quiet, "on", False):
            return False
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


EXPORT_LOG_FILTER = OncePerInterval(60.0)
_quiet = threading.local()


@contextmanager
def quiet_exports() -> Iterator[None]:
    """Drop the SDK's export-path log records made on this thread meanwhile."""
    _quiet.on = True
    try:
        yield
    finally:
        _quiet.on = False
_EXPORT_LOGGER_PREFIXES = ("opentelemetry.exporter", "opentelemetry.sdk")


def rate_limit_export_logs() -> None:
    """Attach the filter to the SDK's export-path loggers (records do not inherit filters)."""
    for name, logger in list(logging.Logger.manager.loggerDict.items()):
        if (
            isinstance(logger, logging.Logger)
            and name.startswith(_EXPORT_LOGGER_PREFIXES)
            and EXPORT_LOG_FILTER not in logger.filters
        ):
            logger.addFilter(EXPORT_LOG_FILTER)
