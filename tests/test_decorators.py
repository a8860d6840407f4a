"""``@otel_llm.workflow/agent/tool``: runs for plain functions, parents of what they start."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator
from typing import Any
from uuid import UUID

import openai
import pytest
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.trace import StatusCode

import otel_llm
from otel_llm.callbacks import BaseCallbackHandler, scoped_callbacks
from otel_llm.devserver import ModelServer
from otel_llm.instrumentation.openai import instrument_openai, uninstrument_openai
from otel_llm.testing import InMemoryTelemetry

ASK = [{"role": "user", "content": "Which flowers for a birthday?"}]
CHAT = "chat gpt-4o-mini"


@pytest.fixture(autouse=True)
def _uninstrument() -> Iterator[None]:
    yield
    uninstrument_openai()


def _parent(span: ReadableSpan) -> int | None:
    return span.parent.span_id if span.parent is not None else None


def _id(span: ReadableSpan) -> int:
    assert span.context is not None
    return span.context.span_id


class StockError(LookupError):
    pass


def test_workflow_agent_tool_tree_with_an_sdk_call_and_a_tool_error(
        otel: InMemoryTelemetry, client: openai.OpenAI) -> None:
    """workflow > agent > (tool, failing tool, chat): one trace, right parents, the tool's
    exception reaches the agent unchanged and its span is ERROR with error.type."""
    instrument_openai([otel.handler()])
    raised: list[BaseException] = []

    @otel_llm.tool(name="lookup_stock")
    def lookup_stock(flower: str) -> int:
        """Units of a flower in stock.

        Longer text that is not part of the description."""
        return 12

    @otel_llm.tool(name="order_more")
    def order_more(flower: str) -> None:
        raise StockError(f"no supplier for {flower}")

    @otel_llm.agent(name="florist")
    def florist(question: str) -> str:
        stock = lookup_stock("rose")
        try:
            order_more("tulip")
        except StockError as exc:
            raised.append(exc)
        reply = client.chat.completions.create(model="gpt-4o-mini", messages=ASK)
        return f"{stock}: {reply.choices[0].message.content}"

    @otel_llm.workflow(name="shop")
    def shop(question: str) -> str:
        return florist(question)

    answer = shop("birthday?")
    assert answer.startswith("12: ")
    assert isinstance(raised[0], StockError) and str(raised[0]) == "no supplier for tulip"

    workflow, agent = otel.span("invoke_workflow shop"), otel.span("invoke_agent florist")
    tool, failed, chat = (otel.span("execute_tool lookup_stock"),
                          otel.span("execute_tool order_more"), otel.span(CHAT))
    assert _parent(workflow) is None
    assert _parent(agent) == _id(workflow)
    assert _parent(tool) == _parent(failed) == _parent(chat) == _id(agent)
    assert len({s.context.trace_id for s in otel.spans() if s.context}) == 1
    assert (agent.attributes or {})["gen_ai.operation.name"] == "invoke_agent"
    assert (agent.attributes or {})["gen_ai.agent.name"] == "florist"
    tool_attrs = tool.attributes or {}
    assert tool_attrs["gen_ai.tool.name"] == "lookup_stock"
    assert tool_attrs["gen_ai.tool.type"] == "function"
    assert tool_attrs["gen_ai.tool.description"] == "Units of a flower in stock."
    assert (workflow.attributes or {})["gen_ai.operation.name"] == "invoke_workflow"
    assert failed.status.status_code is StatusCode.ERROR
    assert (failed.attributes or {})["error.type"] == "tests.test_decorators.StockError"
    assert agent.status.status_code is StatusCode.UNSET
    assert "gen_ai.tool.call.arguments" not in tool_attrs  # content capture is off


async def test_async_agent_with_async_sdk_call_and_async_generator_tool(
        otel: InMemoryTelemetry, server: ModelServer) -> None:
    """An async generator tool's run spans its iteration; the SDK stream inside is its child;
    the consumer stopping early ends the run normally."""
    instrument_openai([otel.handler()])

    @otel_llm.tool
    async def stream_words(question: str) -> AsyncIterator[str]:
        async with openai.AsyncOpenAI(base_url=server.base_url, api_key="sk-test",
                                      max_retries=0) as aclient:
            stream = await aclient.chat.completions.create(
                model="gpt-4o-mini", messages=ASK, stream=True)
            async for chunk in stream:
                if chunk.choices and chunk.choices[0].delta.content:
                    yield chunk.choices[0].delta.content

    @otel_llm.agent(name="async florist")
    async def florist() -> list[str]:
        words = []
        gen = stream_words("q")
        async for word in gen:
            words.append(word)
            if len(words) == 2:
                break
        await gen.aclose()
        return words

    words = await florist()
    assert len(words) == 2
    agent = otel.span("invoke_agent async florist")
    tool = otel.span(f"execute_tool {stream_words.__qualname__}")
    chat = otel.span(CHAT)
    assert _parent(tool) == _id(agent)
    assert _parent(chat) == _id(tool)
    assert tool.status.status_code is StatusCode.UNSET


def test_sync_generator_workflow_scope_is_open_only_while_its_body_runs(
        otel: InMemoryTelemetry, client: openai.OpenAI) -> None:
    """An SDK call made by the consumer between two items is not a child of the generator."""
    instrument_openai([otel.handler()])

    @otel_llm.workflow(name="pages")
    def pages() -> Iterator[int]:
        yield 1
        client.chat.completions.create(model="gpt-4o-mini", messages=ASK)
        yield 2
        return

    seen = []
    for page in pages():
        seen.append(page)
        if page == 1:
            client.chat.completions.create(model="gpt-4o", messages=ASK)
    assert seen == [1, 2]
    workflow = otel.span("invoke_workflow pages")
    assert _parent(otel.span(CHAT)) == _id(workflow)
    assert _parent(otel.span("chat gpt-4o")) is None


def test_tool_arguments_and_result_only_with_content_capture(otel: InMemoryTelemetry) -> None:
    """SPAN_ONLY: arguments by name and result as JSON, through the redact hook; off: none."""
    def redact(value: Any) -> Any:
        return {**value, "card": "***"} if isinstance(value, dict) and "card" in value else value

    captured = otel.handler(capture_content="SPAN_ONLY", redact=redact)

    @otel_llm.tool(name="pay", callbacks=[captured])
    def pay(amount: float, card: str) -> dict[str, Any]:
        return {"paid": amount}

    assert pay(9.5, card="4111") == {"paid": 9.5}
    attrs = otel.span("execute_tool pay").attributes or {}
    assert json.loads(str(attrs["gen_ai.tool.call.arguments"])) == {"amount": 9.5, "card": "***"}
    assert json.loads(str(attrs["gen_ai.tool.call.result"])) == {"paid": 9.5}


class _Events(BaseCallbackHandler):
    """A user handler: records the chain and tool events it gets."""

    def __init__(self) -> None:
        self.events: list[tuple[str, Any]] = []

    def on_chain_start(self, serialized: dict[str, Any], inputs: Any, **kw: Any) -> None:
        self.events.append(("chain_start", kw["name"]))

    def on_chain_end(self, outputs: Any, **kw: Any) -> None:
        self.events.append(("chain_end", outputs))

    def on_tool_start(self, serialized: dict[str, Any], input_str: str, *, run_id: UUID,
                      parent_run_id: UUID | None = None, **kw: Any) -> None:
        self.events.append(("tool_start", kw["inputs"]))

    def on_tool_error(self, error: BaseException, **kw: Any) -> None:
        self.events.append(("tool_error", error))


def test_scoped_user_handler_and_counter_see_decorated_runs(client: openai.OpenAI) -> None:
    """Scoped handlers get the chain/tool events; the token counter counts the SDK call inside."""
    events = _Events()
    boom = ValueError("bad")

    @otel_llm.tool
    def broken(x: int) -> None:
        raise boom

    @otel_llm.workflow()
    def flow(x: int) -> str:
        with pytest.raises(ValueError) as info:
            broken(x)
        assert info.value is boom
        client.chat.completions.create(model="gpt-4o-mini", messages=ASK)
        return "done"

    instrument_openai([])
    with scoped_callbacks(events), otel_llm.get_openai_callback() as counter:
        assert flow(3) == "done"
    assert events.events == [
        ("chain_start", flow.__qualname__),
        ("tool_start", {"x": 3}),
        ("tool_error", boom),
        ("chain_end", "done"),
    ]
    assert counter.successful_requests == 1 and counter.total_tokens > 0


def test_without_any_handler_the_function_runs_plainly() -> None:
    """No handler anywhere: the decorated function is just called (same result, same error)."""
    @otel_llm.agent
    def answer(x: int) -> int:
        if x < 0:
            raise ArithmeticError("negative")
        return x * 2

    assert answer(4) == 8
    with pytest.raises(ArithmeticError, match="negative"):
        answer(-1)
    assert answer.__name__ == "answer"


def test_decorated_runs_inside_attributes_carry_the_values(otel: InMemoryTelemetry) -> None:
    """A decorated run started in an attributes() block has its values, and so do its children
    started after the block ended (an async generator consumed later)."""
    handler = otel.handler()

    @otel_llm.tool(name="inner", callbacks=[handler])
    def inner() -> int:
        return 1

    @otel_llm.workflow(name="outer", callbacks=[handler])
    def outer() -> Iterator[int]:
        yield inner()

    with otel_llm.attributes(conversation_id="conv-9"):
        gen = outer()
        first = next(gen)
    assert first == 1
    assert list(gen) == []
    for name in ("invoke_workflow outer", "execute_tool inner"):
        assert (otel.span(name).attributes or {})["gen_ai.conversation.id"] == "conv-9"


def test_decorator_rejects_a_bad_name() -> None:
    """A name that is not a non-empty string is a TypeError at decoration time."""
    with pytest.raises(TypeError, match=r"otel_llm\.tool"):
        otel_llm.tool(name="")
    with pytest.raises(TypeError, match=r"otel_llm\.workflow"):
        otel_llm.workflow(name=3)  # type: ignore[call-overload]


def test_async_function_exception_passes_through_and_is_recorded(
        otel: InMemoryTelemetry) -> None:
    """A coroutine function's exception is the caller's, and its span is ERROR."""
    handler = otel.handler()

    @otel_llm.agent(name="failing", callbacks=[handler])
    async def failing() -> None:
        await asyncio.sleep(0)
        raise TimeoutError("slow")

    with pytest.raises(TimeoutError, match="slow"):
        asyncio.run(failing())
    span = otel.span("invoke_agent failing")
    assert span.status.status_code is StatusCode.ERROR
    assert (span.attributes or {})["error.type"] == "TimeoutError"
