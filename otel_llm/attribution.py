"""``otel_llm.attributes(...)``: who and what a block of work is for, on every span started in it.

::

    with otel_llm.attributes(conversation_id="c-42", user_id="u-7", **{"app.feature": "search"}):
        client.chat.completions.create(...)      # its span carries all three

The values ride on the callbacks' scope stack (:mod:`otel_llm.callbacks.context`),
so they reach runs started in nested calls, asyncio tasks and threads begun in
the block, and stop at its end, also when the body raises. Nested blocks merge,
the inner value winning. Bad values are refused at the call with ``TypeError`` /
``ValueError``: a handler must never meet them later.

The OpenTelemetry handler reads them when a run starts (:func:`for_run`); a
run's children inherit its values. LangChain/LangGraph runs name their
conversation in ``metadata`` (LangGraph copies the checkpointer's ``thread_id``
there) or in the config's ``configurable``: ``conversation_id``, ``thread_id`` or
``session_id`` become ``gen_ai.conversation.id``.

Across services, on request: with :func:`propagate_in_baggage` (or
``OTEL_LLM_ATTRIBUTES_BAGGAGE=true``, or ``configure(attributes_in_baggage=True)``)
a block also puts its values into W3C baggage, which OpenTelemetry's HTTP
instrumentations send downstream; a service with the option on takes every
baggage entry of the current context as an attribute (values arrive as
strings). Off by default: baggage leaves the process, and whoever is downstream
reads it.
"""

from __future__ import annotations

import functools
import inspect
import math
import os
import sys
import threading
from collections.abc import Callable, Mapping
from typing import Any, TypeVar, cast

from opentelemetry import baggage
from opentelemetry import context as otel_context

from otel_llm import semconv
from otel_llm.callbacks.context import Scope, enter_scope, exit_scope, scoped_attributes
from otel_llm.settings import ATTRIBUTES_BAGGAGE

__all__ = [
    "CONVERSATION_METADATA_KEYS",
    "AttributeValue",
    "Attributes",
    "attributes",
    "current",
    "for_run",
    "propagate_in_baggage",
]

AttributeValue = str | int | float | bool
F = TypeVar("F", bound=Callable[..., Any])

#: Run metadata keys naming the conversation, in order of preference (LangGraph: ``thread_id``).
CONVERSATION_METADATA_KEYS = ("conversation_id", "thread_id", "session_id")
_CONVERSATION_KEYS = frozenset(CONVERSATION_METADATA_KEYS)

_EMPTY: Mapping[str, Any] = {}
_baggage_on: bool | None = None  # None: not decided yet, read the environment once


def propagate_in_baggage(enabled: bool) -> None:
    """Also put block values into W3C baggage, and read baggage entries as attributes.

    Process-wide; overrides ``OTEL_LLM_ATTRIBUTES_BAGGAGE``.
    """
    global _baggage_on
    _baggage_on = bool(enabled)


def _baggage_enabled() -> bool:
    global _baggage_on
    if _baggage_on is None:
        _baggage_on = os.environ.get(ATTRIBUTES_BAGGAGE, "").strip().lower() in ("1", "true",
                                                                                 "yes", "on")
    return _baggage_on


def _checked(key: str, value: Any) -> AttributeValue:
    if not isinstance(key, str) or not key.strip():
        raise ValueError(f"otel_llm.attributes: attribute names must be non-empty strings, "
                         f"got {key!r}")
    if not isinstance(value, str | int | float | bool):
        raise TypeError(f"otel_llm.attributes: {key} must be a str, int, float or bool, "
                        f"got {type(value).__name__}")
    if isinstance(value, str) and not value.strip():
        raise ValueError(f"otel_llm.attributes: {key} must not be empty")
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"otel_llm.attributes: {key} must be finite, got {value!r}")
    return value


def attributes(conversation_id: AttributeValue | None = None,
               user_id: AttributeValue | None = None,
               session_id: AttributeValue | None = None,
               **extra: AttributeValue) -> Attributes:
    """A block (``with``) or decorator (sync and async functions) whose runs carry these values.

    ``conversation_id`` -> ``gen_ai.conversation.id``, ``user_id`` -> ``user.id``,
    ``session_id`` -> ``session.id``; ``extra`` keys are used as given
    (``**{"app.feature": "search"}``). ``None`` leaves a value to the enclosing block.
    """
    values: dict[str, AttributeValue] = {}
    for key, value in ((semconv.GEN_AI_CONVERSATION_ID, conversation_id),
                       (semconv.USER_ID, user_id), (semconv.SESSION_ID, session_id)):
        if value is not None:
            values[key] = _checked(key, value)
    for key, value in extra.items():
        values[key] = _checked(key, value)
    return Attributes(values)


class Attributes:
    """What :func:`attributes` returns: enter it, or decorate a function with it.

    One object may be entered many times at once (threads, tasks, recursion):
    each entry is its own scope, and leaving closes the innermost one of this
    context.
    """

    __slots__ = ("_entries", "_lock", "values")

    def __init__(self, values: Mapping[str, AttributeValue]) -> None:
        self.values = dict(values)
        self._entries: list[tuple[Scope, object]] = []
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"otel_llm.attributes({self.values!r})"

    def __enter__(self) -> Attributes:
        entry = self._open()
        with self._lock:
            self._entries.append(entry)
        return self

    def __exit__(self, *exc_info: object) -> None:
        here = scoped_attributes()
        with self._lock:
            entries = self._entries
            # This context's innermost entry of ours, else (left from another context,
            # e.g. a generator closed elsewhere) the latest.
            index = next((i for i in range(len(entries) - 1, -1, -1)
                          if entries[i][0].attributes is here), len(entries) - 1)
            entry = entries.pop(index) if entries else None
        if entry is not None:
            self._close(entry)

    def _open(self) -> tuple[Scope, object]:
        merged = {**scoped_attributes(), **self.values}
        token: object = None
        if self.values and _baggage_enabled():
            ctx = otel_context.get_current()
            for key, value in self.values.items():
                ctx = baggage.set_baggage(key, str(value), ctx)
            token = otel_context.attach(ctx)
        return enter_scope(Scope(attributes=merged)), token

    @staticmethod
    def _close(entry: tuple[Scope, object]) -> None:
        scope, token = entry
        exit_scope(scope)
        if token is not None:
            otel_context.detach(token)  # type: ignore[arg-type]

    def __call__(self, fn: F) -> F:
        """Decorate ``fn``: each call (each await of a coroutine function) runs in a block."""
        if inspect.iscoroutinefunction(fn):
            @functools.wraps(fn)
            async def run_async(*args: Any, **kwargs: Any) -> Any:
                with self:
                    return await fn(*args, **kwargs)
            return cast(F, run_async)

        @functools.wraps(fn)
        def run(*args: Any, **kwargs: Any) -> Any:
            with self:
                return fn(*args, **kwargs)
        return cast(F, run)


def current() -> Mapping[str, AttributeValue]:
    """The values in effect here: the innermost block's (merged), over baggage when enabled."""
    scoped = scoped_attributes()
    if _baggage_on is False or (_baggage_on is None and not _baggage_enabled()):
        return scoped
    entries = baggage.get_all()
    if not entries:
        return scoped
    return {**{k: v for k, v in entries.items() if isinstance(v, str)}, **scoped}


def for_run(metadata: Mapping[str, Any] | None,
            inherited: Mapping[str, Any] | None) -> Mapping[str, Any]:
    """A starting run's values: its parent's, under the block's, under its own metadata's
    (or else the ``configurable`` of the LangChain config it runs in).

    The metadata's conversation key wins: it names this run (LangGraph's thread).
    """
    values = current()
    if inherited:
        values = {**inherited, **values}
    conversation = None
    # Most runs' metadata has none of the keys: one set operation says so (dict keys).
    if metadata and (type(metadata) is not dict or not _CONVERSATION_KEYS.isdisjoint(metadata)):
        conversation = _conversation_in(metadata)
    if conversation is None and _LANGCHAIN_CONFIG in sys.modules:
        conversation = _configured_conversation()
    if conversation is not None:
        return {**values, semconv.GEN_AI_CONVERSATION_ID: conversation}
    return values if values else _EMPTY


def _conversation_in(mapping: Mapping[str, Any]) -> str | None:
    for key in CONVERSATION_METADATA_KEYS:
        conversation = mapping.get(key)
        if isinstance(conversation, str | int) and not isinstance(conversation, bool) \
                and str(conversation):
            return str(conversation)
    return None


_LANGCHAIN_CONFIG = "langchain_core.runnables.config"


def _configured_conversation() -> str | None:
    """``thread_id`` / ``session_id`` / ``conversation_id`` in ``config["configurable"]``.

    LangChain hands callbacks the config's metadata but not its ``configurable``
    (LangGraph copies ``thread_id`` into the metadata; plain runnables do not).
    A run started inside a runnable finds that config in LangChain's context
    variable, ``configurable`` included; the outermost run starts before it is
    set, and takes the id from its first child (see the handler).
    """
    config = getattr(sys.modules[_LANGCHAIN_CONFIG], "var_child_runnable_config", None)
    configured = config.get(None) if config is not None else None
    configurable = configured.get("configurable") if isinstance(configured, dict) else None
    if not configurable or not isinstance(configurable, Mapping):
        return None
    return _conversation_in(configurable)
