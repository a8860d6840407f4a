"""In-process OTLP receivers for tests: real gRPC and HTTP/protobuf endpoints on loopback.

Point a real OTLP exporter at :attr:`GrpcCollector.endpoint` or
:attr:`HttpCollector.endpoint` and assert on what arrived in
:attr:`~GrpcCollector.received`. Both decode the collector protocol's own
protobuf messages, so a test sees exactly what a real collector would.

``fault`` makes the receiver misbehave, and can be changed while it runs (an
outage that ends): ``None`` answers normally; ``"hang"`` accepts and never
answers (until the receiver stops); ``"error"`` answers a non-retryable server
error (gRPC INTERNAL / HTTP 500); ``"unavailable"`` a retryable one (gRPC
UNAVAILABLE / HTTP 503); ``"denied"`` a permanent one (gRPC PERMISSION_DENIED /
HTTP 403). :meth:`Received.wait_for` blocks until a condition holds, so tests
wait for events instead of sleeping. ``port`` binds a given port (a collector
that comes back where :func:`dead_endpoint` refused connections).
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar

try:
    import grpc
    from opentelemetry.proto.collector.logs.v1 import logs_service_pb2, logs_service_pb2_grpc
    from opentelemetry.proto.collector.metrics.v1 import (
        metrics_service_pb2,
        metrics_service_pb2_grpc,
    )
    from opentelemetry.proto.collector.trace.v1 import trace_service_pb2, trace_service_pb2_grpc
except ImportError as exc:  # pragma: no cover - depends on the installed extras
    from otel_llm._extras import MissingExtraError, install_line

    # grpcio and opentelemetry-proto both come with the gRPC exporter, i.e. the grpc extra.
    raise MissingExtraError(
        f"otel_llm.testing.collector needs grpcio and the OTLP protos: {install_line('grpc')}",
        name=exc.name,
    ) from exc

__all__ = ["GrpcCollector", "HttpCollector", "Received", "dead_endpoint"]

_GRPC_FAULTS = {
    "error": grpc.StatusCode.INTERNAL,
    "unavailable": grpc.StatusCode.UNAVAILABLE,
    "denied": grpc.StatusCode.PERMISSION_DENIED,
}
_HTTP_FAULTS = {"error": 500, "unavailable": 503, "denied": 403}


class Received:
    """What a receiver got: decoded requests and the headers they came with."""

    def __init__(self) -> None:
        self.traces: list[Any] = []
        self.metrics: list[Any] = []
        self.logs: list[Any] = []
        self.headers: list[dict[str, str]] = []
        self.attempts = 0
        # Request bytes of every attempt, failed ones too, per kind ("traces", "logs", ...).
        self.attempt_sizes: dict[str, list[int]] = {"traces": [], "metrics": [], "logs": []}
        # Reentrant: a wait_for condition may call spans()/metric() under the lock.
        self.lock = threading.RLock()
        self._changed = threading.Condition(self.lock)

    def spans(self) -> list[Any]:
        """Every span received, in arrival order."""
        return self._items(self.traces, "spans")

    def log_records(self) -> list[Any]:
        """Every log record (content events, ...) received, in arrival order."""
        return self._items(self.logs, "logs", "log_records")

    def metric(self, name: str) -> list[Any]:
        """Every received metric (one per export request that carried it) named ``name``."""
        return [m for m in self._items(self.metrics, "metrics") if m.name == name]

    def _items(self, kept: list[Any], signal: str, leaf: str | None = None) -> list[Any]:
        """The leaves of OTLP requests: ``resource_<signal>`` -> ``scope_<signal>`` -> leaf."""
        with self.lock:
            requests = list(kept)
        return [
            item
            for request in requests
            for resource in getattr(request, f"resource_{signal}")
            for scope in getattr(resource, f"scope_{signal}")
            for item in getattr(scope, leaf or signal)
        ]

    def wait_for(self, condition: Callable[[Received], bool], timeout: float = 60.0) -> bool:
        """Block until ``condition(self)`` holds (re-checked at each request); False on timeout.

        The timeout only guards against a test hanging forever; it is no budget.
        """
        with self._changed:
            return self._changed.wait_for(lambda: condition(self), timeout)

    def _attempt(self, kind: str, size: int) -> None:
        with self._changed:
            self.attempts += 1
            self.attempt_sizes.setdefault(kind, []).append(size)
            self._changed.notify_all()

    def _store(self, kind: str, request: Any, headers: dict[str, str]) -> None:
        with self._changed:
            getattr(self, kind).append(request)
            self.headers.append(headers)
            self._changed.notify_all()


class GrpcCollector:
    """OTLP/gRPC receiver on 127.0.0.1; see the module doc for ``fault``."""

    def __init__(self, fault: str | None = None, port: int = 0) -> None:
        self.fault = fault
        self.received = Received()
        self.release = threading.Event()
        self.server = grpc.server(ThreadPoolExecutor(max_workers=8))
        collector = self

        def handle(kind: str, request: Any, context: grpc.ServicerContext) -> None:
            collector.received._attempt(kind, request.ByteSize())
            fault = collector.fault
            if fault == "hang":
                collector.release.wait(60)
                context.abort(grpc.StatusCode.CANCELLED, "released")
            if fault in _GRPC_FAULTS:
                context.abort(_GRPC_FAULTS[fault], f"collector fault: {fault}")
            collector.received._store(kind, request, dict(context.invocation_metadata()))

        class Traces(trace_service_pb2_grpc.TraceServiceServicer):
            def Export(self, request: Any, context: grpc.ServicerContext) -> Any:
                handle("traces", request, context)
                return trace_service_pb2.ExportTraceServiceResponse()

        class Metrics(metrics_service_pb2_grpc.MetricsServiceServicer):
            def Export(self, request: Any, context: grpc.ServicerContext) -> Any:
                handle("metrics", request, context)
                return metrics_service_pb2.ExportMetricsServiceResponse()

        class Logs(logs_service_pb2_grpc.LogsServiceServicer):
            def Export(self, request: Any, context: grpc.ServicerContext) -> Any:
                handle("logs", request, context)
                return logs_service_pb2.ExportLogsServiceResponse()

        trace_service_pb2_grpc.add_TraceServiceServicer_to_server(Traces(), self.server)  # type: ignore[no-untyped-call]
        metrics_service_pb2_grpc.add_MetricsServiceServicer_to_server(Metrics(), self.server)  # type: ignore[no-untyped-call]
        logs_service_pb2_grpc.add_LogsServiceServicer_to_server(Logs(), self.server)  # type: ignore[no-untyped-call]
        self.port = self.server.add_insecure_port(f"127.0.0.1:{port}")
        self.endpoint = f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> GrpcCollector:
        self.server.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release.set()
        self.server.stop(grace=0)


class HttpCollector:
    """OTLP/HTTP (protobuf) receiver on 127.0.0.1; see the module doc for ``fault``."""

    _TYPES: ClassVar[dict[str, tuple[str, Any, Any]]] = {
        "/v1/traces": (
            "traces",
            trace_service_pb2.ExportTraceServiceRequest,
            trace_service_pb2.ExportTraceServiceResponse,
        ),
        "/v1/metrics": (
            "metrics",
            metrics_service_pb2.ExportMetricsServiceRequest,
            metrics_service_pb2.ExportMetricsServiceResponse,
        ),
        "/v1/logs": (
            "logs",
            logs_service_pb2.ExportLogsServiceRequest,
            logs_service_pb2.ExportLogsServiceResponse,
        ),
    }

    def __init__(self, fault: str | None = None, port: int = 0) -> None:
        self.fault = fault
        self.received = Received()
        self.release = threading.Event()
        collector = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                kind = collector._TYPES.get(self.path, ("unknown",))[0]
                collector.received._attempt(kind, len(body))
                fault = collector.fault
                if fault == "hang":
                    collector.release.wait(60)
                    return
                if fault in _HTTP_FAULTS:
                    self.send_response(_HTTP_FAULTS[fault])
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                kind, request_type, response_type = collector._TYPES[self.path]
                collector.received._store(kind, request_type.FromString(body),
                                          {k.lower(): v for k, v in self.headers.items()})
                payload = response_type().SerializeToString()
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.server.daemon_threads = True
        self.endpoint = f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self) -> HttpCollector:
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


def dead_endpoint() -> str:
    """A loopback ``http://`` endpoint nothing listens on (connections are refused)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{s.getsockname()[1]}"
