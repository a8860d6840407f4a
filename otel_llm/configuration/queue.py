"""When to send: a bounded queue that keeps spans and log records until they are delivered.

The SDK's batch processors take a batch off their queue before exporting it,
so a batch that fails is gone, and an exporter that waits out an outage blocks
``force_flush``/``shutdown``. This queue removes items only once the
:class:`~otel_llm.configuration.delivery.Delivery` says they were delivered
(or can never be: refused, or unsendable data):

- **bounded** (``OTEL_BSP_MAX_QUEUE_SIZE``, with the SDK's meaning: the batch
  being sent is not counted): when full, the *oldest* queued items are dropped
  (as the SDK's batch processors do) and counted, so what is produced after an
  outage always gets through and the order of the rest is kept;
- **an outage** (retryable answer, connection error, timeout) keeps the batch
  and stops sending: nothing is encoded while the collector is down. An empty
  probe request goes out every ``probe_interval`` (1 s); once it gets through,
  the kept batch and the backlog are sent at once;
- **refused** (401/403/404, PERMISSION_DENIED, UNIMPLEMENTED, ...): a
  configuration error, logged once at ERROR; the refused batch is dropped and
  the collector re-checked every ``REFUSED_INTERVAL`` (60 s), not in a loop;
- **bad data** (unencodable, rejected while an empty request gets through):
  only that batch is dropped, and it is no outage;
- ``shutdown`` is bounded (3 s by default) and says how many items were left.

One outage is logged twice: when it starts (what failed, why) and when it ends
(how long, how many items were delivered late, how many dropped).
"""

from __future__ import annotations

import logging
import os
import threading
import time
import weakref
from collections import deque
from dataclasses import dataclass
from typing import Generic, TypeVar

from opentelemetry.context import _SUPPRESS_INSTRUMENTATION_KEY, attach, set_value

from otel_llm.configuration.delivery import Delivery, Outcome, Verdict
from otel_llm.configuration.guard import quiet_exports

__all__ = ["ExportQueue", "QueueStats"]

_log = logging.getLogger("otel_llm.configuration")

T = TypeVar("T")


@dataclass(frozen=True)
class QueueStats:
    """Counts since the queue started; ``queued`` is what waits now (the kept batch included)."""

    queued: int
    delivered: int
    dropped_full: int  # the oldest, dropped for newer ones when full (or after shutdown)
    dropped_refused: int  # the collector refused them (a configuration error)
    dropped_bad: int  # batches that could not be sent (the collector was fine)
    outages: int
    down: bool  # an outage (or a refusal) is going on


class _Outage:
    def __init__(self, verdict: Verdict, dropped_full: int) -> None:
        self.verdict = verdict
        self.since = time.monotonic()
        self.dropped_full = dropped_full

    @property
    def refused(self) -> bool:
        return self.verdict.outcome is Outcome.REFUSED


class ExportQueue(Generic[T]):
    """Holds items for one exporter on a worker thread; only ``put`` runs on the app's threads."""

    REFUSED_INTERVAL = 60.0

    def __init__(
        self,
        delivery: Delivery,
        what: str,
        *,
        max_queue_size: int,
        max_batch: int,
        schedule_delay: float,
        probe_interval: float = 1.0,
        shutdown_timeout: float = 3.0,
    ) -> None:
        self.what = what
        self._delivery = delivery
        self._max = max_queue_size
        self._batch_size = min(max_batch, max_queue_size)
        self._delay = schedule_delay
        self._probe_interval = probe_interval
        self.shutdown_timeout = shutdown_timeout
        self._queue: deque[T] = deque()
        self._held: list[T] = []  # the batch being sent, or kept through an outage
        self._outage: _Outage | None = None
        self._counts = {"delivered": 0, "full": 0, "refused": 0, "bad": 0, "outages": 0}
        self._lock = threading.Lock()  # only for counting drops on the app's threads
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._flushes: list[threading.Event] = []
        self._stopping = False
        self._deadline = 0.0
        self._full_warned = False  # once per outage (or until the first one)
        self._probe_took = 0.0  # probes start every interval, however long one takes
        self._start()
        if hasattr(os, "register_at_fork"):  # a forked child gets a worker of its own
            restart = weakref.WeakMethod(self._after_fork)
            os.register_at_fork(after_in_child=lambda: (m := restart()) and m())

    def _start(self) -> None:
        self._thread = threading.Thread(target=self._run, name=f"otel-llm-{self.what}",
                                        daemon=True)
        self._thread.start()

    def _after_fork(self) -> None:
        """As the SDK's batch processors: the child starts empty, with fresh locks."""
        self._lock, self._wake = threading.Lock(), threading.Event()
        self._queue.clear()
        self._held, self._flushes, self._outage = [], [], None
        self._start()

    # --- the app's threads ---------------------------------------------------------------

    def put(self, item: T) -> None:
        """Queue ``item``; when full, drop the oldest queued one and count it (never blocks)."""
        queue = self._queue
        if self._stopping:
            with self._lock:
                self._counts["full"] += 1
            return
        if len(queue) >= self._max:
            with self._lock:
                self._counts["full"] += 1
                warn, self._full_warned = not self._full_warned, True
            if warn:
                _log.warning("otel-llm: %s: queue full (%d items); the oldest queued items are "
                             "dropped and counted until it drains", self.what, self._max)
            try:  # noqa: SIM105 - per item during an outage: no context manager
                queue.popleft()
            except IndexError:  # emptied by the worker meanwhile
                pass
        queue.append(item)
        if len(queue) >= self._batch_size and not self._wake.is_set():
            self._wake.set()

    def stats(self) -> QueueStats:
        c = self._counts
        return QueueStats(
            queued=len(self._queue) + len(self._held), delivered=c["delivered"],
            dropped_full=c["full"], dropped_refused=c["refused"], dropped_bad=c["bad"],
            outages=c["outages"], down=self._outage is not None,
        )

    def force_flush(self, timeout: float) -> bool:
        """Send what is queued now; False if the collector is down or it took too long."""
        if self._outage is not None or self._stopping:
            return not (self._queue or self._held)
        done = threading.Event()
        self._flushes.append(done)
        self._wake.set()
        return done.wait(timeout) and self._outage is None

    def stop(self, timeout: float | None = None) -> None:
        """Refuse new items and send what is left, for ``timeout`` s (first call counts)."""
        if not self._stopping:
            self._stopping = True
            limit = self.shutdown_timeout if timeout is None else timeout
            self._deadline = time.monotonic() + limit
        self._stop.set()
        self._wake.set()

    def shutdown(self, timeout: float | None = None) -> int:
        """Stop, wait for the last sends until the deadline; the number of items not delivered."""
        self.stop(timeout)
        self._thread.join(max(self._deadline - time.monotonic(), 0.0))
        self._delivery.shutdown()  # if still stuck in an export, this aborts its wait/request
        return len(self._queue) + len(self._held)

    def why_down(self) -> str:
        """The last failure's reason while down, else ''."""
        return self._outage.verdict.reason if self._outage is not None else ""

    # --- the worker thread -----------------------------------------------------------------

    def _run(self) -> None:
        attach(set_value(_SUPPRESS_INSTRUMENTATION_KEY, True))  # no spans for our own exports
        while not self._stop.is_set():
            try:
                if self._outage is not None:
                    interval = (self.REFUSED_INTERVAL if self._outage.refused
                                else self._probe_interval)
                    if not self._stop.wait(max(interval - self._probe_took, 0.0)):
                        self._probe()
                    continue
                timer = not self._wake.wait(self._delay)
                self._wake.clear()
                flushes, self._flushes = self._flushes, []
                self._drain(everything=timer or bool(flushes) or self._stop.is_set())
                for done in flushes:
                    done.set()
            except Exception:  # a bug of ours must not end the worker
                _log.exception("otel-llm: %s export queue failed", self.what)
        self._last_sends()

    def _last_sends(self) -> None:
        outage = self._outage
        if outage is not None and (
            outage.refused or self._probe().outcome is not Outcome.DELIVERED
        ):
            return  # the collector is still down: one probe, no waiting
        self._drain(everything=True)

    def _probe(self) -> Verdict:
        """Ask the collector; once it answers, send the backlog at once and log the outage."""
        outage = self._outage
        started = time.monotonic()
        with quiet_exports():  # reported once already; the SDK would log every probe
            verdict = self._delivery.probe()
        self._probe_took = time.monotonic() - started
        if outage is not None and verdict.outcome is Outcome.REFUSED and not outage.refused:
            self._went_down(verdict)  # back, but refusing us now: say so once
        if outage is None or verdict.outcome is not Outcome.DELIVERED:
            return verdict
        self._outage = None
        self._full_warned = False
        delivered = self._counts["delivered"]
        self._drain(everything=True)
        _log.warning(
            "otel-llm: %s: export works again after %.1f s; %d items delivered late, "
            "%d dropped (queue full)%s",
            self.what, time.monotonic() - outage.since, self._counts["delivered"] - delivered,
            self._counts["full"] - outage.dropped_full,
            "" if self._outage is None else "; failing again",
        )
        return verdict

    def _drain(self, everything: bool) -> None:
        """Send the kept batch, then full batches (all that is queued if ``everything``)."""
        while self._outage is None:
            if not self._held:
                queue = self._queue
                if not queue or (len(queue) < self._batch_size and not everything):
                    return
                self._held = self._take(min(self._batch_size, len(queue)))
                if not self._held:
                    continue
            self._sent(self._held, self._delivery.send(self._held))

    def _take(self, count: int) -> list[T]:
        """The oldest ``count`` queued items (fewer if a full queue dropped some meanwhile)."""
        batch: list[T] = []
        try:
            for _ in range(count):
                batch.append(self._queue.popleft())
        except IndexError:
            pass
        return batch

    def _sent(self, batch: list[T], verdict: Verdict) -> None:
        outcome = verdict.outcome
        if outcome is Outcome.OUTAGE:
            self._went_down(verdict)
            return  # the batch stays held
        self._held = []
        if outcome is Outcome.DELIVERED:
            self._counts["delivered"] += len(batch)
        elif outcome is Outcome.BAD_DATA:
            self._counts["bad"] += len(batch)
            _log.warning(
                "otel-llm: %s: dropped a batch of %d that could not be sent (%s); the "
                "collector takes other requests, so this is no outage",
                self.what, len(batch), verdict.reason,
            )
        else:
            self._counts["refused"] += len(batch)
            self._went_down(verdict)

    def _went_down(self, verdict: Verdict) -> None:
        self._outage = _Outage(verdict, self._counts["full"])
        self._counts["outages"] += 1
        if self._stopping:
            return  # shutdown reports what is left
        if self._outage.refused:
            _log.error(
                "otel-llm: %s: the collector refused the export (%s). This is a configuration "
                "error (endpoint, protocol, headers or credentials); not retrying, items are "
                "kept up to the queue size and the collector is re-checked every %g s",
                self.what, verdict.reason, self.REFUSED_INTERVAL,
            )
        else:
            _log.warning(
                "otel-llm: %s: collector unavailable (%s); keeping up to %d items queued and "
                "probing every %g s (the application is not affected)",
                self.what, verdict.reason, self._max, self._probe_interval,
            )
