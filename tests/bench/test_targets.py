"""Issue #17's targets: judged by the calls otel-llm adds against the SDK floor's (CPU shown
beside, never judged) and the LangChain limits."""

from __future__ import annotations

from typing import Any

from bench.peers.targets import LC_GENAI_INVOKE, call_targets, usage_parse_calls

from .test_report import _info, _result, _series

OPENAI = ("chat", "stream-usage", "stream-no-usage", "async-50")


def _counts(total: dict[str, int]) -> dict[str, dict[str, float]]:
    """Per scenario: Python and C calls summing to ``total[scenario]`` (split 60/40)."""
    return {s: {"python": t * 0.6, "c": t * 0.4} for s, t in total.items()}


def _run(ours: dict[str, int], lc_ours: int = 1_300, genai: int | None = 1_391,
         peer: int = 5_000) -> dict[str, Any]:
    """otel-llm adding ``ours[scenario]`` calls over `none`; the floor adds 1,000 (async-50
    800); `none` spends 1,017 more calls on a stream that asked for usage."""
    result = _result(1.02, 1.30)
    for name in ("sdk-floor", "otel-llm-estimate", "lc-otel-llm", "lc-otel-genai"):
        result["contenders"][name] = _info(name, "0.1.0")
    result["contenders"]["sdk-floor"]["reference"] = True
    none = {"chat": 10_000, "stream-usage": 51_017, "stream-no-usage": 50_000,
            "async-50": 10_000}
    floor = {"chat": 1_000, "stream-usage": 1_000, "stream-no-usage": 1_000, "async-50": 800}
    calls = {
        "none": _counts(none),
        "sdk-floor": _counts({s: none[s] + floor[s] for s in OPENAI}),
        "otel-llm": _counts({s: none[s] + ours[s] for s in OPENAI}),
        "otel-llm-estimate": _counts({"stream-no-usage": 50_000 + 1_400}),
        "openllmetry": _counts({s: none[s] + peer for s in OPENAI}),
        "lc-none": _counts({"lc-invoke": 20_000, "lc-stream": 40_000}),
        "lc-otel-llm": _counts({"lc-invoke": 20_000 + lc_ours, "lc-stream": 43_000}),
        "lc-openllmetry": _counts({"lc-invoke": 23_000, "lc-stream": 44_000}),
    }
    if genai is not None:
        calls["lc-otel-genai"] = _counts({"lc-invoke": 20_000 + genai, "lc-stream": 66_000})
    result["calls"] = calls
    return result


def _judged(result: dict[str, Any]) -> dict[str, bool]:
    return dict(call_targets(result))


def test_ratios_to_the_floor_are_met_at_the_limit_and_missed_above() -> None:
    """1.25x the floor on chat is met, 1.26x on async-50 missed; the stream targets are 1.5x."""
    judged = _judged(_run({"chat": 1_250, "stream-usage": 1_500, "stream-no-usage": 1_400,
                           "async-50": 1_008}))
    verdicts = {t.split(":")[0]: ok for t, ok in judged.items() if "the floor's +" in t}
    assert verdicts == {"chat": True, "stream-usage": True, "stream-no-usage": True,
                        "async-50": False}
    assert "chat: otel-llm adds +1,250 calls, 1.25x the floor's +1,000 (<= 1.25x)" in \
        " ".join(judged)


def test_the_usage_otel_llm_asks_for_is_judged_both_ways() -> None:
    """The default no-usage stream is judged as measured (missed at 2.4x) and, as the proposed
    measure, without the SDK's 1,017 calls parsing the usage it asked for (1.38x, met), beside
    the least the target leaves room for; stream_usage=False is judged on its own (1.4x)."""
    result = _run({"chat": 1_000, "stream-usage": 1_000, "stream-no-usage": 2_400,
                   "async-50": 800})
    assert usage_parse_calls(result["calls"]) == 1_017
    judged = _judged(result)
    [raw] = [ok for t, ok in judged.items() if t.startswith("stream-no-usage: otel-llm adds")]
    [own] = [(t, ok) for t, ok in judged.items() if "proposed measure" in t]
    [estimate] = [ok for t, ok in judged.items() if "stream_usage=False" in t]
    assert (raw, own[1], estimate) == (False, True, True)
    assert "otel-llm's own +1,383 calls" in own[0]
    # the floor (+1,000) plus the parse: the least an instrumentation asking for usage can add
    assert "is +2,017 (2.017x): 1.5x leaves it -517 calls" in own[0]


def test_langchain_limits_come_from_the_run_or_the_last_full_run() -> None:
    """lc-invoke is judged against genai-langchain counted in the same run, else the recorded
    figure; lc-stream against the count before issue #17."""
    over = _judged(_run(dict.fromkeys(OPENAI, 1_000), lc_ours=1_300, genai=1_200))
    assert [ok for t, ok in over.items() if t.startswith("lc-invoke: otel-llm adds")] == [False]
    recorded = _judged(_run(dict.fromkeys(OPENAI, 1_000), lc_ours=1_300, genai=None))
    [(text, ok)] = [(t, ok) for t, ok in recorded.items()
                    if t.startswith("lc-invoke: otel-llm adds")]
    assert ok and f"{LC_GENAI_INVOKE:+,} (2026-11-21)" in text
    assert [ok for t, ok in recorded.items() if t.startswith("lc-stream: otel-llm adds")] == [True]


def test_cpu_is_shown_beside_and_never_judged() -> None:
    """A run whose CPU ratios are poor still meets call targets; the ratios are in the text."""
    result = _run(dict.fromkeys(OPENAI, 1_000))
    result["rounds"]["chat"]["otel-llm"] = _series(5e-3)  # 5x the baseline's CPU
    result["rounds"]["chat"]["sdk-floor"] = _series(1.5e-3)
    [(text, ok)] = [(t, ok) for t, ok in call_targets(result)
                    if t.startswith("chat: otel-llm adds")]
    assert ok and "CPU otel-llm 5.000x, sdk-floor 1.500x" in text
