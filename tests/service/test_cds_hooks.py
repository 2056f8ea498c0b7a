"""CDS Hooks 2.0: the discovery document, patient-view cards and the dopamine-blocker order check."""

from __future__ import annotations

import json
from importlib.resources import files

import pytest

from contraxis.errors import KnowledgeBaseError
from contraxis.service.cards import SUMMARY_LIMIT, indicator_for
from contraxis.service.ordering import load_order_safety

HPO = "http://human-phenotype-ontology.org"
ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"
SNOMED = "http://snomed.info/sct"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"


def searchset(*resources):
    return {"resourceType": "Bundle", "type": "searchset", "entry": [{"resource": r} for r in resources]}


def patient(pid="p1", gender="female", birth="2006-05-01"):
    return {"resourceType": "Patient", "id": pid, "gender": gender, "birthDate": birth}


def condition(cid, system, code, display=None, **extra):
    coding = {"system": system, "code": code}
    if display:
        coding["display"] = display
    return {
        "resourceType": "Condition",
        "id": cid,
        "subject": {"reference": "Patient/p1"},
        "code": {"coding": [coding]},
        **extra,
    }


def draft_order(oid, text, code=None):
    concept = {"text": text}
    if code:
        concept["coding"] = [{"system": RXNORM, "code": code, "display": text}]
    return {"resourceType": "MedicationRequest", "id": oid, "status": "draft", "intent": "order",
            "subject": {"reference": "Patient/p1"}, "medicationCodeableConcept": concept}


def hook_request(hook, *, prefetch, **context):
    return {"hook": hook, "hookInstance": "d1577c69-dfbe-44ad-ba6d-3e05e953b2ea",
            "context": {"userId": "Practitioner/1", "patientId": "p1", **context}, "prefetch": prefetch}


def check_card_shape(card):
    assert set(card) >= {"uuid", "summary", "indicator", "source"}
    assert len(card["summary"]) <= SUMMARY_LIMIT
    assert card["indicator"] in ("info", "warning", "critical")
    assert card["source"]["label"].startswith("Contraxis knowledge base ")
    for suggestion in card.get("suggestions", []):
        assert set(suggestion) >= {"label", "uuid", "actions"}
        for action in suggestion["actions"]:
            assert action["type"] in ("create", "update", "delete")
    if card.get("suggestions"):
        assert card["selectionBehavior"] in ("at-most-one", "any")


def test_discovery_is_the_data_file_served_as_is(client, snapshot):
    """Check that GET /cds-services serves the catalogue file byte for byte, and pin its services."""
    answer = client.get("/cds-services")
    shipped = (files("contraxis.service") / "data" / "cds-services.json").read_bytes()
    assert answer.content == shipped
    services = answer.json()["services"]
    snapshot("cds-discovery", [{"id": s["id"], "hook": s["hook"], "prefetch": s["prefetch"]} for s in services])
    for service in services:
        assert {"hook", "id", "description", "prefetch"} <= set(service)


@pytest.mark.parametrize(
    "urgency, indicator", [("emergency", "critical"), ("urgent", "warning"), ("soon", "info"), ("routine", "info")]
)
def test_indicator_follows_urgency(urgency, indicator):
    """Check that the card indicator is critical for an emergency, warning when urgent, else info."""
    assert indicator_for(urgency) == indicator


def test_patient_view_cards_for_an_acute_dystonic_reaction(client, snapshot):
    """Check the patient-view cards of a patient on metoclopramide since yesterday with torticollis."""
    prefetch = {
        "patient": patient(),
        "conditions": searchset(
            condition("c1", HPO, "HP:0000473", "Torticollis", bodySite=[{"text": "neck"}], onsetDateTime="2026-03-02"),
            condition("c2", HPO, "HP:0031008", "Lingual dystonia", bodySite=[{"text": "tongue"}]),
        ),
        "observations": searchset(
            {
                "resourceType": "Observation",
                "id": "o1",
                "status": "final",
                "code": {"coding": [{"system": "urn:contraxis:finding", "code": "CX:sustained-contractions"}]},
                "valueBoolean": True,
            },
            {
                "resourceType": "Observation",
                "id": "o2",
                "status": "final",
                "code": {"coding": [{"system": HPO, "code": "HP:0010307", "display": "Stridor"}]},
                "valueBoolean": False,
            },
        ),
        "medicationRequests": searchset(
            {
                "resourceType": "MedicationRequest",
                "id": "m1",
                "status": "active",
                "intent": "order",
                "subject": {"reference": "Patient/p1"},
                "authoredOn": "2026-03-01",
                "medicationCodeableConcept": {
                    "coding": [{"system": RXNORM, "code": "6915", "display": "metoclopramide"}]
                },
            }
        ),
        "medicationStatements": None,
        "procedures": searchset(),
    }
    answer = client.post("/cds-services/contraxis-patient-view", json=hook_request("patient-view", prefetch=prefetch))
    assert answer.status_code == 200, answer.text
    cards = answer.json()["cards"]
    for card in cards:
        check_card_shape(card)
    first = cards[0]
    assert first["source"]["topic"]["code"] == "acute-dystonic-reaction"
    assert first["indicator"] == "warning"
    assert cards[-2]["links"][0]["url"].startswith("http://testserver/#case=")
    assert cards[-1]["indicator"] == "info" and "RxNorm 6915" in cards[-1]["detail"]  # what was read after a change
    snapshot("cds-patient-view-acute-dystonic-reaction", cards)
    again = client.post(
        "/cds-services/contraxis-patient-view", json=hook_request("patient-view", prefetch=prefetch)
    ).json()
    assert again["cards"] == cards


def test_patient_view_without_contractions_gives_no_card(client):
    """Check that a record holding nothing about contractions gives no card."""
    prefetch = {"patient": patient(), "conditions": searchset(condition("c1", ICD10CM, "I10", "Hypertension"))}
    answer = client.post("/cds-services/contraxis-patient-view", json=hook_request("patient-view", prefetch=prefetch))
    assert answer.json() == {"cards": []}


def test_order_select_warns_on_metoclopramide_after_an_acute_dystonic_reaction(client, snapshot):
    """Check the critical card, its alternatives and its actions for metoclopramide after a dystonic reaction."""
    prefetch = {
        "patient": patient(),
        "conditions": searchset(condition("c1", ICD10CM, "G24.02", "Drug induced acute dystonia")),
        "medicationRequests": searchset(),
        "medicationStatements": searchset(),
        "allergies": searchset(),
    }
    request = hook_request("order-select", prefetch=prefetch, selections=["MedicationRequest/new1"],
                           draftOrders=searchset(draft_order("new1", "metoclopramide 10 MG Oral Tablet", "311666"),
                                                 draft_order("new2", "paracetamol 500 mg")))
    answer = client.post("/cds-services/contraxis-dopamine-blocker-check", json=request)
    assert answer.status_code == 200, answer.text
    (card,) = answer.json()["cards"]
    check_card_shape(card)
    assert card["indicator"] == "critical"
    labels = [s["label"] for s in card["suggestions"]]
    assert labels == ["Replace metoclopramide with ondansetron", "Replace metoclopramide with domperidone",
                      "Cancel the metoclopramide order"]
    assert card["suggestions"][0]["actions"][0] == {"type": "delete", "description": "Remove the metoclopramide order",
                                                    "resourceId": "MedicationRequest/new1"}
    snapshot("cds-order-select-metoclopramide", card)


def test_order_sign_warns_on_haloperidol_in_parkinson_disease_and_spares_quetiapine(client, snapshot):
    """Check that haloperidol for a patient with Parkinson disease (SNOMED CT) warns, and quetiapine does not."""
    prefetch = {
        "patient": patient(gender="male", birth="1950-01-01"),
        "conditions": searchset(condition("c1", SNOMED, "49049000", "Parkinson's disease")),
        "medicationRequests": searchset(),
        "medicationStatements": searchset(),
        "allergies": searchset(),
    }
    request = hook_request("order-sign", prefetch=prefetch,
                           draftOrders=searchset(draft_order("h1", "Haloperidol 5 mg/mL injection"),
                                                 draft_order("q1", "quetiapine 25 mg")))
    (card,) = client.post("/cds-services/contraxis-dopamine-blocker-check-sign", json=request).json()["cards"]
    assert card["indicator"] == "warning"
    assert card["summary"].startswith("Avoid haloperidol")
    assert [s["label"] for s in card["suggestions"]][:2] == [
        "Replace haloperidol with quetiapine",
        "Replace haloperidol with clozapine",
    ]
    snapshot("cds-order-sign-haloperidol-parkinson", card)


def test_order_check_reads_allergies_and_drugs_taken(client):
    """Check that levodopa being taken is found, and that an intolerance to a dopamine blocker with no
    reaction given is reported as what it is, not as a dystonic reaction."""
    allergy = {"resourceType": "AllergyIntolerance", "id": "a1", "patient": {"reference": "Patient/p1"},
               "code": {"text": "prochlorperazine"}}
    levodopa = {
        "resourceType": "MedicationStatement",
        "id": "s1",
        "status": "active",
        "subject": {"reference": "Patient/p1"},
        "medicationCodeableConcept": {"text": "carbidopa-levodopa 25/100"},
    }
    prefetch = {"patient": patient(), "conditions": searchset(), "allergies": searchset(allergy),
                "medicationStatements": searchset(levodopa)}
    request = hook_request("order-select", prefetch=prefetch, selections=["MedicationRequest/x"],
                           draftOrders=searchset(draft_order("x", "promethazine 25 mg")))
    (card,) = client.post("/cds-services/contraxis-dopamine-blocker-check", json=request).json()["cards"]
    assert card["indicator"] == "warning"
    assert "and 1 more" in card["summary"]
    assert "AllergyIntolerance/a1" in card["detail"] and "MedicationStatement/s1" in card["detail"]
    assert "allergy to prochlorperazine (AllergyIntolerance/a1)" in card["detail"]
    assert "acute dystonic reaction" not in card["detail"]


def test_no_card_without_a_contraindication(client):
    """Check that ordering metoclopramide for a patient with nothing against it gives no card."""
    prefetch = {"patient": patient(), "conditions": searchset(condition("c1", ICD10CM, "K52.9", "Gastroenteritis"))}
    request = hook_request("order-select", prefetch=prefetch, selections=["MedicationRequest/x"],
                           draftOrders=searchset(draft_order("x", "metoclopramide 10 mg")))
    assert client.post("/cds-services/contraxis-dopamine-blocker-check", json=request).json() == {"cards": []}


@pytest.mark.parametrize(
    "service, body, status, field",
    [
        (
            "contraxis-patient-view",
            {"hook": "order-select", "hookInstance": "x", "context": {"patientId": "p1"}},
            400,
            "hook",
        ),
        (
            "contraxis-patient-view",
            {"hook": "patient-view", "hookInstance": "x", "context": {}},
            400,
            "context.patientId",
        ),
        (
            "contraxis-patient-view",
            {"hook": "patient-view", "hookInstance": "x", "context": {"patientId": "p1"}},
            412,
            "prefetch.patient",
        ),
        (
            "contraxis-dopamine-blocker-check",
            {
                "hook": "order-select",
                "hookInstance": "x",
                "context": {"patientId": "p1"},
                "prefetch": {"patient": patient(), "conditions": None},
            },
            400,
            "context.draftOrders",
        ),
        ("nope", {}, 404, "service"),
    ],
)
def test_bad_hook_requests_are_named(client, service, body, status, field):
    """Check that a wrong hook, a missing patient, a missing prefetch or draft orders get a named 4xx."""
    answer = client.post(f"/cds-services/{service}", json=body)
    assert answer.status_code == status, answer.text
    assert answer.json()["problems"][0]["field"] == field


def test_feedback_is_acknowledged(client):
    """Check that the feedback endpoint accepts card outcomes."""
    body = {"feedback": [{"card": "x", "outcome": "accepted", "outcomeTimestamp": "2026-03-02T10:00:00Z"}]}
    assert client.post("/cds-services/contraxis-patient-view/feedback", json=body).status_code == 200


def test_order_safety_file_is_checked_against_the_knowledge_base(kb):
    """Check that the shipped checks load, use the knowledge base's class, and that a bad row is named."""
    safety = load_order_safety(kb)
    assert safety.members == frozenset(kb.drug_classes["dopamine-blocking"].members)
    assert all(row.source in safety.sources for row in safety.contraindications)
    bad = "drug_class: dopamine-blocking\ncontraindications:\n  - {id: x, label: y, indicator: red, source: nope}\n" \
          "  - {id: z, label: y, indicator: info, source: burkhard-2014, match: {allergy_to_class: true}}\n" \
          "alternatives:\n  - {id: a, purpose: b, for: [aspirin], options: []}\n"
    with pytest.raises(KnowledgeBaseError) as caught:
        load_order_safety(kb, text=bad)
    messages = [str(p) for p in caught.value.problems]
    assert "order_safety.yaml: x.source: 'nope' is not in the knowledge base's sources.yaml" in messages
    assert "order_safety.yaml: x.indicator: 'red' is not one of info, warning, critical" in messages
    assert "order_safety.yaml: a.for: 'aspirin' is not a member of the class 'dopamine-blocking'" in messages
    assert (
        "order_safety.yaml: z.match.allergy_to_class: True is not one of dystonic-reaction, other-reaction" in messages
    )
    json.dumps([s for s in safety.sources.values()])


def test_cds_services_answer_cross_origin_requests(client):
    """Check that the CDS Hooks routes allow a browser-based sandbox to call them (CORS), and the others do not."""
    preflight = client.options("/cds-services/contraxis-patient-view",
                               headers={"origin": "https://sandbox.example", "access-control-request-method": "POST"})
    assert preflight.status_code == 204
    assert preflight.headers["access-control-allow-origin"] == "*"
    assert "Authorization" in preflight.headers["access-control-allow-headers"]
    assert client.get("/cds-services").headers["access-control-allow-origin"] == "*"
    assert "access-control-allow-origin" not in client.get("/health").headers
