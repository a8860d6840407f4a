"""``python -m bench``: otel-llm against OpenLLMetry, OpenInference and the official OTel
instrumentations (issue #8), plus the LangChain comparison (issue #7), in one run.

Run it with the project's .venv (``make bench``): it creates the peers' venvs under
``build/`` on first use, starts the model server and one worker per contender,
and prints every table. A full run (not ``--quick``, not ``--local``) also writes
``bench/RESULTS.md`` and ``bench/img/peers-ratios.png``; every run saves its raw
results as JSON under ``bench/out/`` (``--report FILE`` re-renders one).
``--ours`` runs the project's own micro-benchmarks instead.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from bench.peers.contenders import CONTENDERS, SUITES, Contender, select
from bench.peers.process import ROOT
from bench.peers.runner import FULL_UNITS, QUICK_UNITS, Plan, run

OUT = ROOT / "bench" / "out"
RESULTS = ROOT / "bench" / "RESULTS.md"
PLOT = ROOT / "bench" / "img" / "peers-ratios.png"
OUR_BENCHES = (
    "dispatch_bench", "otel_handler_bench", "openai_bench", "tokens_bench", "import_bench"
)


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true",
                   help="short run: 3 rounds, small batches, 1,000 calls for memory")
    p.add_argument("--rounds", type=int, help="rounds (default 15; --quick 3)")
    p.add_argument("--rss-calls", type=int,
                   help="calls per contender for memory, 0 to skip (default 100000; --quick 1000)")
    p.add_argument("--only", metavar="NAMES",
                   help="comma-separated, of: " + ", ".join(c.name for c in CONTENDERS)
                   + " (the baselines always run)")
    p.add_argument("--suite", default=",".join(SUITES), help="openai,langchain (default both)")
    p.add_argument("--content", choices=("default", "off"), default="default",
                   help="peers' default content capture, or off everywhere")
    p.add_argument("--no-probes", action="store_true", help="skip the correctness probes")
    p.add_argument("--no-calls", action="store_true",
                   help="skip counting function calls per call (a few seconds per worker)")
    p.add_argument("--local", action="store_true",
                   help="run every worker in this interpreter, no peer venvs (peers then "
                        "show as unavailable)")
    p.add_argument("--write-results", action=argparse.BooleanOptionalAction, default=None,
                   help="write bench/RESULTS.md and the plot (default: on for full runs)")
    p.add_argument("--report", metavar="JSON", help="re-render a saved run, do not measure")
    p.add_argument("--ours", action="store_true", help="run otel-llm's own micro-benchmarks")
    return p


def _plan(args: argparse.Namespace) -> Plan:
    suites = [s.strip() for s in args.suite.split(",") if s.strip()]
    only = [n.strip() for n in args.only.split(",")] if args.only else None
    contenders = select(only, suites)
    return Plan(
        contenders=contenders,
        rounds=args.rounds or (3 if args.quick else 15),
        units=dict(QUICK_UNITS if args.quick else FULL_UNITS),
        rss_calls=args.rss_calls if args.rss_calls is not None else
        (1000 if args.quick else 100_000),
        probes=not args.no_probes,
        calls=not args.no_calls,
        content=args.content,
    )


def _pythons(plan: Plan, local: bool) -> dict[str, str]:
    if local:
        return {c.name: sys.executable for c in plan.contenders}
    from bench.peers.venvs import VENVS, ensure

    ready = {name: str(ensure(VENVS[name])) for name in sorted({c.venv for c in plan.contenders})}
    return {c.name: ready[c.venv] for c in plan.contenders}


def _write(result: dict[str, Any], command: str) -> None:
    from bench.peers.machine import describe
    from bench.peers.markdown import markdown
    from bench.peers.plot import plot_ratios

    plot = None
    if result["rounds"]:
        plot_ratios(result, PLOT)
        plot = str(PLOT.relative_to(RESULTS.parent))
    RESULTS.write_text(markdown(result, result.get("machine") or describe(), plot, command))
    print(f"wrote {RESULTS.relative_to(ROOT)}" + (f" and {PLOT.relative_to(ROOT)}" if plot
                                                   else ""), file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = _parser().parse_args(argv)
    if args.ours:
        for name in OUR_BENCHES:
            print(f"== bench.{name}", flush=True)
            subprocess.run([sys.executable, "-m", f"bench.{name}"], cwd=ROOT, check=True)
        return 0
    from bench.peers.report import render_terminal

    if args.report:
        result = json.loads(Path(args.report).read_text())
        print(render_terminal(result))
        if args.write_results:
            _write(result, result.get("command", "python -m bench"))
        return 0
    from bench.peers.machine import describe

    plan = _plan(args)
    pythons = _pythons(plan, args.local)

    def python_for(c: Contender) -> str:
        return pythons[c.name]

    command = " ".join(["python -m bench", *argv])
    result = run(plan, python_for)
    result["command"] = command
    result["machine"] = describe()
    OUT.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    saved = OUT / f"peers-{stamp}.json"
    saved.write_text(json.dumps(result, indent=1))
    print(render_terminal(result))
    print(f"raw results: {saved.relative_to(ROOT)}", file=sys.stderr)
    write = args.write_results
    if write is None:
        write = not (args.quick or args.local)
    if write:
        _write(result, command)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
