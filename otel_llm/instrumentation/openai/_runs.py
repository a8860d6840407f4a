"""Thin sync and async emitters of one call's events.

Everything that can be shared lives in :class:`~._call.Call`; these classes
only call the run manager, plainly or with ``await``. Our own steps are
guarded (logged, never raised); handler exceptions follow the dispatcher's
policy (``raise_error`` handlers raise into the caller, as in LangChain).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from otel_llm.callbacks import (
    AsyncCallbackManager,
    AsyncCallbackManagerForLLMRun,
    CallbackManager,
    CallbackManagerForLLMRun,
)
from otel_llm.callbacks._dispatch import handler_set
from otel_llm.callbacks.manager import TokenEmitter
from otel_llm.instrumentation.openai._accumulators import Pending
from otel_llm.instrumentation.openai._call import Call, StreamAbandonedError, internal_error
from otel_llm.schema import LLMResult

__all__ = ["AsyncRun", "SyncRun", "emit_pending"]

_ABANDONED = "stream dropped before it was read to the end or closed"


def _result(call: Call, response: Any) -> LLMResult:
    try:
        return call.result(response)
    except Exception as exc:  # a bug of ours must still end the run
        internal_error("result", exc)
        return LLMResult(generations=[[]], llm_output={})


def emit_pending(emitter: TokenEmitter | None, pending: Pending) -> None:
    """Emit the tokens a fold left in ``pending`` (the caller empties it)."""
    if emitter is not None:
        emit = emitter.emit
        for text, token_chunk in pending:
            try:
                emit(text, chunk=token_chunk)
            except Exception as exc:
                emitter.failed(exc, text, token_chunk)


class SyncRun:
    __slots__ = ("call", "run")

    def __init__(self, call: Call) -> None:
        self.call = call
        self.run: CallbackManagerForLLMRun | None = None

    def start(self, manager: CallbackManager,
              event: tuple[dict[str, Any], list[Any], dict[str, Any]]) -> None:
        serialized, inputs, kwargs = event
        start = manager.on_chat_model_start if self.call.is_chat else manager.on_llm_start
        self.run = start(serialized, inputs, **kwargs)[0]

    def token_emitter(self) -> TokenEmitter | None:
        """The started run's token hook, bound once per stream (None: nobody listens)."""
        assert self.run is not None, "streams are wrapped only after their run started"
        return self.run.token_emitter()

    def end(self, response: Any = None) -> None:
        """End with ``response``, or (``None``) with what the stream delivered so far."""
        if self.run is not None and self.call.claim_end():
            self.run.on_llm_end(_result(self.call, response))

    def fail(self, error: BaseException) -> None:
        if self.run is not None and self.call.claim_end():
            self.run.on_llm_error(error)

    def abandon(self) -> None:
        """``weakref.finalize`` callback: the caller dropped the stream."""
        try:
            self.fail(StreamAbandonedError(_ABANDONED))
        except Exception as exc:
            internal_error("abandon", exc)


class AsyncRun:
    __slots__ = ("call", "run")

    def __init__(self, call: Call) -> None:
        self.call = call
        self.run: AsyncCallbackManagerForLLMRun | None = None

    async def start(self, manager: AsyncCallbackManager,
                    event: tuple[dict[str, Any], list[Any], dict[str, Any]]) -> None:
        serialized, inputs, kwargs = event
        start = manager.on_chat_model_start if self.call.is_chat else manager.on_llm_start
        self.run = (await start(serialized, inputs, **kwargs))[0]

    def token_emitter(self) -> Callable[..., Awaitable[None]]:
        assert self.run is not None, "streams are wrapped only after their run started"
        return self.run.on_llm_new_token

    async def end(self, response: Any = None) -> None:
        if self.run is not None and self.call.claim_end():
            await self.run.on_llm_end(_result(self.call, response))

    async def fail(self, error: BaseException) -> None:
        if self.run is not None and self.call.claim_end():
            await self.run.on_llm_error(error)

    def abandon(self) -> None:
        """``weakref.finalize`` callback; runs outside any event loop, so it emits synchronously.

        A sync run manager for the same run delivers the error: sync handlers are
        called directly, async ones on the callbacks' shared background loop.
        """
        run = self.run
        try:
            if run is None or not self.call.claim_end():
                return
            sync = CallbackManagerForLLMRun(run.run_id, handler_set(run.handlers), run,
                                            run.parent_run_id)
            sync.on_llm_error(StreamAbandonedError(_ABANDONED))
        except Exception as exc:
            internal_error("abandon", exc)
