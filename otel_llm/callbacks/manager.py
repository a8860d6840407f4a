"""Callback managers: who gets which event, with which run ids.

Semantics are LangChain's. A component's *constructor* callbacks are local:
they see the component's own runs only. *Request* callbacks are inheritable:
they reach every child run through ``run_manager.get_child()``. ``verbose=True``
adds a :class:`StdOutCallbackHandler`. Handlers scoped with
:func:`otel_llm.callbacks.scoped_callbacks` (e.g. the token counter) join every
manager configured inside the scope.

This module holds the managers that start runs (``configure``, ``on_*_start``);
the run managers they return (``CallbackManagerFor*Run``, ``TokenEmitter``) are
defined in :mod:`otel_llm.callbacks.run_managers` and re-exported here, so
``langchain_core.callbacks.manager`` imports port by changing the package name only.

Each class is written once and specialised twice: the sync managers return
results and run managers directly, the async ones return awaitables. Only the
final step (``_start``) differs.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Sequence
from typing import Any, Generic, TypeVar, Union
from uuid import UUID, uuid4

from otel_llm.callbacks import _dispatch as d
from otel_llm.callbacks.base import AsyncCallbackHandler, BaseCallbackHandler
from otel_llm.callbacks.context import scoped_handlers, scoped_parent
from otel_llm.callbacks.run_managers import (
    AsyncCallbackManagerForChainRun,
    AsyncCallbackManagerForLLMRun,
    AsyncCallbackManagerForRetrieverRun,
    AsyncCallbackManagerForToolRun,
    CallbackManagerForChainRun,
    CallbackManagerForLLMRun,
    CallbackManagerForRetrieverRun,
    CallbackManagerForToolRun,
    R,
    TokenEmitter,
    _RunManager,
    _Scope,
)

__all__ = [
    "AsyncCallbackManager",
    "AsyncCallbackManagerForChainRun",
    "AsyncCallbackManagerForLLMRun",
    "AsyncCallbackManagerForRetrieverRun",
    "AsyncCallbackManagerForToolRun",
    "CallbackManager",
    "CallbackManagerForChainRun",
    "CallbackManagerForLLMRun",
    "CallbackManagerForRetrieverRun",
    "CallbackManagerForToolRun",
    "Callbacks",
    "TokenEmitter",
]

Handler = BaseCallbackHandler | AsyncCallbackHandler
#: What a component or request accepts as ``callbacks``: a list of handlers or a manager.
Callbacks = Union[Sequence[Any], "BaseCallbackManager", None]


# --- managers: start runs -----------------------------------------------------
LLMRuns = TypeVar("LLMRuns")
ChainRun = TypeVar("ChainRun")
ToolRun = TypeVar("ToolRun")
RetrieverRun = TypeVar("RetrieverRun")


class BaseCallbackManager(_Scope):
    """Handler bookkeeping shared by the sync and async managers."""

    def add_handler(self, handler: Any, inherit: bool = True) -> None:
        if handler not in self.handlers:
            self.handlers.append(handler)
        if inherit and handler not in self.inheritable_handlers:
            self.inheritable_handlers.append(handler)

    def remove_handler(self, handler: Any) -> None:
        for group in (self.handlers, self.inheritable_handlers):
            if handler in group:
                group.remove(handler)

    def set_handlers(self, handlers: Sequence[Any], inherit: bool = True) -> None:
        self.handlers, self.inheritable_handlers = [], []
        for h in handlers:
            self.add_handler(h, inherit)

    def set_handler(self, handler: Any, inherit: bool = True) -> None:
        self.set_handlers([handler], inherit)

    def add_tags(self, tags: Sequence[str], inherit: bool = True) -> None:
        self.tags.extend(t for t in tags if t not in self.tags)
        if inherit:
            self.inheritable_tags.extend(t for t in tags if t not in self.inheritable_tags)

    def remove_tags(self, tags: Sequence[str]) -> None:
        self.tags = [t for t in self.tags if t not in tags]
        self.inheritable_tags = [t for t in self.inheritable_tags if t not in tags]

    def add_metadata(self, metadata: dict[str, Any], inherit: bool = True) -> None:
        self.metadata.update(metadata)
        if inherit:
            self.inheritable_metadata.update(metadata)

    def reads_inputs(self, chat: bool) -> bool:
        """Whether a handler reads the prompts / messages of the LLM runs this manager
        starts (see ``reads_inputs``); a handler that gets chat runs as ``on_llm_start``
        reads them rendered as text."""
        return d.handler_set(self.handlers).plans[
            d.CHAT_MODEL_START if chat else d.LLM_START].reads_inputs

    @property
    def is_async(self) -> bool:
        return any(isinstance(h, AsyncCallbackHandler) for h in self.handlers)

    def copy(self) -> Any:
        return type(self)(
            self.handlers, self.inheritable_handlers, self.parent_run_id,
            tags=self.tags, inheritable_tags=self.inheritable_tags,
            metadata=self.metadata, inheritable_metadata=self.inheritable_metadata,
        )

    @classmethod
    def configure(
        cls,
        inheritable_callbacks: Callbacks = None,
        local_callbacks: Callbacks = None,
        verbose: bool = False,
        inheritable_tags: Sequence[str] | None = None,
        local_tags: Sequence[str] | None = None,
        inheritable_metadata: dict[str, Any] | None = None,
        local_metadata: dict[str, Any] | None = None,
    ) -> Any:
        """The manager for one call: request (inheritable) + constructor (local) callbacks.

        ``inheritable_callbacks`` is what the caller passed for this request, or
        the parent's ``run_manager.get_child()``; ``local_callbacks`` are the
        component's constructor callbacks. ``None`` inside a function decorated
        with ``otel_llm.workflow/agent/tool`` means that run's child manager, so
        what the function starts (an SDK call, another decorated function)
        becomes its child.
        """
        if inheritable_callbacks is None:
            inheritable_callbacks = scoped_parent()
        if isinstance(inheritable_callbacks, BaseCallbackManager):
            src = inheritable_callbacks
            mgr = cls(
                src.handlers, src.inheritable_handlers, src.parent_run_id,
                tags=src.tags, inheritable_tags=src.inheritable_tags,
                metadata=src.metadata, inheritable_metadata=src.inheritable_metadata,
            )
        else:
            inherited = list(inheritable_callbacks or [])
            mgr = cls(inherited, inherited)
        local = (local_callbacks.handlers if isinstance(local_callbacks, BaseCallbackManager)
                 else local_callbacks or [])
        for h in local:
            if h not in mgr.handlers:
                mgr.add_handler(h, inherit=False)
        for h in scoped_handlers():
            mgr.add_handler(h, inherit=True)
        if verbose:
            from otel_llm.callbacks.stdout import StdOutCallbackHandler

            if not any(isinstance(h, StdOutCallbackHandler) for h in mgr.handlers):
                mgr.add_handler(StdOutCallbackHandler(), inherit=False)
        if inheritable_tags:  # most calls bring none: no call then
            mgr.add_tags(inheritable_tags, inherit=True)
        if local_tags:
            mgr.add_tags(local_tags, inherit=False)
        if inheritable_metadata:
            mgr.add_metadata(inheritable_metadata, inherit=True)
        if local_metadata:
            mgr.add_metadata(local_metadata, inherit=False)
        return mgr


class _Manager(BaseCallbackManager, Generic[LLMRuns, ChainRun, ToolRun, RetrieverRun, R]):
    _llm_run: type[Any]
    _chain_run: type[Any]
    _tool_run: type[Any]
    _retriever_run: type[Any]

    def _run(self, cls: type[Any], run_id: UUID | None, parent_run_id: UUID | None,
             handler_set: d.HandlerSet) -> Any:
        return cls(run_id or uuid4(), handler_set, self, parent_run_id)

    def _start_kw(self, run: Any, kwargs: dict[str, Any]) -> dict[str, Any]:
        return {"run_id": run.run_id, "parent_run_id": run.parent_run_id, "tags": self.tags,
                "metadata": self.metadata, **kwargs}

    def _start(self, event: d.Event, calls: list[tuple[Any, tuple[Any, ...]]],
               kwargs: dict[str, Any], result: Any) -> Any:
        raise NotImplementedError

    def _start_many(self, event: d.Event, cls: type[Any], serialized: dict[str, Any],
                    items: Sequence[Any], run_id: UUID | None, kwargs: dict[str, Any]) -> Any:
        handler_set = d.handler_set(self.handlers)
        if len(items) == 1:  # the usual case: one run, the caller's list passed as it is
            run = self._run(cls, run_id, self.parent_run_id, handler_set)
            return self._start(event, [(run, (serialized, items))], kwargs, [run])
        runs = [self._run(cls, run_id if i == 0 else None, self.parent_run_id, handler_set)
                for i in range(len(items))]
        calls = [(run, (serialized, [item])) for run, item in zip(runs, items, strict=True)]
        return self._start(event, calls, kwargs, runs)

    def _start_one(self, event: d.Event, cls: type[Any], args: tuple[Any, ...],
                   run_id: UUID | None, parent_run_id: UUID | None,
                   kwargs: dict[str, Any]) -> Any:
        run = self._run(cls, run_id, parent_run_id or self.parent_run_id,
                        d.handler_set(self.handlers))
        return self._start(event, [(run, args)], kwargs, run)

    # (Typed by assignment, not typing.cast(): a cast is a Python call per run.)
    def on_llm_start(self, serialized: dict[str, Any], prompts: list[str],
                     run_id: UUID | None = None, **kwargs: Any) -> LLMRuns:
        """One run per prompt; ``run_id`` (if given) is used for the first."""
        runs: LLMRuns = self._start_many(d.LLM_START, self._llm_run, serialized, prompts,
                                         run_id, kwargs)
        return runs

    def on_chat_model_start(self, serialized: dict[str, Any], messages: list[list[Any]],
                            run_id: UUID | None = None, **kwargs: Any) -> LLMRuns:
        """One run per message list; ``run_id`` (if given) is used for the first."""
        runs: LLMRuns = self._start_many(d.CHAT_MODEL_START, self._llm_run, serialized,
                                         messages, run_id, kwargs)
        return runs

    def on_chain_start(self, serialized: dict[str, Any] | None, inputs: Any,
                       run_id: UUID | None = None, **kwargs: Any) -> ChainRun:
        run: ChainRun = self._start_one(d.CHAIN_START, self._chain_run,
                                        (serialized or {}, inputs), run_id, None, kwargs)
        return run

    def on_tool_start(self, serialized: dict[str, Any] | None, input_str: str,
                      run_id: UUID | None = None, parent_run_id: UUID | None = None,
                      inputs: dict[str, Any] | None = None, **kwargs: Any) -> ToolRun:
        run: ToolRun = self._start_one(d.TOOL_START, self._tool_run,
                                       (serialized or {}, input_str), run_id,
                                       parent_run_id, {"inputs": inputs, **kwargs})
        return run

    def on_retriever_start(self, serialized: dict[str, Any] | None, query: str,
                           run_id: UUID | None = None, parent_run_id: UUID | None = None,
                           **kwargs: Any) -> RetrieverRun:
        run: RetrieverRun = self._start_one(d.RETRIEVER_START, self._retriever_run,
                                            (serialized or {}, query), run_id,
                                            parent_run_id, kwargs)
        return run

    def on_custom_event(self, name: str, data: Any, run_id: UUID | None = None,
                        **kwargs: Any) -> R:
        """A user event attached to run ``run_id`` (no run is started)."""
        run = self._run(_RunManager, run_id, self.parent_run_id, d.handler_set(self.handlers))
        kw = {"run_id": run.run_id, "tags": self.tags, "metadata": self.metadata, **kwargs}
        done: R = self._start(d.CUSTOM_EVENT, [(run, (name, data))], kw, None)
        return done


class CallbackManager(
    _Manager[list[CallbackManagerForLLMRun], CallbackManagerForChainRun,
             CallbackManagerForToolRun, CallbackManagerForRetrieverRun, None]
):
    """Starts runs from sync code. Async handlers still run (on a shared background loop)."""

    _llm_run = CallbackManagerForLLMRun
    _chain_run = CallbackManagerForChainRun
    _tool_run = CallbackManagerForToolRun
    _retriever_run = CallbackManagerForRetrieverRun

    def _start(self, event: d.Event, calls: list[tuple[Any, tuple[Any, ...]]],
               kwargs: dict[str, Any], result: Any) -> Any:
        for run, args in calls:
            plan = run._set.plans[event]
            if plan.calls:
                d.run_sync(plan, event, args, self._start_kw(run, kwargs))
        return result


class AsyncCallbackManager(
    _Manager[Awaitable[list[AsyncCallbackManagerForLLMRun]],
             Awaitable[AsyncCallbackManagerForChainRun],
             Awaitable[AsyncCallbackManagerForToolRun],
             Awaitable[AsyncCallbackManagerForRetrieverRun], Awaitable[None]]
):
    """Starts runs from async code: every method returns an awaitable."""

    _llm_run = AsyncCallbackManagerForLLMRun
    _chain_run = AsyncCallbackManagerForChainRun
    _tool_run = AsyncCallbackManagerForToolRun
    _retriever_run = AsyncCallbackManagerForRetrieverRun

    async def _start(self, event: d.Event, calls: list[tuple[Any, tuple[Any, ...]]],
                     kwargs: dict[str, Any], result: Any) -> Any:
        if len(calls) == 1:  # the usual case: no gather, inline handlers called directly
            run, args = calls[0]
            plan = run._set.plans[event]
            if plan.inline:
                d.run_sync(plan, event, args, self._start_kw(run, kwargs))
            else:
                await d.run_async(plan, event, args, self._start_kw(run, kwargs))
        elif calls:
            await asyncio.gather(*[d.run_async(run._set.plans[event], event, args,
                                               self._start_kw(run, kwargs))
                                   for run, args in calls])
        return result


# Run managers hand children a manager of their own flavour.
CallbackManagerForChainRun._manager_cls = CallbackManager
CallbackManagerForToolRun._manager_cls = CallbackManager
CallbackManagerForRetrieverRun._manager_cls = CallbackManager
AsyncCallbackManagerForChainRun._manager_cls = AsyncCallbackManager
AsyncCallbackManagerForToolRun._manager_cls = AsyncCallbackManager
AsyncCallbackManagerForRetrieverRun._manager_cls = AsyncCallbackManager
