"""Values safe to hand to the OTel API: valid UTF-8 text, OTLP-encodable numbers, bounded size.

One bad value used to make a whole export batch unencodable: a lone surrogate
(``"gpt\\udcff"``, e.g. from ``os.environ`` or a broken decoder) cannot be
written as UTF-8, an ``int`` beyond 64 bits does not fit OTLP's ``int_value``,
and the SDK only drops values of the wrong type, with a warning. Every
attribute the handler records goes through :func:`clean_attributes` (or, for
content, through the JSON encoder, which cleans as it writes), once, where it
enters the OTel API.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

__all__ = [
    "MARKER",
    "MAX_ATTRIBUTE_CHARS",
    "bounded_text",
    "clean_attributes",
    "clean_text",
    "cut_text",
    "size",
]

#: Appended to anything cut short.
MARKER = "…[truncated]"
#: Characters kept of a non-content attribute (model names, ids, tool descriptions, messages).
MAX_ATTRIBUTE_CHARS = 4096

_SURROGATES = re.compile("[\ud800-\udfff]")
_INT64 = (-(2**63), 2**63 - 1)
_PRIMITIVES = (bool, str, int, float)
_MAX_SEQUENCE = 1024  # longer sequences are recorded as their bounded str()


def clean_text(text: str) -> str:
    """``text`` with lone surrogates replaced by U+FFFD (they have no UTF-8 encoding)."""
    if text.isascii():
        return text
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return _SURROGATES.sub("\ufffd", text)
    return text


def size(text: str) -> int:
    """UTF-8 bytes of ``text`` (encoded only when the answer is not obvious)."""
    return len(text) if text.isascii() else len(text.encode("utf-8", "surrogatepass"))


def cut_text(text: str, max_bytes: int) -> str:
    """Clean ``text`` cut to ``max_bytes`` UTF-8 bytes, marker included; costs O(max_bytes)."""
    if len(text) <= max_bytes // 4:  # fits whatever its characters are
        return clean_text(text)
    head = clean_text(text[: max_bytes + 1])  # a character is at least one byte
    if len(head) <= max_bytes and size(head) <= max_bytes:
        return head
    budget = max(max_bytes - size(MARKER), 0)
    return head.encode("utf-8")[:budget].decode("utf-8", "ignore") + MARKER


def clean_attributes(attrs: Mapping[str, Any]) -> dict[str, Any]:
    """Attribute values the OTLP encoder always accepts.

    Strings are cleaned and bounded, integers outside int64 become their
    decimal text, homogeneous sequences of primitives stay sequences (cleaned),
    anything else becomes its bounded ``str()``. ``None`` values are dropped.
    The common case (short ASCII text, small numbers, a known key) costs a type
    check each.
    """
    out: dict[str, Any] = {}
    for key, value in attrs.items():
        kind = type(value)
        if kind is str:
            if not (value.isascii() and len(value) <= MAX_ATTRIBUTE_CHARS):
                value = bounded_text(value)
        elif kind is int:
            if not _INT64[0] <= value <= _INT64[1]:
                value = str(value)
        elif kind is list or kind is tuple:
            value = _sequence(value)
        elif kind is not float and kind is not bool:
            if value is None:
                continue
            value = _other(value)
        if key not in _CLEAN_KEYS:
            key = _clean_key(key)
        out[key] = value
    return out


#: Attribute keys seen clean (ASCII ``str``): checked once, not per attribute.
_CLEAN_KEYS: set[str] = set()
_MAX_CLEAN_KEYS = 4096  # keys are mostly the conventions' names; user keys are bounded too


def _clean_key(key: Any) -> str:
    if type(key) is str and key.isascii():
        if len(_CLEAN_KEYS) < _MAX_CLEAN_KEYS:
            _CLEAN_KEYS.add(key)
        return key
    return bounded_text(str(key))


def _sequence(value: list[Any] | tuple[Any, ...]) -> Any:
    """A list or tuple: a tuple of short ASCII strings the cheap way, anything else by
    :func:`_other`."""
    if not value or len(value) > _MAX_SEQUENCE or type(value[0]) is not str:
        return _other(value)
    out = []
    for v in value:
        if type(v) is not str or not v.isascii() or len(v) > MAX_ATTRIBUTE_CHARS:
            return _other(value)
        out.append(v)
    return tuple(out)


def bounded_text(value: str) -> str:
    """``value`` cleaned and cut to ``MAX_ATTRIBUTE_CHARS`` (span names, run names, messages)."""
    if len(value) > MAX_ATTRIBUTE_CHARS:
        value = value[: MAX_ATTRIBUTE_CHARS - len(MARKER)] + MARKER
    return clean_text(value)


def _other(value: Any) -> Any:
    if isinstance(value, str):  # a str subclass
        return bounded_text(str.__str__(value))
    if isinstance(value, int) and not isinstance(value, bool):
        return int(value) if _INT64[0] <= value <= _INT64[1] else str(int(value))
    if isinstance(value, _PRIMITIVES):
        return value
    if isinstance(value, list | tuple):
        if not value:
            return ()
        first = type(value[0])
        if first in _PRIMITIVES and len(value) <= _MAX_SEQUENCE and all(
                type(v) is first for v in value):
            if first is str:
                return tuple(bounded_text(v) for v in value)
            if first is not int or all(_INT64[0] <= v <= _INT64[1] for v in value):
                return tuple(value)
    try:
        text = str(value)
    except Exception:
        text = f"<unprintable {type(value).__qualname__}>"
    return bounded_text(text)
