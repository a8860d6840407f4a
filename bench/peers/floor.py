"""The "sdk-floor" contender: only the OpenTelemetry SDK calls otel-llm's telemetry needs.

A lower bound for the overhead targets, measured in the same harness: whatever
otel-llm costs above this is its own logic; whatever this costs above no
instrumentation is the SDK's price for the same span and histogram records.
``install_floor`` replaces ``Completions.create`` and ``AsyncCompletions.create``
with the thinnest wrapper that records, per call, what otel-llm's
``OpenTelemetryCallbackHandler`` records with its defaults:

- one ``chat {model}`` CLIENT span, started with the request attributes and ended
  after one ``set_attributes`` with the response attributes (id, model, finish
  reasons, four token counts, cost as a float);
- streams: at the first chunk the time-to-first-chunk span attribute, the
  first-token span event (``chunk_events="first"``) and histogram; one
  ``time_per_output_chunk`` record every ``GAP_EVERY`` chunks
  (``chunk_metrics=20``); the end work once the stream is exhausted;
- at the end: duration (exemplar: the call's span), input and output tokens and
  cost (no exemplar), with otel-llm's metric attributes.

Values come from the response or last chunk, or are constants of the right type
where the wire has none (a stream without usage): the number and types of the
records are the point, not their values. No guard, no content, no token
counting, no error metric: a failed call only ends its span with status ERROR.
Async streams are passed through untouched (no bench scenario makes one).
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Iterator
from typing import Any

from openai.resources.chat.completions import AsyncCompletions, Completions
from opentelemetry.context import Context
from opentelemetry.metrics import MeterProvider
from opentelemetry.trace import (
    Span,
    SpanKind,
    Status,
    StatusCode,
    Tracer,
    TracerProvider,
    set_span_in_context,
)

from otel_llm import semconv
from otel_llm.telemetry.instruments import NO_EXEMPLAR, Instruments

__all__ = ["GAP_EVERY", "install_floor", "uninstall_floor"]

#: One ``time_per_output_chunk`` record per this many chunks (otel-llm's ``chunk_metrics``).
GAP_EVERY = 20
_SCOPE = "bench.sdk_floor"
_NS = 1e9
_REASONS = ("stop",)  # a stream's last chunk may carry no choice
_TOKENS = (0, 0, 0, 0)  # input, output, cache read, reasoning: a stream without usage
_COST = 1e-5  # USD; otel-llm looks it up in its price table

_originals: dict[type[Any], Callable[..., Any]] = {}


def install_floor(tracer_provider: TracerProvider, meter_provider: MeterProvider) -> None:
    """Patch both ``create`` methods (a second install replaces the first)."""
    uninstall_floor()
    tracer = tracer_provider.get_tracer(_SCOPE, schema_url=semconv.SCHEMA_URL)
    instruments = Instruments(meter_provider.get_meter(_SCOPE, schema_url=semconv.SCHEMA_URL))
    for cls, wrap in ((Completions, _sync), (AsyncCompletions, _async)):
        original = cls.create
        _originals[cls] = original
        cls.create = functools.wraps(original)(wrap(original, tracer, instruments))


def uninstall_floor() -> None:
    """Put the methods seen at install back."""
    for cls, original in _originals.items():
        cls.create = original
    _originals.clear()


def _start(tracer: Tracer, resource: Any, kwargs: dict[str, Any],
           stream: bool) -> tuple[Span, dict[str, Any], int]:
    """The span with the request attributes, its metric attributes and start time."""
    model = kwargs.get("model")
    url = resource._client.base_url
    metric = {
        semconv.GEN_AI_OPERATION_NAME: semconv.OP_CHAT,
        semconv.GEN_AI_PROVIDER_NAME: semconv.PROVIDER_OPENAI,
        semconv.GEN_AI_REQUEST_MODEL: model,
        semconv.SERVER_ADDRESS: url.host,
        semconv.SERVER_PORT: url.port or (443 if url.scheme == "https" else 80),
    }
    attrs = {**metric, semconv.GEN_AI_REQUEST_STREAM: True} if stream else metric
    start = time.time_ns()
    span = tracer.start_span(f"chat {model}", kind=SpanKind.CLIENT, attributes=attrs,
                             start_time=start)
    return span, metric, start


def _fail(span: Span) -> None:
    span.set_status(Status(StatusCode.ERROR))
    span.end()


def _end(span: Span, start: int, metric: dict[str, Any], instruments: Instruments,
         last: Any, context: Context | None = None) -> None:
    """Response attributes in one call, then duration, tokens and cost, then the span's end."""
    now = time.time_ns()
    if last is None:  # a stream without a chunk
        span.end(now)
        return
    usage = last.usage
    if usage is None:
        tokens_in, tokens_out, cached, reasoning = _TOKENS
    else:
        tokens_in, tokens_out = usage.prompt_tokens, usage.completion_tokens
        cached = getattr(usage.prompt_tokens_details, "cached_tokens", None) or 0
        reasoning = getattr(usage.completion_tokens_details, "reasoning_tokens", None) or 0
    model = last.model
    openai_attrs = {attr: value for attr, value in (
        (semconv.OPENAI_RESPONSE_SERVICE_TIER, getattr(last, "service_tier", None)),
        (semconv.OPENAI_RESPONSE_SYSTEM_FINGERPRINT, getattr(last, "system_fingerprint", None)),
    ) if value}
    span.set_attributes({
        **openai_attrs,
        semconv.GEN_AI_RESPONSE_ID: last.id,
        semconv.GEN_AI_RESPONSE_MODEL: model,
        semconv.GEN_AI_RESPONSE_FINISH_REASONS:
            [c.finish_reason for c in last.choices if c.finish_reason] or _REASONS,
        semconv.GEN_AI_USAGE_INPUT_TOKENS: tokens_in,
        semconv.GEN_AI_USAGE_OUTPUT_TOKENS: tokens_out,
        semconv.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS: cached,
        semconv.GEN_AI_USAGE_REASONING_OUTPUT_TOKENS: reasoning,
        semconv.OTEL_LLM_USAGE_COST: _COST,
    })
    ended = {**metric, semconv.GEN_AI_RESPONSE_MODEL: model}
    if semconv.OPENAI_RESPONSE_SERVICE_TIER in openai_attrs:
        ended[semconv.OPENAI_RESPONSE_SERVICE_TIER] = openai_attrs[
            semconv.OPENAI_RESPONSE_SERVICE_TIER]
    instruments.operation_duration.record(
        (now - start) / _NS, ended, context if context is not None else set_span_in_context(span))
    usage_attrs = {**ended, semconv.OTEL_LLM_USAGE_ESTIMATED: False}
    record = instruments.token_usage.record
    record(tokens_in, {**usage_attrs, semconv.GEN_AI_TOKEN_TYPE: semconv.TOKEN_TYPE_INPUT},
           NO_EXEMPLAR)
    record(tokens_out, {**usage_attrs, semconv.GEN_AI_TOKEN_TYPE: semconv.TOKEN_TYPE_OUTPUT},
           NO_EXEMPLAR)
    instruments.cost.record(_COST, usage_attrs, NO_EXEMPLAR)
    span.end(now)


def _passthrough(stream: Any, span: Span, start: int, metric: dict[str, Any],
                 instruments: Instruments) -> Iterator[Any]:
    """Yields the SDK's chunks; TTFT at the first, one gap every ``GAP_EVERY``, end at the last."""
    count, before, last, context = 0, 0, None, None
    gap = instruments.time_per_output_chunk.record
    try:
        for chunk in stream:
            count += 1
            if count == 1:
                ttft = (time.time_ns() - start) / _NS
                span.set_attribute(semconv.GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK, ttft)
                span.add_event(semconv.EVENT_FIRST_TOKEN)
                context = set_span_in_context(span)
                instruments.time_to_first_chunk.record(ttft, metric, context)
            else:
                phase = count % GAP_EVERY
                if phase == GAP_EVERY - 1:
                    before = time.time_ns()
                elif phase == 0:
                    gap((time.time_ns() - before) / _NS, metric, NO_EXEMPLAR)
            last = chunk
            yield chunk
    except GeneratorExit:  # closed or dropped early: release the connection, end the span
        stream.close()
        span.end()
        raise
    _end(span, start, metric, instruments, last, context)


def _sync(original: Callable[..., Any], tracer: Tracer,
          instruments: Instruments) -> Callable[..., Any]:
    def create(self: Any, *args: Any, **kwargs: Any) -> Any:
        stream = kwargs.get("stream") is True
        span, metric, start = _start(tracer, self, kwargs, stream)
        try:
            response = original(self, *args, **kwargs)
        except BaseException:
            _fail(span)
            raise
        if stream:
            return _passthrough(response, span, start, metric, instruments)
        _end(span, start, metric, instruments, response)
        return response
    return create


def _async(original: Callable[..., Any], tracer: Tracer,
           instruments: Instruments) -> Callable[..., Any]:
    async def create(self: Any, *args: Any, **kwargs: Any) -> Any:
        if kwargs.get("stream") is True:
            return await original(self, *args, **kwargs)
        span, metric, start = _start(tracer, self, kwargs, False)
        try:
            response = await original(self, *args, **kwargs)
        except BaseException:
            _fail(span)
            raise
        _end(span, start, metric, instruments, response)
        return response
    return create
