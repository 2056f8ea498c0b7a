"""The case model: bad input gets clear errors naming the field, the value and what is
allowed; contradictions are reported, not resolved."""

from __future__ import annotations

import pytest

from contraxis import CaseError, ContradictionError, assess, load_case, read_case


def test_vignette_case_block_is_a_native_case():
    """Check that a mapping with a top-level case block is read through its case block."""
    case = read_case({"id": "V1", "title": "x", "case": {"age": 30, "regions": ["neck"]}, "expected": {}})
    assert case.age == 30 and case.regions == ("neck",)


@pytest.mark.parametrize(
    "data, where, message",
    [
        ({"course": "chronic"}, "case.course", "'chronic' is not one of acute, static, progressive, episodic"),
        ({"age": 200}, "case.age", "less than or equal to 120"),
        ({"age": "old"}, "case.age", "'old'"),
        ({"regions": ["nose"]}, "case.regions[0]", "'nose' is not one of upper-face"),
        ({"findings": ["HP:12"]}, "case.findings", "'HP:12' is not a finding code"),
        ({"history": ["CX:sensory-trick"]}, "case.history", "is not a history code"),
        ({"labs": [{"loinc": "abc", "value": 1, "unit": "mg/dL"}]}, "case.labs[0].loinc", "'abc' is not a LOINC code"),
        (
            {"medications": [{"name": "haloperidol", "rxnorm": "R5"}]},
            "case.medications[0].rxnorm",
            "is not an RxNorm code",
        ),
        (
            {"treatment_history": [{"treatment": "surgery", "response": "good"}]},
            "case.treatment_history[0].treatment",
            "'surgery' is not one of",
        ),
        ({"genetics": {"tested": ["tor1a"]}}, "case.genetics.tested", "HGNC gene symbol"),
        (
            {"imaging": {"mri_brain": "maybe"}},
            "case.imaging.mri_brain",
            "'maybe' is not one of normal, abnormal, not_done",
        ),
        ({"colour": "blue"}, "case.colour", "is not a case field"),
        ({"family_history": "perhaps"}, "case.family_history", "'perhaps'"),
    ],
)
def test_bad_field_names_field_value_and_allowed(data, where, message):
    """Check that each bad field is reported with its path, its value and what is allowed."""
    with pytest.raises(CaseError) as info:
        read_case(data)
    problems = {p.where: p.message for p in info.value.problems}
    assert where in problems, problems
    assert message in problems[where]


def test_every_problem_is_reported_at_once():
    """Check that a case with several bad fields reports all of them in one error."""
    with pytest.raises(CaseError) as info:
        read_case({"course": "chronic", "sex": "x", "regions": ["nose"]})
    assert {p.where for p in info.value.problems} == {"case.course", "case.sex", "case.regions[0]"}


@pytest.mark.parametrize(
    "data, message",
    [
        ({"age": 30, "onset_age": 40}, "onset at 40 is after the current age 30"),
        ({"findings": ["HP:0001337"], "absent": ["HP:0001337"]}, "HP:0001337 is both in findings and absent"),
        ({"genetics": {"tested": [], "positive": ["TOR1A"]}}, "TOR1A is positive but not in genetics.tested"),
        (
            {"imaging": {"mri_brain": "normal", "findings": ["HP:0002454"]}},
            "MRI findings are given but mri_brain is 'normal'",
        ),
    ],
)
def test_contradictions_are_reported(data, message):
    """Check that a case contradicting itself raises ContradictionError naming the contradiction."""
    with pytest.raises(ContradictionError) as info:
        read_case(data)
    assert message in str(info.value)


@pytest.mark.parametrize(
    "data, where, message",
    [
        ({"findings": ["HP:9999999"]}, "case.findings[0]", "not a current term of the HPO release"),
        ({"findings": ["CX:made-up"]}, "case.findings[0]", "not a local code"),
        ({"history": ["CX:hx-alien-abduction"]}, "case.history[0]", "not a history code"),
        (
            {"labs": [{"loinc": "17861-6", "value": 9, "unit": "g"}]},
            "case.labs[0]",
            "'g' is not a unit Contraxis can read for calcium (17861-6) (allowed: mg/dL, mmol/L",
        ),
    ],
)
def test_unknown_codes_are_rejected_by_the_engine(data, where, message, kb):
    """Check that codes unknown to the ontology or the knowledge base are rejected, not ignored."""
    with pytest.raises(CaseError) as info:
        assess(read_case(data), kb=kb, xrefs=False)
    problems = {p.where: p.message for p in info.value.problems}
    assert where in problems and message in problems[where], problems


def test_load_case_reports_syntax_errors(tmp_path):
    """Check that a file that is not YAML or JSON gets one clear error naming the file."""
    path = tmp_path / "bad.json"
    path.write_text('{"age": 3,', encoding="utf-8")
    with pytest.raises(CaseError) as info:
        load_case(path)
    assert str(path) in str(info.value) and "not valid YAML or JSON" in str(info.value)


def test_unknown_is_not_no():
    """Check that a field left out stays unknown (None), apart from a field given as false."""
    assert read_case({}).family_history is None
    assert read_case({"family_history": False}).family_history is False


def test_lab_units_are_converted(kb):
    """Check that a calcium in mmol/L is converted to mg/dL before the rules read it."""
    case = read_case({"findings": ["HP:0003394"], "regions": ["left-arm"],
                      "labs": [{"loinc": "17861-6", "value": 1.9, "unit": "mmol/L"}]})
    a = assess(case, kb=kb, xrefs=False)
    assert "hypocalcemic-tetany" in a.summary.alerts  # 1.9 mmol/L = 7.6 mg/dL


def test_vignette_id_names_its_case():
    """Check that a whole vignette's id names the case when the case block has none, and never overrides one."""
    assert read_case({"id": "V7", "case": {"age": 3}}).id == "V7"
    assert read_case({"id": "V7", "case": {"id": "own", "age": 3}}).id == "own"
