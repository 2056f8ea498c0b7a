"""The terminal report, rendered to a fixed-width console and compared in full.

To accept a deliberate change of the report, run with CONTRAXIS_UPDATE_SNAPSHOTS=1 and
review the diff of tests/snapshots/.
"""

from __future__ import annotations

import io
import os

import pytest
from rich.console import Console

from contraxis import assess, load_case
from contraxis.report.terminal import THEME, render

from .conftest import ROOT

SNAPSHOTS = ROOT / "tests" / "snapshots"


@pytest.mark.parametrize("example", ["cervical-dystonia.yaml", "acute-dystonic-reaction.json", "night-cramps.yaml"])
def test_report_matches_snapshot(example, kb):
    """Check that the report of a bundled example is exactly the pinned text."""
    assessment = assess(load_case(ROOT / "examples" / example), kb=kb)
    buffer = io.StringIO()
    Console(file=buffer, width=100, theme=THEME, color_system=None, force_terminal=False).print(render(assessment))
    text = buffer.getvalue()
    snapshot = SNAPSHOTS / (example.rsplit(".", 1)[0] + ".txt")
    if os.environ.get("CONTRAXIS_UPDATE_SNAPSHOTS") == "1":
        snapshot.write_text(text, encoding="utf-8")
    assert snapshot.exists(), f"no snapshot {snapshot.name}: run with CONTRAXIS_UPDATE_SNAPSHOTS=1 and review it"
    assert text == snapshot.read_text(encoding="utf-8")


def test_alert_colours_come_from_the_theme():
    """Check that every urgency has a style of its own in the theme."""
    for urgency in ("emergency", "urgent", "soon", "routine"):
        assert f"cx.alert.{urgency}" in THEME.styles


def test_differential_panel_says_what_it_rests_on(kb):
    """Check that the differential panel shows the candidates and warns when the findings are few."""
    assessment = assess(load_case(ROOT / "examples" / "cervical-dystonia.yaml"), kb=kb)
    diff = {"hpo_release": "2025-11-24", "evidence": {"present": [{"term": "HP:0000473"}], "excluded": []},
            "candidates": [{"disease_id": "OMIM:128100", "name": "Dystonia 1, torsion", "mds_name": "DYT-TOR1A",
                            "genes": ["TOR1A"], "post_test_probability": 0.4, "treatable": False}]}
    buffer = io.StringIO()
    Console(file=buffer, width=120, theme=THEME, color_system=None).print(
        render(assessment.model_copy(update={"differential": diff}))
    )
    text = buffer.getvalue()
    assert "Dystonia 1, torsion (DYT-TOR1A)" in text and "0.40" in text
    assert "1 present, 0 excluded" in text and "the ranking is weak" in text
