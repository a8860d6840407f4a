"""Failed runs: the error's type, code and status recorded; its message only as redacted content."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import openai
import pytest
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.trace import StatusCode

from otel_llm import semconv
from otel_llm.instrumentation.openai import wrap_openai
from otel_llm.testing.otel import InMemoryTelemetry

from .events import chat_start

PROMPT = "my secret diagnosis is XYZZY-42"


class _EchoingProvider(BaseHTTPRequestHandler):
    """Answers every chat call with a 400 whose message quotes the prompt, as some providers do."""

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        quoted = body["messages"][-1]["content"]
        payload = json.dumps(
            {
                "error": {
                    "message": f"Invalid 'messages[0].content': {quoted!r} is not allowed.",
                    "type": "invalid_request_error",
                    "param": "messages",
                    "code": "invalid_value",
                }
            }
        ).encode()
        self.send_response(400)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def echoing_provider() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _EchoingProvider)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    server.shutdown()
    server.server_close()


def failing_call(base_url: str, handler: Any) -> ReadableSpan:
    """One real SDK call over HTTP that the provider rejects with the prompt quoted."""
    with openai.OpenAI(base_url=base_url, api_key="sk-test", max_retries=0) as raw:
        client = wrap_openai(raw, callbacks=[handler])
        with pytest.raises(openai.BadRequestError) as info:
            client.chat.completions.create(
                model="gpt-4o-mini", messages=[{"role": "user", "content": PROMPT}]
            )
    assert PROMPT in str(info.value)  # the app still gets the provider's full message
    return info.value  # type: ignore[return-value]


def exception_event(span: ReadableSpan) -> dict[str, Any]:
    [event] = [e for e in span.events if e.name == semconv.EVENT_EXCEPTION]
    return dict(event.attributes or {})


def everything_recorded(span: ReadableSpan) -> str:
    """Every string the span carries: attributes, status, event attributes."""
    texts = [str(v) for v in (span.attributes or {}).values()]
    texts.append(span.status.description or "")
    texts += [str(v) for e in span.events for v in (e.attributes or {}).values()]
    return "\n".join(texts)


def test_content_off_keeps_the_prompt_out_of_message_stacktrace_and_status(
    otel: InMemoryTelemetry, echoing_provider: str
) -> None:
    """Default (no content): type, provider code and HTTP status recorded; the quoted prompt
    appears nowhere, and the stack trace keeps its frames."""
    failing_call(echoing_provider, otel.handler())
    [span] = otel.spans()
    assert span.status.status_code is StatusCode.ERROR
    assert span.status.description == "openai.BadRequestError (invalid_value)"
    attrs = span.attributes or {}
    assert attrs[semconv.ERROR_TYPE] == "openai.BadRequestError"
    assert attrs[semconv.OTEL_LLM_ERROR_CODE] == "invalid_value"
    assert attrs[semconv.HTTP_RESPONSE_STATUS_CODE] == 400
    event = exception_event(span)
    assert event[semconv.EXCEPTION_TYPE] == "openai.BadRequestError"
    assert semconv.EXCEPTION_MESSAGE not in event
    stacktrace = str(event[semconv.EXCEPTION_STACKTRACE])
    assert stacktrace.startswith("Traceback (most recent call last):")
    assert stacktrace.rstrip().endswith("openai.BadRequestError")
    assert "XYZZY" not in everything_recorded(span)


def test_content_on_records_the_message_through_the_redact_hook(
    otel: InMemoryTelemetry, echoing_provider: str
) -> None:
    """With content on, the message is content: it passes the redact hook before the event,
    the stack trace and the status get it."""

    def redact(content: Any) -> Any:
        return json.loads(json.dumps(content).replace("XYZZY-42", "[ID]"))

    failing_call(echoing_provider, otel.handler(capture_content="SPAN_ONLY", redact=redact))
    [span] = otel.spans()
    event = exception_event(span)
    message = str(event[semconv.EXCEPTION_MESSAGE])
    assert "my secret diagnosis is [ID]" in message
    assert str(event[semconv.EXCEPTION_STACKTRACE]).rstrip().endswith(message)
    assert span.status.description == message
    assert "XYZZY" not in everything_recorded(span)


def test_a_failing_redact_hook_records_no_message(otel: InMemoryTelemetry) -> None:
    """Content on but the hook raises: no message anywhere, the failure is counted."""

    def broken(content: Any) -> Any:
        raise RuntimeError("regex exploded")

    handler = otel.handler(capture_content="SPAN_ONLY", redact=broken)
    run = chat_start(handler, messages=[])
    handler.on_llm_error(ValueError(PROMPT), run_id=run)
    [span] = otel.spans()
    assert "XYZZY" not in everything_recorded(span)
    assert span.status.description == "ValueError"
    assert handler.failures.counts()["redact:RuntimeError"] >= 1


def test_chained_exceptions_keep_their_layout_without_messages(otel: InMemoryTelemetry) -> None:
    """A wrapped provider error: both tracebacks and types, linked as Python prints them,
    and neither message when content is off."""
    handler = otel.handler()
    run = chat_start(handler)
    try:
        try:
            raise KeyError(PROMPT)
        except KeyError as inner:
            raise RuntimeError(f"call failed: {PROMPT}") from inner
    except RuntimeError as outer:
        handler.on_llm_error(outer, run_id=run)
    stacktrace = str(exception_event(otel.spans()[0])[semconv.EXCEPTION_STACKTRACE])
    assert stacktrace.count("Traceback (most recent call last):") == 2
    assert "KeyError\n\nThe above exception was the direct cause" in stacktrace
    assert stacktrace.rstrip().endswith("RuntimeError")
    assert "XYZZY" not in stacktrace


@pytest.mark.parametrize(
    ("error", "error_type"),
    [("boom", semconv.ERROR_TYPE_OTHER), (ValueError, "ValueError"), (42, "_OTHER")],
)
def test_errors_that_are_not_exceptions_end_the_span_error(
    otel: InMemoryTelemetry, error: Any, error_type: str
) -> None:
    """on_*_error with a string, a class or anything else: ERROR with a sensible error.type."""
    handler = otel.handler()
    for start, fail in (
        (lambda r: chat_start(handler, run_id=r), handler.on_llm_error),
        (lambda r: handler.on_tool_start({"name": "t"}, "", run_id=r), handler.on_tool_error),
        (lambda r: handler.on_chain_start({"name": "c"}, {}, run_id=r), handler.on_chain_error),
    ):
        run = uuid.uuid4()
        start(run)
        fail(error, run_id=run)
    spans = otel.spans()
    assert len(spans) == 3 and handler.open_runs == 0
    for span in spans:
        assert span.status.status_code is StatusCode.ERROR
        assert (span.attributes or {})[semconv.ERROR_TYPE] == error_type
        assert exception_event(span)[semconv.EXCEPTION_TYPE] == error_type
    assert handler.failures.counts() == {}


def test_a_string_error_is_its_message_when_content_is_on(otel: InMemoryTelemetry) -> None:
    """on_llm_error("boom") with content on: the text is the message and the status."""
    handler = otel.handler(capture_content="SPAN_ONLY")
    run = chat_start(handler)
    handler.on_llm_error("boom", run_id=run)  # type: ignore[arg-type]
    [span] = otel.spans()
    assert exception_event(span)[semconv.EXCEPTION_MESSAGE] == "boom"
    assert span.status.description == "boom"
