"""Which encoding and which chat layout a model name implies.

Names are matched after normalisation: lower-cased, ``openai/``/``azure/``
prefixes dropped, fine-tune ids (``ft:gpt-4o-mini:org::id``) reduced to the
base model, Azure's ``gpt-35-*`` spelling accepted.

Unknown names get :data:`DEFAULT_ENCODING` (``o200k_base``, the encoding of
every OpenAI model released since May 2024) and ``known=False``, so callers
can flag the count as an estimate. Legacy models whose encodings are not
shipped offline (``text-davinci-003``: p50k_base, ``davinci``: r50k_base, ...)
are treated as unknown rather than silently miscounted as known.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

from otel_llm.tokens.encodings import get_encoding

if TYPE_CHECKING:
    import tiktoken

__all__ = [
    "DEFAULT_ENCODING",
    "ChatFormat",
    "chat_format_for",
    "encoding_for",
    "encoding_name_for",
    "normalize_model",
]

#: Used for model names this module does not recognise.
DEFAULT_ENCODING = "o200k_base"

_O200K = re.compile(r"^(gpt-4o|chatgpt-4o|gpt-4\.1|gpt-4\.5|gpt-5|o\d+(-|$)|codex-mini)")
_CL100K = re.compile(
    r"^(gpt-4(-|$)|gpt-3\.5|gpt-35|davinci-002$|babbage-002$|text-embedding-ada-002$"
    r"|text-embedding-3-(small|large)$)"
)
_REASONING = re.compile(r"^(o\d+(-|$)|gpt-5|codex-mini)")
# Function-calling models from before parallel tool calls (1106): tool calls in the
# history keep the raw argument text and the result is headed by the bare name.
# ``gpt-4`` still points at gpt-4-0613; ``gpt-3.5-turbo`` points at 0125 (modern).
_LEGACY_TOOLS = re.compile(
    r"^(gpt-4(-32k)?(-0314|-0613)?|gpt-3[.]?5-turbo-16k|gpt-3[.]?5-turbo(-16k)?-(0301|0613))$"
)


@dataclass(frozen=True)
class ChatFormat:
    """Token overheads of one model family's chat layout.

    ``reply_priming`` is what the API adds after the last message to start the
    reply: ``<|im_start|>assistant<|im_sep|>`` (3) on ChatML models; reasoning
    models (gpt-5, o-series) prime with ``<|start|>assistant`` (2) and let the
    model open its own channel. ``legacy_tools`` selects the pre-1106 rendering
    of tool calls in the history (see :mod:`otel_llm.tokens.tool_calls`).
    """

    tokens_per_message: int = 3
    tokens_per_name: int = 1
    reply_priming: int = 3
    legacy_tools: bool = False


_CHATML = ChatFormat()
_CHATML_LEGACY_TOOLS = ChatFormat(legacy_tools=True)
_REASONING_FORMAT = ChatFormat(reply_priming=2)


@lru_cache(maxsize=1024)
def normalize_model(model: str) -> str:
    """``"FT:gpt-4o-mini-2024-07-18:org:x:id"`` -> ``"gpt-4o-mini-2024-07-18"``, etc."""
    name = model.strip().lower()
    for prefix in ("openai/", "azure/"):
        if name.startswith(prefix):
            name = name[len(prefix):]
    if name.startswith("ft:"):
        name = name[3:].split(":", 1)[0]
    return name


@lru_cache(maxsize=1024)
def encoding_name_for(model: str) -> tuple[str, bool]:
    """``(encoding name, known)`` for ``model``, without loading anything."""
    name = normalize_model(model)
    if _O200K.match(name):
        return "o200k_base", True
    if _CL100K.match(name) or name.startswith("gpt-3.5-turbo-instruct"):
        return "cl100k_base", True
    return DEFAULT_ENCODING, False


def encoding_for(model: str) -> tuple[tiktoken.Encoding, bool]:
    """``(encoding, known)``; ``known`` is False when the default was substituted."""
    name, known = encoding_name_for(model)
    return get_encoding(name), known


@lru_cache(maxsize=1024)
def chat_format_for(model: str) -> ChatFormat:
    """The chat layout used to count message overheads for ``model``."""
    name = normalize_model(model)
    if _REASONING.match(name):
        return _REASONING_FORMAT
    if _LEGACY_TOOLS.match(name):
        return _CHATML_LEGACY_TOOLS
    return _CHATML
