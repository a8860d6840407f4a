"""One owner per model call: an open LangChain LLM run silences the OpenAI SDK layer.

While a run is open, the SDK calls ``ChatOpenAI`` makes for it do not reach the
SDK layer's handlers of the classes that record the LangChain run (no second
span, no tokens counted twice; the SDK layer's other handlers still see them);
the SDK layer hands the run what only it sees (server address, response id and
model) through a details hook when the run serves every handler there.

The run opens its :class:`CallSlot` in its first recording handler's
``on_chat_model_start``, which LangChain calls in the caller's context for
``run_inline`` handlers, so the SDK call that follows sees it (tasks and
threads started for it copy the context). The run
often ends in another context (``agenerate`` ends runs in ``asyncio.gather``
tasks, v3 streams in a producer task): closing the slot works from anywhere,
and a closed slot left in a context no longer suppresses anything.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["CallSlot", "available", "base_url_of"]

_suppress: Any
try:  # the SDK layer exists only with the ``openai`` extra
    from otel_llm.instrumentation.openai import _suppress
except ImportError:  # pragma: no cover - langchain without openai
    _suppress = None

# Constructor fields of LangChain's OpenAI models that hold the endpoint, in order of preference.
_ENDPOINT_FIELDS = ("openai_api_base", "base_url", "azure_endpoint")


def available() -> bool:
    return _suppress is not None


class CallSlot:
    """The SDK details of one LLM run, and the suppression that keeps them away from the SDK layer.

    ``generate()`` with several message lists opens all its runs before the
    first SDK call and makes the calls in order, so a call's details go to the
    oldest open slot of this context still waiting for some.
    """

    __slots__ = ("_suppression", "details", "open", "owned", "prev")

    def __init__(self) -> None:
        self.details: dict[str, Any] | None = None
        self.open = True
        self.prev: CallSlot | None = None
        self.owned: set[type] = set()  # classes of the run's recording handlers
        self._suppression: Any = None
        if _suppress is None:
            return
        current = _suppress.active()
        hook = current[0] if current is not None else None
        if isinstance(hook, CallSlot) and hook.open:
            self.prev = hook
        self._suppression = _suppress.begin(self, self.owned)

    def __call__(self, details: dict[str, Any]) -> None:
        """The SDK layer's details hook: called once per suppressed SDK call."""
        target = self if self.details is None else None
        slot = self.prev
        while slot is not None:
            if slot.open and slot.details is None:
                target = slot
            slot = slot.prev
        if target is not None:
            target.details = details

    def expect(self, model: str, prompt: str) -> None:
        """The text completion this run will make, for a run started outside the caller's
        context (``BaseLLM.agenerate`` starts runs in tasks of its own)."""
        if self._suppression is not None:
            self._suppression.expect(model, prompt)

    def close(self) -> None:
        self.open = False
        if self._suppression is not None:
            self._suppression.close()


def base_url_of(serialized: Mapping[str, Any] | None) -> str | None:
    """The API endpoint a LangChain OpenAI model was configured with, if any (known at start)."""
    kwargs = serialized.get("kwargs") if isinstance(serialized, Mapping) else None
    if not isinstance(kwargs, Mapping):
        return None
    for field in _ENDPOINT_FIELDS:
        value = kwargs.get(field)
        if isinstance(value, str) and value:
            return value
    return None
