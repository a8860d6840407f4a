"""Deliver one event to a set of handlers: the only place handlers are called.

A ``HandlerSet`` turns (handlers, event) into a *plan* once: the handlers that
neither ignore the event nor leave the hook as the base-class no-op, each with
its bound method. Per token the managers then only walk that tuple. The plan is
executed by ``run_sync`` (plain calls; coroutines of async handlers run on one
shared background loop) or ``run_async`` (``run_inline`` handlers in order on
the loop, then the rest concurrently: async ones gathered, sync ones off-loop
in the default executor with the caller's context). Error policy, fallback from
``on_chat_model_start`` to ``on_llm_start`` and the plans are shared by both.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import inspect
import logging
import os
import threading
from collections import Counter
from collections.abc import Callable, Coroutine
from typing import Any, NamedTuple

from otel_llm.callbacks.base import AsyncCallbackHandler, BaseCallbackHandler
from otel_llm.schema import get_buffer_string

__all__ = ["Event", "HandlerSet", "handler_error_counts", "run_async", "run_sync"]

logger = logging.getLogger("otel_llm.callbacks")


class Event(NamedTuple):
    method: str
    ignore: str | None  # the handler flag that suppresses this event


LLM_START = Event("on_llm_start", "ignore_llm")
CHAT_MODEL_START = Event("on_chat_model_start", "ignore_chat_model")
LLM_NEW_TOKEN = Event("on_llm_new_token", "ignore_llm")
LLM_END = Event("on_llm_end", "ignore_llm")
LLM_ERROR = Event("on_llm_error", "ignore_llm")
CHAIN_START = Event("on_chain_start", "ignore_chain")
CHAIN_END = Event("on_chain_end", "ignore_chain")
CHAIN_ERROR = Event("on_chain_error", "ignore_chain")
TOOL_START = Event("on_tool_start", "ignore_agent")
TOOL_END = Event("on_tool_end", "ignore_agent")
TOOL_ERROR = Event("on_tool_error", "ignore_agent")
RETRIEVER_START = Event("on_retriever_start", "ignore_retriever")
RETRIEVER_END = Event("on_retriever_end", "ignore_retriever")
RETRIEVER_ERROR = Event("on_retriever_error", "ignore_retriever")
AGENT_ACTION = Event("on_agent_action", "ignore_agent")
AGENT_FINISH = Event("on_agent_finish", "ignore_agent")
TEXT = Event("on_text", None)
RETRY = Event("on_retry", "ignore_retry")
CUSTOM_EVENT = Event("on_custom_event", "ignore_custom_event")

_NOOPS = {
    cls.__dict__[name]
    for cls in (BaseCallbackHandler, AsyncCallbackHandler)
    for name in dir(cls)
    if name.startswith("on_")
}


class _Call(NamedTuple):
    handler: Any
    fn: Callable[..., Any]
    is_async: bool
    inline: bool
    chat_fallback: bool  # fn is on_llm_start standing in for on_chat_model_start


def _overrides(handler: Any, method: str) -> bool:
    impl = getattr(type(handler), method, None)
    return impl is not None and impl not in _NOOPS


def _build_plan(handlers: tuple[Any, ...], event: Event) -> tuple[_Call, ...]:
    calls = []
    for h in handlers:
        if event.ignore and getattr(h, event.ignore, False):
            continue
        method, fallback = event.method, False
        if event is CHAT_MODEL_START and not _overrides(h, method):
            method, fallback = LLM_START.method, True
        if not _overrides(h, method):
            continue
        fn = getattr(h, method)
        calls.append(
            _Call(h, fn, inspect.iscoroutinefunction(fn), bool(getattr(h, "run_inline", False)),
                  fallback)
        )
    return tuple(calls)


class HandlerSet:
    """An immutable handler list with per-event plans built on first use."""

    __slots__ = ("_plans", "handlers")

    def __init__(self, handlers: list[Any] | tuple[Any, ...]) -> None:
        self.handlers = tuple(handlers)
        self._plans: dict[Event, tuple[_Call, ...]] = {}

    def plan(self, event: Event) -> tuple[_Call, ...]:
        plan = self._plans.get(event)
        if plan is None:
            plan = self._plans[event] = _build_plan(self.handlers, event)
        return plan


# --- errors ------------------------------------------------------------------
_error_counts: Counter[tuple[str, str]] = Counter()
_error_lock = threading.Lock()


def handler_error_counts() -> dict[tuple[str, str], int]:
    """How often each (handler class, hook) raised and was swallowed, since start-up."""
    with _error_lock:
        return dict(_error_counts)


def _swallow(call: _Call, event: Event, exc: BaseException) -> None:
    """Log the first failure of a (handler class, hook) with its traceback, count the rest."""
    key = (type(call.handler).__qualname__, event.method)
    with _error_lock:
        _error_counts[key] += 1
        first = _error_counts[key] == 1
    if first:
        logger.warning("callback handler %s.%s failed; the run goes on (further failures "
                       "are counted, see handler_error_counts())", *key, exc_info=exc)
    else:
        logger.debug("callback handler %s.%s failed again: %r", *key, exc)


def _chat_as_llm_args(args: tuple[Any, ...]) -> tuple[Any, ...]:
    serialized, messages = args
    return serialized, [get_buffer_string(m) for m in messages]


def _args_for(call: _Call, args: tuple[Any, ...]) -> tuple[Any, ...]:
    return _chat_as_llm_args(args) if call.chat_fallback else args


def _fallback(call: _Call, event: Event) -> _Call | None:
    """A LangChain-style handler raising NotImplementedError for chat runs gets on_llm_start."""
    if event is not CHAT_MODEL_START or call.chat_fallback:
        return None
    fn = call.handler.on_llm_start
    return call._replace(fn=fn, is_async=inspect.iscoroutinefunction(fn), chat_fallback=True)


# --- the shared loop for async handlers called from sync code ---------------
class _LoopThread:
    """One daemon event loop per process; avoids a loop and a thread per call."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        if hasattr(os, "register_at_fork"):
            os.register_at_fork(after_in_child=self._forget)

    def _forget(self) -> None:
        self._lock = threading.Lock()
        self._loop = self._thread = None

    def _ensure(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._loop is None:
                loop = asyncio.new_event_loop()
                thread = threading.Thread(
                    target=loop.run_forever, name="otel-llm-callbacks", daemon=True
                )
                thread.start()
                self._loop, self._thread = loop, thread
            return self._loop

    def run(self, coro: Coroutine[Any, Any, Any]) -> Any:
        """Run ``coro`` to completion with the caller's context, blocking the caller."""
        if threading.current_thread() is self._thread:
            # A handler on our loop re-entered sync dispatch: never block our own loop.
            ctx = contextvars.copy_context()
            result: list[Any] = []
            t = threading.Thread(target=lambda: result.append(ctx.run(asyncio.run, coro)))
            t.start()
            t.join()
            return result[0] if result else None
        # run_coroutine_threadsafe schedules with a copy of *this* thread's context.
        return asyncio.run_coroutine_threadsafe(coro, self._ensure()).result()


_loop_thread = _LoopThread()


# --- executors ---------------------------------------------------------------
def run_sync(plan: tuple[_Call, ...], event: Event, args: tuple[Any, ...],
             kwargs: dict[str, Any]) -> None:
    for call in plan:
        try:
            _call_sync(call, _args_for(call, args), kwargs)
        except NotImplementedError as exc:
            alt = _fallback(call, event)
            if alt is None:
                _on_error(call, event, exc)
                continue
            try:
                _call_sync(alt, _chat_as_llm_args(args), kwargs)
            except Exception as exc2:
                _on_error(alt, event, exc2)
        except Exception as exc:
            _on_error(call, event, exc)


def _call_sync(call: _Call, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    if call.is_async:
        _loop_thread.run(call.fn(*args, **kwargs))
    else:
        call.fn(*args, **kwargs)


def _on_error(call: _Call, event: Event, exc: BaseException) -> None:
    if getattr(call.handler, "raise_error", False):
        raise exc
    _swallow(call, event, exc)


async def run_async(plan: tuple[_Call, ...], event: Event, args: tuple[Any, ...],
                    kwargs: dict[str, Any]) -> None:
    deferred = []
    for call in plan:
        if call.inline:
            await _guarded(call, event, args, kwargs)
        else:
            deferred.append(call)
    if not deferred:
        return
    if len(deferred) == 1:
        await _guarded(deferred[0], event, args, kwargs)
        return
    results = await asyncio.gather(
        *(_guarded(c, event, args, kwargs, defer_raise=True) for c in deferred)
    )
    for exc in results:
        if exc is not None:
            raise exc


async def _guarded(call: _Call, event: Event, args: tuple[Any, ...], kwargs: dict[str, Any],
                   defer_raise: bool = False) -> BaseException | None:
    """Run one handler; a ``raise_error`` failure is raised (or returned to raise after gather)."""
    try:
        await _call_async(call, _args_for(call, args), kwargs)
    except NotImplementedError as exc:
        alt = _fallback(call, event)
        if alt is None:
            return _settle(call, event, exc, defer_raise)
        try:
            await _call_async(alt, _chat_as_llm_args(args), kwargs)
        except Exception as exc2:
            return _settle(alt, event, exc2, defer_raise)
    except Exception as exc:
        return _settle(call, event, exc, defer_raise)
    return None


def _settle(call: _Call, event: Event, exc: BaseException,
            defer_raise: bool) -> BaseException | None:
    if getattr(call.handler, "raise_error", False):
        if defer_raise:
            return exc
        raise exc
    _swallow(call, event, exc)
    return None


async def _call_async(call: _Call, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    if call.is_async:
        await call.fn(*args, **kwargs)
    elif call.inline:
        call.fn(*args, **kwargs)
    else:
        ctx = contextvars.copy_context()
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, functools.partial(ctx.run, call.fn, *args, **kwargs))
