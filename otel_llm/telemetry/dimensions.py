"""Which ``otel_llm.attributes()`` values become metric labels: an allow-list, each key capped.

Every distinct label value is a new time series in Prometheus, forever. Only
keys the user lists (``metric_attributes=["app.feature"]``,
``OTEL_LLM_METRIC_ATTRIBUTES``) are copied onto the token, duration and cost
points, and each key admits at most ``cap`` distinct values per handler (one
handler per process in practice); later values are recorded as ``_other``
and a warning is logged once per key. IDs (``user.id``, ``session.id``,
``gen_ai.conversation.id``) are never labels unless listed, and then capped
the same way.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Mapping, Sequence
from typing import Any

from otel_llm import semconv
from otel_llm.errors import ConfigurationError
from otel_llm.settings import METRIC_ATTRIBUTES

__all__ = ["DEFAULT_VALUE_CAP", "MetricDimensions", "parse_metric_attributes"]

_log = logging.getLogger("otel_llm.telemetry")

#: Distinct values admitted per allow-listed key before ``_other``.
DEFAULT_VALUE_CAP = 100


def parse_metric_attributes(value: Sequence[str] | str | None,
                            setting: str = "metric_attributes") -> tuple[str, ...]:
    """Keys from a sequence or a comma-separated string; ``None`` reads the environment."""
    if value is None:
        value, setting = os.environ.get(METRIC_ATTRIBUTES, ""), METRIC_ATTRIBUTES
    items = value.split(",") if isinstance(value, str) else value
    if not isinstance(items, Sequence):
        raise ConfigurationError(setting, f"must be a list of attribute names, got {value!r}")
    keys: list[str] = []
    for item in items:
        if not isinstance(item, str):
            raise ConfigurationError(setting, f"attribute names must be strings, got {item!r}")
        key = item.strip()
        if not key and not isinstance(value, str):
            raise ConfigurationError(setting, "attribute names must not be empty")
        if key and key not in keys:
            keys.append(key)
    return tuple(keys)


class MetricDimensions:
    """The allow-listed keys and the values each has admitted so far (thread-safe)."""

    __slots__ = ("_lock", "_seen", "_warned", "cap", "keys")

    def __init__(self, keys: Sequence[str] | str | None = None,
                 cap: int = DEFAULT_VALUE_CAP) -> None:
        if isinstance(cap, bool) or not isinstance(cap, int) or cap < 1:
            raise ConfigurationError("metric_attribute_cap", f"must be an int >= 1, got {cap!r}")
        self.keys = parse_metric_attributes(keys)
        self.cap = cap
        self._seen: dict[str, set[Any]] = {k: set() for k in self.keys}
        self._warned: set[str] = set()
        self._lock = threading.Lock()

    def labels(self, values: Mapping[str, Any]) -> dict[str, Any]:
        """The allow-listed ``values``, each past its key's cap replaced by ``_other``."""
        if not self.keys or not values:
            return {}
        out: dict[str, Any] = {}
        for key in self.keys:
            value = values.get(key)
            if value is not None:
                out[key] = self._admit(key, value)
        return out

    def _admit(self, key: str, value: Any) -> Any:
        seen = self._seen[key]
        if value in seen:  # the common case, no lock: set membership is atomic
            return value
        with self._lock:
            if value in seen:
                return value
            if len(seen) < self.cap:
                seen.add(value)
                return value
            first = key not in self._warned
            self._warned.add(key)
        if first:
            _log.warning("metric attribute %r reached its cap of %d distinct values; further "
                         "values are recorded as %r (raise metric_attribute_cap, or stop "
                         "listing an unbounded key)", key, self.cap, semconv.OTEL_LLM_OTHER_VALUE)
        return semconv.OTEL_LLM_OTHER_VALUE
