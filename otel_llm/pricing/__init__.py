"""Local, versioned OpenAI prices and per-call cost (USD), never fetched at run time.

>>> table = default_price_table()
>>> table.cost("gpt-4o-mini-2024-07-18", input_tokens=1000, output_tokens=100)
0.00021
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from otel_llm.pricing.table import (
    PRICES_FILE_ENV,
    Price,
    PriceTable,
    default_price_table,
    load_price_table,
)

if TYPE_CHECKING:
    from otel_llm.usage import TokenUsage

__all__ = [
    "PRICES_FILE_ENV",
    "Price",
    "PriceTable",
    "default_price_table",
    "load_price_table",
    "price_key",
    "usage_cost",
]

#: Well-known providers with prices of their own, as the conventions name them
#: (``gen_ai.provider.name``) or LangChain's ``ls_provider`` does.
_OWN_PRICES = frozenset({
    "anthropic", "aws.bedrock", "bedrock", "amazon_bedrock", "azure.ai.inference", "cohere",
    "deepseek", "gcp.gemini", "gcp.vertex_ai", "gcp.gen_ai", "google_genai", "google_vertexai",
    "groq", "ibm.watsonx.ai", "mistral_ai", "mistralai", "perplexity", "x_ai", "xai",
})


def price_key(model: str, provider: str | None) -> str:
    """The name a run is priced under: prices follow the provider.

    The shipped table's plain names are OpenAI's prices (Azure OpenAI's too), so
    a run of a well-known other provider (``deepseek``, ``groq``, ``x_ai``, ...)
    is looked up as ``provider/model`` and has a price only if the table (or
    your overrides) has that entry: such a provider serving a model called
    ``gpt-4o`` is not billed at OpenAI's price. Other names (``openai``, Azure,
    unknown or custom providers) are looked up as the model's plain name.
    """
    if provider is None or provider.lower() not in _OWN_PRICES:
        return model
    return f"{provider}/{model}"


def usage_cost(model: str, usage: TokenUsage, table: PriceTable | None = None) -> float | None:
    """USD of one run's usage: the default ``cost_fn`` of the OTel handler and the counter.

    None when the model has no known price or the usage lacks input/output counts.
    """
    if usage.input_tokens is None or usage.output_tokens is None:
        return None
    cached = min(usage.cache_read_input_tokens or 0, usage.input_tokens)
    return (table or default_price_table()).cost(
        model, input_tokens=usage.input_tokens, output_tokens=usage.output_tokens,
        cached_input_tokens=cached)
