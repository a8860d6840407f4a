"""Progress while the scenarios run: ``[i/n] title`` lines, plus a spinner on a terminal.

The step lines always go to the demo's output, so logs and tests read in
order. On a terminal a spinner with the elapsed time is drawn on stderr, but
only while the output sits at the start of an empty line (between printed
lines, e.g. while an async handler sleeps or a request is in flight) and it
erases itself before anything else is written: it never splits a line of
streamed tokens.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TextIO

from otel_llm.demo.console import Console, display_width, truncate

__all__ = ["Progress"]

_FRAME_SECONDS = 0.1


class Progress:
    """Step headers for ``total`` steps; ``spinner`` draws on ``err`` (a terminal)."""

    def __init__(self, console: Console, total: int, *, spinner: bool,
                 err: TextIO | None = None) -> None:
        self.console = console
        self.total = total
        self.spinner = spinner
        self.err = err if err is not None else sys.stderr
        self.started = time.monotonic()
        self._label = ""
        self._label_started = self.started
        self._drawn = 0  # cells of spinner text on screen
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @contextmanager
    def step(self, index: int, title: str) -> Iterator[None]:
        """A numbered step: prints ``[index/total] title`` and spins while it runs."""
        self.console.line()
        self.console.line(self.console.fit(f"[{index}/{self.total}] {title}"))
        with self.waiting(f"[{index}/{self.total}] {title}"):
            yield

    @contextmanager
    def waiting(self, label: str) -> Iterator[None]:
        """Spin with ``label`` and the elapsed time (terminal only) until the block ends."""
        if not self.spinner or (self._thread is not None and self._thread.is_alive()):
            yield  # no terminal, or already spinning for an enclosing step
            return
        self._label, self._label_started = label, time.monotonic()
        self._stop.clear()
        self.console.before_write = self._erase
        self._thread = threading.Thread(target=self._spin, name="otel-llm-demo-spinner",
                                        daemon=True)
        self._thread.start()
        try:
            yield
        finally:
            self._stop.set()
            self._thread.join()
            with self.console.lock:
                self._erase()
                self.console.before_write = None

    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def _spin(self) -> None:
        frames = self.console.glyphs.spinner
        frame = 0
        while not self._stop.wait(_FRAME_SECONDS):
            with self.console.lock:
                if self.console.column:  # mid-line (streamed tokens): stay away
                    continue
                seconds = time.monotonic() - self._label_started
                text = f"{frames[frame % len(frames)]} {self._label}"
                text = truncate(text, self.console.width - 10) + f"  {seconds:4.1f} s"
                self._erase()
                self._write_err(text)
                self._drawn = display_width(text)
                frame += 1

    def _erase(self) -> None:
        """Blank the spinner's line; called with the console lock held."""
        if self._drawn:
            self._write_err("\r" + " " * min(self._drawn, self.console.width) + "\r")
            self._drawn = 0

    def _write_err(self, text: str) -> None:
        try:
            self.err.write(text)
            self.err.flush()
        except (OSError, ValueError):  # stderr closed: progress is optional
            self.spinner = False
