"""``python -m otel_llm.devserver``: run the model server in its own process."""

from otel_llm._extras import run_with_hint
from otel_llm.devserver.command import main

raise SystemExit(run_with_hint("python -m otel_llm.devserver", main))
