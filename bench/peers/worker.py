"""One contender's process: ``python -m bench.peers.worker --contender NAME [--url URL]``.

Protocol: one JSON object per line. The worker answers ``{"ready": ...}`` once
set up, then one answer per command read from stdin:

- ``{"cmd": "run", "scenario": S, "units": N}`` -> ``{"cpu": s, "wall": s, "calls": n}``:
  N units of S timed as a whole; CPU is ``time.process_time()`` (every thread of
  this process: the span processor's too), each batch ends with a span flush
  inside the timed region, so it pays for its own export;
- ``{"cmd": "probe"}`` -> the correctness observations (:mod:`bench.peers.probes`);
- ``{"cmd": "rss", "calls": N}`` -> memory over N calls (:mod:`bench.peers.rss`);
- ``{"cmd": "count", "units": {S: K}}`` -> ``{"counts": {S: ...}}``: function calls per
  call, profiled, never timed (:mod:`bench.peers.calls`; without ``units``, every
  scenario of the suite);
- ``{"cmd": "quit"}``.

Failures answer ``{"error": traceback}``. Answers go to a duplicate of the
original stdout; ``sys.stdout`` and fd 1 point at stderr, so nothing a library
prints can corrupt the protocol.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import time
import traceback
from importlib import metadata
from typing import Any, TextIO

from bench.peers.contenders import by_name
from bench.peers.instrumentors import ContenderUnavailable, install
from bench.peers.telemetry import WorkerTelemetry

__all__ = ["main"]

_VERSIONED = ("openai", "opentelemetry-sdk", "opentelemetry-api", "langchain-core",
              "opentelemetry-util-genai", "openinference-instrumentation")


def _versions(package: str) -> dict[str, str]:
    out = {}
    for name in (*_VERSIONED, package):
        if not name:
            continue
        with contextlib.suppress(metadata.PackageNotFoundError):
            out[name] = metadata.version(name)
    return out


def _protocol_stream() -> TextIO:
    out = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    return out


def _run(workloads: Any, telemetry: WorkerTelemetry, scenario: str, units: int) -> dict[str, Any]:
    from bench.peers.scenarios import calls_per_unit

    unit = workloads.unit(scenario)
    telemetry.collect_metrics()  # what a periodic reader does, outside the timed region
    spans_before = telemetry.spans.count
    w0, c0 = time.perf_counter(), time.process_time()
    for _ in range(units):
        unit()
    telemetry.flush()
    cpu, wall = time.process_time() - c0, time.perf_counter() - w0
    return {"cpu": cpu, "wall": wall, "calls": units * calls_per_unit(scenario),
            "spans": telemetry.spans.count - spans_before}


def serve(contender_name: str, url: str | None, commands: TextIO, answers: TextIO) -> None:
    def send(obj: dict[str, Any]) -> None:
        answers.write(json.dumps(obj) + "\n")
        answers.flush()

    contender = by_name(contender_name)
    telemetry = WorkerTelemetry(contender_name)
    try:
        install(contender_name, telemetry)
    except ContenderUnavailable as exc:
        send({"ready": False, "unavailable": str(exc)})
        return
    from bench.peers.scenarios import Workloads

    workloads = Workloads(contender.suite, url)
    send({"ready": True, "pid": os.getpid(), "python": sys.version.split()[0],
          "versions": _versions(contender.package)})
    for line in commands:
        if not line.strip():
            continue
        cmd = json.loads(line)
        try:
            if cmd["cmd"] == "quit":
                break
            if cmd["cmd"] == "run":
                send(_run(workloads, telemetry, cmd["scenario"], int(cmd["units"])))
            elif cmd["cmd"] == "probe":
                from bench.peers import probes

                probe = (probes.run_openai_probes if contender.suite == "openai"
                         else probes.run_langchain_probes)
                send(probe(workloads, telemetry))
            elif cmd["cmd"] == "rss":
                from bench.peers.rss import measure_rss

                send(measure_rss(workloads, telemetry, int(cmd["calls"])))
            elif cmd["cmd"] == "count":
                from bench.peers.calls import count_scenarios

                send({"counts": count_scenarios(workloads, telemetry.flush, cmd.get("units"))})
            else:
                send({"error": f"unknown command {cmd['cmd']!r}"})
        except Exception:
            send({"error": traceback.format_exc()})
    workloads.close()
    telemetry.tracer_provider.shutdown()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.peers.worker")
    parser.add_argument("--contender", required=True)
    parser.add_argument("--url", help="the model server's base URL (openai suite)")
    args = parser.parse_args(argv)
    answers = _protocol_stream()
    serve(args.contender, args.url, sys.stdin, answers)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
