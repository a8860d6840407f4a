"""OpenTelemetryCallbackHandler: spans, attributes, streaming, errors and metrics of LLM runs."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from typing import Any

import pytest
from opentelemetry import metrics, trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.sampling import Decision, Sampler, SamplingResult
from opentelemetry.trace import SpanKind, StatusCode

from otel_llm import semconv
from otel_llm.callbacks.base import BaseCallbackHandler
from otel_llm.errors import ConfigurationError
from otel_llm.schema import AIMessage, ChatGeneration, LLMResult
from otel_llm.telemetry import CHUNK_INDEX, OpenTelemetryCallbackHandler, TokenUsage
from otel_llm.testing.otel import InMemoryTelemetry

from .events import MODEL, PARAMS, FakeClock, chat_result, chat_start, stream, text_result

SPAN = f"chat {MODEL}"


class RateLimitError(Exception):
    """Stands in for openai.RateLimitError, which lives in a private module."""


RateLimitError.__module__ = "openai._exceptions"


def test_handler_flags() -> None:
    """The handler is a sync BaseCallbackHandler that runs inline and never re-raises."""
    handler = OpenTelemetryCallbackHandler()
    assert isinstance(handler, BaseCallbackHandler)
    assert handler.run_inline is True
    assert handler.raise_error is False


def test_chat_span_name_kind_and_request_attributes(otel: InMemoryTelemetry) -> None:
    """A chat run is one CLIENT span '{operation} {model}' with the request's attributes."""
    handler = otel.handler()
    params = {
        **PARAMS,
        "temperature": 0.3,
        "top_p": 0.9,
        "max_completion_tokens": 200,
        "stop": ["END", "STOP"],
        "seed": 7,
        "n": 2,
        "frequency_penalty": 0.5,
        "presence_penalty": -0.5,
    }
    run = chat_start(handler, params=params)
    handler.on_llm_end(chat_result(), run_id=run)
    span = otel.span(SPAN)
    assert span.kind is SpanKind.CLIENT
    expected = {
        semconv.GEN_AI_OPERATION_NAME: "chat",
        semconv.GEN_AI_PROVIDER_NAME: "openai",
        semconv.GEN_AI_REQUEST_MODEL: MODEL,
        semconv.SERVER_ADDRESS: "api.openai.com",
        semconv.SERVER_PORT: 443,
        semconv.GEN_AI_REQUEST_TEMPERATURE: 0.3,
        semconv.GEN_AI_REQUEST_TOP_P: 0.9,
        semconv.GEN_AI_REQUEST_MAX_TOKENS: 200,
        semconv.GEN_AI_REQUEST_STOP_SEQUENCES: ("END", "STOP"),
        semconv.GEN_AI_REQUEST_SEED: 7,
        semconv.GEN_AI_REQUEST_CHOICE_COUNT: 2,
        semconv.GEN_AI_REQUEST_FREQUENCY_PENALTY: 0.5,
        semconv.GEN_AI_REQUEST_PRESENCE_PENALTY: -0.5,
    }
    attrs = dict(span.attributes or {})
    assert {k: attrs.get(k) for k in expected} == expected
    assert span.status.status_code is StatusCode.UNSET


def test_optional_request_attributes_absent_when_not_sent(otel: InMemoryTelemetry) -> None:
    """Parameters the request did not carry (and n=1, stream off) add no attribute."""
    handler = otel.handler()
    run = chat_start(handler, params={"model": MODEL, "n": 1, "stream": False})
    handler.on_llm_end(chat_result(), run_id=run)
    attrs = otel.span(SPAN).attributes or {}
    for absent in (
        semconv.GEN_AI_REQUEST_TEMPERATURE,
        semconv.GEN_AI_REQUEST_CHOICE_COUNT,
        semconv.GEN_AI_REQUEST_STREAM,
        semconv.GEN_AI_REQUEST_STOP_SEQUENCES,
        semconv.SERVER_ADDRESS,
        semconv.GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK,
    ):
        assert absent not in attrs


def test_metadata_fills_in_for_missing_params(otel: InMemoryTelemetry) -> None:
    """LangChain's ls_* metadata supplies model, temperature, max tokens and stop."""
    handler = otel.handler()
    metadata = {
        "ls_provider": "azure",
        "ls_model_name": "gpt-4o",
        "ls_temperature": 0.1,
        "ls_max_tokens": 64,
        "ls_stop": "###",
    }
    run = chat_start(handler, params={}, metadata=metadata)
    handler.on_llm_end(chat_result(), run_id=run)
    attrs = otel.span("chat gpt-4o").attributes or {}
    assert attrs[semconv.GEN_AI_PROVIDER_NAME] == semconv.PROVIDER_AZURE_OPENAI
    assert attrs[semconv.GEN_AI_REQUEST_TEMPERATURE] == 0.1
    assert attrs[semconv.GEN_AI_REQUEST_MAX_TOKENS] == 64
    assert attrs[semconv.GEN_AI_REQUEST_STOP_SEQUENCES] == ("###",)


class _RecordingSampler(Sampler):
    def __init__(self) -> None:
        self.seen: list[dict[str, Any]] = []

    def should_sample(
        self,
        parent_context: Any,
        trace_id: int,
        name: str,
        kind: Any = None,
        attributes: Any = None,
        links: Sequence[Any] | None = None,
        trace_state: Any = None,
    ) -> SamplingResult:
        self.seen.append({"name": name, **dict(attributes or {})})
        return SamplingResult(Decision.RECORD_AND_SAMPLE, attributes)

    def get_description(self) -> str:
        return "recording"


def test_sampler_sees_model_provider_operation_and_server_at_start() -> None:
    """Samplers decide at span start, so those attributes must be there already."""
    sampler = _RecordingSampler()
    handler = OpenTelemetryCallbackHandler(tracer_provider=TracerProvider(sampler=sampler))
    chat_start(handler)
    [seen] = sampler.seen
    assert seen == {
        "name": SPAN,
        semconv.GEN_AI_OPERATION_NAME: "chat",
        semconv.GEN_AI_PROVIDER_NAME: "openai",
        semconv.GEN_AI_REQUEST_MODEL: MODEL,
        semconv.SERVER_ADDRESS: "api.openai.com",
        semconv.SERVER_PORT: 443,
    }


def test_text_completion_and_embeddings_operations(otel: InMemoryTelemetry) -> None:
    """on_llm_start is text_completion, or embeddings when ls_model_type says so."""
    handler = otel.handler()
    for model_type, expected in (("llm", "text_completion"), ("embeddings", "embeddings")):
        run = uuid.uuid4()
        handler.on_llm_start(
            {},
            ["Say hi"],
            run_id=run,
            metadata={"ls_provider": "openai", "ls_model_type": model_type},
            invocation_params={"model_name": "m1"},
        )
        handler.on_llm_end(text_result(), run_id=run)
        span = otel.span(f"{expected} m1")
        assert (span.attributes or {})[semconv.GEN_AI_OPERATION_NAME] == expected


def test_unknown_model_and_provider(otel: InMemoryTelemetry) -> None:
    """Without a model the span is named after the operation; an unnamed provider is _OTHER."""
    handler = otel.handler()
    run = chat_start(handler, params={}, metadata={})
    handler.on_llm_end(chat_result(), run_id=run)
    span = otel.span("chat")
    assert (span.attributes or {})[semconv.GEN_AI_PROVIDER_NAME] == "_OTHER"


def test_response_attributes_and_usage(otel: InMemoryTelemetry) -> None:
    """Response id, model, finish reasons and every usage count land on the span."""
    handler = otel.handler()
    run = chat_start(handler)
    usage = {
        "prompt_tokens": 100,
        "completion_tokens": 40,
        "prompt_tokens_details": {"cached_tokens": 64},
        "completion_tokens_details": {"reasoning_tokens": 16},
    }
    handler.on_llm_end(
        chat_result(finish_reason="tool_calls", extra_output={"token_usage": usage}), run_id=run
    )
    attrs = otel.span(SPAN).attributes or {}
    assert attrs[semconv.GEN_AI_RESPONSE_ID] == "chatcmpl-abc"
    assert attrs[semconv.GEN_AI_RESPONSE_MODEL] == "gpt-4o-mini-2024-07-18"
    assert attrs[semconv.GEN_AI_RESPONSE_FINISH_REASONS] == ("tool_calls",)
    assert attrs[semconv.GEN_AI_USAGE_INPUT_TOKENS] == 100
    assert attrs[semconv.GEN_AI_USAGE_OUTPUT_TOKENS] == 40
    assert attrs[semconv.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS] == 64
    assert attrs[semconv.GEN_AI_USAGE_REASONING_OUTPUT_TOKENS] == 16
    assert semconv.OTEL_LLM_USAGE_ESTIMATED not in attrs


def test_usage_from_usage_metadata(otel: InMemoryTelemetry) -> None:
    """Without llm_output usage, LangChain's message.usage_metadata is used."""
    handler = otel.handler()
    run = chat_start(handler)
    message = AIMessage(
        "ok",
        usage_metadata={
            "input_tokens": 30,
            "output_tokens": 9,
            "input_token_details": {"cache_read": 10},
            "output_token_details": {"reasoning": 4},
        },
    )
    handler.on_llm_end(
        chat_result(prompt_tokens=None, completion_tokens=None, message=message), run_id=run
    )
    attrs = otel.span(SPAN).attributes or {}
    assert attrs[semconv.GEN_AI_USAGE_INPUT_TOKENS] == 30
    assert attrs[semconv.GEN_AI_USAGE_OUTPUT_TOKENS] == 9
    assert attrs[semconv.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS] == 10
    assert attrs[semconv.GEN_AI_USAGE_REASONING_OUTPUT_TOKENS] == 4


def test_estimated_usage_is_marked_on_span_and_metric(otel: InMemoryTelemetry) -> None:
    """Counts made with tiktoken are flagged on the span and on the token metric."""
    handler = otel.handler()
    run = chat_start(handler)
    handler.on_llm_end(chat_result(extra_output={"otel_llm_usage_estimated": True}), run_id=run)
    assert (otel.span(SPAN).attributes or {})[semconv.OTEL_LLM_USAGE_ESTIMATED] is True
    points = otel.metric_points(semconv.METRIC_TOKEN_USAGE)
    assert len(points) == 2
    assert all((p.attributes or {})[semconv.OTEL_LLM_USAGE_ESTIMATED] is True for p in points)


def test_timestamps_come_from_the_events(otel: InMemoryTelemetry, clock: FakeClock) -> None:
    """Start and end times are the clock readings at the start and end hooks."""
    handler = otel.handler(clock=clock)
    start = clock.now
    run = chat_start(handler)
    end = clock.advance(1.5)
    handler.on_llm_end(chat_result(), run_id=run)
    span = otel.span(SPAN)
    assert (span.start_time, span.end_time) == (start, end)
    [point] = otel.metric_points(semconv.METRIC_OPERATION_DURATION)
    assert point.sum == pytest.approx(1.5)


# --- streaming -------------------------------------------------------------------------


def test_first_token_event_and_time_to_first_chunk(
    otel: InMemoryTelemetry, clock: FakeClock
) -> None:
    """The first chunk adds the first-token event, the TTFT attribute and marks the stream."""
    handler = otel.handler(clock=clock)
    run = chat_start(handler)
    clock.advance(0.25)
    first = clock.now
    handler.on_llm_new_token("Hel", run_id=run)
    stream(handler, run, 4, clock, gap=0.05)
    handler.on_llm_end(chat_result(), run_id=run)
    span = otel.span(SPAN)
    attrs = span.attributes or {}
    assert attrs[semconv.GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK] == pytest.approx(0.25)
    assert attrs[semconv.GEN_AI_REQUEST_STREAM] is True
    assert [(e.name, e.timestamp) for e in span.events] == [(semconv.EVENT_FIRST_TOKEN, first)]
    [ttft] = otel.metric_points(semconv.METRIC_TIME_TO_FIRST_CHUNK)
    assert (ttft.count, ttft.sum) == (1, pytest.approx(0.25))


def test_time_per_output_chunk_one_value_per_chunk_after_the_first(
    otel: InMemoryTelemetry, clock: FakeClock
) -> None:
    """chunk_metrics="all": N chunks give N-1 values of the gap between consecutive chunks."""
    handler = otel.handler(clock=clock, chunk_metrics="all")
    run = chat_start(handler)
    stream(handler, run, 11, clock, gap=0.02)
    handler.on_llm_end(chat_result(), run_id=run)
    [point] = otel.metric_points(semconv.METRIC_TIME_PER_OUTPUT_CHUNK)
    assert point.count == 10
    assert point.sum == pytest.approx(0.2)
    assert (point.min, point.max) == (pytest.approx(0.02), pytest.approx(0.02))


def test_interleaved_streams_keep_their_own_chunks(
    otel: InMemoryTelemetry, clock: FakeClock
) -> None:
    """Tokens of two runs in alternation, and of a run started after one ended, each land on
    their own run (the token hook remembers the last run by identity of its id)."""
    handler = otel.handler(clock=clock, chunk_metrics="all")
    a, b = chat_start(handler), chat_start(handler)
    for _ in range(5):
        clock.advance(0.01)
        handler.on_llm_new_token("a", run_id=a)
        clock.advance(0.01)
        handler.on_llm_new_token("b", run_id=b)
    clock.advance(0.01)
    handler.on_llm_new_token("a", run_id=a)
    handler.on_llm_end(chat_result(), run_id=a)
    handler.on_llm_new_token("late", run_id=a)  # after its end: ignored
    c = chat_start(handler)
    handler.on_llm_new_token("c", run_id=c)
    for run in (b, c):
        handler.on_llm_end(chat_result(), run_id=run)
    [point] = otel.metric_points(semconv.METRIC_TIME_PER_OUTPUT_CHUNK)
    assert point.count == 5 + 4  # a: 6 chunks, b: 5, c: 1
    assert (point.min, point.max) == (pytest.approx(0.02), pytest.approx(0.02))
    first_chunk = otel.metric_points(semconv.METRIC_TIME_TO_FIRST_CHUNK)
    assert sum(p.count for p in first_chunk) == 3
    assert handler.open_runs == 0


def test_long_streams_record_chunk_gaps_before_the_end(otel: InMemoryTelemetry) -> None:
    """Chunk gaps are buffered per run but never more than a bounded number of them."""
    handler = otel.handler(chunk_metrics="all")
    run = chat_start(handler)
    stream(handler, run, 3000)
    [point] = otel.metric_points(semconv.METRIC_TIME_PER_OUTPUT_CHUNK)
    assert 2000 <= point.count < 2999
    handler.on_llm_end(chat_result(), run_id=run)
    [point] = otel.metric_points(semconv.METRIC_TIME_PER_OUTPUT_CHUNK)
    assert point.count == 2999


def test_sampled_chunk_gaps_cover_every_position_once_over_n_runs(
    otel: InMemoryTelemetry, clock: FakeClock
) -> None:
    """chunk_metrics=N records one gap in N, rotating which ones run by run: N identical
    streams together record each gap position exactly once (the distribution is kept)."""
    every = 4
    handler = otel.handler(clock=clock, chunk_metrics=every)
    for _ in range(every):
        run = chat_start(handler)
        # Gap k (before chunk k+1) lasts k ms, so the sum tells which gaps were taken.
        handler.on_llm_new_token("t", run_id=run)
        for k in range(1, 11):
            clock.advance(k / 1000)
            handler.on_llm_new_token("t", run_id=run)
        handler.on_llm_end(chat_result(), run_id=run)
    [point] = otel.metric_points(semconv.METRIC_TIME_PER_OUTPUT_CHUNK)
    assert point.count == 10
    assert point.sum == pytest.approx(sum(range(1, 11)) / 1000)
    assert (point.min, point.max) == (pytest.approx(0.001), pytest.approx(0.010))


def test_default_chunk_metrics_sample_one_gap_in_20(otel: InMemoryTelemetry) -> None:
    """By default a 201-chunk stream records 10 of its 200 gaps (one SDK record costs
    about as much as the SDK's parsing of a chunk)."""
    handler = otel.handler()
    run = chat_start(handler)
    stream(handler, run, 201)
    handler.on_llm_end(chat_result(), run_id=run)
    [point] = otel.metric_points(semconv.METRIC_TIME_PER_OUTPUT_CHUNK)
    assert point.count == 10


def test_chunk_metrics_off_records_no_gaps(otel: InMemoryTelemetry) -> None:
    """chunk_metrics="off": no time_per_output_chunk, TTFT still recorded."""
    handler = otel.handler(chunk_metrics="off")
    run = chat_start(handler)
    stream(handler, run, 30)
    handler.on_llm_end(chat_result(), run_id=run)
    assert otel.metric_points(semconv.METRIC_TIME_PER_OUTPUT_CHUNK) == []
    assert len(otel.metric_points(semconv.METRIC_TIME_TO_FIRST_CHUNK)) == 1


@pytest.mark.parametrize("bad", ["first", 0, -1, True, 2.5])
def test_invalid_chunk_metrics_is_a_configuration_error(bad: Any) -> None:
    """A chunk_metrics value that is not off/all/N>=1 names the setting."""
    with pytest.raises(ConfigurationError) as info:
        OpenTelemetryCallbackHandler(chunk_metrics=bad)
    assert info.value.setting == "chunk_metrics"


@pytest.mark.parametrize(
    ("mode", "first_events", "chunk_indexes"),
    [
        ("off", 0, []),
        ("first", 1, []),
        ("all", 1, list(range(1, 10))),
        (3, 1, [2, 5, 8]),
    ],
)
def test_chunk_events_modes(
    otel: InMemoryTelemetry, mode: Any, first_events: int, chunk_indexes: list[int]
) -> None:
    """chunk_events: off = none, first = first-token only, all = every chunk, N = every Nth."""
    handler = otel.handler(chunk_events=mode)
    run = chat_start(handler)
    stream(handler, run, 10)
    handler.on_llm_end(chat_result(), run_id=run)
    events = otel.span(SPAN).events
    assert sum(e.name == semconv.EVENT_FIRST_TOKEN for e in events) == first_events
    chunks = [(e.attributes or {})[CHUNK_INDEX] for e in events if e.name == semconv.EVENT_CHUNK]
    assert chunks == chunk_indexes
    # TTFT is recorded whatever the event mode.
    assert semconv.GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK in (otel.span(SPAN).attributes or {})


@pytest.mark.parametrize("bad", ["some", 0, -2, True, 1.5])
def test_invalid_chunk_events_is_a_configuration_error(bad: Any) -> None:
    """A chunk_events value that is not off/first/all/N>=1 names the setting."""
    with pytest.raises(ConfigurationError) as info:
        OpenTelemetryCallbackHandler(chunk_events=bad)
    assert info.value.setting == "chunk_events"


@pytest.mark.parametrize(
    ("kwargs", "setting"),
    [({"max_open_runs": 0}, "max_open_runs"), ({"max_run_age": 0}, "max_run_age")],
)
def test_invalid_bounds_are_configuration_errors(kwargs: dict[str, Any], setting: str) -> None:
    """Registry bounds must be positive."""
    with pytest.raises(ConfigurationError) as info:
        OpenTelemetryCallbackHandler(**kwargs)
    assert info.value.setting == setting


def test_stream_flag_from_request_params(otel: InMemoryTelemetry) -> None:
    """stream=True in the request marks the span at start even before a chunk arrives."""
    handler = otel.handler()
    run = chat_start(handler, params={**PARAMS, "stream": True})
    handler.on_llm_end(chat_result(), run_id=run)
    assert (otel.span(SPAN).attributes or {})[semconv.GEN_AI_REQUEST_STREAM] is True


# --- errors ------------------------------------------------------------------------------


def test_llm_error_sets_status_type_and_records_exception_once(
    otel: InMemoryTelemetry, clock: FakeClock
) -> None:
    """A failed run: ERROR status, qualified error.type, one exception event (content off:
    the status names the type, the message may quote the prompt)."""
    handler = otel.handler(clock=clock)
    run = chat_start(handler)
    clock.advance(0.5)
    handler.on_llm_error(RateLimitError("slow down"), run_id=run)
    span = otel.span(SPAN)
    assert span.status.status_code is StatusCode.ERROR
    assert span.status.description == "openai.RateLimitError"
    assert (span.attributes or {})[semconv.ERROR_TYPE] == "openai.RateLimitError"
    exceptions = [e for e in span.events if e.name == "exception"]
    assert len(exceptions) == 1
    assert exceptions[0].timestamp == clock.now
    [point] = otel.metric_points(semconv.METRIC_OPERATION_DURATION)
    assert (point.attributes or {})[semconv.ERROR_TYPE] == "openai.RateLimitError"
    assert point.sum == pytest.approx(0.5)


def test_builtin_error_type_has_no_module(otel: InMemoryTelemetry) -> None:
    """Builtin exceptions are named without 'builtins.'; an empty message falls back to the type."""
    handler = otel.handler()
    run = chat_start(handler)
    handler.on_llm_error(ValueError(), run_id=run)
    span = otel.span(SPAN)
    assert (span.attributes or {})[semconv.ERROR_TYPE] == "ValueError"
    assert span.status.description == "ValueError"


def test_child_error_does_not_fail_the_parent(otel: InMemoryTelemetry) -> None:
    """A failing LLM run inside a chain leaves the chain's status unset."""
    handler = otel.handler()
    chain = uuid.uuid4()
    handler.on_chain_start({"name": "Outer"}, {}, run_id=chain)
    run = chat_start(handler, parent=chain)
    handler.on_llm_error(TimeoutError("t"), run_id=run)
    handler.on_chain_end({}, run_id=chain)
    assert otel.span(SPAN).status.status_code is StatusCode.ERROR
    assert otel.span("invoke_workflow Outer").status.status_code is StatusCode.UNSET


# --- metrics -----------------------------------------------------------------------------


def test_token_usage_and_duration_metrics(otel: InMemoryTelemetry) -> None:
    """Input and output token histograms by gen_ai.token.type, and one duration value."""
    handler = otel.handler()
    run = chat_start(handler)
    handler.on_llm_end(chat_result(prompt_tokens=12, completion_tokens=5), run_id=run)
    common = {
        semconv.GEN_AI_OPERATION_NAME: "chat",
        semconv.GEN_AI_PROVIDER_NAME: "openai",
        semconv.GEN_AI_REQUEST_MODEL: MODEL,
        semconv.GEN_AI_RESPONSE_MODEL: "gpt-4o-mini-2024-07-18",
        semconv.SERVER_ADDRESS: "api.openai.com",
        semconv.SERVER_PORT: 443,
    }
    [inp] = otel.metric_points(semconv.METRIC_TOKEN_USAGE, **{semconv.GEN_AI_TOKEN_TYPE: "input"})
    [out] = otel.metric_points(semconv.METRIC_TOKEN_USAGE, **{semconv.GEN_AI_TOKEN_TYPE: "output"})
    assert (inp.sum, out.sum) == (12, 5)
    assert dict(inp.attributes or {}) == {
        **common,
        semconv.GEN_AI_TOKEN_TYPE: "input",
        semconv.OTEL_LLM_USAGE_ESTIMATED: False,
    }
    [duration] = otel.metric_points(semconv.METRIC_OPERATION_DURATION)
    assert dict(duration.attributes or {}) == common
    # The default cost_fn prices the run from the local table (response model).
    from otel_llm.pricing import default_price_table

    [cost] = otel.metric_points(semconv.METRIC_COST)
    expected = default_price_table().cost("gpt-4o-mini-2024-07-18", input_tokens=12,
                                          output_tokens=5)
    assert expected is not None and cost.sum == pytest.approx(expected)


def test_no_token_metric_without_usage(otel: InMemoryTelemetry) -> None:
    """Unknown usage records nothing rather than zeros."""
    handler = otel.handler()
    run = chat_start(handler)
    handler.on_llm_end(chat_result(prompt_tokens=None, completion_tokens=None), run_id=run)
    assert otel.metric_points(semconv.METRIC_TOKEN_USAGE) == []
    assert semconv.GEN_AI_USAGE_INPUT_TOKENS not in (otel.span(SPAN).attributes or {})


def test_metric_attributes_stay_bounded(otel: InMemoryTelemetry) -> None:
    """Run ids, user ids, tags and metadata values never reach a metric's attributes."""
    handler = otel.handler(cost_fn=lambda model, usage: 0.01)
    for user in range(5):
        metadata = {"ls_provider": "openai", "user_id": f"user-{user}", "session": str(user)}
        run = chat_start(handler, metadata=metadata)
        stream(handler, run, 3)
        handler.on_llm_end(chat_result(), run_id=run)
    failed = chat_start(handler, metadata={"ls_provider": "openai", "user_id": "x"})
    handler.on_llm_error(KeyError("k"), run_id=failed)
    names = otel.metric_names()
    assert names == {
        semconv.METRIC_TOKEN_USAGE,
        semconv.METRIC_OPERATION_DURATION,
        semconv.METRIC_TIME_TO_FIRST_CHUNK,
        semconv.METRIC_TIME_PER_OUTPUT_CHUNK,
        semconv.METRIC_COST,
    }
    for name in names:
        for point in otel.metric_points(name):
            assert set(point.attributes or {}) <= semconv.METRIC_ATTRIBUTES, name
    # Five users, one series per token type: the user id did not split them.
    assert len(otel.metric_points(semconv.METRIC_TOKEN_USAGE)) == 2


def test_cost_metric_when_the_price_is_known(otel: InMemoryTelemetry) -> None:
    """cost_fn gets the response model and the usage; its USD value is a metric and an attribute."""
    calls: list[tuple[str, TokenUsage]] = []

    def cost(model: str, usage: TokenUsage) -> float | None:
        calls.append((model, usage))
        return 0.0042

    handler = otel.handler(cost_fn=cost)
    run = chat_start(handler)
    handler.on_llm_end(chat_result(prompt_tokens=100, completion_tokens=10), run_id=run)
    assert calls == [("gpt-4o-mini-2024-07-18", TokenUsage(input_tokens=100, output_tokens=10))]
    [point] = otel.metric_points(semconv.METRIC_COST)
    assert point.sum == pytest.approx(0.0042)
    assert (otel.span(SPAN).attributes or {})[semconv.OTEL_LLM_USAGE_COST] == pytest.approx(0.0042)


def test_no_cost_when_unknown_or_failing(otel: InMemoryTelemetry) -> None:
    """A None price or a failing cost_fn records no cost (never a silent $0), and never raises."""

    def failing(model: str, usage: TokenUsage) -> float | None:
        raise RuntimeError("price table broken")

    for cost_fn in (lambda m, u: None, failing):
        handler = otel.handler(cost_fn=cost_fn)
        run = chat_start(handler)
        handler.on_llm_end(chat_result(), run_id=run)
    assert otel.metric_points(semconv.METRIC_COST) == []
    assert len(otel.metric_points(semconv.METRIC_TOKEN_USAGE)) == 2
    assert handler.failures.counts() == {"cost_fn:RuntimeError": 1}


# --- never breaks the application --------------------------------------------------------


def test_hooks_never_raise_and_failures_are_logged_once(
    otel: InMemoryTelemetry, caplog: pytest.LogCaptureFixture
) -> None:
    """Garbage events are counted and logged once per kind; the caller never sees an error."""
    handler = otel.handler()
    caplog.set_level(logging.WARNING, logger="otel_llm.telemetry")
    for _ in range(5):
        run = uuid.uuid4()
        handler.on_chat_model_start({}, None, run_id=run, invocation_params=42)  # type: ignore[arg-type]
        handler.on_llm_end(LLMResult(generations=42, llm_output="x"), run_id=run)  # type: ignore[arg-type]
    counts = handler.failures.counts()
    assert counts and all(n == 5 for n in counts.values())
    assert len(caplog.records) == len(counts)
    # Spans of broken events are still ended: nothing stays open.
    assert handler.open_runs == 0


def test_token_hook_failure_is_contained(otel: InMemoryTelemetry) -> None:
    """A failure on the per-token path is counted and the run still ends normally."""
    handler = otel.handler(clock=iter_clock([1, 2, "broken", 4, 5]), chunk_metrics="all")
    run = chat_start(handler)
    handler.on_llm_new_token("a", run_id=run)
    handler.on_llm_new_token("b", run_id=run)
    handler.on_llm_end(chat_result(), run_id=run)
    assert handler.failures.counts() == {"on_llm_new_token:TypeError": 1}
    assert len(otel.spans(SPAN)) == 1


def iter_clock(values: list[Any]) -> Any:
    it = iter(values)
    return lambda: next(it)


def test_events_for_unknown_runs_are_ignored(otel: InMemoryTelemetry) -> None:
    """End, error and token events for runs never started do nothing."""
    handler = otel.handler()
    unknown = uuid.uuid4()
    handler.on_llm_new_token("x", run_id=unknown)
    handler.on_llm_end(chat_result(), run_id=unknown)
    handler.on_llm_error(ValueError("x"), run_id=unknown)
    handler.on_chain_end({}, run_id=unknown)
    assert otel.spans() == []
    assert handler.failures.counts() == {}


def test_global_providers_are_the_default(
    otel: InMemoryTelemetry, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without injected providers the handler uses the global tracer and meter providers."""
    monkeypatch.setattr(trace, "get_tracer_provider", lambda: otel.tracer_provider)
    monkeypatch.setattr(metrics, "get_meter_provider", lambda: otel.meter_provider)
    handler = OpenTelemetryCallbackHandler()
    run = chat_start(handler)
    handler.on_llm_end(chat_result(), run_id=run)
    assert len(otel.spans(SPAN)) == 1
    assert len(otel.metric_points(semconv.METRIC_OPERATION_DURATION)) == 1


def test_multiple_generations_finish_reasons(otel: InMemoryTelemetry) -> None:
    """n>1 choices give one finish reason each."""
    handler = otel.handler()
    run = chat_start(handler, params={**PARAMS, "n": 2})
    result = LLMResult(
        generations=[
            [
                ChatGeneration(message=AIMessage("a"), generation_info={"finish_reason": "stop"}),
                ChatGeneration(message=AIMessage("b"), generation_info={"finish_reason": "length"}),
            ]
        ],
        llm_output={},
    )
    handler.on_llm_end(result, run_id=run)
    attrs = otel.span(SPAN).attributes or {}
    assert attrs[semconv.GEN_AI_RESPONSE_FINISH_REASONS] == ("stop", "length")


def test_exemplars_point_at_the_llm_span(otel: InMemoryTelemetry) -> None:
    """Duration exemplars link to the run's own span, not whatever span is current; token
    and cost values carry none (read as totals, and an exemplar costs ~15 % of a record)."""
    handler = otel.handler()
    tracer = otel.tracer_provider.get_tracer("app")
    with tracer.start_as_current_span("request"):
        run = chat_start(handler)
        handler.on_llm_end(chat_result(), run_id=run)
    llm_span_id = otel.span(SPAN).context.span_id
    [duration] = otel.metric_points(semconv.METRIC_OPERATION_DURATION)
    assert {e.span_id for e in duration.exemplars} == {llm_span_id}
    for name in (semconv.METRIC_TOKEN_USAGE, semconv.METRIC_COST):
        points = otel.metric_points(name)
        assert points, name
        assert all(not point.exemplars for point in points), name


def test_cache_creation_tokens(otel: InMemoryTelemetry) -> None:
    """Providers that report cache writes get gen_ai.usage.cache_creation.input_tokens."""
    handler = otel.handler()
    run = chat_start(handler, metadata={"ls_provider": "anthropic"})
    usage = {"input_tokens": 50, "output_tokens": 5, "cache_creation_input_tokens": 40}
    handler.on_llm_end(
        chat_result(prompt_tokens=None, completion_tokens=None, extra_output={"usage": usage}),
        run_id=run,
    )
    attrs = otel.span(SPAN).attributes or {}
    assert attrs[semconv.GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS] == 40
    assert attrs[semconv.GEN_AI_PROVIDER_NAME] == "anthropic"
