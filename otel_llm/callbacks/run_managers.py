"""Run managers: what a started run's manager does.

A manager in :mod:`otel_llm.callbacks.manager` starts a run and hands back one of
these; its ``on_*_end`` / ``on_*_error`` / ``on_llm_new_token`` calls reach that
run's handlers with the run's ``run_id``, ``parent_run_id`` and ``tags`` added, and
``get_child()`` gives the manager for the runs it starts. They live apart from the
managers that start runs because they are a job of their own and hold the per-token
hot path (``CallbackManagerForLLMRun.on_llm_new_token`` and ``token_emitter``).

:class:`_Scope` (handlers, tags and metadata) is here because both the run managers
and :class:`~otel_llm.callbacks.manager.BaseCallbackManager` build on it: the
managers import this module, never the other way round (the children's manager
class is set on each run manager by :mod:`~otel_llm.callbacks.manager`).

Each class is written once and specialised twice: the sync run managers call
handlers directly, the async ones return awaitables. Only ``_emit`` differs.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any, Generic, NamedTuple, TypeVar
from uuid import UUID

from otel_llm.callbacks import _dispatch as d

if TYPE_CHECKING:
    from otel_llm.callbacks.manager import BaseCallbackManager

__all__ = [
    "AsyncCallbackManagerForChainRun",
    "AsyncCallbackManagerForLLMRun",
    "AsyncCallbackManagerForRetrieverRun",
    "AsyncCallbackManagerForToolRun",
    "CallbackManagerForChainRun",
    "CallbackManagerForLLMRun",
    "CallbackManagerForRetrieverRun",
    "CallbackManagerForToolRun",
    "TokenEmitter",
]

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
