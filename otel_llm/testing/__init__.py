"""Public helpers for testing code instrumented with otel-llm.

- :class:`InMemoryTelemetry`: private providers with in-memory exporters, a
  handler bound to them, and look-ups of spans, metric points and log events.
- :class:`FakeChatModel`, :class:`FakeChain`: scripted components that emit
  the same callback events as LangChain's chat models and ``LLMChain``.
- :func:`load_recording`, :func:`load_recordings`: real OpenAI API traffic
  (VCR files), for wire-level tests; :func:`replay_call` repeats a recorded
  request through the SDK (against the model server's replay mode).
"""

from otel_llm.testing.fake import FakeChain, FakeChatModel
from otel_llm.testing.recordings import load_recording, load_recordings, replay_call

try:
    from otel_llm.testing.otel import InMemoryTelemetry, MetricPoint
except ImportError as exc:  # the in-memory providers are the SDK's (the otlp extra)
    from otel_llm._extras import missing_extra

    raise missing_extra("otel_llm.testing", exc) from exc

__all__ = [
    "FakeChain",
    "FakeChatModel",
    "InMemoryTelemetry",
    "MetricPoint",
    "load_recording",
    "load_recordings",
    "replay_call",
]
