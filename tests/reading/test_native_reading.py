"""Reading a native case as clinicians write it: what was changed or not used is named in
``not_read``; drugs, laboratory results and HPO ids are resolved by the shared resolvers."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from contraxis import CaseError, assess, read_case
from contraxis.case import read_case_reading

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"

NECK = {
    "age": 19, "sex": "male", "onset_age": 19, "course": "acute", "regions": ["neck"],
    "findings": ["HP:0000473", "CX:sustained-contractions"],
}


def _assess(data):
    reading = read_case_reading(data)
    return assess(reading.case, xrefs=False, not_read=reading.not_read), reading


def test_a_clean_native_case_has_nothing_not_read():
    """Check that a case written in the native vocabulary reports an empty not_read list."""
    import yaml

    data = yaml.safe_load((EXAMPLES / "cervical-dystonia.yaml").read_text())
    assessment, reading = _assess(data)
    assert reading.not_read == ()
    assert assessment.to_json()["not_read"] == []


def test_hpo_alt_id_is_read_as_its_current_term_and_reported():
    """Check that an alt_id of Dystonia is replaced and named with both ids."""
    reading = read_case_reading({**NECK, "findings": ["HP:0002328", "CX:sustained-contractions"]})
    assert "HP:0001332" in reading.case.findings and "HP:0002328" not in reading.case.findings
    [item] = reading.not_read
    assert item.path == "case.findings[0]" and item.value == "HP:0002328" and "HP:0001332" in item.reason


@pytest.mark.parametrize("name", ["Reglan", "metoclopramide hydrochloride", "Maxolon"])
def test_brand_and_salt_names_count_as_the_drug(name):
    """Check that a brand or salt name of metoclopramide gives the acute dystonic reaction,
    and that the reading says what it was read as."""
    assessment, reading = _assess({**NECK, "medications": [{"name": name, "days_since_start": 1}]})
    assert "acute-dystonic-reaction" in assessment.summary.alerts
    assert "botulinum-toxin" not in assessment.summary.treatments
    [item] = [n for n in reading.not_read if "medications" in n.path]
    assert item.value == name and "metoclopramide" in item.reason


def test_an_unknown_drug_is_reported_never_dropped():
    """Check that a drug no resolver knows is kept in the case and listed in not_read."""
    assessment, reading = _assess({**NECK, "medications": [{"name": "zorblatine", "days_since_start": 3}]})
    assert [n.value for n in reading.not_read] == ["zorblatine"]
    assert reading.case.medications[0].ingredients == ()
    assert "acute-dystonic-reaction" not in assessment.summary.alerts


def test_drug_without_start_date_is_asked_first_and_treated_as_acute_reaction():
    """Check that a dopamine-blocking drug with no start date and an acute course raises the
    acute dystonic reaction with a message on timing, asks its start date first and does not
    call the dystonia primary."""
    assessment, _ = _assess({**NECK, "medications": [{"name": "metoclopramide"}]})
    assert "acute-dystonic-reaction" in assessment.summary.alerts
    alert = next(a for a in assessment.alerts if a.code == "acute-dystonic-reaction")
    assert "start date is not known" in alert.message and "metoclopramide" in alert.message
    assert "metoclopramide" in assessment.missing[0].question
    assert assessment.summary.etiology != "primary"
    assert not {"botulinum-toxin", "levodopa"} & set(assessment.summary.treatments)


def test_drug_without_start_date_and_a_chronic_course_leaves_the_cause_open():
    """Check that a static dystonia on a dopamine-blocking drug of unknown start is neither
    primary nor treated as an acute reaction."""
    case = {**NECK, "age": 45, "onset_age": 43, "course": "static", "medications": [{"name": "Haldol"}]}
    assessment, _ = _assess(case)
    assert assessment.summary.etiology is None
    assert "acute-dystonic-reaction" not in assessment.summary.alerts
    assert "Haldol" in assessment.missing[0].question


def test_a_dose_increase_within_a_week_counts_like_a_start():
    """Check that a dose raised two days ago on a drug taken for a year gives the acute reaction."""
    med = {"name": "haloperidol", "days_since_start": 365, "days_since_dose_increase": 2}
    assessment, _ = _assess({**NECK, "medications": [med]})
    assert "acute-dystonic-reaction" in assessment.summary.alerts


TETANY = {"age": 50, "sex": "female", "course": "acute", "regions": ["left-arm", "right-arm"],
          "findings": ["HP:0001281"]}


def test_serial_results_the_latest_decides_and_the_series_is_shown():
    """Check that a low calcium yesterday wins over a normal one four years ago."""
    labs = [{"loinc": "17861-6", "value": 9.4, "unit": "mg/dL", "days_ago": 1460},
            {"loinc": "17861-6", "value": 6.9, "unit": "mg/dL", "days_ago": 1}]
    assessment, _ = _assess({**TETANY, "labs": labs})
    assert "hypocalcemic-tetany" in assessment.summary.alerts
    [calcium] = [lab for lab in assessment.labs if lab.test == "calcium"]
    assert calcium.latest.startswith("6.9 mg/dL") and len(calcium.series) == 2


def test_repeated_results_must_be_dated():
    """Check that two undated results of one test are refused, naming the field."""
    labs = [{"loinc": "17861-6", "value": 9.4, "unit": "mg/dL"}, {"loinc": "2000-8", "value": 1.6, "unit": "mmol/L"}]
    with pytest.raises(CaseError) as error:
        read_case({**TETANY, "labs": labs})
    assert "case.labs[0]" in str(error.value) and "days_ago or date" in str(error.value)


def test_moles_code_in_si_units_is_read_as_calcium():
    """Check that calcium under 2000-8 in mmol/L is read and converted."""
    assessment, reading = _assess({**TETANY, "labs": [{"loinc": "2000-8", "value": 1.6, "unit": "mmol/L"}]})
    assert "hypocalcemic-tetany" in assessment.summary.alerts
    assert assessment.summary.cause == "hypocalcemia"


@pytest.mark.parametrize("value, unit, words", [
    (2.35, "mg/dL", ["2.35", "mmol/L", "calcium"]),
    (math.nan, "mg/dL", ["nan"]),
    (-5, "mg/dL", ["-5"]),
    (math.inf, "mmol/L", ["inf"]),
])
def test_impossible_values_are_input_errors(value, unit, words):
    """Check that an impossible calcium is refused with the field, the value and what is allowed."""
    with pytest.raises(CaseError) as error:
        read_case({**TETANY, "labs": [{"loinc": "17861-6", "value": value, "unit": unit}]})
    text = str(error.value)
    assert "case.labs[0]" in text
    for word in words:
        assert word.lower() in text.lower()


def test_a_boolean_is_not_a_value():
    """Check that true is not read as 1."""
    with pytest.raises(CaseError, match="case.labs"):
        read_case({**TETANY, "labs": [{"loinc": "17861-6", "value": True, "unit": "mg/dL"}]})


WILSON = {"age": 19, "sex": "female", "onset_age": 19, "course": "progressive", "regions": ["neck", "left-arm"],
          "findings": ["HP:0001332", "CX:sustained-contractions"], "absent": ["HP:0200032"]}


def test_a_ceruloplasmin_below_20_does_not_exclude_wilson_disease():
    """Check that '< 20 mg/dL' is reasoned as a bound, not as 20."""
    lab = {"loinc": "2064-4", "value": 20, "unit": "mg/dL", "comparator": "<"}
    assessment, _ = _assess({**WILSON, "labs": [lab]})
    assert "wilson-screen" in assessment.summary.alerts
    assert "urine-copper" in assessment.summary.workup


def test_a_ceruloplasmin_at_least_30_excludes_wilson_disease():
    """Check that a lower bound above the limit still excludes (the bound decides)."""
    lab = {"loinc": "2064-4", "value": 30, "unit": "mg/dL", "comparator": ">"}
    assessment, _ = _assess({**WILSON, "labs": [lab]})
    assert "wilson-screen" not in assessment.summary.alerts


def test_a_low_flag_alone_is_used():
    """Check that a ceruloplasmin given only as 'low' leads to urine copper."""
    assessment, _ = _assess({**WILSON, "labs": [{"loinc": "2064-4", "interpretation": "low"}]})
    assert "wilson-screen" in assessment.summary.alerts
    assert "urine-copper" in assessment.summary.workup


def test_a_result_with_neither_value_nor_flag_is_refused():
    """Check that a lab with nothing in it is an error naming the field."""
    with pytest.raises(CaseError, match=r"case\.labs\[0\]"):
        read_case({**WILSON, "labs": [{"loinc": "2064-4", "unit": "mg/dL"}]})


def test_a_test_no_rule_reads_is_listed_not_refused():
    """Check that a LOINC code outside the rules is kept and listed in not_read."""
    lab = {"loinc": "1668-3", "value": 800, "unit": "ng/dL"}
    assessment, reading = _assess({**WILSON, "labs": [lab]})
    assert [n.value for n in reading.not_read] == ["1668-3"]
    assert assessment.summary.phenomenology == "dystonia"


def test_medication_fields_are_checked():
    """Check that a medication needs a name or a code, and that codes and days are checked."""
    for med, where in (({}, "case.medications[0]"), ({"rxnorm": "abc"}, "case.medications[0].rxnorm"),
                       ({"name": "x", "days_since_start": True}, "case.medications[0].days_since_start"),
                       ({"name": "a\x00b"}, "case.medications[0].name")):
        with pytest.raises(CaseError) as error:
            read_case({"medications": [med]})
        assert where in str(error.value)


def test_a_normal_ionized_calcium_overrules_a_low_total():
    """Check that a normal ionized calcium means the calcium is normal whatever the total."""
    labs = [{"loinc": "17861-6", "value": 7.9, "unit": "mg/dL"}, {"loinc": "1994-3", "value": 1.2, "unit": "mmol/L"}]
    assessment, _ = _assess({**TETANY, "findings": ["HP:0003394"], "labs": labs})
    assert "hypocalcemic-tetany" not in assessment.summary.alerts


def test_a_low_ionized_calcium_counts_whatever_the_total():
    """Check that an ionized calcium below 1.1 mmol/L is a low calcium with a normal total."""
    labs = [{"loinc": "17861-6", "value": 9.0, "unit": "mg/dL"}, {"loinc": "1994-3", "value": 0.95, "unit": "mmol/L"}]
    assessment, _ = _assess({**TETANY, "labs": labs})
    assert "hypocalcemic-tetany" in assessment.summary.alerts
    assert assessment.summary.cause == "hypocalcemia"


def test_a_result_read_but_used_by_no_rule_is_named(kb):
    """Check that a result the knowledge base's rules do not use is listed in not_read, and
    does not fail the case (a knowledge base without potassium among its tests)."""
    import dataclasses

    without = dataclasses.replace(kb, labs={k: v for k, v in kb.labs.items() if k != "potassium"})
    reading = read_case_reading({**TETANY, "labs": [{"loinc": "2823-3", "value": 3.1, "unit": "mmol/L"}]})
    assessment = assess(reading.case, kb=without, xrefs=False, not_read=reading.not_read)
    [item] = assessment.not_read
    assert item.path == "case.labs[0]" and "potassium" in item.reason
