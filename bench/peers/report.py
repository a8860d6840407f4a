"""Tables from a run's results: for the terminal and for ``bench/RESULTS.md``.

Everything here is computed from the raw results JSON (``bench/out/peers-*.json``),
so a report can be re-rendered without re-running (``python -m bench --report FILE``).
"""

from __future__ import annotations

from typing import Any

from bench._stats import table
from bench.peers.calls import CALL_UNITS
from bench.peers.contenders import BASELINE
from bench.peers.results import Figure, calls_added, mean_spans, summarize
from bench.peers.scenarios import SCENARIOS
from bench.peers.targets import TARGET_RSS_MB, call_targets
from bench.peers.verdicts import LANGCHAIN_CHECKS, OPENAI_CHECKS, Cell, judge

__all__ = [
    "CALLS_NOTE",
    "CALLS_TITLE",
    "SCENARIO_TITLES",
    "calls_table",
    "correctness_table",
    "figures",
    "memory_table",
    "overhead_tables",
    "render_terminal",
    "summary_table",
    "targets",
]

SCENARIO_TITLES = {
    "chat": "non-streamed chat call (20-token reply)",
    "stream-usage": "200-chunk stream, include_usage",
    "stream-no-usage": "200-chunk stream, no usage requested",
    "async-50": "AsyncOpenAI, 50 concurrent calls (per call)",
    "lc-invoke": "LangChain prompt | fake model | parser, invoke (per run)",
    "lc-stream": "LangChain chain.stream, 100-word reply (per run)",
}
OURS = {"openai": "otel-llm", "langchain": "lc-otel-llm"}
CALLS_TITLE = "Python-level calls added per call (deterministic; not CPU time)"
_BY_UNITS = {k: [s for s, n in CALL_UNITS.items() if n == k] for k in CALL_UNITS.values()}
CALLS_NOTE = (
    "Counted with `sys.setprofile` on each worker's main thread after the timed rounds: "
    "Python function entries (generator and coroutine resumptions included) / calls of C "
    "functions, per call, median over profiled units ("
    + "; ".join(f"{', '.join(names)}: {k}" for k, names in _BY_UNITS.items())
    + "; an async-50 unit is 50 calls), minus the uninstrumented worker's. It is here "
    "because, unlike the CPU ratios, it has no noise and is the same from run to run; it is "
    "not CPU time: it does not see the work inside C extensions (pydantic-core, tiktoken) "
    "nor the span export thread."
)


def _baselines(result: dict[str, Any]) -> dict[str, str]:
    return {name: BASELINE[info["suite"]] for name, info in result["contenders"].items()}


def figures(result: dict[str, Any]) -> dict[str, dict[str, dict[str, Figure]]]:
    return summarize(result["rounds"], _baselines(result))


def _info(result: dict[str, Any], name: str) -> dict[str, Any]:
    info: dict[str, Any] = result["contenders"][name]
    return info


def _reference(result: dict[str, Any], name: str) -> bool:
    """A yardstick (the SDK floor): shown with the others, never judged as a peer."""
    return bool(result["contenders"][name].get("reference"))


def _label(result: dict[str, Any], name: str) -> str:
    return str(result["contenders"][name]["label"])


def _ratio(f: Figure) -> str:
    return "1 (baseline)" if f.ratio is None else f"{f.ratio:.3f}x ±{f.ratio_spread:.3f}"


def overhead_tables(result: dict[str, Any]) -> list[tuple[str, str]]:
    """One ``(title, table)`` per scenario: CPU and wall per call, ratios to the baseline."""
    out = []
    spans = mean_spans(result["rounds"])
    for scenario, by_name in figures(result).items():
        rows = []
        for name, f in by_name.items():
            cpu, wall = f["cpu"], f["wall"]
            rows.append([_label(result, name), f"{cpu.median_ms:.3f} ±{cpu.spread:.0%}",
                         _ratio(cpu), f"{wall.median_ms:.3f} ±{wall.spread:.0%}", _ratio(wall),
                         f"{spans[scenario][name]:.2f}"])
        headers = ["contender", "CPU ms/call", "CPU vs none", "wall ms/call", "wall vs none",
                   "spans/call"]
        out.append((SCENARIO_TITLES.get(scenario, scenario), table(headers, rows)))
    return out


def summary_table(result: dict[str, Any], suite: str) -> str:
    """Contender x scenario, client CPU ratio to no instrumentation."""
    figs = figures(result)
    scenarios = [s for s in figs if any(result["contenders"][n]["suite"] == suite
                                        for n in figs[s])]
    names = [n for n, info in result["contenders"].items()
             if info["suite"] == suite and info["available"] and n != BASELINE[suite]]
    rows = []
    for name in names:
        cells = []
        for s in scenarios:
            f = figs[s].get(name)
            cells.append("-" if f is None else f"{f['cpu'].ratio:.3f}x")
        rows.append([_label(result, name), *cells])
    return table(["CPU vs none", *scenarios], rows)


def calls_table(result: dict[str, Any], suite: str) -> str:
    """Contender x scenario, Python / C calls per call above the baseline ("" if not counted).

    The baseline's row shows its own counts, the scale the others add to.
    """
    calls = result.get("calls") or {}  # runs saved before the count existed have none
    base_name = BASELINE[suite]
    base = calls.get(base_name)
    if not base:
        return ""
    added = calls_added(calls, _baselines(result))
    scenarios = [s for s in SCENARIOS[suite] if s in base]
    rows = [[f"{_label(result, base_name)} (its own)",
             *(f"{base[s]['python']:,.0f} / {base[s]['c']:,.0f}" for s in scenarios)]]
    for name, info in result["contenders"].items():
        if info["suite"] != suite or name not in added:
            continue
        cells = [("-" if s not in added[name] else
                  f"{added[name][s][0]:+,d} / {added[name][s][1]:+,d}") for s in scenarios]
        rows.append([_label(result, name), *cells])
    return table(["Python / C calls per call", *scenarios], rows)


def _cell(cell: Cell) -> str:
    mark = {True: "✅ ", False: "❌ ", None: ""}[cell.ok]
    return mark + cell.text.replace("|", "/")


def correctness_table(result: dict[str, Any], suite: str) -> str:
    observations = {n: o for n, o in result["probes"].items()
                    if result["contenders"][n]["suite"] == suite and n != BASELINE[suite]
                    and not _reference(result, n)}
    if not observations:
        return ""
    checks = OPENAI_CHECKS if suite == "openai" else LANGCHAIN_CHECKS
    rows = [[label, *(_cell(cells[n]) for n in observations)]
            for label, cells in judge(checks, observations, result["truth"])]
    return table(["check", *(_label(result, n) for n in observations)], rows)


def memory_table(result: dict[str, Any]) -> str:
    rows = []
    base = result["rss"].get(BASELINE["openai"])
    for name, m in result["rss"].items():
        extra = "-" if base is None else f"{m['peak_mb'] - base['peak_mb']:+.1f}"
        rows.append([_label(result, name), f"{m['calls']:,}", f"{m['rss_warmup_mb']:.1f}",
                     f"{m['rss_end_mb']:.1f}", f"{m['growth_mb']:+.1f}", f"{m['peak_mb']:.1f}",
                     extra, f"{m['seconds']:.0f}"])
    return table(["contender", "calls", "RSS after warm-up MB", "RSS at end MB",
                  "growth MB", "peak RSS MB", "peak vs none MB", "seconds"], rows)


def targets(result: dict[str, Any]) -> list[tuple[str, bool]]:
    """Issue #17's targets for otel-llm (calls added, CPU beside; see
    :mod:`bench.peers.targets`), its memory and its correctness, each with whether this run
    met it."""
    out = call_targets(result)
    ours = OURS["openai"]
    if ours in result["rss"]:
        growth = result["rss"][ours]["growth_mb"]
        calls = result["rss"][ours]["calls"]
        out.append((f"RSS growth after warm-up {growth:+.1f} MB over {calls:,} calls "
                    f"< {TARGET_RSS_MB} MB", growth < TARGET_RSS_MB))
    if ours in result["probes"]:
        rows = judge(OPENAI_CHECKS, {ours: result["probes"][ours]}, result["truth"])
        failed = [label for label, cells in rows if cells[ours].ok is False]
        out.append(("every correctness row green" + (f" (failed: {failed})" if failed else ""),
                    not failed))
    return out


def render_terminal(result: dict[str, Any]) -> str:
    parts = []
    for title, body in overhead_tables(result):
        parts += [title, body, ""]
    for suite in ("openai", "langchain"):
        if any(info["suite"] == suite for info in result["contenders"].values()):
            if result["rounds"]:
                parts += [f"summary ({suite})", summary_table(result, suite), ""]
            body = calls_table(result, suite)
            if body:
                parts += [f"{CALLS_TITLE} ({suite})", body, ""]
            body = correctness_table(result, suite)
            if body:
                parts += [f"correctness ({suite})", body, ""]
    if result["rss"]:
        parts += ["memory", memory_table(result), ""]
    for text, ok in targets(result):
        parts.append(f"[{'met' if ok else 'MISSED'}] {text}")
    return "\n".join(parts)

