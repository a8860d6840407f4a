"""``LangChainInstrumentor``: the OpenTelemetry entry point, for ``opentelemetry-instrument``.

Registered as the ``opentelemetry_instrumentor`` entry point ``otel_llm_langchain``,
so ``opentelemetry-instrument python app.py`` traces LangChain and LangGraph runs
with no code change. With the ``otel_llm_openai`` entry point active too, each
LangChain LLM run owns its SDK calls: one span per call.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from opentelemetry.instrumentation.instrumentor import (  # type: ignore[attr-defined]
    BaseInstrumentor,
)

from otel_llm.instrumentation._handler import telemetry_handler
from otel_llm.integrations.langchain._instrument import (
    instrument_langchain,
    uninstrument_langchain,
)

__all__ = ["LangChainInstrumentor"]


class LangChainInstrumentor(BaseInstrumentor):  # type: ignore[misc]
    """Adds an ``OpenTelemetryCallbackHandler`` (and ``callbacks=[...]``) to every LangChain run.

    ``instrument(tracer_provider=..., meter_provider=..., logger_provider=...,
    capture_content=..., callbacks=[...])``; every argument is optional
    (providers default to the global ones).
    """

    def instrumentation_dependencies(self) -> Collection[str]:
        return ("langchain-core >= 1.5",)

    def _instrument(self, **kwargs: Any) -> None:
        handlers = list(kwargs.get("callbacks") or ())
        handler = telemetry_handler(kwargs, "LangChain runs")
        if handler is not None:
            handlers.insert(0, handler)
        instrument_langchain(handlers)

    def _uninstrument(self, **kwargs: Any) -> None:
        uninstrument_langchain()
