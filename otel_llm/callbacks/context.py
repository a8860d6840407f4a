"""Handlers scoped to a block of code rather than passed to each call.

``with scoped_callbacks(h):`` makes ``h`` join every callback manager configured
inside the block, including in asyncio tasks created there (they copy the
context). The token counter and per-request instrumentation scopes use it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

__all__ = ["scoped_callbacks", "scoped_handlers"]

_SCOPED: ContextVar[tuple[Any, ...]] = ContextVar("otel_llm_scoped_callbacks", default=())


def scoped_handlers() -> tuple[Any, ...]:
    """The handlers in scope here, outermost first."""
    return _SCOPED.get()


@contextmanager
def scoped_callbacks(*handlers: Any) -> Iterator[None]:
    """Add ``handlers`` to every run started inside the block; removed in ``finally``."""
    before = _SCOPED.get()
    token = _SCOPED.set(before + tuple(h for h in handlers if h not in before))
    try:
        yield
    finally:
        try:
            _SCOPED.reset(token)
        except ValueError:  # exited in another context (e.g. a generator closed elsewhere)
            _SCOPED.set(before)
