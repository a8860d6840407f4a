"""Read VCR-format recordings of real OpenAI API traffic.

Used by the model server's replay mode and by tests that need wire-level
truth. The recordings are third-party data and are not shipped: point
``OTEL_LLM_RECORDINGS_DIR`` at them, or keep them at
``shared/fixtures/openai-recordings`` in any folder above the working
directory or this package (the layout of this project's checkouts).
"""

from __future__ import annotations

import gzip
import json
import os
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

__all__ = [
    "RECORDINGS_DIR_ENV",
    "Interaction",
    "Recording",
    "load_recording",
    "load_recordings",
    "recordings_dir",
    "replay_call",
]

RECORDINGS_DIR_ENV = "OTEL_LLM_RECORDINGS_DIR"
_RELATIVE = Path("shared", "fixtures", "openai-recordings")


@dataclass(frozen=True)
class Interaction:
    """One recorded request and its response, body already un-gzipped."""

    method: str
    path: str
    request: dict[str, Any] | None
    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def is_stream(self) -> bool:
        return self.headers.get("content-type", "").startswith("text/event-stream")

    def json(self) -> Any:
        return json.loads(self.body)

    def sse_data(self) -> list[str]:
        """The ``data:`` payloads of a streamed response, ``[DONE]`` included."""
        text = self.body.decode("utf-8")
        return [line[5:].strip() for line in text.splitlines() if line.startswith("data:")]


@dataclass(frozen=True)
class Recording:
    name: str
    interactions: tuple[Interaction, ...]


def recordings_dir() -> Path:
    """Where the recordings are; raises ``FileNotFoundError`` naming what was tried."""
    env = os.environ.get(RECORDINGS_DIR_ENV)
    if env:
        path = Path(env)
        if not path.is_dir():
            raise FileNotFoundError(f"{RECORDINGS_DIR_ENV}={env} is not a directory")
        return path
    tried = []
    for start in (Path.cwd(), Path(__file__).resolve()):
        for folder in (start, *start.parents):
            candidate = folder / _RELATIVE
            if candidate.is_dir():
                return candidate
            tried.append(str(candidate))
    raise FileNotFoundError(
        f"OpenAI recordings not found; set {RECORDINGS_DIR_ENV} (looked in {tried[0]} and above)"
    )


def _decode(raw: Any, headers: dict[str, str]) -> bytes:
    body = raw.encode("utf-8") if isinstance(raw, str) else bytes(raw or b"")
    if headers.get("content-encoding") == "gzip":
        body = gzip.decompress(body)
        del headers["content-encoding"]
    return body


def _interaction(item: dict[str, Any]) -> Interaction:
    req, resp = item["request"], item["response"]
    headers = {k.lower(): str(v[0]) for k, v in (resp.get("headers") or {}).items() if v}
    body = _decode(resp["body"].get("string"), headers)
    headers.pop("content-length", None)
    headers.pop("transfer-encoding", None)
    raw_request = req.get("body")
    request = json.loads(raw_request) if raw_request else None
    return Interaction(
        method=req["method"],
        path=urlsplit(req["uri"]).path,
        request=request,
        status=int(resp["status"]["code"]),
        headers=headers,
        body=body,
    )


@cache
def load_recording(name: str) -> Recording:
    """Load ``<name>.yaml`` from :func:`recordings_dir` (or a path to a YAML file)."""
    import yaml  # only needed for replay; a dev/replay extra dependency

    path = Path(name)
    if not path.suffix:
        path = recordings_dir() / f"{name}.yaml"
    with path.open("rb") as fh:
        data = yaml.safe_load(fh)
    return Recording(path.stem, tuple(_interaction(i) for i in data["interactions"]))


def load_recordings() -> list[Recording]:
    """Every recording, sorted by name."""
    return [load_recording(p.stem) for p in sorted(recordings_dir().glob("*.yaml"))]


def replay_call(client: Any, interaction: Interaction) -> Any:
    """Make the ``openai`` SDK call that produced ``interaction``, with its recorded request.

    Against the model server's replay mode this gets the recorded answer back
    through the real SDK. Embeddings recorded as base64 are asked for without the
    encoding: the SDK asks for base64 by itself and decodes it, asked explicitly it
    does not.
    """
    request = dict(interaction.request or {})
    if interaction.path == "/v1/chat/completions":
        return client.chat.completions.create(**request)
    if interaction.path == "/v1/completions":
        return client.completions.create(**request)
    if interaction.path == "/v1/embeddings":
        if request.get("encoding_format") == "base64":
            del request["encoding_format"]
        return client.embeddings.create(**request)
    if interaction.path == "/v1/responses":
        return client.responses.create(**request)
    raise ValueError(f"no SDK call for {interaction.path}")
