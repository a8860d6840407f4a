"""Token counting cost: ``count_message_tokens`` vs tiktoken's ``encode`` on the same text.

A synthetic 200-message conversation (system prompt, user/assistant turns of
varied length, some tool calls and results) is counted REPEAT times per round
by each contender; contenders alternate within rounds. The baseline calls
``Encoding.encode`` on every message's text and sums the lengths, i.e. the
least a correct counter must do. The ratio (ours / baseline time) is the
overhead of the chat accounting: roles, names, headers, tool-call rendering.
"""

from __future__ import annotations

import json
import random
import sys
from typing import Any

from bench._stats import interleaved, median_spread, table, timed
from otel_llm.tokens import count_message_tokens, encoding_for

MESSAGES = 200
REPEAT = 20
MODELS = ("gpt-4o", "gpt-3.5-turbo")

_WORDS = (
    "the", "trace", "span", "exporter", "batches", "telemetry", "metrics", "latency", "token",
    "cost", "model", "request", "response", "stream", "chunk", "retry", "budget", "cache",
    "prompt", "completion", "context", "window", "user", "assistant", "tool", "function",
    "call", "argument", "result", "error", "timeout",
)


def conversation(n: int = MESSAGES, seed: int = 7) -> list[dict[str, Any]]:
    """A deterministic chat history of ``n`` messages with a tool call every 10 turns."""
    rng = random.Random(seed)

    def sentence(k: int) -> str:
        words = [rng.choice(_WORDS) for _ in range(k)]
        return " ".join(words).capitalize() + rng.choice([".", "?", "!", ".\n\n"])

    msgs: list[dict[str, Any]] = [{"role": "system", "content": sentence(40)}]
    while len(msgs) < n:
        i = len(msgs)
        if i % 10 == 0:
            call_id = f"call_{i}"
            msgs.append({"role": "assistant", "content": None, "tool_calls": [{
                "id": call_id, "type": "function", "function": {
                    "name": "lookup", "arguments": json.dumps({"query": sentence(6)})}}]})
            msgs.append({"role": "tool", "tool_call_id": call_id,
                         "content": json.dumps({"hits": [sentence(12) for _ in range(3)]})})
        elif i % 2:
            msgs.append({"role": "user", "content": " ".join(sentence(rng.randint(5, 30))
                                                               for _ in range(2))})
        else:
            msgs.append({"role": "assistant", "content": " ".join(
                sentence(rng.randint(10, 40)) for _ in range(rng.randint(1, 4)))})
    return msgs[:n]


def _texts(msgs: list[dict[str, Any]]) -> list[str]:
    out = []
    for m in msgs:
        if m.get("content"):
            out.append(m["content"])
        for call in m.get("tool_calls") or ():
            out.append(call["function"]["arguments"])
    return out


def run(rounds: int = 5) -> dict[str, Any]:
    """Median throughput of both contenders per model, and their ratio."""
    msgs = conversation()
    texts = _texts(msgs)
    results: dict[str, Any] = {"messages": len(msgs), "repeat": REPEAT, "rounds": rounds}
    for model in MODELS:
        enc, _ = encoding_for(model)
        tokens = count_message_tokens(msgs, model)  # also warms caches and the encoding

        def ours(model: str = model) -> float:
            return timed(lambda: [count_message_tokens(msgs, model) for _ in range(REPEAT)])

        def baseline(encode: Any = enc.encode) -> float:
            return timed(lambda: [sum(len(encode(t)) for t in texts) for _ in range(REPEAT)])

        times = interleaved({"count_message_tokens": ours, "tiktoken encode": baseline}, rounds)
        ours_med, ours_spread = median_spread(times["count_message_tokens"])
        base_med, base_spread = median_spread(times["tiktoken encode"])
        results[model] = {
            "tokens": tokens,
            "ours_tokens_per_s": tokens * REPEAT / ours_med,
            "baseline_tokens_per_s": tokens * REPEAT / base_med,
            "ratio": ours_med / base_med,
            "spread": max(ours_spread, base_spread),
        }
    return results


def main() -> None:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    res = run(rounds)
    rows = []
    for model in MODELS:
        r = res[model]
        rows.append([model, str(r["tokens"]), f"{r['ours_tokens_per_s']:,.0f}",
                     f"{r['baseline_tokens_per_s']:,.0f}", f"{r['ratio']:.2f}x",
                     f"±{r['spread']:.0%}"])
    print(f"{res['messages']} messages, x{REPEAT} per round, median of {rounds} rounds")
    print(table(["model", "prompt tokens", "count_message_tokens tok/s",
                 "tiktoken encode tok/s", "time ratio", "spread"], rows))


if __name__ == "__main__":
    main()
