"""The acceptance corpus: every vignette in ../shared/vignettes and ../shared/vignettes/next
passes every expected field."""

from __future__ import annotations

from pathlib import Path

import pytest

from contraxis import assess
from contraxis.io.vignette import check

from .conftest import VIGNETTES

FOLDERS = (VIGNETTES, VIGNETTES / "next")
PATHS = [path for folder in FOLDERS if folder.is_dir() for path in sorted(folder.glob("*.yaml"))]


def test_corpus_is_present(vignette_dir: Path) -> None:
    """Check that both folders of the corpus are there and hold vignettes, so the parametrized
    test cannot pass empty."""
    assert len(list(vignette_dir.glob("*.yaml"))) >= 40
    assert len(list((vignette_dir / "next").glob("*.yaml"))) >= 8
    assert len(PATHS) >= 48


@pytest.mark.parametrize("path", PATHS, ids=[p.stem.split("-")[0] for p in PATHS])
def test_vignette_passes_every_expected_field(path: Path, kb) -> None:
    """Check that the assessment of one vignette matches every field it expects."""
    from contraxis.io.vignette import load_vignette

    vignette = load_vignette(path)
    assessment = assess(vignette.case, kb=kb, xrefs=False)
    failures = [c for c in check(vignette, assessment) if not c.passed]
    assert not failures, "\n".join(f"{c.field}: expected {c.expected!r}, got {c.got!r} {c.detail}" for c in failures)


@pytest.mark.parametrize("folder, least", [("", 300), ("next", 60)], ids=["vignettes", "next"])
def test_vignette_runner_reports_every_field(vignette_dir: Path, kb, folder: str, least: int) -> None:
    """Check that the runner counts each vignette's expected fields and finds no failure, in each folder."""
    from contraxis.validation import run_vignettes

    directory = vignette_dir / folder if folder else vignette_dir
    results = run_vignettes(directory, kb=kb)
    assert results.cases == len(list(directory.glob("*.yaml")))
    assert results.all_passed
    assert sum(n for _, n in results.per_field.values()) > least
