"""Benchmarks.

``python -m bench`` compares otel-llm with its peers (``bench/peers``, written to
``bench/RESULTS.md``); ``python -m bench --ours`` runs the micro-benchmarks in this
package, each also runnable alone with ``python -m bench.<name>``. Figures are
ratios within one process run, never absolute times compared across runs.
"""
