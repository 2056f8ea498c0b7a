"""Conditions: problem-list codes (ICD-10-CM, ICD-11, SNOMED CT), their statuses and their onset."""

from __future__ import annotations

from datetime import date

import pytest

from .conftest import HPO, ICD10CM, ICD11, SNOMED, condition, patient, reasons


@pytest.mark.parametrize(
    "coding, findings, regions",
    [
        ((ICD10CM, "G24.3"), ("HP:0000473",), ("neck",)),
        ((SNOMED, "15802004"), ("HP:0001332",), ()),
        ((ICD11, "8A02.00"), ("HP:0000643",), ("upper-face",)),
        ((ICD10CM, "G20"), ("HP:0001300",), ()),
    ],
)
def test_problem_codes_without_hpo_give_findings_and_regions(read, coding, findings, regions):
    """Check that a problem coded only in ICD-10-CM, SNOMED CT or ICD-11 gives its findings and regions."""
    case = read(patient(), condition("c", coding)).case
    assert (case.findings, case.regions) == (findings, regions)


def test_a_who_icd10_code_is_read_as_icd10cm_and_reported(read):
    """Check that a WHO ICD-10 code is read as the ICD-10-CM code of the same form, and that this is said."""
    reading = read(patient(), condition("c", ("http://hl7.org/fhir/sid/icd-10", "G24.3")))
    assert reading.case.findings == ("HP:0000473",)
    assert reasons(reading)["resources[1].code"] == "ICD-10 (WHO) G24.3 read as the ICD-10-CM code of the same form"


def test_a_problem_naming_only_a_diagnosis_or_an_unknown_code_is_reported(read):
    """Check that a code that names only a known diagnosis is reported naming it, and an unknown code as unknown."""
    reading = read(patient(), condition("c1", (ICD10CM, "E83.01")), condition("c2", (ICD10CM, "I10")),
                   condition("c3", (SNOMED, "59621000")))
    assert reading.case.findings == ()
    why = reasons(reading)
    assert why["resources[1].code"].startswith("names the diagnosis Wilson disease, which gives the case no finding")
    assert why["resources[2].code"] == "http://hl7.org/fhir/sid/icd-10-cm|I10 is not a code Contraxis reads"
    assert why["resources[3].code"] == "http://snomed.info/sct|59621000 is not a code Contraxis reads"


def test_statuses(read):
    """Check refuted (absent), provisional (not read), resolved (a past finding is not present; a past event counts)."""
    reading = read(
        patient(),
        condition("a", (HPO, "HP:0000473"), verificationStatus={"coding": [{"code": "refuted"}]}),
        condition("b", (HPO, "HP:0000643"), verificationStatus={"coding": [{"code": "provisional"}]}),
        condition("c", (ICD10CM, "G24.5"), clinicalStatus={"coding": [{"code": "resolved"}]}),
        condition("d", (ICD10CM, "I63.9"), clinicalStatus={"coding": [{"code": "resolved"}]}),
        condition("e", (HPO, "HP:0001332"), verificationStatus={"coding": [{"code": "entered-in-error"}]}),
    )
    case = reading.case
    assert (case.findings, case.absent, case.history) == ((), ("HP:0000473",), ("CX:hx-ischemic-stroke",))
    why = reasons(reading)
    assert why["resources[2]"] == "verificationStatus is 'provisional': not yet a fact"
    assert why["resources[3].clinicalStatus"] == "clinicalStatus is 'resolved': a past finding is not a present one"
    assert why["resources[5]"] == "verificationStatus is entered-in-error"


@pytest.mark.parametrize(
    "text, onset",
    [
        ("age 12", 12.0), ("12 years", 12.0), ("at 6 months", 0.5), ("aged 40", 40.0), ("since age 5", 5.0),
        ("2019", 49.0), ("since 2019-03", 48.0), ("birth", 0.0), ("Congenital", 0.0),
    ],
)
def test_onset_string_is_read_where_it_can_be(read, text, onset):
    """Check that Condition.onsetString is read as an age (a year with the birth date 1970-06-15)."""
    case = read(patient(), condition("c", (HPO, "HP:0000473"), onsetString=text), reference_date=date(2026, 3, 2)).case
    assert case.onset_age == onset


@pytest.mark.parametrize(
    "text, words",
    [
        ("childhood", "names a period of life ('childhood'), not an age"),
        ("a while ago", "cannot be read as an age"),
        ("12", "cannot be read as an age"),
    ],
)
def test_onset_string_that_cannot_be_read_is_reported(read, text, words):
    """Check that an onsetString naming a period, or holding no age or date, is reported and the rest read."""
    reading = read(patient(), condition("c", (HPO, "HP:0000473"), onsetString=text))
    assert reading.case.onset_age is None and reading.case.findings == ("HP:0000473",)
    assert words in reasons(reading)["resources[1].onsetString"]


def test_onset_range_and_a_year_without_birth_date(read):
    """Check that an onsetRange is read as its lower bound (reported), and a year without a birth date is reported."""
    reading = read(patient(), condition("c", (HPO, "HP:0000473"), onsetRange={"low": {"value": 30, "unit": "a"},
                                                                              "high": {"value": 35, "unit": "a"}}))
    assert reading.case.onset_age == 30.0
    assert reasons(reading)["resources[1].onsetRange"] == "a range of ages: read as its lower bound, 30 years"
    unborn = read({"resourceType": "Patient", "id": "p1"}, condition("c", (HPO, "HP:0000473"), onsetString="2019"))
    assert unborn.case.onset_age is None
    assert "birth date is not given" in reasons(unborn)["resources[1].onsetString"]


def test_another_patients_condition_is_refused(read):
    """Check that a resource about another patient than the Patient given is refused, naming both ids."""
    from contraxis.errors import CaseError

    with pytest.raises(CaseError) as caught:
        read(patient(), {**condition("c", (HPO, "HP:0000473")), "subject": {"reference": "Patient/p2"}})
    (problem,) = caught.value.problems
    assert problem.where == "resources[1].subject" and "'p2'" in problem.message and "'p1'" in problem.message
