"""Replay mode: answer requests with recorded api.openai.com responses, byte for byte.

Recorded bodies are production truth (ids, usage, chunk boundaries, the Responses
event stream), so replaying them through the real SDK tests instrumentation
against real shapes without a network. A request gets the first unused
interaction for its path whose JSON body equals it; failing that, the next
unused interaction for that path that streams the same way.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable, Mapping
from typing import Any

from otel_llm.devserver.wire import ApiError, Reply
from otel_llm.testing.recordings import Interaction, Recording, load_recording, load_recordings

__all__ = ["ReplaySource", "Replayer"]

ReplaySource = str | Recording | Iterable[str | Recording]
ALL = ("all", "*")
_PASSED_HEADERS = re.compile(r"^(x-request-id|openai-.*|x-ratelimit-.*)$")
_EVENT_END = re.compile(rb"\n\n|\r\n\r\n")


def _load(source: ReplaySource) -> list[Recording]:
    if isinstance(source, Recording):
        return [source]
    if isinstance(source, str):
        return load_recordings() if source in ALL else [load_recording(source)]
    out: list[Recording] = []
    for item in source:
        out.extend(_load(item))
    return out


def _split_events(body: bytes) -> list[bytes]:
    """Cut an SSE body after each blank line, keeping every byte as recorded."""
    events, start = [], 0
    for match in _EVENT_END.finditer(body):
        events.append(body[start : match.end()])
        start = match.end()
    if start < len(body):
        events.append(body[start:])
    return events


class Replayer:
    """Serves each recorded interaction once, in order, per path."""

    def __init__(self, source: ReplaySource) -> None:
        self.recordings = _load(source)
        self._interactions = [i for r in self.recordings for i in r.interactions]
        self._used = [False] * len(self._interactions)
        self._lock = threading.Lock()

    @property
    def names(self) -> list[str]:
        return [r.name for r in self.recordings]

    def reset(self) -> None:
        """Make every interaction available again (e.g. between tests)."""
        with self._lock:
            self._used = [False] * len(self._used)

    def remaining(self) -> int:
        return self._used.count(False)

    def match(self, method: str, path: str, body: Any) -> Interaction | None:
        streams = bool(body.get("stream")) if isinstance(body, Mapping) else False
        with self._lock:
            candidates = [
                n
                for n, i in enumerate(self._interactions)
                if not self._used[n] and i.method == method and i.path == path
            ]
            chosen = next((n for n in candidates if self._interactions[n].request == body), None)
            if chosen is None:
                chosen = next(
                    (
                        n
                        for n in candidates
                        if bool((self._interactions[n].request or {}).get("stream")) == streams
                    ),
                    None,
                )
            if chosen is None:
                return None
            self._used[chosen] = True
            return self._interactions[chosen]

    def reply(self, method: str, path: str, body: Any) -> Reply:
        """The recorded answer, or a 404 naming the recordings that had none left."""
        interaction = self.match(method, path, body)
        if interaction is None:
            raise ApiError(
                404,
                f"devserver replay: no unused recorded interaction for {method} {path} "
                f"(stream={bool(isinstance(body, Mapping) and body.get('stream'))}) in "
                f"recording(s) {', '.join(self.names) or '(none)'}",
                code="replay_unmatched",
            )
        headers = {k: v for k, v in interaction.headers.items() if _PASSED_HEADERS.match(k)}
        content_type = interaction.headers.get("content-type", "application/json")
        if interaction.is_stream:
            return Reply(
                status=interaction.status,
                events=_split_events(interaction.body),
                content_type=content_type,
                headers=headers,
            )
        return Reply(
            status=interaction.status,
            body=interaction.body,
            content_type=content_type,
            headers=headers,
        )
