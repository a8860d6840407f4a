"""The exception tree (one root, so ``except otel_llm.OtelLLMError`` catches ours only), and
how a bug of ours met at run time is reported without reaching the application."""

from __future__ import annotations

import logging

__all__ = ["BugReport", "ConfigurationError", "OtelLLMError"]


class OtelLLMError(Exception):
    """Root of every exception this package raises on purpose."""


class ConfigurationError(OtelLLMError, ValueError):
    """A setting is invalid. Raised at configuration time, never from a running call.

    ``setting`` names the argument or environment variable at fault.
    """

    def __init__(self, setting: str, message: str) -> None:
        self.setting = setting
        super().__init__(f"{setting}: {message}")


class BugReport:
    """Reports an exception of ours caught on the user's path: a WARNING with its traceback
    the first time per place, DEBUG after that (a bug on a per-call path would otherwise
    flood the application's logs), and the user's work goes on.

    ``what`` names the part that failed, ``consequence`` what happens instead.
    """

    def __init__(self, logger: logging.Logger, what: str, consequence: str) -> None:
        self.logger = logger
        self.what = what
        self.consequence = consequence
        self._reported: set[str] = set()

    def __call__(self, where: str, exc: BaseException) -> None:
        if where in self._reported:
            self.logger.debug("otel-llm %s failed again in %s: %r", self.what, where, exc)
            return
        self._reported.add(where)
        self.logger.warning("otel-llm %s failed in %s; %s", self.what, where, self.consequence,
                            exc_info=exc)
