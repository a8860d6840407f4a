"""An embedded OpenAI-compatible model server for demos, tests and benchmarks.

It speaks the OpenAI wire format over real loopback HTTP, so code under test
uses the real ``openai`` SDK unchanged and needs no API key or network::

    with ModelServer() as srv:
        client = OpenAI(base_url=srv.base_url, api_key="sk-test")
        client.chat.completions.create(model="gpt-4o-mini+len=200", messages=..., stream=True)

Answers are scripted and deterministic (:mod:`~otel_llm.devserver.scripts`), usage
comes from the project's tiktoken counter, faults are injected per request
(:mod:`~otel_llm.devserver.options`, :mod:`~otel_llm.devserver.errors`) or per
server (:meth:`ModelServer.inject`), and ``replay=`` serves recorded
api.openai.com traffic instead (:mod:`~otel_llm.devserver.replay`).
``python -m otel_llm.devserver --port 0`` runs it as its own process.
"""

from __future__ import annotations

from otel_llm.devserver.command import main
from otel_llm.devserver.errors import Fault
from otel_llm.devserver.options import HEADER_PREFIX
from otel_llm.devserver.server import DEFAULT_MODELS, ModelServer, RecordedRequest

__all__ = ["DEFAULT_MODELS", "HEADER_PREFIX", "Fault", "ModelServer", "RecordedRequest", "main"]
