"""``@otel_llm.workflow``, ``@otel_llm.agent``, ``@otel_llm.tool``: runs for plain Python functions.

::

    @otel_llm.tool(name="lookup_stock")
    def lookup_stock(flower: str) -> int: ...

    @otel_llm.agent(name="florist")
    async def florist(question: str) -> str:
        stock = lookup_stock("rose")                 # execute_tool lookup_stock, a child
        return (await client.chat.completions.create(...)).choices[0].message.content  # a child

Each call is a chain run (workflow, agent) or a tool run emitted through our
callback managers, so every handler sees it: the OpenTelemetry handler
(``invoke_workflow {name}``, ``invoke_agent {name}``, ``execute_tool {name}``),
the stdout/file loggers, the token counter, your own. Its handlers are those of
the enclosing decorated run, else ``instrument_openai()``'s, plus the scoped
ones (``scoped_callbacks``, ``get_openai_callback``) and the decorator's
``callbacks``. While the function runs, its run is the parent of what it starts
(managers configured without request callbacks: SDK calls, other decorated
functions), in asyncio tasks and threads begun there too.

Sync and async functions and (async) generators are supported; a generator's
run spans its iteration (its scope is open only while its body runs, never
while the consumer holds a value), and ends normally when the consumer stops
early. Return values and exceptions pass through unchanged; an exception ends
the run with ``on_chain_error``/``on_tool_error``. Tool arguments (bound by
name) and results reach handlers as ``inputs`` and output; the OpenTelemetry
handler records them only with content capture on, redacted and truncated like
messages. A generator tool's result is the list of the first 100 items it
yielded.
"""

from __future__ import annotations

import functools
import inspect
import logging
import sys
from collections.abc import AsyncIterator, Callable, Generator
from typing import Any, TypeVar, cast, overload

from otel_llm.callbacks.context import Scope, enter_scope, exit_scope
from otel_llm.callbacks.manager import AsyncCallbackManager, BaseCallbackManager, CallbackManager
from otel_llm.telemetry.attributes import DECORATED_AGENT

__all__ = ["agent", "tool", "workflow"]

logger = logging.getLogger("otel_llm.decorators")

F = TypeVar("F", bound=Callable[..., Any])
_MAX_ITEMS = 100


def _process_callbacks() -> tuple[Any, ...]:
    """``instrument_openai()``'s handlers; never imports ``openai`` (not instrumented: none)."""
    patch = sys.modules.get("otel_llm.instrumentation.openai._patch")
    return patch.instrumented_callbacks() if patch is not None else ()


class _Spec:
    """What the decorator knows about the function: kind, name, description, handlers."""

    __slots__ = ("callbacks", "description", "kind", "name", "serialized", "signature")

    def __init__(self, kind: str, fn: Callable[..., Any], name: str | None,
                 description: str | None, callbacks: tuple[Any, ...]) -> None:
        self.kind = kind
        self.name = name or fn.__qualname__
        if description is None and kind != "workflow":  # workflows have no description
            doc = inspect.getdoc(fn)
            description = doc.split("\n\n", 1)[0].strip() if doc else None
        self.description = description
        self.callbacks = callbacks
        cls = DECORATED_AGENT if kind == "agent" else kind
        self.serialized: dict[str, Any] = {"name": self.name, "id": ["otel_llm", "decorators", cls]}
        if description:
            self.serialized["description"] = description
        try:
            self.signature: inspect.Signature | None = inspect.signature(fn)
        except (TypeError, ValueError):
            self.signature = None

    def manager(self, cls: type[BaseCallbackManager]) -> Any:
        """The manager of one call, or None when no handler would see it (or ours failed)."""
        try:
            manager = cls.configure(None)  # the enclosing decorated run's children, scoped ones
            for handler in (*_process_callbacks(), *self.callbacks):
                manager.add_handler(handler, inherit=True)
        except Exception:
            logger.warning("otel-llm could not start the run of %s; the call goes on "
                           "unobserved", self.name, exc_info=True)
            return None
        return manager if manager.handlers else None

    def arguments(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> dict[str, Any]:
        """The call's arguments by parameter name (``self``/``cls`` left out)."""
        if self.signature is not None:
            try:
                bound = self.signature.bind(*args, **kwargs)
            except TypeError:  # the function itself will say what is wrong
                pass
            else:
                return {k: v for k, v in bound.arguments.items() if k not in ("self", "cls")}
        return {"args": list(args), **kwargs}

    def start(self, manager: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        """The start event: a run manager (sync manager) or an awaitable of one (async)."""
        try:
            inputs = self.arguments(args, kwargs)
            text = str(inputs) if self.kind == "tool" else ""
        except Exception:  # e.g. an argument whose repr raises: the run goes on without them
            logger.debug("otel-llm could not read the arguments of %s", self.name, exc_info=True)
            inputs, text = {}, ""
        if self.kind == "tool":
            return manager.on_tool_start(self.serialized, text, inputs=inputs, name=self.name)
        return manager.on_chain_start(self.serialized, inputs, name=self.name)


class _Run:
    """One call's run. ``with run:`` opens its scope (it parents what starts inside).

    ``end``/``fail`` return what the run manager returns: None (sync) or an awaitable.
    """

    __slots__ = ("_scopes", "child", "items", "manager", "tool")

    def __init__(self, spec: _Spec, manager: Any) -> None:
        self.manager = manager
        self.child = manager.get_child()
        self.tool = spec.kind == "tool"
        self.items: list[Any] = []
        self._scopes: list[Scope] = []

    def __enter__(self) -> None:
        self._scopes.append(enter_scope(Scope(parent=self.child)))

    def __exit__(self, *exc_info: object) -> None:
        exit_scope(self._scopes.pop())

    def collect(self, item: Any) -> None:
        if len(self.items) < _MAX_ITEMS:
            self.items.append(item)

    def end(self, result: Any) -> Any:
        manager = self.manager
        return manager.on_tool_end(result) if self.tool else manager.on_chain_end(result)

    def fail(self, error: BaseException) -> Any:
        manager = self.manager
        return manager.on_tool_error(error) if self.tool else manager.on_chain_error(error)


def _sync_run(spec: _Spec, args: tuple[Any, ...], kwargs: dict[str, Any]) -> _Run | None:
    manager = spec.manager(CallbackManager)
    return None if manager is None else _Run(spec, spec.start(manager, args, kwargs))


async def _async_run(spec: _Spec, args: tuple[Any, ...], kwargs: dict[str, Any]) -> _Run | None:
    manager = spec.manager(AsyncCallbackManager)
    return None if manager is None else _Run(spec, await spec.start(manager, args, kwargs))


def _wrap(spec: _Spec, fn: Callable[..., Any]) -> Callable[..., Any]:
    """The wrapper for ``fn``'s kind: function, coroutine function, (async) generator function."""
    if inspect.isasyncgenfunction(fn):
        @functools.wraps(fn)
        async def agen(*args: Any, **kwargs: Any) -> AsyncIterator[Any]:
            run = await _async_run(spec, args, kwargs)
            inner = fn(*args, **kwargs)
            if run is None:
                async for item in inner:
                    yield item
                return
            try:  # the async twin of _steps (an async generator cannot ``yield from``)
                send: Any = None
                throw: BaseException | None = None
                while True:
                    with run:
                        try:
                            item = await (inner.athrow(throw) if throw is not None
                                          else inner.asend(send))
                        except StopAsyncIteration:
                            break
                    run.collect(item)
                    throw = None
                    try:
                        send = yield item
                    except GeneratorExit:
                        with run:
                            await inner.aclose()
                        raise
                    except BaseException as exc:  # thrown in by the consumer: the body decides
                        throw = exc
            except GeneratorExit:  # the consumer stopped early: the run is complete
                await run.end(run.items)
                raise
            except BaseException as exc:
                await run.fail(exc)
                raise
            await run.end(run.items)
        return agen

    if inspect.isgeneratorfunction(fn):
        @functools.wraps(fn)
        def gen(*args: Any, **kwargs: Any) -> Generator[Any, Any, Any]:
            run = _sync_run(spec, args, kwargs)
            if run is None:
                return (yield from fn(*args, **kwargs))
            try:
                value = yield from _steps(run, fn(*args, **kwargs))
            except GeneratorExit:
                run.end(run.items)
                raise
            except BaseException as exc:
                run.fail(exc)
                raise
            run.end(run.items)
            return value
        return gen

    if inspect.iscoroutinefunction(fn):
        @functools.wraps(fn)
        async def coro(*args: Any, **kwargs: Any) -> Any:
            run = await _async_run(spec, args, kwargs)
            if run is None:
                return await fn(*args, **kwargs)
            try:
                with run:
                    result = await fn(*args, **kwargs)
            except BaseException as exc:
                await run.fail(exc)
                raise
            await run.end(result)
            return result
        return coro

    @functools.wraps(fn)
    def call(*args: Any, **kwargs: Any) -> Any:
        run = _sync_run(spec, args, kwargs)
        if run is None:
            return fn(*args, **kwargs)
        try:
            with run:
                result = fn(*args, **kwargs)
        except BaseException as exc:
            run.fail(exc)
            raise
        run.end(result)
        return result
    return call


def _steps(run: _Run, inner: Any) -> Generator[Any, Any, Any]:
    """``yield from inner`` with the run's scope open only while ``inner``'s body runs."""
    send: Any = None
    throw: BaseException | None = None
    while True:
        with run:
            try:
                item = inner.throw(throw) if throw is not None else inner.send(send)
            except StopIteration as stop:
                return stop.value
        run.collect(item)
        throw = None
        try:
            send = yield item
        except GeneratorExit:
            with run:
                inner.close()
            raise
        except BaseException as exc:  # thrown in by the consumer: the body decides
            throw = exc


def _decorator(kind: str, name: Any, description: str | None,
               callbacks: Any) -> Any:
    if callable(name):  # used bare: @otel_llm.tool
        return _wrap(_Spec(kind, name, None, description, ()), name)
    if name is not None and (not isinstance(name, str) or not name):
        raise TypeError(f"otel_llm.{kind}: name must be a non-empty str, got {name!r}")
    handlers = tuple(callbacks or ())

    def decorate(fn: F) -> F:
        if not callable(fn):
            raise TypeError(f"otel_llm.{kind} decorates functions, got {fn!r}")
        return cast(F, _wrap(_Spec(kind, fn, name, description, handlers), fn))
    return decorate


class _RunDecorator:
    """``@kind``, ``@kind()`` or ``@kind(name=..., description=..., callbacks=[...])``."""

    def __init__(self, kind: str, doc: str) -> None:
        self.kind = kind
        self.__doc__ = doc

    def __repr__(self) -> str:
        return f"otel_llm.{self.kind}"

    @overload
    def __call__(self, name: F, /) -> F: ...
    @overload
    def __call__(self, name: str | None = None, *, description: str | None = None,
                 callbacks: Any = None) -> Callable[[F], F]: ...
    def __call__(self, name: Any = None, *, description: str | None = None,
                 callbacks: Any = None) -> Any:
        return _decorator(self.kind, name, description, callbacks)


workflow = _RunDecorator("workflow", """A workflow run (``invoke_workflow {name}``) per call.

The name defaults to the function's qualified name.""")
agent = _RunDecorator("agent", """An agent run (``invoke_agent {name}``) per call.

The name defaults to the function's qualified name, the description
(``gen_ai.agent.description``) to its docstring's first paragraph.""")
tool = _RunDecorator("tool", """A tool run (``execute_tool {name}``) per call.

The name defaults to the function's qualified name, the description
(``gen_ai.tool.description``) to its docstring's first paragraph.""")
