"""``instrument_langchain()``: the forwarder joins every LangChain run, no code change.

LangChain builds a callback manager for each run in ``_configure``, which
consults the hooks registered with
``langchain_core.tracers.context.register_configure_hook``: for each it calls
``var.get()`` and, with no ``handle_class``, adds the handler it returns unless
that very object is already there (inheritable, so child runs inherit it
rather than getting a second one). The "var" is only duck-typed, so ours is an
object whose ``get()`` returns the installed forwarder or None: uninstrumenting
is then global (a real ContextVar's ``set()`` would only change one context).
A run that also has a forwarder passed explicitly keeps both: the app's global
telemetry must not vanish because someone passed a stdout logger on one model.
A handler object reachable through both forwarders still gets each run once
(the forwarders claim runs per handler).

LangChain offers no way to remove a hook, so ours is registered once and
returns None while uninstrumented.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from contextvars import ContextVar
from typing import Any, cast

from langchain_core.tracers.context import register_configure_hook

from otel_llm.integrations.langchain._handlers import LangChainCallbackHandler, LangChainForwarder

__all__ = ["installed", "instrument_langchain", "uninstrument_langchain"]


class _Installed:
    """Stands in for the ContextVar LangChain expects: process-wide, not per context."""

    __slots__ = ("handler",)

    def __init__(self) -> None:
        self.handler: LangChainForwarder | None = None

    def get(self) -> LangChainForwarder | None:
        return self.handler


_installed = _Installed()
_registered = False
_lock = threading.Lock()


def instrument_langchain(callbacks: Sequence[Any] | None = None) -> LangChainCallbackHandler:
    """Forward every LangChain run in this process to ``callbacks``; returns the forwarder.

    ``callbacks=None`` means an ``OpenTelemetryCallbackHandler()`` on the global
    tracer and meter providers (install them first, e.g. with
    ``otel_llm.configure()``), unless a forwarder is already installed: then
    that one is kept, so calling this twice changes nothing. Passing
    ``callbacks`` replaces the installed forwarder.
    """
    global _registered
    with _lock:
        current = _installed.handler
        if callbacks is None and isinstance(current, LangChainCallbackHandler):
            return current
        if callbacks is None:
            from otel_llm.telemetry import OpenTelemetryCallbackHandler

            callbacks = [OpenTelemetryCallbackHandler()]
        forwarder = LangChainCallbackHandler(callbacks)
        if not _registered:
            register_configure_hook(cast("ContextVar[Any]", _installed), True)
            _registered = True
        _installed.handler = forwarder
    return forwarder


def uninstrument_langchain() -> None:
    """Stop attaching the forwarder to new runs (runs already started keep theirs)."""
    with _lock:
        _installed.handler = None


def installed() -> LangChainForwarder | None:
    """The forwarder ``instrument_langchain`` attaches, or None."""
    return _installed.handler
