"""Memory over many calls: does a contender leak? (worker side)

The calls cycle through the ways real code ends a call, twenty per cycle:
sixteen ``chat``, a short stream read to the end with usage, one without, one
closed after three chunks and one abandoned after three chunks (dropped, never
closed).
Resident memory is read from ``/proc/self/statm`` after a ``gc.collect()`` at
twenty evenly spaced points; growth is measured from the end of the warm-up
(the first tenth of the calls, when caches, pools and interned strings fill) to
the end. Metrics are collected every 1,000 calls, as a periodic reader would.
"""

from __future__ import annotations

import gc
import os
import resource
import time
from collections.abc import Callable
from typing import Any

from bench.peers.scenarios import CHAT_MODEL, MESSAGES, Workloads
from bench.peers.telemetry import WorkerTelemetry

__all__ = ["SAMPLES", "measure_rss", "rss_mb"]

SAMPLES = 20
_PAGE = os.sysconf("SC_PAGE_SIZE")
_SHORT_STREAM = "gpt-4o-mini+len=20"


def rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * _PAGE / 2**20


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def _cycle(w: Workloads) -> list[Callable[[], Any]]:
    create = w.client.chat.completions.create

    def chat() -> None:
        create(model=CHAT_MODEL, messages=MESSAGES)

    def drain(with_usage: bool) -> Callable[[], None]:
        opts: Any = {"stream_options": {"include_usage": True}} if with_usage else {}

        def go() -> None:
            for _ in create(model=_SHORT_STREAM, messages=MESSAGES, stream=True, **opts):
                pass
        return go

    def partial(close: bool) -> Callable[[], None]:
        def go() -> None:
            stream = create(model=_SHORT_STREAM, messages=MESSAGES, stream=True)
            for _, _chunk in zip(range(3), stream, strict=False):
                pass
            if close:
                stream.close()
        return go

    return [chat] * 16 + [drain(True), drain(False), partial(True), partial(False)]


def measure_rss(w: Workloads, t: WorkerTelemetry, calls: int) -> dict[str, Any]:
    cycle = _cycle(w)
    step = max(1, calls // SAMPLES)
    warmup = max(step, calls // 10)
    samples: list[tuple[int, float]] = [(0, rss_mb())]
    at_warmup = samples[0][1]
    start = time.perf_counter()
    for i in range(1, calls + 1):
        cycle[i % len(cycle)]()
        if i % 1000 == 0:
            t.collect_metrics()
        if i % step == 0 or i in (warmup, calls):
            t.flush()
            gc.collect()
            now = rss_mb()
            if i % step == 0 or i == calls:
                samples.append((i, now))
            if i == warmup:
                at_warmup = now
    end = samples[-1][1]
    return {
        "calls": calls,
        "warmup_calls": warmup,
        "seconds": time.perf_counter() - start,
        "rss_start_mb": samples[0][1],
        "rss_warmup_mb": at_warmup,
        "rss_end_mb": end,
        "growth_mb": end - at_warmup,
        "peak_mb": peak_mb(),
        "samples": samples,
        "spans": t.spans.count,
    }
