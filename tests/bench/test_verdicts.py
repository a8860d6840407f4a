"""Judging probe observations: the same rules for every contender, pass/fail/info cells."""

from __future__ import annotations

import copy
from typing import Any

from bench.peers.verdicts import LANGCHAIN_CHECKS, OPENAI_CHECKS, judge

TRUTH = {"chat": {"input": 21, "output": 20}, "stream": {"input": 21, "output": 200}}
GOOD: dict[str, Any] = {
    "spans_per_call": {"chat": 1.0, "stream-usage": 1.0, "stream-no-usage": 1.0, "async": 1.0},
    "early_close": {"ended": 1, "status": ["UNSET"]},
    "abandoned": {"ended": 1, "status": ["ERROR"]},
    "tokens_chat": {"input": 21, "output": 20, "estimated": None},
    "tokens_stream_usage": {"input": 21, "output": 200, "estimated": None},
    "tokens_stream_no_usage": {"input": 21, "output": 200, "estimated": None},
    "ttft": {"attributes": ["gen_ai.response.time_to_first_chunk"], "events": [],
             "metrics": []},
    "finish_reasons_chat": ["stop"],
    "finish_reasons_stream": ["stop"],
    "error_span": {"spans": 1, "status": "ERROR", "error_type": "openai.RateLimitError",
                   "exception_event": True},
    "gather_parent": {"children": 5, "linked": 5},
    "metrics": ["gen_ai.client.operation.duration", "gen_ai.client.token.usage"],
    "content_captured": False,
}


def _cells(obs: dict[str, Any]) -> dict[str, Any]:
    return {label: cells["x"] for label, cells in judge(OPENAI_CHECKS, {"x": obs}, TRUTH)}


def test_a_complete_observation_passes_every_check() -> None:
    """Exact tokens, ended streams, TTFT, finish reasons, error.type, linked children and
    both metrics: every row passes; content capture is information only."""
    cells = _cells(GOOD)
    assert [label for label, c in cells.items() if c.ok is False] == []
    assert cells["message content captured"].ok is None
    assert cells["tokens, stream with usage"].text == "21 in / 200 out, exact"


def test_stream_tokens_pass_within_five_percent_and_fail_beyond() -> None:
    """An estimate 4% off passes and says by how much; 10% off fails; none at all fails."""
    obs = copy.deepcopy(GOOD)
    obs["tokens_stream_no_usage"] = {"input": 21, "output": 208, "estimated": True}
    cell = _cells(obs)["tokens, stream without usage"]
    assert cell.ok is True and "(estimated)" in cell.text and "out +4%" in cell.text
    obs["tokens_stream_no_usage"]["output"] = 220
    assert _cells(obs)["tokens, stream without usage"].ok is False
    obs["tokens_stream_no_usage"] = {"input": None, "output": None, "estimated": None}
    assert _cells(obs)["tokens, stream without usage"].text == "none"


def test_span_count_rows_fail_on_missing_or_duplicate_spans() -> None:
    """A stream that never ends, or two spans for one call, fail their rows."""
    obs = copy.deepcopy(GOOD)
    obs["abandoned"] = {"ended": 0, "status": []}
    obs["spans_per_call"]["async"] = 2.0
    cells = _cells(obs)
    assert cells["stream span ends when abandoned"].text == "no"
    assert cells["stream span ends when abandoned"].ok is False
    assert cells["span per call (chat / stream+usage / stream / async)"].ok is False


def test_error_type_must_be_a_class_name() -> None:
    """``error.type`` holding a repr (``<class '...'>``) is flagged; a missing one fails too."""
    obs = copy.deepcopy(GOOD)
    obs["error_span"]["error_type"] = "<class 'openai.RateLimitError'>"
    cell = _cells(obs)["error span on a 429"]
    assert cell.ok is False and "not a class name" in cell.text
    obs["error_span"]["error_type"] = None
    assert _cells(obs)["error span on a 429"].text == "ERROR, no error.type"


def test_gather_children_must_all_link_to_the_parent() -> None:
    """Four of five children under the parent span is a failure, and says so."""
    obs = copy.deepcopy(GOOD)
    obs["gather_parent"] = {"children": 5, "linked": 4}
    cell = _cells(obs)["parent/child under asyncio.gather"]
    assert (cell.text, cell.ok) == ("4/5 linked", False)


def test_unreadable_observation_fails_instead_of_crashing() -> None:
    """A worker that sent no TTFT observation gets a failing cell naming the problem."""
    obs = copy.deepcopy(GOOD)
    del obs["ttft"]
    cell = _cells(obs)["time to first token"]
    assert cell.ok is False and cell.text.startswith("unreadable")


def test_langchain_checks_read_the_fake_models_usage() -> None:
    """The LangChain rows pass for one trace with the fake model's 14/20 tokens."""
    obs = {"spans_per_run": 4, "traces_per_run": 1, "span_names": [],
           "tokens": {"input": 14, "output": 20, "estimated": None},
           "metrics": ["gen_ai.client.token.usage"], "content_captured": True}
    rows = {label: cells["x"] for label, cells in judge(LANGCHAIN_CHECKS, {"x": obs}, {})}
    assert all(c.ok is not False for c in rows.values())
    obs["traces_per_run"] = 4
    rows = {label: cells["x"] for label, cells in judge(LANGCHAIN_CHECKS, {"x": obs}, {})}
    assert rows["spans per chain run"].ok is False
