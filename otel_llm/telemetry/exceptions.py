"""What a failed run records about its error, without leaking the prompt.

Provider errors often quote the request: a 400 that echoes the offending
input puts the user's prompt into ``str(exc)``, and from there the SDK's
``record_exception`` copies it into ``exception.message``, the last line of
``exception.stacktrace`` and the span status. So the message is treated as
content:

- content capture off (the default): the exception's type, the provider's
  error code (``context_length_exceeded``, a short identifier) and HTTP status
  are recorded; the message is not, in the event, the stack trace (frames
  only) or the status (which says the type and code instead);
- content capture on: the message is recorded after the same ``redact`` hook
  as prompts and completions (dropped when the hook drops it or fails).

Errors that are not exceptions (``on_llm_error("boom")``) are failures all the
same: ``error.type`` is the conventions' ``_OTHER`` and the value, as text, is
their message.
"""

from __future__ import annotations

import re
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from otel_llm import semconv
from otel_llm.telemetry.attributes import error_type
from otel_llm.telemetry.values import MARKER, bounded_text, clean_text

__all__ = ["ErrorDetails", "describe"]

#: A provider error code looks like an identifier; anything else may be free text.
_CODE = re.compile(r"[A-Za-z0-9_.:\-]{1,64}")
_MAX_STACKTRACE = 16 * 1024
_MAX_CHAIN = 8
_CAUSE = "\nThe above exception was the direct cause of the following exception:\n\n"
_CONTEXT = "\nDuring handling of the above exception, another exception occurred:\n\n"

#: ``message(text) -> text to record or None``: the content policy for messages.
MessagePolicy = Callable[[str], "str | None"]


@dataclass(frozen=True, slots=True)
class ErrorDetails:
    """Everything recorded about one error, already cleaned and bounded."""

    type: str
    message: str | None
    status: str
    event: dict[str, Any]
    attributes: dict[str, Any]


def describe(error: object, message: MessagePolicy | None) -> ErrorDetails:
    """The details of ``error``; ``message=None`` records no message (content off)."""
    if isinstance(error, BaseException) or (
        isinstance(error, type) and issubclass(error, BaseException)
    ):
        kind = bounded_text(error_type(error))
    else:
        kind = semconv.ERROR_TYPE_OTHER
    text = _message(error, message)
    attributes: dict[str, Any] = {semconv.ERROR_TYPE: kind}
    code = _attr(error, "code")
    if isinstance(code, str) and _CODE.fullmatch(code):
        attributes[semconv.OTEL_LLM_ERROR_CODE] = code
    status_code = _attr(error, "status_code")
    if type(status_code) is int and 100 <= status_code <= 599:
        attributes[semconv.HTTP_RESPONSE_STATUS_CODE] = status_code
    event: dict[str, Any] = {semconv.EXCEPTION_TYPE: kind}
    if text is not None:
        event[semconv.EXCEPTION_MESSAGE] = text
    if isinstance(error, BaseException):
        event[semconv.EXCEPTION_STACKTRACE] = _stacktrace(error, message)
    if text:
        status = text
    elif semconv.OTEL_LLM_ERROR_CODE in attributes:
        status = f"{kind} ({attributes[semconv.OTEL_LLM_ERROR_CODE]})"
    else:
        status = kind
    return ErrorDetails(kind, text, status, event, attributes)


def _message(error: object, policy: MessagePolicy | None) -> str | None:
    if policy is None:
        return None
    try:
        raw = str(error)
    except Exception:
        return None
    return policy(bounded_text(raw)) if raw else None


def _attr(error: object, name: str) -> Any:
    try:
        return getattr(error, name, None)
    except Exception:  # a property that raises
        return None


def _stacktrace(error: BaseException, policy: MessagePolicy | None) -> str:
    """Python's traceback layout (chained exceptions first), each message per ``policy``."""
    chain: list[tuple[BaseException, str]] = []
    seen: set[int] = set()
    link = ""
    current: BaseException | None = error
    while current is not None and id(current) not in seen and len(chain) < _MAX_CHAIN:
        seen.add(id(current))
        chain.append((current, link))
        if current.__cause__ is not None:
            current, link = current.__cause__, _CAUSE
        elif not current.__suppress_context__:
            current, link = current.__context__, _CONTEXT
        else:
            current = None
    parts: list[str] = []
    for exc, link_after in reversed(chain):
        if exc.__traceback__ is not None:
            parts.append("Traceback (most recent call last):\n")
            parts.extend(traceback.format_tb(exc.__traceback__))
        text = _message(exc, policy)
        parts.append(f"{error_type(exc)}: {text}\n" if text else f"{error_type(exc)}\n")
        parts.append(link_after)
    trace = "".join(parts)
    if len(trace) > _MAX_STACKTRACE:  # keep the end: the innermost frames and the error
        trace = MARKER + trace[-_MAX_STACKTRACE:]
    return clean_text(trace)
