"""Metric points as a table: one row per metric and attribute set, with count, sum, avg, max.

Attributes shared by every point (operation, provider, server) are printed
once above the table; each row shows what sets it apart (model, token type,
``error.type``, estimated). Seconds are shown as ms, USD with six decimals.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from opentelemetry.sdk.metrics.export import HistogramDataPoint

from otel_llm import semconv
from otel_llm.demo.console import Console, display_width
from otel_llm.testing import MetricPoint

__all__ = ["format_value", "render_metrics", "row_label"]

_UNITS = {
    semconv.METRIC_TOKEN_USAGE: semconv.UNIT_TOKEN,
    semconv.METRIC_OPERATION_DURATION: semconv.UNIT_SECONDS,
    semconv.METRIC_TIME_TO_FIRST_CHUNK: semconv.UNIT_SECONDS,
    semconv.METRIC_TIME_PER_OUTPUT_CHUNK: semconv.UNIT_SECONDS,
    semconv.METRIC_COST: semconv.UNIT_USD,
}
_ORDER = list(_UNITS)
_LABEL_WIDTH = 34
_COLUMN_WIDTH = 11
#: row label parts: attributes shown by value only, in this order
_BY_VALUE = (semconv.GEN_AI_OPERATION_NAME, semconv.GEN_AI_REQUEST_MODEL,
             semconv.GEN_AI_TOKEN_TYPE, semconv.ERROR_TYPE)


def format_value(value: float, unit: str) -> str:
    if unit == semconv.UNIT_SECONDS:
        ms = value * 1000
        return f"{ms:.0f} ms" if ms >= 100 else f"{ms:.1f} ms"
    if unit == semconv.UNIT_USD:
        return f"${value:.6f}"
    return f"{value:.0f}" if float(value).is_integer() else f"{value:.1f}"


def row_label(attributes: Mapping[str, Any], common: Mapping[str, Any]) -> str:
    """What sets this point apart from the others (``common`` attributes left out)."""
    own = {k: v for k, v in attributes.items() if k not in common}
    parts = [str(own.pop(key)) for key in _BY_VALUE if key in own]
    model = attributes.get(semconv.GEN_AI_REQUEST_MODEL)
    if own.get(semconv.GEN_AI_RESPONSE_MODEL) in (model, None):
        own.pop(semconv.GEN_AI_RESPONSE_MODEL, None)
    if own.get(semconv.OPENAI_RESPONSE_SERVICE_TIER) == "default":  # only other tiers tell
        own.pop(semconv.OPENAI_RESPONSE_SERVICE_TIER)
    if own.pop(semconv.OTEL_LLM_USAGE_ESTIMATED, False):
        parts.append("estimated")
    parts.extend(f"{k}={v}" for k, v in sorted(own.items()))
    return " ".join(parts) or "(all)"


def _common(points: Mapping[str, Sequence[MetricPoint]]) -> dict[str, Any]:
    sets = [dict(p.attributes or {}) for group in points.values() for p in group]
    if len(sets) < 2:
        return {}
    first = sets[0]
    shown = (semconv.GEN_AI_REQUEST_MODEL, semconv.GEN_AI_TOKEN_TYPE)
    return {k: v for k, v in first.items()
            if k not in shown and all(s.get(k, object()) == v for s in sets[1:])}


def render_metrics(console: Console, points: Mapping[str, Sequence[MetricPoint]]) -> None:
    """The table, metrics in a fixed order (the semconv ones first)."""
    console.line()
    console.line("Metrics (one row per metric and attribute set)")
    if not any(points.values()):
        console.line("  (no metric points)")
        return
    common = _common(points)
    if common:
        shared = ", ".join(f"{k}={v}" for k, v in sorted(common.items()))
        console.wrap(shared, "              ", first="  every point: ")
    header = "".join(f"{h:>{_COLUMN_WIDTH}}" for h in ("count", "sum", "avg", "max"))
    console.line(f"{'':<{_LABEL_WIDTH}}{header}")
    names = sorted(points, key=lambda n: (_ORDER.index(n) if n in _ORDER else len(_ORDER), n))
    for name in names:
        unit = _UNITS.get(name, "")
        console.line(console.fit(f"{name} ({unit})" if unit else name))
        rows = sorted(points[name], key=lambda p: row_label(p.attributes or {}, common))
        for point in rows:
            _row(console, "  " + row_label(point.attributes or {}, common), point, unit)


def _row(console: Console, label: str, point: MetricPoint, unit: str) -> None:
    if isinstance(point, HistogramDataPoint):
        avg = point.sum / point.count if point.count else 0.0
        cells = [str(point.count), format_value(point.sum, unit), format_value(avg, unit),
                 format_value(point.max, unit)]
    else:
        cells = ["", format_value(float(point.value), unit), "", ""]
    numbers = "".join(f"{c:>{_COLUMN_WIDTH}}" for c in cells)
    if display_width(label) > _LABEL_WIDTH:
        console.line(console.fit(label))
        label = ""
    console.line(f"{label}{' ' * (_LABEL_WIDTH - display_width(label))}{numbers}")
