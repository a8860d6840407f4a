"""Resident memory after many async streams read for one chunk, then dropped or closed early.

The model server runs in this process; each (pipeline, ending) runs in a fresh
child process so its RSS is its own: WARMUP streams first (tokenizer, pools),
then N more, and the figure is the RSS growth over those N. ``plain`` is the
openai SDK alone, ``otel-llm`` the same with ``instrument_openai`` and an OTel
handler (a TracerProvider without exporters). Issue #18 saw +10 MB against
+1.9 MB over 10,000 streams.

Run: ``.venv/bin/python -m bench.stream_memory_bench [--streams N]``.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import subprocess
import sys

from bench._stats import table

WARMUP = 1000


def _rss_mb() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1e6


async def _child(base_url: str, pipeline: str, ending: str, n: int) -> dict[str, float]:
    import openai

    if pipeline == "otel-llm":
        from opentelemetry.sdk.trace import TracerProvider

        from otel_llm.instrumentation.openai import instrument_openai
        from otel_llm.telemetry import OpenTelemetryCallbackHandler

        instrument_openai([OpenTelemetryCallbackHandler(tracer_provider=TracerProvider())])
    async with openai.AsyncOpenAI(base_url=base_url, api_key="sk-test", max_retries=0) as client:
        async def streams(count: int) -> None:
            for _ in range(count):
                stream = await client.chat.completions.create(
                    model="gpt-4o-mini+len=50", messages=[{"role": "user", "content": "hi"}],
                    stream=True)
                await stream.__anext__()
                if ending == "closed":
                    await stream.close()
                del stream
            for _ in range(3):
                await asyncio.sleep(0.01)
                gc.collect()

        await streams(WARMUP)
        before = _rss_mb()
        await streams(n)
        return {"growth_mb": _rss_mb() - before, "rss_mb": _rss_mb()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--streams", type=int, default=10_000)
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        base_url, pipeline, ending = args.child
        print(json.dumps(asyncio.run(_child(base_url, pipeline, ending, args.streams))))
        return
    from otel_llm.devserver import ModelServer

    rows = []
    with ModelServer() as server:
        for ending in ("dropped", "closed"):
            for pipeline in ("plain", "otel-llm"):
                done = subprocess.run(
                    [sys.executable, "-m", "bench.stream_memory_bench", "--child",
                     server.base_url, pipeline, ending, "--streams", str(args.streams)],
                    capture_output=True, text=True, check=True)
                result = json.loads(done.stdout.strip().splitlines()[-1])
                rows.append([pipeline, ending, f"{result['growth_mb']:+.1f}",
                             f"{result['rss_mb']:.0f}"])
    print(f"\nRSS over {args.streams:,} async streams after {WARMUP:,} warm-up (MB)\n")
    print(table(["pipeline", "stream", "growth", "resident"], rows))


if __name__ == "__main__":
    main()
