"""Ambient handlers join every LangChain run: ``instrument_langchain()`` and scoped handlers.

Our handlers are LangChain handlers, so a run only has to *have* them. LangChain
builds each run's callback manager in ``_configure``, which consults the hooks
registered with ``langchain_core.tracers.context.register_configure_hook``: it
calls ``var.get()`` and adds the handler returned (inheritable, so child runs
inherit it) unless that very object is already there. So a handler passed
explicitly and also installed sees each run once.

Ambient handlers are those installed process-wide by :func:`instrument_langchain`,
then those of the ``scoped_callbacks`` / ``get_openai_callback`` blocks open where
the run is configured (a context variable: asyncio tasks and threads started in
the block see them). One hook gives one handler, so hook *i* gives the *i*-th
ambient handler or None; hooks are registered as more are needed. LangChain
offers no way to remove a hook: an unneeded one returns None. The "var" is only
duck-typed, so ours is an object whose ``get()`` reads the current ambient
handlers (a real ContextVar's ``set()`` would only change one context).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from contextvars import ContextVar
from typing import Any, cast

from langchain_core.callbacks.base import BaseCallbackHandler as _LCHandler
from langchain_core.tracers.context import register_configure_hook

from otel_llm.callbacks.context import SCOPES, scoped_handlers

__all__ = ["ambient", "ensure_hooks", "instrument_langchain", "uninstrument_langchain"]

_installed: tuple[Any, ...] = ()
_lock = threading.Lock()


def ambient() -> tuple[Any, ...]:
    """The installed handlers, then the scoped ones here that LangChain can call, each once."""
    scoped = scoped_handlers()
    if not scoped:
        return _installed
    return _installed + tuple(h for h in scoped
                              if isinstance(h, _LCHandler) and h not in _installed)


class _Hook:
    """Stands in for the ContextVar LangChain expects: the ``index``-th ambient handler."""

    __slots__ = ("index",)

    def __init__(self, index: int) -> None:
        self.index = index

    def get(self) -> Any:
        # LangChain asks every hook at every run's configure: with no scope open (the
        # usual case) the answer is the installed handler, read without further calls.
        handlers = _installed if not SCOPES.get() else ambient()
        try:
            return handlers[self.index]
        except IndexError:
            return None


_hooks: list[_Hook] = []


def ensure_hooks(count: int) -> None:
    """At least ``count`` hooks registered with LangChain (cheap when there are)."""
    if len(_hooks) >= count:
        return
    with _lock:
        while len(_hooks) < count:
            hook = _Hook(len(_hooks))
            register_configure_hook(cast("ContextVar[Any]", hook), True)
            _hooks.append(hook)


def instrument_langchain(callbacks: Sequence[Any] | None = None) -> tuple[Any, ...]:
    """Add ``callbacks`` to every LangChain and LangGraph run in this process; returns them.

    ``callbacks=None`` means an ``OpenTelemetryCallbackHandler()`` on the global
    tracer and meter providers (install them first, e.g. with
    ``otel_llm.configure()``), unless handlers are already installed: then those
    are kept, so calling this twice changes nothing. Passing ``callbacks``
    replaces the installed handlers.
    """
    global _installed
    with _lock:
        if callbacks is None and _installed:
            return _installed
        if callbacks is None:
            from otel_llm.telemetry import OpenTelemetryCallbackHandler

            callbacks = [OpenTelemetryCallbackHandler()]
        _installed = tuple(callbacks)
    ensure_hooks(len(ambient()))
    return _installed


def uninstrument_langchain() -> None:
    """Stop adding the installed handlers to new runs (runs already started keep them)."""
    global _installed
    _installed = ()


def installed() -> tuple[Any, ...]:
    """The handlers ``instrument_langchain`` adds to every run (empty when uninstrumented)."""
    return _installed
