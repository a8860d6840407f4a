"""The demo end to end on the embedded server, telemetry rendered in the terminal.

Numbers are checked against the devserver's own usage for the exact request
bodies the demo sent (replayed on a fresh server), not against constants.
"""

from __future__ import annotations

import re

from otel_llm.demo.console import display_width
from otel_llm.demo.scenarios import (
    CONVERSATION_ID,
    FEATURE,
    FLOWER_QUESTION,
    GATHER_QUESTIONS,
    SYSTEM_PROMPT,
    TURNS,
)
from otel_llm.pricing import usage_cost
from otel_llm.usage import TokenUsage
from tests.demo.conftest import DemoRun, Usage, server_usage

_COUNTER = re.compile(r"(\d+) tokens \(prompt (\d+), completion (\d+)\), (\d+) requests, "
                      r"cost (\$[\d.]+|unknown)")


def _last_user(request_body: dict) -> str:
    return str(request_body["messages"][-1]["content"])


def _section(run: DemoRun, start: str, end: str) -> list[str]:
    lines = run.lines
    first = next(i for i, line in enumerate(lines) if line.startswith(start))
    last = next(i for i, line in enumerate(lines) if i > first and line.startswith(end))
    return lines[first:last]


def _counter_after(lines: list[str], marker: str) -> tuple[int, int, int, int, str]:
    index = next(i for i, line in enumerate(lines) if marker in line)
    match = _COUNTER.search(lines[index + 1])
    assert match, lines[index + 1]
    total, prompt, completion, requests = (int(g) for g in match.groups()[:4])
    return total, prompt, completion, requests, match.group(5)


def _cost(usages: list[Usage]) -> str:
    costs = [usage_cost("gpt-4o-mini", TokenUsage(u.prompt, u.completion)) for u in usages]
    assert all(c is not None for c in costs)
    return f"${sum(c for c in costs if c is not None):.6f}"


def test_exits_zero_and_runs_every_scenario_in_order(memory_run: DemoRun) -> None:
    """Exit code 0 (the failing call is expected) and the four numbered steps, in order."""
    assert memory_run.code == 0, memory_run.out + memory_run.err
    steps = [line for line in memory_run.lines if re.match(r"\[\d/4\] ", line)]
    assert [s[:5] for s in steps] == ["[1/4]", "[2/4]", "[3/4]", "[4/4]"]
    assert "embedded model server at http://127.0.0.1:" in memory_run.out
    assert "\r" not in memory_run.out and memory_run.err == "", "no spinner without a terminal"


def test_streamed_tokens_print_between_the_async_handlers_start_and_end(
        memory_run: DemoRun) -> None:
    """The sync handler prints every token as it streams, inside the async handler's bracket."""
    lines = _section(memory_run, "[1/4]", "[2/4]")
    start = lines.index("  async handler: fetching flower data...")
    ready = lines.index("  async handler: flower data ready, asking the model")
    tokens_at = lines.index("  sync handler, token by token:")
    arranging = lines.index("  async handler: arranging the suggestions...")
    bye = lines.index("  async handler: have a nice day!")
    assert start < ready < tokens_at < arranging < bye
    tokens = "|".join(line.strip() for line in lines[tokens_at + 1:arranging]).split("|")
    answer = next(line for line in lines if line.startswith("  shop:  "))[len("  shop:  "):]
    assert "".join(tokens) == answer and len(tokens) > 10, "one printed piece per streamed token"
    flower = [r for r in memory_run.chat_requests()
              if _last_user(r.body) == FLOWER_QUESTION[0] and r.body.get("stream")]
    assert len(flower) == 1
    assert flower[0].body["max_tokens"] == 100


def test_conversation_sends_the_growing_memory_and_counts_its_three_turns(
        memory_run: DemoRun) -> None:
    """Each turn sends the whole history; the counter equals the server's usage of the 3 calls."""
    turns = [r for r in memory_run.chat_requests()
             if r.body["messages"][0] == {"role": "system", "content": SYSTEM_PROMPT}]
    assert [len(r.body["messages"]) for r in turns] == [2, 4, 6]
    assert [_last_user(r.body) for r in turns] == [t[0] for t in TURNS]
    usage = server_usage(turns)
    lines = _section(memory_run, "[2/4]", "[3/4]")
    total, prompt, completion, requests, cost = _counter_after(lines, "after 3 turns")
    assert (prompt, completion) == (sum(u.prompt for u in usage), sum(u.completion for u in usage))
    assert total == prompt + completion and requests == 3
    assert cost == _cost(usage)


def test_gather_counts_three_concurrent_calls_exactly(memory_run: DemoRun) -> None:
    """Per-task counters match each call's server usage; the block's counter is their sum."""
    by_question = {_last_user(r.body): r for r in memory_run.chat_requests()}
    requests = [by_question[q] for q, _ in GATHER_QUESTIONS]
    usage = server_usage(requests)
    lines = _section(memory_run, "[3/4]", "[4/4]")
    own = [tuple(int(g) for g in m.groups())
           for m in (re.search(r"its own counter: (\d+) tokens \(prompt (\d+), completion (\d+)\)",
                               line) for line in lines) if m]
    assert own == [(u.total, u.prompt, u.completion) for u in usage]
    total, prompt, completion, count, cost = _counter_after(lines, "around the gather")
    assert (total, count) == (sum(u.total for u in usage), 3)
    assert (prompt, completion) == (sum(u.prompt for u in usage), sum(u.completion for u in usage))
    assert cost == _cost(usage)
    assert f"    equals the sum of the three calls: {total} tokens" in lines


def test_failing_call_is_caught_and_counted_as_failed(memory_run: DemoRun) -> None:
    """The 429 reaches the demo as openai.RateLimitError and the counter records one failure."""
    lines = _section(memory_run, "[4/4]", "=====")
    assert any(line.startswith("  caught openai.RateLimitError (429): Rate limit reached")
               for line in lines)
    assert "  get_openai_callback(): 0 requests, 1 failed, 0 tokens" in lines
    failing = [r for r in memory_run.chat_requests() if r.body["model"].endswith("+error=429")]
    assert len(failing) == 1


def test_span_tree_shows_each_trace_with_tokens_ttft_and_the_error(memory_run: DemoRun) -> None:
    """One tree per scenario: chat spans under their root, with usage, TTFT and ERROR."""
    out = memory_run.out
    tree = out[out.index("Traces (4, 12 spans)"):out.index("Metrics (")].splitlines()
    roots = [tree[i + 1].split()[:3] for i, line in enumerate(tree) if line.startswith("trace ")]
    assert [" ".join(r[:2]) for r in roots] == ["demo: flower", "demo: conversation",
                                               "demo: asyncio.gather", "demo: failing"]
    assert sum(bool(re.fullmatch(r"trace [0-9a-f]{32}", line)) for line in tree) == 4
    chats = [line for line in tree if "chat gpt-4o-mini" in line]
    assert len(chats) == 8
    requests = {(_last_user(r.body), len(r.body["messages"])): r
                for r in memory_run.chat_requests() if "+error" not in r.body["model"]}
    flower = server_usage([requests[(FLOWER_QUESTION[0], 1)]])[0]
    flower_line = next(line for line in chats if "TTFT" in line)
    assert f"{flower.prompt} in, {flower.completion} out  TTFT " in flower_line
    assert sum("TTFT" in line for line in chats) == 4, "the four streamed calls have a TTFT"
    assert re.search(r"(└─|`-) chat gpt-4o-mini\+error=429 +[\d.]+ ms  ERROR openai.RateLimitError",
                     out)


def test_metrics_table_sums_match_the_servers_usage(memory_run: DemoRun) -> None:
    """Token usage rows: 7 successful calls, sums equal to the devserver's usage for them."""
    ok = [r for r in memory_run.chat_requests() if "+error" not in r.body["model"]]
    usage = server_usage(ok)
    table = memory_run.out[memory_run.out.index("Metrics ("):].splitlines()
    rows = _rows(table, "gen_ai.client.token.usage")
    totals = {kind: [0, 0] for kind in ("input", "output")}
    for label, (count, total) in rows.items():
        kind = label.split()[1]
        totals[kind] = [totals[kind][0] + int(count), totals[kind][1] + int(total)]
    assert totals["input"] == [len(ok), sum(u.prompt for u in usage)]
    assert totals["output"] == [len(ok), sum(u.completion for u in usage)]
    for name in ("gen_ai.client.operation.duration (s)",
                 "gen_ai.client.operation.time_to_first_chunk (s)", "otel_llm.client.cost (USD)"):
        assert name in table
    assert any("openai.RateLimitError" in line for line in table), "the error's duration row"


def _rows(table: list[str], metric: str) -> dict[str, tuple[str, str]]:
    """``{row label: (count, sum)}`` of one metric; a long label has its numbers on the next line."""
    start = next(i for i, line in enumerate(table) if line.startswith(metric))
    rows: dict[str, tuple[str, str]] = {}
    label = ""
    for line in table[start + 1:]:
        if not line.startswith("  "):
            break
        words = line.split()
        numbers = [w for w in words if re.fullmatch(r"[\d.$]+|[\d.]+ ms", w)]
        text = line[:34].strip() if numbers else line.strip()
        if text:
            label = text
        if numbers:
            rows[label] = (words[-4] if text else words[0], words[-3] if text else words[1])
    return rows


def test_conversation_id_is_on_its_spans_and_its_feature_on_metric_rows(
        memory_run: DemoRun) -> None:
    """The 3-turn conversation's chat spans name its id; its token/duration/cost rows name its
    allow-listed feature, and no metric row names a conversation (unbounded on metrics)."""
    out = memory_run.out
    assert f"conversation id {CONVERSATION_ID}" in out
    tree = out[out.index("Traces ("):out.index("Metrics (")]
    assert tree.count(f"conversation {CONVERSATION_ID}") == 3
    table = out[out.index("Metrics ("):].splitlines()
    assert not [line for line in table if "gen_ai.conversation.id" in line]
    tagged = f"app.feature={FEATURE}"
    for metric, count in (("gen_ai.client.token.usage", "3"),
                          ("gen_ai.client.operation.duration", "3"),
                          ("otel_llm.client.cost", "3")):
        rows = _rows(table, metric)
        mine = [n for label, (n, _) in rows.items() if tagged in label]
        assert mine and set(mine) == {count}, (metric, rows)


def test_every_line_fits_80_columns(memory_run: DemoRun) -> None:
    """Readable in an 80-column terminal, CJK characters counted as two cells."""
    wide = [line for line in memory_run.lines if display_width(line) > 80]
    assert wide == []


def test_instrumentation_is_removed_after_the_demo(memory_run: DemoRun) -> None:
    """The SDK is left as the demo found it: later calls are not instrumented."""
    from otel_llm.instrumentation.openai import is_instrumented

    assert memory_run.code == 0
    assert not is_instrumented()
