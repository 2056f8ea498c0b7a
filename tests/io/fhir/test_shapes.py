"""Non-conformant FHIR shapes: coerced and reported when unambiguous, refused (strict) or left
out (lenient) with the element, the value and what is allowed named otherwise."""

from __future__ import annotations

import pytest

from contraxis.errors import CaseError
from contraxis.io.fhir import check_resource, validate_resource
from contraxis.io.fhir.shapes import conform

from .conftest import RXNORM, bundle, order, patient

HALOPERIDOL = {"coding": [{"system": RXNORM, "code": "310672", "display": "haloperidol 5 MG Oral Tablet"}]}


@pytest.mark.parametrize(
    "field, given, expected",
    [
        ("category", {"coding": [{"code": "community"}]}, [{"coding": [{"code": "community"}]}]),
        ("dosageInstruction", {"text": "2 mg"}, [{"text": "2 mg"}]),
        ("note", {"text": "x"}, [{"text": "x"}]),
        ("reasonCode", "agitation", [{"text": "agitation"}]),
    ],
)
def test_a_list_field_given_as_one_item_is_read_as_a_list(field, given, expected):
    """Check that any field R4 types as a list, given as one object (or string), is read as a list of one, and
    reported."""
    fixed, notes = conform(order("o", concept=HALOPERIDOL, **{field: given}), path="r")
    assert fixed[field] == expected
    assert notes[0].path == f"r.{field}" and notes[0].reason.startswith("coerced:")


def test_nested_list_fields_are_coerced_at_every_depth():
    """Check that coding and doseAndRate given as objects deep inside a resource are coerced too."""
    data = order("o", concept={"coding": {"system": RXNORM, "code": "310672"}},
                 dosageInstruction=[{"doseAndRate": {"doseQuantity": {"value": 2, "unit": "mg"}}}])
    fixed, notes = conform(data, path="r")
    assert fixed["medicationCodeableConcept"]["coding"] == [{"system": RXNORM, "code": "310672"}]
    assert fixed["dosageInstruction"][0]["doseAndRate"] == [{"doseQuantity": {"value": 2, "unit": "mg"}}]
    assert [n.path for n in notes] == ["r.medicationCodeableConcept.coding", "r.dosageInstruction[0].doseAndRate"]
    assert check_resource(data, path="r").problems == ()


@pytest.mark.parametrize("key", ["doseQuantity", "rateQuantity", "doseRange"])
def test_dose_directly_under_dosage_moves_into_dose_and_rate(key):
    """Check that the STU3 shape (doseQuantity under dosageInstruction, as the CDS Hooks order-sign example) is
    moved."""
    value = {"low": {"value": 1}, "high": {"value": 2}} if key == "doseRange" else {"value": 2, "unit": "mg"}
    data = order("o", concept=HALOPERIDOL, dosageInstruction=[{"text": "2 mg", key: value}])
    fixed, notes = conform(data, path="r")
    assert fixed["dosageInstruction"] == [{"text": "2 mg", "doseAndRate": [{key: value}]}]
    assert notes[0].path == f"r.dosageInstruction[0].{key}"
    assert "moved into doseAndRate[0]" in notes[0].reason
    assert validate_resource(data, where="r") == []


def test_a_dose_given_twice_is_left_for_validation_to_name():
    """Check that a dose both under Dosage and in doseAndRate is not guessed at, and is refused by name."""
    data = order("o", concept=HALOPERIDOL, dosageInstruction=[
        {"doseQuantity": {"value": 2}, "doseAndRate": [{"doseQuantity": {"value": 3}}]}])
    problems = validate_resource(data, where="r")
    assert [p.where for p in problems] == ["r.dosageInstruction[0].doseQuantity"]
    assert "is not a field of FHIR R4 Dosage" in problems[0].message and "doseAndRate" in problems[0].message


def test_single_elements_strings_and_codes_in_the_wrong_case():
    """Check that a list of one for a single element, a Reference as a string and a code's case are coerced."""
    data = order("o", status="Active", concept=HALOPERIDOL, subject="Patient/p1",
                 medicationCodeableConcept=[HALOPERIDOL])
    fixed, notes = conform(data, path="r")
    assert (fixed["status"], fixed["subject"], fixed["medicationCodeableConcept"]) == (
        "active", {"reference": "Patient/p1"}, HALOPERIDOL)
    assert len(notes) == 3 and all(n.reason.startswith("coerced:") for n in notes)


@pytest.mark.parametrize(
    "resource, where, words",
    [
        (patient(birthDate="1970-13-45"), "r.birthDate", ["'1970-13-45'", "YYYY-MM-DD"]),
        ({"resourceType": "Observation", "status": "final", "code": {"text": "x"}, "valueQuantity": {"value": "lots"}},
         "r.valueQuantity.value", ["'lots'", "a number such as 6.4"]),
        ({"resourceType": "Observation", "code": {"text": "x"}}, "r.status", ["is required"]),
        (order("o"), "r", ["one of medicationCodeableConcept, medicationReference is required"]),
        ({"resourceType": "Patient", "gendre": "female"}, "r.gendre", ["did you mean 'gender'"]),
        ({"resourceType": "Spaceship"}, "r.resourceType", ["'Spaceship' is not a FHIR R4 resource type"]),
    ],
)
def test_what_is_still_not_valid_is_named(resource, where, words):
    """Check that each problem names the element, the value and what is allowed."""
    (problem,) = validate_resource(resource, where="r")
    assert problem.where == where
    for word in words:
        assert word in problem.message


def test_lenient_mode_leaves_out_the_invalid_element_and_reads_the_rest():
    """Check that, leniently, an invalid element is left out and reported, and the resource is still read."""
    data = order("o", concept=HALOPERIDOL, authoredOn="yesterday")
    checked = check_resource(data, path="r", strict=False)
    assert checked.located is not None and checked.located.resource.authoredOn is None
    assert [(n.path, n.value) for n in checked.notes] == [("r.authoredOn", "yesterday")]
    assert "not valid FHIR R4" in checked.notes[0].reason
    hopeless = check_resource(order("o"), path="r", strict=False)
    assert hopeless.located is None and "the resource is left out" in hopeless.notes[0].reason


def test_a_bundle_with_sandbox_shapes_is_read_and_each_coercion_reported(read_one_bundle):
    """Check that a Bundle whose order has category and doseAndRate as objects is read, not refused."""
    data = bundle(patient(), order("o", concept=HALOPERIDOL, authoredOn="2026-03-01",
                                   category={"coding": [{"code": "community"}]},
                                   dosageInstruction=[{"doseAndRate": {"doseQuantity": {"value": 2}}}]))
    reading = read_one_bundle(data)
    assert [m.ingredients for m in reading.case.medications] == [("haloperidol",)]
    coerced = [n.path for n in reading.not_read if n.reason.startswith("coerced:")]
    assert coerced == ["bundle.entry[1].resource.category", "bundle.entry[1].resource.dosageInstruction[0].doseAndRate"]
    with pytest.raises(CaseError) as caught:
        read_one_bundle(bundle(patient(), order("o", concept=HALOPERIDOL, authoredOn="yesterday")))
    assert [p.where for p in caught.value.problems] == ["bundle.entry[1].resource.authoredOn"]
