"""Fault injection: which failure a request gets, and OpenAI's error bodies for it.

A fault is written ``kind[:arg]``: ``429`` (``arg`` = Retry-After seconds, default 1),
``400`` or ``context_length`` (400 ``context_length_exceeded``), ``401``, ``403``,
``404``, ``500``, ``503``, ``drop`` (``arg`` = SSE events sent before the connection
is cut, default 3; a JSON body is cut in half) and ``hang`` (``arg`` = seconds before
answering normally, default: until the client gives up or the server stops).
The bodies copy OpenAI's wording so SDKs and instrumentation see what they would
see in production.
"""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass

from otel_llm.devserver.wire import ApiError

__all__ = ["FAULT_KINDS", "Fault", "FaultSchedule", "context_length_error"]

FAULT_KINDS = frozenset(
    {"400", "401", "403", "404", "429", "500", "503", "context_length", "drop", "hang"}
)
_ALIASES = {"context": "context_length", "context_length_exceeded": "context_length"}


@dataclass(frozen=True)
class Fault:
    kind: str
    arg: float | None = None

    @classmethod
    def parse(cls, spec: str) -> Fault:
        """Parse ``kind[:arg]``; raises ``ValueError`` naming the accepted kinds."""
        kind, _, arg = spec.strip().lower().partition(":")
        kind = _ALIASES.get(kind, kind)
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault {spec!r}; expected one of {sorted(FAULT_KINDS)}")
        try:
            value = float(arg) if arg else None
        except ValueError:
            raise ValueError(f"fault argument must be a number: {spec!r}") from None
        return cls(kind, value)

    @property
    def is_status(self) -> bool:
        """True for faults answered with an HTTP error instead of a broken transport."""
        return self.kind not in ("drop", "hang")

    def error(self, model: str, *, context_window: int = 128_000) -> ApiError:
        """The OpenAI error answer for a status fault."""
        kind = self.kind
        if kind in ("400", "context_length"):
            return context_length_error(context_window, context_window + 1)
        if kind == "401":
            return ApiError(
                401,
                "Incorrect API key provided: sk-***. You can find your API key at "
                "https://platform.openai.com/account/api-keys.",
                code="invalid_api_key",
            )
        if kind == "403":
            return ApiError(
                403,
                f"Project `proj_devserver` does not have access to model `{model}`",
                code="model_not_found",
            )
        if kind == "404":
            return ApiError(
                404,
                f"The model `{model}` does not exist or you do not have access to it.",
                code="model_not_found",
            )
        if kind == "429":
            retry_after = 1.0 if self.arg is None else self.arg
            wait = f"{retry_after:g}"
            return ApiError(
                429,
                f"Rate limit reached for {model} in organization org-devserver on requests "
                f"per min (RPM): Limit 3, Used 3, Requested 1. Please try again in {wait}s. "
                "Visit https://platform.openai.com/account/rate-limits to learn more.",
                type="requests",
                code="rate_limit_exceeded",
                headers={
                    "retry-after": wait,
                    "x-ratelimit-limit-requests": "3",
                    "x-ratelimit-remaining-requests": "0",
                    "x-ratelimit-reset-requests": f"{wait}s",
                },
            )
        if kind == "503":
            return ApiError(
                503,
                "The engine is currently overloaded, please try again later.",
                type="server_error",
            )
        return ApiError(
            500,
            "The server had an error while processing your request. Sorry about that!",
            type="server_error",
        )


def context_length_error(limit: int, used: int, *, param: str = "messages") -> ApiError:
    return ApiError(
        400,
        f"This model's maximum context length is {limit} tokens. However, your messages "
        f"resulted in {used} tokens. Please reduce the length of the messages.",
        param=param,
        code="context_length_exceeded",
    )


class FaultSchedule:
    """Server-wide faults for the next matching requests.

    For tests whose client cannot set headers or pick the model name (e.g. a
    framework wrapping the SDK): ``add("429", times=2)`` fails the next two calls.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._queue: deque[tuple[Fault, str | None]] = deque()

    def add(self, fault: Fault | str, *, times: int = 1, path: str | None = None) -> None:
        """Queue ``fault`` for the next ``times`` requests (to ``path`` only, if given)."""
        parsed = Fault.parse(fault) if isinstance(fault, str) else fault
        with self._lock:
            self._queue.extend([(parsed, path)] * times)

    def take(self, path: str) -> Fault | None:
        """Pop the first queued fault that applies to ``path``."""
        if not self._queue:  # fast path without the lock: the common case
            return None
        with self._lock:
            for i, (fault, only) in enumerate(self._queue):
                if only is None or only == path:
                    del self._queue[i]
                    return fault
        return None

    def clear(self) -> None:
        with self._lock:
            self._queue.clear()

    def __len__(self) -> int:
        return len(self._queue)
