"""Built-in handlers: stdout event log, streaming stdout, file log."""

from __future__ import annotations

import asyncio
import gc
import io
import os
import threading
from pathlib import Path

import pytest

from otel_llm.callbacks import (
    CallbackManager,
    FileCallbackHandler,
    StdOutCallbackHandler,
    StreamingStdOutCallbackHandler,
)
from otel_llm.schema import AgentAction, Document
from otel_llm.testing.fake import FakeChain, FakeChatModel


def _open_fds_for(path: Path) -> int:
    fd_dir = Path("/proc/self/fd")
    n = 0
    for fd in fd_dir.iterdir():
        try:
            if os.readlink(fd) == str(path):
                n += 1
        except OSError:
            pass
    return n


def test_stdout_handler_logs_llm_runs_with_model_usage_and_answer() -> None:
    """Unlike LangChain's, our stdout log shows LLM runs: model, prompt, tokens, duration, answer."""
    buf = io.StringIO()
    FakeChatModel(["Roses, lilies, tulips."], model_name="gpt-4o-mini").invoke(
        "Which flowers for a birthday?", {"callbacks": [StdOutCallbackHandler(stream=buf)]})
    out = buf.getvalue()
    assert "[chat start] FakeChatModel gpt-4o-mini 1 message(s), last: Which flowers" in out
    assert "[llm end] (" in out
    assert "tokens in=8 out=3 total=11" in out
    assert "answer: Roses, lilies, tulips." in out
    assert "\x1b[" not in out, "no colour codes when the stream is not a terminal"


def test_stdout_handler_colours_when_asked_and_logs_errors_tools_retrievers() -> None:
    """color=True paints lines; errors, tools, retrievers and agent actions have readable lines."""
    buf = io.StringIO()
    h = StdOutCallbackHandler(color=True, stream=buf)
    mgr = CallbackManager([h], [h])
    chain = mgr.on_chain_start({"name": "Agent"}, {})
    child = chain.get_child()
    chain.on_agent_action(AgentAction("search", "roses", log="Thought: search roses"))
    tool = child.on_tool_start({"name": "search"}, "roses")
    tool.on_tool_end("3 results")
    retr = child.on_retriever_start({"name": "kb"}, "roses")
    retr.on_retriever_end([Document("a"), Document("b")])
    with pytest.raises(ValueError):
        FakeChatModel(error=ValueError("bad request")).invoke("q", {"callbacks": child})
    chain.on_chain_error(KeyError("x"))
    out = buf.getvalue()
    assert "\x1b[" in out
    for needle in ("Entering new Agent chain", "Thought: search roses", "[tool start] search",
                   "output: 3 results", "[retriever start] kb", "2 document(s)",
                   "[llm error]", "ValueError: bad request", "[chain error]", "KeyError"):
        assert needle in out, needle


def test_streaming_stdout_prints_tokens_as_they_arrive() -> None:
    """Each token is written and flushed immediately, with nothing in between."""
    buf = io.StringIO()
    FakeChatModel(["one two three"], streaming=True).invoke(
        "q", {"callbacks": [StreamingStdOutCallbackHandler(stream=buf)]})
    assert buf.getvalue() == "one two three"


def test_file_handler_appends_the_log_and_closes_the_file_after_the_run(tmp_path: Path) -> None:
    """The file is written, and no handle stays open once the root run has ended."""
    log = tmp_path / "output.log"
    handler = FileCallbackHandler(log)
    chain = FakeChain(FakeChatModel(["3"]), "1 + {number} = ", callbacks=[handler])
    assert chain.run(number=2) == "3"
    assert _open_fds_for(log) == 0
    chain.run(number=5)
    text = log.read_text()
    assert text.count("> Entering new LLMChain chain...") == 2
    assert "Prompt after formatting:\n1 + 2 = " in text and "1 + 5 = " in text
    assert "\x1b[" not in text


def test_file_handler_as_context_manager_closes_even_if_a_run_never_ended(tmp_path: Path) -> None:
    """Leaving the with-block closes the file although a root run is still open."""
    log = tmp_path / "ctx.log"
    with FileCallbackHandler(log, mode="w") as handler:
        CallbackManager([handler]).on_chain_start({"name": "never-ends"}, {})
        assert _open_fds_for(log) == 1
    assert _open_fds_for(log) == 0
    assert "never-ends" in log.read_text()


def test_file_handler_is_closed_when_collected_without_relying_on_del(tmp_path: Path) -> None:
    """An abandoned handler's open file is closed by a weakref finalizer when collected."""
    log = tmp_path / "gc.log"
    handler = FileCallbackHandler(log)
    CallbackManager([handler]).on_chain_start({"name": "x"}, {})
    assert _open_fds_for(log) == 1
    del handler
    gc.collect()
    assert _open_fds_for(log) == 0
    assert not hasattr(FileCallbackHandler, "__del__")


def test_file_handler_keeps_lines_whole_under_threads_and_tasks(tmp_path: Path) -> None:
    """8 threads and 50 tasks writing through one handler produce only whole lines."""
    log = tmp_path / "concurrent.log"
    handler = FileCallbackHandler(log)
    model = FakeChatModel(["answer " * 50])

    def worker() -> None:
        for _ in range(20):
            model.invoke("q", {"callbacks": [handler]})

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    async def tasks() -> None:
        await asyncio.gather(*(model.ainvoke("q", {"callbacks": [handler]}) for _ in range(50)))

    asyncio.run(tasks())
    handler.close()
    lines = log.read_text().splitlines()
    assert len(lines) == (8 * 20 + 50) * 2
    assert all(line.startswith(("[chat start]", "[llm end]")) for line in lines)
    assert _open_fds_for(log) == 0


def test_file_handler_rejects_a_bad_mode_at_construction(tmp_path: Path) -> None:
    """A mode that could read or corrupt the log is refused up front."""
    with pytest.raises(ValueError, match="mode"):
        FileCallbackHandler(tmp_path / "x.log", mode="r")
