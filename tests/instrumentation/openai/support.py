"""Shared test helpers: a recording handler and the request every test sends."""

from __future__ import annotations

import json
import threading
import urllib.request
from collections.abc import Iterable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from uuid import UUID

from otel_llm.callbacks import BaseCallbackHandler

USER = [{"role": "user", "content": "Say something short."}]
#: A stream the devserver cuts after four chunks.
DROP_MODEL = "gpt-4o-mini+len=10+error=drop:4"


def read_until_cut(stream: Iterable[Any]) -> tuple[BaseException, int]:
    """Read a stream the server cuts: what the caller gets (its type is the SDK version's
    business), and after how many chunks."""
    seen = 0
    try:
        for _ in stream:
            seen += 1
    except Exception as exc:
        return exc, seen
    raise AssertionError("the cut stream ended without an error")


@dataclass
class Event:
    hook: str
    run_id: UUID
    payload: Any
    kwargs: dict[str, Any]


class Recorder(BaseCallbackHandler):
    """Collects every LLM event with its run id, in order."""

    def __init__(self) -> None:
        self.events: list[Event] = []

    def _add(self, hook: str, payload: Any, kw: dict[str, Any]) -> None:
        self.events.append(Event(hook, kw["run_id"], payload, kw))

    def on_chat_model_start(self, serialized, messages, **kw):  # type: ignore[no-untyped-def]
        self._add("chat_start", messages, {"serialized": serialized, **kw})

    def on_llm_start(self, serialized, prompts, **kw):  # type: ignore[no-untyped-def]
        self._add("llm_start", prompts, {"serialized": serialized, **kw})

    def on_llm_new_token(self, token, **kw):  # type: ignore[no-untyped-def]
        self._add("token", token, kw)

    def on_llm_end(self, response, **kw):  # type: ignore[no-untyped-def]
        self._add("end", response, kw)

    def on_llm_error(self, error, **kw):  # type: ignore[no-untyped-def]
        self._add("error", error, kw)

    # --- views ----------------------------------------------------------------------
    @property
    def hooks(self) -> list[str]:
        return [e.hook for e in self.events]

    def only(self, hook: str) -> Event:
        found = [e for e in self.events if e.hook == hook]
        assert len(found) == 1, f"{len(found)} {hook} events: {self.hooks}"
        return found[0]

    @property
    def tokens(self) -> list[str]:
        return [e.payload for e in self.events if e.hook == "token"]

    def ends(self) -> list[Event]:
        """End events (``end`` and ``error``): a run must have exactly one."""
        return [e for e in self.events if e.hook in ("end", "error")]

    def assert_one_run_ended_once(self) -> Event:
        starts = [e for e in self.events if e.hook in ("chat_start", "llm_start")]
        assert len(starts) == 1, self.hooks
        ends = self.ends()
        assert len(ends) == 1, self.hooks
        assert ends[0].run_id == starts[0].run_id
        assert all(e.run_id == starts[0].run_id for e in self.events)
        return ends[0]

    @property
    def llm_output(self) -> dict[str, Any]:
        return self.only("end").payload.llm_output

    def clear(self) -> None:
        self.events.clear()


ROUTES = ("/chat/completions", "/completions", "/embeddings", "/responses")


class PlainProxy:
    """A loopback OpenAI-compatible server that is not the devserver: it forwards requests to
    one, has no ``/health``, and (``strict``) rejects ``stream_options`` with a 400 as some
    vLLM/Ollama-compatible servers do."""

    def __init__(self, upstream: str, *, strict: bool = True) -> None:
        self.upstream = upstream
        self.strict = strict
        self.bodies: list[dict[str, Any]] = []
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._httpd.server_address[1]}/v1"

    def __enter__(self) -> PlainProxy:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def _reply(self, status: int, body: bytes, content_type: str) -> None:
                self.send_response(status)
                self.send_header("content-type", content_type)
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:
                self._reply(404, b'{"detail":"Not Found"}', "application/json")

            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("content-length") or 0))
                body = json.loads(raw)
                proxy.bodies.append(body)
                if proxy.strict and "stream_options" in body:
                    self._reply(400, b'{"error":{"message":"unknown field stream_options"}}',
                                "application/json")
                    return
                # Azure paths (/deployments/<name>/chat/completions?api-version=...) map too.
                path = self.path.split("?", 1)[0]
                route = next(r for r in ROUTES if path.endswith(r))
                request = urllib.request.Request(
                    proxy.upstream + route, data=raw, method="POST",
                    headers={"content-type": "application/json",
                             "authorization": self.headers.get("authorization", "")},
                )
                with urllib.request.urlopen(request) as upstream:
                    self._reply(upstream.status, upstream.read(),
                                upstream.headers.get("content-type", "application/json"))

        return Handler
