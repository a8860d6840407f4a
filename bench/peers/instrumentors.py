"""How each contender is switched on inside its worker, given the worker's providers.

Every peer gets the same tracer, meter and logger providers (those that accept
them); imports happen here, in the worker, because each peer lives only in its
own venv. A contender that cannot be imported raises ``ContenderUnavailable``
with the reason, and the orchestrator reports it instead of a number.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

from bench.peers.telemetry import WorkerTelemetry

__all__ = ["INSTALLERS", "ContenderUnavailable", "install"]


class ContenderUnavailable(Exception):
    """The contender's package is missing or does not import in this venv."""


def _peer(module: str) -> Any:
    """A peer's module (untyped here: each is installed only in the benchmark venvs)."""
    return importlib.import_module(module)


def _instrument(instrumentor: Any, **kwargs: Any) -> None:
    """``BaseInstrumentor.instrument``, which only logs when it refuses (dependency conflict)."""
    instrumentor.instrument(**kwargs)
    if not instrumentor.is_instrumented_by_opentelemetry:
        raise ContenderUnavailable(f"{type(instrumentor).__module__} refused to instrument "
                                   "(see the worker's stderr)")


def _providers(t: WorkerTelemetry) -> dict[str, Any]:
    return {
        "tracer_provider": t.tracer_provider,
        "meter_provider": t.meter_provider,
        "logger_provider": t.logger_provider,
    }


def _handler(t: WorkerTelemetry) -> Any:
    from otel_llm.telemetry import OpenTelemetryCallbackHandler

    return OpenTelemetryCallbackHandler(**_providers(t))


def _none(t: WorkerTelemetry) -> None:
    pass


def _otel_llm(t: WorkerTelemetry) -> None:
    from otel_llm.instrumentation.openai import instrument_openai

    instrument_openai([_handler(t)])


def _otel_llm_estimate(t: WorkerTelemetry) -> None:
    from otel_llm.instrumentation.openai import instrument_openai

    instrument_openai([_handler(t)], stream_usage=False)


def _sdk_floor(t: WorkerTelemetry) -> None:
    from bench.peers.floor import install_floor

    install_floor(t.tracer_provider, t.meter_provider)


def _openllmetry(t: WorkerTelemetry) -> None:
    instrumentor = _peer("opentelemetry.instrumentation.openai").OpenAIInstrumentor()
    _instrument(instrumentor, **_providers(t))


def _openinference(t: WorkerTelemetry) -> None:
    instrumentor = _peer("openinference.instrumentation.openai").OpenAIInstrumentor()
    _instrument(instrumentor, tracer_provider=t.tracer_provider)


def _otel_genai_openai(t: WorkerTelemetry) -> None:
    instrumentor = _peer("opentelemetry.instrumentation.genai.openai").OpenAIInstrumentor()
    _instrument(instrumentor, **_providers(t))


def _otel_openai_v2(t: WorkerTelemetry) -> None:
    instrumentor = _peer("opentelemetry.instrumentation.openai_v2").OpenAIInstrumentor()
    _instrument(instrumentor, **_providers(t))


def _lc_otel_llm(t: WorkerTelemetry) -> None:
    from otel_llm.integrations.langchain import instrument_langchain

    instrument_langchain([_handler(t)])


def _lc_openllmetry(t: WorkerTelemetry) -> None:
    instrumentor = _peer("opentelemetry.instrumentation.langchain").LangchainInstrumentor()
    _instrument(instrumentor, **_providers(t))


def _lc_openinference(t: WorkerTelemetry) -> None:
    instrumentor = _peer("openinference.instrumentation.langchain").LangChainInstrumentor()
    _instrument(instrumentor, tracer_provider=t.tracer_provider)


def _lc_otel_genai(t: WorkerTelemetry) -> None:
    instrumentor = _peer("opentelemetry.instrumentation.genai.langchain").LangChainInstrumentor()
    _instrument(instrumentor, skip_dep_check=True, **_providers(t))


INSTALLERS: dict[str, Callable[[WorkerTelemetry], None]] = {
    "none": _none,
    "otel-llm": _otel_llm,
    "otel-llm-estimate": _otel_llm_estimate,
    "sdk-floor": _sdk_floor,
    "openllmetry": _openllmetry,
    "openinference": _openinference,
    "openllmetry-nocontent": _openllmetry,
    "openinference-nocontent": _openinference,
    "otel-genai-openai": _otel_genai_openai,
    "otel-openai-v2": _otel_openai_v2,
    "lc-none": _none,
    "lc-otel-llm": _lc_otel_llm,
    "lc-openllmetry": _lc_openllmetry,
    "lc-openinference": _lc_openinference,
    "lc-openllmetry-nocontent": _lc_openllmetry,
    "lc-openinference-nocontent": _lc_openinference,
    "lc-otel-genai": _lc_otel_genai,
}


def install(name: str, telemetry: WorkerTelemetry) -> None:
    try:
        INSTALLERS[name](telemetry)
    except ImportError as exc:  # the peer is not installed in this interpreter
        raise ContenderUnavailable(f"{name}: {exc}") from exc
