"""Correctness probes, run inside a worker on the same clients the benchmark uses.

Each probe runs a few calls with the exporter keeping spans, then reads what the
contender produced. Probes report observations (counts, attribute values), not
verdicts: :mod:`bench.peers.verdicts` judges them against the truth in the
orchestrator. Peers name things differently, so attributes are looked up under
each family's names (semconv ``gen_ai.*``, OpenInference ``llm.*``).
"""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Callable
from typing import Any

from bench.peers.scenarios import CHAT_MODEL, MESSAGES, PROMPT_MARKER, STREAM_MODEL, Workloads
from bench.peers.telemetry import WorkerTelemetry

__all__ = ["INPUT_KEYS", "OUTPUT_KEYS", "run_langchain_probes", "run_openai_probes"]

INPUT_KEYS = ("gen_ai.usage.input_tokens", "gen_ai.usage.prompt_tokens", "llm.token_count.prompt")
OUTPUT_KEYS = ("gen_ai.usage.output_tokens", "gen_ai.usage.completion_tokens",
               "llm.token_count.completion")
_ERROR_TYPE_KEYS = ("error.type", "exception.type")


class _Probe:
    def __init__(self, telemetry: WorkerTelemetry) -> None:
        self.telemetry = telemetry
        self.metric_names: set[str] = set()
        self.content_seen = False

    def segment(self, fn: Callable[[], Any]) -> list[Any]:
        """Spans ended while ``fn`` ran (``fn``'s exceptions are the probe's business)."""
        self.telemetry.start_keeping()
        try:
            fn()
        finally:
            spans = self.telemetry.stop_keeping()
            self.metric_names |= set(self.telemetry.collect_metrics())
        for span in spans:
            self.content_seen |= _mentions_prompt(span)
        return spans


def run_openai_probes(w: Workloads, t: WorkerTelemetry) -> dict[str, Any]:
    p = _Probe(t)
    client, aclient = w.client, w.aclient
    usage = {"include_usage": True}
    out: dict[str, Any] = {}

    def stream(stream_options: Any = None, model: str = STREAM_MODEL) -> Any:
        kwargs = {"stream_options": stream_options} if stream_options else {}
        return client.chat.completions.create(model=model, messages=MESSAGES, stream=True,
                                              **kwargs)

    def times(n: int, fn: Callable[[], Any]) -> Callable[[], None]:
        def go() -> None:
            for _ in range(n):
                fn()
        return go

    out["spans_per_call"] = {
        scenario: len(p.segment(times(3, w.unit(scenario)))) / 3
        for scenario in ("chat", "stream-usage", "stream-no-usage")
    }
    async def three() -> None:
        await asyncio.gather(*(aclient.chat.completions.create(model=CHAT_MODEL,
                                                               messages=MESSAGES)
                               for _ in range(3)))

    out["spans_per_call"]["async"] = len(p.segment(lambda: w.loop.run_until_complete(
        three()))) / 3

    def early_close() -> None:
        s = stream(usage)
        for _, _chunk in zip(range(3), s, strict=False):
            pass
        s.close()

    out["early_close"] = _ended(p.segment(early_close))

    def abandon() -> None:
        s = stream(usage)
        for _, _chunk in zip(range(3), s, strict=False):
            pass
        del s, _chunk
        gc.collect()

    out["abandoned"] = _ended(p.segment(abandon))

    chat = p.segment(w.unit("chat"))
    with_usage = p.segment(w.unit("stream-usage"))
    no_usage = p.segment(w.unit("stream-no-usage"))
    out["tokens_chat"] = _tokens(chat)
    out["tokens_stream_usage"] = _tokens(with_usage)
    out["tokens_stream_no_usage"] = _tokens(no_usage)
    out["ttft"] = _ttft(with_usage, p.metric_names)
    out["finish_reasons_chat"] = _finish(chat)
    out["finish_reasons_stream"] = _finish(no_usage)

    def rate_limited() -> None:
        try:
            client.chat.completions.create(model="gpt-4o-mini+error=429", messages=MESSAGES)
        except Exception as exc:
            out["error_raised"] = type(exc).__name__

    out["error_span"] = _error(p.segment(rate_limited))
    out["gather_parent"] = _gather_parent(p, w, t)
    out["metrics"] = sorted(p.metric_names)
    out["content_captured"] = p.content_seen
    return out


def run_langchain_probes(w: Workloads, t: WorkerTelemetry) -> dict[str, Any]:
    p = _Probe(t)
    spans = p.segment(w.unit("lc-invoke"))
    return {
        "spans_per_run": len(spans),
        "traces_per_run": len({s.context.trace_id for s in spans}),
        "span_names": sorted({s.name for s in spans}),
        "tokens": _tokens(spans),
        "metrics": sorted(p.metric_names),
        "content_captured": p.content_seen,
    }


# --- readers -----------------------------------------------------------------------------
def _attr(spans: list[Any], keys: tuple[str, ...]) -> Any:
    for span in spans:
        for key in keys:
            value = (span.attributes or {}).get(key)
            if value is not None:
                return value
    return None


def _tokens(spans: list[Any]) -> dict[str, Any]:
    return {"input": _attr(spans, INPUT_KEYS), "output": _attr(spans, OUTPUT_KEYS),
            "estimated": _attr(spans, ("otel_llm.usage.estimated",))}


def _ended(spans: list[Any]) -> dict[str, Any]:
    return {"ended": len(spans), "status": [s.status.status_code.name for s in spans]}


def _ttft(spans: list[Any], metric_names: set[str]) -> dict[str, Any]:
    attrs = sorted({k for s in spans for k in (s.attributes or {}) if "first" in k})
    events = sorted({e.name for s in spans for e in s.events if "first" in e.name.lower()})
    metric = sorted(n for n in metric_names if "first" in n)
    return {"attributes": attrs, "events": events, "metrics": metric}


def _finish(spans: list[Any]) -> Any:
    for span in spans:
        for key, value in (span.attributes or {}).items():
            if "finish_reason" in key:
                return list(value) if isinstance(value, tuple) else value
    return None


def _error(spans: list[Any]) -> dict[str, Any]:
    if not spans:
        return {"spans": 0}
    span = spans[0]
    return {
        "spans": len(spans),
        "status": span.status.status_code.name,
        "error_type": _attr([span], _ERROR_TYPE_KEYS),
        "exception_event": any(e.name == "exception" for e in span.events),
    }


def _gather_parent(p: _Probe, w: Workloads, t: WorkerTelemetry) -> dict[str, Any]:
    tracer = t.tracer_provider.get_tracer("bench.probe")
    aclient = w.aclient

    async def under_parent() -> None:
        with tracer.start_as_current_span("parent"):
            await asyncio.gather(*(aclient.chat.completions.create(model=CHAT_MODEL,
                                                                   messages=MESSAGES)
                                   for _ in range(5)))

    spans = p.segment(lambda: w.loop.run_until_complete(under_parent()))
    parents = [s for s in spans if s.name == "parent"]
    children = [s for s in spans if s.name != "parent"]
    if len(parents) != 1:
        return {"children": len(children), "linked": 0}
    pid = parents[0].context.span_id
    linked = sum(1 for s in children if s.parent is not None and s.parent.span_id == pid)
    return {"children": len(children), "linked": linked}


def _mentions_prompt(span: Any) -> bool:
    return any(isinstance(v, str) and PROMPT_MARKER in v for v in (span.attributes or {}).values())
