"""The exception tree: one root, so ``except otel_llm.OtelLLMError`` catches ours only."""

from __future__ import annotations

__all__ = ["ConfigurationError", "OtelLLMError"]


class OtelLLMError(Exception):
    """Root of every exception this package raises on purpose."""


class ConfigurationError(OtelLLMError, ValueError):
    """A setting is invalid. Raised at configuration time, never from a running call.

    ``setting`` names the argument or environment variable at fault.
    """

    def __init__(self, setting: str, message: str) -> None:
        self.setting = setting
        super().__init__(f"{setting}: {message}")
