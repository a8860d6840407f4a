"""Without langchain-core nothing of LangChain is imported: our handlers are plain classes and
work with our own managers and the OpenAI SDK layer.

The process runs with a meta-path finder that makes every LangChain package (and LangSmith)
absent, as in an install without the ``langchain`` extra: importing one fails exactly as a
missing package does. Each import attempt is recorded, so the test also proves that nothing
tried to import them beyond the one ``find_spec`` presence check.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

from otel_llm.devserver import ModelServer

SCRIPT = textwrap.dedent("""
    import importlib.abc, json, os, sys

    BLOCKED = ("langchain", "langchain_core", "langchain_openai", "langchain_classic",
               "langsmith", "langgraph")
    asked = []

    class Absent(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in BLOCKED:
                asked.append(name)
                raise ModuleNotFoundError(f"No module named {name!r}", name=name)
            return None

    sys.meta_path.insert(0, Absent())

    import openai
    import otel_llm
    from otel_llm import get_openai_callback
    from otel_llm.callbacks import AsyncCallbackHandler, BaseCallbackHandler
    from otel_llm.instrumentation.openai import instrument_openai

    tokens = []

    class Mine(BaseCallbackHandler):
        def on_llm_new_token(self, token, **kwargs):
            tokens.append(token)

    class Later(AsyncCallbackHandler):
        async def on_llm_end(self, response, **kwargs):
            tokens.append("<end>")

    instrument_openai([Mine(), Later(), otel_llm.OpenTelemetryCallbackHandler()])
    client = openai.OpenAI(base_url=os.environ["DEVSERVER_URL"], api_key="sk-test")
    with get_openai_callback() as cb:
        for _ in client.chat.completions.create(
                model="gpt-4o-mini+len=4", stream=True,
                messages=[{"role": "user", "content": "hi"}]):
            pass
    print(json.dumps({
        "bases": [c.__module__ for c in BaseCallbackHandler.__mro__],
        "loaded": sorted(m for m in sys.modules
                         if m.split(".")[0] in BLOCKED and sys.modules[m] is not None),
        "asked": asked,
        "tokens": tokens,
        "completion_tokens": cb.completion_tokens,
    }))
""")


def test_otel_llm_works_and_never_imports_langchain_when_it_is_absent() -> None:
    """With LangChain absent, importing otel_llm and using its handlers (a sync and an async
    one, the OTel handler, the token counter on an instrumented OpenAI stream) works and
    loads no LangChain module; the only attempt is the presence check for langchain_core."""
    with ModelServer() as server:
        env = {**os.environ, "DEVSERVER_URL": server.base_url}
        done = subprocess.run([sys.executable, "-c", SCRIPT], env=env, capture_output=True,
                              text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert out["bases"] == ["otel_llm.callbacks.base", "otel_llm.callbacks.base",
                            "otel_llm.callbacks.base", "builtins"]
    assert out["loaded"] == []
    assert out["asked"] == ["langchain_core"]
    assert len([t for t in out["tokens"] if t != "<end>"]) >= 4 and out["tokens"][-1] == "<end>"
    assert out["completion_tokens"] == 4
