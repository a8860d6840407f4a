"""The peers' virtualenvs under ``build/``, created and refreshed by the harness itself.

Each venv gets its pinned requirements (``bench/peers/requirements/*.txt``, all
including ``common.txt``) plus this checkout in editable mode with the
``openai`` and ``langchain`` extras, installed under the project's lock
(``uv.lock``, turned into pip constraints), so every contender runs exactly the
``openai``, LangChain and OpenTelemetry SDK versions the project's .venv runs.
A stamp file holds a hash of the requirement files, ``pyproject.toml`` and the
lock; a venv is rebuilt only when that hash changes.
The orchestrator itself runs in the project's ``.venv`` and is never modified.
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from bench.peers.process import ROOT

__all__ = [
    "LOCK", "REQUIREMENTS", "VENVS", "Venv", "ensure", "lock_constraints", "pins", "stamp_of",
]

REQUIREMENTS = Path(__file__).resolve().parent / "requirements"
LOCK = ROOT / "uv.lock"
_STAMP = ".bench-stamp"


@dataclass(frozen=True)
class Venv:
    name: str
    directory: str  # under ROOT/build
    requirements: str  # file name in REQUIREMENTS

    @property
    def path(self) -> Path:
        return ROOT / "build" / self.directory

    @property
    def python(self) -> Path:
        return self.path / "bin" / "python"


VENVS: dict[str, Venv] = {
    "peers": Venv("peers", "bench-venv", "peers.txt"),
    "openai-v2": Venv("openai-v2", "bench-venv-openai-v2", "openai-v2.txt"),
}


def _files(requirements: Path) -> list[Path]:
    """The requirement file and every file it includes with ``-r``."""
    found = [requirements]
    for line in requirements.read_text().splitlines():
        if line.strip().startswith("-r "):
            found += _files(requirements.parent / line.split(None, 1)[1].strip())
    return found


def pins(requirements: Path) -> dict[str, str]:
    """``name -> version`` of every ``name==version`` line, includes followed."""
    out: dict[str, str] = {}
    for path in _files(requirements):
        for raw in path.read_text().splitlines():
            line = raw.split("#", 1)[0].strip()
            if line and not line.startswith("-"):
                name, sep, version = line.partition("==")
                if not sep:
                    raise ValueError(f"{path.name}: {line!r} is not pinned with ==")
                out[name.strip().lower()] = version.strip()
    return out


def lock_constraints(lock: Path = LOCK) -> list[str]:
    """pip constraint lines (``name==version ; markers``) for every package in a uv lock.

    A package locked at several versions (one per Python range) gives one line
    per version, each with the lock's resolution markers, so pip picks the one
    for the venv's interpreter. The project itself (an editable source) is left out.
    """
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10: pytest brings tomli there
        import tomli as tomllib
    out = []
    for package in tomllib.loads(lock.read_text())["package"]:
        if "editable" in package["source"] or "virtual" in package["source"]:
            continue
        line = f"{package['name']}=={package['version']}"
        markers = package.get("resolution-markers")
        out.append(f"{line} ; {' or '.join(f'({m})' for m in markers)}" if markers else line)
    return out


def stamp_of(requirements: Path, pyproject: Path = ROOT / "pyproject.toml",
             lock: Path = LOCK) -> str:
    digest = hashlib.sha256()
    for path in [*_files(requirements), pyproject, lock]:
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def ensure(venv: Venv, *, log: bool = True) -> Path:
    """The venv's interpreter, after creating or updating the venv if its stamp is stale."""
    requirements = REQUIREMENTS / venv.requirements
    stamp = stamp_of(requirements)
    stamp_file = venv.path / _STAMP
    if venv.python.exists() and stamp_file.exists() and stamp_file.read_text() == stamp:
        return venv.python
    started = time.perf_counter()
    if log:
        print(f"setting up {venv.path.relative_to(ROOT)} from {requirements.name} ...",
              file=sys.stderr, flush=True)
    if not venv.python.exists():
        base = getattr(sys, "_base_executable", sys.executable)
        subprocess.run([base, "-m", "venv", str(venv.path)], check=True)
    constraints = venv.path / "lock-constraints.txt"
    constraints.write_text("\n".join(lock_constraints()) + "\n")
    pip = [str(venv.python), "-m", "pip", "install", "-q", "--disable-pip-version-check"]
    subprocess.run([*pip, "-c", str(constraints), "-r", str(requirements),
                    "-e", f"{ROOT}[openai,langchain]"], check=True, cwd=ROOT)
    stamp_file.write_text(stamp)
    if log:
        print(f"  done in {time.perf_counter() - started:.0f} s", file=sys.stderr, flush=True)
    return venv.python
