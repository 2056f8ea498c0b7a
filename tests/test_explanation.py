"""Every conclusion carries its explanation: the rule, the facts it used, and its source."""

from __future__ import annotations

import pytest

from contraxis import assess
from contraxis.io.vignette import load_vignettes

from .conftest import VIGNETTES


@pytest.fixture(scope="module")
def assessments(kb):
    return [assess(v.case, kb=kb) for v in load_vignettes(VIGNETTES)]


def test_every_conclusion_has_rule_facts_and_a_resolving_source(assessments, kb):
    """Check that conclusions, alerts, tests and treatments each name a rule, the facts used and a source."""
    rule_ids = {r["id"] for r in kb.rules()}
    rule_ids |= {o.offered_with.rule for o in kb.treatments.values() if o.offered_with is not None}
    for a in assessments:
        items = [*a.conclusions, *a.alerts, *a.workup, *a.treatments, *a.not_offered]
        assert items
        for item in items:
            why = item.why
            assert why.rule in rule_ids or why.rule.startswith(("onset-band.", "distribution."))
            assert why.source in kb.sources and why.citation == kb.sources[why.source].citation
            assert why.facts, f"{a.case_id}: {why.rule} used no facts"
            assert why.rationale


def test_summary_fields_are_explained(assessments):
    """Check that each summary field that has a value has a conclusion explaining it."""
    for a in assessments:
        fields = {c.field for c in a.conclusions}
        for name in ("phenomenology", "focal_type", "distribution", "onset_band", "associated", "etiology", "cause"):
            if getattr(a.summary, name) is not None:
                assert name in fields, (a.case_id, name)


def test_assessment_names_its_versions(assessments, kb):
    """Check that every assessment names the knowledge-base version and the HPO release."""
    for a in assessments:
        assert a.knowledge_base_version == kb.version
        assert a.hpo_release == "2025-11-24"


def test_missing_information_gives_questions(kb):
    """Check that what the case does not say comes back as questions to ask next."""
    from contraxis import read_case

    a = assess(read_case({"age": 50, "onset_age": 45, "findings": ["HP:0000473"], "regions": ["neck"]}), kb=kb)
    fields = {q.field for q in a.missing}
    assert {"medications", "imaging.mri_brain", "family_history", "severity"} <= fields
    assert all(q.question.endswith("?") and q.why for q in a.missing)


def test_mimic_says_what_it_is_instead(kb):
    """Check that a tic called a spasm is named a tic, with the reason."""
    from contraxis import read_case

    a = assess(read_case({"age": 12, "onset_age": 9, "regions": ["upper-face"],
                          "findings": ["HP:0100034", "CX:premonitory-urge-suppressible"]}), kb=kb)
    assert a.summary.phenomenology == "tic"
    assert any("Often called a spasm, this is a tic" in n for n in a.notes)


def test_test_already_done_is_not_advised_again(kb):
    """Check that a test with a clear result is left out, with a note saying so."""
    from contraxis import read_case

    case = read_case({"age": 30, "onset_age": 28, "regions": ["neck"], "findings": ["HP:0000473"],
                      "labs": [{"loinc": "2064-4", "value": 12, "unit": "mg/dL"}]})
    a = assess(case, kb=kb)
    assert "ceruloplasmin" not in a.summary.workup
    assert "urine-copper" in a.summary.workup
    assert any("Serum ceruloplasmin: not advised again" in n for n in a.notes)
