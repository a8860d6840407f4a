"""Judging the probes: observations from each worker -> table cells, each pass, fail or info.

A cell shows what was seen (a value, a count, where TTFT was found) and whether
that is right; "right" is defined here, once, for every contender alike.
Token estimates pass within ``TOKEN_TOLERANCE`` of what the server reported.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bench.peers.scenarios import LC_INPUT_TOKENS, LC_INVOKE_WORDS

__all__ = ["LANGCHAIN_CHECKS", "OPENAI_CHECKS", "TOKEN_TOLERANCE", "Cell", "judge"]

TOKEN_TOLERANCE = 0.05


@dataclass(frozen=True)
class Cell:
    text: str
    ok: bool | None  # None: information, neither pass nor fail


Truth = dict[str, dict[str, int]]
Check = Callable[[dict[str, Any], Truth], Cell]


def _spans_per_call(o: dict[str, Any], truth: Truth) -> Cell:
    per = o["spans_per_call"]
    values = [per[k] for k in ("chat", "stream-usage", "stream-no-usage", "async")]
    return Cell(" / ".join(f"{v:g}" for v in values), all(v == 1 for v in values))


def _ended(key: str) -> Check:
    def check(o: dict[str, Any], truth: Truth) -> Cell:
        seen = o[key]
        if seen["ended"] == 0:
            return Cell("no", False)
        status = ", ".join(seen["status"])
        return Cell(f"yes ({status})" if seen["ended"] == 1 else f"{seen['ended']} spans",
                    seen["ended"] == 1)
    return check


def _tokens(key: str, truth_key: str, tolerance: float) -> Check:
    def check(o: dict[str, Any], truth: Truth) -> Cell:
        seen, real = o[key], truth.get(truth_key)
        if seen["input"] is None and seen["output"] is None:
            return Cell("none", False)
        text = f"{seen['input']} in / {seen['output']} out"
        if seen.get("estimated"):
            text += " (estimated)"
        if not real:
            return Cell(text, None)
        errors = [_error(seen[k], real[k]) for k in ("input", "output")]
        if all(e == 0 for e in errors):
            return Cell(text + ", exact", True)
        worst = max(abs(e) for e in errors)
        detail = ", ".join(f"{k} {e:+.0%}" for k, e in zip(("in", "out"), errors, strict=True)
                           if e != 0)
        return Cell(f"{text}; {detail}", worst <= tolerance)
    return check


def _error(seen: Any, real: int) -> float:
    if not isinstance(seen, int | float):
        return float("inf")
    return (seen - real) / real if real else float(seen != real)


def _ttft(o: dict[str, Any], truth: Truth) -> Cell:
    t = o["ttft"]
    where = [label for label, key in (("attribute", "attributes"), ("event", "events"),
                                      ("metric", "metrics")) if t[key]]
    return Cell(", ".join(where) if where else "no", bool(where))


def _finish(o: dict[str, Any], truth: Truth) -> Cell:
    values = [o["finish_reasons_chat"], o["finish_reasons_stream"]]
    text = " / ".join("none" if v is None else ",".join(v) if isinstance(v, list) else str(v)
                      for v in values)
    return Cell(text, all(v is not None for v in values))


def _error_span(o: dict[str, Any], truth: Truth) -> Cell:
    e = o["error_span"]
    if not e.get("spans"):
        return Cell("no span", False)
    error_type = e.get("error_type")
    text = e["status"] + (f", error.type={error_type}" if error_type else ", no error.type")
    # semconv: the exception's (qualified) class name, a short token; not a repr
    named = isinstance(error_type, str) and error_type.replace(".", "").replace("_", "").isalnum()
    if error_type and not named:
        text += " (not a class name)"
    return Cell(text, e["status"] == "ERROR" and named)


def _gather(o: dict[str, Any], truth: Truth) -> Cell:
    g = o["gather_parent"]
    return Cell(f"{g['linked']}/5 linked" + (f" ({g['children']} spans)"
                                              if g["children"] != 5 else ""),
                g["linked"] == 5 and g["children"] == 5)


def _metric(name: str) -> Check:
    def check(o: dict[str, Any], truth: Truth) -> Cell:
        return Cell("yes" if name in o["metrics"] else "no", name in o["metrics"])
    return check


def _content(o: dict[str, Any], truth: Truth) -> Cell:
    return Cell("yes" if o["content_captured"] else "no", None)


OPENAI_CHECKS: list[tuple[str, Check]] = [
    ("span per call (chat / stream+usage / stream / async)", _spans_per_call),
    ("stream span ends on early close()", _ended("early_close")),
    ("stream span ends when abandoned", _ended("abandoned")),
    ("tokens, non-streamed", _tokens("tokens_chat", "chat", 0.0)),
    ("tokens, stream with usage", _tokens("tokens_stream_usage", "stream", 0.0)),
    ("tokens, stream without usage", _tokens("tokens_stream_no_usage", "stream",
                                             TOKEN_TOLERANCE)),
    ("time to first token", _ttft),
    ("finish reasons (chat / stream)", _finish),
    ("error span on a 429", _error_span),
    ("parent/child under asyncio.gather", _gather),
    ("gen_ai.client.token.usage metric", _metric("gen_ai.client.token.usage")),
    ("gen_ai.client.operation.duration metric", _metric("gen_ai.client.operation.duration")),
    ("message content captured", _content),
]


def _lc_spans(o: dict[str, Any], truth: Truth) -> Cell:
    return Cell(f"{o['spans_per_run']} in {o['traces_per_run']} trace(s)",
                o["spans_per_run"] > 0 and o["traces_per_run"] == 1)


def _lc_tokens(o: dict[str, Any], truth: Truth) -> Cell:
    t = o["tokens"]
    ok = t["input"] == LC_INPUT_TOKENS and t["output"] == LC_INVOKE_WORDS
    return Cell(f"{t['input']} in / {t['output']} out", ok)


LANGCHAIN_CHECKS: list[tuple[str, Check]] = [
    ("spans per chain run", _lc_spans),
    ("tokens from the model's usage_metadata", _lc_tokens),
    ("gen_ai.client.token.usage metric", _metric("gen_ai.client.token.usage")),
    ("message content captured", _content),
]


def judge(checks: list[tuple[str, Check]], observations: dict[str, dict[str, Any]],
          truth: Truth) -> list[tuple[str, dict[str, Cell]]]:
    """``[(check, {contender: Cell})]``; a check that cannot read its observation fails."""
    rows = []
    for label, check in checks:
        cells = {}
        for name, o in observations.items():
            try:
                cells[name] = check(o, truth)
            except (KeyError, TypeError) as exc:
                cells[name] = Cell(f"unreadable ({exc})", False)
        rows.append((label, cells))
    return rows
