"""A collector outage of N seconds, then recovery: what arrives, how soon, at what cost.

Replays issue #18's table. For each protocol (gRPC, HTTP) and fault (503 /
UNAVAILABLE, 500 / INTERNAL, connection refused, a collector that hangs), a
fresh process runs streamed chat runs (start, 10 tokens, end) through the OTel
handler at a steady rate: BEFORE s healthy, N s of outage, AFTER s healthy
again, then waits for the backlog. Two export pipelines get the same runs:

- ``plain``: a plain SDK setup, ``BatchSpanProcessor`` + the SDK's OTLP exporter
  (default queue 2,048, batch 512, 5 s delay, 10 s export timeout), and an SDK
  ``MeterProvider`` without readers, as ``configure(metrics_exporter="none")`` builds;
- ``otel-llm``: ``configure()`` with the same defaults.

Figures: spans delivered of those produced before/during/after the outage;
time from the collector answering again to the first span arriving; the p99
a run adds during the outage (instrumented minus bare, interleaved in the
same loop); the process's CPU during the outage (percent of one core; the
in-process receiver's own work is included, the same for both); RSS growth
over the outage. Timings are of one run on a shared machine: compare rows
of the same run, not runs.

Run: ``.venv/bin/python -m bench.outage_bench [--seconds N] [--rate R]``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import threading
import time
from typing import Any

from bench._stats import table
from bench.fault_bench import llm_run
from otel_llm.testing.collector import GrpcCollector, HttpCollector, dead_endpoint

FAULTS = {"503": "unavailable", "500": "error", "refused": "down", "hang": "hang"}
BEFORE, AFTER, SETTLE = 2.0, 5.0, 12.0


def _rss_mb() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1e6


def _pipeline(contender: str, protocol: str, endpoint: str) -> tuple[Any, Any]:
    """(handler, provider-ish with shutdown) for one contender."""
    from otel_llm.telemetry import OpenTelemetryCallbackHandler

    if contender == "otel-llm":
        from otel_llm.configuration import configure

        handle = configure(install=False, endpoint=endpoint, protocol=protocol,
                           metrics_exporter="none")
        return handle.handler(), handle
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    if protocol == "grpc":
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
        exporter = OTLPSpanExporter(endpoint=endpoint, insecure=True)
    else:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import (
            OTLPSpanExporter as HttpSpanExporter,
        )
        exporter = HttpSpanExporter(endpoint=f"{endpoint}/v1/traces")
    from opentelemetry.sdk.metrics import MeterProvider

    provider = TracerProvider(shutdown_on_exit=False)
    provider.add_span_processor(BatchSpanProcessor(exporter))
    # The same metric work as configure(metrics_exporter="none"): SDK histograms, no reader.
    # (The global no-op meter would make the plain rows skip four records per run.)
    meters = MeterProvider(shutdown_on_exit=False)
    return OpenTelemetryCallbackHandler(tracer_provider=provider, meter_provider=meters), provider


def _phase(handler: Any, model: str, seconds: float, rate: float,
           timings: list[tuple[int, int]] | None = None) -> int:
    """Runs at ``rate`` per second for ``seconds``; returns how many."""
    params = {"model": model, "base_url": "https://api.openai.com/v1"}  # span "chat <phase>"
    start = time.monotonic()
    n = 0
    while time.monotonic() < start + seconds:
        t0 = time.perf_counter_ns()
        llm_run(None)
        t1 = time.perf_counter_ns()
        llm_run(handler, params=params)
        t2 = time.perf_counter_ns()
        if timings is not None:
            timings.append((t1 - t0, t2 - t1))
        n += 1
        delay = start + n / rate - time.monotonic()
        if delay > 0:
            time.sleep(delay)
    return n


def _first_spans_after(received: Any, index: int, found: dict[str, float]) -> None:
    def has_spans(r: Any) -> bool:
        return any(len(request.resource_spans) for request in r.traces[index:])

    if received.wait_for(has_spans, timeout=120):
        found["at"] = time.monotonic()


def one(contender: str, protocol: str, fault: str, seconds: float, rate: float) -> dict[str, Any]:
    Collector = GrpcCollector if protocol == "grpc" else HttpCollector
    endpoint = dead_endpoint()
    port = int(endpoint.rsplit(":", 1)[1])
    collector = Collector(port=port).__enter__()
    handler, pipeline = _pipeline(contender, protocol, endpoint)
    produced = {"before": _phase(handler, "before", BEFORE, rate)}
    if fault == "down":
        collector.__exit__(None, None, None)
    else:
        collector.fault = fault
    timings: list[tuple[int, int]] = []
    rss0, cpu0, wall0 = _rss_mb(), time.process_time(), time.monotonic()
    produced["during"] = _phase(handler, "during", seconds, rate, timings)
    cpu = (time.process_time() - cpu0) / (time.monotonic() - wall0) * 100
    rss = _rss_mb() - rss0
    received_before = collector.received
    if fault == "down":
        collector = Collector(port=port).__enter__()
    else:
        collector.fault = None
        collector.release.set()
    found: dict[str, float] = {}
    recovered = time.monotonic()
    watcher = threading.Thread(
        target=_first_spans_after,
        args=(collector.received, len(collector.received.traces), found), daemon=True)
    watcher.start()
    produced["after"] = _phase(handler, "after", AFTER, rate)
    total = sum(produced.values())
    got = [received_before, collector.received] if fault == "down" else [collector.received]
    deadline = time.monotonic() + SETTLE
    while time.monotonic() < deadline and sum(len(r.spans()) for r in got) < total:
        time.sleep(0.2)
    watcher.join(0.1)
    names = [span.name for r in got for span in r.spans()]
    base = sorted(b for b, _ in timings)
    inst = sorted(i for _, i in timings)
    p99 = (inst[int(len(inst) * 0.99)] - base[int(len(base) * 0.99)]) / 1e6 if timings else 0.0
    threading.Thread(target=pipeline.shutdown, daemon=True).start()
    return {
        "contender": contender, "protocol": protocol, "fault": fault,
        "produced": produced,
        "delivered": {phase: names.count(f"chat {phase}") for phase in produced},
        "first_after_s": found["at"] - recovered if "at" in found else None,
        "p99_added_ms": p99, "cpu_pct": cpu, "rss_mb": rss,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="outage length (10 s)")
    parser.add_argument("--rate", type=float, default=200.0, help="runs per second (200)")
    parser.add_argument("--one", nargs=3, metavar=("CONTENDER", "PROTOCOL", "FAULT"),
                        help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        import logging

        logging.disable(logging.CRITICAL)  # the SDK's per-failure lines would flood the output
        print(json.dumps(one(*args.one, args.seconds, args.rate)))
        return
    rows = []
    for label, fault in FAULTS.items():
        for protocol in ("grpc", "http/protobuf"):
            for contender in ("plain", "otel-llm"):
                done = subprocess.run(
                    [sys.executable, "-m", "bench.outage_bench", "--one", contender, protocol,
                     fault, "--seconds", str(args.seconds), "--rate", str(args.rate)],
                    capture_output=True, text=True, check=True,
                )
                r = json.loads(done.stdout.strip().splitlines()[-1])
                p, d = r["produced"], r["delivered"]
                first = r["first_after_s"]
                rows.append([
                    contender, protocol, label,
                    f"{sum(d.values())} of {sum(p.values())}",
                    f"{d['before']}/{p['before']}", f"{d['during']}/{p['during']}",
                    f"{d['after']}/{p['after']}",
                    "never" if first is None else f"{first:.2f}",
                    f"{r['p99_added_ms']:+.3f}", f"{r['cpu_pct']:.0f}", f"{r['rss_mb']:+.1f}",
                ])
                print(" | ".join(rows[-1]), file=sys.stderr)
    print(f"\n{args.seconds:g} s outage at {args.rate:g} runs/s, then healthy "
          f"({BEFORE:g} s before, {AFTER:g} s after)\n")
    print(table(["pipeline", "protocol", "fault", "spans delivered", "before", "during",
                 "after", "first delivery after recovery (s)", "added p99 (ms)",
                 "CPU in outage (%)", "RSS in outage (MB)"], rows))


if __name__ == "__main__":
    main()
