"""One instrumented SDK call, sync or async: prepare, start, call the SDK, end or wrap the stream.

Preparing is ours and guarded: if it fails, or no handler would listen, the
SDK is called exactly as the caller asked. The SDK's exceptions reach the
caller unchanged (same object), after ``on_llm_error``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from openai import AsyncStream, Stream
from openai.lib.azure import BaseAzureClient

from otel_llm.callbacks import AsyncCallbackManager, CallbackManager
from otel_llm.callbacks._dispatch import handler_set
from otel_llm.callbacks.context import scoped_handlers
from otel_llm.instrumentation.openai import _suppress
from otel_llm.instrumentation.openai._call import Call, internal_error
from otel_llm.instrumentation.openai._endpoints import Endpoint
from otel_llm.instrumentation.openai._providers import provider_for
from otel_llm.instrumentation.openai._raw import observe_async, observe_sync, raw_mode
from otel_llm.instrumentation.openai._request import Request
from otel_llm.instrumentation.openai._runs import AsyncRun, SyncRun
from otel_llm.instrumentation.openai._stream_usage import (
    StreamUsage,
    known_to_accept,
    needs_probe,
    probe,
)
from otel_llm.instrumentation.openai._streams import TracedAsyncStream, TracedStream

__all__ = ["Settings", "invoke_async", "invoke_sync"]

# Set while an observed call runs the SDK method: a second wrapper of ours met further down
# (another library's wrapper between a client wrapper and a class wrapper) passes through.
_OBSERVING: ContextVar[bool] = ContextVar("otel_llm_openai_observing", default=False)

@dataclass(frozen=True, slots=True)
class Settings:
    """Who listens to a call and whether its stream may be asked for usage."""

    handlers: tuple[Any, ...]
    stream_usage: StreamUsage = True
    # Holding the handlers' interned HandlerSet keeps its per-event plans between calls
    # (runs are short: without a holder the set, and its plans, die with every call).
    _plans: Any = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_plans", handler_set(self.handlers))

    def plus(self, other: Settings) -> Settings:
        """``other``'s handlers added to ours; ``other`` (the narrower scope) sets stream_usage."""
        return Settings((*self.handlers, *other.handlers), other.stream_usage)


@dataclass(slots=True)
class _Prepared:
    call: Call
    manager: Any
    event: tuple[dict[str, Any], list[Any], dict[str, Any]]
    kwargs: dict[str, Any]
    hide_usage: bool
    raw: bool  # with_raw_response / with_streaming_response: the SDK's response object comes back


#: ``id(client) -> (its base_url object, str of it, is Azure)``. Holding the URL object
#: keeps its id from being reused, so an identity match proves the entry is current
#: (``client.base_url = ...`` makes a new object).
_WHERE: dict[int, tuple[Any, str, bool]] = {}


def _where(resource: Any) -> tuple[str, bool]:
    """``(base URL, is Azure)`` of the resource's client, rendered once per URL."""
    client = resource._client  # the SDK keeps no public link from a resource to its client
    url = client.base_url
    hit = _WHERE.get(id(client))
    if hit is not None and hit[0] is url:
        return hit[1], hit[2]
    if len(_WHERE) >= 256:
        _WHERE.clear()
    entry = _WHERE[id(client)] = (url, str(url), isinstance(client, BaseAzureClient))
    return entry[1], entry[2]


def _prepare(endpoint: Endpoint, kwargs: dict[str, Any], settings: Settings,
             manager_cls: type[Any], base_url: str, azure: bool,
             owned: set[type] | None, stream: bool) -> _Prepared | None:
    manager = manager_cls.configure(None, list(settings.handlers))
    if owned:  # a framework run serves these classes already (partial suppression)
        manager.set_handlers([h for h in manager.handlers if type(h) not in owned])
    if not manager.handlers:
        return None
    kind = endpoint.kind
    hide_usage = False
    raw = raw_mode(kwargs)  # its caller reads the bytes: the request is sent untouched
    if kind == "chat" and stream and not raw:
        given = kwargs.get("stream_options")
        options: dict[str, Any] = dict(given) if isinstance(given, Mapping) else {}
        if "include_usage" not in options and known_to_accept(settings.stream_usage, azure,
                                                              base_url):
            kwargs = {**kwargs, "stream_options": {**options, "include_usage": True}}
            hide_usage = True
    request = Request(endpoint, kwargs, base_url, provider_for(base_url, azure))
    manager.add_metadata(request.metadata(), inherit=False)
    call = Call(request)
    event = call.start_event(manager.reads_inputs(call.is_chat))
    return _Prepared(call, manager, event, kwargs, hide_usage, raw)


def _materialized(kwargs: dict[str, Any]) -> dict[str, Any]:
    """Messages given as a one-shot iterable, read once for both us and the SDK."""
    messages = kwargs.get("messages")
    if messages is None or isinstance(messages, list | tuple):
        return kwargs
    return {**kwargs, "messages": list(messages)}


def _report_suppressed(suppression: _suppress.Suppression, endpoint: Endpoint, resource: Any,
                       kwargs: dict[str, Any], result: Any) -> Any:
    """A framework-owned call's result, its details handed to the framework's hook."""
    hook = suppression.hook
    if hook is None:
        return result
    try:
        base_url, azure = _where(resource)
    except Exception as exc:
        internal_error("details", exc)
        return result
    return _suppress.report(hook, endpoint.operation,
                            provider_for(base_url, azure), base_url, kwargs, result)


def _ownership(endpoint: Endpoint, kwargs: dict[str, Any], settings: Settings
               ) -> tuple[_suppress.Suppression | None, set[type] | None]:
    """``(suppression, None)`` when a framework run serves every handler here (the call is
    left alone), ``(None, classes to leave out)`` when it serves some, ``(None, None)`` else."""
    suppression = _suppress.current(kwargs if endpoint.kind == "completions" else None)
    if suppression is None:
        return None, None
    owned = suppression.owned
    if owned is not None:
        for h in (*settings.handlers, *scoped_handlers()):
            if type(h) not in owned:
                return None, owned
    return suppression, None


def invoke_sync(endpoint: Endpoint, original: Callable[..., Any], resource: Any,
                args: tuple[Any, ...], kwargs: dict[str, Any], settings: Settings) -> Any:
    if _OBSERVING.get():
        return original(resource, *args, **kwargs)
    if type(kwargs.get("messages")) is not list:  # the usual case needs no copy
        kwargs = _materialized(kwargs)
    suppression, owned = _ownership(endpoint, kwargs, settings)
    if suppression is not None:
        result = original(resource, *args, **kwargs)
        return _report_suppressed(suppression, endpoint, resource, kwargs, result)
    try:
        base_url, azure = _where(resource)
        prepared = _prepare(endpoint, kwargs, settings, CallbackManager, base_url, azure, owned,
                            kwargs.get("stream") is True)
    except Exception as exc:
        internal_error("start", exc)
        prepared = None
    if prepared is None:
        return original(resource, *args, **kwargs)
    run = SyncRun(prepared.call)
    run.start(prepared.manager, prepared.event)
    observing = _OBSERVING.set(True)
    try:
        result = original(resource, *args, **prepared.kwargs)
    except BaseException as exc:
        run.fail(exc)
        raise
    finally:
        _OBSERVING.reset(observing)
    if prepared.raw:
        try:
            observe_sync(result, run)
        except Exception as exc:
            internal_error("raw", exc)
            run.end()
        return result
    if isinstance(result, Stream):
        try:
            prepared.call.open_stream(prepared.hide_usage)
            return TracedStream(result, run)
        except Exception as exc:
            internal_error("stream", exc)
            run.end()
            return result
    run.end(result)
    return result


async def invoke_async(endpoint: Endpoint, original: Callable[..., Any], resource: Any,
                       args: tuple[Any, ...], kwargs: dict[str, Any], settings: Settings) -> Any:
    if _OBSERVING.get():
        return await original(resource, *args, **kwargs)
    if type(kwargs.get("messages")) is not list:  # the usual case needs no copy
        kwargs = _materialized(kwargs)
    suppression, owned = _ownership(endpoint, kwargs, settings)
    if suppression is not None:
        result = await original(resource, *args, **kwargs)
        return _report_suppressed(suppression, endpoint, resource, kwargs, result)
    try:
        base_url, azure = _where(resource)
        stream = kwargs.get("stream") is True
        if stream and needs_probe(settings.stream_usage, azure, base_url):
            await asyncio.to_thread(probe, base_url)  # once per base URL, off the event loop
        prepared = _prepare(endpoint, kwargs, settings, AsyncCallbackManager, base_url,
                            azure, owned, stream)
    except Exception as exc:
        internal_error("start", exc)
        prepared = None
    if prepared is None:
        return await original(resource, *args, **kwargs)
    run = AsyncRun(prepared.call)
    await run.start(prepared.manager, prepared.event)
    observing = _OBSERVING.set(True)
    try:
        result = await original(resource, *args, **prepared.kwargs)
    except BaseException as exc:
        await run.fail(exc)
        raise
    finally:
        _OBSERVING.reset(observing)
    if prepared.raw:
        try:
            await observe_async(result, run)
        except Exception as exc:
            internal_error("raw", exc)
            await run.end()
        return result
    if isinstance(result, AsyncStream):
        try:
            prepared.call.open_stream(prepared.hide_usage)
            return TracedAsyncStream(result, run)
        except Exception as exc:
            internal_error("stream", exc)
            await run.end()
            return result
    await run.end(result)
    return result
