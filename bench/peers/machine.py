"""What the figures were measured on: CPU, cores, memory, OS, Python (Linux /proc)."""

from __future__ import annotations

import os
import platform
from pathlib import Path

__all__ = ["describe"]


def _first(path: str, key: str) -> str | None:
    try:
        for line in Path(path).read_text().splitlines():
            name, _, value = line.partition(":")
            if name.strip() == key:
                return value.strip()
    except OSError:
        return None
    return None


def _os_name() -> str:
    try:
        for line in Path("/etc/os-release").read_text().splitlines():
            if line.startswith("PRETTY_NAME="):
                return line.split("=", 1)[1].strip('"')
    except OSError:
        pass
    return platform.system()


def describe() -> dict[str, str]:
    mem_kb = _first("/proc/meminfo", "MemTotal")
    mem = f"{int(mem_kb.split()[0]) / 2**20:.0f} GiB" if mem_kb else "?"
    return {
        "cpu": _first("/proc/cpuinfo", "model name") or platform.processor() or "?",
        "cores": str(os.cpu_count()),
        "memory": mem,
        "os": f"{_os_name()}, kernel {platform.release()}",
        "python": f"{platform.python_implementation()} {platform.python_version()}",
    }
