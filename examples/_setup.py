"""What every LLM example shares: which model server to talk to, and where telemetry goes.

Importing this module decides both, so the examples themselves stay the seed's code:

- **Model**: with ``OPENAI_API_KEY`` and/or ``OPENAI_BASE_URL`` set, the OpenAI API or
  your OpenAI-compatible server (model ``OTEL_LLM_DEMO_MODEL``, default gpt-4o-mini);
  otherwise the embedded ``otel_llm.devserver.ModelServer``, started in this process on
  loopback (no key, no network), stopped at exit. Same selection as ``otel-llm demo``.
- **Telemetry**: with ``OTEL_EXPORTER_OTLP_ENDPOINT`` (or the traces endpoint) set,
  ``otel_llm.configure()`` installs the global tracer and meter providers exporting over
  OTLP, and everything is flushed at exit (waiting at most 3 s). Otherwise nothing is
  configured: the OpenTelemetry handlers record nothing and print nothing.
"""

from __future__ import annotations

import atexit
import os
from typing import Any

from langchain_openai import ChatOpenAI

import otel_llm
from otel_llm.demo.backend import select_backend
from otel_llm.settings import OTLP_ENDPOINT, OTLP_ENDPOINTS, SERVICE_NAME

__all__ = ["backend", "chat_model"]

if os.environ.get(OTLP_ENDPOINT, "").strip() or os.environ.get(OTLP_ENDPOINTS["traces"], ""):
    os.environ.setdefault(SERVICE_NAME, "otel-llm-examples")
    _telemetry = otel_llm.configure()
    atexit.register(_telemetry.shutdown, 3.0)  # flush what is left, bounded

backend = select_backend()
atexit.register(backend.close)


def chat_model(**kwargs: Any) -> ChatOpenAI:
    """``ChatOpenAI(**kwargs)`` on the selected server; ``model`` defaults to its model."""
    kwargs.setdefault("model", backend.model)
    return ChatOpenAI(base_url=backend.base_url, api_key=backend.api_key, **kwargs)
