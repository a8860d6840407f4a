"""Prompt and completion content: whether to record it, in what shape, how big, redacted how.

Content is off unless the user opts in (``CaptureMode`` or the
``OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT`` variable). When on,
messages become the conventions' JSON parts shape
``[{"role": ..., "parts": [{"type": "text", "content": ...}], "finish_reason": ...}]``,
pass through the user's ``redact`` hook, and are cut to a byte budget while
staying valid JSON.
"""

from __future__ import annotations

import enum
import json
import logging
import os
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from otel_llm.errors import ConfigurationError
from otel_llm.schema import INSTRUCTIONS_KEY
from otel_llm.settings import CAPTURE_MESSAGE_CONTENT
from otel_llm.telemetry.attributes import finish_reason
from otel_llm.telemetry.guard import FailureLog

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
_TRUNCATED = "…[truncated]"

#: ``redact(content) -> content``: gets the parts-shaped list (or a tool's arguments or
#: result), returns what may be recorded; ``None`` records nothing.
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
    """Redacts, serialises and truncates one content value into an attribute string."""

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
        if self._redact is not None:
            try:
                content = self._redact(content)
            except Exception as exc:
                self._failures.record("redact", exc)
                return None
            if content is None:
                return None
        if isinstance(content, str):
            return _cut_text(content, self.max_bytes)
        return fit_json(content, self.max_bytes)


def fit_json(content: Any, max_bytes: int) -> str:
    """Valid JSON within ``max_bytes``: shorten long strings first, then drop the oldest items."""
    text = _dumps(content)
    if _size(text) <= max_bytes:
        return text
    cap = max_bytes // 2
    while cap >= 64:
        text = _dumps(_cap_strings(content, cap))
        if _size(text) <= max_bytes:
            return text
        cap //= 2
    capped = _cap_strings(content, 64)
    if isinstance(capped, list):
        # Too many items: keep the newest ones that fit (the end of a conversation matters most).
        lo, hi = 0, len(capped)
        while lo < hi:
            mid = (lo + hi) // 2
            if _size(_dumps(capped[mid:])) <= max_bytes:
                hi = mid
            else:
                lo = mid + 1
        if lo < len(capped):
            return _dumps(capped[lo:])
    return _dumps(_TRUNCATED)


def _cut_text(text: str, max_bytes: int) -> str:
    if _size(text) <= max_bytes:
        return text
    budget = max_bytes - _size(_TRUNCATED)
    return text.encode("utf-8")[:budget].decode("utf-8", "ignore") + _TRUNCATED


def _cap_strings(value: Any, cap: int) -> Any:
    if isinstance(value, str):
        return value if len(value) <= cap else value[:cap] + _TRUNCATED
    if isinstance(value, Mapping):
        return {k: _cap_strings(v, cap) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_cap_strings(v, cap) for v in value]
    return value


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)


def _size(text: str) -> int:
    # A char is 1-4 UTF-8 bytes: only encode when the answer is not obvious.
    return len(text) if text.isascii() else len(text.encode("utf-8"))


# --- shapes ---------------------------------------------------------------------------


def chat_input(batches: Sequence[Sequence[Any]]) -> tuple[list[Any], list[dict[str, Any]]]:
    """``(system instruction parts, input messages)``.

    System messages of the chat history stay in the input messages, as the
    conventions ask; only instructions given apart from it (a system message
    marked with ``INSTRUCTIONS_KEY``, e.g. Responses ``instructions``) are
    system instructions.
    """
    instructions: list[Any] = []
    inputs: list[dict[str, Any]] = []
    for batch in batches:
        for message in batch:
            extra = getattr(message, "additional_kwargs", None)
            if isinstance(extra, Mapping) and extra.get(INSTRUCTIONS_KEY) is True:
                instructions.extend(_parts(getattr(message, "content", "")))
            else:
                inputs.append(_message(message))
    return instructions, inputs


def prompt_input(prompts: Sequence[str]) -> list[dict[str, Any]]:
    return [{"role": "user", "parts": [_text(p)]} for p in prompts]


def output_messages(response: Any) -> list[dict[str, Any]]:
    out = []
    for per_prompt in getattr(response, "generations", None) or []:
        for generation in per_prompt:
            message = getattr(generation, "message", None)
            if message is not None:
                entry = _message(message)
                entry["role"] = "assistant"
            else:
                entry = {"role": "assistant", "parts": [_text(getattr(generation, "text", ""))]}
            entry["finish_reason"] = finish_reason(generation) or ""
            out.append(entry)
    return out


def tool_definitions(tools: Any) -> list[dict[str, Any]] | None:
    """OpenAI ``tools`` (``{"type": "function", "function": {...}}``) -> the flat shape."""
    if not isinstance(tools, Sequence) or isinstance(tools, str) or not tools:
        return None
    out = []
    for tool in tools:
        if not isinstance(tool, Mapping):
            continue
        fn = tool.get("function")
        if isinstance(fn, Mapping):
            entry = {"type": tool.get("type", "function"), **fn}
        else:
            entry = dict(tool)
        out.append(entry)
    return out or None


def _message(message: Any) -> dict[str, Any]:
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
    parts = _parts(getattr(message, "content", ""))
    for call in getattr(message, "tool_calls", None) or ():
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


def _parts(content: Any) -> list[Any]:
    if isinstance(content, str):
        return [_text(content)] if content else []
    if not isinstance(content, list):
        return [_text(str(content))]
    parts: list[Any] = []
    for item in content:
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
