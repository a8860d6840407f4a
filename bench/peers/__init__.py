"""otel-llm against its peers: overhead, memory and correctness in one interleaved run.

``python -m bench`` (or ``make bench``) is the entry point. The orchestrator runs in
the project's .venv:

- :mod:`~bench.peers.venvs` creates the peers' virtualenvs under ``build/`` from the
  pinned ``requirements/*.txt``;
- :mod:`~bench.peers.process` starts the embedded model server and one persistent
  worker process per contender (peers patch ``openai`` and LangChain globally);
- :mod:`~bench.peers.runner` drives the workers round by round, then the probes,
  then a memory run per contender;
- :mod:`~bench.peers.results` turns rounds into medians, spreads and ratios to the
  same round's baseline, :mod:`~bench.peers.verdicts` judges the probes,
  :mod:`~bench.peers.report`, :mod:`~bench.peers.markdown` and
  :mod:`~bench.peers.plot` render them.

Worker side (imported by ``python -m bench.peers.worker`` in whichever venv the
contender needs, so only what every venv has): :mod:`~bench.peers.contenders`
(who), :mod:`~bench.peers.instrumentors` (how each is switched on),
:mod:`~bench.peers.telemetry` (the shared SDK set-up), :mod:`~bench.peers.scenarios`
(the calls), :mod:`~bench.peers.probes` (correctness observations) and
:mod:`~bench.peers.rss` (memory).
"""
