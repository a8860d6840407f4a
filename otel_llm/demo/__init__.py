"""``otel-llm demo`` (``make demo``): the LangChain callbacks tutorial, end to end, instrumented.

A streamed flower-shop answer with a sync and an async handler, a three-turn
conversation and three concurrent ``asyncio.gather`` calls inside
``get_openai_callback()``, and one failing call, against your model server
(``OPENAI_API_KEY`` / ``OPENAI_BASE_URL``) or the embedded one. Telemetry goes
to a collector when one is configured or found on localhost (with Jaeger
links), else it is shown in the terminal: span trees and a metrics table.

Modules: ``scenarios`` (what runs), ``handlers`` (the tutorial's handlers),
``backend`` (which model server), ``export`` (where telemetry goes),
``spans`` / ``metrics`` (terminal rendering), ``progress``, ``console``.
"""

from otel_llm.demo.runner import run_demo

__all__ = ["run_demo"]
