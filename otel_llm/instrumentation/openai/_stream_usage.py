"""When to ask a chat stream for its usage (``stream_options={"include_usage": True}``).

OpenAI sends a streamed call's token usage only when asked, in one extra chunk
with no choices. Asking a server that does not know the option can fail the
call (vLLM/Ollama-compatible servers may answer 400), so it is asked only of
providers known to accept it:

- ``stream_usage="always"``: every server (the caller vouches for it);
- Azure OpenAI clients (``AzureOpenAI``/``AsyncAzureOpenAI``);
- OpenAI's own API: host ``api.openai.com`` or a regional ``*.api.openai.com``;
- the embedded devserver (``otel_llm.devserver``): only a loopback host is
  probed, once per base URL, with ``GET {base_url}/health``; it qualifies if it
  answers 200 ``{"status": "ok"}`` with an ``openai-version`` header.

Anything else streams as the caller asked, and usage is estimated locally.
"""

from __future__ import annotations

import ipaddress
import json
import threading
import urllib.request
from typing import Literal
from urllib.parse import urlsplit

__all__ = ["StreamUsage", "forget", "known_to_accept", "needs_probe", "probe"]

#: ``True``: ask known providers; ``"always"``: ask every server; ``False``: never ask.
StreamUsage = bool | Literal["always"]

_OPENAI_HOST = "api.openai.com"
_PROBE_TIMEOUT = 0.5
_MAX_REMEMBERED = 256
_devservers: dict[str, bool] = {}  # base URL -> answered like the devserver
_lock = threading.Lock()
_no_proxy = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def known_to_accept(mode: StreamUsage, azure: bool, base_url: str) -> bool:
    """Whether to add ``include_usage``; probes a loopback server on first sight (blocking)."""
    if mode is False:
        return False
    if mode == "always" or azure:
        return True
    host = _host(base_url)
    if host == _OPENAI_HOST or host.endswith("." + _OPENAI_HOST):
        return True
    if not _is_loopback(host):
        return False
    known = _devservers.get(base_url)
    return probe(base_url) if known is None else known


def needs_probe(mode: StreamUsage, azure: bool, base_url: str) -> bool:
    """True if :func:`known_to_accept` would block on a probe (async code runs it in a thread)."""
    return (mode is True and not azure and base_url not in _devservers
            and _is_loopback(_host(base_url)))


def probe(base_url: str) -> bool:
    answer = False
    try:
        with _no_proxy.open(base_url.rstrip("/") + "/health", timeout=_PROBE_TIMEOUT) as reply:
            if reply.status == 200 and reply.headers.get("openai-version"):
                answer = json.loads(reply.read(256)) == {"status": "ok"}
    except Exception:  # refused, 404, not JSON, timed out: not the devserver
        answer = False
    with _lock:
        if len(_devservers) >= _MAX_REMEMBERED:
            _devservers.clear()
        _devservers[base_url] = answer
    return answer


def _host(base_url: str) -> str:
    try:
        return (urlsplit(base_url).hostname or "").lower()
    except ValueError:
        return ""


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def forget() -> None:
    """Drop remembered probe answers (tests start and stop servers on reused ports)."""
    with _lock:
        _devservers.clear()
