"""Input tokens of an image part, by OpenAI's published formulas per model family.

Two families (OpenAI, "Images and vision", calculating costs):

- **tiles** (gpt-4o, gpt-4.1, gpt-4.5, gpt-5, o1, o3, gpt-4o-mini, ...): ``detail``
  ``low`` costs the base tokens; ``high`` (and ``auto``, counted as ``high``)
  scales the image to fit 2048x2048, then its shorter side down to 768, and adds
  the tile tokens per 512-px tile: ``base + tile * tiles``.
- **patches** (gpt-4.1-mini/nano, gpt-5-mini/nano, o4-mini): 32-px patches,
  at most 1536 (larger images are scaled down to fit), times the model's
  multiplier; ``detail`` does not change it.

The size is read from the image bytes of a ``data:`` URL (PNG, JPEG, GIF,
WebP headers; nothing is decoded beyond them). A remote URL's size is unknown
offline: it is counted as :data:`ASSUMED_SIZE` and reported as a guess, so
the caller can flag the total.
"""

from __future__ import annotations

import base64
import binascii
import math
from collections.abc import Mapping
from typing import Any

__all__ = ["ASSUMED_SIZE", "ImageCount", "image_dimensions", "image_tokens", "is_image_part"]

#: ``(width, height)`` assumed for an image whose bytes are not in the request.
ASSUMED_SIZE = (1024, 1024)

# Model name prefix -> patch multiplier (longest prefix wins, see _family).
_PATCH = {"gpt-4.1-mini": 1.62, "gpt-4.1-nano": 2.46, "gpt-5-mini": 1.62, "gpt-5-nano": 2.46,
          "o4-mini": 1.72}
# Model name prefix -> (base tokens, tokens per tile). Anything else: gpt-4o's (85, 170).
_TILE = {"gpt-4o-mini": (2833, 5667), "gpt-5": (70, 140), "o1": (75, 150), "o3": (75, 150),
         "computer-use-preview": (65, 129)}
_TILE_DEFAULT = (85, 170)
_MAX_PATCHES = 1536


class ImageCount:
    """Running total of a request's image tokens and how many sizes were guessed."""

    __slots__ = ("guessed", "tokens")

    def __init__(self) -> None:
        self.tokens = 0
        self.guessed = 0

    def add(self, part: Mapping[str, Any], model: str) -> int:
        tokens, known = image_tokens(part, model)
        self.tokens += tokens
        self.guessed += not known
        return tokens


def is_image_part(part: Any) -> bool:
    """A Chat ``image_url`` or Responses ``input_image`` content part."""
    return isinstance(part, Mapping) and part.get("type") in ("image_url", "input_image")


def image_tokens(part: Mapping[str, Any], model: str) -> tuple[int, bool]:
    """``(tokens, size known)`` of one image content part sent to ``model``."""
    image = part.get("image_url")
    detail = part.get("detail")
    if isinstance(image, Mapping):
        url, detail = image.get("url"), image.get("detail", detail)
    else:
        url = image
    size = image_dimensions(url) if isinstance(url, str) else None
    width, height = size or ASSUMED_SIZE
    return _tokens(width, height, detail, _name(model)), size is not None


def _name(model: str) -> str:
    name = model.strip().lower()
    for prefix in ("openai/", "azure/"):
        name = name.removeprefix(prefix)
    return name.removeprefix("ft:")


def _longest(name: str, table: Mapping[str, Any]) -> Any:
    hits = [k for k in table if name.startswith(k)]
    return table[max(hits, key=len)] if hits else None


def _tokens(width: int, height: int, detail: Any, model: str) -> int:
    multiplier = _longest(model, _PATCH)
    if multiplier is not None:
        return math.ceil(_patches(width, height) * float(multiplier))
    base, tile = _longest(model, _TILE) or _TILE_DEFAULT
    if detail == "low":
        return int(base)
    return int(base + tile * _tiles(width, height))


def _tiles(width: float, height: float) -> int:
    if max(width, height) > 2048:
        scale = 2048 / max(width, height)
        width, height = width * scale, height * scale
    if min(width, height) > 768:
        scale = 768 / min(width, height)
        width, height = width * scale, height * scale
    return math.ceil(width / 512) * math.ceil(height / 512)


def _patches(width: int, height: int) -> int:
    patches = math.ceil(width / 32) * math.ceil(height / 32)
    if patches <= _MAX_PATCHES:
        return patches
    shrink = math.sqrt(32 * 32 * _MAX_PATCHES / (width * height))
    w, h = width * shrink / 32, height * shrink / 32
    shrink *= min(math.floor(w) / w, math.floor(h) / h)  # whole patches along both sides
    return min(math.ceil(width * shrink / 32) * math.ceil(height * shrink / 32), _MAX_PATCHES)


# --- sizes from image bytes ---------------------------------------------------------------


def image_dimensions(url: str) -> tuple[int, int] | None:
    """``(width, height)`` of a ``data:image/...;base64,`` URL's image; None if unknown."""
    if not url.startswith("data:"):
        return None
    header, _, payload = url.partition(",")
    if not header.endswith(";base64"):
        return None
    try:
        data = base64.b64decode(payload, validate=False)
    except (binascii.Error, ValueError):
        return None
    try:
        return _png(data) or _gif(data) or _webp(data) or _jpeg(data)
    except IndexError:  # a truncated header
        return None


def _be16(data: bytes, at: int) -> int:
    return int.from_bytes(data[at:at + 2], "big")


def _le(data: bytes, at: int, size: int) -> int:
    return int.from_bytes(data[at:at + size], "little")


def _png(data: bytes) -> tuple[int, int] | None:
    if not data.startswith(b"\x89PNG\r\n\x1a\n") or data[12:16] != b"IHDR":
        return None
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")


def _gif(data: bytes) -> tuple[int, int] | None:
    if data[:6] not in (b"GIF87a", b"GIF89a"):
        return None
    return _le(data, 6, 2), _le(data, 8, 2)


def _webp(data: bytes) -> tuple[int, int] | None:
    if data[:4] != b"RIFF" or data[8:12] != b"WEBP":
        return None
    kind = data[12:16]
    if kind == b"VP8 ":
        return _le(data, 26, 2) & 0x3FFF, _le(data, 28, 2) & 0x3FFF
    if kind == b"VP8L":
        bits = _le(data, 21, 4)
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    if kind == b"VP8X":
        return _le(data, 24, 3) + 1, _le(data, 27, 3) + 1
    return None


# Start-of-frame markers (not DHT C4, JPG C8, DAC CC), which carry the size.
_SOF = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}


def _jpeg(data: bytes) -> tuple[int, int] | None:
    if not data.startswith(b"\xff\xd8"):
        return None
    at = 2
    while at + 9 < len(data):
        if data[at] != 0xFF:
            at += 1
            continue
        marker = data[at + 1]
        if marker in _SOF:
            return _be16(data, at + 7), _be16(data, at + 5)
        if marker == 0xFF or 0xD0 <= marker <= 0xD9 or marker == 0x01:  # no length
            at += 1 if marker == 0xFF else 2
            continue
        at += 2 + _be16(data, at + 2)
    return None
