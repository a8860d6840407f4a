"""LangChain and LangGraph (extra ``otel-llm[langchain]``).

Every handler of ours *is* a LangChain handler (``otel_llm.callbacks``'
base classes subclass LangChain's when langchain-core is installed), so it
goes wherever LangChain takes callbacks, as it is::

    ChatOpenAI(callbacks=[OpenTelemetryCallbackHandler()])        # a component
    chain.invoke(inputs, config={"callbacks": [telemetry.handler()]})  # a request
    with get_openai_callback() as cb: chain.invoke(inputs)        # scoped: nothing else to do

What this package adds:

- :func:`instrument_langchain`: handlers added to every LangChain and LangGraph
  run of the process, no code change (LangChain's configure hook; the same hook
  makes scoped handlers and ``get_openai_callback()`` join the runs of their block);
- :class:`LangChainInstrumentor`: the ``opentelemetry-instrument`` entry point;
- the per-run bookkeeping of the recording handlers (``_llm_runs``): an LLM run
  owns its OpenAI SDK calls (one span and one count per call with
  ``instrument_openai()`` also on), its endpoint is known at start, and a stream
  without provider usage is counted with tiktoken (flagged estimated).
"""

from __future__ import annotations

try:
    import langchain_core  # noqa: F401
except ImportError as exc:  # base install: the hint, not a bare ModuleNotFoundError
    from otel_llm._extras import missing_extra

    raise missing_extra("otel_llm.integrations.langchain", exc) from exc

from otel_llm.integrations.langchain._instrument import (
    instrument_langchain,
    uninstrument_langchain,
)
from otel_llm.integrations.langchain._instrumentor import LangChainInstrumentor

__all__ = ["LangChainInstrumentor", "instrument_langchain", "uninstrument_langchain"]
