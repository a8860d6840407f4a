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
import types
import weakref
from collections import Counter
from collections.abc import Callable, Coroutine, Generator
from typing import Any, NamedTuple

from otel_llm.callbacks.base import AsyncCallbackHandler, BaseCallbackHandler
from otel_llm.schema import get_buffer_string

__all__ = [
    "Event", "HandlerSet", "Plan", "handler_error_counts", "handler_set", "run_async", "run_sync",
]

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

# The base classes' hooks, inherited ones included (LangChain's, when ours subclass them).
_NOOPS = {
    getattr(cls, name)
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


class Plan(NamedTuple):
    calls: tuple[_Call, ...]
    plain: bool  # every call is a sync function with the event's own arguments
    inline: bool  # plain, and every handler is run_inline: async code calls them directly
    #: Start events: some handler reads the prompts / messages (its ``reads_inputs`` flag;
    #: a chat run delivered as ``on_llm_start`` is read as text).
    reads_inputs: bool


def _overrides(handler: Any, method: str) -> bool:
    impl = getattr(type(handler), method, None)
    return impl is not None and impl not in _NOOPS


def _build_plan(handlers: tuple[Any, ...], event: Event) -> Plan:
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
    plain = all(not c.is_async and not c.chat_fallback for c in calls)
    reads = any(c.chat_fallback or getattr(c.handler, "reads_inputs", True) for c in calls)
    return Plan(tuple(calls), plain, plain and all(c.inline for c in calls), reads)


class HandlerSet:
    """An immutable handler list with per-event plans built on first use.

    Sets are interned by handler identity while any run uses them, so the many
    managers created for the same handlers share plans; handler flags are read
    when a set's plan for an event is first built. Interning is weak: it never
    keeps a handler alive.
    """

    __slots__ = ("__weakref__", "handlers", "plans")

    def __init__(self, handlers: tuple[Any, ...]) -> None:
        self.handlers = handlers
        #: ``plans[event]``: a dict lookup per event (no method call), built when missing.
        self.plans = _Plans(handlers)

    def plan(self, event: Event) -> Plan:
        return self.plans[event]


class _Plans(dict[Event, Plan]):
    __slots__ = ("handlers",)

    def __init__(self, handlers: tuple[Any, ...]) -> None:
        super().__init__()
        self.handlers = handlers

    def __missing__(self, event: Event) -> Plan:
        plan = self[event] = _build_plan(self.handlers, event)
        return plan


_INTERNED: weakref.WeakValueDictionary[tuple[int, ...], HandlerSet] = (
    weakref.WeakValueDictionary()
)
_intern_lock = threading.Lock()


def handler_set(handlers: list[Any] | tuple[Any, ...]) -> HandlerSet:
    # A live set holds its handlers, so the ids in its key cannot be reused meanwhile.
    key = tuple(map(id, handlers))
    hs = _INTERNED.get(key)
    if hs is None:
        with _intern_lock:
            hs = _INTERNED.get(key)
            if hs is None:
                hs = _INTERNED[key] = HandlerSet(tuple(handlers))
    return hs


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
def run_sync(plan: Plan, event: Event, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    if plan.plain:
        for call in plan.calls:
            try:
                call.fn(*args, **kwargs)
            except Exception as exc:
                after_sync_error(call, event, args, kwargs, exc)
        return
    for call in plan.calls:
        try:
            _call_sync(call, _args_for(call, args), kwargs)
        except Exception as exc:
            after_sync_error(call, event, args, kwargs, exc)


def _call_sync(call: _Call, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    if call.is_async:
        _loop_thread.run(call.fn(*args, **kwargs))
    else:
        call.fn(*args, **kwargs)


def after_sync_error(call: _Call, event: Event, args: tuple[Any, ...], kwargs: dict[str, Any],
                      exc: Exception) -> None:
    alt = _fallback(call, event) if isinstance(exc, NotImplementedError) else None
    if alt is None:
        _settle(call, event, exc, defer_raise=False)
        return
    try:
        _call_sync(alt, _chat_as_llm_args(args), kwargs)
    except Exception as exc2:
        _settle(alt, event, exc2, defer_raise=False)


def _settle(call: _Call, event: Event, exc: BaseException,
            defer_raise: bool) -> BaseException | None:
    """Swallow (log, count) a handler failure, or hand it back/raise for ``raise_error``."""
    if getattr(call.handler, "raise_error", False):
        if defer_raise:
            return exc
        raise exc
    _swallow(call, event, exc)
    return None


@types.coroutine
def _resume(coro: Coroutine[Any, Any, Any], pending: Any) -> Generator[Any, Any, Any]:
    """Go on with a coroutine that already yielded ``pending`` once (``yield from`` by hand)."""
    while True:
        try:
            value = yield pending
        except GeneratorExit:
            coro.close()
            raise
        except BaseException as exc:
            try:
                pending = coro.throw(exc)
            except StopIteration as stop:
                return stop.value
        else:
            try:
                pending = coro.send(value)
            except StopIteration as stop:
                return stop.value


async def _finish(coro: Coroutine[Any, Any, Any], pending: Any) -> Any:
    return await _resume(coro, pending)


def _start_async(call: _Call, args: tuple[Any, ...],
                 kwargs: dict[str, Any]) -> asyncio.Future[Any] | None:
    """Run an async hook eagerly in a context of its own until it first suspends.

    Most hooks finish without suspending: they cost a call, not a Task. One that
    does suspend goes on as a Task (same context), concurrently with the others.
    """
    ctx = contextvars.copy_context()
    coro = call.fn(*args, **kwargs)
    try:
        pending = ctx.run(coro.send, None)
    except StopIteration:
        return None
    return ctx.run(asyncio.ensure_future, _finish(coro, pending))


def _start(call: _Call, event: Event, args: tuple[Any, ...], kwargs: dict[str, Any],
           loop: asyncio.AbstractEventLoop) -> asyncio.Future[Any] | None:
    """Start one hook; returns what is still running, or None if it is done."""
    if call.is_async:
        return _start_async(call, _args_for(call, args), kwargs)
    if call.inline:
        call.fn(*_args_for(call, args), **kwargs)
        return None
    ctx = contextvars.copy_context()
    return loop.run_in_executor(
        None, functools.partial(ctx.run, call.fn, *_args_for(call, args), **kwargs))


async def run_async(plan: Plan, event: Event, args: tuple[Any, ...],
                    kwargs: dict[str, Any]) -> None:
    """``run_inline`` hooks complete in order; the others run concurrently.

    (The async managers' per-run paths test ``plan.inline`` themselves and call
    :func:`run_sync` directly: a coroutine of this function per event is a frame they skip.)
    """
    if plan.inline:
        run_sync(plan, event, args, kwargs)
        return
    loop = asyncio.get_running_loop()
    running: list[tuple[_Call, asyncio.Future[Any]]] = []
    failure: BaseException | None = None
    for call in plan.calls:
        try:
            fut = _start(call, event, args, kwargs, loop)
            if fut is not None and call.inline:
                await fut
            elif fut is not None:
                running.append((call, fut))
        except Exception as exc:
            failure = failure or await _after_async_error(call, event, args, kwargs, exc, loop)
    if running:
        outcomes = await asyncio.gather(*(f for _, f in running), return_exceptions=True)
        for (call, _), outcome in zip(running, outcomes, strict=True):
            if isinstance(outcome, Exception):
                failure = failure or await _after_async_error(call, event, args, kwargs,
                                                              outcome, loop)
            elif isinstance(outcome, BaseException):
                raise outcome
    if failure is not None:
        raise failure


async def _after_async_error(call: _Call, event: Event, args: tuple[Any, ...],
                             kwargs: dict[str, Any], exc: Exception,
                             loop: asyncio.AbstractEventLoop) -> BaseException | None:
    alt = _fallback(call, event) if isinstance(exc, NotImplementedError) else None
    if alt is None:
        return _settle(call, event, exc, defer_raise=True)
    try:
        fut = _start(alt, event, _chat_as_llm_args(args), kwargs, loop)
        if fut is not None:
            await fut
    except Exception as exc2:
        return _settle(alt, event, exc2, defer_raise=True)
    return None
