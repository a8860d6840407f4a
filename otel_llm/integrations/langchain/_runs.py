"""Which of our handlers a LangChain run goes to: decided once, at the run's start.

A run's handlers are the forwarder's own plus the scoped ones open where the
run starts (``scoped_callbacks``, ``get_openai_callback``), as in our own
managers. Several forwarders can be attached to one run (``instrument_langchain``
plus one passed explicitly deeper in the tree): a process-wide claim per run
makes each handler, scoped ones included, get the run's events from one of
them only, so nothing is counted twice.

Runs that never end (an abandoned stream) are bounded: past ``MAX_OPEN_RUNS``
the oldest is forgotten (its SDK suppression closed).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any
from uuid import UUID

from otel_llm.callbacks._dispatch import HandlerSet, handler_set
from otel_llm.callbacks.context import scoped_handlers
from otel_llm.integrations.langchain._ownership import CallSlot
from otel_llm.integrations.langchain._results import LLMRequest

__all__ = ["MAX_OPEN_RUNS", "RunState", "RunTable"]

MAX_OPEN_RUNS = 10_000


class RunState:
    """An open run: its handlers and, for LLM runs, what its end needs."""

    __slots__ = ("handlers", "request", "slot", "tokens")

    def __init__(self, handlers: HandlerSet) -> None:
        self.handlers = handlers
        self.slot: CallSlot | None = None
        self.request: LLMRequest | None = None
        self.tokens = False  # LangChain reported a token (then stream events are not tokens)

    def close(self) -> None:
        if self.slot is not None:
            self.slot.close()


class _Claims:
    """Run id -> ids of the handlers some forwarder already serves for it."""

    def __init__(self) -> None:
        self._served: dict[UUID, set[int]] = {}
        self._lock = threading.Lock()

    def claim(self, run_id: UUID, handlers: Sequence[Any]) -> tuple[Any, ...]:
        """The handlers not yet served for ``run_id`` (each once), now claimed."""
        with self._lock:
            served = self._served.get(run_id)
            if served is None:
                if len(self._served) >= MAX_OPEN_RUNS:
                    self._served.pop(next(iter(self._served)))
                served = self._served[run_id] = set()
            mine = []
            for h in handlers:
                if id(h) not in served:
                    served.add(id(h))
                    mine.append(h)
        return tuple(mine)

    def release(self, run_id: UUID) -> None:
        with self._lock:
            self._served.pop(run_id, None)


_claims = _Claims()


class RunTable:
    """One forwarder's open runs."""

    def __init__(self, handlers: tuple[Any, ...]) -> None:
        self._handlers = handlers
        self._own = handler_set(handlers)  # held: keeps the interned plans between runs
        self._runs: dict[UUID, RunState] = {}
        self._lock = threading.Lock()

    def start(self, run_id: UUID) -> RunState:
        scoped = scoped_handlers()
        handlers = _claims.claim(run_id, self._handlers + scoped if scoped else self._handlers)
        state = RunState(self._own if handlers == self._handlers else handler_set(handlers))
        evicted = None
        with self._lock:
            if len(self._runs) >= MAX_OPEN_RUNS:
                evicted = self._runs.pop(next(iter(self._runs)))
            self._runs[run_id] = state
        if evicted is not None:
            evicted.close()
        return state

    def get(self, run_id: UUID | None) -> RunState | None:
        return self._runs.get(run_id) if run_id is not None else None

    def end(self, run_id: UUID | None) -> RunState | None:
        if run_id is None:
            return None
        with self._lock:
            state = self._runs.pop(run_id, None)
        _claims.release(run_id)
        if state is not None:
            state.close()
        return state

    def current(self) -> HandlerSet:
        """Handlers for an event of a run this forwarder did not see start."""
        scoped = scoped_handlers()
        if not scoped:
            return self._own
        return handler_set(tuple({id(h): h for h in self._handlers + scoped}.values()))

    def __len__(self) -> int:
        return len(self._runs)
