"""Which model server the demo talks to: yours when configured, else the embedded one.

``OPENAI_API_KEY`` and/or ``OPENAI_BASE_URL`` set: the real OpenAI API or any
compatible server (vLLM, Ollama, ...), model ``OTEL_LLM_DEMO_MODEL`` (default
gpt-4o-mini). Otherwise an in-process :class:`~otel_llm.devserver.ModelServer`
on loopback, streaming with realistic pauses between chunks. The key is never
printed.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from openai import AsyncOpenAI, OpenAI

from otel_llm.devserver import ModelServer
from otel_llm.tokens import count_tokens

__all__ = ["CHUNK_DELAY", "DEFAULT_MODEL", "MODEL_ENV", "Backend", "select_backend"]

MODEL_ENV = "OTEL_LLM_DEMO_MODEL"
DEFAULT_MODEL = "gpt-4o-mini"
#: Seconds between streamed chunks on the embedded server (a fast hosted model).
CHUNK_DELAY = 0.02
#: A model no server has; the embedded server reads the name as "answer 404" too.
MISSING_MODEL = "error-404"
_PLACEHOLDER_KEY = "sk-otel-llm-demo"


@dataclass
class Backend:
    """Where requests go, and the model names the scenarios use."""

    label: str
    base_url: str | None
    api_key: str
    model: str
    #: model name of the scenario's failing call, and what the failure should be
    failing_model: str
    failing_reason: str
    server: ModelServer | None = None
    _owns_server: bool = field(default=False, repr=False)

    @property
    def embedded(self) -> bool:
        return self.server is not None

    def sync_client(self, **options: Any) -> OpenAI:
        return OpenAI(base_url=self.base_url, api_key=self.api_key, **options)

    def async_client(self, **options: Any) -> AsyncOpenAI:
        return AsyncOpenAI(base_url=self.base_url, api_key=self.api_key, **options)

    def close(self) -> None:
        """Stop the embedded server if the demo started it."""
        if self.server is not None and self._owns_server:
            self.server.stop()


def select_backend(environ: Mapping[str, str] | None = None,
                   server: ModelServer | None = None) -> Backend:
    """Your server from the environment, else the embedded one (``server``, or a new one)."""
    env = os.environ if environ is None else environ
    key = env.get("OPENAI_API_KEY", "").strip()
    base_url = env.get("OPENAI_BASE_URL", "").strip() or None
    model = env.get(MODEL_ENV, "").strip() or DEFAULT_MODEL
    if server is None and (key or base_url):
        where = f"OpenAI-compatible server at {base_url}" if base_url else "the OpenAI API"
        if not key:
            where += " (no OPENAI_API_KEY: sending a placeholder key)"
        return Backend(
            label=f"{where}, model {model}",
            base_url=base_url,
            api_key=key or _PLACEHOLDER_KEY,
            model=model,
            failing_model=MISSING_MODEL,
            failing_reason=f"a model that does not exist ({MISSING_MODEL})",
        )
    owns = server is None
    if server is None:
        server = ModelServer(chunk_delay=CHUNK_DELAY).start()
    # The server counts usage with tiktoken: load the encoding now, not in the first request.
    count_tokens("warm-up", model)
    return Backend(
        label=f"embedded model server at {server.base_url}, model {model} "
              "(set OPENAI_API_KEY / OPENAI_BASE_URL to use yours)",
        base_url=server.base_url,
        api_key=_PLACEHOLDER_KEY,
        model=model,
        failing_model=f"{model}+error=429",
        failing_reason="a rate-limited request (the server answers 429)",
        server=server,
        _owns_server=owns,
    )
