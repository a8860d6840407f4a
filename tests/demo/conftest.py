"""Fixtures for the demo tests: a clean environment, one shared in-memory demo run, and
the devserver's own usage numbers for the requests the demo sent (replayed over HTTP)."""

from __future__ import annotations

import io
import json
import os
import urllib.request
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import pytest

from otel_llm.demo import run_demo
from otel_llm.devserver import ModelServer, RecordedRequest

_ENV_PREFIXES = ("OPENAI_", "OTEL_")


def clean_environ() -> dict[str, str]:
    """This process's environment without any OpenAI or OpenTelemetry setting."""
    return {k: v for k, v in os.environ.items() if not k.startswith(_ENV_PREFIXES)}


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """No OPENAI_* / OTEL_* variable from the shell reaches the demo."""
    for name in list(os.environ):
        if name.startswith(_ENV_PREFIXES):
            monkeypatch.delenv(name)


@dataclass
class DemoRun:
    code: int
    out: str
    err: str
    server: ModelServer

    @property
    def lines(self) -> list[str]:
        return self.out.splitlines()

    def chat_requests(self) -> list[RecordedRequest]:
        return [r for r in self.server.requests if r.path.endswith("/chat/completions")]


@pytest.fixture(scope="module")
def memory_run() -> Iterator[DemoRun]:
    """The demo once, on its embedded server (handed in so tests can read its requests)."""
    with pytest.MonkeyPatch.context() as mp, ModelServer(chunk_delay=0.02) as server:
        for name in list(os.environ):
            if name.startswith(_ENV_PREFIXES):
                mp.delenv(name)
        out, err = io.StringIO(), io.StringIO()
        code = run_demo(out=out, err=err, export="memory", server=server)
        yield DemoRun(code, out.getvalue(), err.getvalue(), server)


@dataclass(frozen=True)
class Usage:
    prompt: int
    completion: int

    @property
    def total(self) -> int:
        return self.prompt + self.completion


def server_usage(requests: Sequence[RecordedRequest]) -> list[Usage]:
    """What a fresh devserver reports as usage for the same request bodies (streams included)."""
    usages = []
    with ModelServer() as fresh:
        for request in requests:
            body: dict[str, Any] = dict(request.body)
            if body.get("stream"):
                body["stream_options"] = {"include_usage": True}
            req = urllib.request.Request(
                f"{fresh.base_url}/chat/completions", data=json.dumps(body).encode(),
                headers={"content-type": "application/json", "authorization": "Bearer sk-x"},
            )
            with urllib.request.urlopen(req, timeout=10) as reply:
                text = reply.read().decode()
            usage = _usage(text, bool(body.get("stream")))
            usages.append(Usage(usage["prompt_tokens"], usage["completion_tokens"]))
    return usages


def _usage(text: str, stream: bool) -> dict[str, int]:
    if not stream:
        found: dict[str, int] = json.loads(text)["usage"]
        return found
    for line in text.splitlines():
        if line.startswith("data: {"):
            chunk = json.loads(line[len("data: "):])
            if chunk.get("usage"):
                return dict(chunk["usage"])
    raise AssertionError("the stream carried no usage chunk")
