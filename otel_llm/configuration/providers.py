"""The application's own SDK providers: reuse them, or install ours as the globals."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, Literal

from opentelemetry import _logs, metrics, trace
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.trace import TracerProvider

from otel_llm.configuration.exporters import Signal
from otel_llm.errors import ConfigurationError

__all__ = ["existing", "install"]

_log = logging.getLogger("otel_llm.configuration")


def existing(signal: Signal, install: bool, policy: Literal["reuse", "raise"]) -> Any:
    """The application's own SDK provider for ``signal``, if it installed one."""
    if not install:
        return None
    current: Any
    sdk_type: type
    if signal == "traces":
        current, sdk_type = trace.get_tracer_provider(), TracerProvider
    elif signal == "metrics":
        current, sdk_type = metrics.get_meter_provider(), MeterProvider
    else:
        current, sdk_type = _logs.get_logger_provider(), LoggerProvider
    if not isinstance(current, sdk_type):
        return None
    if policy == "raise":
        raise ConfigurationError(
            "on_existing_provider",
            f"the application already installed a {type(current).__name__} for {signal}",
        )
    _log.info(
        "otel-llm: reusing the application's %s for %s; its exporters stay as they are",
        type(current).__name__,
        signal,
    )
    return current


def install(owned: list[Any]) -> None:
    setters: list[tuple[type, Callable[[Any], None], Callable[[], Any]]] = [
        (TracerProvider, trace.set_tracer_provider, trace.get_tracer_provider),
        (MeterProvider, metrics.set_meter_provider, metrics.get_meter_provider),
        (LoggerProvider, _logs.set_logger_provider, _logs.get_logger_provider),
    ]
    for provider in owned:
        for kind, setter, getter in setters:
            if isinstance(provider, kind):
                setter(provider)
                if getter() is not provider:
                    _log.warning(
                        "otel-llm: a global %s was already set and cannot be replaced; use "
                        "Telemetry.handler() to get a handler bound to otel-llm's providers",
                        kind.__name__,
                    )
