"""Telemetry failures: counted per kind, logged once per kind, never raised."""

from __future__ import annotations

import logging

import pytest

from otel_llm.telemetry.guard import FailureLog, guarded


class Hooks:
    def __init__(self) -> None:
        self.failures = FailureLog()

    @guarded
    def on_event(self, value: int) -> None:
        if value < 0:
            raise ValueError("negative")
        if value == 0:
            raise ZeroDivisionError("zero")


def test_guarded_swallows_counts_and_logs_first_of_each_kind(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Three failures of two kinds: two log lines with tracebacks, counts 2 and 1."""
    hooks = Hooks()
    with caplog.at_level(logging.WARNING, logger="otel_llm.telemetry"):
        assert hooks.on_event(-1) is None
        hooks.on_event(-2)
        hooks.on_event(0)
        hooks.on_event(1)
    assert hooks.failures.counts() == {"on_event:ValueError": 2, "on_event:ZeroDivisionError": 1}
    assert len(caplog.records) == 2
    assert all(r.exc_info for r in caplog.records)
    assert "on_event" in caplog.records[0].getMessage()


def test_guarded_keeps_the_hook_name() -> None:
    """The wrapper looks like the hook (name and docstring) for introspection."""
    assert Hooks.on_event.__name__ == "on_event"


def test_base_exceptions_are_not_swallowed() -> None:
    """KeyboardInterrupt and friends still propagate: only Exception is telemetry's to hide."""

    class Interrupting(Hooks):
        @guarded
        def on_stop(self) -> None:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        Interrupting().on_stop()
