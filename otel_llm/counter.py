"""The token and cost counter of the LangChain callbacks tutorial: ``get_openai_callback()``.

A handler scoped to the block with :func:`otel_llm.callbacks.scoped_callbacks`,
so it counts every LLM run started inside it: in nested calls, asyncio tasks
(``asyncio.gather``) and threads started there, LangChain's runs included with
no setup (the scope registers with LangChain's configure hook on first use, as
LangChain's own counter does; a LangChain run's SDK calls are not counted again
when ``instrument_openai()`` is on). Nested counters each count
their own block (the outer one includes the inner). Leaving the block closes
the counter even when the block raised; later events are ignored.

Usage comes from the provider when it reported some, else from the estimate
the instrumentation made with tiktoken (counted in ``estimated_requests``).
Cost comes from the local price table; a run whose model has no known price
makes ``total_cost`` ``None`` rather than silently $0.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from otel_llm.callbacks import _llm_runs
from otel_llm.callbacks.base import BaseCallbackHandler
from otel_llm.callbacks.context import scoped_callbacks
from otel_llm.pricing import PriceTable, price_key, usage_cost
from otel_llm.schema import LS_MODEL_NAME, LS_PROVIDER
from otel_llm.usage import usage_from_result

__all__ = ["ModelUsage", "TokenCounter", "get_openai_callback", "token_counter"]

_MAX_OPEN_RUNS = 10_000


@dataclass
class ModelUsage:
    """Totals for one model."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    cached_prompt_tokens: int = 0
    reasoning_tokens: int = 0
    requests: int = 0
    estimated_requests: int = 0
    cost: float | None = 0.0

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


class TokenCounter(BaseCallbackHandler):
    """Counts tokens, requests and USD cost of the LLM runs it sees. Thread-safe."""

    run_inline = True  # in-memory arithmetic only: never worth a thread hop

    def __init__(self, prices: PriceTable | None = None) -> None:
        self._lock = threading.Lock()
        self._prices = prices
        # run id -> (requested model, provider), until the run ends
        self._models: dict[UUID, tuple[str, str | None]] = {}
        self.per_model: dict[str, ModelUsage] = {}
        self.successful_requests = 0
        self.failed_requests = 0
        self.closed = False

    # --- totals ----------------------------------------------------------------
    def _sum(self, field: str) -> int:
        with self._lock:
            return sum(getattr(m, field) for m in self.per_model.values())

    @property
    def prompt_tokens(self) -> int:
        return self._sum("prompt_tokens")

    @property
    def completion_tokens(self) -> int:
        return self._sum("completion_tokens")

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    @property
    def cached_prompt_tokens(self) -> int:
        return self._sum("cached_prompt_tokens")

    @property
    def reasoning_tokens(self) -> int:
        return self._sum("reasoning_tokens")

    @property
    def estimated_requests(self) -> int:
        return self._sum("estimated_requests")

    @property
    def total_cost(self) -> float | None:
        """USD, or ``None`` when any counted run's price is unknown."""
        with self._lock:
            costs = [m.cost for m in self.per_model.values()]
        if any(c is None for c in costs):
            return None
        return sum(c for c in costs if c is not None)

    def __str__(self) -> str:
        cost = self.total_cost
        est = self.estimated_requests
        lines = [
            f"Tokens Used: {self.total_tokens}",
            f"\tPrompt Tokens: {self.prompt_tokens}",
            f"\t\tPrompt Tokens Cached: {self.cached_prompt_tokens}",
            f"\tCompletion Tokens: {self.completion_tokens}",
            f"\t\tReasoning Tokens: {self.reasoning_tokens}",
            f"Successful Requests: {self.successful_requests}",
            f"Failed Requests: {self.failed_requests}",
            "Total Cost (USD): " + (f"${cost:.6f}" if cost is not None else "unknown"),
        ]
        if est:
            lines.append(f"({est} request(s) counted with tiktoken: the provider sent no usage)")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return (f"TokenCounter(total_tokens={self.total_tokens}, "
                f"successful_requests={self.successful_requests}, total_cost={self.total_cost})")

    # --- events ----------------------------------------------------------------
    def _remember_model(self, run_id: UUID, kwargs: dict[str, Any]) -> None:
        params = kwargs.get("invocation_params") or {}
        metadata = kwargs.get("metadata") or {}
        model = params.get("model") or params.get("model_name") or metadata.get(LS_MODEL_NAME)
        with self._lock:
            if len(self._models) >= _MAX_OPEN_RUNS:  # abandoned runs: forget the oldest
                self._models.pop(next(iter(self._models)))
            provider = metadata.get(LS_PROVIDER)
            self._models[run_id] = (str(model or "unknown"),
                                    provider if isinstance(provider, str) else None)

    def on_llm_start(self, serialized: dict[str, Any], prompts: list[str], *, run_id: UUID,
                     **kwargs: Any) -> None:
        if not self.closed:
            kwargs = _llm_runs.start(self, run_id, False, serialized, prompts, kwargs)
            self._remember_model(run_id, kwargs)

    def on_chat_model_start(self, serialized: dict[str, Any], messages: list[list[Any]], *,
                            run_id: UUID, **kwargs: Any) -> None:
        if not self.closed:
            kwargs = _llm_runs.start(self, run_id, True, serialized, messages, kwargs)
            self._remember_model(run_id, kwargs)

    def on_llm_error(self, error: BaseException, *, run_id: UUID, **kwargs: Any) -> None:
        _llm_runs.fail(run_id)
        with self._lock:
            self._models.pop(run_id, None)
            if not self.closed:
                self.failed_requests += 1

    def on_llm_end(self, response: Any, *, run_id: UUID, **kwargs: Any) -> None:
        with self._lock:
            requested, provider = self._models.pop(run_id, (None, None))
        if requested is not None:  # only a run it saw start: the recorders of a run are counted
            response = _llm_runs.end(run_id, response)
        if self.closed:
            return
        llm_output = getattr(response, "llm_output", None) or {}
        model = str(llm_output.get("model_name") or requested or "unknown")
        usage = usage_from_result(response)
        # Prices follow the provider (see otel_llm.pricing.price_key).
        cost = (usage_cost(price_key(model, provider), usage, self._prices)
                if usage is not None else 0.0)
        with self._lock:
            self.successful_requests += 1
            m = self.per_model.setdefault(model, ModelUsage())
            m.requests += 1
            if usage is None:
                return
            m.prompt_tokens += usage.input_tokens or 0
            m.completion_tokens += usage.output_tokens or 0
            m.cached_prompt_tokens += usage.cache_read_input_tokens or 0
            m.reasoning_tokens += usage.reasoning_output_tokens or 0
            m.estimated_requests += usage.estimated
            m.cost = None if cost is None or m.cost is None else m.cost + cost


@contextmanager
def token_counter(prices: PriceTable | None = None) -> Iterator[TokenCounter]:
    """Count tokens and cost of every LLM run in the block (any provider)."""
    counter = TokenCounter(prices)
    try:
        with scoped_callbacks(counter):
            yield counter
    finally:
        counter.closed = True


#: The tutorial's (and LangChain's) name for :func:`token_counter`.
get_openai_callback = token_counter
