"""The peers' venv definitions: exact pins, shared SDK versions, rebuild only on change."""

from __future__ import annotations

from pathlib import Path

import pytest
from packaging.requirements import Requirement

from bench.peers.contenders import CONTENDERS
from bench.peers.venvs import REQUIREMENTS, VENVS, lock_constraints, pins, stamp_of


def test_every_shipped_requirement_is_pinned_exactly() -> None:
    """Each venv's requirements (with their ``-r`` includes) pin every package with ``==``
    (``pins`` raises otherwise) and name at least one peer package."""
    for venv in VENVS.values():
        assert pins(REQUIREMENTS / venv.requirements), venv.name


def test_every_venv_installs_the_projects_locked_sdk_versions() -> None:
    """The venvs are constrained by uv.lock: for any interpreter the lock supports, exactly
    one openai, OTel SDK and langchain-core version applies, so contenders differ only in
    their instrumentation and never in what the index serves today."""
    constraints = [Requirement(line) for line in lock_constraints()]
    for python in ("3.10.13", "3.11.7", "3.12.1", "3.13.0"):
        env = {"python_full_version": python, "python_version": python.rsplit(".", 1)[0]}
        for name in ("openai", "opentelemetry-sdk", "opentelemetry-api", "langchain-core"):
            applying = [r for r in constraints
                        if r.name == name and (r.marker is None or r.marker.evaluate(env))]
            assert len(applying) == 1 and str(applying[0].specifier).startswith("=="), (
                python, name, applying)


def test_no_requirement_file_contradicts_the_lock() -> None:
    """A package both the lock and a venv's requirement file name is pinned at a locked
    version (otherwise pip's resolution would fail at bench time, not here)."""
    locked: dict[str, set[str]] = {}
    for line in lock_constraints():
        requirement = Requirement(line)
        locked.setdefault(requirement.name, set()).add(str(requirement.specifier)[2:])
    for venv in VENVS.values():
        for name, version in pins(REQUIREMENTS / venv.requirements).items():
            assert name not in locked or version in locked[name], (venv.name, name, version)


def test_every_contender_names_a_known_venv() -> None:
    """A contender's venv exists in VENVS (a typo would only show at run time otherwise)."""
    assert {c.venv for c in CONTENDERS} <= set(VENVS)


def test_unpinned_requirement_is_rejected(tmp_path: Path) -> None:
    """A ``>=`` requirement is refused, naming the file and the line."""
    (tmp_path / "common.txt").write_text("openai>=3\n")
    (tmp_path / "x.txt").write_text("-r common.txt\nfoo==1.0  # comment\n")
    with pytest.raises(ValueError, match=r"common.txt: 'openai>=3'"):
        pins(tmp_path / "x.txt")


def test_stamp_changes_with_an_included_file_only(tmp_path: Path) -> None:
    """The rebuild stamp covers included files and pyproject, and nothing else."""
    (tmp_path / "common.txt").write_text("a==1\n")
    (tmp_path / "x.txt").write_text("-r common.txt\nb==2\n")
    (tmp_path / "pyproject.toml").write_text("[project]\n")
    (tmp_path / "unrelated.txt").write_text("c==3\n")
    before = stamp_of(tmp_path / "x.txt", tmp_path / "pyproject.toml")
    (tmp_path / "unrelated.txt").write_text("c==4\n")
    assert stamp_of(tmp_path / "x.txt", tmp_path / "pyproject.toml") == before
    (tmp_path / "common.txt").write_text("a==2\n")
    assert stamp_of(tmp_path / "x.txt", tmp_path / "pyproject.toml") != before
