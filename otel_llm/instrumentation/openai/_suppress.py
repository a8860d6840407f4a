"""One owner per call: a framework that reports its own model calls silences the SDK layer.

LangChain's ``ChatOpenAI`` calls the SDK itself and emits its own events; if
the SDK layer emitted too, every call would be counted twice. The framework
wraps its SDK call in :func:`suppress`; the SDK layer then emits nothing but
still tells the framework what only it sees (server address, response id)
through the optional ``on_details`` hook, called once per SDK call after the
SDK returns, with a dict of :data:`DETAIL_KEYS` (for a stream, the dict is
completed in place with the response id and model when the first chunk is read).

A framework whose run starts in one callback and ends in another (LangChain:
``on_chat_model_start`` ... ``on_llm_end``, the end often in a copied context)
uses :func:`begin` and closes the returned :class:`Suppression` from wherever
the run ends: a closed suppression no longer suppresses, even in a context that
still holds it because resetting there was impossible.

A suppression may be *partial*: ``owned`` names the handler classes the framework
run already delivers the call to (LangChain's run has an OpenTelemetry handler
and a token counter, say). The SDK layer then leaves out only its handlers of
those classes and still serves the others (an OpenTelemetry handler given to
``instrument_openai()`` while only a counter watches the LangChain run), so no
handler sees a call twice and none loses it. ``owned=None`` suppresses everything.

A framework that starts its run in a task of its own (LangChain's text-completion
``agenerate`` starts each run inside ``asyncio.gather``) cannot reach the caller's
context: it says which call it expects instead (:meth:`Suppression.expect`: model
and prompt), and a completions call made with no suppression in its context claims
the open suppressions expecting its prompts (:func:`claim`). A direct SDK call with
the same model and prompt made while such a run is open would be claimed too.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any
from urllib.parse import urlsplit

from otel_llm.instrumentation.openai._call import internal_error, logger
from otel_llm.instrumentation.openai._streams import peek

__all__ = ["DETAIL_KEYS", "DetailsHook", "Suppression", "active", "begin", "claim", "current",
           "report", "suppress"]

#: ``on_details(details)``: called with SDK-level facts of a suppressed call.
DetailsHook = Callable[[dict[str, Any]], None]

#: Keys a details dict may carry (a key is left out when its value is unknown).
DETAIL_KEYS = (
    "operation",  # "chat.completions.create", "embeddings.create", ...
    "provider",  # "openai", "azure.ai.openai", or the API host's provider ("deepseek", ...)
    "base_url",
    "server.address",
    "server.port",
    "request_model",
    "stream",
    "response_id",  # non-streamed calls only: a stream's id is in its chunks
    "response_model",
    "system_fingerprint",
    "request_id",  # the x-request-id header, when the SDK exposes it
)


class Suppression:
    """One open suppression; :meth:`close` works from any context, any number of times."""

    __slots__ = ("_expected", "_token", "hook", "open", "owned", "prev")

    def __init__(self, hook: DetailsHook | None, prev: Suppression | None,
                 owned: set[type] | None = None) -> None:
        self.hook = hook
        self.owned = owned  # None: every handler; else the classes the framework serves
        self.prev = prev  # the innermost suppression open when this one began
        self.open = True
        self._expected: tuple[str, str] | None = None
        self._token = _SUPPRESSED.set(self)

    def expect(self, model: str, prompt: str) -> None:
        """Also suppress a completions call for ``prompt`` on ``model`` made in another context."""
        self._expected = (model, prompt)
        with _pending_lock:
            _PENDING.setdefault(self._expected, []).append(self)

    def close(self) -> None:
        self.open = False
        key = self._expected
        if key is not None:
            self._expected = None
            with _pending_lock:
                waiting = _PENDING.get(key)
                if waiting and self in waiting:
                    waiting.remove(self)
                    if not waiting:
                        del _PENDING[key]
        if _SUPPRESSED.get() is self:
            # In another context the reset fails; being closed, active() skips it there.
            with contextlib.suppress(ValueError):
                _SUPPRESSED.reset(self._token)


_PENDING: dict[tuple[str, str], list[Suppression]] = {}
_pending_lock = threading.Lock()

_SUPPRESSED: ContextVar[Suppression | None] = ContextVar(
    "otel_llm_openai_suppressed", default=None
)


def _innermost() -> Suppression | None:
    entry = _SUPPRESSED.get()
    while entry is not None and not entry.open:
        entry = entry.prev
    return entry


def begin(on_details: DetailsHook | None = None, owned: set[type] | None = None) -> Suppression:
    """Suppress SDK calls in this context (and tasks/threads started in it) until closed.

    ``owned`` (mutable until the call is made): only handlers of these classes are left out.
    """
    return Suppression(on_details, _innermost(), owned)


@contextmanager
def suppress(on_details: DetailsHook | None = None) -> Iterator[None]:
    """SDK calls in this block (and tasks/threads started in it) emit no callback events."""
    suppression = begin(on_details)
    try:
        yield
    finally:
        suppression.close()


def current(completion: dict[str, Any] | None = None) -> Suppression | None:
    """The innermost open suppression here, or None when calls are observed.

    ``completion``: a completions call's arguments, claimed by a suppression expecting it
    (see :meth:`Suppression.expect`) when none is open here.
    """
    entry = _innermost()
    if entry is None and completion is not None and _PENDING:
        return claim(completion)
    return entry


def claim(kwargs: dict[str, Any]) -> Suppression | None:
    """The open suppression(s) expecting this completions call's prompts (the first, if any)."""
    model, prompt = kwargs.get("model"), kwargs.get("prompt")
    prompts = [prompt] if isinstance(prompt, str) else prompt
    if not isinstance(model, str) or not isinstance(prompts, list):
        return None
    found = None
    with _pending_lock:
        for p in prompts:
            waiting = _PENDING.get((model, p)) if isinstance(p, str) else None
            if waiting:
                entry = waiting.pop(0)
                if not waiting:
                    del _PENDING[(model, p)]
                if found is None and entry.open:
                    found = entry
    return found


def active() -> tuple[DetailsHook | None] | None:
    """``(hook,)`` of the innermost open suppression here, or None when calls are observed."""
    entry = _innermost()
    return None if entry is None else (entry.hook,)


def report(hook: DetailsHook, operation: str, provider: str, base_url: str,
           kwargs: dict[str, Any], result: Any) -> Any:
    """Call ``hook`` with what the SDK layer knows of a call; its errors are logged only.

    Returns the result to hand to the framework: a stream comes back wrapped so
    that its first chunk completes the (already delivered) details dict in place
    with the response id and model, which only the chunks carry.
    """
    try:
        details = _details(operation, provider, base_url, kwargs, result)
    except Exception as exc:
        internal_error("details", exc)
        return result
    try:
        hook(details)
    except Exception:
        logger.warning("openai suppress() details hook failed", exc_info=True)
    if details["stream"] and "response_id" not in details:
        return peek(result, details)
    return result


def _details(operation: str, provider: str, base_url: str, kwargs: dict[str, Any],
             result: Any) -> dict[str, Any]:
    details: dict[str, Any] = {"operation": operation, "provider": provider,
                               "base_url": base_url, "stream": kwargs.get("stream") is True}
    parts = urlsplit(base_url)
    if parts.hostname:
        details["server.address"] = parts.hostname
        port = parts.port or {"https": 443, "http": 80}.get(parts.scheme)
        if port:
            details["server.port"] = port
    model = kwargs.get("model")
    if isinstance(model, str):
        details["request_model"] = model
    if hasattr(result, "http_response") and callable(getattr(result, "parse", None)):
        headers = result.headers  # with_raw_response: the framework parses it itself
        if not details["stream"]:
            result = result.parse()  # cached by the SDK: the framework's parse() gets the same
    else:
        headers = getattr(getattr(result, "response", None), "headers", None)  # a Stream
    for key, attr in (("response_id", "id"), ("response_model", "model"),
                      ("system_fingerprint", "system_fingerprint"),
                      ("request_id", "_request_id")):
        value = getattr(result, attr, None)
        if isinstance(value, str) and value:
            details[key] = value
    if "request_id" not in details and headers is not None:
        request_id = headers.get("x-request-id")
        if request_id:
            details["request_id"] = request_id
    return details
