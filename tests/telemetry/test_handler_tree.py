"""Chains, agents, tools and retrievers; parent/child links under nesting, threads and asyncio."""

from __future__ import annotations

import asyncio
import random
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from uuid import UUID

from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.trace import SpanKind, StatusCode

from otel_llm import semconv
from otel_llm.schema import AgentAction, AgentFinish, Document, ToolMessage
from otel_llm.testing.otel import InMemoryTelemetry

from .events import MODEL, chain_start, chat_result, chat_start

LLM = f"chat {MODEL}"


def parent_of(span: ReadableSpan) -> int | None:
    return span.parent.span_id if span.parent is not None else None


def test_chain_tool_retriever_span_names_and_kinds(otel: InMemoryTelemetry) -> None:
    """invoke_workflow {name}, execute_tool {name} (INTERNAL) and retrieval spans."""
    handler = otel.handler()
    chain = chain_start(handler, "RunnableSequence", name="my_pipeline")
    tool = uuid.uuid4()
    handler.on_tool_start(
        {"name": "search", "description": "Web search"},
        "cats",
        run_id=tool,
        parent_run_id=chain,
        tool_call_id="call_1",
        inputs={"q": "cats"},
    )
    handler.on_tool_end("found", run_id=tool)
    retriever = uuid.uuid4()
    handler.on_retriever_start({"name": "docs"}, "cats", run_id=retriever, parent_run_id=chain)
    handler.on_retriever_end([Document("a")], run_id=retriever)
    handler.on_chain_end({}, run_id=chain)

    workflow = otel.span("invoke_workflow my_pipeline")
    assert workflow.kind is SpanKind.INTERNAL
    assert (workflow.attributes or {})[semconv.GEN_AI_OPERATION_NAME] == "invoke_workflow"
    tool_span = otel.span("execute_tool search")
    assert tool_span.kind is SpanKind.INTERNAL
    assert dict(tool_span.attributes or {}) == {
        semconv.GEN_AI_OPERATION_NAME: "execute_tool",
        semconv.GEN_AI_TOOL_NAME: "search",
        semconv.GEN_AI_TOOL_TYPE: "function",
        semconv.GEN_AI_TOOL_CALL_ID: "call_1",
        semconv.GEN_AI_TOOL_DESCRIPTION: "Web search",
    }
    retrieval = otel.span("retrieval")
    assert (retrieval.attributes or {})[semconv.GEN_AI_OPERATION_NAME] == "retrieval"
    for child in (tool_span, retrieval):
        assert parent_of(child) == workflow.context.span_id


def test_run_name_rules(otel: InMemoryTelemetry) -> None:
    """The name argument wins, then serialized name, then the last serialized id part."""
    handler = otel.handler()
    for serialized, kwargs in (
        ({"name": "Ser", "id": ["a", "Id"]}, {"name": "Arg"}),
        ({"name": "Ser", "id": ["a", "Id"]}, {}),
        ({"id": ["a", "Id"]}, {}),
        ({}, {}),
    ):
        run = uuid.uuid4()
        handler.on_chain_start(serialized, {}, run_id=run, **kwargs)
        handler.on_chain_end({}, run_id=run)
    assert [s.name for s in otel.spans()] == [
        "invoke_workflow Arg",
        "invoke_workflow Ser",
        "invoke_workflow Id",
        "invoke_workflow chain",
    ]


def test_agent_heuristic(otel: InMemoryTelemetry) -> None:
    """AgentExecutor and '*agent' runs are agents; a LangGraph node called 'agent' is a step."""
    handler = otel.handler()
    executor = chain_start(handler, "AgentExecutor")
    named = chain_start(handler, "x", parent=executor, name="research_agent")
    node = chain_start(
        handler, "x", parent=named, name="agent", metadata={"langgraph_node": "agent"}
    )
    for run in (node, named, executor):
        handler.on_chain_end({}, run_id=run)
    agent = otel.span("invoke_agent AgentExecutor")
    assert (agent.attributes or {})[semconv.GEN_AI_AGENT_NAME] == "AgentExecutor"
    assert (agent.attributes or {})[semconv.GEN_AI_OPERATION_NAME] == "invoke_agent"
    otel.span("invoke_agent research_agent")
    otel.span("invoke_workflow agent")


def test_agent_events_promote_a_chain_to_an_agent(otel: InMemoryTelemetry) -> None:
    """A chain that reports agent actions is renamed invoke_agent {name}."""
    handler = otel.handler()
    run = chain_start(handler, "Planner")
    handler.on_agent_action(AgentAction("search", "cats"), run_id=run)
    handler.on_agent_finish(AgentFinish({"output": "ok"}), run_id=run)
    handler.on_chain_end({}, run_id=run)
    span = otel.span("invoke_agent Planner")
    assert (span.attributes or {})[semconv.GEN_AI_OPERATION_NAME] == "invoke_agent"
    assert (span.attributes or {})[semconv.GEN_AI_AGENT_NAME] == "Planner"


def test_tool_and_retriever_errors(otel: InMemoryTelemetry) -> None:
    """Tool and retriever failures set ERROR and error.type on their own span only."""
    handler = otel.handler()
    chain = chain_start(handler)
    tool = uuid.uuid4()
    handler.on_tool_start({"name": "calc"}, "1/0", run_id=tool, parent_run_id=chain)
    handler.on_tool_error(ZeroDivisionError("division by zero"), run_id=tool)
    retriever = uuid.uuid4()
    handler.on_retriever_start({"name": "r"}, "q", run_id=retriever, parent_run_id=chain)
    handler.on_retriever_error(ConnectionError("down"), run_id=retriever)
    handler.on_chain_error(RuntimeError("chain failed"), run_id=chain)
    for name, kind in (
        ("execute_tool calc", "ZeroDivisionError"),
        ("retrieval", "ConnectionError"),
        ("invoke_workflow MyChain", "RuntimeError"),
    ):
        span = otel.span(name)
        assert span.status.status_code is StatusCode.ERROR
        assert (span.attributes or {})[semconv.ERROR_TYPE] == kind
        assert sum(e.name == "exception" for e in span.events) == 1


def test_tool_content_only_when_opted_in(otel: InMemoryTelemetry) -> None:
    """Tool arguments and results are content: recorded on the tool span only when opted in."""
    for mode, expect in (("NO_CONTENT", False), ("EVENT_ONLY", False), ("SPAN_ONLY", True)):
        otel.clear()
        handler = otel.handler(capture_content=mode)
        run = uuid.uuid4()
        handler.on_tool_start({"name": "t"}, "{'q': 1}", run_id=run, inputs={"q": 1})
        handler.on_tool_end(ToolMessage("42", tool_call_id="c"), run_id=run)
        attrs = otel.span("execute_tool t").attributes or {}
        if expect:
            assert attrs[semconv.GEN_AI_TOOL_CALL_ARGUMENTS] == '{"q":1}'
            assert attrs[semconv.GEN_AI_TOOL_CALL_RESULT] == "42"
        else:
            assert semconv.GEN_AI_TOOL_CALL_ARGUMENTS not in attrs
            assert semconv.GEN_AI_TOOL_CALL_RESULT not in attrs


def test_nested_chains_parent_and_trace(otel: InMemoryTelemetry) -> None:
    """chain > chain > llm: each span's parent is its parent run's span, all in one trace."""
    handler = otel.handler()
    outer = chain_start(handler, "Outer")
    inner = chain_start(handler, "Inner", parent=outer)
    llm = chat_start(handler, parent=inner)
    handler.on_llm_end(chat_result(), run_id=llm)
    handler.on_chain_end({}, run_id=inner)
    handler.on_chain_end({}, run_id=outer)
    o, i, c = otel.span("invoke_workflow Outer"), otel.span("invoke_workflow Inner"), otel.span(LLM)
    assert o.parent is None
    assert parent_of(i) == o.context.span_id
    assert parent_of(c) == i.context.span_id
    assert {o.context.trace_id, i.context.trace_id, c.context.trace_id} == {o.context.trace_id}


def test_root_run_parents_to_the_current_span_at_start(otel: InMemoryTelemetry) -> None:
    """A root run joins the caller's span current at its start event, not at its end."""
    handler = otel.handler()
    tracer = otel.tracer_provider.get_tracer("app")
    with tracer.start_as_current_span("request") as request:
        run = chain_start(handler, "Root")
    with tracer.start_as_current_span("other"):
        handler.on_chain_end({}, run_id=run)
    root = otel.span("invoke_workflow Root")
    assert parent_of(root) == request.get_span_context().span_id
    assert root.context.trace_id == request.get_span_context().trace_id


def test_unknown_parent_falls_back_to_the_current_span(otel: InMemoryTelemetry) -> None:
    """A parent_run_id the handler never saw (e.g. already ended) falls back to the current span."""
    handler = otel.handler()
    tracer = otel.tracer_provider.get_tracer("app")
    with tracer.start_as_current_span("request") as request:
        run = chat_start(handler, parent=uuid.uuid4())
    handler.on_llm_end(chat_result(), run_id=run)
    assert parent_of(otel.span(LLM)) == request.get_span_context().span_id


def test_handler_never_changes_the_current_context(otel: InMemoryTelemetry) -> None:
    """No hook attaches a context: the caller's current span is the same before and after."""
    handler = otel.handler()
    before = trace.get_current_span()
    chain = chain_start(handler)
    llm = chat_start(handler, parent=chain)
    assert trace.get_current_span() is before
    handler.on_llm_end(chat_result(), run_id=llm)
    handler.on_chain_end({}, run_id=chain)
    assert trace.get_current_span() is before


def _check_forest(spans: list[ReadableSpan], roots: dict[str, tuple[int, int]]) -> None:
    """Every span's parent is a finished span of the same trace, or its app-level root span."""
    by_id = {s.context.span_id: s for s in spans}
    for span in spans:
        assert span.parent is not None, f"{span.name} is orphaned"
        parent = by_id.get(span.parent.span_id)
        if parent is None:
            assert span.name.startswith("invoke_workflow task-")
            task = span.name.removeprefix("invoke_workflow ")
            assert (span.parent.span_id, span.context.trace_id) == roots[task]
        else:
            assert parent.context.trace_id == span.context.trace_id


def test_runs_started_and_ended_on_different_threads(otel: InMemoryTelemetry) -> None:
    """Starting on one thread and ending on another keeps every link; nothing stays open."""
    handler = otel.handler()
    tracer = otel.tracer_provider.get_tracer("app")
    roots: dict[str, tuple[int, int]] = {}
    started: list[tuple[UUID, UUID]] = []
    lock = threading.Lock()

    def start(i: int) -> None:
        with tracer.start_as_current_span(f"app-{i}") as app:
            chain = chain_start(handler, f"task-{i}")
        llm = chat_start(handler, parent=chain)
        with lock:
            roots[f"task-{i}"] = (app.get_span_context().span_id, app.get_span_context().trace_id)
            started.append((chain, llm))

    def end(pair: tuple[UUID, UUID]) -> None:
        chain, llm = pair
        handler.on_llm_new_token("x", run_id=llm)
        handler.on_llm_end(chat_result(), run_id=llm)
        handler.on_chain_end({}, run_id=chain)

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(start, range(400)))
        random.shuffle(started)
        list(pool.map(end, started))
    spans = [s for s in otel.spans() if not s.name.startswith("app-")]
    assert len(spans) == 800
    _check_forest(spans, roots)
    llm_spans = otel.spans(LLM)
    chains = {s.context.span_id: s.name for s in otel.spans() if s.name.startswith("invoke")}
    assert all(parent_of(s) in chains for s in llm_spans)
    assert handler.open_runs == 0


async def test_one_thousand_concurrent_asyncio_tasks(otel: InMemoryTelemetry) -> None:
    """1,000 interleaved tasks (chain > tool + streamed llm): right parent and trace for all."""
    handler = otel.handler()
    tracer = otel.tracer_provider.get_tracer("app")
    roots: dict[str, tuple[int, int]] = {}

    async def task(i: int) -> None:
        with tracer.start_as_current_span(f"app-{i}") as app:
            ctx = app.get_span_context()
            roots[f"task-{i}"] = (ctx.span_id, ctx.trace_id)
            chain = chain_start(handler, f"task-{i}")
            await asyncio.sleep(0)
            tool = uuid.uuid4()
            handler.on_tool_start({"name": f"tool-{i}"}, "x", run_id=tool, parent_run_id=chain)
            await asyncio.sleep(0)
            handler.on_tool_end("ok", run_id=tool)
            llm = chat_start(handler, parent=chain)
            for _ in range(3):
                await asyncio.sleep(random.random() / 1000)
                handler.on_llm_new_token("x", run_id=llm)
            handler.on_llm_end(chat_result(), run_id=llm)
            await asyncio.sleep(0)
            handler.on_chain_end({}, run_id=chain)

    await asyncio.gather(*(task(i) for i in range(1000)))
    spans = [s for s in otel.spans() if not s.name.startswith("app-")]
    assert len(spans) == 3000
    _check_forest(spans, roots)
    by_id = {s.context.span_id: s for s in spans}
    for span in spans:
        if span.name.startswith("execute_tool"):
            i = span.name.removeprefix("execute_tool tool-")
            assert by_id[parent_of(span) or 0].name == f"invoke_workflow task-{i}"
    assert handler.open_runs == 0
    assert handler.failures.counts() == {}
