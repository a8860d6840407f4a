"""Benchmarks: each module has ``run(rounds) -> dict`` and prints a table when run alone.

``python -m bench`` runs them all. Figures are ratios within one process run,
never absolute times compared across runs.
"""
