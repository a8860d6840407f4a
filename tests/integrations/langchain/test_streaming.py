"""Streaming through LangChain: time to first chunk and chunk events, which the LangChain
path of other instrumentations lacks, plus usage for streams that carry none."""

from __future__ import annotations

import asyncio
import time
import warnings
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from opentelemetry.sdk.trace import ReadableSpan

from otel_llm import semconv
from otel_llm.callbacks import BaseCallbackHandler
from otel_llm.integrations.langchain._llm_runs import open_runs
from otel_llm.testing import InMemoryTelemetry

from .conftest import ModelFactory


def _first_token_event(span: ReadableSpan) -> int:
    events = [e for e in span.events if e.name == semconv.EVENT_FIRST_TOKEN]
    assert len(events) == 1
    return events[0].timestamp


async def test_astream_records_ttft_first_token_event_and_chunk_metrics(
        otel: InMemoryTelemetry, chat_model: ModelFactory) -> None:
    """The first streamed chunk sets time_to_first_chunk (attribute, event, metric) between
    the span's start and the moment the caller got that chunk; every later chunk adds one
    time_per_output_chunk value; usage is estimated and flagged."""
    model = chat_model("gpt-4o-mini+len=8+delay=0.02")
    forwarder = [otel.handler(chunk_events="all", chunk_metrics="all")]
    got_first_ns = None
    pieces = []
    async for chunk in model.astream("hello", config={"callbacks": forwarder}):
        if got_first_ns is None:
            got_first_ns = time.time_ns()
        pieces.append(chunk.content)
    span = otel.span("chat gpt-4o-mini+len=8+delay=0.02")
    attrs = span.attributes or {}
    first = _first_token_event(span)
    assert span.start_time is not None and got_first_ns is not None
    assert span.start_time <= first <= got_first_ns
    ttft = attrs[semconv.GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK]
    assert abs(ttft - (first - span.start_time) / 1e9) < 1e-6
    assert attrs[semconv.GEN_AI_REQUEST_STREAM] is True
    chunk_events = [e for e in span.events if e.name == semconv.EVENT_CHUNK]
    assert len(chunk_events) == len(pieces) - 1  # LangChain's chunks, after the first
    [ttft_point] = otel.metric_points(semconv.METRIC_TIME_TO_FIRST_CHUNK)
    assert ttft_point.count == 1 and abs(ttft_point.sum - ttft) < 1e-9
    [gaps] = otel.metric_points(semconv.METRIC_TIME_PER_OUTPUT_CHUNK)
    assert gaps.count == len(pieces) - 1
    assert gaps.sum >= 0.02 * 6  # the server paused 20 ms between its 8 word chunks
    assert attrs[semconv.GEN_AI_USAGE_OUTPUT_TOKENS] == 8
    assert attrs[semconv.OTEL_LLM_USAGE_ESTIMATED] is True


def test_sync_stream_has_ttft_and_provider_usage_when_asked(
        otel: InMemoryTelemetry, chat_model: ModelFactory) -> None:
    """A sync stream with stream_usage=True: TTFT, and the provider's usage (not estimated)
    read from the last chunk's usage_metadata."""
    model = chat_model("gpt-4o-mini+len=6", stream_usage=True)
    forwarder = [otel.handler()]
    chunks = list(model.stream("hello", config={"callbacks": forwarder}))
    usage = next(c.usage_metadata for c in chunks if c.usage_metadata)
    attrs = otel.span("chat gpt-4o-mini+len=6").attributes or {}
    assert semconv.GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK in attrs
    assert attrs[semconv.GEN_AI_USAGE_INPUT_TOKENS] == usage["input_tokens"]
    assert attrs[semconv.GEN_AI_USAGE_OUTPUT_TOKENS] == usage["output_tokens"] == 6
    assert semconv.OTEL_LLM_USAGE_ESTIMATED not in attrs
    assert attrs[semconv.GEN_AI_RESPONSE_MODEL] == "gpt-4o-mini"


class _Recorder(BaseCallbackHandler):
    def __init__(self) -> None:
        self.tokens: list[str] = []

    def on_llm_new_token(self, token: str, **kwargs: Any) -> None:
        self.tokens.append(token)


async def _drain_v3(model: Any, forwarder: Any) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # LangChainBetaWarning: v3 is in beta
        stream = await model.astream_events("hello", version="v3",
                                            config={"callbacks": forwarder})
    async for _ in stream:
        pass
    await stream.output
    # LangChain resolves the stream before its producer task emits on_llm_end.
    for _ in range(100):
        if open_runs() == 0:
            break
        await asyncio.sleep(0.01)


async def test_stream_events_v3_counts_each_chunk_once(
        otel: InMemoryTelemetry, chat_model: ModelFactory) -> None:
    """astream_events(version="v3") on ChatOpenAI fires on_llm_new_token and on_stream_event
    for the same chunks: only the tokens count, so TTFT and chunk events are not doubled."""
    recorder = _Recorder()
    forwarder = [otel.handler(chunk_events="all"), recorder]
    await _drain_v3(chat_model("gpt-4o-mini+len=4"), forwarder)
    span = otel.span("chat gpt-4o-mini+len=4")
    assert semconv.GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK in (span.attributes or {})
    _first_token_event(span)
    assert len("".join(recorder.tokens).split()) == 4  # +len=4: four words
    assert len([e for e in span.events if e.name == semconv.EVENT_CHUNK]) == \
        len(recorder.tokens) - 1
    assert open_runs() == 0


class _NativeEventsModel(BaseChatModel):
    """A model that streams protocol events natively: LangChain fires no on_llm_new_token."""

    @property
    def _llm_type(self) -> str:
        return "native-events"

    def _generate(self, messages: Any, stop: Any = None, run_manager: Any = None,
                  **kwargs: Any) -> ChatResult:
        return ChatResult(generations=[ChatGeneration(message=AIMessage(content="a b"))])

    async def _astream_chat_model_events(self, messages: Any, **kwargs: Any) -> Any:
        yield {"event": "message-start", "role": "ai"}
        yield {"event": "content-block-start", "index": 0, "content": {"type": "text", "text": ""}}
        for piece in ("a", " b"):
            await asyncio.sleep(0.01)
            yield {"event": "content-block-delta", "index": 0,
                   "delta": {"type": "text-delta", "text": piece}}
        yield {"event": "content-block-finish", "index": 0,
               "content": {"type": "text", "text": "a b"}}
        yield {"event": "message-finish"}


async def test_native_v3_events_become_tokens(otel: InMemoryTelemetry) -> None:
    """For a model that streams events natively (LangChain fires no on_llm_new_token), each
    content delta is a chunk for the OTel handler: TTFT is recorded, one chunk event per
    delta after the first."""
    await _drain_v3(_NativeEventsModel(), [otel.handler(chunk_events="all")])
    [span] = otel.spans()
    assert semconv.GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK in (span.attributes or {})
    assert len([e for e in span.events if e.name == semconv.EVENT_CHUNK]) == 1
