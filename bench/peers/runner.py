"""The run: workers up, warm-up, interleaved rounds, call counts, probes, then memory, one
worker at a time.

Only one worker works at any moment (the others wait on their stdin), so
contenders never compete for the CPU with each other; in each round every
scenario is run by every contender in an order rotated by one per round, so
drift on this shared machine (other processes, thermal, the server's own state)
lands on all of them alike. Each measurement is a batch of ``units`` calls;
memory runs use fresh workers so what the timing rounds allocated does not
count. Reference contenders (the SDK floor) are timed and counted: no probes, no memory.
Call counts (:mod:`bench.peers.calls`, every worker, baselines included) run after the
rounds, so the profiler never touches a timed batch.
"""

from __future__ import annotations

import datetime as dt
import os
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from bench.peers.calls import CALL_UNITS
from bench.peers.contenders import Contender, content_env
from bench.peers.process import Worker, WorkerError, model_server
from bench.peers.scenarios import CHAT_MODEL, MESSAGES, SCENARIOS, STREAM_MODEL

__all__ = ["FULL_UNITS", "QUICK_UNITS", "Plan", "run", "true_usage"]

#: Units per batch; an ``async-50`` unit is 50 calls.
FULL_UNITS = {"chat": 40, "stream-usage": 6, "stream-no-usage": 6, "async-50": 2,
              "lc-invoke": 100, "lc-stream": 10}
QUICK_UNITS = {"chat": 10, "stream-usage": 2, "stream-no-usage": 2, "async-50": 1,
               "lc-invoke": 25, "lc-stream": 3}


@dataclass
class Plan:
    contenders: list[Contender]
    rounds: int = 15
    units: dict[str, int] = field(default_factory=lambda: dict(FULL_UNITS))
    rss_calls: int = 100_000
    probes: bool = True
    content: str = "default"
    warmup_units: int = 2
    calls: bool = True  # count function calls per call (deterministic, a few s per worker)

    @property
    def suites(self) -> list[str]:
        return sorted({c.suite for c in self.contenders})

    def scenarios(self, contender: Contender) -> tuple[str, ...]:
        return contender.scenarios or SCENARIOS[contender.suite]


Log = Callable[[str], None]


def _stderr(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def true_usage(url: str) -> dict[str, dict[str, int]]:
    """What the server reports for the probed calls: the truth estimates are judged by."""
    import openai

    with openai.OpenAI(base_url=url, api_key="sk-bench", max_retries=0) as client:
        chat = client.chat.completions.create(model=CHAT_MODEL, messages=MESSAGES)
        stream = client.chat.completions.create(model=STREAM_MODEL, messages=MESSAGES,
                                                stream=True,
                                                stream_options={"include_usage": True})
        usage = [c.usage for c in stream if c.usage is not None]
    out = {}
    for name, u in (("chat", chat.usage), ("stream", usage[-1] if usage else None)):
        if u is not None:
            out[name] = {"input": u.prompt_tokens, "output": u.completion_tokens}
    return out


def run(plan: Plan, python_for: Callable[[Contender], str], log: Log = _stderr) -> dict[str, Any]:
    result: dict[str, Any] = {
        "started": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "plan": {"rounds": plan.rounds, "units": plan.units, "rss_calls": plan.rss_calls,
                 "content": plan.content, "warmup_units": plan.warmup_units,
                 "calls": plan.calls},
        "load_start": os.getloadavg(),
        "contenders": {}, "rounds": {}, "calls": {}, "probes": {}, "rss": {}, "truth": {},
    }
    started = time.perf_counter()
    with model_server() as url:
        if "openai" in plan.suites:
            result["truth"] = true_usage(url)
        workers = _start(plan, python_for, url, result, log)
        try:
            _warm_up(plan, workers, log)
            _rounds(plan, workers, result, log)
            if plan.calls:
                _count_calls(plan, workers, result, log)
            if plan.probes:
                for name, worker in workers.items():
                    if not _contender(plan, name).reference:  # a yardstick claims nothing
                        result["probes"][name] = worker.ask(cmd="probe")
                log("probes done")
        finally:
            for worker in workers.values():
                worker.close()
        result["timing_seconds"] = time.perf_counter() - started
        if plan.rss_calls:
            _memory(plan, python_for, url, result, log)
    result["load_end"] = os.getloadavg()
    result["finished"] = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
    result["seconds"] = time.perf_counter() - started
    return result


def _start(plan: Plan, python_for: Callable[[Contender], str], url: str,
           result: dict[str, Any], log: Log) -> dict[str, Worker]:
    workers: dict[str, Worker] = {}
    for c in plan.contenders:
        python = python_for(c)
        worker = Worker(c.name, python, url if c.suite == "openai" else None,
                        env=content_env(c, plan.content))
        info = {**asdict(c), "python": python, "available": worker.available}
        info.update({k: v for k, v in worker.hello.items() if k in ("versions", "unavailable")})
        result["contenders"][c.name] = info
        if worker.available:
            workers[c.name] = worker
        else:
            log(f"{c.name}: unavailable: {worker.hello.get('unavailable')}")
            worker.close()
    return workers


def _warm_up(plan: Plan, workers: dict[str, Worker], log: Log) -> None:
    for name, worker in workers.items():
        for scenario in plan.scenarios(_contender(plan, name)):
            worker.ask(cmd="run", scenario=scenario, units=plan.warmup_units)
    log(f"warmed up {len(workers)} workers")


def _rounds(plan: Plan, workers: dict[str, Worker], result: dict[str, Any], log: Log) -> None:
    per_scenario: dict[str, list[str]] = {}
    for name in workers:
        for scenario in plan.scenarios(_contender(plan, name)):
            per_scenario.setdefault(scenario, []).append(name)
    rounds: dict[str, dict[str, list[dict[str, float]]]] = {
        s: {n: [] for n in names} for s, names in per_scenario.items()
    }
    for r in range(plan.rounds):
        t0 = time.perf_counter()
        for scenario, names in per_scenario.items():
            k = r % len(names)
            for name in names[k:] + names[:k]:
                answer = workers[name].ask(cmd="run", scenario=scenario,
                                           units=plan.units[scenario])
                calls = answer["calls"]
                rounds[scenario][name].append({"cpu": answer["cpu"] / calls,
                                               "wall": answer["wall"] / calls,
                                               "spans": answer["spans"] / calls})
        log(f"round {r + 1}/{plan.rounds} ({time.perf_counter() - t0:.1f} s)")
    result["rounds"] = rounds


def _count_calls(plan: Plan, workers: dict[str, Worker], result: dict[str, Any],
                 log: Log) -> None:
    """Function calls per call of every worker, in the scenarios it is timed in.

    A supplement: a worker that fails to count (or answers without counts) is logged and
    left out of the table, the timed rounds already taken are kept.
    """
    t0 = time.perf_counter()
    for name, worker in workers.items():
        units = {s: CALL_UNITS[s] for s in plan.scenarios(_contender(plan, name))}
        try:
            counts = worker.ask(cmd="count", units=units).get("counts")
        except WorkerError as exc:
            log(f"{name}: calls not counted: {exc}")
            continue
        if counts is not None:
            result["calls"][name] = counts
    log(f"calls counted ({time.perf_counter() - t0:.1f} s)")


def _memory(plan: Plan, python_for: Callable[[Contender], str], url: str,
            result: dict[str, Any], log: Log) -> None:
    for c in plan.contenders:
        if c.suite != "openai" or c.variant_of or c.reference:
            continue  # variants: the same code path as the contender they vary
        if not result["contenders"][c.name]["available"]:
            continue
        with Worker(c.name, python_for(c), url, env=content_env(c, plan.content)) as worker:
            answer = worker.ask(cmd="rss", calls=plan.rss_calls)
        result["rss"][c.name] = answer
        log(f"memory {c.name}: {answer['calls']} calls in {answer['seconds']:.0f} s, "
            f"growth {answer['growth_mb']:+.1f} MB")


def _contender(plan: Plan, name: str) -> Contender:
    return next(c for c in plan.contenders if c.name == name)
