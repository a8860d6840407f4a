"""Integrations with LLM frameworks, each behind its own optional extra.

- :mod:`otel_llm.integrations.langchain` (``otel-llm[langchain]``): LangChain and
  LangGraph runs reach this package's handlers (spans, metrics, token counter).
"""
