"""Content capture cost per event, for inputs far beyond the limit, against a 1 KB input.

Each scenario is one callback event with ``capture_content="SPAN_AND_EVENT"``
and the default 16 KiB ``max_content_bytes``, on a handler bound to in-memory
providers (the cost on the application's thread; exporting is elsewhere):

- ``tool args 1M items``: ``on_tool_start(inputs={"xs": list(range(10**6))})``
- ``history 100k messages``: ``on_chat_model_start`` with 100,000 messages
- ``tool result 10 MB``: ``on_tool_end`` with a 10 MB string
- ``llm output 10 MB``: ``on_llm_end`` whose message is 10 MB of text

Each is paired with the same event carrying about 1 KB. Scenarios alternate
within each round; the figure is the median per event and the ratio is the
median over rounds of (big / 1 KB), measured in this one run. Target (issue
#19): at most 5 ms per event whatever the input. Issue #19 measured 13.0 s,
10.7 s and 2.4 s for the first three before the budgeted encoder.

    python -m bench.capture_bench [rounds]
"""

from __future__ import annotations

import sys
import uuid
from collections.abc import Callable
from typing import Any

from bench._stats import interleaved, median_spread, table, timed
from otel_llm.schema import AIMessage, ChatGeneration, HumanMessage, LLMResult
from otel_llm.telemetry import OpenTelemetryCallbackHandler
from otel_llm.testing.otel import InMemoryTelemetry

EVENTS = 20
TARGET_MS = 5.0
PARAMS = {"model": "gpt-4o-mini", "base_url": "https://api.openai.com/v1"}
SMALL_TEXT = "x" * 1000


def _tool_start(inputs: dict[str, Any]) -> Callable[[OpenTelemetryCallbackHandler], None]:
    def event(handler: OpenTelemetryCallbackHandler) -> None:
        run_id = uuid.uuid4()
        handler.on_tool_start({"name": "lookup"}, "", run_id=run_id, inputs=inputs)
        handler.on_tool_end("ok", run_id=run_id)

    return event


def _chat_start(messages: list[Any]) -> Callable[[OpenTelemetryCallbackHandler], None]:
    def event(handler: OpenTelemetryCallbackHandler) -> None:
        run_id = uuid.uuid4()
        handler.on_chat_model_start({}, [messages], run_id=run_id, invocation_params=PARAMS)
        handler.on_llm_end(_result("ok"), run_id=run_id)

    return event


def _tool_end(output: str) -> Callable[[OpenTelemetryCallbackHandler], None]:
    def event(handler: OpenTelemetryCallbackHandler) -> None:
        run_id = uuid.uuid4()
        handler.on_tool_start({"name": "lookup"}, "", run_id=run_id, inputs={"q": 1})
        handler.on_tool_end(output, run_id=run_id)

    return event


def _llm_end(text: str) -> Callable[[OpenTelemetryCallbackHandler], None]:
    result = _result(text)

    def event(handler: OpenTelemetryCallbackHandler) -> None:
        run_id = uuid.uuid4()
        handler.on_chat_model_start({}, [[HumanMessage("hi")]], run_id=run_id,
                                    invocation_params=PARAMS)
        handler.on_llm_end(result, run_id=run_id)

    return event


def _result(text: str) -> LLMResult:
    generation = ChatGeneration(message=AIMessage(text), generation_info={"finish_reason": "stop"})
    return LLMResult(generations=[[generation]], llm_output={})


#: name -> (big event, the same event with about 1 KB)
SCENARIOS = {
    "tool args 1M items": (
        _tool_start({"xs": list(range(10**6))}),
        _tool_start({"xs": list(range(250))}),
    ),
    "history 100k messages": (
        _chat_start([HumanMessage(f"message {i}") for i in range(100_000)]),
        _chat_start([HumanMessage(f"message {i}") for i in range(40)]),
    ),
    "tool result 10 MB": (_tool_end("r" * 10_000_000), _tool_end(SMALL_TEXT)),
    "llm output 10 MB": (_llm_end("o" * 10_000_000), _llm_end(SMALL_TEXT)),
}


def _measure(
    event: Callable[[OpenTelemetryCallbackHandler], None], telemetry: InMemoryTelemetry
) -> Callable[[], float]:
    handler = telemetry.handler(capture_content="SPAN_AND_EVENT")

    def measure() -> float:
        seconds = timed(lambda: [event(handler) for _ in range(EVENTS)])
        telemetry.clear()  # keep memory flat across rounds (outside the timing)
        return seconds / EVENTS

    return measure


def run(rounds: int = 7) -> dict[str, dict[str, float]]:
    telemetry = InMemoryTelemetry()
    contenders: dict[str, Callable[[], float]] = {}
    for name, (big, small) in SCENARIOS.items():
        contenders[f"{name}|big"] = _measure(big, telemetry)
        contenders[f"{name}|small"] = _measure(small, telemetry)
    timings = interleaved(contenders, rounds)
    telemetry.shutdown()
    results = {}
    for name in SCENARIOS:
        big, small = timings[f"{name}|big"], timings[f"{name}|small"]
        big_med, spread = median_spread(big)
        ratio, _ = median_spread([b / s for b, s in zip(big, small, strict=True)])
        results[name] = {
            "big_ms": big_med * 1e3,
            "spread": spread,
            "small_ms": median_spread(small)[0] * 1e3,
            "ratio": ratio,
        }
    return results


def report(results: dict[str, dict[str, float]]) -> str:
    rows = [
        [
            name,
            f"{r['big_ms']:.2f} ms ±{r['spread']:.0%}",
            f"{r['small_ms']:.2f} ms",
            f"{r['ratio']:.1f}x",
            "yes" if r["big_ms"] <= TARGET_MS else "NO",
        ]
        for name, r in results.items()
    ]
    return table(
        ["event (capture SPAN_AND_EVENT, 16 KiB)", "per event", "~1 KB input", "ratio",
         f"<= {TARGET_MS:g} ms"],
        rows,
    )


if __name__ == "__main__":
    print(report(run(int(sys.argv[1]) if len(sys.argv) > 1 else 7)))
