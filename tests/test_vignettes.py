"""The acceptance corpus: every vignette in ../shared/vignettes passes every expected field."""

from __future__ import annotations

import pytest

from contraxis import assess
from contraxis.io.vignette import check

from .conftest import VIGNETTES

PATHS = sorted(VIGNETTES.glob("*.yaml")) if VIGNETTES.is_dir() else []


def test_corpus_is_present(vignette_dir):
    """Check that the corpus is there and holds vignettes, so the parametrized test cannot pass empty."""
    assert len(list(vignette_dir.glob("*.yaml"))) >= 40


@pytest.mark.parametrize("path", PATHS, ids=[p.stem.split("-")[0] for p in PATHS])
def test_vignette_passes_every_expected_field(path, kb):
    """Check that the assessment of one vignette matches every field it expects."""
    from contraxis.io.vignette import load_vignette

    vignette = load_vignette(path)
    assessment = assess(vignette.case, kb=kb, xrefs=False)
    failures = [c for c in check(vignette, assessment) if not c.passed]
    assert not failures, "\n".join(f"{c.field}: expected {c.expected!r}, got {c.got!r} {c.detail}" for c in failures)


def test_vignette_runner_reports_every_field(vignette_dir, kb):
    """Check that the runner counts each vignette's expected fields and finds no failure."""
    from contraxis.validation import run_vignettes

    results = run_vignettes(vignette_dir, kb=kb)
    assert results.cases == len(list(vignette_dir.glob("*.yaml")))
    assert results.all_passed
    assert sum(n for _, n in results.per_field.values()) > 300
