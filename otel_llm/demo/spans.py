"""Finished spans as one indented tree per trace: name, duration, tokens, TTFT, errors.

Parents come from each span's parent span id, so the tree shows exactly the
links a trace backend would draw; a span whose parent was not recorded is
shown as a root. Siblings are ordered by start time.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.trace import StatusCode

from otel_llm import semconv
from otel_llm.demo.console import Console, display_width

__all__ = ["describe_span", "render_traces"]

_NAME_WIDTH = 36
_DURATION_WIDTH = 10


def _ms(seconds: float) -> str:
    ms = seconds * 1000
    return f"{ms:.0f} ms" if ms >= 100 else f"{ms:.1f} ms"


def describe_span(span: ReadableSpan) -> str:
    """The interesting facts of a span in a few words: tokens, TTFT, error."""
    attrs = span.attributes or {}
    parts: list[str] = []
    tokens_in = attrs.get(semconv.GEN_AI_USAGE_INPUT_TOKENS)
    tokens_out = attrs.get(semconv.GEN_AI_USAGE_OUTPUT_TOKENS)
    if tokens_in is not None or tokens_out is not None:
        text = f"{tokens_in if tokens_in is not None else '?'} in, " \
               f"{tokens_out if tokens_out is not None else '?'} out"
        if attrs.get(semconv.OTEL_LLM_USAGE_ESTIMATED):
            text += " (estimated)"
        parts.append(text)
    ttft = attrs.get(semconv.GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK)
    if isinstance(ttft, int | float):
        parts.append(f"TTFT {_ms(float(ttft))}")
    conversation = attrs.get(semconv.GEN_AI_CONVERSATION_ID)
    if conversation is not None:
        parts.append(f"conversation {conversation}")
    if span.status.status_code is StatusCode.ERROR:
        parts.append(f"ERROR {attrs.get(semconv.ERROR_TYPE) or span.status.description or ''}"
                     .rstrip())
    return "  ".join(parts)


def _duration(span: ReadableSpan) -> float:
    if span.start_time is None or span.end_time is None:
        return 0.0
    return (span.end_time - span.start_time) / 1e9


def render_traces(console: Console, spans: Sequence[ReadableSpan]) -> None:
    """One tree per trace, traces in the order they started."""
    by_trace: dict[int, list[ReadableSpan]] = defaultdict(list)
    for span in spans:
        if span.context is not None:
            by_trace[span.context.trace_id].append(span)
    ordered = sorted(by_trace.items(), key=lambda item: min(s.start_time or 0 for s in item[1]))
    console.line()
    console.line(f"Traces ({len(ordered)}, {len(spans)} spans)")
    for trace_id, members in ordered:
        console.line()
        console.line(f"trace {trace_id:032x}")
        ids = {s.context.span_id for s in members if s.context is not None}
        children: dict[int | None, list[ReadableSpan]] = defaultdict(list)
        for span in members:
            parent = span.parent.span_id if span.parent is not None else None
            children[parent if parent in ids else None].append(span)
        for siblings in children.values():
            siblings.sort(key=lambda s: s.start_time or 0)
        _render(console, children, None, "")


def _render(console: Console, children: dict[int | None, list[ReadableSpan]],
            parent: int | None, prefix: str) -> None:
    glyphs = console.glyphs
    siblings = children.get(parent, [])
    for index, span in enumerate(siblings):
        last = index == len(siblings) - 1
        branch = "" if parent is None else (glyphs.last if last else glyphs.branch)
        below = prefix + ("" if parent is None else ("   " if last else glyphs.pipe))
        _line(console, prefix + branch + span.name, _duration(span), describe_span(span), below)
        if span.context is not None:
            _render(console, children, span.context.span_id, below)


def _line(console: Console, left: str, seconds: float, details: str, under: str) -> None:
    pad = max(_NAME_WIDTH - display_width(left), 1)
    row = f"{left}{' ' * pad}{_ms(seconds):>{_DURATION_WIDTH}}"
    if details and display_width(row) + 2 + display_width(details) <= console.width:
        console.line(f"{row}  {details}")
        return
    console.line(row)
    if details:
        console.line(console.fit(f"{under}   {details}"))
