"""``python -m otel_llm.devserver``: run the model server in its own process."""

from otel_llm.devserver.command import main

raise SystemExit(main())
