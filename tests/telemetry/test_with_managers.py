"""The handler driven by real callback managers: otel_llm's (sync and async) and LangChain's."""

from __future__ import annotations

import threading
from typing import Any

from opentelemetry.sdk.trace import ReadableSpan

from otel_llm import semconv
from otel_llm.callbacks import AsyncCallbackManager, CallbackManager
from otel_llm.schema import HumanMessage
from otel_llm.testing.otel import InMemoryTelemetry

from .events import METADATA, MODEL, PARAMS, chat_result

LLM = f"chat {MODEL}"


def _tree(otel: InMemoryTelemetry) -> dict[str, str | None]:
    spans: dict[int, ReadableSpan] = {s.context.span_id: s for s in otel.spans()}
    return {
        s.name: spans[s.parent.span_id].name if s.parent and s.parent.span_id in spans else None
        for s in spans.values()
    }


def test_sync_manager_chain_tool_llm(otel: InMemoryTelemetry) -> None:
    """CallbackManager: chain > (tool, streamed chat run); spans nest as the run managers do."""
    handler = otel.handler()
    chain = CallbackManager.configure(inheritable_callbacks=[handler]).on_chain_start(
        {"name": "Agentless"}, {"q": 1}
    )
    tool = chain.get_child().on_tool_start({"name": "lookup"}, "x")
    tool.on_tool_end("ok")
    [llm] = chain.get_child().on_chat_model_start(
        {}, [[HumanMessage("hi")]], invocation_params=PARAMS, metadata=METADATA
    )
    for token in ("a", "b", "c"):
        llm.on_llm_new_token(token)
    llm.on_llm_end(chat_result())
    chain.on_chain_end({"a": 1})
    assert _tree(otel) == {
        "invoke_workflow Agentless": None,
        "execute_tool lookup": "invoke_workflow Agentless",
        LLM: "invoke_workflow Agentless",
    }
    assert semconv.GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK in (otel.span(LLM).attributes or {})
    assert handler.open_runs == 0


async def test_async_manager_runs_the_handler_inline(otel: InMemoryTelemetry) -> None:
    """AsyncCallbackManager calls the (run_inline) handler on the loop's thread, in order."""
    handler = otel.handler()
    threads: set[int] = set()
    original = handler.on_llm_new_token

    def spy(*args: Any, **kwargs: Any) -> None:
        threads.add(threading.get_ident())
        original(*args, **kwargs)

    handler.on_llm_new_token = spy  # type: ignore[method-assign]
    chain = await AsyncCallbackManager.configure(inheritable_callbacks=[handler]).on_chain_start(
        {"name": "Flow"}, {}
    )
    [llm] = await chain.get_child().on_chat_model_start(
        {}, [[HumanMessage("hi")]], invocation_params=PARAMS, metadata=METADATA
    )
    for token in ("a", "b"):
        await llm.on_llm_new_token(token)
    await llm.on_llm_end(chat_result())
    await chain.on_chain_end({})
    assert threads == {threading.get_ident()}
    assert _tree(otel) == {"invoke_workflow Flow": None, LLM: "invoke_workflow Flow"}


def test_langchain_runnables_and_streaming(otel: InMemoryTelemetry) -> None:
    """LangChain's own manager calls the handler too: a chain with a streamed fake chat model."""
    from langchain_core.language_models.fake_chat_models import FakeListChatModel
    from langchain_core.runnables import RunnableLambda

    handler = otel.handler(capture_content="SPAN_ONLY")
    model = FakeListChatModel(responses=["hello world"])
    pipeline = RunnableLambda(lambda text: text) | model
    chunks = list(pipeline.stream("hi", config={"callbacks": [handler], "run_name": "pipeline"}))
    assert "".join(str(c.content) for c in chunks) == "hello world"
    tree = _tree(otel)
    assert tree["invoke_workflow pipeline"] is None
    assert tree["chat"] == "invoke_workflow pipeline"
    attrs = otel.span("chat").attributes or {}
    assert attrs[semconv.GEN_AI_REQUEST_STREAM] is True
    assert '"content":"hi"' in str(attrs[semconv.GEN_AI_INPUT_MESSAGES])
    assert handler.open_runs == 0
    assert handler.failures.counts() == {}
