"""instrument_langchain(): every LangChain run reaches our handlers (LangChain handlers themselves)
without code changes, once, and never at the cost of the user's chain (failing handlers are
isolated)."""

from __future__ import annotations

import asyncio
import logging
import threading
from typing import Any

import pytest

from otel_llm import AsyncCallbackHandler, get_openai_callback
from otel_llm.callbacks import BaseCallbackHandler
from otel_llm.instrumentation.openai import _suppress
from otel_llm.integrations.langchain import (
    instrument_langchain,
    uninstrument_langchain,
)
from otel_llm.integrations.langchain._instrument import installed
from otel_llm.integrations.langchain._llm_runs import open_runs
from otel_llm.telemetry import OpenTelemetryCallbackHandler
from otel_llm.testing import InMemoryTelemetry

from .chains import prompt_model_parser
from .conftest import ModelFactory
from .trees import assert_one_tree, edges

SEQ = "invoke_workflow RunnableSequence"


def test_instrument_attaches_to_every_run_and_uninstrument_stops_it(
        otel: InMemoryTelemetry, chat_model: ModelFactory) -> None:
    """With instrument_langchain, a chain invoked with no callbacks gives its full tree;
    after uninstrument_langchain, new runs give nothing."""
    chain = prompt_model_parser(chat_model())
    instrument_langchain([otel.handler(step_spans=True)])
    chain.invoke({"topic": "roses"})
    spans = otel.spans()
    assert_one_tree(spans)
    assert ("chat gpt-4o-mini+len=5", SEQ) in edges(spans)
    assert len(spans) == 4
    uninstrument_langchain()
    chain.invoke({"topic": "roses"})
    assert len(otel.spans()) == 4
    assert installed() == ()


def test_instrument_is_idempotent_and_defaults_to_the_otel_handler() -> None:
    """instrument_langchain() twice keeps the same handlers; with no callbacks it installs an
    OpenTelemetryCallbackHandler on the global providers; explicit callbacks replace it."""
    first = instrument_langchain()
    assert instrument_langchain() is first
    assert [type(h) for h in first] == [OpenTelemetryCallbackHandler]
    mine = BaseCallbackHandler()
    replaced = instrument_langchain([mine])
    assert replaced == (mine,) and installed() is replaced


@pytest.mark.parametrize("where", ["request", "constructor"])
def test_no_double_attach_of_a_handler_also_passed_explicitly(
        otel: InMemoryTelemetry, chat_model: ModelFactory, where: str) -> None:
    """instrument_langchain plus the same handler passed explicitly (per request, or on the
    model deep in the chain): every run is seen exactly once."""
    handler = otel.handler(step_spans=True)
    instrument_langchain([handler])
    if where == "request":
        prompt_model_parser(chat_model()).invoke({"topic": "x"}, config={"callbacks": [handler]})
    else:
        prompt_model_parser(chat_model(callbacks=[handler])).invoke({"topic": "x"})
    spans = otel.spans()
    assert len(spans) == 4
    assert_one_tree(spans)


def test_an_explicit_handler_does_not_hide_runs_from_the_global_one(
        otel: InMemoryTelemetry, chat_model: ModelFactory) -> None:
    """Global telemetry plus a handler of the app's own on one model or request: the run
    still reaches the global OTel handler (spans are not lost) and the app's handler too."""
    instrument_langchain([otel.handler()])
    mine = _Recorder()
    model = chat_model(callbacks=[mine])
    model.invoke("hi")
    chat_model().invoke("hi", config={"callbacks": [mine]})
    assert [s.name for s in otel.spans()] == ["chat gpt-4o-mini+len=5"] * 2
    assert mine.ends == 2


class _Recorder(BaseCallbackHandler):
    """Counts the LLM runs it sees end."""

    def __init__(self) -> None:
        self.ends = 0

    def on_llm_end(self, response: Any, **kwargs: Any) -> None:
        self.ends += 1


def test_scoped_counter_sees_runs_of_an_instrumented_process(chat_model: ModelFactory) -> None:
    """get_openai_callback() counts LangChain calls made with no callbacks at all once
    instrument_langchain is on, and counts them once even where a second forwarder joins the
    run (on the model, under the chain that carries the global one)."""
    instrument_langchain([])
    model = chat_model("gpt-4o-mini+len=3", callbacks=[])
    with get_openai_callback() as cb:
        text = prompt_model_parser(model).invoke({"topic": "x"})
    assert len(text.split()) == 3
    assert cb.successful_requests == 1
    assert cb.completion_tokens == 3


class _Broken(BaseCallbackHandler):
    """Raises in every hook it implements."""

    def on_chain_start(self, *args: Any, **kwargs: Any) -> None:
        raise RuntimeError("broken handler")

    on_chain_end = on_chat_model_start = on_llm_new_token = on_llm_end = on_chain_start


def test_a_raising_handler_does_not_break_the_chain(otel: InMemoryTelemetry,
                                                    chat_model: ModelFactory,
                                                    caplog: pytest.LogCaptureFixture) -> None:
    """A handler that raises in every hook: the chain returns its answer and the other handler
    still gets the whole tree (LangChain's managers log each failure and go on)."""
    with caplog.at_level(logging.WARNING, "langchain_core.callbacks.manager"):
        text = "".join(prompt_model_parser(chat_model()).stream(
            {"topic": "x"}, config={"callbacks": [_Broken(), otel.handler(step_spans=True)]}))
    assert len(text.split()) == 5
    assert len(otel.spans()) == 4
    assert any("_Broken.on_llm_end" in r.getMessage() for r in caplog.records)


def test_a_raise_error_handler_stops_the_run_and_leaves_nothing_open(
        chat_model: ModelFactory) -> None:
    """A handler with raise_error=True stops the run, as in our own managers; no LLM run is
    left open and the SDK layer is not left suppressed."""

    class Guard(BaseCallbackHandler):
        raise_error = True

        def on_chat_model_start(self, *args: Any, **kwargs: Any) -> None:
            raise PermissionError("blocked by policy")

    with pytest.raises(PermissionError, match="blocked by policy"):
        chat_model().invoke("hello", config={"callbacks": [Guard()]})
    assert open_runs() == 0
    assert _suppress.active() is None


class _AsyncRecorder(AsyncCallbackHandler):
    def __init__(self) -> None:
        self.events: list[tuple[str, Any]] = []
        self.loops: set[int] = set()

    async def on_chat_model_start(self, serialized: Any, messages: Any, **kwargs: Any) -> None:
        await asyncio.sleep(0)  # really suspends
        self.loops.add(id(asyncio.get_running_loop()))
        self.events.append(("start", messages[0][0].content))

    async def on_llm_end(self, response: Any, **kwargs: Any) -> None:
        self.loops.add(id(asyncio.get_running_loop()))
        self.events.append(("end", response.generations[0][0].text))


async def test_our_async_handlers_are_awaited_on_the_callers_loop(
        chat_model: ModelFactory) -> None:
    """LangChain awaits our async handlers in the caller's event loop and hands them its own
    message and result objects."""
    recorder = _AsyncRecorder()
    reply = await chat_model().ainvoke(
        "hello", config={"callbacks": [recorder]})
    assert recorder.events == [("start", "hello"), ("end", reply.content)]
    assert recorder.loops == {id(asyncio.get_running_loop())}


def test_our_async_handlers_run_to_completion_in_sync_code(chat_model: ModelFactory) -> None:
    """In sync code LangChain runs our async handlers' hooks to completion (in a loop of its
    own per event) before the call returns."""
    recorder = _AsyncRecorder()
    reply = chat_model().invoke("hello",
                                config={"callbacks": [recorder]})
    assert recorder.events == [("start", "hello"), ("end", reply.content)]
    assert len(recorder.loops) >= 1


class _WaitsForTheLoop(BaseCallbackHandler):
    """A blocking sync hook: says it started, then waits until the event loop ran a step."""

    def __init__(self) -> None:
        self.started = threading.Event()
        self.loop_ran = threading.Event()
        self.saw_loop_run: bool | None = None

    def on_llm_start(self, *args: Any, **kwargs: Any) -> None:
        self.started.set()
        self.saw_loop_run = self.loop_ran.wait(timeout=10)


async def test_our_sync_hooks_never_block_the_event_loop(chat_model: ModelFactory) -> None:
    """In async code LangChain runs our sync (not run_inline) hooks off the loop: a hook that
    blocks until the loop has run another task's step once it started sees that step happen
    (run on the loop, it would wait in vain)."""
    handler = _WaitsForTheLoop()

    async def other_task() -> None:
        await asyncio.to_thread(handler.started.wait, 10)
        handler.loop_ran.set()  # runs on the loop: only if the hook does not hold it

    await asyncio.gather(chat_model().ainvoke("hi", config={"callbacks": [handler]}),
                         other_task())
    assert handler.saw_loop_run is True
