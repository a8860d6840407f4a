"""The event log appended to a file."""

from __future__ import annotations

import os
import threading
import weakref
from types import TracebackType
from typing import IO, Any
from uuid import UUID

from otel_llm.callbacks.stdout import EventLogHandler

__all__ = ["FileCallbackHandler"]


class FileCallbackHandler(EventLogHandler):
    """Appends the stdout handler's event log to ``filename``.

    The file is opened on the first event and closed when the last open root
    run ends, by :meth:`close`, or on leaving a ``with`` block: no handle
    outlives the work, and nothing relies on ``__del__``. One lock per handler
    and one ``write`` per line keep lines whole when threads or tasks share it.
    Several handlers may append to the same file (``O_APPEND``).
    """

    def __init__(self, filename: str | os.PathLike[str], mode: str = "a",
                 color: bool = False, encoding: str = "utf-8") -> None:
        super().__init__(color=color)
        if mode not in ("a", "w"):
            raise ValueError("mode must be 'a' or 'w'")
        self.filename = os.fspath(filename)
        self._mode = mode
        self._encoding = encoding
        self._lock = threading.Lock()
        self._file: IO[str] | None = None
        self._roots: set[UUID] = set()
        # Safety net only: closes the handle if the handler is collected while open.
        self._finalizer: weakref.finalize[Any, Any] | None = None

    def write(self, line: str) -> None:
        with self._lock:
            if self._file is None:
                self._file = open(self.filename, self._mode, encoding=self._encoding)  # noqa: SIM115
                self._mode = "a"  # truncate once at most
                self._finalizer = weakref.finalize(self, _close_quietly, self._file)
            self._file.write(line + "\n")
            self._file.flush()

    def close(self) -> None:
        """Close the file now; a later event reopens it in append mode."""
        with self._lock:
            if self._file is not None:
                self._file.close()
                self._file = None
            if self._finalizer is not None:
                self._finalizer.detach()
                self._finalizer = None
            self._roots.clear()

    def __enter__(self) -> FileCallbackHandler:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    # Root-run bookkeeping: close when nothing is running.
    def _root_started(self, run_id: UUID, parent_run_id: UUID | None) -> None:
        if parent_run_id is None:
            with self._lock:
                self._roots.add(run_id)

    def _root_ended(self, run_id: UUID, parent_run_id: UUID | None) -> None:
        if parent_run_id is not None:
            return
        with self._lock:
            self._roots.discard(run_id)
            idle = not self._roots
        if idle:
            self.close()

    def on_llm_start(self, serialized: dict[str, Any], prompts: list[str], *, run_id: UUID,
                     parent_run_id: UUID | None = None, **kwargs: Any) -> None:
        self._root_started(run_id, parent_run_id)
        super().on_llm_start(serialized, prompts, run_id=run_id, **kwargs)

    def on_chat_model_start(self, serialized: dict[str, Any], messages: list[list[Any]], *,
                            run_id: UUID, parent_run_id: UUID | None = None,
                            **kwargs: Any) -> None:
        self._root_started(run_id, parent_run_id)
        super().on_chat_model_start(serialized, messages, run_id=run_id, **kwargs)

    def on_chain_start(self, serialized: dict[str, Any], inputs: dict[str, Any], *,
                       run_id: UUID, parent_run_id: UUID | None = None, **kwargs: Any) -> None:
        self._root_started(run_id, parent_run_id)
        super().on_chain_start(serialized, inputs, run_id=run_id, **kwargs)

    def on_llm_end(self, response: Any, *, run_id: UUID, parent_run_id: UUID | None = None,
                   **kwargs: Any) -> None:
        super().on_llm_end(response, run_id=run_id, **kwargs)
        self._root_ended(run_id, parent_run_id)

    def on_llm_error(self, error: BaseException, *, run_id: UUID,
                     parent_run_id: UUID | None = None, **kwargs: Any) -> None:
        super().on_llm_error(error, run_id=run_id, **kwargs)
        self._root_ended(run_id, parent_run_id)

    def on_chain_end(self, outputs: dict[str, Any], *, run_id: UUID,
                     parent_run_id: UUID | None = None, **kwargs: Any) -> None:
        super().on_chain_end(outputs, run_id=run_id, **kwargs)
        self._root_ended(run_id, parent_run_id)

    def on_chain_error(self, error: BaseException, *, run_id: UUID,
                       parent_run_id: UUID | None = None, **kwargs: Any) -> None:
        super().on_chain_error(error, run_id=run_id, **kwargs)
        self._root_ended(run_id, parent_run_id)


def _close_quietly(f: IO[str]) -> None:
    if not f.closed:
        f.close()
