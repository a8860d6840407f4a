"""Span-tree assertions shared by the LangChain tests."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from opentelemetry.sdk.trace import ReadableSpan


def by_trace(spans: Sequence[ReadableSpan]) -> dict[int, list[ReadableSpan]]:
    traces: dict[int, list[ReadableSpan]] = defaultdict(list)
    for s in spans:
        traces[s.context.trace_id].append(s)
    return dict(traces)


def parent_of(span: ReadableSpan, spans: Sequence[ReadableSpan]) -> ReadableSpan | None:
    if span.parent is None:
        return None
    found = [s for s in spans if s.context.span_id == span.parent.span_id]
    assert len(found) == 1, f"{span.name}: parent span missing (orphan)"
    return found[0]


def assert_one_tree(spans: Sequence[ReadableSpan]) -> ReadableSpan:
    """One trace, one root, every other span's parent exported in it; returns the root."""
    assert len(by_trace(spans)) == 1, f"{len(by_trace(spans))} traces"
    roots = [s for s in spans if s.parent is None]
    assert len(roots) == 1, [s.name for s in roots]
    for s in spans:
        if s is not roots[0]:
            parent = parent_of(s, spans)
            assert parent is not None and parent.context.trace_id == s.context.trace_id
    return roots[0]


def edges(spans: Sequence[ReadableSpan]) -> set[tuple[str, str | None]]:
    """``(span name, parent name)`` for every span."""
    out = set()
    for s in spans:
        parent = parent_of(s, spans)
        out.add((s.name, parent.name if parent is not None else None))
    return out
