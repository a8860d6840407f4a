"""Where calls are intercepted: the resource classes (global) or one client's resources.

Global instrumentation replaces the methods on the SDK's resource classes with
plain function wrappers (restored by ``uninstrument_openai``). ``wrap_openai``
sets wrappers on one client's resource *instances*; they call the unpatched
class method and add the global handlers themselves, so a call is seen once
however the two are combined.
"""

from __future__ import annotations

import functools
import importlib
import threading
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from openai import AsyncOpenAI, OpenAI

from otel_llm.instrumentation.openai._endpoints import ENDPOINTS, Endpoint
from otel_llm.instrumentation.openai._invoke import Settings, invoke_async, invoke_sync
from otel_llm.instrumentation.openai._stream_usage import StreamUsage

__all__ = ["instrument_openai", "instrumented_callbacks", "is_instrumented",
           "uninstrument_openai", "wrap_openai"]

_ORIGINAL = "__otel_llm_original__"
_lock = threading.Lock()
_global: Settings | None = None  # None: global instrumentation is off
_patched: dict[Endpoint, Callable[..., Any]] = {}  # endpoint -> the method we replaced

Client = TypeVar("Client", OpenAI, AsyncOpenAI)


def _class_of(endpoint: Endpoint) -> type[Any] | None:
    """The SDK class defining the endpoint's method; None where the installed SDK has none
    (``client.beta.responses`` is newer than the oldest openai we support)."""
    try:
        module = importlib.import_module(endpoint.module)
    except ImportError:
        return None
    cls = getattr(module, endpoint.cls, None)
    return cls if isinstance(cls, type) and endpoint.method in cls.__dict__ else None


def _unwrapped(method: Callable[..., Any]) -> Callable[..., Any]:
    """The method as it was before we patched it (ours are marked)."""
    original: Callable[..., Any] = getattr(method, _ORIGINAL, method)
    return original


def _class_wrapper(endpoint: Endpoint, original: Callable[..., Any]) -> Callable[..., Any]:
    if endpoint.is_async:
        # Not ``async def``: it returns the awaitable itself (as the SDK's own decorated
        # ``create`` does), so awaiting a call resumes one coroutine of ours per step,
        # not two.
        def method(self: Any, *args: Any, **kwargs: Any) -> Any:
            settings = _global
            if settings is None:
                return original(self, *args, **kwargs)
            return invoke_async(endpoint, original, self, args, kwargs, settings)
    else:
        def method(self: Any, *args: Any, **kwargs: Any) -> Any:
            settings = _global
            if settings is None:
                return original(self, *args, **kwargs)
            return invoke_sync(endpoint, original, self, args, kwargs, settings)
    functools.update_wrapper(method, original)
    setattr(method, _ORIGINAL, original)
    return method


def instrument_openai(callbacks: Sequence[Any] | None = None, *,
                      stream_usage: StreamUsage = True) -> None:
    """Send every OpenAI SDK call in this process to ``callbacks`` (and scoped handlers).

    Idempotent: calling again replaces the handlers and option, never wraps twice.
    ``stream_usage``: see :mod:`otel_llm.instrumentation.openai._stream_usage`.
    """
    global _global
    with _lock:
        _global = Settings(tuple(callbacks or ()), stream_usage)
        for endpoint in ENDPOINTS:
            if endpoint in _patched:
                continue
            cls = _class_of(endpoint)
            if cls is None:
                continue
            current = cls.__dict__[endpoint.method]
            _patched[endpoint] = current
            setattr(cls, endpoint.method, _class_wrapper(endpoint, current))


def uninstrument_openai() -> None:
    """Put the SDK's methods back; clients wrapped with :func:`wrap_openai` keep their handlers."""
    global _global
    with _lock:
        _global = None
        for endpoint, original in list(_patched.items()):
            cls = _class_of(endpoint)
            if cls is not None and getattr(cls.__dict__.get(endpoint.method), _ORIGINAL,
                                           None) is original:
                setattr(cls, endpoint.method, original)
            # else someone wrapped on top of us: leave theirs; ours now passes calls through
            del _patched[endpoint]


def is_instrumented() -> bool:
    return _global is not None


def instrumented_callbacks() -> tuple[Any, ...]:
    """The handlers :func:`instrument_openai` sends every call to (``()`` when it is off).

    ``otel_llm.workflow/agent/tool`` runs go to them too, so a plain-Python app's
    decorated functions and their SDK calls land in the same handlers.
    """
    settings = _global
    return settings.handlers if settings is not None else ()


def _instance_wrapper(endpoint: Endpoint, resource: Any, settings: Settings
                      ) -> Callable[..., Any]:
    cls = type(resource)
    name = endpoint.method
    if endpoint.is_async:
        async def method(*args: Any, **kwargs: Any) -> Any:
            original = _unwrapped(getattr(cls, name))
            both = settings if _global is None else _global.plus(settings)
            return await invoke_async(endpoint, original, resource, args, kwargs, both)
    else:
        def method(*args: Any, **kwargs: Any) -> Any:  # type: ignore[misc]
            original = _unwrapped(getattr(cls, name))
            both = settings if _global is None else _global.plus(settings)
            return invoke_sync(endpoint, original, resource, args, kwargs, both)
    functools.update_wrapper(method, _unwrapped(getattr(cls, name)))
    return method


def wrap_openai(client: Client, callbacks: Sequence[Any] | None = None, *,
                stream_usage: StreamUsage = True) -> Client:
    """Send this client's calls to ``callbacks`` too (as constructor callbacks); returns it.

    Works with or without :func:`instrument_openai`, never doubling events.
    Wrapping again replaces the handlers. Copies made with ``client.with_options()``
    are new clients and are not wrapped.
    """
    settings = Settings(tuple(callbacks or ()), stream_usage)
    is_async = isinstance(client, AsyncOpenAI)
    for endpoint in ENDPOINTS:
        if endpoint.is_async != is_async:
            continue
        cls = _class_of(endpoint)
        if cls is None:
            continue
        resource: Any = client
        for attr in endpoint.resource:
            resource = getattr(resource, attr)
        if not isinstance(resource, cls):
            continue
        attrs = vars(resource)
        attrs[endpoint.method] = _instance_wrapper(endpoint, resource, settings)
        # The SDK caches a resource's raw-response wrappers, bound to the method as it was
        # when first used: drop them so they are rebuilt around the wrapper just set.
        attrs.pop("with_raw_response", None)
        attrs.pop("with_streaming_response", None)
    return client
