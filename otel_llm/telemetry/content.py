"""Prompt and completion content: whether to record it, in what shape, how big, redacted how.

Content is off unless the user opts in (``CaptureMode`` or the
``OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT`` variable). When on,
messages become the conventions' JSON parts shape
``[{"role": ..., "parts": [{"type": "text", "content": ...}], "finish_reason": ...}]``,
pass through the user's ``redact`` hook, and are cut to a byte budget while
staying valid JSON (the head of the value and a marker; see ``encoder``).
"""

from __future__ import annotations

import enum
import logging
import os
from collections.abc import Callable, Mapping, Sequence
from itertools import chain, islice
from typing import Any

from otel_llm.errors import ConfigurationError
from otel_llm.schema import INSTRUCTIONS_KEY
from otel_llm.settings import CAPTURE_MESSAGE_CONTENT
from otel_llm.telemetry.attributes import finish_reason
from otel_llm.telemetry.encoder import encode_json, text_of
from otel_llm.telemetry.guard import FailureLog
from otel_llm.telemetry.values import bounded_text, cut_text

__all__ = [
    "DEFAULT_MAX_CONTENT_BYTES",
    "CaptureMode",
    "ContentEncoder",
    "Redactor",
    "capture_mode_from_env",
    "chat_input",
    "output_messages",
    "parse_capture_mode",
    "prompt_input",
    "tool_definitions",
]

_log = logging.getLogger("otel_llm.telemetry")

#: Per attribute. Backends cap attribute sizes too (Jaeger/Tempo ~64 KiB); stay well below.
DEFAULT_MAX_CONTENT_BYTES = 16 * 1024

#: ``redact(content) -> content``: gets the parts-shaped list (only the head that
#: ``max_content_bytes`` can hold), a tool's arguments or result, or an error message
#: (a ``str``); returns what may be recorded; ``None`` records nothing.
Redactor = Callable[[Any], Any]

# Message ``type`` (LangChain) -> role (conventions).
_ROLES = {"human": "user", "ai": "assistant", "system": "system", "tool": "tool"}


class CaptureMode(enum.Enum):
    """Where content goes; the names are the official GenAI instrumentations' values."""

    NO_CONTENT = "NO_CONTENT"
    SPAN_ONLY = "SPAN_ONLY"
    EVENT_ONLY = "EVENT_ONLY"
    SPAN_AND_EVENT = "SPAN_AND_EVENT"

    @property
    def on_span(self) -> bool:
        return self in (CaptureMode.SPAN_ONLY, CaptureMode.SPAN_AND_EVENT)

    @property
    def as_event(self) -> bool:
        return self in (CaptureMode.EVENT_ONLY, CaptureMode.SPAN_AND_EVENT)

    @property
    def enabled(self) -> bool:
        return self is not CaptureMode.NO_CONTENT


_ALIASES = {"TRUE": CaptureMode.SPAN_ONLY, "FALSE": CaptureMode.NO_CONTENT}


def parse_capture_mode(
    value: CaptureMode | str | bool, setting: str = "capture_content"
) -> CaptureMode:
    """The enum, its names (any case), ``true``/``false`` or a bool; else ``ConfigurationError``."""
    if isinstance(value, CaptureMode):
        return value
    if isinstance(value, bool):
        return CaptureMode.SPAN_ONLY if value else CaptureMode.NO_CONTENT
    if isinstance(value, str):
        key = value.strip().upper()
        if key in _ALIASES:
            return _ALIASES[key]
        try:
            return CaptureMode[key]
        except KeyError:
            pass
    choices = ", ".join(m.value for m in CaptureMode)
    raise ConfigurationError(setting, f"{value!r} is not one of {choices}, true, false")


def capture_mode_from_env() -> CaptureMode:
    """The environment's choice; an invalid value warns and means no content (fail closed)."""
    raw = os.environ.get(CAPTURE_MESSAGE_CONTENT)
    if raw is None or not raw.strip():
        return CaptureMode.NO_CONTENT
    try:
        return parse_capture_mode(raw, CAPTURE_MESSAGE_CONTENT)
    except ConfigurationError as exc:
        _log.warning("%s; recording no content", exc)
        return CaptureMode.NO_CONTENT


class ContentEncoder:
    """Redacts, serialises and truncates one content value into an attribute string.

    The cost is bounded by ``max_bytes``, not by the content: the shapes below
    take only the head of long lists that ``max_bytes`` can hold, and the JSON
    encoder stops writing once the limit is reached.
    """

    def __init__(self, max_bytes: int, redact: Redactor | None, failures: FailureLog) -> None:
        if not isinstance(max_bytes, int) or max_bytes < 256:
            raise ConfigurationError(
                "max_content_bytes", f"must be an int >= 256, got {max_bytes!r}"
            )
        self.max_bytes = max_bytes
        self._redact = redact
        self._failures = failures

    def encode(self, content: Any) -> str | None:
        """JSON text of ``content`` within ``max_bytes``; ``None`` when redaction drops or fails."""
        content = self.redact(content)
        if content is None:
            return None
        if isinstance(content, str):
            return cut_text(content, self.max_bytes)
        return encode_json(content, self.max_bytes)

    def redact_text(self, text: str) -> str | None:
        """A piece of text (an error message) after the redact hook, cleaned and bounded."""
        redacted = self.redact(text)
        if redacted is None:
            return None
        return bounded_text(redacted if isinstance(redacted, str) else text_of(redacted))

    def redact(self, content: Any) -> Any:
        """The redact hook's answer (``None``: record nothing; a failing hook is ``None`` too)."""
        if self._redact is None:
            return content
        try:
            return self._redact(content)
        except Exception as exc:
            self._failures.record("redact", exc)
            return None


# --- shapes ---------------------------------------------------------------------------


def _heads(max_bytes: int) -> tuple[int, int]:
    """How many messages, and parts (or tools), ``max_bytes`` of JSON can hold, plus one.

    A shaped message takes at least 24 bytes, a part or tool 12: shaping more
    would be work thrown away, and the one extra item makes a cut list end in
    the encoder's marker.
    """
    return max_bytes // 24 + 1, max_bytes // 12 + 1


def chat_input(
    batches: Sequence[Sequence[Any]], max_bytes: int
) -> tuple[list[Any], list[dict[str, Any]]]:
    """``(system instruction parts, input messages)``, of the head ``max_bytes`` can hold.

    System messages of the chat history stay in the input messages, as the
    conventions ask; only instructions given apart from it (a system message
    marked with ``INSTRUCTIONS_KEY``, e.g. Responses ``instructions``) are
    system instructions.
    """
    head, parts = _heads(max_bytes)
    instructions: list[Any] = []
    inputs: list[dict[str, Any]] = []
    for message in islice(chain.from_iterable(batches), head):
        extra = getattr(message, "additional_kwargs", None)
        if isinstance(extra, Mapping) and extra.get(INSTRUCTIONS_KEY) is True:
            instructions.extend(_parts(getattr(message, "content", ""), parts))
        else:
            inputs.append(_message(message, parts))
    return instructions, inputs


def prompt_input(prompts: Sequence[str], max_bytes: int) -> list[dict[str, Any]]:
    head, _ = _heads(max_bytes)
    return [{"role": "user", "parts": [_text(p)]} for p in islice(prompts, head)]


def output_messages(response: Any, max_bytes: int) -> list[dict[str, Any]]:
    head, parts = _heads(max_bytes)
    out = []
    generations = chain.from_iterable(getattr(response, "generations", None) or [])
    for generation in islice(generations, head):
        message = getattr(generation, "message", None)
        if message is not None:
            entry = _message(message, parts)
            entry["role"] = "assistant"
        else:
            entry = {"role": "assistant", "parts": [_text(getattr(generation, "text", ""))]}
        entry["finish_reason"] = finish_reason(generation) or ""
        out.append(entry)
    return out


def tool_definitions(tools: Any, max_bytes: int) -> list[dict[str, Any]] | None:
    """OpenAI ``tools`` (``{"type": "function", "function": {...}}``) -> the flat shape."""
    if not isinstance(tools, Sequence) or isinstance(tools, str) or not tools:
        return None
    out = []
    for tool in islice(tools, _heads(max_bytes)[1]):
        if not isinstance(tool, Mapping):
            continue
        fn = tool.get("function")
        if isinstance(fn, Mapping):
            entry = {"type": tool.get("type", "function"), **fn}
        else:
            entry = dict(tool)
        out.append(entry)
    return out or None


def _message(message: Any, head: int) -> dict[str, Any]:
    kind = getattr(message, "type", None)
    role = _ROLES.get(kind) if isinstance(kind, str) else None
    if role is None:
        role = getattr(message, "role", None) or "user"
    if kind == "tool":
        return {
            "role": "tool",
            "parts": [
                {
                    "type": "tool_call_response",
                    "id": getattr(message, "tool_call_id", None),
                    "response": getattr(message, "content", None),
                }
            ],
        }
    parts = _parts(getattr(message, "content", ""), head)
    for call in islice(getattr(message, "tool_calls", None) or (), head):
        if isinstance(call, Mapping):
            parts.append(
                {
                    "type": "tool_call",
                    "id": call.get("id"),
                    "name": call.get("name"),
                    "arguments": call.get("args"),
                }
            )
    return {"role": role, "parts": parts}


def _parts(content: Any, head: int) -> list[Any]:
    if isinstance(content, str):
        return [_text(content)] if content else []
    if not isinstance(content, list):
        return [_text(str(content))]
    parts: list[Any] = []
    for item in islice(content, head):
        if isinstance(item, str):
            parts.append(_text(item))
        elif isinstance(item, Mapping):
            parts.append(_part(item))
    return parts


def _part(item: Mapping[str, Any]) -> dict[str, Any]:
    kind = item.get("type")
    if kind == "text":
        return _text(str(item.get("text", "")))
    if kind == "image_url":
        image = item.get("image_url")
        url = image.get("url") if isinstance(image, Mapping) else image
        return {"type": "uri", "modality": "image", "uri": url}
    return {"type": kind or "generic", **{k: v for k, v in item.items() if k != "type"}}


def _text(text: str) -> dict[str, Any]:
    return {"type": "text", "content": text}
