"""The peers' venv definitions: exact pins, shared SDK versions, rebuild only on change."""

from __future__ import annotations

from importlib import metadata
from pathlib import Path

import pytest

from bench.peers.contenders import CONTENDERS
from bench.peers.venvs import REQUIREMENTS, VENVS, pins, stamp_of


def test_every_shipped_requirement_is_pinned_exactly() -> None:
    """Each venv's requirements (with their ``-r`` includes) pin every package with ``==``."""
    for venv in VENVS.values():
        found = pins(REQUIREMENTS / venv.requirements)
        assert "openai" in found and "opentelemetry-sdk" in found, venv.name


def test_every_venv_shares_the_projects_sdk_versions() -> None:
    """All venvs pin the openai, OTel SDK and langchain-core versions the project's .venv
    runs, so contenders differ only in their instrumentation."""
    for venv in VENVS.values():
        found = pins(REQUIREMENTS / venv.requirements)
        for name in ("openai", "opentelemetry-sdk", "opentelemetry-api", "langchain-core"):
            assert found[name] == metadata.version(name), (venv.name, name)


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
