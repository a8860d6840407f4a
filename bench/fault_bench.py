"""What a faulty collector costs the app: added p99 per run, and shutdown time.

For each protocol (gRPC, HTTP) and fault (nothing listening, a collector that
hangs, one that answers errors), ``configure()`` exports to the faulty endpoint
while the app thread runs streamed chat runs (start, 10 tokens, end) through
the OTel handler, interleaved with the same work without a handler. Once the
first export has failed (the steady state of an outage), BLOCKS blocks of
PAIRS pairs are timed; the figure is the p99 of the instrumented run minus the
p99 of the bare one, best block (other tenants' noise only ever adds). The
second table times ``shutdown()`` (1 s and the default 3 s) with 1,500 runs
queued for a dead collector and a 10 s export timeout.

These used to be unit-test budgets; a shared or loaded machine made them fail
without anything being wrong, so they are reported here instead.

Run: ``.venv/bin/python -m bench.fault_bench``.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
import uuid
from typing import Any

from bench._stats import table
from otel_llm.configuration import configure
from otel_llm.schema import AIMessage, ChatGeneration, HumanMessage, LLMResult
from otel_llm.telemetry import OpenTelemetryCallbackHandler
from otel_llm.testing.collector import GrpcCollector, HttpCollector, dead_endpoint

PAIRS = 1000
BLOCKS = 3
MESSAGES = [[HumanMessage("Hello")]]
PARAMS = {"model": "gpt-4o-mini", "base_url": "https://api.openai.com/v1"}
RESULT = LLMResult(
    generations=[
        [ChatGeneration(message=AIMessage("Hi"), generation_info={"finish_reason": "stop"})]
    ],
    llm_output={"token_usage": {"prompt_tokens": 7, "completion_tokens": 3}},
)


def llm_run(handler: OpenTelemetryCallbackHandler | None, tokens: int = 10,
            params: dict[str, str] = PARAMS) -> None:
    """One streamed chat run as the manager reports it (no handler: the bare app work)."""
    run_id = uuid.uuid4()
    pieces = []
    if handler is not None:
        handler.on_chat_model_start({}, MESSAGES, run_id=run_id, invocation_params=params)
    for i in range(tokens):
        pieces.append(str(i))
        if handler is not None:
            handler.on_llm_new_token(pieces[-1], run_id=run_id)
    "".join(pieces)
    if handler is not None:
        handler.on_llm_end(RESULT, run_id=run_id)


def _p99_ms(samples: list[int]) -> float:
    return sorted(samples)[int(len(samples) * 0.99)] / 1e6


class _Failed(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.event = threading.Event()

    def emit(self, record: logging.LogRecord) -> None:
        if "collector unavailable" in record.getMessage():
            self.event.set()


def added_p99(protocol: str, fault: str) -> tuple[float, float]:
    """(instrumented p99 - bare p99, bare p99) in ms, best of BLOCKS blocks."""
    collector: Any = None
    if fault != "down":
        collector = GrpcCollector(fault) if protocol == "grpc" else HttpCollector(fault)
    failed = _Failed()
    outages = logging.getLogger("otel_llm.configuration")  # logs an outage at WARNING
    outages.addHandler(failed)
    level = outages.level
    outages.setLevel(logging.WARNING)
    try:
        with collector or contextlib.nullcontext():
            handle = configure(install=False, protocol=protocol, export_timeout=0.2,
                               endpoint=collector.endpoint if collector else dead_endpoint(),
                               metric_export_interval=0.2, max_queue_size=256)
            handler = handle.handler()
            while not failed.event.wait(0.001):
                llm_run(handler)
            best: tuple[float, float] | None = None
            for _ in range(BLOCKS):
                base: list[int] = []
                inst: list[int] = []
                for i in range(PAIRS):
                    t0 = time.perf_counter_ns()
                    llm_run(None)
                    t1 = time.perf_counter_ns()
                    llm_run(handler)
                    t2 = time.perf_counter_ns()
                    base.append(t1 - t0)
                    inst.append(t2 - t1)
                    if i % 10 == 0:
                        time.sleep(0.001)  # an LLM call waits on the network; export runs
                block = (_p99_ms(inst) - _p99_ms(base), _p99_ms(base))
                best = block if best is None or block[0] < best[0] else best
            handle.shutdown(timeout=1.0)
    finally:
        outages.removeHandler(failed)
        outages.setLevel(level)
    assert best is not None
    return best


def shutdown_seconds(protocol: str, timeout: float | None) -> float:
    handle = configure(install=False, protocol=protocol, endpoint=dead_endpoint(),
                       export_timeout=10, max_queue_size=2048)
    handler = handle.handler()
    for _ in range(1500):
        llm_run(handler, tokens=2)
    started = time.perf_counter()
    handle.shutdown(timeout=timeout)
    return time.perf_counter() - started


def main() -> None:
    logging.basicConfig(level=logging.ERROR)
    rows = []
    for protocol in ("grpc", "http/protobuf"):
        for fault in ("down", "hang", "error"):
            added, bare = added_p99(protocol, fault)
            rows.append([protocol, fault, f"{bare:.3f}", f"{added:+.3f}"])
    print("Added p99 per run while the collector is faulty (ms)\n")
    print(table(["protocol", "fault", "bare p99", "added p99"], rows))
    print("\nshutdown() with 1,500 runs queued for a dead collector (seconds)\n")
    print(table(["protocol", "timeout=1.0", "default (3 s)"],
                [[p, f"{shutdown_seconds(p, 1.0):.2f}", f"{shutdown_seconds(p, None):.2f}"]
                 for p in ("grpc", "http/protobuf")]))


if __name__ == "__main__":
    main()
