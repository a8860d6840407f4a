"""otel-llm: OpenTelemetry for LLM applications.

The names here are the supported API; everything else is reachable through
its subpackage (``otel_llm.callbacks``, ``otel_llm.tokens``, ``otel_llm.pricing``,
``otel_llm.testing``, ``otel_llm.devserver``).

Every name is loaded on first use (module ``__getattr__``), so ``import
otel_llm`` costs almost nothing and imports neither OpenTelemetry nor any
optional extra. A name whose extra is not installed raises an ``ImportError``
ending in the ``pip install`` line that brings it.
"""

from __future__ import annotations

from otel_llm._version import __version__

TYPE_CHECKING = False  # not typing's: importing typing alone costs more than this package
if TYPE_CHECKING:
    from typing import Any

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
    from otel_llm.instrumentation.openai import instrument_openai, uninstrument_openai, wrap_openai
    from otel_llm.integrations.langchain import instrument_langchain
    from otel_llm.telemetry import OpenTelemetryCallbackHandler
    from otel_llm.tokens import count_message_tokens, count_tokens

_CALLBACKS = "otel_llm.callbacks"
_OPENAI = "otel_llm.instrumentation.openai"
#: public name -> the module that defines it
_LAZY = {
    "AsyncCallbackHandler": _CALLBACKS,
    "AsyncCallbackManager": _CALLBACKS,
    "BaseCallbackHandler": _CALLBACKS,
    "CallbackManager": _CALLBACKS,
    "FileCallbackHandler": _CALLBACKS,
    "StdOutCallbackHandler": _CALLBACKS,
    "StreamingStdOutCallbackHandler": _CALLBACKS,
    "scoped_callbacks": _CALLBACKS,
    "Telemetry": "otel_llm.configuration",
    "configure": "otel_llm.configuration",
    "TokenCounter": "otel_llm.counter",
    "get_openai_callback": "otel_llm.counter",
    "token_counter": "otel_llm.counter",
    "ConfigurationError": "otel_llm.errors",
    "OtelLLMError": "otel_llm.errors",
    "OpenTelemetryCallbackHandler": "otel_llm.telemetry",
    "count_message_tokens": "otel_llm.tokens",
    "count_tokens": "otel_llm.tokens",
    "attributes": "otel_llm.attribution",
    "agent": "otel_llm.decorators",
    "tool": "otel_llm.decorators",
    "workflow": "otel_llm.decorators",
    "instrument_openai": _OPENAI,
    "uninstrument_openai": _OPENAI,
    "wrap_openai": _OPENAI,
    "instrument_langchain": "otel_llm.integrations.langchain",
}

# Spelled out for static tools; a test checks it matches _LAZY.
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
    "instrument_langchain",
    "instrument_openai",
    "scoped_callbacks",
    "token_counter",
    "tool",
    "uninstrument_openai",
    "workflow",
    "wrap_openai",
]


def __getattr__(name: str) -> Any:
    module_name = _LAZY.get(name)
    if module_name is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    from otel_llm._extras import missing_extra

    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        error = missing_extra(f"otel_llm.{name}", exc)
        if error is exc:
            raise
        raise error from exc
    value = getattr(module, name)
    globals()[name] = value  # later look-ups skip __getattr__
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})
