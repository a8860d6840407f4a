"""Keep telemetry failures away from the application: count them, log each kind once."""

from __future__ import annotations

import functools
import logging
import threading
from collections.abc import Callable
from typing import Any, Protocol, TypeVar, cast

__all__ = ["FailureLog", "guarded"]

_log = logging.getLogger("otel_llm.telemetry")

F = TypeVar("F", bound=Callable[..., Any])


class FailureLog:
    """Counts failures by ``(where, exception type)``; logs only the first of each kind.

    A bug that fires on every token must not flood the application's logs, yet
    must stay visible: the first occurrence is logged with its traceback and
    ``counts()`` tells how often it happened since.
    """

    def __init__(self) -> None:
        self._counts: dict[str, int] = {}
        self._lock = threading.Lock()

    def record(self, where: str, exc: BaseException) -> None:
        key = f"{where}:{type(exc).__qualname__}"
        with self._lock:
            seen = self._counts.get(key, 0)
            self._counts[key] = seen + 1
        if not seen:
            _log.warning(
                "otel-llm telemetry failed in %s (later failures of this kind are counted, "
                "not logged); the application is not affected",
                where,
                exc_info=exc,
            )

    def counts(self) -> dict[str, int]:
        """A snapshot: ``{"on_llm_end:KeyError": 3, ...}``."""
        with self._lock:
            return dict(self._counts)


class _HasFailures(Protocol):
    @property
    def failures(self) -> FailureLog: ...


def guarded(hook: F) -> F:
    """Wrap a hook (a method returning None) so that nothing it raises reaches the caller."""
    where = hook.__name__

    @functools.wraps(hook)
    def wrapper(self: _HasFailures, /, *args: Any, **kwargs: Any) -> None:
        try:
            hook(self, *args, **kwargs)
        except Exception as exc:
            self.failures.record(where, exc)

    return cast(F, wrapper)
