"""The clinician's HTML report: every vignette renders, alerts come first, the P21 report is pinned."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from contraxis import assess, read_case
from contraxis.report.html import REPORT_CSS, THEME, render_report, urgency_class

VIGNETTES = sorted((Path(__file__).resolve().parents[3] / "shared" / "vignettes").glob("*.yaml"))


@pytest.mark.parametrize("path", VIGNETTES, ids=[p.stem[:3] for p in VIGNETTES])
def test_every_vignette_renders_with_its_alerts_and_versions(kb, path):
    """Check that each vignette's report shows every alert, treatment and the versions."""
    case = read_case(yaml.safe_load(path.read_text(encoding="utf-8")))
    assessment = assess(case, kb=kb, xrefs=False)
    page = render_report(assessment, case=case)
    for alert in assessment.alerts:
        assert f"data-alert='{alert.code}'" in page
    for treatment in assessment.treatments:
        assert f"data-treatment='{treatment.code}'" in page
    assert assessment.knowledge_base_version in page and assessment.hpo_release in page
    assert page.index("cx-alerts-title") < page.index("Diagnosis and classification")
    assert "<script" not in page


def test_colours_come_from_the_theme():
    """Check that the stylesheet writes colours only in the theme, and each urgency has its class."""
    body = REPORT_CSS.split("}", 1)[1]
    assert not re.search(r"#[0-9a-fA-F]{3,6}\b", body.replace("#fff", ""))
    for urgency in ("emergency", "urgent", "soon", "routine"):
        assert f"cx-alert-{urgency}" in THEME and urgency_class(urgency) == f"cx-alert-{urgency}"


def test_p21_report_is_pinned(client, vignette, snapshot):
    """Check the whole clinician report of the acute dystonic reaction vignette."""
    data = vignette("P21")
    case = read_case(data)
    engine = client.app.state.engine
    assessment, _ = engine.assessment(case)
    snapshot("report-P21", {"html": render_report(assessment, case=case, standalone=False).splitlines()})
