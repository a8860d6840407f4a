"""Captured content's destinations: span attributes, the end-of-run log event, or both.

Only reached when the user opted in (``CaptureMode``); ``content`` shapes,
redacts and sizes the values, this module puts them where the mode says.
"""

from __future__ import annotations

from typing import Any

from opentelemetry._logs import Logger, SeverityNumber

from otel_llm import semconv
from otel_llm.telemetry import content
from otel_llm.telemetry.content import CaptureMode, ContentEncoder
from otel_llm.telemetry.runs import Run

__all__ = ["ContentCapture"]


class ContentCapture:
    """Records encoded content of runs according to one ``CaptureMode``."""

    def __init__(self, mode: CaptureMode, encoder: ContentEncoder, events: Logger | None) -> None:
        self.mode = mode
        self._encoder = encoder
        self._events = events if mode.as_event else None

    def chat_input(self, run: Run, batches: Any, params: dict[str, Any]) -> None:
        instructions, messages = content.chat_input(batches, self._encoder.max_bytes)
        self._input(run, messages, instructions, params)

    def prompt_input(self, run: Run, prompts: Any, params: dict[str, Any]) -> None:
        self._input(run, content.prompt_input(prompts, self._encoder.max_bytes), [], params)

    def _input(
        self, run: Run, messages: list[Any], instructions: list[Any], params: dict[str, Any]
    ) -> None:
        values: dict[str, Any] = {semconv.GEN_AI_INPUT_MESSAGES: messages}
        if instructions:
            values[semconv.GEN_AI_SYSTEM_INSTRUCTIONS] = instructions
        tools = content.tool_definitions(params.get("tools"), self._encoder.max_bytes)
        if tools:
            values[semconv.GEN_AI_TOOL_DEFINITIONS] = tools
        self._record(run, values, for_event=True)

    def llm_output(self, run: Run, response: Any, now: int, attrs: dict[str, Any]) -> None:
        """The completion, then the inference-details event with everything captured."""
        messages = content.output_messages(response, self._encoder.max_bytes)
        self._record(run, {semconv.GEN_AI_OUTPUT_MESSAGES: messages}, for_event=True)
        self.emit_event(run, now, attrs)

    def tool(self, run: Run, key: str, value: Any) -> None:
        """Tool arguments or result: span only (no event is defined for tools)."""
        if self.mode.on_span:
            self._record(run, {key: value}, for_event=False)

    def emit_event(self, run: Run, now: int, extra: dict[str, Any]) -> None:
        if self._events is None:
            return
        self._events.emit(
            timestamp=now,
            context=run.context,
            severity_number=SeverityNumber.INFO,
            event_name=semconv.EVENT_INFERENCE_DETAILS,
            attributes={**run.metric_attrs, **extra, **(run.content or {})},
        )

    def _record(self, run: Run, values: dict[str, Any], for_event: bool) -> None:
        encoded = {}
        for key, value in values.items():
            text = self._encoder.encode(value)
            if text is not None:
                encoded[key] = text
        if self.mode.on_span:
            run.span.set_attributes(encoded)
        if for_event and self._events is not None:
            if run.content is None:
                run.content = {}
            run.content.update(encoded)
