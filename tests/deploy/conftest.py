"""Fixtures for the deploy/ checks: one live stack (workload + Prometheus) per session."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from deploy_support import LiveStack


@pytest.fixture(scope="session")
def live_stack() -> Iterator[LiveStack]:
    """The workload (tests/deploy/workload.py) scraped every second by Debian's Prometheus.

    Both processes are stopped by PID when the session ends, whatever happened.
    """
    stack = LiveStack()
    try:
        stack.start()
        stack.wait_for_scrapes(scrapes=6)
        yield stack
    finally:
        stack.stop()
