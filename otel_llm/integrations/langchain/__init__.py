"""LangChain and LangGraph runs -> this package's handlers (extra ``otel-llm[langchain]``).

::

    from otel_llm.integrations.langchain import LangChainCallbackHandler, instrument_langchain

    handler = LangChainCallbackHandler([telemetry.handler()])
    chain.invoke(inputs, config={"callbacks": [handler]})     # one call
    instrument_langchain([telemetry.handler()])               # or every run, no code change

The forwarders pass each LangChain event to our handlers (the OpenTelemetry
handler, the stdout/file loggers, the token counter, your own) through our
callback dispatch, plus the handlers scoped with ``scoped_callbacks`` /
``get_openai_callback`` where the run starts. An LLM run owns its OpenAI SDK
calls: with ``instrument_openai()`` also on, they make no second span and are
counted once, and the SDK's server address and response id land on the run's
span. Streams without provider usage are counted with tiktoken (flagged
estimated).
"""

from __future__ import annotations

try:
    import langchain_core  # noqa: F401
except ImportError as exc:  # base install: the hint, not a bare ModuleNotFoundError
    from otel_llm._extras import missing_extra

    raise missing_extra("otel_llm.integrations.langchain", exc) from exc

from otel_llm.integrations.langchain._handlers import (
    AsyncLangChainCallbackHandler,
    LangChainCallbackHandler,
)
from otel_llm.integrations.langchain._instrument import (
    instrument_langchain,
    uninstrument_langchain,
)

__all__ = [
    "AsyncLangChainCallbackHandler",
    "LangChainCallbackHandler",
    "instrument_langchain",
    "uninstrument_langchain",
]
