"""OpenAI wire primitives shared by the endpoint builders: ids, JSON and SSE bytes.

Builders return a :class:`Reply` and never touch sockets, so the HTTP layer owns
framing, delays and fault injection in one place.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "SSE_DONE",
    "SYSTEM_FINGERPRINT",
    "ApiError",
    "Reply",
    "dumps",
    "new_id",
    "now",
    "served_tier",
    "sse_data",
    "sse_event",
]

SYSTEM_FINGERPRINT = "fp_d5v1c3b2a0"
_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

_encoder = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


def dumps(obj: Any) -> str:
    """Compact JSON as OpenAI sends it (no spaces, UTF-8 kept)."""
    return _encoder.encode(obj)


def new_id(prefix: str, length: int = 29, *, hex_only: bool = False) -> str:
    """A random id shaped like OpenAI's (``chatcmpl-`` + 29 alphanumerics, ``resp_`` + hex)."""
    raw = os.urandom(length)
    if hex_only:
        return prefix + raw.hex()[:length]
    return prefix + "".join(_ALPHABET[b % 62] for b in raw)


def now() -> int:
    return int(time.time())


def sse_data(obj: Any) -> bytes:
    """One ``data:`` event, as Chat Completions and legacy Completions stream them."""
    return b"data: " + dumps(obj).encode() + b"\n\n"


def sse_event(event_type: str, obj: Any) -> bytes:
    """One named event, as the Responses API streams them (``event:`` then ``data:``)."""
    return f"event: {event_type}\ndata: {dumps(obj)}\n\n".encode()


SSE_DONE = b"data: [DONE]\n\n"


@dataclass
class Reply:
    """What an endpoint answers: a JSON body, or SSE events when ``events`` is set."""

    status: int = 200
    body: bytes = b""
    events: Sequence[bytes] | None = None
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def json(cls, obj: Any, status: int = 200, headers: dict[str, str] | None = None) -> Reply:
        return cls(status=status, body=dumps(obj).encode(), headers=headers or {})

    @classmethod
    def stream(cls, events: Sequence[bytes]) -> Reply:
        return cls(events=events, content_type="text/event-stream; charset=utf-8")


class ApiError(Exception):
    """An OpenAI-shaped error answer; raised by builders, rendered by the server."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        type: str = "invalid_request_error",
        param: str | None = None,
        code: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.type = type
        self.param = param
        self.code = code
        self.headers = headers or {}

    def reply(self) -> Reply:
        body = {
            "error": {
                "message": self.message,
                "type": self.type,
                "param": self.param,
                "code": self.code,
            }
        }
        return Reply.json(body, status=self.status, headers=dict(self.headers))


def served_tier(body: Mapping[str, Any]) -> str:
    """The ``service_tier`` a reply reports: the requested tier, ``default`` for ``auto``/none."""
    tier = body.get("service_tier")
    return tier if tier in ("flex", "priority", "scale", "default") else "default"
