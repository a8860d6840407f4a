"""Callback managers: who gets which event, with which run ids.

Semantics are LangChain's. A component's *constructor* callbacks are local:
they see the component's own runs only. *Request* callbacks are inheritable:
they reach every child run through ``run_manager.get_child()``. ``verbose=True``
adds a :class:`StdOutCallbackHandler`. Handlers scoped with
:func:`otel_llm.callbacks.scoped_callbacks` (e.g. the token counter) join every
manager configured inside the scope.

Each class is written once and specialised twice: the sync managers return
results and run managers directly, the async ones return awaitables. Only the
final step (``_emit`` / ``_start``) differs.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Generic, NamedTuple, TypeVar, Union
from uuid import UUID, uuid4

from otel_llm.callbacks import _dispatch as d
from otel_llm.callbacks.base import AsyncCallbackHandler, BaseCallbackHandler
from otel_llm.callbacks.context import scoped_handlers, scoped_parent

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

R = TypeVar("R")  # what an event method returns: None (sync) or Awaitable[None] (async)


class _Scope:
    """Handlers, tags and metadata, each split into inheritable and local-only."""

    __slots__ = ("handlers", "inheritable_handlers", "inheritable_metadata",
                 "inheritable_tags", "metadata", "parent_run_id", "tags")

    def __init__(
        self,
        handlers: Sequence[Any] | None = None,
        inheritable_handlers: Sequence[Any] | None = None,
        parent_run_id: UUID | None = None,
        *,
        tags: Sequence[str] | None = None,
        inheritable_tags: Sequence[str] | None = None,
        metadata: dict[str, Any] | None = None,
        inheritable_metadata: dict[str, Any] | None = None,
    ) -> None:
        self.handlers: list[Any] = list(handlers or [])
        self.inheritable_handlers: list[Any] = list(inheritable_handlers or [])
        self.parent_run_id = parent_run_id
        self.tags: list[str] = list(tags or [])
        self.inheritable_tags: list[str] = list(inheritable_tags or [])
        self.metadata: dict[str, Any] = dict(metadata or {})
        self.inheritable_metadata: dict[str, Any] = dict(inheritable_metadata or {})

    def _child_scope(self, parent_run_id: UUID | None, tag: str | None = None) -> dict[str, Any]:
        tags = [*self.inheritable_tags, tag] if tag else self.inheritable_tags
        return {
            "handlers": self.inheritable_handlers,
            "inheritable_handlers": self.inheritable_handlers,
            "parent_run_id": parent_run_id,
            "tags": tags,
            "inheritable_tags": tags,
            "metadata": self.inheritable_metadata,
            "inheritable_metadata": self.inheritable_metadata,
        }


# --- run managers: one per run ----------------------------------------------
class _RunManager(_Scope, Generic[R]):
    """Events of one run; ``run_id``/``parent_run_id``/``tags`` are added to every call."""

    __slots__ = ("_set", "run_id")

    def __init__(self, run_id: UUID, handler_set: d.HandlerSet, scope: _Scope,
                 parent_run_id: UUID | None) -> None:
        # Shares the starting manager's lists (as LangChain does): runs are many, copies add up.
        self.handlers = scope.handlers
        self.inheritable_handlers = scope.inheritable_handlers
        self.tags = scope.tags
        self.inheritable_tags = scope.inheritable_tags
        self.metadata = scope.metadata
        self.inheritable_metadata = scope.inheritable_metadata
        self.parent_run_id = parent_run_id
        self.run_id = run_id
        self._set = handler_set

    def _kw(self, kwargs: dict[str, Any]) -> dict[str, Any]:
        return {"run_id": self.run_id, "parent_run_id": self.parent_run_id, "tags": self.tags,
                **kwargs}

    def _emit(self, event: d.Event, args: tuple[Any, ...], kwargs: dict[str, Any]) -> R:
        raise NotImplementedError

    def on_text(self, text: str, **kwargs: Any) -> R:
        return self._emit(d.TEXT, (text,), self._kw(kwargs))

    def on_retry(self, retry_state: Any, **kwargs: Any) -> R:
        return self._emit(d.RETRY, (retry_state,), self._kw(kwargs))


class _SyncEmit:
    _set: d.HandlerSet

    def _emit(self, event: d.Event, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        plan = self._set.plans[event]
        if plan.calls:
            d.run_sync(plan, event, args, kwargs)


class _AsyncEmit:
    _set: d.HandlerSet

    async def _emit(self, event: d.Event, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        plan = self._set.plans[event]
        if plan.inline:  # sync run_inline handlers only: no coroutine of the dispatcher's
            d.run_sync(plan, event, args, kwargs)
        else:
            await d.run_async(plan, event, args, kwargs)


class _LLMRun(_RunManager[R]):
    def on_llm_new_token(self, token: str, *, chunk: Any = None, **kwargs: Any) -> R:
        kw = {"chunk": chunk, "run_id": self.run_id, "parent_run_id": self.parent_run_id,
              "tags": self.tags}
        if kwargs:
            kw.update(kwargs)
        return self._emit(d.LLM_NEW_TOKEN, (token,), kw)

    def on_llm_end(self, response: Any, **kwargs: Any) -> R:
        kw = {"run_id": self.run_id, "parent_run_id": self.parent_run_id, "tags": self.tags}
        if kwargs:
            kw.update(kwargs)
        return self._emit(d.LLM_END, (response,), kw)

    def on_llm_error(self, error: BaseException, **kwargs: Any) -> R:
        return self._emit(d.LLM_ERROR, (error,), self._kw(kwargs))


class _ParentRun(_RunManager[R]):
    """A run that can have children (chains, tools, retrievers)."""

    _manager_cls: type[BaseCallbackManager]

    def get_child(self, tag: str | None = None) -> Any:
        """A manager for child runs: inheritable handlers only, parented to this run."""
        return self._manager_cls(**self._child_scope(self.run_id, tag))


class _ChainRun(_ParentRun[R]):
    def on_chain_end(self, outputs: Any, **kwargs: Any) -> R:
        return self._emit(d.CHAIN_END, (outputs,), self._kw(kwargs))

    def on_chain_error(self, error: BaseException, **kwargs: Any) -> R:
        return self._emit(d.CHAIN_ERROR, (error,), self._kw(kwargs))

    def on_agent_action(self, action: Any, **kwargs: Any) -> R:
        return self._emit(d.AGENT_ACTION, (action,), self._kw(kwargs))

    def on_agent_finish(self, finish: Any, **kwargs: Any) -> R:
        return self._emit(d.AGENT_FINISH, (finish,), self._kw(kwargs))


class _ToolRun(_ParentRun[R]):
    def on_tool_end(self, output: Any, **kwargs: Any) -> R:
        return self._emit(d.TOOL_END, (output,), self._kw(kwargs))

    def on_tool_error(self, error: BaseException, **kwargs: Any) -> R:
        return self._emit(d.TOOL_ERROR, (error,), self._kw(kwargs))


class _RetrieverRun(_ParentRun[R]):
    def on_retriever_end(self, documents: Sequence[Any], **kwargs: Any) -> R:
        return self._emit(d.RETRIEVER_END, (documents,), self._kw(kwargs))

    def on_retriever_error(self, error: BaseException, **kwargs: Any) -> R:
        return self._emit(d.RETRIEVER_ERROR, (error,), self._kw(kwargs))


class CallbackManagerForLLMRun(_SyncEmit, _LLMRun[None]):
    __slots__ = ("_token_plan",)
    _token_plan: d.Plan

    def on_llm_new_token(self, token: str, *, chunk: Any = None, **kwargs: Any) -> None:
        # The per-token hot path, unrolled: the plan looked up once per run, keyword
        # arguments passed directly (no dict).
        try:
            plan = self._token_plan
        except AttributeError:
            plan = self._token_plan = self._set.plans[d.LLM_NEW_TOKEN]
        if not plan.calls:
            return
        if kwargs or not plan.plain:
            d.run_sync(plan, d.LLM_NEW_TOKEN, (token,), self._kw({"chunk": chunk, **kwargs}))
            return
        run_id, parent_run_id, tags = self.run_id, self.parent_run_id, self.tags
        for call in plan.calls:
            try:
                call.fn(token, chunk=chunk, run_id=run_id, parent_run_id=parent_run_id, tags=tags)
            except Exception as exc:
                kw = self._kw({"chunk": chunk})
                d.after_sync_error(call, d.LLM_NEW_TOKEN, (token,), kw, exc)

    def token_emitter(self) -> TokenEmitter | None:
        """This run's ``on_llm_new_token``, bound once for a stream's many tokens.

        ``None`` when no handler listens (the caller then builds no token event at
        all). With one plain handler, ``emit`` is that handler's hook with the run's
        ids pre-bound (a ``functools.partial``: no manager frame per token) and
        ``failed(exc, token, chunk)`` applies the dispatcher's error policy to what it
        raised; otherwise ``emit`` is :meth:`on_llm_new_token`, which settles errors
        itself (what still escapes it is a ``raise_error`` handler's: ``failed``
        re-raises it).
        """
        plan = self._set.plans[d.LLM_NEW_TOKEN]
        if not plan.calls:
            return None
        chunks = any(getattr(c.handler, "reads_token_chunk", True) for c in plan.calls)
        if not plan.plain or len(plan.calls) > 1:
            return TokenEmitter(self.on_llm_new_token, _reraise, chunks)
        call = plan.calls[0]

        def failed(exc: Exception, token: str, chunk: Any) -> None:
            d.after_sync_error(call, d.LLM_NEW_TOKEN, (token,), self._kw({"chunk": chunk}), exc)

        return TokenEmitter(functools.partial(call.fn, run_id=self.run_id,
                                              parent_run_id=self.parent_run_id, tags=self.tags),
                            failed, chunks)


class TokenEmitter(NamedTuple):
    """``emit(token, chunk=chunk)`` per token; ``failed(exc, token, chunk)`` if it raised;
    ``chunks``: some handler reads ``chunk`` (see ``reads_token_chunk``)."""

    emit: Callable[..., None]
    failed: Callable[[Exception, str, Any], None]
    chunks: bool = True


def _reraise(exc: Exception, token: str, chunk: Any) -> None:
    raise exc


class CallbackManagerForChainRun(_SyncEmit, _ChainRun[None]):
    pass


class CallbackManagerForToolRun(_SyncEmit, _ToolRun[None]):
    pass


class CallbackManagerForRetrieverRun(_SyncEmit, _RetrieverRun[None]):
    pass


class AsyncCallbackManagerForLLMRun(_AsyncEmit, _LLMRun[Awaitable[None]]):
    pass


class AsyncCallbackManagerForChainRun(_AsyncEmit, _ChainRun[Awaitable[None]]):
    pass


class AsyncCallbackManagerForToolRun(_AsyncEmit, _ToolRun[Awaitable[None]]):
    pass


class AsyncCallbackManagerForRetrieverRun(_AsyncEmit, _RetrieverRun[Awaitable[None]]):
    pass


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
