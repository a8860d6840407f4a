"""Exact, offline OpenAI token counts.

``count_message_tokens`` reproduces the ``usage.prompt_tokens`` the API
reports for a chat request (messages, names, tool calls and results in the
history, tool definitions); ``count_tokens``/``count_completion_tokens`` give
completion tokens of visible text; ``count_prompt_tokens`` covers legacy
completions and embeddings. Encodings load from data on disk, never from the
network: see :mod:`otel_llm.tokens.encodings` for the order of sources.

Model coverage: cl100k_base for gpt-3.5 / gpt-4 / gpt-4-turbo, davinci-002,
babbage-002, gpt-3.5-turbo-instruct and the embeddings models; o200k_base for
gpt-4o, gpt-4.1, gpt-4.5, gpt-5 and the o-series. Anything else is counted
with o200k_base and reported as unknown by :func:`encoding_for`.

Image parts count by OpenAI's published formulas (:mod:`otel_llm.tokens.images`;
a remote image's size is guessed). What cannot be reproduced: reasoning tokens
(hidden), audio/file input parts, and server-side extras invisible in the
response (two recorded gpt-4o-mini replies bill one completion token more than
their text encodes; see ``tests/tokens/test_tokens_accuracy.py``). Rules for tool calls, tool
definitions and reasoning-model priming rest on few measurements: the modules
that implement them say which.
"""

from __future__ import annotations

from otel_llm.tokens.encodings import (
    ENCODING_NAMES,
    TokenizerDataError,
    get_encoding,
    load_encoding,
)
from otel_llm.tokens.messages import count_message_tokens
from otel_llm.tokens.models import (
    DEFAULT_ENCODING,
    encoding_for,
    encoding_name_for,
    normalize_model,
)
from otel_llm.tokens.text import count_completion_tokens, count_prompt_tokens, count_tokens
from otel_llm.tokens.tool_calls import count_tool_call_tokens

__all__ = [
    "DEFAULT_ENCODING",
    "ENCODING_NAMES",
    "TokenizerDataError",
    "count_completion_tokens",
    "count_message_tokens",
    "count_prompt_tokens",
    "count_tokens",
    "count_tool_call_tokens",
    "encoding_for",
    "encoding_name_for",
    "get_encoding",
    "load_encoding",
    "normalize_model",
]
