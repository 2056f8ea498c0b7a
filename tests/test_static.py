"""The tree passes the linter and the type checker configured in pyproject.toml ([tool.ruff],
[tool.mypy]): ruff on the package and the tests, mypy in strict mode on the core (the case and
its reading, the knowledge base, the reasoning steps, the engine and the terminology)."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def test_ruff_finds_nothing() -> None:
    """Check that `ruff check contraxis tests` reports no finding, with the project's own rules."""
    if importlib.util.find_spec("ruff") is None:
        pytest.fail("ruff is not installed: pip install -e '.[test]'")
    result = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "--no-cache", "--output-format", "concise", "contraxis", "tests"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, f"ruff found problems:\n{result.stdout}{result.stderr}"


def test_ruff_is_configured_in_pyproject() -> None:
    """Check that the rules the tree is held to are the project's, not ruff's defaults."""
    import tomllib

    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["ruff"]
    assert config["line-length"] == 120
    assert {"E", "F", "W", "I", "B", "UP", "SIM"} <= set(config["lint"]["select"])


def test_mypy_finds_nothing() -> None:
    """Check that `mypy` (strict, on the files pyproject.toml lists) reports no error."""
    if importlib.util.find_spec("mypy") is None:
        pytest.fail("mypy is not installed: pip install -e '.[test]'")
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--no-error-summary", "--show-error-codes"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, f"mypy found problems:\n{result.stdout}{result.stderr}"


def test_mypy_is_strict_on_the_core_in_pyproject() -> None:
    """Check that mypy runs in strict mode on the core packages, ignoring only untyped libraries."""
    import tomllib

    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["mypy"]
    assert config["strict"] is True
    core = {
        "contraxis/case.py", "contraxis/reading.py", "contraxis/errors.py", "contraxis/vocabulary.py",
        "contraxis/assessment.py", "contraxis/engine.py", "contraxis/knowledge", "contraxis/reasoning",
        "contraxis/terminology",
    }
    assert core <= set(config["files"]), core - set(config["files"])
    for override in config.get("overrides", []):
        assert set(override) == {"module", "ignore_missing_imports"}, override
        modules = override["module"] if isinstance(override["module"], list) else [override["module"]]
        assert not [m for m in modules if m.startswith("contraxis")], modules
