"""LangChain-style callbacks: handler base classes, managers and built-in handlers."""

from otel_llm.callbacks.base import AsyncCallbackHandler, BaseCallbackHandler

__all__ = ["AsyncCallbackHandler", "BaseCallbackHandler"]
