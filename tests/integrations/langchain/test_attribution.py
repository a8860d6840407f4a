"""Who a LangChain/LangGraph run is for: its thread/session id and ``otel_llm.attributes()``."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Annotated, Any, TypedDict

import pytest
from langchain_core.messages import AnyMessage
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.graph import END, START, StateGraph
from langgraph.graph.message import add_messages

import otel_llm
from otel_llm.integrations.langchain import instrument_langchain
from otel_llm.testing import InMemoryTelemetry

from .conftest import ModelFactory
from .trees import assert_one_tree, by_trace

CONV = "gen_ai.conversation.id"


class _State(TypedDict):
    messages: Annotated[list[AnyMessage], add_messages]


def _one_node_graph(reply: Callable[[_State], Any]) -> Any:
    """START -> reply -> END, with an in-memory checkpointer (threads keep their history)."""
    graph = StateGraph(_State)
    graph.add_node("reply", reply)
    graph.add_edge(START, "reply")
    graph.add_edge("reply", END)
    return graph.compile(checkpointer=InMemorySaver())


def test_langgraph_checkpointer_thread_is_the_conversation_of_every_span(
        otel: InMemoryTelemetry, chat_model: ModelFactory) -> None:
    """Two turns on a real graph with a checkpointer: every span of both traces (graph, node,
    chat) carries the thread id; another thread gets its own."""
    model = chat_model("gpt-4o-mini+len=3")

    def reply(state: _State) -> dict[str, Any]:
        return {"messages": [model.invoke(state["messages"])]}

    app = _one_node_graph(reply)
    handler = otel.handler()
    for turn, thread in (("hi", "thread-7"), ("again", "thread-7"), ("other", "thread-8")):
        app.invoke({"messages": [("user", turn)]},
                   config={"configurable": {"thread_id": thread}, "callbacks": [handler]})
    # the checkpointer kept the conversation: the second turn saw three messages
    state = app.get_state({"configurable": {"thread_id": "thread-7"}})
    assert len(state.values["messages"]) == 4
    traces = list(by_trace(otel.spans()).values())
    assert len(traces) == 3
    conversations = []
    for spans in traces:
        assert_one_tree(spans)
        assert {s.name for s in spans} == {"invoke_workflow LangGraph", "invoke_workflow reply",
                                           "chat gpt-4o-mini+len=3"}
        ids = {(s.attributes or {}).get(CONV) for s in spans}
        assert len(ids) == 1
        conversations.append(ids.pop())
    assert sorted(conversations) == ["thread-7", "thread-7", "thread-8"]


def test_session_id_in_metadata_reaches_the_run_and_its_children(
        otel: InMemoryTelemetry, chat_model: ModelFactory) -> None:
    """A chain invoked with metadata session_id: the chain, the model and (with step_spans) the
    prompt and parser spans."""
    chain = (ChatPromptTemplate.from_messages([("user", "{q}")])
             | chat_model("gpt-4o-mini+len=2") | StrOutputParser())
    chain.invoke({"q": "tulips?"}, config={"metadata": {"session_id": "s-55"},
                                           "callbacks": [otel.handler(step_spans=True)]})
    spans = otel.spans()
    assert len(spans) == 4
    assert {(s.attributes or {}).get(CONV) for s in spans} == {"s-55"}


@pytest.mark.parametrize("steps", [False, True], ids=["model-first", "prompt-first"])
@pytest.mark.parametrize("key", ["session_id", "thread_id", "conversation_id"])
async def test_configurable_id_names_the_conversation_of_every_span(
        otel: InMemoryTelemetry, chat_model: ModelFactory, key: str, steps: bool) -> None:
    """A plain chain invoked with the id in ``configurable`` (which LangChain does not pass to
    callbacks): every span has it, the outermost chain too (it takes it from its first
    recorded step: the model, or with step_spans the prompt), sync and async alike; a
    second invoke without it names no conversation."""
    chain = (ChatPromptTemplate.from_messages([("user", "{q}")])
             | chat_model("gpt-4o-mini+len=2") | StrOutputParser())
    handler = otel.handler(step_spans=steps)
    chain.invoke({"q": "tulips?"}, config={"configurable": {key: "c-1"}, "callbacks": [handler]})
    await chain.ainvoke({"q": "roses?"},
                        config={"configurable": {key: "c-2"}, "callbacks": [handler]})
    chain.invoke({"q": "lilies?"}, config={"callbacks": [handler]})
    traces = list(by_trace(otel.spans()).values())
    assert len(traces) == 3 and all(len(trace) == (4 if steps else 2) for trace in traces)
    per_trace = [{(s.attributes or {}).get(CONV) for s in trace} for trace in traces]
    assert sorted(per_trace, key=str) == sorted([{"c-1"}, {"c-2"}, {None}], key=str)


def test_a_block_inside_a_run_does_not_name_the_run(otel: InMemoryTelemetry) -> None:
    """An attributes() block opened inside a running chain names the runs started in it,
    not the chain around it (the block's scope ends where it ends)."""
    from langchain_core.runnables import RunnableLambda

    def step(x: int) -> int:
        with otel_llm.attributes(conversation_id="inner"):
            return RunnableLambda(lambda y: y + 1).invoke(x)

    RunnableLambda(step).invoke(1, config={"callbacks": [otel.handler()]})
    names = {s.name: (s.attributes or {}).get(CONV) for s in otel.spans()}
    assert sorted(names.values(), key=str) == sorted(["inner", None], key=str), names


async def test_attributes_block_reaches_instrumented_langchain_runs(
        otel: InMemoryTelemetry, chat_model: ModelFactory) -> None:
    """instrument_langchain + attributes() around concurrent ainvokes: each trace its user."""
    instrument_langchain([otel.handler()])
    model = chat_model("gpt-4o-mini+len=2")

    async def ask(user: str) -> None:
        with otel_llm.attributes(user_id=user, **{"app.feature": "faq"}):
            await model.ainvoke("hello")

    await asyncio.gather(*(ask(f"user-{i}") for i in range(5)))
    spans = otel.spans()
    assert len(spans) == 5
    assert {(s.attributes or {})["user.id"] for s in spans} == {f"user-{i}" for i in range(5)}
    assert {(s.attributes or {})["app.feature"] for s in spans} == {"faq"}


async def test_thread_id_beats_an_enclosing_block(otel: InMemoryTelemetry,
                                                  chat_model: ModelFactory) -> None:
    """The run's own thread names its conversation; the block still adds the user."""
    model = chat_model("gpt-4o-mini+len=2")

    async def reply(state: _State) -> dict[str, Any]:
        return {"messages": [await model.ainvoke(state["messages"])]}

    app = _one_node_graph(reply)
    handler = otel.handler()
    with otel_llm.attributes(conversation_id="block", user_id="u-1"):
        await app.ainvoke({"messages": [("user", "hi")]},
                          config={"configurable": {"thread_id": "t-1"}, "callbacks": [handler]})
    for span in otel.spans():
        attrs = span.attributes or {}
        assert (attrs[CONV], attrs["user.id"]) == ("t-1", "u-1")
