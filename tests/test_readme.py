"""The README begins with the two commands, and CI runs the README's test command."""

from __future__ import annotations

import re

from .conftest import ROOT


def _commands() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    return re.findall(r"```sh\n(.+?)\n```", text)


def test_readme_starts_with_install_and_run_and_install_and_test():
    """Check that the first two commands install and run the example, then install and run the tests."""
    run, test = _commands()[:2]
    assert "pip install" in run and "contraxis assess examples/" in run
    assert "pip install" in test and "pytest" in test


def test_ci_runs_the_readme_test_command():
    """Check that .ci/run holds the README's test command verbatim."""
    test = _commands()[1]
    assert test in (ROOT / ".ci" / "run").read_text(encoding="utf-8")


def test_readme_example_file_exists():
    """Check that the example the first command assesses is in the repository."""
    run = _commands()[0]
    path = re.search(r"contraxis assess (\S+)", run).group(1)
    assert (ROOT / path).is_file()
