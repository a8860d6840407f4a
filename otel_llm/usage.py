"""Token usage of one LLM run, shared by every handler that reads it."""

from otel_llm.telemetry.usage import USAGE_ESTIMATED_KEY, TokenUsage, usage_from_result

__all__ = ["USAGE_ESTIMATED_KEY", "TokenUsage", "usage_from_result"]
