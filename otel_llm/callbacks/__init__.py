"""LangChain-style callbacks: handler base classes, managers and built-in handlers.

With langchain-core installed the base classes subclass LangChain's, so every handler
here is a LangChain handler too.
"""

from otel_llm.callbacks._dispatch import handler_error_counts
from otel_llm.callbacks.base import AsyncCallbackHandler, BaseCallbackHandler
from otel_llm.callbacks.context import scoped_callbacks, scoped_handlers
from otel_llm.callbacks.file import FileCallbackHandler
from otel_llm.callbacks.manager import (
    AsyncCallbackManager,
    AsyncCallbackManagerForChainRun,
    AsyncCallbackManagerForLLMRun,
    AsyncCallbackManagerForRetrieverRun,
    AsyncCallbackManagerForToolRun,
    BaseCallbackManager,
    CallbackManager,
    CallbackManagerForChainRun,
    CallbackManagerForLLMRun,
    CallbackManagerForRetrieverRun,
    CallbackManagerForToolRun,
    Callbacks,
)
from otel_llm.callbacks.stdout import StdOutCallbackHandler, StreamingStdOutCallbackHandler

__all__ = [
    "AsyncCallbackHandler",
    "AsyncCallbackManager",
    "AsyncCallbackManagerForChainRun",
    "AsyncCallbackManagerForLLMRun",
    "AsyncCallbackManagerForRetrieverRun",
    "AsyncCallbackManagerForToolRun",
    "BaseCallbackHandler",
    "BaseCallbackManager",
    "CallbackManager",
    "CallbackManagerForChainRun",
    "CallbackManagerForLLMRun",
    "CallbackManagerForRetrieverRun",
    "CallbackManagerForToolRun",
    "Callbacks",
    "FileCallbackHandler",
    "StdOutCallbackHandler",
    "StreamingStdOutCallbackHandler",
    "handler_error_counts",
    "scoped_callbacks",
    "scoped_handlers",
]
