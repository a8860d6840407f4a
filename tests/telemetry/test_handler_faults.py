"""Fault injection on every hook: whatever breaks, each run's span ends exactly once.

Faults are injected where the handler hands work to others: the span itself
(every method but ``end`` raises, or ``end`` raises after ending, as a failing
span processor would), the content capture, the user's ``redact`` and
``cost_fn`` hooks, and the metric instruments. Each scenario drives one run
kind from its start event to its end (or error) event, as the callback manager
does, and checks that no exception reached the caller, that every span started
was ended once (counted on the span) and exported, and that the failures were
counted.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import pytest
from opentelemetry import trace
from opentelemetry.trace import Span, SpanKind, Tracer, TracerProvider
from opentelemetry.util.types import Attributes

from otel_llm.schema import AgentAction, AgentFinish
from otel_llm.telemetry import OpenTelemetryCallbackHandler
from otel_llm.telemetry.instruments import Instruments
from otel_llm.testing.otel import InMemoryTelemetry

from .events import chat_result, chat_start, stream, text_result


class Injected(RuntimeError):
    """The fault: raised by whatever the test broke."""


class FaultySpan(Span):
    """A real SDK span whose methods raise (``end`` still ends it first); counts ``end`` calls."""

    def __init__(self, real: Span, broken: bool, end_raises: bool) -> None:
        self.real = real
        self.broken = broken
        self.end_raises = end_raises
        self.ends = 0

    def _check(self) -> None:
        if self.broken:
            raise Injected("span method")

    def end(self, end_time: int | None = None) -> None:
        self.ends += 1
        self.real.end(end_time)
        if self.end_raises:
            raise Injected("span processor on_end")

    def get_span_context(self) -> trace.SpanContext:
        return self.real.get_span_context()

    def set_attributes(self, attributes: Any) -> None:
        self._check()
        self.real.set_attributes(attributes)

    def set_attribute(self, key: str, value: Any) -> None:
        self._check()
        self.real.set_attribute(key, value)

    def add_event(self, name: str, attributes: Attributes = None,
                  timestamp: int | None = None) -> None:
        self._check()
        self.real.add_event(name, attributes, timestamp)

    def add_link(self, context: Any, attributes: Attributes = None) -> None:
        self._check()

    def update_name(self, name: str) -> None:
        self._check()
        self.real.update_name(name)

    def is_recording(self) -> bool:
        return self.real.is_recording()

    def set_status(self, status: Any, description: str | None = None) -> None:
        self._check()
        self.real.set_status(status, description)

    def record_exception(self, exception: BaseException, attributes: Attributes = None,
                         timestamp: int | None = None, escaped: bool = False) -> None:
        self._check()
        self.real.record_exception(exception, attributes, timestamp, escaped)


class FaultyTracerProvider(TracerProvider):
    """Hands out tracers whose spans are ``FaultySpan`` around the real provider's spans."""

    def __init__(self, real: TracerProvider, broken: bool, end_raises: bool) -> None:
        self.real, self.broken, self.end_raises = real, broken, end_raises
        self.spans: list[FaultySpan] = []

    def get_tracer(self, *args: Any, **kwargs: Any) -> Tracer:
        provider = self
        real = self.real.get_tracer(*args, **kwargs)

        class _Tracer(Tracer):
            def start_span(self, name: str, context: Any = None, kind: SpanKind = SpanKind.INTERNAL,
                           attributes: Attributes = None, links: Sequence[Any] | None = None,
                           start_time: int | None = None, record_exception: bool = True,
                           set_status_on_exception: bool = True) -> Span:
                span = FaultySpan(
                    real.start_span(name, context, kind, attributes, links, start_time),
                    provider.broken,
                    provider.end_raises,
                )
                provider.spans.append(span)
                return span

            def start_as_current_span(self, *args: Any, **kwargs: Any) -> Iterator[Span]:
                raise NotImplementedError

        return _Tracer()


def _raise(*args: Any, **kwargs: Any) -> Any:
    raise Injected("hook")


#: name -> (what breaks: span methods, span end, capture, redact, cost_fn, metrics)
FAULTS = {
    "span methods": {"broken": True},
    "span end (processor)": {"end_raises": True},
    "content capture": {"capture": True},
    "redact hook": {"redact": True},
    "cost_fn": {"cost": True},
    "metric instruments": {"metrics": True},
    "everything": {"broken": True, "end_raises": True, "capture": True, "redact": True,
                   "cost": True, "metrics": True},
}


def _handler(otel: InMemoryTelemetry, monkeypatch: pytest.MonkeyPatch, **fault: bool
             ) -> tuple[OpenTelemetryCallbackHandler, FaultyTracerProvider]:
    provider = FaultyTracerProvider(
        otel.tracer_provider, fault.get("broken", False), fault.get("end_raises", False)
    )
    handler = otel.handler(
        tracer_provider=provider,
        capture_content="SPAN_AND_EVENT",
        redact=_raise if fault.get("redact") else None,
        cost_fn=_raise if fault.get("cost") else (lambda model, usage: 0.1),
        chunk_metrics="all",
        max_open_runs=50,
    )
    if fault.get("capture"):
        for name in ("chat_input", "prompt_input", "llm_output", "tool", "emit_event"):
            monkeypatch.setattr(handler._content, name, _raise)
    if fault.get("metrics"):
        for name in ("record_end", "record_usage", "record_first_chunk", "record_chunk_gaps"):
            monkeypatch.setattr(Instruments, name, _raise)
    return handler, provider


def _llm_end(h: OpenTelemetryCallbackHandler) -> None:
    run = chat_start(h)
    stream(h, run, 3)
    h.on_llm_end(chat_result(), run_id=run)


def _llm_error(h: OpenTelemetryCallbackHandler) -> None:
    run = chat_start(h)
    stream(h, run, 2)
    h.on_llm_error(TimeoutError("late"), run_id=run)


def _text_llm(h: OpenTelemetryCallbackHandler) -> None:
    run = uuid.uuid4()
    h.on_llm_start({}, ["Once upon"], run_id=run, invocation_params={"model": "m"})
    h.on_llm_end(text_result(), run_id=run)


_LOOPED: dict[str, Any] = {}
_LOOPED["self"] = _LOOPED  # a self-referencing tool argument and result

#: kind -> (start hook and its two positional arguments, end payload, error)
_RUNS: dict[str, tuple[str, tuple[Any, Any], Any, Any]] = {
    "chain": ("on_chain_start", ({"name": "Outer"}, {"q": 1}), {"a": 1}, ValueError("bad")),
    "tool": ("on_tool_start", ({"name": "t", "description": "d"}, ""), _LOOPED,
             RuntimeError("tool broke")),
    "retriever": ("on_retriever_start", ({"name": "r"}, "query"), [], OSError("store down")),
}


def _simple(kind: str, outcome: str) -> Callable[[OpenTelemetryCallbackHandler], None]:
    """A chain, tool or retriever run from its start event to its end or error event."""
    start, args, payload, error = _RUNS[kind]

    def scenario(h: OpenTelemetryCallbackHandler) -> None:
        run = uuid.uuid4()
        extra = {"inputs": _LOOPED} if kind == "tool" else {}
        getattr(h, start)(*args, run_id=run, **extra)
        if outcome == "end":
            getattr(h, f"on_{kind}_end")(payload, run_id=run)
        else:
            getattr(h, f"on_{kind}_error")(error, run_id=run)

    return scenario


def _agent(h: OpenTelemetryCallbackHandler) -> None:
    run = uuid.uuid4()
    h.on_chain_start({"name": "Planner"}, {}, run_id=run)
    h.on_agent_action(AgentAction("search", "q", "log"), run_id=run)
    h.on_agent_finish(AgentFinish({"output": "x"}, "log"), run_id=run)
    h.on_chain_end({}, run_id=run)


def _parent_ends_first(h: OpenTelemetryCallbackHandler) -> None:
    parent = uuid.uuid4()
    h.on_chain_start({"name": "Outer"}, {}, run_id=parent)
    chat_start(h, parent=parent)
    h.on_tool_start({"name": "t"}, "x", run_id=uuid.uuid4(), parent_run_id=parent)
    h.on_chain_end({}, run_id=parent)


def _evicted(h: OpenTelemetryCallbackHandler) -> None:
    for _ in range(60):  # max_open_runs=50: ten are evicted, the rest closed below
        chat_start(h)
    h.close()


SCENARIOS = {
    "on_chat_model_start/on_llm_new_token/on_llm_end": _llm_end,
    "on_llm_error": _llm_error,
    "on_llm_start/on_llm_end": _text_llm,
    "on_chain_end": _simple("chain", "end"),
    "on_chain_error": _simple("chain", "error"),
    "on_agent_action/on_agent_finish": _agent,
    "on_tool_start/on_tool_end": _simple("tool", "end"),
    "on_tool_error": _simple("tool", "error"),
    "on_retriever_end": _simple("retriever", "end"),
    "on_retriever_error": _simple("retriever", "error"),
    "parent ends with open children": _parent_ends_first,
    "eviction and close()": _evicted,
}


@pytest.mark.parametrize("fault", list(FAULTS))
@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_every_run_ends_exactly_once_whatever_fails(
    otel: InMemoryTelemetry, monkeypatch: pytest.MonkeyPatch, scenario: str, fault: str
) -> None:
    """No exception reaches the caller; every started span is ended once and exported."""
    handler, provider = _handler(otel, monkeypatch, **FAULTS[fault])
    SCENARIOS[scenario](handler)  # raises nothing
    assert provider.spans, "the scenario started no span"
    assert [s.ends for s in provider.spans] == [1] * len(provider.spans)
    assert len(otel.spans()) == len(provider.spans)
    assert handler.open_runs == 0
    counts = handler.failures.counts()
    injected = sum(n for key, n in counts.items() if key.endswith(":Injected"))
    touched = _touches(scenario, fault)
    assert (injected > 0) == touched, counts


def _touches(scenario: str, fault: str) -> bool:
    """Whether the scenario reaches the broken part at all (a chain records no cost, say)."""
    llm = scenario.startswith(("on_chat", "on_llm", "eviction", "parent"))
    if fault == "span methods":  # plain chain and retriever runs only start and end spans
        return scenario not in ("on_chain_end", "on_retriever_end")
    if fault == "cost_fn":
        return scenario == "on_chat_model_start/on_llm_new_token/on_llm_end"
    if fault == "metric instruments":
        return llm
    content = llm or scenario.startswith("on_tool")
    if fault == "content capture":
        return content
    if fault == "redact hook":  # content, and error messages
        return content or "error" in scenario
    return True
