"""The note reader on the acceptance corpus: each vignette's narrative alone (never its case
block) read into a case, compared with the case block, and assessed.

The figures the README gives come from ``contraxis bench notes ../shared/vignettes
../shared/vignettes/next``; this test holds the reader to the thresholds it must meet.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from contraxis.io.note.bench import bench_notes, render_bench


@pytest.fixture(scope="module")
def report(vignette_dir: Path):
    return bench_notes([vignette_dir, vignette_dir / "next"], seconds=0.5, details=True)


@pytest.mark.parametrize("folder", ["", "next"], ids=["vignettes", "next"])
def test_each_folder_on_its_own(vignette_dir: Path, folder: str):
    """Check the findings, regions and negation thresholds in each folder of the corpus alone."""
    alone = bench_notes([vignette_dir / folder], seconds=0.2)
    findings, regions = alone.sets["findings"], alone.sets["regions"]
    assert findings.precision >= 0.85 and findings.recall >= 0.85, findings.to_json()
    assert regions.precision >= 0.95 and regions.recall >= 0.95, regions.to_json()
    assert alone.negated_as_present == []
    assert alone.expected_note[0] / alone.expected_note[1] >= 0.90


def test_findings_from_the_narrative_alone(report):
    """Check findings precision and recall of at least 0.85 against the case blocks."""
    findings = report.sets["findings"]
    assert report.vignettes >= 48
    assert findings.precision >= 0.85 and findings.recall >= 0.85, findings.to_json()


def test_regions_with_their_side(report):
    """Check regions (left and right apart) at 0.95 precision and recall."""
    regions = report.sets["regions"]
    assert regions.precision >= 0.95 and regions.recall >= 0.95, regions.to_json()


def test_no_negated_finding_is_read_as_present(report):
    """Check that no finding a vignette gives as absent is read as present."""
    assert report.negated_as_present == []


def test_expected_fields_from_the_narrative(report):
    """Check that at least 90% of all expected fields are right when the narrative alone is read."""
    right, checked = report.expected_note
    assert checked >= 450
    assert right / checked >= 0.90, report.failures


def test_speed_and_the_report(report):
    """Check at least 50 notes read per second of one core's time, and that the report prints every figure."""
    assert report.notes_per_second >= 50
    text = render_bench(report)
    for words in ("findings", "regions", "absent", "onset_age", "all fields", "notes read"):
        assert words in text
