"""Rendering a run: terminal tables, RESULTS.md, the targets and the plot, from raw results."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from bench.peers.contenders import by_name
from bench.peers.markdown import markdown
from bench.peers.plot import plot_ratios
from bench.peers.report import render_terminal, targets

from .test_verdicts import GOOD, TRUTH


def _info(name: str, version: str) -> dict[str, Any]:
    c = by_name(name)
    return {"name": name, "suite": c.suite, "family": c.family, "label": c.label,
            "package": c.package, "venv": c.venv, "content": c.content, "note": c.note,
            "variant_of": c.variant_of,
            "available": True, "versions": {"openai": "3.54.0", c.package: version}}


def _series(cost: float, rounds: int = 4) -> list[dict[str, float]]:
    return [{"cpu": cost * (1 + r), "wall": 2 * cost * (1 + r), "spans": 1.0}
            for r in range(rounds)]


def _result(ours: float, peer: float) -> dict[str, Any]:
    """A run where otel-llm costs ``ours`` and OpenLLMetry ``peer`` times the baseline."""
    rounds = {s: {"none": _series(1e-3), "otel-llm": _series(ours * 1e-3),
                  "openllmetry": _series(peer * 1e-3)}
              for s in ("chat", "stream-usage", "stream-no-usage", "async-50")}
    rounds["lc-invoke"] = {"lc-none": _series(1e-4), "lc-openllmetry": _series(3e-4)}
    bad = copy.deepcopy(GOOD)
    bad["tokens_stream_no_usage"] = {"input": None, "output": None, "estimated": None}
    memory = {"calls": 1000, "warmup_calls": 100, "seconds": 3.0, "rss_start_mb": 60.0,
              "rss_warmup_mb": 61.0, "rss_end_mb": 61.5, "growth_mb": 0.5, "peak_mb": 62.0,
              "samples": [[0, 60.0], [1000, 61.5]], "spans": 1000}
    return {
        "started": "2026-11-21T12:00:00+00:00", "seconds": 600.0,
        "load_start": [1.0, 1.0, 1.0], "load_end": [2.0, 2.0, 2.0],
        "plan": {"rounds": 4, "units": {"chat": 40}, "rss_calls": 1000, "content": "default"},
        "contenders": {"none": _info("none", ""), "otel-llm": _info("otel-llm", "0.1.0"),
                       "openllmetry": _info("openllmetry", "0.62.4"),
                       "lc-none": _info("lc-none", ""),
                       "lc-openllmetry": _info("lc-openllmetry", "0.62.4")},
        "rounds": rounds, "truth": TRUTH,
        "probes": {"otel-llm": GOOD, "openllmetry": bad},
        "rss": {"none": memory, "otel-llm": memory},
    }


def test_targets_judge_memory_and_correctness_and_never_cpu() -> None:
    """Without call counts only memory and correctness are judged: a 1.20x CPU ratio misses
    nothing (issue #17 judges calls, see test_targets); a failing probe or RSS growth does."""
    assert [ok for _, ok in targets(_result(1.20, 1.10))] == [True, True]
    bad = _result(1.02, 1.30)
    bad["rss"]["otel-llm"] = {**bad["rss"]["otel-llm"], "growth_mb": 9.0}
    bad["probes"]["otel-llm"] = bad["probes"]["openllmetry"]
    missed = [text for text, ok in targets(bad) if not ok]
    assert missed[0].startswith("RSS growth after warm-up +9.0 MB")
    assert missed[1].startswith("every correctness row green (failed:")


def test_terminal_report_shows_every_section() -> None:
    """Per-scenario tables with ratios, summaries per suite, the correctness matrix with a
    failing peer cell, memory, and the targets."""
    text = render_terminal(_result(1.02, 1.30))
    assert "| otel-llm           | 2.550 ±" in text  # median of 1..4 ms x 1.02
    assert "1.020x ±0.000" in text and "1.300x" in text
    assert "❌ none" in text and "✅ 21 in / 200 out, exact" in text
    assert "| no instrumentation | 1,000 | 61.0" in text
    assert "[met] every correctness row green" in text


def test_results_markdown_and_plot(tmp_path: Path) -> None:
    """RESULTS.md carries machine, versions, content note, command, plot link and sections;
    the plot is a PNG."""
    result = _result(1.02, 1.30)
    md = markdown(result, {"cpu": "Test CPU", "cores": "2"}, "img/peers-ratios.png",
                  "python -m bench --rounds 4")
    for needle in ("| cpu   | Test CPU |", "opentelemetry-instrumentation-openai 0.62.4",
                   "capture prompts and completions by default", "`python -m bench --rounds 4`",
                   "![CPU per call, ratio to no instrumentation](img/peers-ratios.png)",
                   "## Correctness", "## Memory", "## LangChain (issue #7)", "- met: ",
                   "non-streamed 21 in / 20 out", "peak vs none MB",
                   "100,000 calls takes about 5 min per contender"):
        assert needle in md, needle
    png = plot_ratios(result, tmp_path / "ratios.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
