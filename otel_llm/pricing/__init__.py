"""Local, versioned OpenAI prices and per-call cost (USD), never fetched at run time.

>>> table = default_price_table()
>>> table.cost("gpt-4o-mini-2024-07-18", input_tokens=1000, output_tokens=100)
0.00021
"""

from __future__ import annotations

from otel_llm.pricing.table import (
    PRICES_FILE_ENV,
    Price,
    PriceTable,
    default_price_table,
    load_price_table,
)

__all__ = ["PRICES_FILE_ENV", "Price", "PriceTable", "default_price_table", "load_price_table"]
