"""Orchestrator side of the worker protocol, and the model server's process.

A worker is spawned with its venv's interpreter from the repository root (so
``bench`` imports), answers one JSON line per command, and is told to quit;
a worker that dies or answers an error raises ``WorkerError`` carrying its
stderr tail.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

__all__ = ["ROOT", "Worker", "WorkerError", "model_server"]

ROOT = Path(__file__).resolve().parents[2]


class WorkerError(RuntimeError):
    pass


class Worker:
    """A live contender process; ``ask`` sends a command and returns its answer."""

    def __init__(self, contender: str, python: str, url: str | None,
                 env: Mapping[str, str] | None = None) -> None:
        self.contender = contender
        self._stderr = tempfile.TemporaryFile(mode="w+")  # noqa: SIM115 (closed in close())
        cmd = [python, "-m", "bench.peers.worker", "--contender", contender]
        if url:
            cmd += ["--url", url]
        full_env = {**os.environ, **(env or {}), "PYTHONPATH": str(ROOT)}
        full_env.pop("PYTHONSTARTUP", None)
        self.proc = subprocess.Popen(cmd, cwd=ROOT, env=full_env, stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=self._stderr, text=True)
        self.hello = self._read()
        self.available = bool(self.hello.get("ready"))

    def ask(self, **cmd: Any) -> dict[str, Any]:
        assert self.proc.stdin is not None
        try:
            self.proc.stdin.write(json.dumps(cmd) + "\n")
            self.proc.stdin.flush()
        except BrokenPipeError:
            raise WorkerError(f"{self.contender} died:\n{self.stderr_tail()}") from None
        answer = self._read()
        if "error" in answer:
            raise WorkerError(f"{self.contender} failed on {cmd}:\n{answer['error']}")
        return answer

    def _read(self) -> dict[str, Any]:
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line:
            self.proc.wait(10)
            raise WorkerError(f"{self.contender} exited ({self.proc.returncode}):\n"
                              f"{self.stderr_tail()}")
        answer: dict[str, Any] = json.loads(line)
        return answer

    def stderr_tail(self, chars: int = 4000) -> str:
        self._stderr.flush()
        self._stderr.seek(0)
        return self._stderr.read()[-chars:]

    def close(self) -> None:
        if self.proc.poll() is None:
            try:
                assert self.proc.stdin is not None
                self.proc.stdin.write('{"cmd": "quit"}\n')
                self.proc.stdin.close()
                self.proc.wait(20)
            except (BrokenPipeError, subprocess.TimeoutExpired):
                self.proc.kill()
                self.proc.wait()
        self._stderr.close()

    def __enter__(self) -> Worker:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@contextmanager
def model_server(python: str = sys.executable) -> Iterator[str]:
    """``python -m otel_llm.devserver --port 0`` in its own process; yields its ``/v1`` URL."""
    # Its stderr (connection resets when workers quit) goes to a file, shown if it fails.
    log = tempfile.TemporaryFile(mode="w+")  # noqa: SIM115 (closed in finally)
    proc = subprocess.Popen([python, "-m", "otel_llm.devserver", "--port", "0"], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=log, text=True)
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().strip()
        if not url.startswith("http"):
            log.seek(0)
            raise RuntimeError(f"the model server did not start: {url!r}\n{log.read()[-2000:]}")
        yield url + "/v1"
    finally:
        log.close()
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
