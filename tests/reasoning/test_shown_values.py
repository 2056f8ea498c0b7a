"""Values are shown as a laboratory reports them: rounded to the decimals kept for the analyte and
unit (labs.yaml), with the unit, in the facts of an explanation, the laboratory list, the codes
and the filled messages; limits as written; ages plainly."""

from __future__ import annotations

import json
import re

import pytest

from contraxis import assess, read_case
from contraxis.reasoning.facts import build_facts

# A number with three or more decimals, or in exponent form, anywhere in the answer's text.
UNROUNDED = re.compile(r"\d\.\d{3,}|\d[eE][+-]?\d")


def _tetany(labs: list[dict]) -> dict:
    return {"age": 40, "onset_age": 40, "course": "acute", "regions": ["left-arm", "right-arm"],
            "findings": ["HP:0001281"], "labs": labs}


def _texts(assessment) -> list[str]:
    """Every string of the assessment but the version fields."""
    data = assessment.to_json()
    for key in ("knowledge_base_version", "hpo_release"):
        data.pop(key, None)
    return re.findall(r'"((?:[^"\\]|\\.)*)"', json.dumps(data))


def test_a_converted_calcium_is_shown_with_one_decimal_and_its_unit(kb):
    """Check that 1.78 mmol/L of calcium (7.13424 mg/dL) is shown as 7.1 mg/dL in the facts and the laboratory list."""
    assessment = assess(read_case(_tetany([{"loinc": "2000-8", "value": 1.78, "unit": "mmol/L"}])), kb=kb, xrefs=False)
    facts = [f for item in (*assessment.alerts, *assessment.conclusions)
             for f in item.why.facts if f.startswith("calcium:")]
    assert facts and all(f.startswith("calcium: 7.1 mg/dL") for f in facts), facts
    assert any("(< 8.5 mg/dL)" in f for f in facts)
    assert [lab.latest for lab in assessment.labs if lab.test == "calcium"] == ["7.1 mg/dL"]
    assert not [t for t in _texts(assessment) if UNROUNDED.search(t)]


def test_every_shown_value_is_rounded(kb):
    """Check that results given with many decimals, in other units and as a series never show more
    decimals than a laboratory reports."""
    labs = [
        {"loinc": "2000-8", "value": 1.7813, "unit": "mmol/L", "days_ago": 0},
        {"loinc": "2000-8", "value": 1.8127, "unit": "mmol/L", "days_ago": 2},
        {"loinc": "2601-3", "value": 0.2467, "unit": "mmol/L"},
        {"loinc": "2951-2", "value": 131.4, "unit": "mmol/L"},
        {"loinc": "2157-6", "value": 250.77, "unit": "U/L"},
    ]
    assessment = assess(read_case(_tetany(labs)), kb=kb, xrefs=False)
    latest = {lab.test: lab for lab in assessment.labs}
    assert latest["calcium"].latest == "7.1 mg/dL, today"
    assert latest["calcium"].series == ("7.1 mg/dL, today", "7.3 mg/dL, 2 days ago")
    assert latest["magnesium"].latest == "0.6 mg/dL"
    assert latest["sodium"].latest == "131 mmol/L"
    codes = [c.role for c in assessment.codes if c.system == "LOINC"]
    assert "laboratory result: 1.78 mmol/L" in codes and "laboratory result: 0.25 mmol/L" in codes, codes
    assert not [t for t in _texts(assessment) if UNROUNDED.search(t)]


@pytest.mark.parametrize(("onset", "shown"), [(8.2, "8.2"), (12.0, "12"), (0.25, "0.25"), (2.5, "2.5")])
def test_a_message_shows_an_age_plainly(kb, onset, shown):
    """Check that a filled message writes an age without trailing zeros, float noise or exponent."""
    case = read_case({"age": onset + 1, "onset_age": onset, "course": "static", "regions": ["neck"],
                      "findings": ["HP:0000473"]})
    assert build_facts(case, kb).view().fill("at {onset_age}") == f"at {shown}"
    noisy = read_case({"age": 9, "onset_age": 10.3 - 2.1, "findings": ["HP:0000473"]})  # 8.200000000000001
    assert build_facts(noisy, kb).view().fill("at {onset_age}") == "at 8.2"
