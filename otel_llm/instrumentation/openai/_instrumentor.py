"""``OpenAIInstrumentor``: the OpenTelemetry entry point, for ``opentelemetry-instrument``.

Registered (by the project's packaging) as the ``opentelemetry_instrumentor``
entry point ``otel_llm_openai``, so ``opentelemetry-instrument python app.py``
instruments the OpenAI SDK with spans and metrics and no code change.
"""

from __future__ import annotations

import logging
from collections.abc import Collection
from typing import Any

from opentelemetry.instrumentation.instrumentor import (  # type: ignore[attr-defined]
    BaseInstrumentor,
)

from otel_llm.instrumentation.openai._patch import instrument_openai, uninstrument_openai

__all__ = ["OpenAIInstrumentor"]

logger = logging.getLogger("otel_llm.instrumentation.openai")

_HANDLER_OPTIONS = ("tracer_provider", "meter_provider", "logger_provider", "capture_content")


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
        handler = _telemetry_handler(kwargs)
        if handler is not None:
            handlers.insert(0, handler)
        instrument_openai(handlers, stream_usage=kwargs.get("stream_usage", True))

    def _uninstrument(self, **kwargs: Any) -> None:
        uninstrument_openai()


def _telemetry_handler(kwargs: dict[str, Any]) -> Any:
    """The OpenTelemetry handler, or None (logged) when it cannot be built."""
    try:
        from otel_llm.telemetry import OpenTelemetryCallbackHandler
    except ImportError:
        logger.warning("otel_llm.telemetry is unavailable: OpenAI calls are instrumented "
                       "without an OpenTelemetry handler", exc_info=True)
        return None
    options = {k: kwargs[k] for k in _HANDLER_OPTIONS if kwargs.get(k) is not None}
    try:
        return OpenTelemetryCallbackHandler(**options)
    except Exception:
        logger.warning("could not create the OpenTelemetry handler; OpenAI calls are "
                       "instrumented without it", exc_info=True)
        return None
