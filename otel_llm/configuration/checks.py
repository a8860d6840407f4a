"""Checks of every setting ``configure()`` reads or passes on, each failure naming the setting.

The SDK and its exporters meet a bad value late and quietly: they log a
warning and fall back to a default (a sampler typo samples everything, a
queue size of ``2.5`` becomes the default), raise their own exception from
deep inside (``InvalidCompressionValueException``), or accept it and fail
every export (a header with a newline after URL-decoding). Here each value
is checked once, at ``configure()``, and a bad one is a ``ConfigurationError``
whose ``setting`` is the argument or variable at fault.

Error messages never repeat header values or URL credentials.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import unquote, urlsplit

from otel_llm import settings
from otel_llm.errors import ConfigurationError

__all__ = [
    "check_compression",
    "check_environment",
    "check_exporter_names",
    "check_headers",
    "check_positive",
    "check_protocol",
    "check_text",
    "check_url",
    "compression_of",
    "protocol_of",
    "protocol_source",
]

_HEADER_KEY = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
#: Header values the gRPC and HTTP clients both send as they are: printable ASCII and tabs.
_HEADER_VALUE = re.compile(r"[\t\x20-\x7e]*")
_INTEGER = re.compile(r"\+?[0-9]+")
_COMPRESSIONS = {"grpc": ("gzip", "deflate", "none"), "http/protobuf": ("gzip", "deflate", "none")}
_SURROGATES = re.compile("[\ud800-\udfff]")


def check_environment(env: Mapping[str, str] = os.environ) -> None:
    """Reject invalid values of the variables in ``settings``, naming the first bad one."""
    for name, value in env.items():
        if name.startswith("OTEL_") and _SURROGATES.search(value):
            raise ConfigurationError(name, "is not valid UTF-8 (undecodable bytes)")
    for signal, endpoint in settings.OTLP_ENDPOINTS.items():
        if env.get(endpoint, "").strip():
            check_url(endpoint, env[endpoint], protocol_of(signal, None, env))
    if env.get(settings.OTLP_ENDPOINT, "").strip():
        check_url(settings.OTLP_ENDPOINT, env[settings.OTLP_ENDPOINT], _general_protocol(env))
    for name in (settings.OTLP_HEADER, *settings.OTLP_HEADERS.values()):
        if env.get(name, "").strip():
            check_headers(name, env[name])
    for signal in settings.OTLP_PROTOCOLS:
        protocol = protocol_of(signal, None, env)
        compression_of(signal, protocol, env)
    for name, (integer, low, high) in settings.NUMBERS.items():
        if env.get(name, "").strip():
            _check_number(name, env[name], integer, low, high)
    for name, choices in settings.CHOICES.items():
        if env.get(name, "").strip():
            _check_choice(name, env[name], choices)
    _check_sampler_arg(env)
    for name in settings.OTLP_FILES:
        path = env.get(name, "").strip()
        if path and not os.access(path, os.R_OK):
            raise ConfigurationError(name, f"cannot read the file {path!r}")
    if env.get(settings.RESOURCE_ATTRIBUTES, "").strip():
        _check_resource_attributes(settings.RESOURCE_ATTRIBUTES, env[settings.RESOURCE_ATTRIBUTES])


def protocol_of(signal: str, argument: str | None, env: Mapping[str, str] = os.environ) -> str:
    """The OTLP protocol of ``signal``: argument, per-signal variable, general variable,
    else the spec's default (http/protobuf)."""
    return protocol_source(signal, argument, env)[1]


def protocol_source(
    signal: str, argument: str | None, env: Mapping[str, str] = os.environ
) -> tuple[str, str]:
    """(the setting that chose it, the protocol), as :func:`protocol_of` resolves it; the
    setting is what an error about that protocol names."""
    if argument is not None:
        return "protocol", check_protocol("protocol", argument)
    name = settings.OTLP_PROTOCOLS[signal]
    if env.get(name, "").strip():
        return name, check_protocol(name, env[name])
    return settings.OTLP_PROTOCOL, _general_protocol(env)


def compression_of(signal: str, protocol: str, env: Mapping[str, str] = os.environ) -> str | None:
    """The checked compression of ``signal`` from the per-signal or general variable."""
    for name in (settings.OTLP_COMPRESSIONS[signal], settings.OTLP_COMPRESSION):
        if env.get(name, "").strip():
            return check_compression(name, env[name], protocol)
    return None


def check_compression(setting: str, value: str, protocol: str) -> str:
    compression = value.strip().lower()
    choices = _COMPRESSIONS[protocol]
    if compression not in choices:
        raise ConfigurationError(
            setting, f"{value!r} is not a supported compression ({', '.join(choices)})"
        )
    return compression


def check_url(setting: str, value: str, protocol: str = "grpc") -> None:
    """An http(s) URL with a host and no credentials; for gRPC also a ``unix:`` socket path.

    Credentials in the URL are rejected (they would end up in the exporters'
    log lines); they belong in the headers. Messages show the URL without them.
    """
    shown = _without_credentials(value)
    try:
        parts = urlsplit(value.strip())
        _ = parts.port  # raises on a bad port
    except ValueError as exc:
        raise ConfigurationError(setting, f"{shown!r} is not a valid URL") from exc
    if parts.scheme == "unix":
        if protocol != "grpc":
            raise ConfigurationError(setting, f"{shown!r}: unix sockets need the grpc protocol")
        if not (parts.path or parts.netloc):
            raise ConfigurationError(setting, f"{shown!r} names no socket path")
        return
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigurationError(
            setting, f"{shown!r} is not an http(s) URL with a host, e.g. http://localhost:4317"
        )
    if parts.username is not None or parts.password is not None:
        raise ConfigurationError(
            setting,
            f"{shown!r} carries credentials; pass them as a header instead "
            "(OTEL_EXPORTER_OTLP_HEADERS=authorization=Basic%20...)",
        )


def check_headers(setting: str, headers: Mapping[str, str] | str) -> None:
    """A mapping, or the variables' ``key=value,key=value`` form (checked after URL-decoding)."""
    if isinstance(headers, str):
        pairs = []
        for item in headers.split(","):
            if item.strip():
                key, sep, value = item.partition("=")
                if not sep:
                    raise ConfigurationError(setting, f"{unquote(key).strip()!r} is not key=value")
                pairs.append((unquote(key).strip(), unquote(value).strip()))
    elif isinstance(headers, Mapping):
        pairs = list(headers.items())
    else:
        raise ConfigurationError(setting, "must be a mapping of header name to value")
    for key, value in pairs:
        if not isinstance(key, str) or not _HEADER_KEY.fullmatch(key):
            raise ConfigurationError(setting, f"{key!r} is not a valid header name")
        if not isinstance(value, str) or not _HEADER_VALUE.fullmatch(value):
            raise ConfigurationError(
                setting,
                f"the value of {key!r} must be one line of printable ASCII (after URL-decoding)",
            )


def check_protocol(setting: str, value: str) -> str:
    """The normalised protocol name."""
    protocol = value.strip().lower()
    if protocol not in settings.PROTOCOLS:
        raise ConfigurationError(
            setting, f"{value!r} is not a supported OTLP protocol ({', '.join(settings.PROTOCOLS)})"
        )
    return protocol


def check_positive(setting: str, value: float | None, maximum: float = 3600.0) -> None:
    """``None`` (not set) or a finite number of seconds > 0 and <= ``maximum``."""
    if value is None:
        return
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not 0 < value <= maximum
    ):
        raise ConfigurationError(
            setting, f"must be a number of seconds > 0 and <= {maximum:g}, got {value!r}"
        )


def check_exporter_names(setting: str, raw: str) -> list[str]:
    """``a,b`` -> names; ``none`` alone means no exporter; empty items, duplicates and
    ``none`` next to another name are errors (they used to disable the signal silently)."""
    items = [n.strip().lower() for n in raw.split(",")]
    if any(not n for n in items) and raw.strip():
        raise ConfigurationError(setting, f"{raw!r} has an empty exporter name")
    names = [n for n in items if n]
    if "none" in names and len(names) > 1:
        raise ConfigurationError(setting, f"{raw!r}: 'none' cannot be combined with exporters")
    if len(set(names)) != len(names):
        raise ConfigurationError(setting, f"{raw!r} names an exporter twice")
    return [] if names in ([], ["none"]) else names


def check_text(setting: str, value: Any) -> None:
    """Text that can be exported: ``value`` (or a mapping's keys and values) without lone
    surrogates, which have no UTF-8 form and would fail every batch they travel in."""
    items = value.items() if isinstance(value, Mapping) else [(None, value)]
    for key, item in items:
        for text in (key, item):
            if isinstance(text, str) and _SURROGATES.search(text):
                raise ConfigurationError(setting, "contains text that is not valid UTF-8")


def _general_protocol(env: Mapping[str, str]) -> str:
    value = env.get(settings.OTLP_PROTOCOL, "")
    if not value.strip():
        return settings.DEFAULT_PROTOCOL
    return check_protocol(settings.OTLP_PROTOCOL, value)


def _check_number(setting: str, raw: str, integer: bool, low: float, high: float) -> None:
    text = raw.strip()
    kind = "an integer" if integer else "a number"
    if integer and not _INTEGER.fullmatch(text):
        raise ConfigurationError(setting, f"{raw!r} is not {kind}")
    try:
        value = float(text)
    except ValueError:
        raise ConfigurationError(setting, f"{raw!r} is not {kind}") from None
    if not (math.isfinite(value) and low <= value <= high):
        raise ConfigurationError(setting, f"must be {kind} from {low:g} to {high:g}, got {raw!r}")


def _check_choice(setting: str, raw: str, choices: tuple[str, ...]) -> None:
    if raw.strip().lower() not in choices:
        raise ConfigurationError(setting, f"{raw!r} is not one of {', '.join(choices)}")


def _check_sampler_arg(env: Mapping[str, str]) -> None:
    """The built-in samplers take a ratio or nothing: a set argument must be a ratio."""
    raw = env.get(settings.TRACES_SAMPLER_ARG, "")
    if raw.strip():
        _check_number(settings.TRACES_SAMPLER_ARG, raw, False, 0.0, 1.0)


def _check_resource_attributes(setting: str, raw: str) -> None:
    for item in raw.split(","):
        if item.strip():
            key, sep, _ = item.partition("=")
            if not sep or not unquote(key).strip():
                raise ConfigurationError(setting, f"{item.strip()!r} is not key=value")


def _without_credentials(value: Any) -> str:
    return re.sub(r"//[^/@]*@", "//***@", str(value))
