"""``python -m bench.calls_bench``: calls added per call by otel-llm vs the SDK floor, ~1 min.

The fast loop of issue #17: the deterministic half of ``python -m bench`` only
(:mod:`bench.peers.calls`, ``sys.setprofile`` counts, no timing), for the
uninstrumented workers, otel-llm and the ``sdk-floor`` yardstick, each in its own
worker process run with this interpreter (no peer venvs). It prints, per
scenario, Python and C calls added per call and otel-llm's total as a multiple of
the floor's, against the issue's targets. ``--tally SCENARIO`` profiles one
otel-llm unit in-process instead and lists where its calls go, by function.
"""

from __future__ import annotations

import argparse
import collections
import sys
from typing import Any

from bench.peers.calls import CALL_UNITS
from bench.peers.contenders import by_name
from bench.peers.process import Worker, model_server
from bench.peers.targets import CALL_TARGETS, LC_GENAI_INVOKE, LC_STREAM_BEFORE, call_targets

__all__ = ["TARGETS", "main", "measure"]

TARGETS = CALL_TARGETS
#: lc-invoke: no more than OTel genai-langchain (its venv is not built here: the figure of
#: the last full run); lc-stream: no more than otel-llm before issue #17.
LC_LIMITS = {"lc-invoke": LC_GENAI_INVOKE, "lc-stream": LC_STREAM_BEFORE}
OPENAI = ("none", "sdk-floor", "otel-llm", "otel-llm-estimate")
LANGCHAIN = ("lc-none", "lc-otel-llm")


def _count(names: tuple[str, ...], url: str | None, scenarios: dict[str, tuple[str, ...]]
           ) -> dict[str, dict[str, Any]]:
    out = {}
    for name in names:
        with Worker(name, sys.executable, url) as worker:
            if not worker.available:
                raise SystemExit(f"{name}: {worker.hello.get('unavailable')}")
            units = {s: CALL_UNITS[s] for s in scenarios[name]}
            out[name] = worker.ask(cmd="count", units=units)["counts"]
    return out


def measure(suites: tuple[str, ...] = ("openai", "langchain")) -> dict[str, dict[str, Any]]:
    """``contender -> scenario -> counts`` (see :func:`bench.peers.calls.count_scenarios`)."""
    openai_sc = tuple(TARGETS)
    scenarios = {n: openai_sc for n in OPENAI[:3]}
    scenarios["otel-llm-estimate"] = ("stream-no-usage",)
    scenarios.update({n: ("lc-invoke", "lc-stream") for n in LANGCHAIN})
    counts: dict[str, dict[str, Any]] = {}
    if "openai" in suites:
        with model_server() as url:
            counts.update(_count(OPENAI, url, scenarios))
    if "langchain" in suites:
        counts.update(_count(LANGCHAIN, None, scenarios))
    return counts


def _added(counts: dict[str, dict[str, Any]], name: str, base: str,
           scenario: str) -> tuple[int, int]:
    c, b = counts[name][scenario], counts[base][scenario]
    return round(c["python"] - b["python"]), round(c["c"] - b["c"])


def render(counts: dict[str, dict[str, Any]]) -> str:
    """The calls each contender adds per call, then issue #17's targets judged from them
    (:func:`bench.peers.targets.call_targets`, the same verdicts as the full run's report)."""
    lines = ["| scenario | contender | Python | C | total |", "|---|---|---|---|---|"]
    rows = [(s, n, "none") for s in TARGETS for n in ("sdk-floor", *OPENAI[2:])]
    rows += [(s, "lc-otel-llm", "lc-none") for s in LC_LIMITS]
    for scenario, name, base in rows:
        if scenario in counts.get(name, {}) and scenario in counts.get(base, {}):
            p, c = _added(counts, name, base, scenario)
            lines.append(f"| {scenario} | {name} | +{p:,} | +{c:,} | +{p + c:,} |")
    contenders = {n: {"suite": by_name(n).suite} for n in counts}
    judged = call_targets({"contenders": contenders, "calls": counts})
    return "\n".join([*lines, "", *(f"- {'met' if ok else 'MISSED'}: {text}"
                                    for text, ok in judged)])


def tally(scenario: str, top: int, contender: str = "", everything: bool = False) -> str:
    """Profile otel-llm's (or ``contender``'s) worker set-up in this process; calls per
    call by function."""
    import gc

    from bench.peers.instrumentors import install
    from bench.peers.scenarios import Workloads, calls_per_unit
    from bench.peers.telemetry import WorkerTelemetry

    lc = scenario.startswith("lc-")
    name = contender or ("lc-otel-llm" if lc else "otel-llm")
    telemetry = WorkerTelemetry(name)
    install(name, telemetry)
    with (model_server() if not lc else _nothing()) as url:
        workloads = Workloads("langchain" if lc else "openai", url)
        unit = workloads.unit(scenario)
        for _ in range(3):
            unit()
        telemetry.flush()
        gc.collect()
        tallies: collections.Counter[str] = collections.Counter()

        def profile(frame: Any, event: str, arg: Any) -> None:
            if event == "call":
                code = frame.f_code
                tallies[f"py {code.co_filename.split('site-packages/')[-1]}:"
                        f"{code.co_name}"] += 1
            elif event == "c_call":
                code = frame.f_code
                tallies[f"C  {getattr(arg, '__qualname__', arg)} <- "
                        f"{code.co_filename.split('site-packages/')[-1]}:{code.co_name}"] += 1

        sys.setprofile(profile)
        unit()
        sys.setprofile(None)
        workloads.close()
    n = calls_per_unit(scenario)
    keep = [(k, v) for k, v in tallies.most_common()
            if everything or "otel_llm" in k or "opentelemetry" in k or "bench/" in k]
    return "\n".join(f"{v / n:8.1f}  {k}" for k, v in keep[:top])


def dispatch_calls(tokens: int = 1000) -> str:
    """Python+C calls per token event, sync: no manager (bench.dispatch_bench's floor: the
    handlers called directly), the run manager's ``on_llm_new_token``, and the pre-bound
    ``token_emitter()`` the openai streams use; 1 and 5 no-op handlers."""
    import uuid

    from bench.dispatch_bench import _noop_handler
    from bench.peers.calls import count_calls
    from otel_llm.callbacks import BaseCallbackHandler, CallbackManager

    rows = ["| handlers | no manager (floor) | run.on_llm_new_token | token_emitter().emit |",
            "|---|---|---|---|"]
    for n in (1, 5):
        handlers = [_noop_handler(BaseCallbackHandler)() for _ in range(n)]
        fns = [h.on_llm_new_token for h in handlers]
        run_id = uuid.uuid4()
        [run] = CallbackManager(handlers=handlers).on_llm_start({}, ["p"])
        emitter = run.token_emitter()
        assert emitter is not None
        emit, hook = emitter.emit, run.on_llm_new_token

        def floor(fns: list[Any] = fns, run_id: uuid.UUID = run_id) -> None:
            for _ in range(tokens):
                kw = {"chunk": None, "run_id": run_id, "parent_run_id": None, "tags": []}
                for fn in fns:
                    fn("t", **kw)

        def manager(hook: Any = hook) -> None:
            for _ in range(tokens):
                hook("t")

        def bound(emit: Any = emit) -> None:
            for _ in range(tokens):
                emit("t", chunk=None)

        counts = [count_calls(f) for f in (floor, manager, bound)]
        rows.append(f"| {n} | " + " | ".join(f"{(c.python + c.c) / tokens:.2f}"
                                             for c in counts) + " |")
    return "\n".join(rows)


class _nothing:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.calls_bench", description=__doc__)
    p.add_argument("--suite", default="openai,langchain")
    p.add_argument("--tally", metavar="SCENARIO")
    p.add_argument("--dispatch", action="store_true", help="calls per token event only")
    p.add_argument("--top", type=int, default=60)
    p.add_argument("--contender", default="", help="--tally this contender (default otel-llm)")
    args = p.parse_args(argv)
    if args.tally:
        print(tally(args.tally, args.top, args.contender))
        return 0
    if args.dispatch:
        print(dispatch_calls())
        return 0
    print(render(measure(tuple(s.strip() for s in args.suite.split(",")))))
    print()
    print(dispatch_calls())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
