"""Instrumentation of model SDKs: their calls become callback events, so every handler sees them.

One sub-package per SDK (``otel_llm.instrumentation.openai``). Frameworks that
call an SDK themselves (LangChain) own their calls and switch the SDK layer off
around them with the SDK package's ``suppress()``.
"""
