"""The public namespace is curated: these names, importable, and nothing private leaks."""

from __future__ import annotations

import subprocess
import sys

import pytest

import otel_llm
import otel_llm.testing

PUBLIC = {
    "AsyncCallbackHandler", "AsyncCallbackManager", "BaseCallbackHandler", "CallbackManager",
    "ConfigurationError", "FileCallbackHandler", "OpenTelemetryCallbackHandler", "OtelLLMError",
    "StdOutCallbackHandler", "StreamingStdOutCallbackHandler", "Telemetry", "TokenCounter",
    "__version__", "configure", "count_message_tokens", "count_tokens", "get_openai_callback",
    "scoped_callbacks", "token_counter",
    "instrument_openai", "uninstrument_openai", "wrap_openai", "instrument_langchain",
    "agent", "attributes", "tool", "workflow",
}
TESTING = {"FakeChain", "FakeChatModel", "InMemoryTelemetry", "MetricPoint", "load_recording",
           "load_recordings", "replay_call"}


def test_top_level_exports_are_exactly_the_curated_names() -> None:
    """otel_llm.__all__ is the documented API; each name resolves, lazily, to its definition."""
    from otel_llm.instrumentation.openai import instrument_openai
    from otel_llm.integrations.langchain import instrument_langchain

    assert set(otel_llm.__all__) == PUBLIC
    assert set(otel_llm._LAZY) == PUBLIC - {"__version__"}
    for name in PUBLIC:
        assert getattr(otel_llm, name) is not None
    assert otel_llm.instrument_openai is instrument_openai
    assert otel_llm.instrument_langchain is instrument_langchain
    assert set(dir(otel_llm)) >= PUBLIC
    with pytest.raises(AttributeError):
        otel_llm.no_such_name  # noqa: B018


def test_testing_exports_are_exactly_the_curated_names() -> None:
    """otel_llm.testing.__all__ is the documented testing API; each name resolves."""
    assert set(otel_llm.testing.__all__) == TESTING
    for name in TESTING:
        assert getattr(otel_llm.testing, name) is not None


def test_the_package_is_typed_and_versioned() -> None:
    """py.typed ships with the package; __version__ is the version the metadata was built from."""
    from importlib import metadata, resources

    assert resources.files("otel_llm").joinpath("py.typed").is_file()
    assert otel_llm.__version__ == metadata.version("otel-llm")


def test_importing_the_package_imports_nothing_else() -> None:
    """`import otel_llm` loads no submodule, no OpenTelemetry, no extra, and none of the
    stdlib packages that cost most (asyncio, importlib.metadata, email)."""
    code = (
        "import sys\n"
        "before = set(sys.modules)\n"
        "import otel_llm\n"
        "print(' '.join(sorted(set(sys.modules) - before)))\n"
    )
    assert set(_in_fresh_interpreter(code).split()) == {"otel_llm", "otel_llm._version"}


def test_importing_the_package_builds_no_encoding_and_opens_no_socket() -> None:
    """`import otel_llm` stays cheap: no tokenizer loaded, no network, no provider installed."""
    code = (
        "import socket\n"
        "def refuse(*a, **k): raise AssertionError('network used at import')\n"
        "socket.socket.connect = refuse\n"
        "import otel_llm, otel_llm.tokens.encodings as e\n"
        "assert e._cache == {}, 'an encoding was built at import'\n"
        "from opentelemetry import trace\n"
        "assert type(trace.get_tracer_provider()).__name__ == 'ProxyTracerProvider'\n"
        "print('ok')\n"
    )
    assert _in_fresh_interpreter(code).strip() == "ok"


def _in_fresh_interpreter(code: str) -> str:
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    return out.stdout
