"""The "sdk-floor" contender: the real openai SDK against the model server, recorded by
the real OTel SDK; it must make exactly otel-llm's records and nothing more, and the
report must treat it as a yardstick, not a peer."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from typing import Any

import openai
import pytest
from openai.resources.chat.completions import AsyncCompletions, Completions
from opentelemetry.trace import SpanKind

from bench.peers import runner
from bench.peers.contenders import FLOOR_LABEL, by_name, select
from bench.peers.floor import GAP_EVERY, install_floor, uninstall_floor
from bench.peers.markdown import markdown
from bench.peers.process import Worker
from bench.peers.report import correctness_table, targets
from otel_llm import semconv
from otel_llm.devserver import ModelServer
from otel_llm.instrumentation.openai import instrument_openai, uninstrument_openai
from otel_llm.testing import InMemoryTelemetry

from .test_report import _result, _series
from .test_verdicts import GOOD

CHAT = "gpt-4o-mini+len=20"
STREAM = "gpt-4o-mini+len=200"
MESSAGES: Any = [{"role": "user", "content": "Tell me about OpenTelemetry."}]
REQUEST = {semconv.GEN_AI_OPERATION_NAME, semconv.GEN_AI_PROVIDER_NAME,
           semconv.GEN_AI_REQUEST_MODEL, semconv.SERVER_ADDRESS, semconv.SERVER_PORT}
RESPONSE = {semconv.GEN_AI_RESPONSE_ID, semconv.GEN_AI_RESPONSE_MODEL,
            semconv.GEN_AI_RESPONSE_FINISH_REASONS, semconv.GEN_AI_USAGE_INPUT_TOKENS,
            semconv.GEN_AI_USAGE_OUTPUT_TOKENS, semconv.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS,
            semconv.GEN_AI_USAGE_REASONING_OUTPUT_TOKENS, semconv.OTEL_LLM_USAGE_COST,
            semconv.OPENAI_RESPONSE_SERVICE_TIER, semconv.OPENAI_RESPONSE_SYSTEM_FINGERPRINT}
STREAMED = {semconv.GEN_AI_REQUEST_STREAM, semconv.GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK}
# Metric attributes at the end of a call (the devserver reports a service tier).
ENDED = REQUEST | {semconv.GEN_AI_RESPONSE_MODEL, semconv.OPENAI_RESPONSE_SERVICE_TIER}
USAGE = ENDED | {semconv.OTEL_LLM_USAGE_ESTIMATED}


@pytest.fixture(scope="module")
def server() -> Iterator[ModelServer]:
    with ModelServer() as srv:
        yield srv


@pytest.fixture
def otel() -> Iterator[InMemoryTelemetry]:
    with InMemoryTelemetry() as telemetry:
        try:
            yield telemetry
        finally:
            uninstall_floor()


@pytest.fixture
def client(server: ModelServer) -> Iterator[openai.OpenAI]:
    with openai.OpenAI(base_url=server.base_url, api_key="sk-test", max_retries=0) as c:
        yield c


def _install(otel: InMemoryTelemetry) -> None:
    install_floor(otel.tracer_provider, otel.meter_provider)


def _keys(otel: InMemoryTelemetry, metric: str) -> list[set[str]]:
    return [set(p.attributes or {}) for p in otel.metric_points(metric)]


def _count(otel: InMemoryTelemetry, metric: str) -> int:
    return sum(getattr(p, "count", 0) for p in otel.metric_points(metric))


def _assert_end_records(otel: InMemoryTelemetry, span: Any, tokens: tuple[int, int]) -> None:
    """Duration with the call's span as exemplar; input and output tokens; cost."""
    [duration] = otel.metric_points(semconv.METRIC_OPERATION_DURATION)
    assert duration.count == 1 and set(duration.attributes or {}) == ENDED
    assert [e.span_id for e in duration.exemplars] == [span.context.span_id]
    estimated = {semconv.OTEL_LLM_USAGE_ESTIMATED: False}
    for kind, count in zip((semconv.TOKEN_TYPE_INPUT, semconv.TOKEN_TYPE_OUTPUT), tokens,
                           strict=True):
        [point] = otel.metric_points(semconv.METRIC_TOKEN_USAGE,
                                     **{semconv.GEN_AI_TOKEN_TYPE: kind}, **estimated)
        assert point.count == 1 and point.sum == count and not point.exemplars
        assert set(point.attributes or {}) == USAGE | {semconv.GEN_AI_TOKEN_TYPE}
    [cost] = otel.metric_points(semconv.METRIC_COST)
    assert cost.count == 1 and set(cost.attributes or {}) == USAGE and not cost.exemplars


def test_non_streamed_call_makes_one_span_and_the_end_records(
        otel: InMemoryTelemetry, client: openai.OpenAI) -> None:
    """One CLIENT span ``chat {model}`` with the request and response attributes (tokens
    from the response, cost a float), then duration, two token points and cost."""
    _install(otel)
    response = client.chat.completions.create(model=CHAT, messages=MESSAGES)
    [span] = otel.spans()
    attrs = span.attributes or {}
    assert span.name == f"chat {CHAT}" and span.kind is SpanKind.CLIENT
    assert set(attrs) == REQUEST | RESPONSE and not span.events
    assert response.usage is not None
    tokens = (response.usage.prompt_tokens, response.usage.completion_tokens)
    assert (attrs[semconv.GEN_AI_USAGE_INPUT_TOKENS],
            attrs[semconv.GEN_AI_USAGE_OUTPUT_TOKENS]) == tokens
    assert attrs[semconv.GEN_AI_RESPONSE_ID] == response.id
    assert isinstance(attrs[semconv.OTEL_LLM_USAGE_COST], float)
    _assert_end_records(otel, span, tokens)
    assert otel.metric_names() == {semconv.METRIC_OPERATION_DURATION,
                                   semconv.METRIC_TOKEN_USAGE, semconv.METRIC_COST}


@pytest.mark.parametrize("usage", [True, False], ids=["include_usage", "no_usage"])
def test_stream_passes_every_chunk_and_records_ttft_and_every_20th_gap(
        otel: InMemoryTelemetry, client: openai.OpenAI, usage: bool) -> None:
    """A 200-chunk stream yields the same chunks as without the floor; one span with the
    TTFT attribute and first-token event; TTFT once; one gap record per 20 chunks (10);
    tokens from the usage chunk, or int constants when the stream has none."""
    options: Any = {"stream_options": {"include_usage": True}} if usage else {}

    def read() -> list[Any]:
        return list(client.chat.completions.create(model=STREAM, messages=MESSAGES,
                                                   stream=True, **options))

    plain = read()
    _install(otel)
    chunks = read()
    assert [type(c) for c in chunks] == [type(c) for c in plain]
    assert [c.choices[0].delta.content if c.choices else None for c in chunks] == \
        [c.choices[0].delta.content if c.choices else None for c in plain]
    [span] = otel.spans()
    attrs = span.attributes or {}
    assert set(attrs) == REQUEST | RESPONSE | STREAMED
    assert [e.name for e in span.events] == [semconv.EVENT_FIRST_TOKEN]
    assert attrs[semconv.GEN_AI_RESPONSE_ID] == chunks[-1].id
    last_usage = chunks[-1].usage
    tokens = (last_usage.prompt_tokens, last_usage.completion_tokens) if usage else (0, 0)
    assert (last_usage is not None) is usage
    assert (attrs[semconv.GEN_AI_USAGE_INPUT_TOKENS],
            attrs[semconv.GEN_AI_USAGE_OUTPUT_TOKENS]) == tokens
    assert attrs[semconv.GEN_AI_RESPONSE_FINISH_REASONS] == ("stop",)
    ttft = attrs[semconv.GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK]
    assert isinstance(ttft, float) and ttft > 0
    [first] = otel.metric_points(semconv.METRIC_TIME_TO_FIRST_CHUNK)
    assert first.count == 1 and first.sum == ttft and set(first.attributes or {}) == REQUEST
    assert [e.span_id for e in first.exemplars] == [span.context.span_id]
    assert len(chunks) // GAP_EVERY == 10  # 200 content chunks plus role/finish/usage ones
    assert _count(otel, semconv.METRIC_TIME_PER_OUTPUT_CHUNK) == 10
    assert _keys(otel, semconv.METRIC_TIME_PER_OUTPUT_CHUNK) == [REQUEST]
    _assert_end_records(otel, span, tokens)


def test_stream_closed_early_ends_its_span(otel: InMemoryTelemetry,
                                           client: openai.OpenAI) -> None:
    """Closing the passthrough after three chunks ends the span (no end records)."""
    _install(otel)
    stream: Any = client.chat.completions.create(model=STREAM, messages=MESSAGES, stream=True)
    for _, _chunk in zip(range(3), stream, strict=False):
        pass
    stream.close()
    [span] = otel.spans()
    assert span.end_time is not None
    assert otel.metric_points(semconv.METRIC_OPERATION_DURATION) == []


def test_async_calls_make_one_span_each(otel: InMemoryTelemetry, server: ModelServer) -> None:
    """Three concurrent AsyncOpenAI calls: three spans with the full attribute set, three
    durations; an async stream is passed through untouched (no scenario needs one)."""
    _install(otel)

    async def go() -> int:
        async with openai.AsyncOpenAI(base_url=server.base_url, api_key="sk-test",
                                      max_retries=0) as aclient:
            create = aclient.chat.completions.create
            await asyncio.gather(*(create(model=CHAT, messages=MESSAGES) for _ in range(3)))
            stream = await create(model=CHAT, messages=MESSAGES, stream=True)
            return len([c async for c in stream])

    assert asyncio.run(go()) > 20
    spans = otel.spans()
    assert len(spans) == 3
    assert all(set(s.attributes or {}) == REQUEST | RESPONSE for s in spans)
    assert _count(otel, semconv.METRIC_OPERATION_DURATION) == 3
    assert _count(otel, semconv.METRIC_TOKEN_USAGE) == 6


def test_uninstall_restores_the_original_methods(otel: InMemoryTelemetry,
                                                 client: openai.OpenAI) -> None:
    """Installing twice wraps once; uninstalling puts the SDK's methods back and calls
    record nothing any more."""
    sync, asynchronous = Completions.create, AsyncCompletions.create
    _install(otel)
    _install(otel)
    assert Completions.create is not sync and AsyncCompletions.create is not asynchronous
    assert Completions.create.__wrapped__ is sync  # type: ignore[attr-defined]
    uninstall_floor()
    assert Completions.create is sync and AsyncCompletions.create is asynchronous
    client.chat.completions.create(model=CHAT, messages=MESSAGES)
    assert otel.spans() == []


@contextmanager
def _otel_llm(otel: InMemoryTelemetry) -> Iterator[None]:
    instrument_openai([otel.handler()])
    try:
        yield
    finally:
        uninstrument_openai()


def _shape(otel: InMemoryTelemetry) -> dict[str, Any]:
    """What one call emitted, values aside: span attribute keys, events, metric key sets."""
    [span] = otel.spans()
    shape = {"span": set(span.attributes or {}), "events": [e.name for e in span.events],
             "metrics": {n: sorted(map(sorted, _keys(otel, n))) for n in otel.metric_names()}}
    otel.clear()
    return shape


def test_floor_emits_the_same_shape_as_otel_llm(otel: InMemoryTelemetry,
                                                client: openai.OpenAI) -> None:
    """For a non-streamed call and a stream with usage, the floor and otel-llm's default
    handler emit the same span attribute keys, span events, metric names and metric
    attribute sets: the floor does otel-llm's SDK work, only without its logic."""
    def calls() -> list[dict[str, Any]]:
        client.chat.completions.create(model=CHAT, messages=MESSAGES)
        chat = _shape(otel)
        for _ in client.chat.completions.create(model=STREAM, messages=MESSAGES, stream=True,
                                                stream_options={"include_usage": True}):
            pass
        return [chat, _shape(otel)]

    with _otel_llm(otel):
        ours = calls()
    _install(otel)
    assert calls() == ours


def test_worker_runs_the_floor_in_the_harness(server: ModelServer) -> None:
    """The ``sdk-floor`` installer works in a real worker: one exported span per call."""
    with Worker("sdk-floor", sys.executable, server.base_url) as worker:
        assert worker.available, worker.hello
        assert worker.ask(cmd="run", scenario="chat", units=2)["spans"] == 2
        assert worker.ask(cmd="run", scenario="stream-no-usage", units=1)["spans"] == 1


def _with_floor(ours: float, peer: float, floor: float) -> dict[str, Any]:
    result = _result(ours, peer)
    info = {**asdict(by_name("sdk-floor")), "available": True, "versions": {}}
    result["contenders"]["sdk-floor"] = info
    for scenario in ("chat", "stream-usage", "stream-no-usage", "async-50"):
        result["rounds"][scenario]["sdk-floor"] = _series(floor * 1e-3)
    return result


def test_report_treats_the_floor_as_a_reference_not_a_peer() -> None:
    """Ours is judged as a multiple of the floor's calls, with both CPU ratios beside; the
    floor has no correctness column; RESULTS.md names it."""
    result = _with_floor(1.02, 1.30, 1.01)
    result["probes"]["sdk-floor"] = GOOD  # even if a run had probed it
    calls = {"python": 1000.0, "c": 1000.0}
    result["calls"] = {
        "none": {"chat": calls},
        "sdk-floor": {"chat": {"python": 1400.0, "c": 1400.0}},
        "otel-llm": {"chat": {"python": 1500.0, "c": 1500.0}},
        "openllmetry": {"chat": {"python": 2000.0, "c": 2000.0}},
    }
    met = targets(result)
    assert all(ok for _, ok in met), met
    assert "chat: otel-llm adds +1,000 calls, 1.25x the floor's +800 (<= 1.25x); CPU " \
           "otel-llm 1.020x, sdk-floor 1.010x" in [t for t, _ in met]
    assert FLOOR_LABEL not in correctness_table(result, "openai")
    md = markdown(result, {"cpu": "Test"}, None, "python -m bench")
    assert f"`sdk-floor` ({FLOOR_LABEL}) is a yardstick, not a peer" in md
    assert f"| {FLOOR_LABEL} |" in md


def test_runner_skips_probes_and_memory_for_the_floor(monkeypatch: pytest.MonkeyPatch) -> None:
    """The floor is timed with the others, but not probed and not given a memory run."""
    asked: list[tuple[str, str]] = []

    class FakeWorker:
        def __init__(self, name: str, python: str, url: str | None, env: Any = None) -> None:
            self.name, self.available, self.hello = name, True, {"ready": True}

        def ask(self, **cmd: Any) -> dict[str, Any]:
            asked.append((self.name, cmd["cmd"]))
            if cmd["cmd"] == "run":
                return {"cpu": 1.0, "wall": 1.0, "calls": 1, "spans": 1}
            return {"calls": 1, "growth_mb": 0.0, "seconds": 0.0}

        def close(self) -> None:
            pass

        def __enter__(self) -> FakeWorker:
            return self

        def __exit__(self, *exc: object) -> None:
            pass

    @contextmanager
    def fake_server() -> Iterator[str]:
        yield "http://127.0.0.1:9/v1"

    monkeypatch.setattr(runner, "Worker", FakeWorker)
    monkeypatch.setattr(runner, "model_server", fake_server)
    monkeypatch.setattr(runner, "true_usage", lambda url: {})
    plan = runner.Plan(select(["sdk-floor"], ["openai"]), rounds=1, rss_calls=10,
                       units={"chat": 1, "stream-usage": 1, "stream-no-usage": 1, "async-50": 1})
    result = runner.run(plan, lambda c: sys.executable, log=lambda msg: None)
    assert set(result["rounds"]["chat"]) == {"none", "sdk-floor"}
    assert set(result["probes"]) == {"none"} and set(result["rss"]) == {"none"}
    assert ("sdk-floor", "probe") not in asked and ("sdk-floor", "rss") not in asked
