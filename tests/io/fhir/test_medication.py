"""MedicationRequest and MedicationStatement: the drug as written, its status and dates."""

from __future__ import annotations

from .conftest import RXNORM, order, patient, reasons


def statement(sid, status="active", concept=None, **extra):
    return {"resourceType": "MedicationStatement", "id": sid, "status": status, "subject": {"reference": "Patient/p1"},
            "medicationCodeableConcept": concept or {"text": "x"}, **extra}


def rows(reading):
    return [(m.name, m.rxnorm, m.days_since_start, m.days_since_stop, m.ingredients) for m in reading.case.medications]


def test_the_drug_is_given_as_written_and_resolved_by_the_case(read):
    """Check that an RxNorm code without display, a clinical-drug display, a brand and text are passed as written
    and resolve to their ingredients; an EHR display string never gives drugs 'hr' or 'ml'."""
    reading = read(
        patient(),
        order("m1", concept={"coding": [{"system": RXNORM, "code": "311666"}]}, authoredOn="2026-03-01"),
        order("m2", concept={"coding": [{"system": RXNORM, "code": "860975", "display":
                                        "24 HR Metformin hydrochloride 500 MG Extended Release Oral Tablet"}]}),
        order("m3", concept={"text": "Haldol"}, authoredOn="2026-02-27"),
    )
    assert rows(reading) == [
        (None, "311666", 1, None, ("metoclopramide",)),
        ("24 HR Metformin hydrochloride 500 MG Extended Release Oral Tablet", "860975", None, None, ("metformin",)),
        ("Haldol", None, 3, None, ("haloperidol",)),
    ]
    paths = {n.path for n in reading.not_read}
    assert (
        "resources[3].medicationCodeableConcept (case.medications[2].name)" in paths
    )  # the brand, read as haloperidol


def test_a_drug_nobody_knows_is_kept_and_reported(read):
    """Check that an unknown drug is not filtered out by the reader: the case reading reports it."""
    reading = read(patient(), order("m1", concept={"text": "Zzyzxomab 5 mg"}))
    assert [m.name for m in reading.case.medications] == ["Zzyzxomab 5 mg"]
    (note,) = [n for n in reading.not_read if "Zzyzxomab" in n.value]
    assert note.path.startswith("resources[1].medicationCodeableConcept")


def test_medication_reference_to_a_contained_or_given_medication(read):
    """Check that medicationReference reads a contained Medication's code, or a given Medication's ingredients."""
    reading = read(
        patient(),
        order("m1", medicationReference={"reference": "#med"}, authoredOn="2026-03-01",
              contained=[{"resourceType": "Medication", "id": "med", "code": {"text": "Reglan 10 mg"}}]),
        order("m2", medicationReference={"reference": "Medication/combo"}, authoredOn="2026-02-01"),
        {"resourceType": "Medication", "id": "combo", "ingredient": [
            {"itemCodeableConcept": {"text": "carbidopa"}}, {"itemCodeableConcept": {"text": "levodopa"}}]},
        order("m3", medicationReference={"reference": "Medication/elsewhere"}),
    )
    assert [m.ingredients for m in reading.case.medications] == [("metoclopramide",), ("carbidopa",), ("levodopa",)]
    assert reasons(reading)["resources[4]"].endswith("the Medication it refers to is not in the input")


def test_status_and_dates_make_a_drug_current_past_or_ignored(read):
    """Check stopped (with and without a stop date), completed, long past, entered-in-error and on-hold orders."""
    reading = read(
        patient(),
        order("a", "entered-in-error", {"text": "metoclopramide"}, authoredOn="2026-03-01"),
        order("b", "stopped", {"text": "haloperidol"}, authoredOn="2019-02-01"),
        order("c", "stopped", {"text": "risperidone"}, authoredOn="2026-02-20"),
        order("d", "completed", {"text": "prochlorperazine"}, authoredOn="2026-01-01",
              dispenseRequest={"validityPeriod": {"start": "2026-01-01", "end": "2026-01-31"}}),
        order("e", "on-hold", {"text": "olanzapine"}, authoredOn="2025-03-02"),
        statement("f", "stopped", {"text": "sertraline"}, effectivePeriod={"start": "2018-01-01", "end": "2019-01-01"}),
        statement("g", "not-taken", {"text": "promethazine"}),
    )
    assert rows(reading) == [
        ("risperidone", None, 10, 0, ("risperidone",)),
        ("prochlorperazine", None, 60, 30, ("prochlorperazine",)),
        ("olanzapine", None, 365, None, ("olanzapine",)),
    ]
    why = reasons(reading)
    assert why["resources[1].status"] == "status is 'entered-in-error': not taken, not read"
    assert why["resources[2].status"].startswith(
        "status is 'stopped' with no stop date and last dated 2019-02-01: left out"
    )
    assert why["resources[3].status"].startswith("status is 'stopped' with no stop date: read as stopped at the latest")
    assert why["resources[5].status"] == "status is 'on-hold': read as taken now"
    assert (
        why["resources[6].status"]
        == "stopped 2019-01-01, 2617 days before the reference date: left out as long past (more than 365 days)"
    )
    assert why["resources[7].status"] == "status is 'not-taken': not taken, not read"


def test_several_orders_for_one_drug_give_one_row(read):
    """Check that orders for the same drug (by ingredient) merge: the current one, started longest ago."""
    reading = read(
        patient(),
        order("a", "completed", {"text": "Reglan"}, authoredOn="2026-01-01",
              dispenseRequest={"validityPeriod": {"end": "2026-01-10"}}),
        order("b", concept={"text": "metoclopramide 10 mg tablet"}, authoredOn="2026-02-25"),
        order("c", concept={"coding": [{"system": RXNORM, "code": "311666"}]}, authoredOn="2026-02-28"),
    )
    assert rows(reading) == [("metoclopramide 10 mg tablet", None, 5, None, ("metoclopramide",))]


def test_doses_given_and_dispensed(read):
    """Check that a dose given (MedicationAdministration) and a dispense (MedicationDispense) are drugs taken,
    with their dates; a dose not given is not read."""
    given = {"resourceType": "MedicationAdministration", "id": "ma", "status": "completed",
             "subject": {"reference": "Patient/p1"}, "medicationCodeableConcept": {"text": "metoclopramide 10 mg IV"},
             "effectiveDateTime": "2026-03-01T09:00:00Z"}
    dispensed = {"resourceType": "MedicationDispense", "id": "md", "status": "completed",
                 "subject": {"reference": "Patient/p1"}, "medicationCodeableConcept": {"text": "haloperidol 5 mg"},
                 "whenHandedOver": "2026-01-01", "daysSupply": {"value": 30, "unit": "day"}}
    not_given = {**given, "id": "mb", "status": "not-done", "medicationCodeableConcept": {"text": "promethazine"}}
    reading = read(patient(), given, dispensed, not_given)
    assert rows(reading) == [
        ("metoclopramide 10 mg IV", None, 1, 1, ("metoclopramide",)),
        ("haloperidol 5 mg", None, 60, 30, ("haloperidol",)),
    ]
    assert reasons(reading)["resources[3].status"] == "status is 'not-done': not taken, not read"
