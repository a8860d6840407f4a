"""The recorders' door to LangChain's LLM runs, without importing LangChain when it is unused.

The OpenTelemetry handler and the token counter call these at an LLM run's
start, end and failure. Only a start event from LangChain's managers (its
``serialized`` has LangChain's ``"lc"`` key) loads
:mod:`otel_llm.integrations.langchain._llm_runs`, which then completes what
LangChain leaves out (endpoint, SDK ownership, usage); ends look the module up
in ``sys.modules`` only. Events of our own managers pass through untouched, and
a process without LangChain never imports any of it.
"""

from __future__ import annotations

import logging
import sys
from typing import Any
from uuid import UUID

from otel_llm.errors import BugReport

__all__ = ["MODULE", "end", "fail", "start"]

logger = logging.getLogger("otel_llm.integrations.langchain")
#: The LangChain bookkeeping module: ``end`` has nothing to do unless it is in ``sys.modules``.
MODULE = "otel_llm.integrations.langchain._llm_runs"
#: A bug of ours: logged with its traceback once per place; the event is recorded as is.
_internal_error = BugReport(logger, "LangChain run bookkeeping",
                            "the run is recorded from LangChain's event alone")


def start(recorder: Any, run_id: UUID, chat: bool, serialized: Any, inputs: Any,
          kwargs: dict[str, Any]) -> dict[str, Any]:
    """The start kwargs to record: for a LangChain run, with its endpoint added."""
    if type(serialized) is not dict or "lc" not in serialized:
        return kwargs
    try:
        from otel_llm.integrations.langchain import _llm_runs

        return _llm_runs.start(recorder, run_id, chat, serialized, inputs, kwargs)
    except Exception as exc:
        _internal_error("start", exc)
        return kwargs


def end(run_id: UUID, response: Any) -> Any:
    """The result to record: for a LangChain run, with ``llm_output`` completed."""
    runs = sys.modules.get(MODULE)
    if runs is None:
        return response
    try:
        return runs.end(run_id, response)
    except Exception as exc:
        _internal_error("end", exc)
        return response


def fail(run_id: UUID) -> None:
    runs = sys.modules.get(MODULE)
    if runs is not None:
        try:
            runs.fail(run_id)
        except Exception as exc:
            _internal_error("error", exc)
