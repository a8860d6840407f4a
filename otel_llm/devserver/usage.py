"""Token accounting for the scripted answers, with the project's own tiktoken counter.

Using the same counter the instrumentation uses makes the server's ``usage``
blocks and the library's offline counts agree exactly, which is what the tests
and the demo check. Counts are memoised because benchmarks send the same prompt
thousands of times and the pure-Python BPE is the server's hottest path.
"""

from __future__ import annotations

import json
import re
import threading
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import Any, Literal

from otel_llm.tokens import (
    count_completion_tokens,
    count_message_tokens,
    count_prompt_tokens,
    count_tokens,
    count_tool_call_tokens,
)

__all__ = [
    "REASONING_TOKENS",
    "PromptCache",
    "chat_usage",
    "completion_tokens",
    "fit_pieces",
    "input_tokens",
    "prompt_tokens",
    "reasoning_tokens",
    "text_tokens",
    "warm_up",
]

# Hidden reasoning tokens a reasoning model "spends" per effort level.
REASONING_TOKENS = {"minimal": 0, "none": 0, "low": 64, "medium": 192, "high": 448, "xhigh": 896}
_REASONING_MODEL = re.compile(r"^(o\d|gpt-5)")


def warm_up() -> None:
    """Load both encodings now (about 0.7 s) instead of on the first request."""
    count_tokens("", "gpt-4o")
    count_tokens("", "gpt-3.5-turbo")


@lru_cache(maxsize=4096)
def text_tokens(text: str, model: str) -> int:
    return count_tokens(text, model)


@lru_cache(maxsize=1024)
def _message_tokens(key: str, model: str) -> int:
    messages, tools, tool_choice = json.loads(key)
    return count_message_tokens(messages, model, tools=tools, tool_choice=tool_choice)


def prompt_tokens(
    messages: Sequence[Mapping[str, Any]],
    model: str,
    tools: Sequence[Any] | None = None,
    tool_choice: Any = None,
) -> int:
    """Prompt tokens of a chat request: messages, tool definitions and a forced tool."""
    key = json.dumps([messages, tools or None, tool_choice], sort_keys=True, ensure_ascii=False)
    return _message_tokens(key, model)


def input_tokens(inputs: str | Sequence[Any], model: str) -> int:
    """Prompt tokens of a legacy prompt or an embeddings input (strings or token arrays)."""
    return count_prompt_tokens(inputs, model)


def completion_tokens(
    text: str,
    model: str,
    tool_calls: Sequence[tuple[str, str]] = (),
    *,
    endpoint: Literal["chat", "completions", "responses"] = "chat",
) -> int:
    """Billed tokens of a reply: its text, or its tool calls as the API renders them."""
    if tool_calls:
        calls = [{"function": {"name": n, "arguments": a}} for n, a in tool_calls]
        return count_tool_call_tokens(calls, model)
    if endpoint == "chat" or endpoint == "completions":
        return text_tokens(text, model) if text else 0
    return count_completion_tokens([text], model, endpoint=endpoint)


def reasoning_tokens(model: str, effort: Any) -> int:
    """Hidden reasoning tokens: only reasoning models (o-series, gpt-5) spend them."""
    if not _REASONING_MODEL.match(model):
        return 0
    return REASONING_TOKENS.get(str(effort or "medium"), REASONING_TOKENS["medium"])


def fit_pieces(parts: Sequence[str], budget: int, model: str) -> tuple[list[str], bool]:
    """The longest prefix of ``parts`` within ``budget`` tokens, and whether it was cut."""
    if text_tokens("".join(parts), model) <= budget:
        return list(parts), False
    lo, hi = 0, len(parts)  # invariant: prefix of lo parts fits, of hi parts does not
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if text_tokens("".join(parts[:mid]), model) <= budget:
            lo = mid
        else:
            hi = mid
    return list(parts[:lo]), True


class PromptCache:
    """Simulates OpenAI prompt caching: a repeated prompt of 1024+ tokens is cached.

    OpenAI caches in 128-token steps past the first 1024; repeating a request
    therefore reports ``cached_tokens`` the way production does, so cache
    metrics can be demonstrated offline.
    """

    def __init__(self, capacity: int = 512) -> None:
        self._seen: OrderedDict[int, None] = OrderedDict()
        self._capacity = capacity
        self._lock = threading.Lock()

    def cached(self, request: Any, tokens: int) -> int:
        """Cached tokens for ``request`` (what makes prompts equal) of ``tokens`` tokens."""
        if tokens < 1024:
            return 0
        digest = hash(json.dumps(request, sort_keys=True, ensure_ascii=False))
        with self._lock:
            hit = digest in self._seen
            self._seen[digest] = None
            self._seen.move_to_end(digest)
            if len(self._seen) > self._capacity:
                self._seen.popitem(last=False)
        return 1024 + (tokens - 1024) // 128 * 128 if hit else 0


def chat_usage(prompt: int, completion: int, cached: int = 0, reasoning: int = 0) -> dict[str, Any]:
    """A Chat Completions ``usage`` block with the details OpenAI sends today."""
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
        "prompt_tokens_details": {"cached_tokens": cached, "audio_tokens": 0},
        "completion_tokens_details": {
            "reasoning_tokens": reasoning,
            "audio_tokens": 0,
            "accepted_prediction_tokens": 0,
            "rejected_prediction_tokens": 0,
        },
    }
