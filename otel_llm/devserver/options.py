"""Per-request controls that ride along a normal OpenAI request.

Two channels, so any client can reach them: ``x-devserver-<key>`` headers (SDK
``extra_headers``) and ``+key=value`` suffixes on the model name, for clients
that only let you pick a model (``gpt-4o-mini+len=200+delay=0.01``). The model
name ``error-<kind>[-<arg>]`` (``error-429``, ``error-drop-5``) is a shortcut for
``+error=<kind>[:<arg>]``. Keys:

``len``        lorem reply of exactly this many words (= tokens = content chunks)
``chunk``      tokens per streamed chunk (default 1)
``delay``      seconds between streamed chunks (overrides the server's ``chunk_delay``)
``error``      a fault, see :mod:`otel_llm.devserver.errors`
``tool_calls`` how many tool calls to make when tools are offered
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from otel_llm.devserver.errors import Fault
from otel_llm.devserver.wire import ApiError

__all__ = ["HEADER_PREFIX", "Controls", "parse_controls"]

HEADER_PREFIX = "x-devserver-"
_KEYS = {"len": "length", "length": "length", "chunk": "chunk", "delay": "delay"}
_KEYS |= {"error": "error", "tool_calls": "tool_calls"}


@dataclass(frozen=True)
class Controls:
    model: str
    length: int | None = None
    chunk: int = 1
    delay: float | None = None
    error: Fault | None = None
    tool_calls: int | None = None


def parse_controls(model: str, headers: Mapping[str, str]) -> Controls:
    """Split the model name from its directives; raises ``ApiError`` (400) on a bad one."""
    raw: dict[str, str] = {}
    base, *suffixes = model.split("+")
    if base.startswith("error-"):
        kind, _, arg = base[len("error-") :].partition("-")
        raw["error"] = f"{kind}:{arg}" if arg else kind
    for suffix in suffixes:
        key, _, value = suffix.partition("=")
        raw[key.strip().lower()] = value.strip()
    for header, value in headers.items():
        lowered = header.lower()
        if lowered.startswith(HEADER_PREFIX):
            raw[lowered[len(HEADER_PREFIX) :].replace("-", "_")] = value.strip()
    if not raw:
        return Controls(model=base)
    values: dict[str, str] = {}
    for key, value in raw.items():
        name = _KEYS.get(key)
        if name is None:
            raise ApiError(400, f"devserver: unknown control {key!r}; known: {sorted(_KEYS)}")
        values[name] = value
    try:
        return Controls(
            model=base,
            length=_int(values.get("length"), 0),
            chunk=_int(values.get("chunk"), 1) or 1,
            delay=None if "delay" not in values else max(0.0, float(values["delay"])),
            error=Fault.parse(values["error"]) if "error" in values else None,
            tool_calls=_int(values.get("tool_calls"), 0),
        )
    except ValueError as exc:
        raise ApiError(400, f"devserver: bad control value: {exc}") from None


def _int(value: str | None, minimum: int) -> int | None:
    return None if value is None else max(minimum, int(value))
