"""The LangChain callback handlers that forward every LangChain event to our handlers.

Both are ``run_inline``: LangChain then calls them in the caller's context, in
order, on the caller's thread or event loop. That is what makes them cheap and
what lets an LLM run's start reach the SDK call that follows (see
``_ownership``). Each hook is one line: :class:`~._bridge.Bridge` decides what
to dispatch, ``run_sync`` / ``run_async`` dispatch it.

``raise_error`` is true so that one of *our* handlers with ``raise_error =
True`` can stop a LangChain run, as it would in our own managers; every other
handler failure is logged and counted by our dispatch and never reaches
LangChain.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from langchain_core.callbacks import AsyncCallbackHandler as _LCAsyncHandler
from langchain_core.callbacks import BaseCallbackHandler as _LCHandler

from otel_llm.callbacks import _dispatch as d
from otel_llm.integrations.langchain._bridge import Bridge, Dispatch

__all__ = ["AsyncLangChainCallbackHandler", "LangChainCallbackHandler", "LangChainForwarder"]


class LangChainForwarder(_LCHandler):
    """What both forwarders share; ``instrument_langchain`` attaches none to a run that has one."""

    run_inline = True
    raise_error = True

    def __init__(self, callbacks: Sequence[Any]) -> None:
        self._bridge = Bridge(list(callbacks))

    @property
    def callbacks(self) -> tuple[Any, ...]:
        """Our handlers (otel_llm ``BaseCallbackHandler`` / ``AsyncCallbackHandler`` instances)."""
        return self._bridge.handlers

    @property
    def open_runs(self) -> int:
        """Runs started and not yet ended (bounded)."""
        return len(self._bridge.runs)

    def __repr__(self) -> str:
        names = ", ".join(type(h).__name__ for h in self._bridge.handlers)
        return f"{type(self).__name__}([{names}])"


def _run(job: Dispatch | None) -> None:
    if job is not None:
        d.run_sync(job.plan, job.event, job.args, job.kwargs)


class LangChainCallbackHandler(LangChainForwarder):
    """Forwards LangChain's events to ``callbacks``, synchronously.

    Works in sync and async LangChain code. Our async handlers run to
    completion on the shared background loop; in async apps with async or
    blocking handlers prefer :class:`AsyncLangChainCallbackHandler`.
    """

    def _start(self, job: Dispatch | None, kwargs: dict[str, Any]) -> None:
        try:
            _run(job)
        except BaseException:
            self._bridge.abort(kwargs.get("run_id"))
            raise

    def on_llm_start(self, *args: Any, **kwargs: Any) -> None:
        self._start(self._bridge.start(d.LLM_START, args, kwargs), kwargs)

    def on_chat_model_start(self, *args: Any, **kwargs: Any) -> None:
        self._start(self._bridge.start(d.CHAT_MODEL_START, args, kwargs), kwargs)

    def on_llm_new_token(self, *args: Any, **kwargs: Any) -> None:
        _run(self._bridge.token(args, kwargs))

    def on_stream_event(self, *args: Any, **kwargs: Any) -> None:
        _run(self._bridge.stream_event(args, kwargs))

    def on_llm_end(self, *args: Any, **kwargs: Any) -> None:
        _run(self._bridge.llm_end(args, kwargs))

    def on_llm_error(self, *args: Any, **kwargs: Any) -> None:
        _run(self._bridge.end(d.LLM_ERROR, args, kwargs))

    def on_chain_start(self, *args: Any, **kwargs: Any) -> None:
        self._start(self._bridge.start(d.CHAIN_START, args, kwargs), kwargs)

    def on_chain_end(self, *args: Any, **kwargs: Any) -> None:
        _run(self._bridge.end(d.CHAIN_END, args, kwargs))

    def on_chain_error(self, *args: Any, **kwargs: Any) -> None:
        _run(self._bridge.end(d.CHAIN_ERROR, args, kwargs))

    def on_tool_start(self, *args: Any, **kwargs: Any) -> None:
        self._start(self._bridge.start(d.TOOL_START, args, kwargs), kwargs)

    def on_tool_end(self, *args: Any, **kwargs: Any) -> None:
        _run(self._bridge.end(d.TOOL_END, args, kwargs))

    def on_tool_error(self, *args: Any, **kwargs: Any) -> None:
        _run(self._bridge.end(d.TOOL_ERROR, args, kwargs))

    def on_retriever_start(self, *args: Any, **kwargs: Any) -> None:
        self._start(self._bridge.start(d.RETRIEVER_START, args, kwargs), kwargs)

    def on_retriever_end(self, *args: Any, **kwargs: Any) -> None:
        _run(self._bridge.end(d.RETRIEVER_END, args, kwargs))

    def on_retriever_error(self, *args: Any, **kwargs: Any) -> None:
        _run(self._bridge.end(d.RETRIEVER_ERROR, args, kwargs))

    def on_agent_action(self, *args: Any, **kwargs: Any) -> None:
        _run(self._bridge.event(d.AGENT_ACTION, args, kwargs))

    def on_agent_finish(self, *args: Any, **kwargs: Any) -> None:
        _run(self._bridge.event(d.AGENT_FINISH, args, kwargs))

    def on_text(self, *args: Any, **kwargs: Any) -> None:
        _run(self._bridge.event(d.TEXT, args, kwargs))

    def on_retry(self, *args: Any, **kwargs: Any) -> None:
        _run(self._bridge.event(d.RETRY, args, kwargs))

    def on_custom_event(self, *args: Any, **kwargs: Any) -> None:
        _run(self._bridge.event(d.CUSTOM_EVENT, args, kwargs))


async def _arun(job: Dispatch | None) -> None:
    if job is not None:
        await d.run_async(job.plan, job.event, job.args, job.kwargs)


class AsyncLangChainCallbackHandler(LangChainForwarder, _LCAsyncHandler):
    """Forwards LangChain's events to ``callbacks`` from async LangChain code.

    Our async handlers are awaited on the caller's loop, sync ones without
    ``run_inline`` run off the loop: our async managers' semantics. Meant for
    ``ainvoke``/``astream``/``abatch``/LangGraph; in sync code LangChain runs an
    async handler in a new event loop per event, so use
    :class:`LangChainCallbackHandler` there.
    """

    async def _start(self, job: Dispatch | None, kwargs: dict[str, Any]) -> None:
        try:
            await _arun(job)
        except BaseException:
            self._bridge.abort(kwargs.get("run_id"))
            raise

    async def on_llm_start(self, *args: Any, **kwargs: Any) -> None:
        await self._start(self._bridge.start(d.LLM_START, args, kwargs), kwargs)

    async def on_chat_model_start(self, *args: Any, **kwargs: Any) -> None:
        await self._start(self._bridge.start(d.CHAT_MODEL_START, args, kwargs), kwargs)

    async def on_llm_new_token(self, *args: Any, **kwargs: Any) -> None:
        await _arun(self._bridge.token(args, kwargs))

    async def on_stream_event(self, *args: Any, **kwargs: Any) -> None:
        await _arun(self._bridge.stream_event(args, kwargs))

    async def on_llm_end(self, *args: Any, **kwargs: Any) -> None:
        await _arun(self._bridge.llm_end(args, kwargs))

    async def on_llm_error(self, *args: Any, **kwargs: Any) -> None:
        await _arun(self._bridge.end(d.LLM_ERROR, args, kwargs))

    async def on_chain_start(self, *args: Any, **kwargs: Any) -> None:
        await self._start(self._bridge.start(d.CHAIN_START, args, kwargs), kwargs)

    async def on_chain_end(self, *args: Any, **kwargs: Any) -> None:
        await _arun(self._bridge.end(d.CHAIN_END, args, kwargs))

    async def on_chain_error(self, *args: Any, **kwargs: Any) -> None:
        await _arun(self._bridge.end(d.CHAIN_ERROR, args, kwargs))

    async def on_tool_start(self, *args: Any, **kwargs: Any) -> None:
        await self._start(self._bridge.start(d.TOOL_START, args, kwargs), kwargs)

    async def on_tool_end(self, *args: Any, **kwargs: Any) -> None:
        await _arun(self._bridge.end(d.TOOL_END, args, kwargs))

    async def on_tool_error(self, *args: Any, **kwargs: Any) -> None:
        await _arun(self._bridge.end(d.TOOL_ERROR, args, kwargs))

    async def on_retriever_start(self, *args: Any, **kwargs: Any) -> None:
        await self._start(self._bridge.start(d.RETRIEVER_START, args, kwargs), kwargs)

    async def on_retriever_end(self, *args: Any, **kwargs: Any) -> None:
        await _arun(self._bridge.end(d.RETRIEVER_END, args, kwargs))

    async def on_retriever_error(self, *args: Any, **kwargs: Any) -> None:
        await _arun(self._bridge.end(d.RETRIEVER_ERROR, args, kwargs))

    async def on_agent_action(self, *args: Any, **kwargs: Any) -> None:
        await _arun(self._bridge.event(d.AGENT_ACTION, args, kwargs))

    async def on_agent_finish(self, *args: Any, **kwargs: Any) -> None:
        await _arun(self._bridge.event(d.AGENT_FINISH, args, kwargs))

    async def on_text(self, *args: Any, **kwargs: Any) -> None:
        await _arun(self._bridge.event(d.TEXT, args, kwargs))

    async def on_retry(self, *args: Any, **kwargs: Any) -> None:
        await _arun(self._bridge.event(d.RETRY, args, kwargs))

    async def on_custom_event(self, *args: Any, **kwargs: Any) -> None:
        await _arun(self._bridge.event(d.CUSTOM_EVENT, args, kwargs))
