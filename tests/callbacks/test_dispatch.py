"""Dispatch: error isolation, raise_error, ignore flags, chat fallback, sync/async mixing."""

from __future__ import annotations

import asyncio
import contextvars
import logging
import threading
import time
import uuid
from typing import Any

import pytest

from otel_llm.callbacks import (
    AsyncCallbackHandler,
    AsyncCallbackManager,
    BaseCallbackHandler,
    CallbackManager,
    handler_error_counts,
)
from otel_llm.schema import HumanMessage, LLMResult
from otel_llm.testing.fake import FakeChatModel

from .conftest import AsyncRecorder, Recorder


class Exploding(BaseCallbackHandler):
    def on_chat_model_start(self, *a: Any, **kw: Any) -> None:
        raise RuntimeError("handler bug")

    def on_llm_end(self, *a: Any, **kw: Any) -> None:
        raise RuntimeError("handler bug")


class AsyncExploding(AsyncCallbackHandler):
    async def on_llm_end(self, *a: Any, **kw: Any) -> None:
        raise RuntimeError("async handler bug")


def test_failing_handler_does_not_break_the_run_or_other_handlers(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A raising handler is logged once with its traceback, counted, and the others still run."""
    rec = Recorder()
    model = FakeChatModel(["ok"])
    before = handler_error_counts().get(("Exploding", "on_llm_end"), 0)
    with caplog.at_level(logging.DEBUG, logger="otel_llm.callbacks"):
        for _ in range(3):
            assert model.invoke("q", {"callbacks": [Exploding(), rec]}).content == "ok"
    assert rec.hooks == ["chat_start", "llm_end"] * 3
    assert handler_error_counts()[("Exploding", "on_llm_end")] == before + 3
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING
                and "Exploding.on_llm_end" in r.getMessage()]
    assert len(warnings) <= 1, "repeated failures must not be logged at WARNING each time"


def test_raise_error_propagates_from_sync_handlers() -> None:
    """A handler with raise_error=True makes its exception reach the caller."""

    class Strict(Exploding):
        raise_error = True

    with pytest.raises(RuntimeError, match="handler bug"):
        FakeChatModel(["ok"]).invoke("q", {"callbacks": [Strict()]})


async def test_raise_error_propagates_from_async_handlers_after_others_ran() -> None:
    """In async code a raise_error handler's exception propagates, and the other handlers still ran."""

    class Strict(AsyncExploding):
        raise_error = True

    rec, other = AsyncRecorder(), AsyncRecorder()
    with pytest.raises(RuntimeError, match="async handler bug"):
        await FakeChatModel(["ok"]).ainvoke("q", {"callbacks": [rec, Strict(), other]})
    assert rec.events[-1] == "llm_end" and other.events[-1] == "llm_end"


async def test_async_handler_failure_is_swallowed_by_default() -> None:
    """An async handler raising without raise_error does not reach the caller."""
    rec = AsyncRecorder()
    msg = await FakeChatModel(["ok"]).ainvoke("q", {"callbacks": [AsyncExploding(), rec]})
    assert msg.content == "ok" and rec.events == ["chat_start", "llm_end"]


def test_ignore_flags_skip_event_families() -> None:
    """ignore_llm drops LLM events, ignore_chain drops chain events, others still arrive."""

    class NoLLM(Recorder):
        ignore_llm = True

    class NoChain(Recorder):
        @property
        def ignore_chain(self) -> bool:  # LangChain declares the flags as properties
            return True

    no_llm, no_chain = NoLLM(), NoChain()
    mgr = CallbackManager([no_llm, no_chain], [no_llm, no_chain])
    chain = mgr.on_chain_start({}, {})
    [llm] = chain.get_child().on_llm_start({}, ["p"])
    llm.on_llm_end(LLMResult([]))
    chain.on_chain_end({})
    assert no_llm.hooks == ["chain_start", "chain_end"]
    assert no_chain.hooks == ["llm_start", "llm_end"]


def test_handler_without_chat_hook_gets_llm_start_with_rendered_messages() -> None:
    """As in LangChain, chat runs reach on_llm_start (messages as a prompt string) when needed."""
    prompts: list[list[str]] = []

    class OnlyLLMStart(BaseCallbackHandler):
        def on_llm_start(self, serialized: Any, p: list[str], **kw: Any) -> None:
            prompts.append(p)

    class LangChainStyle(OnlyLLMStart):
        def on_chat_model_start(self, *a: Any, **kw: Any) -> None:
            raise NotImplementedError  # what langchain_core's base class does

    FakeChatModel(["x"]).invoke([HumanMessage(content="hi")],
                                {"callbacks": [OnlyLLMStart(), LangChainStyle()]})
    assert prompts == [["Human: hi"], ["Human: hi"]]


def test_async_handler_called_from_sync_code_runs_to_completion_on_one_shared_loop() -> None:
    """Sync code awaits async hooks fully, with the caller's context, on one reused thread."""
    var: contextvars.ContextVar[str] = contextvars.ContextVar("var", default="unset")
    seen: list[tuple[str, int]] = []

    class Slow(AsyncCallbackHandler):
        async def on_llm_end(self, *a: Any, **kw: Any) -> None:
            await asyncio.sleep(0.05)
            seen.append((var.get(), threading.get_ident()))

    var.set("caller")
    model = FakeChatModel(["x"])
    for _ in range(3):
        model.invoke("q", {"callbacks": [Slow()]})
    assert [v for v, _ in seen] == ["caller"] * 3
    assert len({t for _, t in seen}) == 1, "one background loop, not one per call"
    assert seen[0][1] != threading.get_ident()


async def test_sync_handler_in_async_code_does_not_block_the_loop() -> None:
    """A blocking sync handler runs off-loop: a ticker task keeps ticking meanwhile."""

    class Blocking(BaseCallbackHandler):
        def on_llm_end(self, *a: Any, **kw: Any) -> None:
            time.sleep(0.3)

    ticks = 0
    stop = asyncio.Event()

    async def ticker() -> None:
        nonlocal ticks
        while not stop.is_set():
            ticks += 1
            await asyncio.sleep(0.01)

    t = asyncio.create_task(ticker())
    await asyncio.sleep(0)
    await FakeChatModel(["x"]).ainvoke("q", {"callbacks": [Blocking()]})
    stop.set()
    await t
    assert ticks >= 15, f"event loop was blocked: only {ticks} ticks in 0.3 s"


async def test_run_inline_sync_handler_runs_on_the_loop_thread_with_context() -> None:
    """run_inline handlers are called directly on the loop thread, in order, seeing contextvars."""
    var: contextvars.ContextVar[int] = contextvars.ContextVar("v", default=0)
    seen: list[tuple[int, int]] = []

    class Inline(BaseCallbackHandler):
        run_inline = True

        def on_llm_new_token(self, token: str, **kw: Any) -> None:
            seen.append((var.get(), threading.get_ident()))

    var.set(7)
    await FakeChatModel(["a b c"], streaming=True).ainvoke("q", {"callbacks": [Inline()]})
    assert seen == [(7, threading.get_ident())] * 3


async def test_off_loop_sync_handler_sees_the_callers_context() -> None:
    """Sync handlers run in the executor get a copy of the caller's contextvars."""
    var: contextvars.ContextVar[str] = contextvars.ContextVar("v2", default="unset")
    seen: list[str] = []

    class Reader(BaseCallbackHandler):
        def on_llm_end(self, *a: Any, **kw: Any) -> None:
            seen.append(var.get())

    var.set("request-42")
    await FakeChatModel(["x"]).ainvoke("q", {"callbacks": [Reader()]})
    assert seen == ["request-42"]


async def test_async_handlers_are_awaited_concurrently() -> None:
    """Two async handlers run at the same time: each waits for the other to have started,
    which deadlocks (and times out) if they were awaited one after the other."""
    started = 0
    both = asyncio.Event()

    class Rendezvous(AsyncCallbackHandler):
        async def on_llm_end(self, *a: Any, **kw: Any) -> None:
            nonlocal started
            started += 1
            if started == 2:
                both.set()
            await both.wait()

    mgr = AsyncCallbackManager([Rendezvous(), Rendezvous()])
    [run] = await mgr.on_llm_start({}, ["p"])
    await asyncio.wait_for(run.on_llm_end(LLMResult([])), timeout=60)
    assert started == 2


async def test_handlers_that_override_nothing_cost_nothing() -> None:
    """Hooks left as the base no-op are not called at all (they are not in the plan)."""
    calls = 0

    class Counting(BaseCallbackHandler):
        def __getattribute__(self, name: str) -> Any:
            nonlocal calls
            if name.startswith("on_"):
                calls += 1
            return super().__getattribute__(name)

    mgr = AsyncCallbackManager([Counting()])
    [run] = await mgr.on_llm_start({}, ["p"])
    for _ in range(100):
        await run.on_llm_new_token("t")
    assert calls == 0


class _Tokens(BaseCallbackHandler):
    def __init__(self, fail_on: str = "", raise_error: bool = False) -> None:
        self.seen: list[tuple[str, Any, Any, Any, Any]] = []
        self.fail_on = fail_on
        self.raise_error = raise_error

    def on_llm_new_token(self, token: str, *, chunk: Any = None, run_id: Any = None,
                         parent_run_id: Any = None, tags: Any = None, **kw: Any) -> None:
        if token == self.fail_on:
            raise RuntimeError(f"token handler bug on {token!r}")
        self.seen.append((token, chunk, run_id, parent_run_id, tags))


def _emit_all(emitter: Any, tokens: list[str]) -> None:
    """What a stream wrapper does with the emitter, token by token."""
    for token in tokens:
        try:
            emitter.emit(token, chunk=f"chunk-{token}")
        except Exception as exc:
            emitter.failed(exc, token, f"chunk-{token}")


@pytest.mark.parametrize("n_handlers", [1, 2])
def test_token_emitter_delivers_what_on_llm_new_token_delivers(n_handlers: int) -> None:
    """The run's pre-bound token emitter (one handler: its hook with the ids bound; more:
    the manager's hook) gives handlers exactly the arguments ``on_llm_new_token`` gives,
    and a failing handler is swallowed and counted as in every other dispatch."""
    parent = uuid.uuid4()
    direct = [_Tokens(fail_on="b") for _ in range(n_handlers)]
    bound = [_Tokens(fail_on="b") for _ in range(n_handlers)]
    [run_direct] = CallbackManager(direct, parent_run_id=parent, tags=["t"]).on_llm_start({}, ["p"])
    [run_bound] = CallbackManager(bound, parent_run_id=parent, tags=["t"]).on_llm_start({}, ["p"])
    before = handler_error_counts().get(("_Tokens", "on_llm_new_token"), 0)
    for token in ["a", "b", "c"]:
        run_direct.on_llm_new_token(token, chunk=f"chunk-{token}")
    _emit_all(run_bound.token_emitter(), ["a", "b", "c"])
    for d, b in zip(direct, bound, strict=True):
        assert [s[:2] + s[3:] for s in d.seen] == [s[:2] + s[3:] for s in b.seen] == [
            ("a", "chunk-a", parent, ["t"]), ("c", "chunk-c", parent, ["t"])]
        assert {s[2] for s in b.seen} == {run_bound.run_id}
    # "b" fails once per handler on each path
    assert handler_error_counts()[("_Tokens", "on_llm_new_token")] == before + 2 * n_handlers


def test_token_emitter_raises_for_raise_error_handlers_and_is_none_without_listeners() -> None:
    """A raise_error handler's token failure reaches the stream's caller through the
    emitter; a run nobody listens to for tokens has no emitter (no token events built)."""
    [run] = CallbackManager([_Tokens(fail_on="x", raise_error=True)]).on_llm_start({}, ["p"])
    with pytest.raises(RuntimeError, match="token handler bug"):
        _emit_all(run.token_emitter(), ["x"])

    class EndOnly(BaseCallbackHandler):
        def on_llm_end(self, *a: Any, **kw: Any) -> None:
            pass

    [quiet] = CallbackManager([EndOnly()]).on_llm_start({}, ["p"])
    assert quiet.token_emitter() is None
