"""Plain-text counts: strings, streamed completions, legacy prompts, embedding inputs.

Special-token strings such as ``<|endoftext|>`` in user text are counted as the
ordinary text the API treats them as.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Literal

from otel_llm.tokens.models import encoding_for

__all__ = ["count_completion_tokens", "count_prompt_tokens", "count_tokens"]

#: Endpoints whose completion accounting differs.
Endpoint = Literal["chat", "completions", "responses"]


def count_tokens(text: str, model: str) -> int:
    """Tokens of ``text`` under ``model``'s encoding."""
    enc, _ = encoding_for(model)
    return len(enc.encode_ordinary(text))


def count_completion_tokens(
    pieces: Iterable[str], model: str, *, endpoint: Endpoint = "chat"
) -> int:
    """Completion tokens of a streamed text reply, from its pieces.

    The pieces are joined once and encoded together: BPE merges across chunk
    borders, so summing per-chunk counts over-counts. Chat Completions and
    legacy Completions bill exactly the text's tokens; the Responses API bills
    one more (the end-of-message token: measured on every recorded response).
    Reasoning tokens are not in the text and cannot be recovered from it.
    """
    enc, _ = encoding_for(model)
    tokens = len(enc.encode_ordinary("".join(pieces)))
    return tokens + 1 if endpoint == "responses" else tokens


def count_prompt_tokens(
    prompt: str | Sequence[str] | Sequence[int] | Sequence[Sequence[int]], model: str
) -> int:
    """Prompt tokens of a legacy ``/v1/completions`` prompt or an ``/v1/embeddings`` input.

    Both endpoints take a string, a list of strings, a token array or a list of
    token arrays, and bill the sum over the batch with no per-item overhead.
    """
    if isinstance(prompt, str):
        return count_tokens(prompt, model)
    enc, _ = encoding_for(model)
    total = 0
    for item in prompt:
        if isinstance(item, str):
            total += len(enc.encode_ordinary(item))
        elif isinstance(item, int):
            total += 1
        else:
            total += len(item)
    return total
