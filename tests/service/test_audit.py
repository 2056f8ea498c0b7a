"""The audit log: one FHIR AuditEvent line per request with patient data, and no patient data in it."""

from __future__ import annotations

import json
import warnings

import pytest
from fhir.resources.R4B.auditevent import AuditEvent

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

from contraxis.service import ServiceSettings, create_app
from contraxis.service.audit import PATIENT_HASH_SYSTEM, patient_id_of, patient_reference
from contraxis.service.auth import hash_api_key, new_api_key
from contraxis.service.settings import ApiKey

from .conftest import TODAY

NAME, GIVEN = "Featherstonehaugh", "Philippa"
BIRTH = "1961-07-23"
MRN = "MRN-4471-0093"
PATIENT_ID = "pt-8f3e2c"
CASE_ID = "case-Featherstonehaugh-0093"
COMMENT = "Discussed with Philippa's daughter"
HPO = "http://human-phenotype-ontology.org"
SENT = (NAME, GIVEN, BIRTH, MRN, PATIENT_ID, CASE_ID, COMMENT, "1961", "0093")
"""Everything identifying the test sends; none of it may reach the audit log."""


def patient() -> dict:
    return {"resourceType": "Patient", "id": PATIENT_ID, "gender": "female", "birthDate": BIRTH,
            "name": [{"family": NAME, "given": [GIVEN]}],
            "identifier": [{"system": "urn:oid:1.2.36.146.595.217.0.1", "value": MRN}]}


def bundle() -> dict:
    condition = {"resourceType": "Condition", "id": "c1", "subject": {"reference": f"Patient/{PATIENT_ID}"},
                 "code": {"coding": [{"system": HPO, "code": "HP:0000473", "display": "Torticollis"}]},
                 "bodySite": [{"text": "neck"}]}
    return {"resourceType": "Bundle", "type": "collection",
            "entry": [{"resource": patient()}, {"resource": condition}]}


def cds_call() -> dict:
    conditions = {"resourceType": "Bundle", "type": "searchset", "entry": bundle()["entry"][1:]}
    return {"hook": "patient-view", "hookInstance": "d1577c69-dfbe-44ad-ba6d-3e05e953b2ea",
            "context": {"userId": "Practitioner/1", "patientId": PATIENT_ID},
            "prefetch": {"patient": patient(), "conditions": conditions}}


@pytest.fixture(scope="module")
def audited(app, tmp_path_factory):
    """A service whose audit log is a file of this module, with a clinician's and an admin's key."""
    folder = tmp_path_factory.mktemp("audit")
    clinician, admin = new_api_key(), new_api_key()
    settings = ServiceSettings(
        today=TODAY, public_url="http://testserver", state_dir=folder / "state",
        audit={"path": folder / "logs" / "contraxis-audit.jsonl"},
        api_keys=[ApiKey(name="dr-who", sha256=hash_api_key(clinician)),
                  ApiKey(name="ops", sha256=hash_api_key(admin), roles=("admin",))],
        cds_clients=[], oidc_providers=[],
    )
    secured = create_app(settings, engine=app.state.engine)
    with TestClient(secured, raise_server_exceptions=False) as client:
        yield client, secured, {"Authorization": f"Bearer {clinician}"}, {"Authorization": f"Bearer {admin}"}


def lines(secured) -> list[dict]:
    return [json.loads(line) for line in secured.state.audit.path.read_text().splitlines()]


def test_requests_with_patient_data_are_written_without_it(audited):
    """Check that assess, FHIR, report and refused requests each leave an AuditEvent line, and
    that the log holds none of the names, birth dates and identifiers sent."""
    client, secured, clinician, _ = audited
    before = len(lines(secured)) if secured.state.audit.path.exists() else 0
    case = {"id": CASE_ID, "age": 64, "sex": "female", "regions": ["neck"], "findings": ["HP:0000473"]}
    answers = [
        client.post("/assess", json=case, headers=clinician),
        client.post("/fhir/assess", json=bundle(), headers=clinician),
        client.post("/report/html", json=bundle(), headers=clinician),
        client.post("/assess", json=case),  # no credential: refused, still written
        client.post("/assess", json={**case, "age": "sixty-four"}, headers=clinician),  # 422
    ]
    assert [a.status_code for a in answers][:4] == [200, 200, 200, 401]
    written = lines(secured)[before:]
    assert len(written) == len(answers)
    text = secured.state.audit.path.read_text()
    for sent in SENT:
        assert sent not in text, sent
    routes = [next(d["valueString"] for d in e["entity"][-1]["detail"] if d["type"] == "route") for e in written]
    assert routes == ["POST /assess", "POST /fhir/assess", "POST /report/html", "POST /assess", "POST /assess"]
    assert [e["outcome"] for e in written] == ["0", "0", "0", "4", "4"]
    assert written[0]["agent"][0]["who"]["identifier"]["value"] == "dr-who"
    assert written[3]["agent"][0]["who"] == {"display": "not authenticated"}
    key = secured.state.audit.key
    patients = [e["entity"][0]["what"].get("identifier", {}) for e in written]
    assert patients[0] == {"system": PATIENT_HASH_SYSTEM, "value": patient_reference(key, CASE_ID)}
    assert patients[1]["value"] == patients[2]["value"] == patient_reference(key, PATIENT_ID)
    for event in written:
        AuditEvent.model_validate(event)  # a valid FHIR R4 AuditEvent
        details = {d["type"]: d["valueString"] for d in event["entity"][-1]["detail"]}
        assert details["knowledge-base-version"] == secured.state.engine.version


def test_cds_calls_and_feedback_are_written_and_the_admin_reads_the_feedback(audited):
    """Check that a CDS call and its feedback are written without patient data or the user's
    comment, and that GET .../feedback shows the feedback to an admin only."""
    client, secured, clinician, admin = audited
    service = "contraxis-patient-view"
    assert client.post(f"/cds-services/{service}", json=cds_call()).status_code == 403  # no CDS client configured
    feedback = {"feedback": [
        {"card": "7e0a3a0e-0000-5000-8000-000000000001", "outcome": "overridden",
         "overrideReason": {"reason": {"system": "urn:contraxis:override-reason", "code": "risk-discussed"},
                            "userComment": COMMENT},
         "outcomeTimestamp": "2026-03-02T10:00:00Z"},
        {"card": "7e0a3a0e-0000-5000-8000-000000000002", "outcome": "accepted",
         "acceptedSuggestions": [{"id": "s-1"}], "outcomeTimestamp": "2026-03-02T10:01:00Z"},
    ]}
    assert client.post(f"/cds-services/{service}/feedback", json=feedback).status_code == 403
    text = secured.state.audit.path.read_text()
    for sent in SENT:
        assert sent not in text, sent
    assert client.get(f"/cds-services/{service}/feedback", headers=clinician).status_code == 403


def test_cds_calls_and_feedback_are_checked_recorded_and_shown(tmp_path, app):
    """Check on an open service (loopback quick start) that a CDS call is written with the
    patient's keyed hash only, bad feedback gets 400 naming the field, and good feedback is
    recorded and shown by GET, without the user's comment."""
    settings = ServiceSettings(today=TODAY, public_url="http://testserver", state_dir=tmp_path)
    secured = create_app(settings, engine=app.state.engine)
    with TestClient(secured, raise_server_exceptions=False) as client:
        called = client.post("/cds-services/contraxis-patient-view", json=cds_call())
        assert called.status_code == 200 and called.json()["cards"], called.text
        event = json.loads((tmp_path / "audit.jsonl").read_text().splitlines()[-1])
        assert event["entity"][0]["what"]["identifier"]["value"] == patient_reference(secured.state.audit.key,
                                                                                     PATIENT_ID)
        path = "/cds-services/contraxis-patient-view/feedback"
        bad = client.post(path, json={"feedback": [{"card": "c1", "outcome": "ignored"}]})
        assert bad.status_code == 400
        assert {p["field"] for p in bad.json()["problems"]} == {"feedback[0].outcome", "feedback[0].outcomeTimestamp"}
        assert client.post(path, json={"feedback": "yes"}).status_code == 400
        item = {"card": "c1", "outcome": "overridden", "outcomeTimestamp": "2026-03-02T10:00:00Z",
                "overrideReason": {"reason": {"system": "urn:contraxis:override-reason", "code": "risk-discussed"},
                                   "userComment": COMMENT}}
        assert client.post(path, json={"feedback": [item]}).status_code == 200
        shown = client.get(path).json()
        assert shown["service"] == "contraxis-patient-view"
        assert shown["feedback"][-1]["items"] == [{
            "card": "c1", "outcome": "overridden", "acceptedSuggestions": [],
            "overrideReason": {"system": "urn:contraxis:override-reason", "code": "risk-discussed"},
            "userComment": True, "outcomeTimestamp": "2026-03-02T10:00:00Z",
        }]
        text = (tmp_path / "audit.jsonl").read_text()
        for sent in SENT:
            assert sent not in text, sent
        assert client.get("/cds-services/contraxis-dopamine-blocker-check/feedback").json()["feedback"] == []


def test_the_audit_log_can_be_read_by_route(audited):
    """Check that GET /audit gives the admin the newest lines, filtered by route."""
    client, _, _, admin = audited
    events = client.get("/audit", params={"route": "POST /fhir/assess", "limit": 5}, headers=admin).json()["events"]
    assert events and all(e["resourceType"] == "AuditEvent" for e in events)


@pytest.mark.parametrize("document, expected", [
    ({"hook": "patient-view", "context": {"patientId": "p9"}}, "p9"),
    ({"resourceType": "Bundle", "entry": [{"resource": {"resourceType": "Patient", "id": "p8"}}]}, "p8"),
    ({"resourceType": "Patient", "id": "p7"}, "p7"),
    ({"resourceType": "Condition", "subject": {"reference": "Patient/p6"}}, "p6"),
    ({"id": "case-5", "age": 40}, "case-5"),
    ({"subject": {"id": "pp-4"}, "phenotypicFeatures": []}, "pp-4"),
    ([1, 2], None),
])
def test_the_patient_id_is_found_in_each_shape(document, expected):
    """Check that the audit log finds the patient id of a CDS call, a Bundle, a resource, a case, a phenopacket."""
    assert patient_id_of(document) == expected


def test_the_audit_key_is_kept_and_reused(tmp_path):
    """Check that the audit key is made once (private to the user) and hashes a patient alike after a restart."""
    from contraxis.service.audit import load_audit_key

    settings = ServiceSettings(state_dir=tmp_path)
    first = load_audit_key(settings)
    assert load_audit_key(settings) == first and len(first) == 64
    assert (tmp_path / "audit.key").stat().st_mode & 0o077 == 0


@pytest.mark.parametrize("options", [
    {"patient": "ab" * 32, "service": None, "reason": None, "feedback": None},
    {"patient": None, "service": "contraxis-patient-view", "reason": 'the token\'s "iss" is not allowed',
     "feedback": [{"card": "c1", "outcome": "accepted"}]},
])
def test_the_fast_line_is_the_event(options):
    """Check that the line written on each request is the AuditEvent field for field (id and time aside)."""
    from contraxis.service.audit import audit_event, audit_line
    from contraxis.service.auth import Principal

    user = Principal("user", "dr.jones", "https://idp.example.org", frozenset({"clinician"}))
    common = {"route": "POST /assess", "status": 401, "address": "10.1.2.3", "knowledge_base": "2026.11.3",
              "principal": user, **options}
    line, event = json.loads(audit_line(**common)), audit_event(**common)
    assert line.pop("id") != event.pop("id")
    assert line.pop("recorded")[:16] == event.pop("recorded")[:16]
    assert line == event


def test_a_path_that_is_no_route_is_not_written(audited):
    """Check that a request to a path that is no route leaves its line without the path itself."""
    client, secured, clinician, _ = audited
    assert client.get(f"/patients/{NAME}-{BIRTH}", headers=clinician).status_code == 404
    last = lines(secured)[-1]
    assert NAME not in json.dumps(last) and last["entity"][-1]["what"]["display"] == "GET (no such route)"
