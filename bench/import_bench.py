"""``python -m bench.import_bench``: what importing otel-llm costs, against the OTel SDK.

Each figure is the best of ``--runs`` fresh interpreters (the import cache is
cold in each; the best run is the one least disturbed by the other processes on
a shared machine), timed around the import statement only, not the
interpreter's start. Ratios are to importing the OpenTelemetry SDK's trace and
metrics modules, measured in the same run; the target for ``import otel_llm``
is at most 1.3x. The last column lists the heavy modules each import pulled in.
"""

from __future__ import annotations

import argparse
import subprocess
import sys

#: label -> statement timed in a fresh interpreter
CASES = {
    "OTel SDK (trace + metrics)": "import opentelemetry.sdk.trace, opentelemetry.sdk.metrics",
    "import otel_llm": "import otel_llm",
    "otel_llm.OpenTelemetryCallbackHandler": (
        "import otel_llm; otel_llm.OpenTelemetryCallbackHandler"
    ),
    "otel_llm.configure": "import otel_llm; otel_llm.configure",
    "otel_llm.instrument_openai": "import otel_llm; otel_llm.instrument_openai",
    "otel_llm.instrument_langchain": "import otel_llm; otel_llm.instrument_langchain",
}
BASELINE = "OTel SDK (trace + metrics)"
TARGET = 1.3
_HEAVY = ("asyncio", "importlib.metadata", "email", "tiktoken", "openai", "langchain_core", "grpc")

_CHILD = """
import sys, time
t0 = time.perf_counter()
{statement}
elapsed = time.perf_counter() - t0
heavy = [m for m in {heavy!r} if m in sys.modules]
print(elapsed, ",".join(heavy))
"""


def measure(statement: str, runs: int) -> tuple[float, str]:
    """Best seconds over ``runs`` fresh interpreters, and the heavy modules loaded."""
    best, heavy = float("inf"), ""
    for _ in range(runs):
        out = subprocess.run(
            [sys.executable, "-c", _CHILD.format(statement=statement, heavy=_HEAVY)],
            capture_output=True, text=True, check=True,
        )
        seconds, _, loaded = out.stdout.strip().partition(" ")
        if float(seconds) < best:
            best, heavy = float(seconds), loaded
    return best, heavy


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.import_bench", description=__doc__)
    parser.add_argument("--runs", type=int, default=15, help="fresh interpreters per case")
    args = parser.parse_args(argv)
    results = {label: measure(stmt, args.runs) for label, stmt in CASES.items()}
    base = results[BASELINE][0]
    print(f"best of {args.runs} fresh interpreters; ratio to {BASELINE}")
    print(f"{'':40} {'ms':>8} {'ratio':>6}  heavy modules loaded")
    for label, (seconds, heavy) in results.items():
        print(f"{label:40} {seconds * 1000:8.1f} {seconds / base:6.2f}  {heavy or '-'}")
    ratio = results["import otel_llm"][0] / base
    verdict = "within" if ratio <= TARGET else "OVER"
    print(f"\nimport otel_llm: {ratio:.3f}x the SDK import ({verdict} the {TARGET}x target)")
    return 0 if ratio <= TARGET else 1


if __name__ == "__main__":
    sys.exit(main())
