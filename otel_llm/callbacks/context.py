"""Handlers, attributes and a parent run scoped to a block of code rather than passed to each call.

``with scoped_callbacks(h):`` makes ``h`` join every callback manager configured
inside the block: in asyncio tasks created there (they copy the context) and in
threads started there (see below). ``otel_llm.attributes(...)`` opens a scope
carrying attributes instead, and the ``otel_llm.workflow/agent/tool``
decorators one carrying the parent run of what their function starts. All
three are one mechanism: a stack of scopes in one ``ContextVar``. A scope is
closed on exit, so a context that outlives the block (a pool worker thread
started inside it) no longer sees it.

Threads: before Python 3.14's ``-X thread_inherit_context``, a new thread starts
with an empty context. While any scope is open in the starting thread's
context, ``threading.Thread.start`` runs the new thread in a copy of that
context; with no scope open it behaves exactly as before. Work handed to an
already running pool worker does not carry the context: submit
``contextvars.copy_context().run`` or use ``asyncio.to_thread``.

LangChain: the handlers join LangChain's runs too (its configure hook, see
``otel_llm.integrations.langchain._instrument``), registered when a scope is
entered in a process that has loaded LangChain's callback managers (importing
any LangChain model or chain does), so nothing of LangChain is imported here.
"""

from __future__ import annotations

import contextvars
import logging
import sys
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

__all__ = [
    "SCOPES",
    "Scope",
    "enter_scope",
    "exit_scope",
    "scoped_attributes",
    "scoped_callbacks",
    "scoped_handlers",
    "scoped_parent",
]

_NO_ATTRIBUTES: Mapping[str, Any] = {}

logger = logging.getLogger("otel_llm.callbacks")


class Scope:
    """One open block: its handlers, its attributes (merged with the enclosing ones), its parent.

    ``attributes`` and ``parent`` are None when the block does not set them.
    """

    __slots__ = ("attributes", "handlers", "open", "parent")

    def __init__(self, handlers: tuple[Any, ...] = (),
                 attributes: Mapping[str, Any] | None = None, parent: Any = None) -> None:
        self.handlers = handlers
        self.attributes = attributes
        self.parent = parent
        self.open = True


_SCOPES: ContextVar[tuple[Scope, ...]] = ContextVar("otel_llm_scopes", default=())
#: The open scopes here (read-only outside this module): empty means no scoped handler,
#: which the LangChain hook checks with one ``get()`` per run.
SCOPES = _SCOPES


def scoped_handlers() -> tuple[Any, ...]:
    """The handlers of the open scopes here, outermost first, each once."""
    scopes = _SCOPES.get()
    if not scopes:
        return ()
    out: list[Any] = []
    for scope in scopes:
        if scope.open and scope.handlers:
            out.extend(h for h in scope.handlers if h not in out)
    return tuple(out)


def scoped_attributes() -> Mapping[str, Any]:
    """The attributes of the innermost open scope that sets some (already merged), or ``{}``."""
    for scope in reversed(_SCOPES.get()):
        if scope.open and scope.attributes is not None:
            return scope.attributes
    return _NO_ATTRIBUTES


def scoped_parent() -> Any:
    """The parent (a callback manager for child runs) of the innermost open scope setting one."""
    for scope in reversed(_SCOPES.get()):
        if scope.open and scope.parent is not None:
            return scope.parent
    return None


def enter_scope(scope: Scope) -> Scope:
    """Open ``scope`` in this context (and threads started in it) until :func:`exit_scope`."""
    _install_thread_inheritance()
    _SCOPES.set((*_SCOPES.get(), scope))
    return scope


def exit_scope(scope: Scope) -> None:
    """Close ``scope`` everywhere and take it off this context's stack.

    Works from any context: where the scope cannot be removed (a generator
    closed in another context, a thread's copy) it is closed, so it is skipped.
    """
    scope.open = False
    scopes = _SCOPES.get()
    if scope in scopes:
        _SCOPES.set(tuple(s for s in scopes if s is not scope))


@contextmanager
def scoped_callbacks(*handlers: Any) -> Iterator[None]:
    """Add ``handlers`` to every run started inside the block; closed in ``finally``."""
    scope = enter_scope(Scope(handlers))
    if _LANGCHAIN_MANAGERS in sys.modules:
        try:
            _join_langchain()
        except Exception:  # never into the caller's block: LangChain runs just miss the scope
            logger.warning("could not register scoped handlers with LangChain", exc_info=True)
    try:
        yield
    finally:
        exit_scope(scope)


_LANGCHAIN_MANAGERS = "langchain_core.callbacks.manager"


def _join_langchain() -> None:
    """Enough LangChain configure hooks for every handler scoped here (registered once)."""
    from otel_llm.integrations.langchain._instrument import ambient, ensure_hooks

    ensure_hooks(len(ambient()))


_installed = threading.Event()
_install_lock = threading.Lock()


def _install_thread_inheritance() -> None:
    if _installed.is_set() or getattr(sys.flags, "thread_inherit_context", False):
        return
    with _install_lock:
        if _installed.is_set():  # another thread won the race
            return
        original: Callable[[threading.Thread], None] = threading.Thread.start

        def start(self: threading.Thread) -> None:
            if any(s.open for s in _SCOPES.get()):
                ctx = contextvars.copy_context()
                run = self.run
                self.run = lambda: ctx.run(run)  # type: ignore[method-assign]
            original(self)

        start.__wrapped__ = original  # type: ignore[attr-defined]
        threading.Thread.start = start  # type: ignore[method-assign]
        _installed.set()
