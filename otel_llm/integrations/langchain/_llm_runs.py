"""What a LangChain LLM run needs beyond LangChain's events, once per run for all its recorders.

Our handlers are LangChain handlers: LangChain's managers call them directly.
The handlers that *record* LLM runs (the OpenTelemetry handler, the token
counter) need three things LangChain's events do not carry, and they must be
the same for every recorder of the run (an OTel handler and two nested counters
on one run compute them once and agree):

- at the start, the endpoint (``invocation_params["base_url"]``, for
  ``server.address``/``server.port``): from the model's constructor arguments
  (``base_url=``, ``openai_api_base=``, ``azure_endpoint=``) or, for OpenAI
  models given none, where the OpenAI SDK takes it from (``OPENAI_API_BASE``
  as langchain-openai reads it, ``OPENAI_BASE_URL``, the SDK's default);
- ownership of the run's OpenAI SDK calls (:mod:`._ownership`), opened by the
  first recorder's start in the caller's context (recorders are ``run_inline``);
- at the end, ``llm_output`` completed (:mod:`._results`: usage from
  ``usage_metadata``, the tiktoken estimate of a stream without usage, the SDK's
  details), computed by the first recorder to see the end and shared.

Events from LangChain are told from those of our own managers (the OpenAI SDK
layer, which already carries all of this) by ``serialized``: LangChain's
serialization format always has an ``"lc"`` key. Nothing here raises into
LangChain: the recorders call it inside their own guards.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping
from typing import Any
from uuid import UUID

from otel_llm import semconv
from otel_llm.integrations.langchain import _ownership
from otel_llm.integrations.langchain._results import ESTIMATED_PROVIDERS, LLMRequest, completed
from otel_llm.schema import LS_MODEL_NAME
from otel_llm.telemetry.attributes import provider_name

__all__ = ["MAX_OPEN_RUNS", "end", "fail", "from_langchain", "open_runs", "start"]

MAX_OPEN_RUNS = 10_000
_OPENAI_DEFAULT_BASE_URL = "https://api.openai.com/v1"  # the openai SDK's default


class _Run:
    __slots__ = ("kwargs", "recorders", "request", "result", "slot")

    def __init__(self, kwargs: dict[str, Any]) -> None:
        self.kwargs = kwargs
        self.recorders = 0  # started and not yet ended or failed
        self.slot: _ownership.CallSlot | None = None
        self.request: LLMRequest | None = None
        self.result: tuple[Any, Any] | None = None  # (LangChain's response, completed copy)


_runs: dict[UUID, _Run] = {}
_lock = threading.Lock()


def from_langchain(serialized: Any) -> bool:
    """Whether a start event comes from LangChain's managers (its serialization format)."""
    return type(serialized) is dict and "lc" in serialized


def open_runs() -> int:
    return len(_runs)


def start(recorder: Any, run_id: UUID, chat: bool, serialized: dict[str, Any], inputs: Any,
          kwargs: dict[str, Any]) -> dict[str, Any]:
    """An LLM run's start as ``recorder`` sees it: the start kwargs, with the endpoint added."""
    with _lock:
        run = _runs.get(run_id)
        if run is None:
            run = _runs[run_id] = _open(chat, serialized, inputs, kwargs)
            evicted = _runs.pop(next(iter(_runs))) if len(_runs) > MAX_OPEN_RUNS else None
        else:
            evicted = None
        run.recorders += 1
        if run.slot is not None:
            run.slot.owned.add(type(recorder))
    if evicted is not None and evicted.slot is not None:
        evicted.slot.close()
    return run.kwargs


def _open(chat: bool, serialized: dict[str, Any], inputs: Any,
          kwargs: dict[str, Any]) -> _Run:
    params = kwargs.get("invocation_params")
    params = params if isinstance(params, Mapping) else {}
    metadata = kwargs.get("metadata") or {}
    provider = provider_name(metadata, params)
    if not params.get("base_url"):
        base_url = _ownership.base_url_of(serialized) or _sdk_default(provider)
        if base_url:
            params = {**params, "base_url": base_url}
            kwargs = {**kwargs, "invocation_params": params}
    run = _Run(kwargs)
    model = params.get("model") or params.get("model_name") or metadata.get(LS_MODEL_NAME)
    model = model if isinstance(model, str) else None
    if _ownership.available():
        run.slot = _ownership.CallSlot()
        if not chat and model and inputs and isinstance(inputs[0], str):
            run.slot.expect(model, inputs[0])
    if inputs and provider in ESTIMATED_PROVIDERS:
        run.request = LLMRequest(chat, inputs[0], model, params.get("tools") or None,
                                 params.get("tool_choice"))
    return run


def _sdk_default(provider: str | None) -> str | None:
    """Where an OpenAI model given no endpoint sends its calls (as langchain-openai and the SDK
    decide it); Azure models always serialize theirs."""
    if provider != semconv.PROVIDER_OPENAI:
        return None
    return (os.environ.get("OPENAI_API_BASE") or os.environ.get("OPENAI_BASE_URL")
            or _OPENAI_DEFAULT_BASE_URL)


def _finish(run_id: UUID | None) -> _Run | None:
    """One recorder is done with the run; the last one closes its SDK ownership."""
    if run_id is None:
        return None
    with _lock:
        run = _runs.get(run_id)
        if run is None:
            return None
        run.recorders -= 1
        last = run.recorders <= 0
        if last:
            del _runs[run_id]
    if last and run.slot is not None:
        run.slot.close()
    return run


def end(run_id: UUID, response: Any) -> Any:
    """The ``LLMResult`` a recorder records: LangChain's, with ``llm_output`` completed."""
    run = _finish(run_id)
    if run is None or (run.request is None and run.slot is None):
        return response
    cached = run.result
    if cached is not None and cached[0] is response:
        return cached[1]
    details = run.slot.details if run.slot is not None else None
    out = completed(response, run.request, details)
    run.result = (response, out)
    return out


def fail(run_id: UUID) -> None:
    _finish(run_id)
