"""``OpenTelemetryCallbackHandler``: callback events -> spans, metrics and (opt-in) content events.

Rules that keep traces right under threads and asyncio (where most peers break):

- A span's parent comes only from ``parent_run_id``; a root run's parent is the
  caller's current span at its start event. No context is attached in one
  callback and detached in another.
- Every timestamp is taken when the hook is called (the handler runs inline, at
  event time) and passed explicitly.
- Every hook is guarded: a telemetry bug is counted and logged once per kind,
  never raised into the application.
- Spans start and end in one place (``spans.RunSpans``), exactly once each.
- Open runs are bounded (``max_open_runs``, ``max_run_age``); a run that is
  dropped, or whose parent ends first, ends with status ERROR saying why.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Sequence
from functools import partial
from typing import TYPE_CHECKING, Any
from uuid import UUID

from opentelemetry import metrics, trace
from opentelemetry._logs import LoggerProvider, get_logger_provider
from opentelemetry.trace import SpanKind

from otel_llm import semconv
from otel_llm._version import __version__
from otel_llm.callbacks import _llm_runs
from otel_llm.callbacks.base import BaseCallbackHandler
from otel_llm.errors import ConfigurationError
from otel_llm.pricing import usage_cost
from otel_llm.telemetry import attributes as attrs_of
from otel_llm.telemetry import content
from otel_llm.telemetry.capture import ContentCapture
from otel_llm.telemetry.content import DEFAULT_MAX_CONTENT_BYTES, CaptureMode, Redactor
from otel_llm.telemetry.dimensions import DEFAULT_VALUE_CAP, MetricDimensions
from otel_llm.telemetry.guard import FailureLog, guarded
from otel_llm.telemetry.instruments import Instruments
from otel_llm.telemetry.llm import LLMRecorder
from otel_llm.telemetry.options import (
    DEFAULT_CHUNK_METRICS,
    ChunkEvents,
    ChunkMetrics,
    CostFn,
    parse_chunk_events,
    parse_chunk_metrics,
)
from otel_llm.telemetry.runs import Run, RunKind, RunRegistry
from otel_llm.telemetry.spans import RunSpans
from otel_llm.telemetry.starts import LLMStarts

if TYPE_CHECKING:
    from otel_llm.schema import AgentAction, AgentFinish, BaseMessage, LLMResult

__all__ = [
    "CHUNK_INDEX",
    "ERROR_TYPE_PARENT_ENDED",
    "ERROR_TYPE_RUN_EVICTED",
    "ChunkEvents",
    "ChunkMetrics",
    "CostFn",
    "OpenTelemetryCallbackHandler",
]

ERROR_TYPE_RUN_EVICTED = semconv.ERROR_TYPE_RUN_EVICTED
ERROR_TYPE_PARENT_ENDED = semconv.ERROR_TYPE_PARENT_ENDED
CHUNK_INDEX = semconv.OTEL_LLM_CHUNK_INDEX

_SCOPE = "otel_llm"
_VERSION = __version__

#: ``run_type`` of LangChain's prompt-formatting and output-parsing runs (see ``step_spans``).
_STEP_RUN_TYPES = frozenset({"prompt", "parser"})
_NS = 1e9
#: Chunk gaps buffered per run before they are recorded anyway (bounds memory per run).
_MAX_BUFFERED_GAPS = 1024
_CONVERSATION = semconv.GEN_AI_CONVERSATION_ID


class OpenTelemetryCallbackHandler(BaseCallbackHandler):
    """Turns callback events into GenAI-convention spans and metrics.

    Providers default to the global ones; pass those from ``otel_llm.configure()``
    or ``otel_llm.testing.InMemoryTelemetry`` to keep them private. The hooks never
    block and never raise, so the handler runs inline in sync and async managers.

    Args:
        capture_content: content capture mode; ``None`` reads
            ``OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT`` (default: no content).
        chunk_events: span events for streamed chunks (see ``ChunkEvents``).
        chunk_metrics: which chunk gaps go to ``time_per_output_chunk`` (see
            ``ChunkMetrics``). The SDK's ``Histogram.record`` costs about as much as
            the openai SDK's parsing of a chunk, so every gap of a 200-chunk stream
            adds ~10 % CPU to the call; the default samples one gap in 20.
        max_content_bytes: size limit of each content attribute (UTF-8 bytes).
        redact: applied to every piece of content before it is recorded.
        cost_fn: price of a run for the ``semconv.METRIC_COST`` histogram; defaults to
            the local price table (:func:`otel_llm.pricing.usage_cost`); None disables it.
        metric_attributes: keys of ``otel_llm.attributes()`` values copied onto the token,
            duration and cost metrics (e.g. ``["app.feature"]``); ``None`` reads
            ``OTEL_LLM_METRIC_ATTRIBUTES`` (comma-separated). A ``MetricDimensions`` is
            shared as is (``Telemetry.handler()`` shares one between its handlers).
        metric_attribute_cap: distinct values admitted per listed key; later ones are
            recorded as ``_other`` (logged once per key).
        max_open_runs, max_run_age: bounds of the open-run registry (count, seconds);
            ages are checked as runs start, so a stale run ends up to 1/16 of
            ``max_run_age`` late.
        step_spans: also give a span to each LangChain step that only formats a prompt or
            parses an output (``run_type`` "prompt" / "parser" inside a chain). Off by
            default: they are not GenAI operations, cost a span each per call (twice the
            spans of a ``prompt | model | parser`` chain) and take microseconds; what such
            a step starts (an output-fixing parser's model call) becomes a child of the run
            around it, and its error is recorded there. A step invoked on its own (no
            parent run) always gets its span.
        clock: ``time.time_ns``-like clock (tests inject one).
    """

    run_inline = True
    raise_error = False
    reads_token_chunk = False  # tokens only time the stream: no chunk object per token

    def __init__(
        self,
        *,
        tracer_provider: trace.TracerProvider | None = None,
        meter_provider: metrics.MeterProvider | None = None,
        logger_provider: LoggerProvider | None = None,
        capture_content: CaptureMode | str | bool | None = None,
        chunk_events: ChunkEvents = "first",
        chunk_metrics: ChunkMetrics = DEFAULT_CHUNK_METRICS,
        max_content_bytes: int = DEFAULT_MAX_CONTENT_BYTES,
        redact: Redactor | None = None,
        cost_fn: CostFn | None = usage_cost,
        metric_attributes: Sequence[str] | str | MetricDimensions | None = None,
        metric_attribute_cap: int = DEFAULT_VALUE_CAP,
        max_open_runs: int = 10_000,
        max_run_age: float = 3600.0,
        step_spans: bool = False,
        clock: Callable[[], int] = time.time_ns,
    ) -> None:
        if not isinstance(max_open_runs, int) or max_open_runs < 1:
            raise ConfigurationError("max_open_runs", f"must be an int >= 1, got {max_open_runs!r}")
        if not isinstance(max_run_age, int | float) or not max_run_age > 0:
            raise ConfigurationError("max_run_age", f"must be > 0 seconds, got {max_run_age!r}")
        self.failures = FailureLog()
        self._dimensions = (
            metric_attributes
            if isinstance(metric_attributes, MetricDimensions)
            else MetricDimensions(metric_attributes, metric_attribute_cap)
        )
        self._capture = (
            content.capture_mode_from_env()
            if capture_content is None
            else content.parse_capture_mode(capture_content)
        )
        first_event, self._chunk_every = parse_chunk_events(chunk_events)
        gap_every = parse_chunk_metrics(chunk_metrics)
        self._clock = clock
        self._step_spans = bool(step_spans)
        self._runs = RunRegistry(max_open_runs, int(max_run_age * _NS))
        self._llm_starts = LLMStarts()
        schema = semconv.SCHEMA_URL
        tracer = (tracer_provider or trace.get_tracer_provider()).get_tracer(
            _SCOPE, _VERSION, schema_url=schema
        )
        meter = (meter_provider or metrics.get_meter_provider()).get_meter(
            _SCOPE, _VERSION, schema_url=schema
        )
        instruments = Instruments(meter)
        events = (
            (logger_provider or get_logger_provider()).get_logger(
                _SCOPE, _VERSION, schema_url=schema
            )
            if self._capture.as_event
            else None
        )
        encoder = content.ContentEncoder(max_content_bytes, redact, self.failures)
        self._capture_on = self._capture.enabled  # read per run: an attribute, not the property
        self._content = ContentCapture(self._capture, encoder, events)
        self._llm = LLMRecorder(
            instruments, self._content, cost_fn, self.failures, first_event, gap_every
        )
        # Error messages may quote the prompt: recorded only as content (see ``exceptions``).
        self._spans = RunSpans(
            tracer, self._runs, self._dimensions, self._llm, self._content, self.failures,
            encoder.redact_text if self._capture_on else None,
        )

    @property
    def reads_inputs(self) -> bool:  # type: ignore[override]
        """Prompts and messages are read only to capture them (see ``reads_inputs``)."""
        return self._capture_on

    @property
    def capture_content(self) -> CaptureMode:
        return self._capture

    @property
    def open_runs(self) -> int:
        """Runs started and not yet ended (bounded by ``max_open_runs``)."""
        return len(self._runs)

    def close(self) -> None:
        """End every open run (status ERROR), e.g. before the providers shut down."""
        self._spans.close_all("handler closed while the run was open")

    # --- LLM runs -----------------------------------------------------------------
    @guarded
    def on_chat_model_start(
        self,
        serialized: dict[str, Any],
        messages: list[list[BaseMessage]],
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        tags: list[str] | None = None,
        metadata: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        now = self._clock()
        md = metadata or {}
        if type(serialized) is dict and "lc" in serialized:  # LangChain's run (see _llm_runs)
            kwargs = _llm_runs.start(self, run_id, True, serialized, messages, kwargs)
        run, params = self._start_llm(now, True, md, run_id, parent_run_id, kwargs)
        if self._capture_on:
            self._content.chat_input(run, messages, params)

    @guarded
    def on_llm_start(
        self,
        serialized: dict[str, Any],
        prompts: list[str],
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        tags: list[str] | None = None,
        metadata: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        now = self._clock()
        md = metadata or {}
        if type(serialized) is dict and "lc" in serialized:  # LangChain's run (see _llm_runs)
            kwargs = _llm_runs.start(self, run_id, False, serialized, prompts, kwargs)
        run, params = self._start_llm(now, False, md, run_id, parent_run_id, kwargs)
        if self._capture_on:
            self._content.prompt_input(run, prompts, params)

    def on_llm_new_token(
        self,
        token: str,
        *,
        chunk: Any = None,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        **kwargs: Any,
    ) -> None:
        # The hot path: a dict lookup and an array append. The SDK's Histogram.record
        # costs ~10 us a call, so the gaps between chunks are recorded when the run ends.
        now = self._clock()
        last_id, run = self._runs.last
        if run_id is not last_id:
            run = self._runs.get_streaming(run_id)
        if run is None:
            return
        try:
            count = run.chunks + 1
            run.chunks = count
            if count == 1:
                self._llm.first_chunk(run, now)
            else:
                gaps = run.chunk_gaps
                if gaps is not None and count % self._llm.gap_every == run.gap_phase:
                    gaps.append((now - run.last_chunk_ns) / _NS)
                    if len(gaps) >= _MAX_BUFFERED_GAPS:
                        self._llm.instruments.record_chunk_gaps(run)
                every = self._chunk_every
                if every and count % every == 0:
                    run.span.add_event(semconv.EVENT_CHUNK, {CHUNK_INDEX: count - 1}, now)
            run.last_chunk_ns = now
        except Exception as exc:
            self.failures.record("on_llm_new_token", exc)

    @guarded
    def on_llm_end(
        self,
        response: LLMResult,
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        **kwargs: Any,
    ) -> None:
        now = self._clock()
        try:  # the shared LangChain-run completion (usage estimate, SDK details) if any
            if _llm_runs.MODULE in sys.modules:  # LangChain's runs are tracked: ask
                response = _llm_runs.end(run_id, response)
        finally:  # the run ends whatever that raised (then counted by @guarded)
            self._spans.end(run_id, now, "on_llm_end", partial(self._llm.finish, response, now))

    # --- chains and agents --------------------------------------------------------
    @guarded
    def on_chain_start(
        self,
        serialized: dict[str, Any],
        inputs: dict[str, Any],
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        tags: list[str] | None = None,
        metadata: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        if parent_run_id is not None and not self._step_spans \
                and kwargs.get("run_type") in _STEP_RUN_TYPES:
            self._runs.pass_through(run_id, parent_run_id)
            return
        now = self._clock()
        name = attrs_of.run_name(serialized, kwargs, "chain")
        if attrs_of.is_agent(name, serialized, metadata or {}):
            attrs = {
                semconv.GEN_AI_OPERATION_NAME: semconv.OP_INVOKE_AGENT,
                semconv.GEN_AI_AGENT_NAME: name,
            }
            description = serialized.get("description") if serialized else None
            if isinstance(description, str) and description:
                attrs[semconv.GEN_AI_AGENT_DESCRIPTION] = description
            kind = RunKind.AGENT
        else:
            attrs = {semconv.GEN_AI_OPERATION_NAME: semconv.OP_INVOKE_WORKFLOW}
            kind = RunKind.WORKFLOW
        operation = attrs[semconv.GEN_AI_OPERATION_NAME]
        self._spans.start(
            now, kind, name, f"{operation} {name}", SpanKind.INTERNAL, attrs, run_id,
            parent_run_id, metadata,
        )

    @guarded
    def on_agent_action(
        self,
        action: AgentAction,
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        **kwargs: Any,
    ) -> None:
        self._spans.promote_to_agent(run_id)

    @guarded
    def on_agent_finish(
        self,
        finish: AgentFinish,
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        **kwargs: Any,
    ) -> None:
        self._spans.promote_to_agent(run_id)

    # --- tools and retrievers -----------------------------------------------------
    @guarded
    def on_tool_start(
        self,
        serialized: dict[str, Any],
        input_str: str,
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        tags: list[str] | None = None,
        metadata: dict[str, Any] | None = None,
        inputs: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        now = self._clock()
        name = attrs_of.run_name(serialized, kwargs, "tool")
        attrs: dict[str, Any] = {
            semconv.GEN_AI_OPERATION_NAME: semconv.OP_EXECUTE_TOOL,
            semconv.GEN_AI_TOOL_NAME: name,
            semconv.GEN_AI_TOOL_TYPE: semconv.TOOL_TYPE_FUNCTION,
        }
        call_id = kwargs.get("tool_call_id")
        if isinstance(call_id, str) and call_id:
            attrs[semconv.GEN_AI_TOOL_CALL_ID] = call_id
        description = serialized.get("description") if serialized else None
        if isinstance(description, str) and description:
            attrs[semconv.GEN_AI_TOOL_DESCRIPTION] = description
        run = self._spans.start(
            now,
            RunKind.TOOL,
            name,
            f"{semconv.OP_EXECUTE_TOOL} {name}",
            SpanKind.INTERNAL,
            attrs,
            run_id,
            parent_run_id,
            metadata,
        )
        if self._capture.on_span:
            args = inputs if inputs is not None else input_str
            self._content.tool(run, semconv.GEN_AI_TOOL_CALL_ARGUMENTS, args)

    @guarded
    def on_tool_end(
        self,
        output: Any,
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        **kwargs: Any,
    ) -> None:
        now = self._clock()
        if not self._capture.on_span:
            self._spans.end(run_id, now)
            return
        self._spans.end(run_id, now, "on_tool_end", partial(self._tool_result, output))

    def _tool_result(self, output: Any, run: Run) -> None:
        result = getattr(output, "content", output)  # a ToolMessage, or the raw value
        self._content.tool(run, semconv.GEN_AI_TOOL_CALL_RESULT, result)

    @guarded
    def on_retriever_start(
        self,
        serialized: dict[str, Any],
        query: str,
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        tags: list[str] | None = None,
        metadata: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        now = self._clock()
        name = attrs_of.run_name(serialized, kwargs, "retriever")
        attrs = {semconv.GEN_AI_OPERATION_NAME: semconv.OP_RETRIEVAL}
        # CLIENT: a retriever usually queries a store in another process.
        self._spans.start(
            now,
            RunKind.RETRIEVER,
            name,
            semconv.OP_RETRIEVAL,
            SpanKind.CLIENT,
            attrs,
            run_id,
            parent_run_id,
            metadata,
        )

    # Hooks that only end or fail their run share one body each.
    @guarded
    def _ended(self, *args: Any, run_id: UUID, **kwargs: Any) -> None:
        self._spans.end(run_id, self._clock())

    @guarded
    def _failed(self, error: BaseException, *, run_id: UUID, **kwargs: Any) -> None:
        self._spans.fail(run_id, error, self._clock())

    on_chain_end = on_retriever_end = _ended
    on_chain_error = on_tool_error = on_retriever_error = _failed

    @guarded
    def on_llm_error(self, error: BaseException, *, run_id: UUID, **kwargs: Any) -> None:
        now = self._clock()
        _llm_runs.fail(run_id)
        self._spans.fail(run_id, error, now)

    @guarded
    def on_stream_event(self, event: Any, *, run_id: UUID, **kwargs: Any) -> None:
        """``stream_events(version="v3")``: a model that streams protocol events natively gets no
        ``on_llm_new_token``, so its content deltas are its chunks (TTFT, chunk events). Models
        streamed through LangChain's chunk bridge get both, the token first: those count once."""
        if not isinstance(event, dict) or event.get("event") != "content-block-delta":
            return
        run = self._runs.get(run_id)
        if run is None or run.kind is not RunKind.LLM or (run.chunks and not run.native_events):
            return
        run.native_events = True
        self.on_llm_new_token("", run_id=run_id)

    # --- run lifecycle --------------------------------------------------------------
    def _start_llm(
        self,
        now: int,
        chat: bool,
        metadata: dict[str, Any],
        run_id: UUID,
        parent_run_id: UUID | None,
        kwargs: dict[str, Any],
    ) -> tuple[Run, dict[str, Any]]:
        params = kwargs.get("invocation_params") or {}
        start = self._llm_starts.get(chat, params, metadata)
        run = self._spans.open(now, RunKind.LLM, start, SpanKind.CLIENT, run_id, parent_run_id,
                               metadata)
        return run, params
