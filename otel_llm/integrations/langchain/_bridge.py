"""LangChain events -> the events our handlers get: the logic both forwarders share.

Each method takes a LangChain hook's arguments and returns what to dispatch
(``Dispatch``: the plan of the run's handlers for the event, and the
arguments), or None when no handler listens. The forwarders only run that
with ``run_sync`` or ``run_async``: our dispatch machinery does the per-handler
error isolation, the chat -> ``on_llm_start`` fallback and async handlers.

LangChain's objects (messages, ``LLMResult``, ``ChatGenerationChunk``,
``Document``, ``ToolMessage``) are passed through as they are: our handlers
read them by duck typing. Only two things are added:

- at an LLM run's start, ``invocation_params["base_url"]`` from the model's
  serialized constructor arguments (so server attributes are known at start),
  and the :class:`CallSlot` that silences the OpenAI SDK layer for the run;
- at its end, a copy of the ``LLMResult`` with ``llm_output`` completed
  (usage, model, SDK details; see ``_results``).

The bookkeeping never raises into LangChain: a failure of ours is logged once
per place and the event still reaches the handlers unchanged.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple
from uuid import UUID

from otel_llm.callbacks import _dispatch as d
from otel_llm.integrations.langchain import _ownership
from otel_llm.integrations.langchain._results import (
    ESTIMATED_PROVIDERS,
    LLMRequest,
    completed,
)
from otel_llm.integrations.langchain._runs import RunState, RunTable
from otel_llm.schema import LS_MODEL_NAME
from otel_llm.telemetry.attributes import provider_name

__all__ = ["Bridge", "Dispatch"]

logger = logging.getLogger("otel_llm.integrations.langchain")
_reported: set[str] = set()


class Dispatch(NamedTuple):
    plan: d.Plan
    event: d.Event
    args: tuple[Any, ...]
    kwargs: dict[str, Any]


def _internal_error(where: str, exc: BaseException) -> None:
    """A bug of ours: logged with its traceback once per place; the run goes on."""
    if where in _reported:
        logger.debug("otel-llm LangChain bridge failed again in %s: %r", where, exc)
        return
    _reported.add(where)
    logger.warning("otel-llm LangChain bridge failed in %s; events go on unchanged", where,
                   exc_info=exc)


def _dispatch(state_handlers: d.HandlerSet, event: d.Event, args: tuple[Any, ...],
              kwargs: dict[str, Any]) -> Dispatch | None:
    plan = state_handlers.plan(event)
    return Dispatch(plan, event, args, kwargs) if plan.calls else None


class Bridge:
    """The per-forwarder state: its handlers and open runs."""

    def __init__(self, callbacks: Sequence[Any]) -> None:
        self.handlers = tuple(callbacks)
        self.runs = RunTable(self.handlers)

    # --- starts ---------------------------------------------------------------------
    def start(self, event: d.Event, args: tuple[Any, ...],
              kwargs: dict[str, Any]) -> Dispatch | None:
        """A run starts; an LLM or chat-model run takes ownership of its SDK calls."""
        try:
            state = self.runs.start(kwargs["run_id"])
        except Exception as exc:
            _internal_error("start", exc)
            return _dispatch(self.runs.current(), event, args, kwargs)
        if event is d.CHAT_MODEL_START or event is d.LLM_START:
            try:
                kwargs = self._open_llm(state, event is d.CHAT_MODEL_START, args, kwargs)
            except Exception as exc:
                _internal_error("llm start", exc)
        return _dispatch(state.handlers, event, args, kwargs)

    def _open_llm(self, state: RunState, chat: bool, args: tuple[Any, ...],
                  kwargs: dict[str, Any]) -> dict[str, Any]:
        serialized, inputs = args[0], args[1]
        params = kwargs.get("invocation_params")
        params = params if isinstance(params, Mapping) else {}
        base_url = _ownership.base_url_of(serialized)
        if base_url and not params.get("base_url"):
            params = {**params, "base_url": base_url}
            kwargs = {**kwargs, "invocation_params": params}
        if not (state.handlers.plan(d.LLM_END).calls or state.handlers.plan(d.LLM_ERROR).calls):
            return kwargs  # nobody records this run: the SDK layer may
        state.slot = _ownership.CallSlot()
        metadata = kwargs.get("metadata") or {}
        if inputs and provider_name(metadata, params) in ESTIMATED_PROVIDERS:
            model = params.get("model") or params.get("model_name") or metadata.get(LS_MODEL_NAME)
            state.request = LLMRequest(
                chat, inputs[0], model if isinstance(model, str) else None,
                params.get("tools") or None, params.get("tool_choice"),
            )
        return kwargs

    def abort(self, run_id: UUID | None) -> None:
        """A start's dispatch raised (a ``raise_error`` handler): LangChain ends nothing."""
        self.runs.end(run_id)

    # --- events within a run ------------------------------------------------------------
    def event(self, event: d.Event, args: tuple[Any, ...],
              kwargs: dict[str, Any]) -> Dispatch | None:
        state = self.runs.get(kwargs.get("run_id"))
        return _dispatch(state.handlers if state is not None else self.runs.current(),
                         event, args, kwargs)

    def token(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Dispatch | None:
        state = self.runs.get(kwargs.get("run_id"))
        if state is None:
            return _dispatch(self.runs.current(), d.LLM_NEW_TOKEN, args, kwargs)
        state.tokens = True
        plan = state.handlers.plan(d.LLM_NEW_TOKEN)
        return Dispatch(plan, d.LLM_NEW_TOKEN, args, kwargs) if plan.calls else None

    def stream_event(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Dispatch | None:
        """``stream_events(version="v3")``: a content delta of a model that streams events
        natively (no ``on_llm_new_token`` for the run) counts as a token."""
        data = args[0] if args else None
        if not isinstance(data, Mapping) or data.get("event") != "content-block-delta":
            return None
        state = self.runs.get(kwargs.get("run_id"))
        if state is None or state.tokens:
            return None
        delta = data.get("delta")
        text = delta.get("text") if isinstance(delta, Mapping) else None
        token = text if isinstance(text, str) else ""
        plan = state.handlers.plan(d.LLM_NEW_TOKEN)
        kw = {"chunk": None, **kwargs}
        return Dispatch(plan, d.LLM_NEW_TOKEN, (token,), kw) if plan.calls else None

    # --- ends -----------------------------------------------------------------------------
    def end(self, event: d.Event, args: tuple[Any, ...],
            kwargs: dict[str, Any]) -> Dispatch | None:
        """A run ends or fails (for LLM runs: their SDK suppression is closed)."""
        try:
            state = self.runs.end(kwargs.get("run_id"))
        except Exception as exc:
            _internal_error("end", exc)
            state = None
        return _dispatch(state.handlers if state is not None else self.runs.current(),
                         event, args, kwargs)

    def llm_end(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Dispatch | None:
        try:
            state = self.runs.end(kwargs.get("run_id"))
        except Exception as exc:
            _internal_error("llm end", exc)
            state = None
        if state is None:
            return _dispatch(self.runs.current(), d.LLM_END, args, kwargs)
        if args and (state.request is not None or state.slot is not None):
            try:
                details = state.slot.details if state.slot is not None else None
                args = (completed(args[0], state.request, details), *args[1:])
            except Exception as exc:
                _internal_error("llm result", exc)
        return _dispatch(state.handlers, d.LLM_END, args, kwargs)
