"""get_openai_callback() counts LangChain runs with no setup (it joins them through LangChain's
configure hook), and its totals equal the usage the devserver reports, including streams that carried no usage at all."""

from __future__ import annotations

import asyncio
from typing import Any

import openai
from langchain_core.callbacks import get_usage_metadata_callback
from langchain_core.messages import AIMessageChunk
from langchain_openai import OpenAI

from otel_llm import get_openai_callback, semconv
from otel_llm.devserver import ModelServer
from otel_llm.instrumentation.openai import instrument_openai
from otel_llm.testing import InMemoryTelemetry

from .chains import flower_price
from .conftest import ModelFactory

MESSAGES = [("system", "You sell flowers."), ("user", "What do tulips cost?"),
            ("ai", "Three dollars."), ("user", "And roses, in one word?")]


def _usage(message: Any) -> tuple[int, int]:
    usage = message.usage_metadata
    assert usage is not None, "the server reported no usage"
    return usage["input_tokens"], usage["output_tokens"]


async def _streamed(model: Any, forwarder: Any, messages: Any = MESSAGES) -> AIMessageChunk:
    total: AIMessageChunk | None = None
    async for chunk in model.astream(messages, config={"callbacks": forwarder}):
        total = chunk if total is None else total + chunk
    assert total is not None
    return total


def test_sync_invoke_totals_equal_server_usage(chat_model: ModelFactory) -> None:
    """invoke: prompt and completion tokens, one request and a known cost."""
    forwarder = None
    with get_openai_callback() as cb:
        reply = chat_model("gpt-4o-mini+len=7").invoke(MESSAGES, config={"callbacks": forwarder})
    assert (cb.prompt_tokens, cb.completion_tokens) == _usage(reply)
    assert cb.successful_requests == 1 and cb.estimated_requests == 0
    assert cb.total_cost is not None and cb.total_cost > 0
    assert set(cb.per_model) == {"gpt-4o-mini"}


async def test_gathered_ainvokes_counted_once_with_both_layers_on(
        chat_model: ModelFactory, otel: InMemoryTelemetry) -> None:
    """Three ainvokes under asyncio.gather, with the SDK instrumentation also on: the counter
    holds exactly the three server-reported usages."""
    instrument_openai([otel.handler()])
    forwarder = [otel.handler()]
    model = chat_model("gpt-4o-mini+len=4")
    with get_openai_callback() as cb:
        replies = await asyncio.gather(*(
            model.ainvoke(f"question {i}", config={"callbacks": forwarder}) for i in range(3)))
    assert cb.successful_requests == 3
    assert cb.prompt_tokens == sum(_usage(r)[0] for r in replies)
    assert cb.completion_tokens == sum(_usage(r)[1] for r in replies) == 12


async def test_astream_without_usage_is_estimated_exactly(chat_model: ModelFactory) -> None:
    """astream without stream_usage: the provider sends no usage; the counter counts it with
    tiktoken, flags it estimated, and gets what the server reports for the same request."""
    forwarder = None
    with get_openai_callback() as cb:
        streamed = await _streamed(chat_model("gpt-4o-mini+len=9"), forwarder)
    assert streamed.usage_metadata is None  # really no provider usage
    reported = await _streamed(chat_model("gpt-4o-mini+len=9", stream_usage=True), forwarder)
    assert (cb.prompt_tokens, cb.completion_tokens) == _usage(reported)
    assert cb.estimated_requests == 1
    assert "counted with tiktoken" in str(cb)


async def test_astream_tool_call_without_usage_is_estimated_exactly(
        chat_model: ModelFactory) -> None:
    """A streamed reply that is a tool call, with the tool definition in the prompt: both
    sides of the estimate match the server's usage."""
    forwarder = None
    with get_openai_callback() as cb:
        streamed = await _streamed(chat_model("gpt-4o-mini").bind_tools([flower_price]),
                                   forwarder)
    assert streamed.tool_calls
    with_usage = chat_model("gpt-4o-mini", stream_usage=True).bind_tools([flower_price])
    reported = await _streamed(with_usage, forwarder)
    assert (cb.prompt_tokens, cb.completion_tokens) == _usage(reported)


async def test_langchain_usage_callback_misses_what_ours_counts(
        chat_model: ModelFactory) -> None:
    """Documented comparison: LangChain's own usage callback (get_usage_metadata_callback;
    langchain-community's get_openai_callback reads the same missing usage) reports nothing
    for an astream without provider usage; ours reports the server's numbers."""
    forwarder = None
    model = chat_model("gpt-4o-mini+len=6")
    with get_usage_metadata_callback() as theirs, get_openai_callback() as ours:
        await _streamed(model, forwarder)
    assert theirs.usage_metadata == {}
    reported = await _streamed(chat_model("gpt-4o-mini+len=6", stream_usage=True), forwarder)
    assert (ours.prompt_tokens, ours.completion_tokens) == _usage(reported)
    assert ours.completion_tokens == 6


def test_cached_and_reasoning_tokens_from_llm_output_and_usage_metadata(
        chat_model: ModelFactory, otel: InMemoryTelemetry) -> None:
    """A reasoning model and a long prompt sent twice: cached prompt tokens and reasoning
    tokens reach the counter and the span, whether LangChain reports them in
    llm_output["token_usage"] (invoke) or only in usage_metadata (stream)."""
    long_prompt = "tulip " * 1100
    forwarder = [otel.handler()]
    for model in (chat_model("o3-mini+len=3", reasoning_effort="low"),
                  chat_model("o3-mini+len=3", reasoning_effort="low", stream_usage=True)):
        with get_openai_callback() as cb:
            if model.stream_usage:
                replies: list[Any] = []
                for _ in range(2):
                    chunks = list(model.stream(long_prompt, config={"callbacks": forwarder}))
                    replies.append(sum(chunks[1:], chunks[0]))
            else:
                replies = [model.invoke(long_prompt, config={"callbacks": forwarder})
                           for _ in range(2)]
        details = [r.usage_metadata for r in replies]
        cached = sum(d["input_token_details"]["cache_read"] for d in details)
        reasoning = sum(d["output_token_details"]["reasoning"] for d in details)
        assert cached >= 1024 and reasoning == 2 * 64
        assert cb.cached_prompt_tokens == cached
        assert cb.reasoning_tokens == reasoning
        assert cb.completion_tokens == sum(d["output_tokens"] for d in details)
        last = otel.spans()[-1].attributes or {}
        assert last[semconv.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS] == \
            details[-1]["input_token_details"]["cache_read"]
        assert last[semconv.GEN_AI_USAGE_REASONING_OUTPUT_TOKENS] == 64


async def test_legacy_completions_stream_is_estimated_exactly(server: ModelServer) -> None:
    """A text-completion LLM (on_llm_start path) streamed without usage: the estimate equals
    the usage the server reports when the same prompt is sent without streaming."""
    llm = OpenAI(model="gpt-3.5-turbo-instruct+len=7", base_url=server.base_url,
                 api_key="sk-test", max_retries=0,
                 http_async_client=openai.DefaultAsyncHttpxClient())
    forwarder = None
    with get_openai_callback() as cb:
        text = "".join([c async for c in llm.astream("Name a flower.",
                                                     config={"callbacks": forwarder})])
    with get_openai_callback() as reported:
        same = await llm.ainvoke("Name a flower.", config={"callbacks": forwarder})
    assert same == text
    assert cb.estimated_requests == 1 and reported.estimated_requests == 0
    assert (cb.prompt_tokens, cb.completion_tokens) == \
        (reported.prompt_tokens, reported.completion_tokens)
    assert cb.completion_tokens == 7


async def test_nested_counters_each_count_their_own_block(chat_model: ModelFactory) -> None:
    """Nested get_openai_callback() blocks around LangChain calls, with no setup: the inner
    counter holds its own call, the outer one both, each equal to the server's usage."""
    model = chat_model("gpt-4o-mini+len=5")
    with get_openai_callback() as outer:
        first = await model.ainvoke("outer question")
        with get_openai_callback() as inner:
            second = await model.ainvoke("inner question")
    assert (inner.prompt_tokens, inner.completion_tokens) == _usage(second)
    assert (outer.prompt_tokens, outer.completion_tokens) == tuple(
        a + b for a, b in zip(_usage(first), _usage(second), strict=True))
    assert (outer.successful_requests, inner.successful_requests) == (2, 1)
