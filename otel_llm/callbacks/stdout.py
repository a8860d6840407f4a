"""Handlers that print a readable event log: to stdout, or tokens as they stream."""

from __future__ import annotations

import sys
from typing import Any, TextIO
from uuid import UUID

from otel_llm.callbacks import _llm_runs
from otel_llm.callbacks._format import EventFormatter
from otel_llm.callbacks.base import BaseCallbackHandler

__all__ = ["EventLogHandler", "StdOutCallbackHandler", "StreamingStdOutCallbackHandler"]


class EventLogHandler(BaseCallbackHandler):
    """Writes one line per event through :meth:`write`; subclasses choose where.

    Unlike LangChain's stdout handler it logs LLM runs too (model, prompt,
    tokens, duration, answer), not only chains.
    """

    def __init__(self, color: bool = False) -> None:
        self._fmt = EventFormatter(color)

    def write(self, line: str) -> None:
        raise NotImplementedError

    # LLM runs are recorded as the OTel handler and the counter record them (``_llm_runs``):
    # a LangChain run's tokens are those of its completed result, estimate flag included.
    def on_llm_start(self, serialized: dict[str, Any], prompts: list[str], *, run_id: UUID,
                     **kwargs: Any) -> None:
        kwargs = _llm_runs.start(self, run_id, False, serialized, prompts, kwargs)
        self.write(self._fmt.llm_start(serialized, prompts, run_id, kwargs))

    def on_chat_model_start(self, serialized: dict[str, Any], messages: list[list[Any]], *,
                            run_id: UUID, **kwargs: Any) -> None:
        kwargs = _llm_runs.start(self, run_id, True, serialized, messages, kwargs)
        self.write(self._fmt.chat_start(serialized, messages, run_id, kwargs))

    def on_llm_end(self, response: Any, *, run_id: UUID, **kwargs: Any) -> None:
        self.write(self._fmt.llm_end(_llm_runs.end(run_id, response), run_id))

    def on_llm_error(self, error: BaseException, *, run_id: UUID, **kwargs: Any) -> None:
        _llm_runs.fail(run_id)
        self.write(self._fmt.error("llm", error, run_id))

    def on_chain_start(self, serialized: dict[str, Any], inputs: dict[str, Any], *,
                       run_id: UUID, **kwargs: Any) -> None:
        self.write(self._fmt.chain_start(serialized, run_id, kwargs))

    def on_chain_end(self, outputs: dict[str, Any], *, run_id: UUID, **kwargs: Any) -> None:
        self.write(self._fmt.chain_end(outputs, run_id))

    def on_chain_error(self, error: BaseException, *, run_id: UUID, **kwargs: Any) -> None:
        self.write(self._fmt.error("chain", error, run_id))

    def on_tool_start(self, serialized: dict[str, Any], input_str: str, *, run_id: UUID,
                      **kwargs: Any) -> None:
        self.write(self._fmt.tool_start(serialized, input_str, run_id, kwargs))

    def on_tool_end(self, output: Any, *, run_id: UUID, **kwargs: Any) -> None:
        self.write(self._fmt.tool_end(output, run_id))

    def on_tool_error(self, error: BaseException, *, run_id: UUID, **kwargs: Any) -> None:
        self.write(self._fmt.error("tool", error, run_id))

    def on_retriever_start(self, serialized: dict[str, Any], query: str, *, run_id: UUID,
                           **kwargs: Any) -> None:
        self.write(self._fmt.retriever_start(serialized, query, run_id, kwargs))

    def on_retriever_end(self, documents: Any, *, run_id: UUID, **kwargs: Any) -> None:
        self.write(self._fmt.retriever_end(documents, run_id))

    def on_retriever_error(self, error: BaseException, *, run_id: UUID, **kwargs: Any) -> None:
        self.write(self._fmt.error("retriever", error, run_id))

    def on_agent_action(self, action: Any, *, run_id: UUID, **kwargs: Any) -> None:
        self.write(self._fmt.agent_action(action))

    def on_agent_finish(self, finish: Any, *, run_id: UUID, **kwargs: Any) -> None:
        self.write(self._fmt.agent_finish(finish))

    def on_text(self, text: str, *, run_id: UUID, **kwargs: Any) -> None:
        self.write(text)


class StdOutCallbackHandler(EventLogHandler):
    """The event log on stdout (what ``verbose=True`` adds); coloured on a terminal.

    ``color=None`` colours only when the stream is a TTY.
    """

    def __init__(self, color: bool | None = None, stream: TextIO | None = None) -> None:
        self._stream = stream
        out = stream or sys.stdout
        super().__init__(color=out.isatty() if color is None else color)

    def write(self, line: str) -> None:
        print(line, file=self._stream or sys.stdout, flush=True)


class StreamingStdOutCallbackHandler(BaseCallbackHandler):
    """Prints each streamed token as it arrives, with no newline in between."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self._stream = stream

    def on_llm_new_token(self, token: str, **kwargs: Any) -> None:
        out = self._stream or sys.stdout
        out.write(token)
        out.flush()
