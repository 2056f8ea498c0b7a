"""CDS Hooks requests as EHRs and CDS clients send them: non-conformant shapes, brand names and
references, allergies, problem lists, prefetches with extra keys, failures, pages and another
patient's data, and records of several megabytes."""

from __future__ import annotations

from urllib.parse import unquote

import pytest

from contraxis.io.fhir.tables import load_tables
from contraxis.service.body import CDS_BODY_BYTES
from contraxis.service.cds_hooks import discovery_document
from contraxis.terminology.labs import lab_loinc_codes

ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"
SNOMED = "http://snomed.info/sct"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
SELECT = "/cds-services/contraxis-dopamine-blocker-check"
SIGN = "/cds-services/contraxis-dopamine-blocker-check-sign"
VIEW = "/cds-services/contraxis-patient-view"
HALOPERIDOL = {"coding": [{"system": RXNORM, "code": "310672", "display": "haloperidol 5 MG Oral Tablet"}]}


def searchset(*resources, **extra):
    return {"resourceType": "Bundle", "type": "searchset", "entry": [{"resource": r} for r in resources], **extra}


def patient(pid="p1"):
    return {"resourceType": "Patient", "id": pid, "gender": "male", "birthDate": "1952-01-01"}


def condition(cid, *codings, subject="p1"):
    return {"resourceType": "Condition", "id": cid, "subject": {"reference": f"Patient/{subject}"},
            "code": {"coding": [{"system": s, "code": c} for s, c in codings]}}


def parkinson():
    return condition("pd", (SNOMED, "49049000"))


def draft(oid="d1", concept=None, **extra):
    resource = {"resourceType": "MedicationRequest", "id": oid, "status": "draft", "intent": "order",
                "subject": {"reference": "Patient/p1"}, **extra}
    if concept is not None:
        resource["medicationCodeableConcept"] = concept
    return resource


def order_request(*orders, conditions=(), allergies=(), hook="order-select", **prefetch):
    context = {"userId": "Practitioner/1", "patientId": "p1", "draftOrders": searchset(*orders)}
    if hook == "order-select":
        context["selections"] = [
            f"MedicationRequest/{o['id']}" for o in orders if o.get("resourceType") == "MedicationRequest"
        ]
    return {"hook": hook, "hookInstance": "x", "context": context,
            "prefetch": {"patient": patient(), "conditions": searchset(*conditions), "allergies": searchset(*allergies),
                         **prefetch}}


def call(client, path, body):
    answer = client.post(path, json=body)
    assert answer.status_code == 200, answer.text
    return answer.json()["cards"]


def warning_about(cards, drug):
    return [c for c in cards if c["indicator"] in ("warning", "critical") and drug in c["summary"].lower()]


@pytest.mark.parametrize(
    "order",
    [
        draft(
            concept=HALOPERIDOL,
            category={"coding": [{"code": "community"}]},
            dosageInstruction=[{"doseAndRate": {"doseQuantity": {"value": 2, "unit": "mg"}}}],
        ),
        draft(concept=HALOPERIDOL, dosageInstruction=[{"text": "2 mg", "doseQuantity": {"value": 2, "unit": "mg"}}]),
        draft(concept={"coding": [{"system": RXNORM, "code": "310672"}]}),
        draft(concept={"text": "Haldol 5 mg"}),
        draft(
            medicationReference={"reference": "#m"},
            contained=[{"resourceType": "Medication", "id": "m", "code": HALOPERIDOL}],
        ),
        draft(concept=HALOPERIDOL, authoredOn="today"),
        draft(concept={"coding": [{"system": RXNORM, "code": 310672, "display": "haloperidol 5 MG Oral Tablet"}]}),
    ],
    ids=[
        "category-object",
        "dose-under-dosage",
        "rxnorm-no-display",
        "brand",
        "contained-medication",
        "invalid-element",
        "invalid-drug-coding",
    ],
)
def test_haloperidol_in_parkinson_disease_warns_whatever_the_order_shape(client, order):
    """Check that the order is checked however it is shaped, and that what was coerced or left out is listed."""
    cards = call(client, SELECT, order_request(order, conditions=[parkinson()]))
    assert warning_about(cards, "haloperidol"), cards
    for card in cards:
        assert len(card["summary"]) <= 140


def test_coercions_are_listed_on_an_info_card(client):
    """Check that a coerced order shape adds one info card naming each coercion."""
    order = draft(concept=HALOPERIDOL, category={"coding": [{"code": "community"}]})
    cards = call(client, SIGN, order_request(order, conditions=[parkinson()], hook="order-sign"))
    info = [c for c in cards if c["indicator"] == "info"]
    assert len(info) == 1 and "context.draftOrders.entry[0].resource.category" in info[0]["detail"]
    assert "coerced" in info[0]["detail"]


def test_a_medication_given_in_the_prefetch_is_followed(client):
    """Check that a draft order referring to a prefetched Medication is checked by that Medication's code."""
    medication = {"resourceType": "Medication", "id": "med-9", "code": {"text": "Compazine 10 mg"}}
    order = draft(medicationReference={"reference": "Medication/med-9"})
    request = order_request(order, conditions=[parkinson()], medicationRequests=searchset(medication))
    assert warning_about(call(client, SELECT, request), "prochlorperazine")


def test_a_medication_in_the_draft_orders_is_followed_by_its_full_url(client):
    """Check that a draft order referring to a Medication of the draft Bundle by its fullUrl is checked."""
    request = order_request(draft(medicationReference={"reference": "urn:uuid:0e7d"}), conditions=[parkinson()])
    request["context"]["draftOrders"]["entry"].append(
        {"fullUrl": "urn:uuid:0e7d", "resource": {"resourceType": "Medication", "code": {"text": "Reglan"}}})
    assert warning_about(call(client, SELECT, request), "metoclopramide")


def test_draft_orders_as_a_list_selections_as_a_string_and_a_patient_reference(client):
    """Check that draft orders given as a list of resources, one selection as a string and context.patientId
    as 'Patient/p1' are read (and the coercions listed), not refused."""
    request = order_request(draft(concept=HALOPERIDOL), conditions=[parkinson()])
    context = request["context"]
    context["draftOrders"] = [draft(concept=HALOPERIDOL)]
    context["selections"] = "MedicationRequest/d1"
    context["patientId"] = "Patient/p1"
    cards = call(client, SELECT, request)
    assert warning_about(cards, "haloperidol")
    assert "context.draftOrders" in cards[-1]["detail"] and "context.selections" in cards[-1]["detail"]


def test_an_order_whose_drug_cannot_be_read_is_reported(client):
    """Check that an order naming no drug that can be read gives an info card saying it was not checked."""
    cards = call(client, SELECT, order_request(draft(concept={"text": "Zzyzxomab"}), conditions=[parkinson()]))
    (card,) = cards
    assert card["indicator"] == "info" and "not checked" in card["detail"]


def test_allergies_by_reaction(client):
    """Check that a rash to prochlorperazine is reported as what it is, and an oculogyric crisis as a dystonic
    reaction."""
    rash = {"resourceType": "AllergyIntolerance", "id": "a1", "patient": {"reference": "Patient/p1"},
            "code": {"text": "prochlorperazine"},
            "reaction": [{"manifestation": [{"coding": [{"system": SNOMED, "code": "271807003"}], "text": "rash"}]}]}
    cards = call(client, SELECT, order_request(draft(concept=HALOPERIDOL), allergies=[rash]))
    text = " ".join(c["summary"] + c["detail"] for c in cards).lower()
    assert "acute dystonic reaction" not in text
    assert "allergy to prochlorperazine (rash)" in text
    assert all(c["indicator"] == "info" for c in cards)
    crisis = {**rash, "reaction": [{"manifestation": [{"coding": [{"system": SNOMED, "code": "5332004"}],
                                                       "text": "oculogyric crisis"}]}]}
    (card,) = call(client, SELECT, order_request(draft(concept=HALOPERIDOL), allergies=[crisis]))
    assert card["indicator"] == "critical" and "past acute dystonic reaction" in card["summary"]


def test_a_problem_list_dystonia_gives_the_order_warning_and_the_patient_view_cards(client):
    """Check that dystonia coded only in ICD-10-CM and SNOMED CT warns on a dopamine blocker and gives patient-view
    cards."""
    dystonia = condition("c1", (ICD10CM, "G24.3"), (SNOMED, "15802004"))
    (card, *_) = call(
        client, SELECT, order_request(draft(concept={"text": "metoclopramide 10 mg"}), conditions=[dystonia])
    )
    assert card["indicator"] == "warning" and "dystonia" in card["summary"]
    view = {"hook": "patient-view", "hookInstance": "x", "context": {"patientId": "p1"},
            "prefetch": {"patient": patient(), "conditions": searchset(dystonia)}}
    cards = call(client, VIEW, view)
    assert any("dystonia" in c["summary"].lower() for c in cards)


@pytest.mark.parametrize(
    "prefetch, field",
    [
        ({"patient": patient("px-6090")}, "prefetch.patient.id"),
        ({"patient": patient(), "conditions": searchset(condition("c", (SNOMED, "10629009"), subject="px-6090"))},
         "prefetch.conditions.entry[0].resource.subject"),
    ],
)
def test_another_patients_data_is_refused(client, prefetch, field):
    """Check that a prefetched Patient, or a resource's subject, other than context.patientId is refused naming both
    ids."""
    answer = client.post(VIEW, json={"hook": "patient-view", "hookInstance": "x", "context": {"patientId": "p1"},
                                     "prefetch": prefetch})
    assert answer.status_code == 422, answer.text
    (problem,) = answer.json()["problems"]
    assert problem["field"] == field and "'px-6090'" in problem["message"] and "'p1'" in problem["message"]


def test_a_draft_order_for_another_patient_is_refused(client):
    """Check that a draft order whose subject is another patient is refused."""
    order = {**draft(concept=HALOPERIDOL), "subject": {"reference": "Patient/p2"}}
    answer = client.post(SELECT, json=order_request(order, conditions=[parkinson()]))
    assert answer.status_code == 422 and "'p2'" in answer.text


def test_prefetch_keys_not_asked_for_are_ignored_and_listed(client):
    """Check that an unasked key holding a string is ignored (not 400) and listed on the info card."""
    tetany = condition("c", (SNOMED, "10629009"))
    low_calcium = {"resourceType": "Observation", "id": "o", "status": "final", "subject": {"reference": "Patient/p1"},
                   "code": {"coding": [{"system": "http://loinc.org", "code": "17861-6"}]},
                   "valueQuantity": {"value": 6.4, "unit": "mg/dL"}, "effectiveDateTime": "2026-03-01"}
    view = {"hook": "patient-view", "hookInstance": "x", "context": {"patientId": "p1"},
            "prefetch": {"patient": patient(), "conditions": searchset(tetany), "observations": searchset(low_calcium),
                         "user": "Practitioner/1"}}
    cards = call(client, VIEW, view)
    assert any(c["indicator"] in ("warning", "critical") and "calcium" in c["summary"].lower() for c in cards)
    assert "prefetch.user" in cards[-1]["detail"] and cards[-1]["indicator"] == "info"


def test_a_failed_or_paginated_prefetch_says_results_may_be_missing(client):
    """Check that an OperationOutcome or a next page gives an info card, even when nothing else is found."""
    outcome = {"resourceType": "OperationOutcome", "issue": [{"severity": "error", "code": "timeout"}]}
    view = {"hook": "patient-view", "hookInstance": "x", "context": {"patientId": "p1"},
            "prefetch": {"patient": patient(), "conditions": outcome}}
    (card,) = call(client, VIEW, view)
    assert card["indicator"] == "info" and card["summary"].startswith("Results may be missing")
    paged = searchset(link=[{"relation": "next", "url": "https://ehr.invalid/fhir/Condition?page=2"}])
    cards = call(client, SELECT, order_request(draft(concept=HALOPERIDOL), conditions=[parkinson()],
                                               medicationRequests=paged))
    assert warning_about(cards, "haloperidol") and cards[-1]["summary"].startswith("Results may be missing")


def test_the_cds_body_limit_fits_real_records_and_other_routes_stay_small(client):
    """Check that a CDS request of several megabytes is read, a larger one gets 413, and /assess keeps its 1 MiB."""
    big = order_request(draft(concept=HALOPERIDOL), conditions=[parkinson()], padding="x" * (3 * 1024 * 1024))
    assert warning_about(call(client, SELECT, big), "haloperidol")
    huge = order_request(draft(concept=HALOPERIDOL), padding="x" * (CDS_BODY_BYTES + 10))
    assert client.post(SELECT, json=huge).status_code == 413
    assert client.post("/assess", json={"id": "x", "notes": "x" * (3 * 1024 * 1024)}).status_code == 413


def test_prefetch_templates_ask_only_for_what_is_read():
    """Check that the Observation template asks by code for exactly the LOINC codes read, the gene test and HPO
    codes."""
    services = {s["id"]: s for s in discovery_document()["services"]}
    template = services["contraxis-patient-view"]["prefetch"]["observations"]
    codes = dict(part.split("=", 1) for part in template.split("?", 1)[1].split("&"))["code"].split(",")
    loinc = [c.split("|", 1)[1] for c in codes if c.startswith("http://loinc.org|")]
    assert loinc == [*lab_loinc_codes(), *load_tables().elements.gene_test.variant_loinc]
    assert "http://human-phenotype-ontology.org|" in codes and unquote(template) == template
    for service in services.values():
        for key, value in service["prefetch"].items():
            assert "{{context.patientId}}" in value, key


@pytest.mark.parametrize(
    "change, field, words",
    [
        (
            {"draftOrders": "MedicationRequest/d1"},
            "context.draftOrders",
            ["expected a FHIR Bundle", "'MedicationRequest/d1'"],
        ),
        ({"draftOrders": None}, "context.draftOrders", ["is required"]),
        ({"selections": [7]}, "context.selections", ["expected a list of references"]),
    ],
)
def test_what_cannot_be_read_as_a_request_is_named(client, change, field, words):
    """Check that a request whose draft orders or selections cannot be read gets a 400 naming the field and value."""
    request = order_request(draft(concept=HALOPERIDOL))
    request["context"].update(change)
    answer = client.post(SELECT, json=request)
    assert answer.status_code == 400, answer.text
    (problem,) = answer.json()["problems"]
    assert problem["field"] == field
    for word in words:
        assert word in problem["message"]
