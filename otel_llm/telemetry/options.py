"""The handler's tunable options, checked once at construction (a bad value names itself)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

from otel_llm.errors import ConfigurationError
from otel_llm.usage import TokenUsage

__all__ = [
    "DEFAULT_CHUNK_METRICS",
    "ChunkEvents",
    "ChunkMetrics",
    "CostFn",
    "parse_chunk_events",
    "parse_chunk_metrics",
]

#: ``cost_fn(model, usage) -> USD or None`` (None: price unknown, no cost is recorded).
#: ``model`` is the run's price key (``otel_llm.pricing.price_key``): ``provider/model``
#: for well-known non-OpenAI providers.
CostFn = Callable[[str, TokenUsage], "float | None"]
#: ``"off"``: no chunk events; ``"first"``: the first-token event only; ``"all"``: one
#: event per chunk; ``N``: the first-token event and one every N chunks.
ChunkEvents = Literal["off", "first", "all"] | int
#: Values of ``time_per_output_chunk``: ``"all"``, one per chunk after the first (the
#: conventions' definition); ``N``, one chunk gap in N (a systematic sample: same
#: distribution, ``_count`` divided by N); ``"off"``: none.
ChunkMetrics = Literal["off", "all"] | int
#: One SDK ``Histogram.record`` costs about as much as the openai SDK's parsing of a
#: chunk: recording every gap adds ~10 % CPU to a 200-chunk stream, one in 20 ~0.5 %.
DEFAULT_CHUNK_METRICS = 20


def _positive_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 1


def parse_chunk_events(value: ChunkEvents) -> tuple[bool, int]:
    """``(emit the first-token event, emit a chunk event every N chunks; 0 = never)``."""
    if value == "off":
        return False, 0
    if value == "first":
        return True, 0
    if value == "all":
        return True, 1
    if _positive_int(value):
        return True, int(value)
    raise ConfigurationError(
        "chunk_events", f'must be "off", "first", "all" or an int >= 1, got {value!r}'
    )


def parse_chunk_metrics(value: ChunkMetrics) -> int:
    """Record one chunk gap in N (0: none)."""
    if value == "off":
        return 0
    if value == "all":
        return 1
    if _positive_int(value):
        return int(value)
    raise ConfigurationError("chunk_metrics", f'must be "off", "all" or an int >= 1, got {value!r}')
