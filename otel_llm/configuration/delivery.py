"""Where and how a batch goes: one SDK exporter, and what its answer means.

The SDK's exporters say only SUCCESS or FAILURE. Whether to keep a batch
(the collector is down: wait and send it again), drop it (the batch itself
cannot be sent) or stop retrying (the collector refuses us: a configuration
error) depends on *why* it failed, so :class:`Delivery` reads the error the
SDK's OTLP exporters hand to their own self-metrics hook (``_metrics``, the
``ExporterMetricsT`` protocol, from SDK 1.42: gRPC status or HTTP status, or the
exception; before 1.42, what their HTTP session or gRPC stub met),
and asks the collector directly when that is not conclusive: a *probe* is an
empty export request (nothing to encode) sent through a second exporter with
a short timeout, so it neither waits out the SDK's retry back-off nor costs
CPU. If an empty request gets through, the failure was the batch's.

When to send, keep or retry is not decided here: that is the queue's job
(:mod:`otel_llm.configuration.queue`).
"""

from __future__ import annotations

import enum
import http.client
import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

__all__ = ["Delivery", "Outcome", "Verdict"]

_log = logging.getLogger("otel_llm.configuration")


class Outcome(enum.Enum):
    DELIVERED = "delivered"
    OUTAGE = "outage"  # retryable: wait, probe, send again
    REFUSED = "refused"  # permanent: a configuration error, not retried in a loop
    BAD_DATA = "bad data"  # this batch cannot be sent; the collector is fine


@dataclass(frozen=True)
class Verdict:
    outcome: Outcome
    reason: str = ""


DELIVERED = Verdict(Outcome.DELIVERED)

# gRPC status names and HTTP statuses, as OTLP defines them (retryable) and as the issue
# lists the permanent ones. A server error (INTERNAL / 500) is the collector's trouble,
# not the data's: an outage too.
_GRPC_OUTAGE = frozenset(
    {"UNAVAILABLE", "DEADLINE_EXCEEDED", "RESOURCE_EXHAUSTED", "ABORTED", "CANCELLED",
     "INTERNAL", "UNKNOWN", "DATA_LOSS"}
)
_GRPC_REFUSED = frozenset({"UNAUTHENTICATED", "PERMISSION_DENIED", "UNIMPLEMENTED", "NOT_FOUND"})
_HTTP_REFUSED = frozenset({401, 403, 404, 405})


def _transport_errors() -> tuple[type[BaseException], ...]:
    """Refused, reset, timed out: however the HTTP stack in use wraps it.

    ``requests`` raises OSErrors, but the OTLP/HTTP exporters of some SDK releases
    (1.45.0's shared transport) hand over urllib3's own exceptions, which are not.
    """
    kinds: list[type[BaseException]] = [OSError, http.client.HTTPException]
    try:
        from urllib3 import exceptions as urllib3_errors
    except ImportError:  # no HTTP exporter installed (gRPC only)
        return tuple(kinds)
    kinds += [urllib3_errors.MaxRetryError, urllib3_errors.ProtocolError,
              urllib3_errors.TimeoutError]
    return tuple(kinds)


_TRANSPORT_ERRORS = _transport_errors()


def classify(error: BaseException | None, attributes: Any) -> Verdict | None:
    """What an export failure means, from the error the SDK exporter recorded; None: unknown."""
    attrs = dict(attributes or {})
    status = attrs.get("http.response.status_code")
    if isinstance(status, int):
        reason = f"HTTP {status}"
        if status == 429 or status >= 500:
            return Verdict(Outcome.OUTAGE, reason)
        if status in _HTTP_REFUSED:
            return Verdict(Outcome.REFUSED, reason)
        return Verdict(Outcome.BAD_DATA, reason)  # 400, 413, ...: maybe the batch
    code = getattr(error, "code", None)
    name = attrs.get("rpc.response.status_code")
    if name is None and callable(code):
        try:
            name = code().name
        except Exception:
            name = None
    if isinstance(name, str):
        details = getattr(error, "details", None)
        reason = f"gRPC {name}" + (f" ({details()})" if callable(details) else "")
        if name in _GRPC_OUTAGE:
            return Verdict(Outcome.OUTAGE, reason)
        if name in _GRPC_REFUSED:
            return Verdict(Outcome.REFUSED, reason)
        return Verdict(Outcome.BAD_DATA, reason)  # INVALID_ARGUMENT, ...: maybe the batch
    if isinstance(error, _TRANSPORT_ERRORS):
        return Verdict(Outcome.OUTAGE, f"{type(error).__name__}: {error}")
    if error is not None:
        return Verdict(Outcome.BAD_DATA, f"{type(error).__name__}: {error}")
    return None


class _Seen:
    """What one failed attempt met, in the names of the SDK's hook (``error``, ``error_attrs``)."""

    def __init__(self, error: BaseException | None, error_attrs: Any = None) -> None:
        self.error = error
        self.error_attrs = error_attrs


class _LastError:
    """Keeps what the last export attempt of one exporter met (``result``: error, attrs).

    SDK releases from 1.42 hand it to their self-metrics object, which this stands in
    for (wrapping ``inner``); older ones have none, and their HTTP session or gRPC stub
    is watched instead (:func:`_watch_transport`).
    """

    def __init__(self, inner: Any = None) -> None:
        self.inner = inner
        self.result: Any = None

    @contextmanager
    def export_operation(self, num_items: int) -> Iterator[Any]:
        with self.inner.export_operation(num_items) as result:
            self.result = result
            yield result


def _watch(exporter: Any) -> _LastError | None:
    inner = getattr(exporter, "_metrics", None)
    if inner is None or not hasattr(inner, "export_operation"):
        return _watch_transport(exporter)
    watcher = _LastError(inner)
    exporter._metrics = watcher
    return watcher


def _watch_transport(exporter: Any) -> _LastError | None:
    """Before 1.42: record the HTTP status or exception of the exporter's ``requests``
    session, or the ``RpcError`` of its gRPC stub, on this exporter instance only."""
    watcher = _LastError()
    session: Any = getattr(exporter, "_session", None)
    client: Any = getattr(exporter, "_client", None)
    if callable(getattr(session, "post", None)):
        post = session.post

        def recording_post(*args: Any, **kwargs: Any) -> Any:
            try:
                response = post(*args, **kwargs)
            except Exception as exc:
                watcher.result = _Seen(exc)
                raise
            if not getattr(response, "ok", True):
                status = {"http.response.status_code": response.status_code}
                watcher.result = _Seen(None, status)
            return response

        session.post = recording_post
    elif callable(getattr(client, "Export", None)):
        send = client.Export

        def recording_export(*args: Any, **kwargs: Any) -> Any:
            try:
                return send(*args, **kwargs)
            except Exception as exc:
                watcher.result = _Seen(exc)
                raise

        client.Export = recording_export
    else:
        return None  # not an SDK OTLP exporter: failures are told apart by probing
    return watcher


class Delivery:
    """Sends batches through ``exporter`` and says what each answer means.

    ``probe_exporter`` is a second instance of the same exporter with a short
    timeout, used for empty probe requests; without one, ``exporter`` probes.
    Only the queue's worker thread calls ``send`` and ``probe``.
    """

    def __init__(self, exporter: Any, success: Any, probe_exporter: Any = None) -> None:
        self.exporter = exporter
        self.probe_exporter = probe_exporter or exporter
        self._success = success
        self._closed = False
        self._errors = _watch(exporter)
        self._probe_errors = (
            _watch(probe_exporter) if probe_exporter is not None else self._errors
        )

    def send(self, batch: Sequence[Any]) -> Verdict:
        verdict = self._attempt(self.exporter, self._errors, batch)
        if verdict is not None and verdict.outcome in (Outcome.DELIVERED, Outcome.OUTAGE):
            return verdict
        # Refused, unencodable, or no reason known: an empty request tells the batch's
        # fault apart from the collector's.
        probed = self.probe()
        if probed.outcome is Outcome.DELIVERED:
            return Verdict(Outcome.BAD_DATA, verdict.reason if verdict else "rejected")
        return probed

    def probe(self) -> Verdict:
        """An empty export request: does the collector take anything at all?"""
        verdict = self._attempt(self.probe_exporter, self._probe_errors, [])
        if verdict is None:
            return Verdict(Outcome.OUTAGE, "export failed (no reason given)")
        if verdict.outcome is Outcome.BAD_DATA:  # an empty request has no bad data
            return Verdict(Outcome.REFUSED, verdict.reason)
        return verdict

    def _attempt(
        self, exporter: Any, errors: _LastError | None, batch: Sequence[Any]
    ) -> Verdict | None:
        """The answer's meaning; None when the exporter failed without saying why."""
        if errors is not None:
            errors.result = None
        try:
            result = exporter.export(batch)
        except Exception as exc:  # gRPC encodes inside export(); HTTP < 1.42 lets errors out
            _log.debug("otel-llm: exporter raised", exc_info=True)
            return classify(exc, None)
        if result == self._success:
            return DELIVERED
        seen = errors.result if errors is not None else None
        return classify(getattr(seen, "error", None), getattr(seen, "error_attrs", None))

    def shutdown(self) -> None:
        """Stop the exporters (once); aborts the SDK's retry waits and open channels."""
        if self._closed:
            return
        self._closed = True
        for exporter in {id(self.exporter): self.exporter,
                         id(self.probe_exporter): self.probe_exporter}.values():
            try:
                exporter.shutdown()
            except Exception:
                _log.debug("otel-llm: ignored error while stopping an exporter", exc_info=True)
