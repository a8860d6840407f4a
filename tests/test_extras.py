"""A missing optional extra gives the `pip install` line, never a bare ModuleNotFoundError.

Each case runs in a fresh interpreter where the extra's modules are made
unimportable (a meta-path finder that refuses them, as in an install without
that extra). The wheel installed with no extras at all is tested end to end in
tests/test_distribution.py.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from importlib import metadata

from otel_llm import _extras

_BLOCK = """
import sys
from importlib.abc import MetaPathFinder

BLOCKED = {blocked!r}

class NotInstalled(MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if any(name == b or name.startswith(b + ".") for b in BLOCKED):
            raise ModuleNotFoundError(f"No module named {{name!r}}", name=name)
        return None

sys.meta_path.insert(0, NotInstalled())
"""


def run_without(blocked: list[str], code: str) -> subprocess.CompletedProcess[str]:
    script = _BLOCK.format(blocked=blocked) + textwrap.dedent(code)
    return subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120
    )


def test_the_table_names_only_extras_the_package_declares() -> None:
    """Every extra a hint can name exists in the installed package's metadata."""
    declared = set(metadata.metadata("otel-llm").get_all("Provides-Extra") or [])
    assert set(_extras.EXTRAS) <= declared
    assert _extras.extra_for("tiktoken.core") == "openai"
    assert _extras.extra_for("opentelemetry.sdk.trace") == "otlp"
    assert _extras.extra_for("opentelemetry.api") is None


def test_top_level_names_raise_the_install_line() -> None:
    """otel_llm.instrument_openai / instrument_langchain / configure without their extras:
    an ImportError whose message ends with the pip install line."""
    out = run_without(
        ["openai", "langchain_core", "opentelemetry.sdk"],
        """
        import otel_llm
        for name in ("instrument_openai", "instrument_langchain", "configure"):
            try:
                getattr(otel_llm, name)
            except ImportError as exc:
                print(type(exc).__name__, exc)
        print(otel_llm.OpenTelemetryCallbackHandler.__name__)  # the API is enough for this one
        """,
    )
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert len(lines) == 4, out.stdout
    assert lines[0].startswith("MissingExtraError otel_llm.instrument_openai needs the 'openai'")
    assert lines[0].endswith('pip install "otel-llm[openai]"')
    assert lines[1].endswith('pip install "otel-llm[langchain]"')
    assert lines[2].endswith('pip install "otel-llm[otlp]"')
    assert lines[3] == "OpenTelemetryCallbackHandler"


def test_console_commands_print_the_hint_and_exit_1() -> None:
    """`otel-llm demo` without openai and `serve-model --replay` without PyYAML: one line on
    stderr naming the extra, exit status 1, no traceback."""
    demo = run_without(
        ["openai"],
        """
        from otel_llm.cli import main
        raise SystemExit(main(["demo", "--no-progress"]))
        """,
    )
    assert demo.returncode == 1
    assert "Traceback" not in demo.stderr
    assert demo.stderr.strip().endswith('pip install "otel-llm[openai]"'), demo.stderr
    assert demo.stdout == ""

    replay = run_without(
        ["yaml"],
        """
        from otel_llm.cli import main
        raise SystemExit(main(["serve-model", "--port", "0", "--replay", "all"]))
        """,
    )
    assert replay.returncode == 1
    assert "Traceback" not in replay.stderr
    assert replay.stderr.strip().endswith('pip install "otel-llm[replay]"'), replay.stderr


def test_an_unrelated_import_error_is_not_disguised() -> None:
    """A module that no extra provides keeps its own ModuleNotFoundError (a real bug)."""
    out = run_without(
        ["otel_llm.counter"],
        """
        import otel_llm
        try:
            otel_llm.token_counter
        except ImportError as exc:
            print(type(exc).__name__)
        """,
    )
    assert out.stdout.strip() == "ModuleNotFoundError", out.stderr


def test_optional_modules_raise_the_install_line() -> None:
    """OpenAIInstrumentor without the `instrument` extra and otel_llm.testing without the SDK:
    the install line, not a bare ModuleNotFoundError."""
    out = run_without(
        ["opentelemetry.instrumentation", "opentelemetry.sdk"],
        """
        try:
            from otel_llm.instrumentation.openai import OpenAIInstrumentor
        except ImportError as exc:
            print(exc)
        try:
            import otel_llm.testing
        except ImportError as exc:
            print(exc)
        """,
    )
    lines = out.stdout.splitlines()
    assert len(lines) == 2, out.stdout + out.stderr
    assert lines[0].endswith('pip install "otel-llm[instrument]"')
    assert lines[1].endswith('pip install "otel-llm[otlp]"')
