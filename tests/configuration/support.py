"""Helpers for the configure() tests: a chat run, waiting for a log line, traces of three spans."""

from __future__ import annotations

import contextlib
import logging
import threading
import uuid
from collections.abc import Iterator

from otel_llm.configuration import Telemetry
from otel_llm.schema import AIMessage, ChatGeneration, HumanMessage, LLMResult
from otel_llm.telemetry import OpenTelemetryCallbackHandler

MODEL = "gpt-4o-mini"
MESSAGES = [[HumanMessage("Hello")]]
PARAMS = {"model": MODEL, "base_url": "https://api.openai.com/v1", "temperature": 0.2}
RESULT = LLMResult(
    generations=[
        [ChatGeneration(message=AIMessage("Hi"), generation_info={"finish_reason": "stop"})]
    ],
    llm_output={"token_usage": {"prompt_tokens": 7, "completion_tokens": 3}, "id": "chatcmpl-1"},
)


def llm_run(handler: OpenTelemetryCallbackHandler | None, tokens: int = 10) -> None:
    """One streamed chat run as the manager would report it (no handler: the bare app work)."""
    run_id = uuid.uuid4()
    pieces = []
    if handler is not None:
        handler.on_chat_model_start(
            {},
            MESSAGES,
            run_id=run_id,
            metadata={"ls_provider": "openai"},
            invocation_params=PARAMS,
        )
    for i in range(tokens):
        pieces.append(str(i))
        if handler is not None:
            handler.on_llm_new_token(pieces[-1], run_id=run_id)
    "".join(pieces)
    if handler is not None:
        handler.on_llm_end(RESULT, run_id=run_id)


DOWN = "traces (otlp): collector unavailable"


class _Seen(logging.Handler):
    """Sets an event when a log message containing ``text`` is emitted (wait, don't sleep)."""

    def __init__(self, text: str) -> None:
        super().__init__(logging.DEBUG)
        self.text = text
        self.event = threading.Event()

    def emit(self, record: logging.LogRecord) -> None:
        if self.text in record.getMessage():
            self.event.set()


@contextlib.contextmanager
def _watch(text: str) -> Iterator[threading.Event]:
    seen = _Seen(text)
    root = logging.getLogger()
    root.addHandler(seen)
    try:
        yield seen.event
    finally:
        root.removeHandler(seen)


def _traces(handle: Telemetry, start: int, count: int) -> None:
    """``count`` traces of three spans (two children, then their parent), numbered from start."""
    tracer = handle.tracer_provider.get_tracer("outage-test")
    for i in range(start, start + count):
        with tracer.start_as_current_span(f"t{i}"):
            for child in ("a", "b"):
                with tracer.start_as_current_span(f"t{i}.{child}"):
                    pass
