"""Content capture: off by default, modes, JSON parts shape, events, truncation, redaction."""

from __future__ import annotations

import json
import logging
import uuid
from typing import Any

import pytest

from otel_llm import semconv
from otel_llm.errors import ConfigurationError
from otel_llm.schema import INSTRUCTIONS_KEY, AIMessage, HumanMessage, SystemMessage, ToolMessage
from otel_llm.settings import CAPTURE_MESSAGE_CONTENT
from otel_llm.telemetry import CaptureMode, OpenTelemetryCallbackHandler
from otel_llm.telemetry.content import parse_capture_mode
from otel_llm.testing.otel import InMemoryTelemetry

from .events import MODEL, PARAMS, FakeClock, chat_result, chat_start

LLM = f"chat {MODEL}"
CONTENT_KEYS = (
    semconv.GEN_AI_INPUT_MESSAGES,
    semconv.GEN_AI_OUTPUT_MESSAGES,
    semconv.GEN_AI_SYSTEM_INSTRUCTIONS,
    semconv.GEN_AI_TOOL_DEFINITIONS,
)
TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "get_weather",
            "description": "Weather for a city",
            "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
        },
    }
]
CONVERSATION = [
    SystemMessage("You are terse.", additional_kwargs={INSTRUCTIONS_KEY: True}),
    HumanMessage("Weather in Paris?"),
    AIMessage("", tool_calls=[{"name": "get_weather", "args": {"city": "Paris"}, "id": "call_1"}]),
    ToolMessage("18C, sunny", tool_call_id="call_1"),
    HumanMessage(
        [
            {"type": "text", "text": "And this?"},
            {"type": "image_url", "image_url": {"url": "https://x/cat.png"}},
        ]
    ),
]


def run_conversation(handler: OpenTelemetryCallbackHandler, answer: str = "Sunny, 18C.") -> None:
    run = chat_start(handler, messages=CONVERSATION, params={**PARAMS, "tools": TOOLS})
    handler.on_llm_end(chat_result(answer), run_id=run)


def test_no_content_by_default(otel: InMemoryTelemetry) -> None:
    """Without opt-in no prompt, completion or tool definition is recorded anywhere."""
    handler = otel.handler()
    assert handler.capture_content is CaptureMode.NO_CONTENT
    run_conversation(handler)
    attrs = otel.span(LLM).attributes or {}
    assert not any(k in attrs for k in CONTENT_KEYS)
    assert otel.logs() == []


@pytest.mark.parametrize(
    ("value", "mode"),
    [
        ("true", CaptureMode.SPAN_ONLY),
        ("TRUE", CaptureMode.SPAN_ONLY),
        ("false", CaptureMode.NO_CONTENT),
        ("span_and_event", CaptureMode.SPAN_AND_EVENT),
        ("Event_Only", CaptureMode.EVENT_ONLY),
        ("NO_CONTENT", CaptureMode.NO_CONTENT),
        ("", CaptureMode.NO_CONTENT),
    ],
)
def test_capture_mode_from_env(
    otel: InMemoryTelemetry, monkeypatch: pytest.MonkeyPatch, value: str, mode: CaptureMode
) -> None:
    """The environment variable's values, case-insensitive, with true/false aliases."""
    monkeypatch.setenv(CAPTURE_MESSAGE_CONTENT, value)
    assert otel.handler().capture_content is mode


def test_invalid_env_value_warns_and_captures_nothing(
    otel: InMemoryTelemetry, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A typo in the variable must not break start-up nor leak content: warning, NO_CONTENT."""
    monkeypatch.setenv(CAPTURE_MESSAGE_CONTENT, "yes please")
    with caplog.at_level(logging.WARNING):
        handler = otel.handler()
    assert handler.capture_content is CaptureMode.NO_CONTENT
    assert CAPTURE_MESSAGE_CONTENT in caplog.text


def test_invalid_argument_is_a_configuration_error() -> None:
    """A bad capture_content argument is a programming error: ConfigurationError naming it."""
    with pytest.raises(ConfigurationError) as info:
        OpenTelemetryCallbackHandler(capture_content="everything")
    assert info.value.setting == "capture_content"
    assert parse_capture_mode(True) is CaptureMode.SPAN_ONLY
    assert parse_capture_mode(False) is CaptureMode.NO_CONTENT


def test_argument_overrides_env(otel: InMemoryTelemetry, monkeypatch: pytest.MonkeyPatch) -> None:
    """An explicit argument wins over the environment."""
    monkeypatch.setenv(CAPTURE_MESSAGE_CONTENT, "SPAN_ONLY")
    assert otel.handler(capture_content="NO_CONTENT").capture_content is CaptureMode.NO_CONTENT


def test_history_system_message_stays_in_input(otel: InMemoryTelemetry) -> None:
    """A system message of the chat history is an input message, not a system instruction."""
    handler = otel.handler(capture_content="SPAN_ONLY")
    run = chat_start(handler, messages=[SystemMessage("Be brief."), HumanMessage("Hi")])
    handler.on_llm_end(chat_result("Hello"), run_id=run)
    attrs = otel.span(LLM).attributes or {}
    assert semconv.GEN_AI_SYSTEM_INSTRUCTIONS not in attrs
    assert json.loads(str(attrs[semconv.GEN_AI_INPUT_MESSAGES])) == [
        {"role": "system", "parts": [{"type": "text", "content": "Be brief."}]},
        {"role": "user", "parts": [{"type": "text", "content": "Hi"}]},
    ]


def test_span_only_parts_shape(otel: InMemoryTelemetry) -> None:
    """SPAN_ONLY: input/output messages, instructions and tool definitions in the parts shape."""
    handler = otel.handler(capture_content="SPAN_ONLY")
    run_conversation(handler)
    attrs = otel.span(LLM).attributes or {}
    assert json.loads(str(attrs[semconv.GEN_AI_SYSTEM_INSTRUCTIONS])) == [
        {"type": "text", "content": "You are terse."}
    ]
    assert json.loads(str(attrs[semconv.GEN_AI_INPUT_MESSAGES])) == [
        {"role": "user", "parts": [{"type": "text", "content": "Weather in Paris?"}]},
        {
            "role": "assistant",
            "parts": [
                {
                    "type": "tool_call",
                    "id": "call_1",
                    "name": "get_weather",
                    "arguments": {"city": "Paris"},
                }
            ],
        },
        {
            "role": "tool",
            "parts": [{"type": "tool_call_response", "id": "call_1", "response": "18C, sunny"}],
        },
        {
            "role": "user",
            "parts": [
                {"type": "text", "content": "And this?"},
                {"type": "uri", "modality": "image", "uri": "https://x/cat.png"},
            ],
        },
    ]
    assert json.loads(str(attrs[semconv.GEN_AI_OUTPUT_MESSAGES])) == [
        {
            "role": "assistant",
            "parts": [{"type": "text", "content": "Sunny, 18C."}],
            "finish_reason": "stop",
        }
    ]
    assert json.loads(str(attrs[semconv.GEN_AI_TOOL_DEFINITIONS])) == [
        {
            "type": "function",
            "name": "get_weather",
            "description": "Weather for a city",
            "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
        }
    ]
    assert otel.logs() == []


def test_text_completion_prompts(otel: InMemoryTelemetry) -> None:
    """Prompt strings become user messages."""
    handler = otel.handler(capture_content=True)
    run = uuid.uuid4()
    handler.on_llm_start({}, ["Once upon"], run_id=run, invocation_params={"model": "m"})
    handler.on_llm_end(chat_result("a time"), run_id=run)
    attrs = otel.span("text_completion m").attributes or {}
    assert json.loads(str(attrs[semconv.GEN_AI_INPUT_MESSAGES])) == [
        {"role": "user", "parts": [{"type": "text", "content": "Once upon"}]}
    ]


def test_event_only_emits_one_log_event_linked_to_the_span(
    otel: InMemoryTelemetry, clock: FakeClock
) -> None:
    """EVENT_ONLY: no content on the span; one inference-details log event, span-correlated."""
    handler = otel.handler(capture_content="EVENT_ONLY", clock=clock)
    run_conversation(handler)
    span = otel.span(LLM)
    assert not any(k in (span.attributes or {}) for k in CONTENT_KEYS)
    [event] = otel.logs()
    assert event.event_name == semconv.EVENT_INFERENCE_DETAILS
    assert (event.trace_id, event.span_id) == (span.context.trace_id, span.context.span_id)
    assert event.timestamp == span.end_time
    attrs = dict(event.attributes or {})
    assert set(CONTENT_KEYS) <= set(attrs)
    assert attrs[semconv.GEN_AI_OPERATION_NAME] == "chat"
    assert attrs[semconv.GEN_AI_RESPONSE_ID] == "chatcmpl-abc"
    assert json.loads(str(attrs[semconv.GEN_AI_OUTPUT_MESSAGES]))[0]["parts"][0]["content"] == (
        "Sunny, 18C."
    )


def test_span_and_event(otel: InMemoryTelemetry) -> None:
    """SPAN_AND_EVENT: the same content in both places."""
    handler = otel.handler(capture_content="SPAN_AND_EVENT")
    run_conversation(handler)
    attrs = otel.span(LLM).attributes or {}
    [event] = otel.logs(semconv.EVENT_INFERENCE_DETAILS)
    for key in CONTENT_KEYS:
        assert (event.attributes or {})[key] == attrs[key]


def test_failed_run_emits_its_event_with_the_error(otel: InMemoryTelemetry) -> None:
    """The event is emitted for failed runs too, carrying error.type and the input."""
    handler = otel.handler(capture_content="EVENT_ONLY")
    run = chat_start(handler)
    handler.on_llm_error(TimeoutError("late"), run_id=run)
    [event] = otel.logs()
    assert (event.attributes or {})[semconv.ERROR_TYPE] == "TimeoutError"
    assert semconv.GEN_AI_INPUT_MESSAGES in (event.attributes or {})


def test_truncation_keeps_valid_json_within_the_limit(otel: InMemoryTelemetry) -> None:
    """A huge prompt is cut to max_content_bytes and the attribute is still valid JSON."""
    handler = otel.handler(capture_content="SPAN_ONLY", max_content_bytes=1024)
    run = chat_start(handler, messages=[HumanMessage("é" * 5000)])
    handler.on_llm_end(chat_result("ok"), run_id=run)
    text = str((otel.span(LLM).attributes or {})[semconv.GEN_AI_INPUT_MESSAGES])
    assert len(text.encode("utf-8")) <= 1024
    [message] = json.loads(text)
    content = message["parts"][0]["content"]
    assert content.startswith("éé") and content.endswith("…[truncated]")


def test_long_history_keeps_its_head_and_a_marker(otel: InMemoryTelemetry) -> None:
    """100,000 messages: the first ones are recorded, then a marker, all valid JSON in the limit."""
    handler = otel.handler(capture_content="SPAN_ONLY", max_content_bytes=1024)
    history = [HumanMessage(f"m{i}") for i in range(100_000)]
    run = chat_start(handler, messages=history)
    handler.on_llm_end(chat_result("ok"), run_id=run)
    text = str((otel.span(LLM).attributes or {})[semconv.GEN_AI_INPUT_MESSAGES])
    assert len(text.encode("utf-8")) <= 1024
    kept = json.loads(text)
    assert kept[0] == {"role": "user", "parts": [{"type": "text", "content": "m0"}]}
    assert 10 < len(kept) < 100
    assert "…[truncated]" in json.dumps(kept[-1], ensure_ascii=False)


def test_huge_tool_arguments_and_result_are_cut_to_their_head(otel: InMemoryTelemetry) -> None:
    """A million-item argument and a 10 MB result: the head of each, within the limit."""
    handler = otel.handler(capture_content="SPAN_ONLY", max_content_bytes=2048)
    run = uuid.uuid4()
    handler.on_tool_start({"name": "t"}, "", run_id=run, inputs={"xs": list(range(10**6))})
    handler.on_tool_end("r" * 10_000_000, run_id=run)
    attrs = otel.span("execute_tool t").attributes or {}
    args = str(attrs[semconv.GEN_AI_TOOL_CALL_ARGUMENTS])
    assert json.loads(args)["xs"][:3] == [0, 1, 2]
    assert args.endswith('"…[truncated]"]}') and len(args.encode()) <= 2048
    result = str(attrs[semconv.GEN_AI_TOOL_CALL_RESULT])
    assert result.startswith("rrr") and result.endswith("…[truncated]")
    assert len(result.encode()) <= 2048


def test_invalid_max_content_bytes() -> None:
    """A nonsensical size limit is a ConfigurationError."""
    with pytest.raises(ConfigurationError) as info:
        OpenTelemetryCallbackHandler(max_content_bytes=10)
    assert info.value.setting == "max_content_bytes"


def test_redaction_applies_before_recording_span_and_event(otel: InMemoryTelemetry) -> None:
    """The redact hook sees every content value first; spans and events get its result."""
    seen: list[Any] = []

    def redact(content: Any) -> Any:
        seen.append(content)
        return json.loads(json.dumps(content).replace("Paris", "[CITY]"))

    handler = otel.handler(capture_content="SPAN_AND_EVENT", redact=redact)
    run_conversation(handler, answer="Paris is sunny")
    attrs = otel.span(LLM).attributes or {}
    [event] = otel.logs()
    for key in (semconv.GEN_AI_INPUT_MESSAGES, semconv.GEN_AI_OUTPUT_MESSAGES):
        assert "Paris" not in str(attrs[key])
        assert "[CITY]" in str(attrs[key])
        assert (event.attributes or {})[key] == attrs[key]
    assert len(seen) == 4  # input, instructions, tool definitions, output


def test_redaction_returning_none_drops_that_content(otel: InMemoryTelemetry) -> None:
    """A redact hook may veto a value by returning None."""

    def drop_inputs(content: Any) -> Any:
        if isinstance(content, list) and content and content[0].get("role") == "user":
            return None
        return content

    handler = otel.handler(capture_content="SPAN_ONLY", redact=drop_inputs)
    run = chat_start(handler)
    handler.on_llm_end(chat_result(), run_id=run)
    attrs = otel.span(LLM).attributes or {}
    assert semconv.GEN_AI_INPUT_MESSAGES not in attrs
    assert semconv.GEN_AI_OUTPUT_MESSAGES in attrs


def test_failing_redaction_drops_content_and_is_logged_once(
    otel: InMemoryTelemetry, caplog: pytest.LogCaptureFixture
) -> None:
    """A redact hook that raises: content dropped (never recorded raw), logged once, no error."""

    def broken(content: Any) -> Any:
        raise RuntimeError("regex exploded")

    handler = otel.handler(capture_content="SPAN_AND_EVENT", redact=broken)
    with caplog.at_level(logging.WARNING, logger="otel_llm.telemetry"):
        for _ in range(3):
            run_conversation(handler)
    for span in otel.spans(LLM):
        assert not any(k in (span.attributes or {}) for k in CONTENT_KEYS)
    for event in otel.logs():
        assert not any(k in (event.attributes or {}) for k in CONTENT_KEYS)
    assert handler.failures.counts() == {"redact:RuntimeError": 12}
    assert len([r for r in caplog.records if "redact" in r.getMessage()]) == 1
