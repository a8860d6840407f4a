"""The server as its own process: ``python -m otel_llm.devserver`` and ``main(argv)``."""

from __future__ import annotations

import signal
import subprocess
import sys

import openai
import pytest

from otel_llm.devserver import main


def test_module_prints_url_serves_and_stops_on_sigterm() -> None:
    """``python -m otel_llm.devserver --port 0`` prints its URL first, answers the SDK,
    and exits 0 promptly on SIGTERM."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "otel_llm.devserver", "--port", "0", "--chunk-delay", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:")
        with openai.OpenAI(base_url=url + "/v1", api_key="sk-test", max_retries=0) as client:
            r = client.chat.completions.create(
                model="gpt-4o-mini", messages=[{"role": "user", "content": "1 + 2 ="}]
            )
            assert r.choices[0].message.content == "3"
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=5) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.stderr is not None and "Traceback" not in proc.stderr.read()


def test_main_rejects_a_missing_recording(capsys: pytest.CaptureFixture[str]) -> None:
    """``main`` returns 1 with a message naming the file when a recording does not exist."""
    assert main(["--port", "0", "--replay", "no_such_recording"]) == 1
    assert "no_such_recording" in capsys.readouterr().err
