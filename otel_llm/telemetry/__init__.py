"""Callback events -> OpenTelemetry spans, metrics and opt-in content events.

``OpenTelemetryCallbackHandler`` is the entry point; the modules behind it each
have one job: ``attributes`` (event -> attributes), ``usage`` (token counts),
``content`` (capture modes, message shape, truncation, redaction),
``capture`` (where captured content goes: span, event), ``instruments`` (the
histograms and how a run records into them), ``runs`` (the bounded open-run
registry), ``spans`` (the one place a run's span starts and ends), ``guard``
(failures never reach the application).
"""

from __future__ import annotations

from otel_llm.telemetry.content import DEFAULT_MAX_CONTENT_BYTES, CaptureMode, Redactor
from otel_llm.telemetry.handler import (
    CHUNK_INDEX,
    ERROR_TYPE_PARENT_ENDED,
    ERROR_TYPE_RUN_EVICTED,
    ChunkEvents,
    CostFn,
    OpenTelemetryCallbackHandler,
)
from otel_llm.usage import TokenUsage

__all__ = [
    "CHUNK_INDEX",
    "DEFAULT_MAX_CONTENT_BYTES",
    "ERROR_TYPE_PARENT_ENDED",
    "ERROR_TYPE_RUN_EVICTED",
    "CaptureMode",
    "ChunkEvents",
    "CostFn",
    "OpenTelemetryCallbackHandler",
    "Redactor",
    "TokenUsage",
]
