"""OpenTelemetry handler cost per LLM run: start, 200 streamed tokens, end.

Each contender drives RUNS chat runs through ``CallbackManager`` exactly as an
application would (``on_chat_model_start`` -> run manager -> 200
``on_llm_new_token`` -> ``on_llm_end``); the baseline is the same manager with
no handler. The handler is bound to SDK providers kept in memory
(``otel_llm.testing.otel.InMemoryTelemetry``), so the figures are the cost on
the application's thread: OTLP encoding and sending happen on the exporters'
threads and are not included. Contenders alternate within each round; the
ratio is the median over rounds of (contender / no handler).

The ``per token`` column times 20,000 ``on_llm_new_token`` events on one open
run, the hot path during a stream (including the per-chunk histogram values the
handler buffers and records later). ``chunk_metrics`` rows show what the
``time_per_output_chunk`` histogram costs: every gap (one SDK ``Histogram.record``
per chunk), the default sample of one gap in 10, or none. The last contender
uses a no-op MeterProvider (spans only).

The ``attributes()`` table prices ``otel_llm.attributes()``: one call (a run's
start and end, no tokens, where its cost is most visible) made inside an open
block, in a block of its own (entered and left per call), and inside a block
with ``app.feature`` allow-listed on the metrics; each as a ratio to the same
call outside any block, same round.
"""

from __future__ import annotations

import statistics
import sys
import uuid
from collections.abc import Callable
from typing import Any

from opentelemetry.metrics import NoOpMeterProvider

import otel_llm
from bench._stats import interleaved, median_spread, table, timed
from bench.peers.calls import count_calls
from otel_llm.callbacks import CallbackManager
from otel_llm.schema import AIMessage, ChatGeneration, HumanMessage, LLMResult, SystemMessage
from otel_llm.testing.otel import InMemoryTelemetry

RUNS = 100
TOKENS = 200
TOKEN_EVENTS = 20_000
MODES: tuple[str, ...] = ("off", "first", "all")

SERIALIZED = {"id": ["langchain", "chat_models", "openai", "ChatOpenAI"]}
MESSAGES = [SystemMessage("You are terse."), HumanMessage("Tell me about OpenTelemetry.")]
PARAMS = {"model": "gpt-4o-mini", "base_url": "https://api.openai.com/v1", "temperature": 0.2}
METADATA = {"ls_provider": "openai", "ls_model_type": "chat"}
RESULT = LLMResult(
    generations=[
        [ChatGeneration(message=AIMessage("x" * 800), generation_info={"finish_reason": "stop"})]
    ],
    llm_output={
        "token_usage": {"prompt_tokens": 20, "completion_tokens": TOKENS},
        "model_name": "gpt-4o-mini-2024-07-18",
        "id": "chatcmpl-bench",
    },
)


def _runs(handlers: list[Any], telemetry: InMemoryTelemetry | None) -> Callable[[], float]:
    def go() -> None:
        for _ in range(RUNS):
            [run] = CallbackManager(handlers=handlers).on_chat_model_start(
                SERIALIZED, [MESSAGES], invocation_params=PARAMS, metadata=METADATA
            )
            token = run.on_llm_new_token
            for _ in range(TOKENS):
                token("tok")
            run.on_llm_end(RESULT)

    def measure() -> float:
        seconds = timed(go)
        if telemetry is not None:
            telemetry.clear()  # keep memory flat across rounds (outside the timing)
        return seconds

    return measure


def _tokens(handlers: list[Any]) -> Callable[[], float]:
    def measure() -> float:
        [run] = CallbackManager(handlers=handlers).on_chat_model_start(
            SERIALIZED, [MESSAGES], run_id=uuid.uuid4(), invocation_params=PARAMS
        )
        token = run.on_llm_new_token

        def go() -> None:
            for _ in range(TOKEN_EVENTS):
                token("tok")

        seconds = timed(go)
        run.on_llm_end(RESULT)
        return seconds

    return measure


CALLS = 500
BLOCK = {"conversation_id": "conv-1", "user_id": "user-1", "app.feature": "search"}


def _calls(handler: Any, telemetry: InMemoryTelemetry,
           where: str) -> tuple[Callable[[], float], Callable[[], int]]:
    """CALLS runs (start + end): ``outside`` a block, in one open ``block``, a block ``each``;
    and the Python function calls of one such call (a deterministic companion)."""
    def call() -> None:
        [run] = CallbackManager(handlers=[handler]).on_chat_model_start(
            SERIALIZED, [MESSAGES], invocation_params=PARAMS, metadata=METADATA
        )
        run.on_llm_end(RESULT)

    def one_in_block() -> None:
        with otel_llm.attributes(**BLOCK):
            call()

    def each() -> None:
        for _ in range(CALLS):
            one_in_block()

    def plain() -> None:
        for _ in range(CALLS):
            call()

    def measure() -> float:
        if where == "block":
            with otel_llm.attributes(**BLOCK):
                seconds = timed(plain)
        else:
                seconds = timed(each if where == "each" else plain)
        telemetry.clear()
        return seconds

    def python_calls() -> int:
        if where == "block":
            with otel_llm.attributes(**BLOCK):
                counts = [count_calls(call).python for _ in range(5)]
        else:
            counts = [count_calls(one_in_block if where == "each" else call).python
                      for _ in range(5)]
        telemetry.clear()
        return int(statistics.median(counts))

    return measure, python_calls


ATTRIBUTE_CONTENDERS = {
    "outside any block": ("outside", {}),
    "inside an open attributes() block": ("block", {}),
    "each call in its own block": ("each", {}),
    "open block, app.feature on metrics": ("block", {"metric_attributes": ["app.feature"]}),
}


def run_attributes(rounds: int = 5) -> dict[str, Any]:
    """Median microseconds per call and ratio to the same call outside, per contender."""
    telemetries = {name: InMemoryTelemetry() for name in ATTRIBUTE_CONTENDERS}
    pairs = {
        name: _calls(telemetries[name].handler(**options), telemetries[name], where)
        for name, (where, options) in ATTRIBUTE_CONTENDERS.items()
    }
    timings = interleaved({name: pair[0] for name, pair in pairs.items()}, rounds)
    calls = {name: pair[1]() for name, pair in pairs.items()}
    base = timings["outside any block"]
    results = {}
    for name, seconds in timings.items():
        med, spread = median_spread([t / CALLS for t in seconds])
        ratio, ratio_spread = median_spread([a / b for a, b in zip(seconds, base, strict=True)])
        results[name] = {"us_per_call": med * 1e6, "spread": spread, "ratio": ratio,
                         "ratio_spread": ratio_spread,
                         "calls_added": calls[name] - calls["outside any block"]}
    for telemetry in telemetries.values():
        telemetry.shutdown()
    return results


def report_attributes(results: dict[str, Any]) -> str:
    rows = [[name, f"{r['us_per_call']:,.1f} us ±{r['spread']:.0%}",
             f"{r['ratio']:.3f}x ±{r['ratio_spread']:.0%}", f"{r['calls_added']:+d}"]
            for name, r in results.items()]
    return table(["attributes() (call = run start + end)", "per call", "vs outside",
                  "Python calls added"], rows)


def run(rounds: int = 5) -> dict[str, Any]:
    """Median seconds per run and per token event, and ratios to no handler."""
    telemetries: dict[str, InMemoryTelemetry] = {}
    handlers: dict[str, list[Any]] = {"no handler": []}

    def add(name: str, **options: Any) -> None:
        telemetry = telemetries[name] = InMemoryTelemetry()
        handlers[name] = [telemetry.handler(**options)]

    for mode in MODES:
        add(f"chunk_events={mode}", chunk_events=mode)
    add("chunk_metrics=all (every gap)", chunk_metrics="all")
    add("chunk_metrics=off", chunk_metrics="off")
    add("chunk_events=first, no metrics", meter_provider=NoOpMeterProvider())
    contenders: dict[str, Callable[[], float]] = {}
    for name, hs in handlers.items():
        contenders[f"runs|{name}"] = _runs(hs, telemetries.get(name))
        contenders[f"tokens|{name}"] = _tokens(hs)
    timings = interleaved(contenders, rounds)
    results: dict[str, Any] = {}
    for name in handlers:
        run_s = [t / RUNS for t in timings[f"runs|{name}"]]
        tok_s = [t / TOKEN_EVENTS for t in timings[f"tokens|{name}"]]
        base_runs = [t / RUNS for t in timings["runs|no handler"]]
        base_toks = [t / TOKEN_EVENTS for t in timings["tokens|no handler"]]
        run_med, run_spread = median_spread(run_s)
        ratio, ratio_spread = median_spread([a / b for a, b in zip(run_s, base_runs, strict=True)])
        token_ratio, _ = median_spread([a / b for a, b in zip(tok_s, base_toks, strict=True)])
        results[name] = {
            "us_per_run": run_med * 1e6,
            "spread": run_spread,
            "ratio": ratio,
            "ratio_spread": ratio_spread,
            "us_per_token": median_spread(tok_s)[0] * 1e6,
            "token_ratio": token_ratio,
        }
    for telemetry in telemetries.values():
        telemetry.shutdown()
    return results


def report(results: dict[str, Any]) -> str:
    rows = [
        [
            name,
            f"{r['us_per_run']:,.0f} us ±{r['spread']:.0%}",
            f"{r['ratio']:.1f}x ±{r['ratio_spread']:.0%}",
            f"{r['us_per_token']:.2f} us",
            f"{r['token_ratio']:.1f}x",
        ]
        for name, r in results.items()
    ]
    return table(
        [
            f"handler (run = start + {TOKENS} tokens + end)",
            "per run",
            "vs no handler",
            "per token",
            "token vs no handler",
        ],
        rows,
    )


if __name__ == "__main__":
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    print(report(run(rounds)))
    print()
    print(report_attributes(run_attributes(rounds)))
