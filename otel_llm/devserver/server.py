"""HTTP plumbing: a threaded HTTP/1.1 loopback server speaking OpenAI's wire format.

Standard library only, so the demo and CI need nothing beyond the package.
Keep-alive and chunked SSE match what the SDK's HTTP client is tuned for; each
response is written with as few ``sendall`` calls as its timing allows (one for
an undelayed stream), so the server stays cheap next to the client that a
benchmark measures.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import sys
import threading
import time
import traceback
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

from otel_llm.devserver.chat import chat_completion, text_completion
from otel_llm.devserver.embeddings import embeddings
from otel_llm.devserver.errors import Fault, FaultSchedule
from otel_llm.devserver.options import Controls, parse_controls
from otel_llm.devserver.replay import Replayer, ReplaySource
from otel_llm.devserver.responses import response
from otel_llm.devserver.usage import PromptCache
from otel_llm.devserver.wire import ApiError, Reply

__all__ = ["DEFAULT_MODELS", "ModelServer", "RecordedRequest"]

DEFAULT_MODELS = (
    "gpt-4o-mini",
    "gpt-4o",
    "gpt-4.1-nano",
    "gpt-3.5-turbo",
    "gpt-3.5-turbo-instruct",
    "o4-mini",
    "gpt-5-nano",
    "text-embedding-3-small",
    "text-embedding-3-large",
    "text-embedding-ada-002",
)

Builder = Callable[..., Reply]
_ROUTES: dict[str, Builder] = {
    "/chat/completions": chat_completion,
    "/completions": text_completion,
    "/embeddings": embeddings,
    "/responses": response,
}


@dataclass(frozen=True)
class RecordedRequest:
    """A request as the server saw it, for tests asserting what a client sent."""

    method: str
    path: str
    headers: dict[str, str]
    body: Any


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 512  # 50+ concurrent clients connect at once in the benchmarks
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], owner: ModelServer) -> None:
        self.address_family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
        self.owner = owner
        self.stopping = threading.Event()
        self.connections: dict[socket.socket, threading.Thread] = {}
        self.connections_lock = threading.Lock()
        self.connections_opened = 0
        super().__init__(address, _Handler)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    server: _HTTPServer
    server_version = "otel-llm-devserver"

    def setup(self) -> None:
        super().setup()
        with self.server.connections_lock:
            self.server.connections[self.connection] = threading.current_thread()
            self.server.connections_opened += 1

    def finish(self) -> None:
        with contextlib.suppress(OSError):
            super().finish()
        with self.server.connections_lock:
            self.server.connections.pop(self.connection, None)

    def log_message(self, format: str, *args: Any) -> None:
        if self.server.owner.verbose:
            sys.stderr.write(f"devserver: {format % args}\n")

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_DELETE(self) -> None:
        self._dispatch("DELETE")

    # -- request -------------------------------------------------------------

    def _read_body(self) -> bytes:
        if self.headers.get("transfer-encoding", "").lower() == "chunked":
            data = bytearray()
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    self.rfile.readline()
                    return bytes(data)
                data += self.rfile.read(size)
                self.rfile.readline()
        length = int(self.headers.get("content-length") or 0)
        return self.rfile.read(length) if length else b""

    def _dispatch(self, method: str) -> None:
        owner = self.server.owner
        path = self.path.split("?", 1)[0].rstrip("/")
        route = path[3:] if path.startswith("/v1/") else path
        try:
            raw = self._read_body()
            body: Any = json.loads(raw) if raw else {}
        except (ValueError, UnicodeDecodeError):
            self.close_connection = True  # the body may not have been read to its end
            self._write(ApiError(400, "We could not parse the JSON body of your request.").reply())
            return
        headers = {k.lower(): v for k, v in self.headers.items()}
        owner._record(RecordedRequest(method, path, headers, body))
        try:
            if owner.api_key is not None and headers.get("authorization") != (
                f"Bearer {owner.api_key}"
            ):
                raise Fault("401").error("")
            if method == "GET" and route in ("/health", "/healthz"):
                self._write(Reply.json({"status": "ok"}))
                return
            if method == "GET" and (route == "/models" or route.startswith("/models/")):
                self._write(owner._models_reply(route[len("/models/") :]))
                return
            builder = _ROUTES.get(route)
            if method != "POST" or builder is None:
                raise ApiError(404, f"Invalid URL ({method} {path})")
            model = body.get("model") if isinstance(body, Mapping) else None
            if not isinstance(model, str) or not model:
                raise ApiError(400, "you must provide a model parameter", param="model")
            controls = parse_controls(model, headers)
            fault = controls.error or owner.faults.take(path)
            if fault is not None and fault.kind == "hang" and self._hang(fault.arg):
                return
            if fault is not None and fault.is_status:
                raise fault.error(controls.model, context_window=owner.context_window)
            reply = owner._answer(method, path, builder, body, controls)
        except ApiError as exc:
            self._write(exc.reply())
            return
        except Exception as exc:  # a bug here must reach the client as a 500, not a hang
            traceback.print_exc(file=sys.stderr)
            self._write(ApiError(500, f"devserver error: {exc!r}", type="server_error").reply())
            return
        delay = owner.chunk_delay if controls.delay is None else controls.delay
        drop = None
        if fault is not None and fault.kind == "drop":
            drop = 3 if fault.arg is None else int(fault.arg)
        self._write(reply, delay=delay, drop_after=drop)

    def _hang(self, seconds: float | None) -> bool:
        """Sit on the request; True if the server is stopping meanwhile (then leave)."""
        if self.server.stopping.wait(seconds or self.server.owner.hang_timeout):
            self.close_connection = True
            return True
        return False

    # -- response ------------------------------------------------------------

    def _head(self, reply: Reply, framing: str) -> bytes:
        try:
            phrase = HTTPStatus(reply.status).phrase
        except ValueError:
            phrase = "Unknown"
        lines = [
            f"HTTP/1.1 {reply.status} {phrase}",
            f"content-type: {reply.content_type}",
            framing,
            f"x-request-id: req_{os.urandom(16).hex()}",
            "openai-version: 2020-10-01",
            "openai-processing-ms: 1",
        ]
        lines.extend(f"{k}: {v}" for k, v in reply.headers.items())
        if self.close_connection:
            lines.append("connection: close")
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")

    def _write(self, reply: Reply, *, delay: float = 0.0, drop_after: int | None = None) -> None:
        self.log_request(reply.status)
        try:
            if reply.events is None:
                self._write_body(reply, drop_after)
            else:
                self._write_stream(reply, delay, drop_after)
        except OSError:  # the client went away: nothing left to tell it
            self.close_connection = True

    def _write_body(self, reply: Reply, drop_after: int | None) -> None:
        head = self._head(reply, f"content-length: {len(reply.body)}")
        if drop_after is not None:
            self.wfile.write(head + reply.body[: len(reply.body) // 2])
            self._cut()
            return
        self.wfile.write(head + reply.body)

    def _write_stream(self, reply: Reply, delay: float, drop_after: int | None) -> None:
        events = reply.events or ()
        framed = [b"%x\r\n%b\r\n" % (len(e), e) for e in events if e]
        head = self._head(reply, "transfer-encoding: chunked\r\ncache-control: no-cache")
        if drop_after is not None:
            framed = framed[:drop_after]
        else:
            framed.append(b"0\r\n\r\n")
        if delay <= 0:
            self.wfile.write(head + b"".join(framed))
        else:
            # The terminator travels with the last event so the client sees the end at once.
            if drop_after is None and len(framed) > 1:
                framed[-2:] = [framed[-2] + framed[-1]]
            stopping = self.server.stopping
            self.wfile.write(head + (framed[0] if framed else b""))
            for chunk in framed[1:]:
                if stopping.wait(delay):
                    self._cut()
                    return
                self.wfile.write(chunk)
        if drop_after is not None:
            self._cut()

    def _cut(self) -> None:
        """Drop the connection mid-response, as a crashed upstream or proxy would."""
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)


class ModelServer:
    """An OpenAI-compatible model server on loopback, in a background thread.

    ``with ModelServer() as srv: OpenAI(base_url=srv.url + "/v1", api_key="sk-test")``.
    ``chunk_delay`` paces streams (seconds between chunks); ``replay`` serves
    recordings (a name, ``"all"``, :class:`Recording` objects or a list of them)
    instead of scripted answers; ``context_window`` makes longer prompts fail with
    400 ``context_length_exceeded``; ``api_key`` makes other keys fail with 401;
    ``hang_timeout`` bounds the ``hang`` fault.
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        chunk_delay: float = 0.0,
        replay: ReplaySource | None = None,
        context_window: int = 128_000,
        api_key: str | None = None,
        hang_timeout: float = 60.0,
        models: tuple[str, ...] = DEFAULT_MODELS,
        verbose: bool = False,
        record_requests: int = 1000,
    ) -> None:
        self.host = host
        self.port = port
        self.chunk_delay = chunk_delay
        self.context_window = context_window
        self.api_key = api_key
        self.hang_timeout = hang_timeout
        self.models = models
        self.verbose = verbose
        self.replayer = Replayer(replay) if replay is not None else None
        self.faults = FaultSchedule()
        self.prompt_cache = PromptCache()
        self._requests: deque[RecordedRequest] = deque(maxlen=record_requests)
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle -----------------------------------------------------------

    @property
    def url(self) -> str:
        """``http://host:port`` (no ``/v1``): the SDK's ``base_url`` is ``url + "/v1"``."""
        if self._httpd is None:
            raise RuntimeError("ModelServer is not running; call start() or use it in a with")
        host, port = self._httpd.server_address[:2]
        host = host.decode() if isinstance(host, bytes) else host
        return f"http://{f'[{host}]' if ':' in host else host}:{port}"

    @property
    def base_url(self) -> str:
        return self.url + "/v1"

    def start(self) -> ModelServer:
        if self._httpd is not None:
            return self
        self._httpd = _HTTPServer((self.host, self.port), self)
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"devserver:{self._httpd.server_address[1]}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self, timeout: float = 2.0) -> None:
        """Stop accepting, cut open connections, and wait (briefly) for handler threads."""
        httpd, self._httpd = self._httpd, None
        if httpd is None:
            return
        httpd.stopping.set()
        httpd.shutdown()
        with httpd.connections_lock:
            open_connections = dict(httpd.connections)
        for conn in open_connections:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        httpd.server_close()
        deadline = time.monotonic() + timeout
        for thread in [self._thread, *open_connections.values()]:
            if thread is not None and thread is not threading.current_thread():
                thread.join(max(0.0, deadline - time.monotonic()))

    def __enter__(self) -> ModelServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- test helpers ----------------------------------------------------------

    def inject(self, fault: str | Fault, *, times: int = 1, path: str | None = None) -> None:
        """Fail the next ``times`` requests (to ``path``, e.g. ``/v1/chat/completions``)."""
        self.faults.add(fault, times=times, path=path)

    @property
    def connections_opened(self) -> int:
        """TCP connections accepted so far: shows whether a client reuses keep-alive."""
        return self._httpd.connections_opened if self._httpd is not None else 0

    @property
    def requests(self) -> list[RecordedRequest]:
        """The most recent requests received, oldest first."""
        return list(self._requests)

    def _record(self, request: RecordedRequest) -> None:
        self._requests.append(request)

    # -- answers ---------------------------------------------------------------

    def _answer(
        self, method: str, path: str, builder: Builder, body: Any, controls: Controls
    ) -> Reply:
        if self.replayer is not None:
            return self.replayer.reply(method, path, body)
        if not isinstance(body, Mapping):
            raise ApiError(400, "The request body must be a JSON object.")
        return builder(
            body, controls, context_window=self.context_window, cache=self.prompt_cache
        )

    def _models_reply(self, model_id: str) -> Reply:
        def entry(name: str) -> dict[str, Any]:
            return {"id": name, "object": "model", "created": 1_700_000_000, "owned_by": "system"}

        if model_id:
            if model_id not in self.models:
                raise Fault("404").error(model_id)
            return Reply.json(entry(model_id))
        return Reply.json({"object": "list", "data": [entry(m) for m in self.models]})
