"""``gen_ai.provider.name`` of an OpenAI client from where it sends its calls.

The OpenAI SDK is the client of many OpenAI-compatible APIs. The conventions
name the well-known ones; a client pointed at such a provider's API host
reports that provider, so its spans, metrics and prices are not taken for
OpenAI's. Any other host (a proxy, a local server, the embedded devserver)
keeps ``openai``, as the conventions suggest for OpenAI-compatible servers.
"""

from __future__ import annotations

import functools
from urllib.parse import urlsplit

from otel_llm import semconv

__all__ = ["PROVIDER_AZURE", "PROVIDER_OPENAI", "provider_for"]

PROVIDER_OPENAI = semconv.PROVIDER_OPENAI
PROVIDER_AZURE = semconv.PROVIDER_AZURE_OPENAI

#: API host -> provider. A key starting with "." matches the host's domain suffix.
_HOSTS: dict[str, str] = {
    "api.openai.com": PROVIDER_OPENAI,
    "api.deepseek.com": semconv.PROVIDER_DEEPSEEK,
    "api.groq.com": semconv.PROVIDER_GROQ,
    "api.mistral.ai": semconv.PROVIDER_MISTRAL_AI,
    "api.x.ai": semconv.PROVIDER_X_AI,
    "api.perplexity.ai": semconv.PROVIDER_PERPLEXITY,
    "generativelanguage.googleapis.com": semconv.PROVIDER_GCP_GEMINI,
    "models.inference.ai.azure.com": semconv.PROVIDER_AZURE_AI_INFERENCE,
    ".models.ai.azure.com": semconv.PROVIDER_AZURE_AI_INFERENCE,
    ".services.ai.azure.com": semconv.PROVIDER_AZURE_AI_INFERENCE,
    ".openai.azure.com": PROVIDER_AZURE,
}


@functools.lru_cache(maxsize=256)
def provider_for(base_url: str, azure_client: bool) -> str:
    """The provider of a client: Azure clients are Azure OpenAI; else by API host."""
    if azure_client:
        return PROVIDER_AZURE
    try:
        host = (urlsplit(base_url).hostname or "").lower()
    except ValueError:
        return PROVIDER_OPENAI
    hit = _HOSTS.get(host)
    if hit is not None:
        return hit
    for suffix, provider in _HOSTS.items():
        if suffix.startswith(".") and host.endswith(suffix):
            return provider
    return PROVIDER_OPENAI
