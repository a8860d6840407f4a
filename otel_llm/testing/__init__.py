"""Public helpers for testing code instrumented with otel-llm."""
