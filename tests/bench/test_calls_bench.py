"""The one-minute calls-only loop of issue #17: its table and its dispatch counts."""

from __future__ import annotations

from typing import Any

from bench.calls_bench import dispatch_calls, render


def _counts(python: float, c: float) -> dict[str, Any]:
    return {"python": python, "c": c}


def test_render_states_added_calls_ratio_and_verdict_per_target() -> None:
    """Added calls are the contender's minus the uninstrumented worker's; the ratio is to the
    floor's added calls, judged against each scenario's target (chat 1.25x, streams 1.5x),
    and the LangChain rows against their absolute limits."""
    scen = ("chat", "stream-usage", "stream-no-usage", "async-50")
    counts = {
        "none": {s: _counts(1000, 1000) for s in scen},
        "sdk-floor": {s: _counts(1100, 1100) for s in scen},  # +200
        "otel-llm": {"chat": _counts(1120, 1120), "stream-usage": _counts(1160, 1160),
                     "stream-no-usage": _counts(1140, 1140), "async-50": _counts(1130, 1130)},
        "lc-none": {"lc-invoke": _counts(10, 10), "lc-stream": _counts(10, 10)},
        "lc-otel-llm": {"lc-invoke": _counts(2000, 10), "lc-stream": _counts(20, 20)},
    }
    table = render(counts)
    assert "| chat | otel-llm | +120 | +120 | +240 |" in table
    assert "| lc-invoke | lc-otel-llm | +1,990 | +0 | +1,990 |" in table
    verdicts = {line.split(": ", 2)[1].split(":")[0]: line.startswith("- met")
                for line in table.splitlines() if line.startswith("- ")
                and "adds" in line}
    assert verdicts == {"chat": True, "stream-usage": False, "stream-no-usage": True,
                        "async-50": False, "lc-invoke": False, "lc-stream": True}
    assert "- met: chat: otel-llm adds +240 calls, 1.20x the floor's +200 (<= 1.25x)" in table
    assert "- MISSED: stream-usage: otel-llm adds +320 calls, 1.60x the floor's +200" in table


def test_dispatch_counts_the_pre_bound_emitter_at_the_floor_for_one_handler() -> None:
    """Counted, one token event costs one call per handler without a manager; through the
    run manager one more; through the pre-bound emitter (one handler) no more than the floor."""
    rows = dispatch_calls(tokens=200).splitlines()[2:]
    one = [float(x) for x in rows[0].strip("|").split("|")[1:]]
    five = [float(x) for x in rows[1].strip("|").split("|")[1:]]
    assert one == [1.0, 2.0, 1.0]
    assert five[0] == 5.0 and five[1] == 6.0
