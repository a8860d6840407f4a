"""The open runs: one entry per started, not yet ended run, bounded in number and age.

Runs that never end (a stream the caller abandons, a crash between start and
end) would otherwise keep their spans in memory forever. The registry hands
back the runs it drops so the handler can end their spans with an error that
says why.
"""

from __future__ import annotations

import enum
import threading
from array import array
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from opentelemetry.context import Context
from opentelemetry.trace import Span, set_span_in_context

__all__ = ["Run", "RunKind", "RunRegistry"]


class RunKind(enum.Enum):
    LLM = "llm"
    WORKFLOW = "workflow"
    AGENT = "agent"
    TOOL = "tool"
    RETRIEVER = "retriever"


@dataclass(slots=True, eq=False)
class Run:
    """What the handler remembers between a run's start and end events."""

    run_id: UUID
    parent_id: UUID | None
    kind: RunKind
    name: str
    span: Span
    start_ns: int
    #: ``otel_llm.attributes()`` values and the conversation id, inherited by child runs.
    attribution: Mapping[str, Any] = field(default_factory=dict)
    #: Bounded attributes for metrics; never mutated once recorded (the SDK keeps it).
    metric_attrs: dict[str, Any] = field(default_factory=dict)
    #: Encoded content kept for the end-of-run event (``EVENT_*`` capture modes).
    content: dict[str, str] | None = None
    chunks: int = 0
    last_chunk_ns: int = 0
    #: Seconds between chunks, recorded as metrics at the end of the run (see handler).
    chunk_gaps: array[float] | None = None
    #: ``chunk % N`` of the chunks whose gap is sampled (see the handler's ``chunk_metrics``).
    gap_phase: int = 0
    #: A v3 event stream without tokens: its content deltas count as chunks.
    native_events: bool = False
    children: set[Any] = field(default_factory=set)  # registry keys of open child runs
    _context: Context | None = None

    @property
    def context(self) -> Context:
        """The context that makes this run's span the parent (built on first child)."""
        ctx = self._context
        if ctx is None:
            ctx = self._context = set_span_in_context(self.span)
        return ctx

    @property
    def last_activity_ns(self) -> int:
        return self.last_chunk_ns or self.start_ns


class RunRegistry:
    """Open runs in start order, with a cap on their number and their age.

    ``get`` is a plain dict lookup (no lock: the per-token path). Adding and
    removing take a lock because runs start and end on any thread. Removal
    takes the run's still-open descendants with it, atomically, so a subtree is
    ended exactly once whoever gets there first. Runs are kept under their id's
    128-bit int (``_key``): hashing an int is C, ``UUID.__hash__`` is a Python call
    on every dict operation.
    """

    def __init__(self, max_open: int, max_age_ns: int) -> None:
        self._runs: dict[Any, Run] = {}
        #: Runs recorded without a span of their own (see ``pass_through``): their key ->
        #: the nearest recorded ancestor (None: none known), for their children.
        self._through: dict[Any, Run | None] = {}
        #: ``(run_id, run)`` of the last ``get_streaming``, checked by identity by the token hook.
        self.last: tuple[UUID | None, Run | None] = (None, None)
        self._lock = threading.Lock()
        self._max_open = max_open
        self._max_age_ns = max_age_ns
        # Ages are checked when a run is added, but not on every add: with many runs open
        # (async gather) that is a run lookup per call. A stale run ends at most this late.
        self._sweep_every = max_age_ns // 16
        self._sweep_at = 0

    def __len__(self) -> int:
        return len(self._runs)

    def get(self, run_id: UUID | None) -> Run | None:
        if run_id is None:
            return None
        return self._runs.get(run_id.int if type(run_id) is UUID else _key(run_id))

    def parent(self, run_id: UUID | None) -> Run | None:
        """The run a child of ``run_id`` hangs under: that run, or for a pass-through run
        the nearest recorded ancestor."""
        if run_id is None:
            return None
        key = run_id.int if type(run_id) is UUID else _key(run_id)
        run = self._runs.get(key)
        if run is None and self._through:
            run = self._through.get(key)
        return run

    def pass_through(self, run_id: UUID, parent_run_id: UUID | None) -> None:
        """Note a run that gets no span: its children become children of its nearest
        recorded ancestor. Bounded like the open runs (oldest forgotten first)."""
        ancestor = self.parent(parent_run_id)
        through = self._through
        with self._lock:
            while len(through) >= self._max_open:
                del through[next(iter(through))]
            through[_key(run_id)] = ancestor

    def get_streaming(self, run_id: UUID) -> Run | None:
        """``get`` that remembers the run in ``last``, for the per-token path.

        A stream's tokens arrive in a row with the same UUID object, so the token hook
        checks ``last`` by identity first and skips ``UUID.__hash__`` (a Python-level
        call); this is its miss path. Unlocked: a token racing its run's end may land
        on the ended run, which only counts a chunk nobody reads.
        """
        run = self._runs.get(run_id.int if type(run_id) is UUID else _key(run_id))
        if run is not None:
            self.last = (run_id, run)
        return run

    def add(self, run: Run, now_ns: int) -> list[tuple[Run, str]]:
        """Register ``run``; returns the runs dropped to make room, each with the reason."""
        dropped: list[tuple[Run, str]] = []
        deadline = now_ns - self._max_age_ns
        with self._lock:
            self.last = (None, None)
            run_id = run.run_id
            key = run_id.int if type(run_id) is UUID else _key(run_id)
            old = self._runs.pop(key, None)
            if old is not None:
                dropped.extend((r, "run id started again") for r in self._take_tree(old))
            runs = self._runs
            if runs:
                if now_ns >= self._sweep_at:  # ages: at most every 1/16 of the max age
                    self._sweep_at = now_ns + self._sweep_every
                    while runs:
                        oldest = next(iter(runs.values()))
                        if oldest.start_ns >= deadline:
                            break
                        self._drop(oldest, f"open longer than {self._max_age_ns / 1e9:g} s",
                                   dropped)
                while len(runs) >= self._max_open:
                    self._drop(next(iter(runs.values())),
                               f"more than {self._max_open} runs open", dropped)
            parent = self._runs.get(_key(run.parent_id)) if run.parent_id is not None else None
            if parent is not None:
                parent.children.add(key)
            self._runs[key] = run
        return dropped

    def _drop(self, oldest: Run, reason: str, dropped: list[tuple[Run, str]]) -> None:
        del self._runs[_key(oldest.run_id)]
        dropped.extend((r, reason) for r in self._take_tree(oldest))

    def pop(self, run_id: UUID) -> tuple[Run, list[Run]] | None:
        """Remove a run and its open descendants: ``(run, descendants)`` or ``None`` if unknown."""
        with self._lock:
            self.last = (None, None)
            key = run_id.int if type(run_id) is UUID else _key(run_id)
            run = self._runs.pop(key, None)
            if run is None:
                if self._through:
                    self._through.pop(key, None)
                return None
            descendants = self._take_tree(run)[1:] if run.children else []
            parent = self._runs.get(_key(run.parent_id)) if run.parent_id is not None else None
            if parent is not None:
                parent.children.discard(key)
        return run, descendants

    def pop_all(self) -> list[Run]:
        """Every open run, parents before children (for a shutdown that ends them)."""
        with self._lock:
            self.last = (None, None)
            runs = list(self._runs.values())
            self._runs.clear()
            self._through.clear()
        return runs

    def _take_tree(self, root: Run) -> list[Run]:
        """``root`` (already removed) and its descendants removed from the registry; lock held."""
        out = [root]
        for run in _walk(out):
            for child_id in run.children:
                child = self._runs.pop(child_id, None)
                if child is not None:
                    out.append(child)
            run.children.clear()
        return out


def _key(run_id: Any) -> Any:
    """The registry's key of a run id (see ``RunRegistry``): its 128-bit int, for a
    ``uuid.UUID`` (the per-run paths test that inline) and for other UUID classes alike,
    so equal ids of different classes still meet; any other id as it is."""
    value = getattr(run_id, "int", None)
    return value if type(value) is int else run_id


def _walk(runs: list[Run]) -> Iterator[Run]:
    """Iterate a list that grows while it is iterated (breadth-first over a tree)."""
    i = 0
    while i < len(runs):
        yield runs[i]
        i += 1
