"""``otel-llm demo`` as users run it: a clean environment, a terminal, or their own server."""

from __future__ import annotations

import io
import os
import pty
import re
import select
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from otel_llm.demo import run_demo
from otel_llm.demo.export import collector_answers
from otel_llm.demo.scenarios import GATHER_QUESTIONS
from otel_llm.devserver import ModelServer
from tests.demo.conftest import clean_environ, server_usage

_CLI = Path(sys.executable).with_name("otel-llm")


def _cli() -> list[str]:
    found = shutil.which("otel-llm", path=str(_CLI.parent))
    return [found] if found else [sys.executable, "-m", "otel_llm.cli"]


def test_cli_demo_in_a_clean_environment_uses_the_embedded_server_and_shows_telemetry() -> None:
    """No key, no collector: embedded server, plain step lines (not a TTY), trees and table."""
    assert not collector_answers(), "this test needs nothing listening on localhost:4317"
    proc = subprocess.run([*_cli(), "demo"], env=clean_environ(), capture_output=True,
                          text=True, encoding="utf-8", timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    out = proc.stdout
    assert "model:   embedded model server at http://127.0.0.1:" in out
    assert "nothing answers on localhost:4317" in " ".join(out.split())
    for step in ("[1/4] Flower shop", "[2/4] A three-turn conversation",
                 "[3/4] Three concurrent calls", "[4/4] A failing call"):
        assert step in out
    assert "  sync handler, token by token:" in out and "async handler: have a nice day!" in out
    assert "Traces (4, 12 spans)" in out and "gen_ai.client.token.usage ({token})" in out
    assert "ERROR openai.RateLimitError" in out
    assert proc.stderr == "" and "\r" not in out


def test_cli_demo_on_a_terminal_spins_between_lines_only() -> None:
    """On a TTY a spinner with elapsed time is drawn, but never inside the streamed tokens."""
    pid, fd = pty.fork()
    if pid == 0:  # child: the demo on the pseudo-terminal; never return into pytest
        try:
            cmd = _cli()
            os.execve(cmd[0], [*cmd, "demo"], clean_environ())
        finally:
            os._exit(127)
    chunks, deadline = [], time.monotonic() + 60
    while time.monotonic() < deadline:
        if not select.select([fd], [], [], 1.0)[0]:
            continue
        try:
            data = os.read(fd, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    else:
        os.kill(pid, signal.SIGKILL)
    _, status = os.waitpid(pid, 0)
    os.close(fd)
    text = b"".join(chunks).decode("utf-8", "replace")
    assert os.waitstatus_to_exitcode(status) == 0, text[-2000:]
    frames = re.findall(r"\[(\d)/4\] [^\r\n]*?\s+(\d+\.\d) s\r", text)
    # steps 1 and 3 stream for over a second; 2 and 4 may end before the first frame
    assert {step for step, _ in frames} >= {"1", "3"}
    assert any(float(seconds) >= 0.2 for _, seconds in frames), "elapsed time advances"
    tokens = text[text.index("token by token:"):text.index("arranging the suggestions")]
    assert "[1/4]" not in tokens and "   \r" not in tokens, "no spinner inside the token lines"


@pytest.mark.usefixtures("clean_env")
def test_a_compatible_server_from_openai_base_url_is_used_with_the_given_key_and_model(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """OPENAI_BASE_URL + a dummy key + OTEL_LLM_DEMO_MODEL: every request goes there."""
    with ModelServer(chunk_delay=0.005, api_key="sk-dummy-compatible") as server:
        base_url = server.base_url
        monkeypatch.setenv("OPENAI_BASE_URL", base_url)
        monkeypatch.setenv("OPENAI_API_KEY", "sk-dummy-compatible")
        monkeypatch.setenv("OTEL_LLM_DEMO_MODEL", "gpt-4o")
        out = io.StringIO()
        assert run_demo(out=out, err=io.StringIO(), export="memory") == 0
        chats = [r for r in server.requests if r.path.endswith("/chat/completions")]
    text = out.getvalue()
    assert f"OpenAI-compatible server at {base_url}, model gpt-4o" in " ".join(text.split())
    assert "sk-dummy-compatible" not in text, "the key is never printed"
    assert len(chats) == 8
    assert all(r.headers["authorization"] == "Bearer sk-dummy-compatible" for r in chats)
    assert sorted({r.body["model"] for r in chats}) == ["error-404", "gpt-4o"]
    assert "caught openai.NotFoundError (404): The model `error-404` does not exist" in text
    gather = [r for r in chats if r.body["messages"][-1]["content"] in
              {q for q, _ in GATHER_QUESTIONS}]
    total = sum(u.total for u in server_usage(gather))
    assert f"equals the sum of the three calls: {total} tokens" in text
