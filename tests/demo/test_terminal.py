"""Terminal rendering: span trees, metric rows, wrapping, charset fallback and the spinner."""

from __future__ import annotations

import io
import re
import time

from opentelemetry.trace import Status, StatusCode

from otel_llm import semconv
from otel_llm.demo.console import ASCII, UNICODE, Console, display_width
from otel_llm.demo.metrics import render_metrics
from otel_llm.demo.progress import Progress
from otel_llm.demo.spans import render_traces
from otel_llm.testing import InMemoryTelemetry


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def _tree(console: Console) -> None:
    """Two traces: a root with a streamed (estimated) child and a failed grandchild."""
    with InMemoryTelemetry() as otel:
        tracer = otel.tracer_provider.get_tracer("test")
        with tracer.start_as_current_span("demo: one"):
            with tracer.start_as_current_span("chat m1") as chat:
                chat.set_attributes({
                    semconv.GEN_AI_USAGE_INPUT_TOKENS: 12,
                    semconv.GEN_AI_USAGE_OUTPUT_TOKENS: 34,
                    semconv.OTEL_LLM_USAGE_ESTIMATED: True,
                    semconv.GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK: 0.0456,
                })
                with tracer.start_as_current_span("execute_tool search") as tool:
                    tool.set_attribute(semconv.ERROR_TYPE, "TimeoutError")
                    tool.set_status(Status(StatusCode.ERROR, "timed out"))
            tracer.start_span("chat m2").end()
        tracer.start_span("demo: two").end()
        render_traces(console, otel.spans())


def test_span_tree_indents_by_parent_and_shows_usage_ttft_and_errors() -> None:
    """Children under their parent with tree glyphs; estimated usage, TTFT and ERROR shown."""
    out = io.StringIO()
    _tree(Console(out))
    lines = out.getvalue().splitlines()
    # tree rows: the name, padded to 36 columns, then the duration right-aligned in 10
    body = [line[:36].rstrip() for line in lines if re.fullmatch(r" *[\d.]+ ms", line[36:46])]
    assert body == ["demo: one", "├─ chat m1", "│  └─ execute_tool search",
                        "└─ chat m2", "demo: two"]
    text = "\n".join(lines)
    assert "12 in, 34 out (estimated)  TTFT" in text
    assert "TTFT 45.6 ms" in text and "ERROR TimeoutError" in text
    assert "Traces (2, 5 spans)" in text
    assert all(display_width(line) <= 80 for line in lines)


def test_a_terminal_without_utf8_gets_ascii_glyphs_and_no_encoding_errors() -> None:
    """ASCII tree glyphs and spinner; characters it cannot encode become '?', never raise."""
    raw = io.BytesIO()
    stream = io.TextIOWrapper(raw, encoding="ascii")
    console = Console(stream)  # type: ignore[arg-type]
    assert console.glyphs is ASCII and Console(io.StringIO()).glyphs is UNICODE
    console.line("shop: 生日快乐")
    _tree(console)
    stream.flush()
    text = raw.getvalue().decode("ascii")
    assert "shop: ????" in text and "|- chat m1" in text and "|  `- execute_tool" in text


def test_wrapping_counts_wide_characters_twice_and_breaks_english_at_spaces() -> None:
    """CJK lines break at 80 cells; English words are never split; long text is cut with ..."""
    out = io.StringIO()
    console = Console(out)
    console.wrap("生" * 50, "    ", first="  A: ")
    console.wrap("word " * 40, "    ", first="  B: ", max_lines=2)
    lines = out.getvalue().splitlines()
    assert [display_width(line) for line in lines[:2]] == [79, 30]
    assert lines[1] == "    " + "生" * (50 - 37)
    english = lines[2:]
    assert len(english) == 2 and english[0].startswith("  B: word") and english[1].endswith("…")
    words = " ".join(english).removeprefix("  B: ").removesuffix("…").split()
    assert set(words) <= {"word", "wor", "wo", "w"} and words[:-1] == ["word"] * (len(words) - 1)


def test_metric_rows_show_what_differs_and_print_shared_attributes_once() -> None:
    """Shared attributes once on top; rows labelled by model, token type and error type."""
    with InMemoryTelemetry() as otel:
        meter = otel.meter_provider.get_meter("test")
        usage = meter.create_histogram(semconv.METRIC_TOKEN_USAGE)
        duration = meter.create_histogram(semconv.METRIC_OPERATION_DURATION)
        common = {semconv.GEN_AI_OPERATION_NAME: "chat", semconv.SERVER_PORT: 1234}
        for tokens in (10, 30):
            usage.record(tokens, {**common, semconv.GEN_AI_REQUEST_MODEL: "m",
                                  semconv.GEN_AI_TOKEN_TYPE: "input"})
        duration.record(0.25, {**common, semconv.GEN_AI_REQUEST_MODEL: "m",
                               semconv.ERROR_TYPE: "openai.RateLimitError"})
        out = io.StringIO()
        render_metrics(Console(out), {name: otel.metric_points(name)
                                      for name in otel.metric_names()})
    lines = out.getvalue().splitlines()
    assert "  every point: gen_ai.operation.name=chat, server.port=1234" in lines
    assert lines.index("gen_ai.client.token.usage ({token})") < lines.index(
        "gen_ai.client.operation.duration (s)"), "semconv order, not alphabetical"
    assert any(line.split() == ["m", "input", "2", "40", "20", "30"] for line in lines)
    assert any(line.split() == ["m", "openai.RateLimitError", "1", "250", "ms", "250", "ms",
                                "250", "ms"] for line in lines)


def test_spinner_draws_only_on_an_empty_line_and_erases_itself() -> None:
    """Mid-line (streamed tokens) the spinner stays away; at a line start it spins, then clears."""
    out, err = io.StringIO(), _Terminal()
    console = Console(out)
    progress = Progress(console, 1, spinner=True, err=err)
    with progress.step(1, "working"):
        console.write("    tok|tok")  # a token line in progress
        time.sleep(0.35)
        assert err.getvalue() == ""
        console.line()
        time.sleep(0.35)
        assert "[1/1] working" in err.getvalue()
    drawn = err.getvalue()
    assert drawn.endswith("\r") and drawn.rstrip("\r ").count("\r") >= 1
    assert "\r" not in out.getvalue(), "the demo's own output is never touched"


def test_without_a_terminal_progress_is_plain_step_lines() -> None:
    """Not a TTY: '[i/n] title' lines in the output and nothing on stderr."""
    out, err = io.StringIO(), io.StringIO()
    progress = Progress(Console(out), 2, spinner=False, err=err)
    with progress.step(1, "first"):
        time.sleep(0.15)
    with progress.step(2, "second"):
        pass
    assert [line for line in out.getvalue().splitlines() if line] == ["[1/2] first",
                                                                      "[2/2] second"]
    assert err.getvalue() == ""
