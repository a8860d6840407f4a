"""Budgeted JSON: the head of any value as valid JSON within a byte limit, at a cost set by it.

Serialising first and cutting afterwards made the cost follow the input: a
tool called with a million-item list, or a 100,000-message history, took
seconds on the application's thread only to be thrown away. This encoder
writes the value token by token (an explicit stack, no recursion) and stops as
soon as the next token would not fit: a 10 MB input costs what its first
``max_bytes`` cost. What it returns is always complete JSON: the head of the
value, a cut string ending in the marker or a marker element where the rest was
left out, then the closing brackets (whose bytes are reserved as it goes).

Depth and item limits bound the work on inputs whose output stays small
(deep nesting, self-references, very many empty containers). The standard
``json`` module is used only for what it does in C: quoting one bounded string.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence, Set
from json.encoder import encode_basestring
from typing import Any

from otel_llm.telemetry.values import MARKER, clean_text, size

__all__ = ["DEFAULT_MAX_DEPTH", "DEFAULT_MAX_ITEMS", "encode_json", "text_of"]

DEFAULT_MAX_DEPTH = 32
DEFAULT_MAX_ITEMS = 20_000

_MARK_VALUE = encode_basestring(MARKER)  # in an array, or in place of a value
_MARK_ENTRY = f"{_MARK_VALUE}:null"  # in an object
_CYCLE = encode_basestring("…[cycle]")
_RESERVE = size("," + _MARK_ENTRY)  # room always kept for the final marker
_CONSTANTS = {None: "null", True: "true", False: "false"}
_NON_FINITE = {"nan": '"NaN"', "inf": '"Infinity"', "-inf": '"-Infinity"'}
_SEQUENCES = (list, tuple, set, frozenset)


def encode_json(
    value: Any,
    max_bytes: int,
    max_depth: int = DEFAULT_MAX_DEPTH,
    max_items: int = DEFAULT_MAX_ITEMS,
) -> str:
    """Valid JSON of at most ``max_bytes`` UTF-8 bytes: ``value``, or its head and a marker.

    Mappings become objects (keys as text), lists/tuples/sets arrays, bytes and
    unknown objects their (bounded) text; lone surrogates become U+FFFD,
    non-finite floats strings. A container deeper than ``max_depth`` or met
    again inside itself is replaced by a marker; past ``max_items`` values, or
    when the bytes run out, the rest is left out.
    """
    out: list[str] = []
    used = 0
    # Open containers: [iterator, is_object, no_item_yet, closer, id].
    stack: list[list[Any]] = []
    open_ids: set[int] = set()
    items = 0
    prefix, prefix_size = "", 0
    current = value
    marked = False  # the last string written carries the marker already
    while True:
        # --- write ``current`` after ``prefix`` (a comma, a key) ------------------------------
        room = max_bytes - used - len(stack) - _RESERVE - prefix_size
        items += 1
        if items > max_items:
            break
        kind = type(current)
        token: str | None = None
        if kind is str:
            if current.isascii() and len(current) + 2 <= room:  # the common case, inline
                token = encode_basestring(current)
            else:
                token, cut = _quote(current, room, room + _RESERVE)
                if cut:  # the bytes ran out inside this string: it carries the marker
                    marked = _write_cut(out, stack, prefix, token)
                    break
        elif kind is int:
            try:
                token = int.__repr__(current)
            except ValueError:  # beyond the interpreter's digit limit
                token = _MARK_VALUE
        elif kind is float:
            token = repr(current) if math.isfinite(current) else _NON_FINITE[repr(current)]
        elif current is None or kind is bool:
            token = _CONSTANTS[current]
        elif kind is dict or kind in _SEQUENCES or _is_container(current):
            if len(stack) >= max_depth:
                token = _MARK_VALUE
            elif id(current) in open_ids:
                token = _CYCLE
            else:
                if room < 2:
                    break
                is_object = kind is dict or isinstance(current, Mapping)
                try:
                    iterator = iter(current.items() if is_object else current)
                except Exception:
                    break
                if stack:
                    stack[-1][2] = False
                out.append(prefix + ("{" if is_object else "["))
                used += prefix_size + 1
                stack.append([iterator, is_object, True, "}" if is_object else "]", id(current)])
                open_ids.add(id(current))
        else:
            token, cut = _quote(text_of(current), room, room + _RESERVE)
            if cut:
                marked = _write_cut(out, stack, prefix, token)
                break
        if token is not None:
            token_size = len(token) if token.isascii() else len(token.encode("utf-8"))
            if token_size > room:
                break
            if stack:
                stack[-1][2] = False
            out.append(prefix + token)
            used += prefix_size + token_size
        # --- move to the next value, closing the containers that are done -------------------
        while stack:
            frame = stack[-1]
            try:
                item = next(frame[0])
                break
            except StopIteration:
                out.append(frame[3])
                used += 1
                stack.pop()
                open_ids.discard(frame[4])
            except Exception:  # e.g. a dict changed size while it was read
                item = _BROKEN
                break
        else:
            return "".join(out)
        if item is _BROKEN:
            break
        sep = "" if frame[2] else ","
        if frame[1]:
            key, current = item
            if type(key) is str and key.isascii() and len(key) < 64:
                key_token = encode_basestring(key)
            else:
                key_room = max_bytes - used - len(stack) - _RESERVE - 2
                quoted, cut = _quote(_key_text(key), key_room, key_room)
                if cut or quoted is None:
                    break
                key_token = quoted
            prefix = f"{sep}{key_token}:"
            prefix_size = size(prefix)
        else:
            current = item
            prefix, prefix_size = sep, len(sep)
    # --- out of budget: a marker where the rest would be, then close what is open ----------
    if stack and not marked:
        frame = stack[-1]
        out.append(("" if frame[2] else ",") + (_MARK_ENTRY if frame[1] else _MARK_VALUE))
    elif not out:
        out.append(_MARK_VALUE)
    out.extend(frame[3] for frame in reversed(stack))
    return "".join(out)


def _write_cut(out: list[str], stack: list[list[Any]], prefix: str, token: str | None) -> bool:
    """Write a string cut short (it ends in the marker); ``False`` if not even that fitted."""
    if token is None:
        return False
    if stack:
        stack[-1][2] = False
    out.append(prefix + token)
    return True


_BROKEN = object()


def _quote(text: str, room: int, cut_room: int) -> tuple[str | None, bool]:
    """``(JSON string, was cut)``: all of ``text`` in ``room`` bytes, else its head and the
    marker in ``cut_room`` bytes (``None`` if not even the marker fits).

    Only a slice as long as the room is ever escaped: a character takes at
    least one byte, so the rest could not fit anyway.
    """
    if len(text) + 2 <= room:
        token = encode_basestring(clean_text(text))
        if size(token) <= room:
            return token, False
    room = cut_room
    n = min(len(text), room)
    while n > 0:
        token = encode_basestring(clean_text(text[:n]) + MARKER)
        written = size(token)
        if written <= room:
            return token, True
        n = min(n - 1, n * room // written - 1)
    return None, True


def _is_container(value: Any) -> bool:
    """Mappings, and sequences and sets that are not text or bytes (subclasses included)."""
    if isinstance(value, str | bytes | bytearray | memoryview):
        return False
    return isinstance(value, Mapping | Sequence | Set)


def _int(value: int) -> str:
    try:
        return int.__repr__(value)
    except ValueError:  # beyond the interpreter's digit limit
        return _MARK_VALUE


def _key_text(key: Any) -> str:
    if type(key) is str:
        return key
    if key is None or type(key) is bool:
        return _CONSTANTS[key]
    if isinstance(key, int):
        return _int(int(key)).strip('"')
    if isinstance(key, float):
        return repr(float(key))
    return text_of(key)


def text_of(value: Any) -> str:
    """Bytes decoded, anything else its ``str()`` (the object's own cost, as ``json`` would pay)."""
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value[:65536]).decode("utf-8", "replace")
    if isinstance(value, str):
        return str.__str__(value)
    try:
        return str(value)
    except Exception:
        return f"<unprintable {type(value).__qualname__}>"
