"""The OpenTelemetry handler an ``opentelemetry-instrument`` entry point builds from its kwargs."""

from __future__ import annotations

import logging
from typing import Any

__all__ = ["telemetry_handler"]

logger = logging.getLogger("otel_llm.instrumentation")

_HANDLER_OPTIONS = ("tracer_provider", "meter_provider", "logger_provider", "capture_content")


def telemetry_handler(kwargs: dict[str, Any], what: str) -> Any:
    """The OpenTelemetry handler, or None (logged; ``what`` go on without it)."""
    try:
        from otel_llm.telemetry import OpenTelemetryCallbackHandler
    except ImportError:
        logger.warning("otel_llm.telemetry is unavailable: %s are instrumented without an "
                       "OpenTelemetry handler", what, exc_info=True)
        return None
    options = {k: kwargs[k] for k in _HANDLER_OPTIONS if kwargs.get(k) is not None}
    try:
        return OpenTelemetryCallbackHandler(**options)
    except Exception:
        logger.warning("could not create the OpenTelemetry handler; %s are instrumented "
                       "without it", what, exc_info=True)
        return None
