"""``OpenAIInstrumentor``: the OpenTelemetry entry point, for ``opentelemetry-instrument``.

Registered (by the project's packaging) as the ``opentelemetry_instrumentor``
entry point ``otel_llm_openai``, so ``opentelemetry-instrument python app.py``
instruments the OpenAI SDK with spans and metrics and no code change.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from opentelemetry.instrumentation.instrumentor import (  # type: ignore[attr-defined]
    BaseInstrumentor,
)

from otel_llm.instrumentation._handler import telemetry_handler
from otel_llm.instrumentation.openai._patch import instrument_openai, uninstrument_openai

__all__ = ["OpenAIInstrumentor"]


class OpenAIInstrumentor(BaseInstrumentor):  # type: ignore[misc]
    """Instruments every OpenAI client with an ``OpenTelemetryCallbackHandler``.

    ``instrument(tracer_provider=..., meter_provider=..., logger_provider=...,
    capture_content=..., callbacks=[...], stream_usage=True)``; every argument
    is optional (providers default to the global ones).
    """

    def instrumentation_dependencies(self) -> Collection[str]:
        return ("openai >= 1.109.1",)

    def _instrument(self, **kwargs: Any) -> None:
        handlers = list(kwargs.get("callbacks") or ())
        handler = telemetry_handler(kwargs, "OpenAI calls")
        if handler is not None:
            handlers.insert(0, handler)
        instrument_openai(handlers, stream_usage=kwargs.get("stream_usage", True))

    def _uninstrument(self, **kwargs: Any) -> None:
        uninstrument_openai()
