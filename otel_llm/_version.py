"""The package version, in one place: ``pyproject.toml`` reads it from here when building.

A module constant rather than ``importlib.metadata``: reading installed
metadata costs ~15 ms at import (``importlib.metadata`` pulls in ``email``) and
fails in a source tree that is not installed.
"""

__version__ = "0.1.0"
