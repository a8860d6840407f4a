"""The demo's terminal: one locked writer that knows its column, its width and its charset.

Handlers print from worker threads (sync handlers run off the event loop)
while the spinner redraws from its own thread, so every write goes through
one lock. The console tracks the display column (CJK characters take two
cells) so streamed tokens wrap at 80 columns and the spinner only draws on an
empty line. On a terminal that cannot encode UTF-8 the tree glyphs fall back
to ASCII and unencodable text is replaced instead of raising.
"""

from __future__ import annotations

import codecs
import re
import sys
import threading
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from typing import TextIO

__all__ = ["ASCII", "UNICODE", "Console", "Glyphs", "display_width", "truncate"]

WIDTH = 80
_BREAKS = re.compile(r"[\r\n\t\v\f]+")


@dataclass(frozen=True)
class Glyphs:
    """Characters whose look depends on the terminal's charset."""

    branch: str
    last: str
    pipe: str
    spinner: tuple[str, ...]
    ellipsis: str


UNICODE = Glyphs("├─ ", "└─ ", "│  ", tuple("⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"), "…")
ASCII = Glyphs("|- ", "`- ", "|  ", ("|", "/", "-", "\\"), "...")


def display_width(text: str) -> int:
    """Terminal cells taken by ``text``: wide East Asian characters count two."""
    return sum(
        0 if unicodedata.combining(c) else 2 if unicodedata.east_asian_width(c) in "WF" else 1
        for c in text
    )


def truncate(text: str, width: int, ellipsis: str = "...") -> str:
    """``text`` cut to ``width`` cells, ending in ``ellipsis`` when cut; newlines flattened."""
    text = _BREAKS.sub(" ", text)
    if display_width(text) <= width:
        return text
    out, used, room = [], 0, width - display_width(ellipsis)
    for char in text:
        used += display_width(char)
        if used > room:
            break
        out.append(char)
    return "".join(out) + ellipsis


def _is_utf(stream: TextIO) -> bool:
    encoding = getattr(stream, "encoding", None)
    if not encoding:  # io.StringIO and friends hold str: anything goes
        return True
    try:
        return codecs.lookup(encoding).name.startswith("utf")
    except LookupError:
        return False


class Console:
    """Writes to ``stream``; ``before_write`` lets the spinner erase itself first."""

    def __init__(self, stream: TextIO | None = None, *, width: int = WIDTH) -> None:
        self.stream = stream if stream is not None else sys.stdout
        self.width = width
        self.unicode = _is_utf(self.stream)
        self.glyphs = UNICODE if self.unicode else ASCII
        self.column = 0
        self.lock = threading.RLock()
        self.before_write: Callable[[], None] | None = None

    def _encodable(self, text: str) -> str:
        if self.unicode:
            return text
        encoding = getattr(self.stream, "encoding", None) or "ascii"
        return text.encode(encoding, "replace").decode(encoding)

    def write(self, text: str) -> None:
        """Write ``text`` as is (no newline added), keeping track of the column."""
        if not text:
            return
        with self.lock:
            if self.before_write is not None:
                self.before_write()
            self.stream.write(self._encodable(text))
            self.stream.flush()
            tail = text.rsplit("\n", 1)
            self.column = display_width(tail[-1]) + (self.column if len(tail) == 1 else 0)

    def line(self, text: str = "") -> None:
        """``text`` on a line of its own (ends a partly written line first)."""
        with self.lock:
            self.write(("\n" if self.column else "") + text + "\n")

    def fit(self, text: str, indent: int = 0) -> str:
        """``text`` cut to what is left of a line after ``indent`` cells."""
        return truncate(text, self.width - indent, self.glyphs.ellipsis)

    def wrap(self, text: str, indent: str, first: str = "", max_lines: int = 4) -> None:
        """``first`` + ``text`` wrapped at spaces (CJK anywhere), continuation under ``indent``."""
        lines: list[str] = []
        current, used, fresh = first, display_width(first), True
        for word in text.split():
            width, sep = display_width(word), "" if fresh else " "
            if used + len(sep) + width <= self.width:
                current, used = current + sep + word, used + len(sep) + width
            elif width <= self.width - display_width(indent) and not _has_wide(word):
                lines.append(current)
                current, used = indent + word, display_width(indent) + width
            else:  # CJK text (no spaces to break at) or a word longer than a line
                if sep and used < self.width:
                    current, used = current + sep, used + 1
                for char in word:
                    if used + display_width(char) > self.width:
                        lines.append(current)
                        current, used = indent, display_width(indent)
                    current, used = current + char, used + display_width(char)
            fresh = False
        lines.append(current)
        if len(lines) > max_lines:
            lines = lines[:max_lines]
            room = self.width - display_width(self.glyphs.ellipsis)
            lines[-1] = truncate(lines[-1], room, "") + self.glyphs.ellipsis
        for item in lines:
            self.line(item.rstrip())


def _has_wide(text: str) -> bool:
    return display_width(text) > len(text)
