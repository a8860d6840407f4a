"""otel-llm: OpenTelemetry for LLM applications."""

from __future__ import annotations

from otel_llm.errors import ConfigurationError, OtelLLMError

__all__ = ["ConfigurationError", "OtelLLMError"]
