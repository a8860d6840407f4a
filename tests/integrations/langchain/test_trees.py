"""Span trees of real LangChain / LangGraph runs against the devserver: one trace per call,
parents strictly from LangChain's run ids, correct under asyncio concurrency."""

from __future__ import annotations

import asyncio
import json
import sys
from typing import Annotated, Any, TypedDict

import pytest
from langchain_core.messages import AnyMessage, ToolMessage
from langchain_core.runnables import RunnableConfig
from langgraph.graph import END, START, StateGraph
from langgraph.graph.message import add_messages
from opentelemetry.trace import SpanKind

from otel_llm import semconv
from otel_llm.devserver import ModelServer
from otel_llm.integrations.langchain._llm_runs import open_runs
from otel_llm.testing import InMemoryTelemetry

from .chains import FlowerRetriever, prompt_model_parser, rag_tool_chain
from .conftest import ModelFactory
from .trees import assert_one_tree, by_trace, edges, parent_of

SEQ = "invoke_workflow RunnableSequence"


def test_rag_chain_with_tool_is_one_tree(otel: InMemoryTelemetry, chat_model: ModelFactory) -> None:
    """retriever -> prompt -> model -> tool: one trace whose spans have the semconv names and
    kinds, each parented to the LangChain run that started it."""
    forwarder = [otel.handler(capture_content="SPAN_ONLY")]
    out = rag_tool_chain(chat_model("gpt-4o-mini")).invoke(
        "tulips", config={"callbacks": forwarder})
    assert isinstance(out[0], ToolMessage)
    spans = otel.spans()
    root = assert_one_tree(spans)
    assert root.name == SEQ
    tree = edges(spans)
    parallel = "invoke_workflow RunnableParallel<context,question>"
    assert {
        (parallel, SEQ), ("chat gpt-4o-mini", SEQ),
        ("invoke_workflow run_tools", SEQ), ("retrieval", SEQ),
        ("invoke_workflow format_docs", SEQ), ("invoke_workflow RunnablePassthrough", parallel),
        ("execute_tool flower_price", "invoke_workflow run_tools"),
    } <= tree
    retrieval = otel.span("retrieval")
    assert parent_of(parent_of(retrieval, spans), spans).name == parallel  # type: ignore[union-attr]
    kinds = {s.name: s.kind for s in spans}
    assert kinds["chat gpt-4o-mini"] is SpanKind.CLIENT
    assert kinds["retrieval"] is SpanKind.CLIENT
    assert kinds["execute_tool flower_price"] is SpanKind.INTERNAL
    tool = otel.span("execute_tool flower_price").attributes or {}
    chat = otel.span("chat gpt-4o-mini").attributes or {}
    assert chat[semconv.GEN_AI_RESPONSE_FINISH_REASONS] == ("tool_calls",)
    call = json.loads(chat[semconv.GEN_AI_OUTPUT_MESSAGES])[0]["parts"][0]
    assert tool[semconv.GEN_AI_TOOL_CALL_ID] == call["id"] == out[0].tool_call_id
    assert tool[semconv.GEN_AI_TOOL_CALL_RESULT] == out[0].content
    history = json.loads(chat[semconv.GEN_AI_INPUT_MESSAGES])  # its system message stays there
    assert history[0]["role"] == "system"
    assert "tulips come in red" in history[0]["parts"][0]["content"]
    assert semconv.GEN_AI_SYSTEM_INSTRUCTIONS not in chat
    assert len(spans) == 9  # nothing twice, nothing left open (the prompt step has none)


def test_prompt_model_parser_tree(otel: InMemoryTelemetry, chat_model: ModelFactory) -> None:
    """prompt | model | parser: the model is a child of the sequence, in one trace; the
    prompt-formatting and output-parsing steps get no span of their own by default."""
    forwarder = [otel.handler()]
    text = prompt_model_parser(chat_model()).invoke({"topic": "roses"},
                                                    config={"callbacks": forwarder})
    assert len(text.split()) == 5
    spans = otel.spans()
    assert_one_tree(spans)
    assert edges(spans) == {(SEQ, None), ("chat gpt-4o-mini+len=5", SEQ)}
    assert open_runs() == 0


def test_step_spans_gives_the_prompt_and_parser_steps_spans(
        otel: InMemoryTelemetry, chat_model: ModelFactory) -> None:
    """step_spans=True: the three steps are children of the sequence, in one trace."""
    forwarder = [otel.handler(step_spans=True)]
    prompt_model_parser(chat_model()).invoke({"topic": "roses"}, config={"callbacks": forwarder})
    spans = otel.spans()
    assert_one_tree(spans)
    assert edges(spans) == {
        (SEQ, None), ("invoke_workflow ChatPromptTemplate", SEQ),
        ("chat gpt-4o-mini+len=5", SEQ), ("invoke_workflow StrOutputParser", SEQ),
    }


def test_a_model_called_inside_a_parser_step_is_a_child_of_the_chain(
        otel: InMemoryTelemetry, chat_model: ModelFactory) -> None:
    """An output parser that calls a model (as an output-fixing parser does): the step has no
    span, so the model's span is a child of the sequence around it, in the same trace."""
    from langchain_core.output_parsers import BaseOutputParser

    fixer = chat_model("gpt-4o-mini+len=2")

    class Fixing(BaseOutputParser[str]):
        def parse(self, text: str) -> str:
            return str(fixer.invoke(f"fix: {text}").content)

    chain = prompt_model_parser(chat_model()).first | chat_model() | Fixing()
    assert len(chain.invoke({"topic": "roses"}, config={"callbacks": [otel.handler()]}).split()) == 2
    spans = otel.spans()
    assert_one_tree(spans)
    assert sorted(edges(spans)) == sorted({(SEQ, None), ("chat gpt-4o-mini+len=5", SEQ),
                                          ("chat gpt-4o-mini+len=2", SEQ)})
    assert open_runs() == 0


def test_a_failing_parser_step_fails_the_chain_span(
        otel: InMemoryTelemetry, chat_model: ModelFactory) -> None:
    """A parser step that raises: its error is recorded on the chain span around it (type and
    exception event), and nothing is left open; a prompt invoked alone keeps its span."""
    from langchain_core.exceptions import OutputParserException
    from langchain_core.output_parsers import JsonOutputParser
    from opentelemetry.trace import StatusCode

    handler = otel.handler()
    chain = prompt_model_parser(chat_model()).first | chat_model() | JsonOutputParser()
    with pytest.raises(OutputParserException):
        chain.invoke({"topic": "roses"}, config={"callbacks": [handler]})
    spans = otel.spans()
    assert edges(spans) == {(SEQ, None), ("chat gpt-4o-mini+len=5", SEQ)}
    seq = otel.span(SEQ)
    assert seq.status.status_code is StatusCode.ERROR
    assert (seq.attributes or {})[semconv.ERROR_TYPE].endswith("OutputParserException")
    assert [e.name for e in seq.events] == ["exception"]
    prompt_model_parser(chat_model()).first.invoke({"topic": "x"}, config={"callbacks": [handler]})
    assert otel.span("invoke_workflow ChatPromptTemplate").parent is None
    assert handler.open_runs == 0


async def test_100_concurrent_ainvokes_form_100_separate_trees(
        otel: InMemoryTelemetry, chat_model: ModelFactory, server: ModelServer,
        caplog: pytest.LogCaptureFixture) -> None:
    """100 chains awaited together with one shared forwarder: 100 traces, each exactly the
    chain's two spans, each LLM span holding its own call's prompt (no cross-talk), and no
    "Failed to detach context" from OpenTelemetry."""
    forwarder = [otel.handler(capture_content="SPAN_ONLY")]
    chain = prompt_model_parser(chat_model("gpt-4o-mini+len=3"))
    before = len(server.requests)
    await asyncio.gather(*(
        chain.ainvoke({"topic": f"topic-{i}"},
                      config={"callbacks": forwarder, "run_name": f"request-{i}"})
        for i in range(100)))
    assert len(server.requests) - before == 100
    traces = by_trace(otel.spans())
    assert len(traces) == 100
    seen = set()
    for spans in traces.values():
        root = assert_one_tree(spans)
        i = root.name.removeprefix("invoke_workflow request-")
        seen.add(i)
        assert edges(spans) == {(root.name, None), ("chat gpt-4o-mini+len=3", root.name)}
        chat = next(s for s in spans if s.name.startswith("chat"))
        prompt = json.loads((chat.attributes or {})[semconv.GEN_AI_INPUT_MESSAGES])
        assert prompt[0]["parts"][0]["content"] == f"Tell me about topic-{i}"
    assert seen == {str(i) for i in range(100)}
    assert open_runs() == 0
    assert not [r for r in caplog.records if "detach" in r.getMessage()]


async def test_abatch_gives_each_input_its_own_tree(otel: InMemoryTelemetry,
                                                    chat_model: ModelFactory) -> None:
    """abatch runs inputs concurrently: one trace per input, no span without its parent."""
    forwarder = [otel.handler()]
    chain = prompt_model_parser(chat_model("gpt-4o-mini+len=2"))
    out = await chain.abatch([{"topic": t} for t in ("a", "b", "c", "d")],
                             config={"callbacks": forwarder})
    assert len(out) == 4
    traces = by_trace(otel.spans())
    assert len(traces) == 4
    for spans in traces.values():
        assert assert_one_tree(spans).name == SEQ
        assert len(spans) == 2


class _State(TypedDict):
    messages: Annotated[list[AnyMessage], add_messages]
    context: str


#: Python 3.10's asyncio.create_task has no ``context`` argument, so LangChain cannot carry
#: the run config into async nodes implicitly; its documented practice there is to take
#: ``config`` in the node and pass it on. 3.11+ check the implicit propagation.
PASS_CONFIG = sys.version_info < (3, 11)


def _graph(model: Any) -> Any:
    retriever = FlowerRetriever()

    def on(config: RunnableConfig) -> RunnableConfig | None:
        return config if PASS_CONFIG else None

    async def retrieve(state: _State, config: RunnableConfig) -> dict[str, Any]:
        docs = await retriever.ainvoke(str(state["messages"][0].content), on(config))
        return {"context": " ".join(d.page_content for d in docs)}

    async def draft(state: _State, config: RunnableConfig) -> dict[str, Any]:
        reply = await model.ainvoke([("system", state["context"]), *state["messages"]],
                                    on(config))
        return {"messages": [reply]}

    async def review(state: _State, config: RunnableConfig) -> dict[str, Any]:
        reply = await model.ainvoke([*state["messages"], ("user", "Shorter, please.")],
                                    on(config))
        return {"messages": [reply]}

    graph = StateGraph(_State)
    graph.add_node("retrieve", retrieve)
    graph.add_node("draft", draft)
    graph.add_node("review", review)
    graph.add_edge(START, "retrieve")
    graph.add_edge("retrieve", "draft")
    graph.add_edge("draft", "review")
    graph.add_edge("review", END)
    return graph.compile()


async def test_langgraph_nodes_are_children_of_the_graph(otel: InMemoryTelemetry,
                                                         chat_model: ModelFactory) -> None:
    """A StateGraph whose nodes call a retriever and the model (without passing config on,
    except on Python 3.10 where LangChain requires it: PASS_CONFIG): one trace, node spans
    children of the graph span, each model call inside its node."""
    app = _graph(chat_model("gpt-4o-mini+len=4"))
    forwarder = [otel.handler()]
    await asyncio.gather(*(app.ainvoke({"messages": [("user", f"tulips {i}")]},
                                       config={"callbacks": forwarder}) for i in range(3)))
    traces = by_trace(otel.spans())
    assert len(traces) == 3
    for spans in traces.values():
        root = assert_one_tree(spans)
        assert root.name == "invoke_workflow LangGraph"
        assert edges(spans) == {
            (root.name, None), ("invoke_workflow retrieve", root.name),
            ("retrieval", "invoke_workflow retrieve"),
            ("invoke_workflow draft", root.name), ("invoke_workflow review", root.name),
            ("chat gpt-4o-mini+len=4", "invoke_workflow draft"),
            ("chat gpt-4o-mini+len=4", "invoke_workflow review"),
        }
        assert len(spans) == 7
    assert open_runs() == 0


def test_sync_langgraph_in_threads_keeps_one_trace(otel: InMemoryTelemetry,
                                                   chat_model: ModelFactory) -> None:
    """Sync graph.invoke runs nodes in executor threads: still one trace with no orphan."""
    model = chat_model("gpt-4o-mini+len=2")

    def ask(state: _State) -> dict[str, Any]:
        return {"messages": [model.invoke(state["messages"])]}

    graph = StateGraph(_State)
    graph.add_node("first", ask)
    graph.add_node("second", ask)
    graph.add_edge(START, "first")
    graph.add_edge("first", "second")
    graph.add_edge("second", END)
    graph.compile().invoke({"messages": [("user", "hi")]},
                           config={"callbacks": [otel.handler()]})
    spans = otel.spans()
    root = assert_one_tree(spans)
    assert edges(spans) == {
        (root.name, None), ("invoke_workflow first", root.name),
        ("invoke_workflow second", root.name),
        ("chat gpt-4o-mini+len=2", "invoke_workflow first"),
        ("chat gpt-4o-mini+len=2", "invoke_workflow second"),
    }
