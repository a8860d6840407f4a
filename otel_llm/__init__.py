"""otel-llm: OpenTelemetry for LLM applications.

The names here are the supported API; everything else is reachable through
its subpackage (``otel_llm.callbacks``, ``otel_llm.tokens``, ``otel_llm.pricing``,
``otel_llm.testing``, ``otel_llm.devserver``).
"""

from __future__ import annotations

from importlib import metadata as _metadata

from otel_llm.attribution import attributes
from otel_llm.callbacks import (
    AsyncCallbackHandler,
    AsyncCallbackManager,
    BaseCallbackHandler,
    CallbackManager,
    FileCallbackHandler,
    StdOutCallbackHandler,
    StreamingStdOutCallbackHandler,
    scoped_callbacks,
)
from otel_llm.configuration import Telemetry, configure
from otel_llm.counter import TokenCounter, get_openai_callback, token_counter
from otel_llm.decorators import agent, tool, workflow
from otel_llm.errors import ConfigurationError, OtelLLMError
from otel_llm.telemetry import OpenTelemetryCallbackHandler
from otel_llm.tokens import count_message_tokens, count_tokens

try:
    __version__ = _metadata.version("otel-llm")
except _metadata.PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0"

__all__ = [
    "AsyncCallbackHandler",
    "AsyncCallbackManager",
    "BaseCallbackHandler",
    "CallbackManager",
    "ConfigurationError",
    "FileCallbackHandler",
    "OpenTelemetryCallbackHandler",
    "OtelLLMError",
    "StdOutCallbackHandler",
    "StreamingStdOutCallbackHandler",
    "Telemetry",
    "TokenCounter",
    "__version__",
    "agent",
    "attributes",
    "configure",
    "count_message_tokens",
    "count_tokens",
    "get_openai_callback",
    "scoped_callbacks",
    "token_counter",
    "tool",
    "workflow",
]
