"""The registry over REST: visits from any input, roles at the door and in the store, audit,
exports and pages."""

from __future__ import annotations

import json
import os
import tempfile
import warnings

import pytest

pytest.importorskip("fastapi")
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

os.environ.setdefault("CONTRAXIS_STATE_DIR", tempfile.mkdtemp(prefix="contraxis-test-state-"))

from contraxis.service import ServiceSettings, create_app  # noqa: E402
from contraxis.service.auth import hash_api_key  # noqa: E402
from contraxis.service.settings import ApiKey, AuditSettings  # noqa: E402

from .conftest import case_with  # noqa: E402
from .test_treatments import DYSPORT, TSUI  # noqa: E402

KEYS = {"clinician": "cxk_" + "c" * 43, "researcher": "cxk_" + "r" * 43, "admin": "cxk_" + "a" * 43,
        "none": "cxk_" + "n" * 43}


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    folder = tmp_path_factory.mktemp("service")
    settings = ServiceSettings(
        registry_url=f"sqlite:///{folder / 'registry.sqlite'}", public_url="http://testserver", preload=False,
        differential=False, audit=AuditSettings(path=folder / "audit.jsonl", key="k" * 32),
        api_keys=[ApiKey(name=f"{role}-key", sha256=hash_api_key(key), roles=(role,))
                  for role, key in KEYS.items() if role != "none"]
        + [ApiKey(name="none-key", sha256=hash_api_key(KEYS["none"]), roles=("admin",))],
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        app = create_app(settings)
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client, folder


def _as(role: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {KEYS[role]}"}


def test_visits_course_treatments_and_pages(service, cervical) -> None:
    """Check a clinician's round: two visits (YAML and JSON), the course, a scale, an injection,
    an implant and its settings, the record, the timeline page and the cohort overview."""
    client, _ = service
    import yaml

    first = client.post("/registry/patients/P-100/visits?date=2023-01-10", content=yaml.safe_dump(cervical),
                        headers={**_as("clinician"), "Content-Type": "application/yaml"})
    assert first.status_code == 201, first.text
    assert first.json()["summary"]["distribution"] == "focal"
    second = client.post("/registry/patients/P-100/visits?date=2024-01-10",
                         json=case_with(cervical, regions=["neck", "right-arm"]), headers=_as("clinician"))
    assert second.status_code == 201 and [e["kind"] for e in second.json()["course"]] == ["spread", "distribution"]
    vid = second.json()["id"]
    scale = client.post(f"/registry/patients/P-100/visits/{vid}/scales/tsui", json=TSUI, headers=_as("clinician"))
    assert scale.status_code == 201 and scale.json()["total"] == 9
    injection = client.post(f"/registry/patients/P-100/visits/{vid}/injections", json=DYSPORT, headers=_as("clinician"))
    assert injection.status_code == 201 and injection.json()["product"] == "abobotulinumtoxinA"
    implant = client.post("/registry/patients/P-100/implants", json={"surgery_date": "2023-06-01",
                          "device": "Percept PC", "target": "GPi", "side": "bilateral"}, headers=_as("clinician"))
    assert implant.status_code == 201
    settings = {"implant_id": implant.json()["id"], "side": "left", "contacts": "1-", "amplitude": 3.0,
                "amplitude_unit": "mA", "pulse_width_us": 90, "frequency_hz": 130}
    assert client.post(f"/registry/patients/P-100/visits/{vid}/stimulation", json=settings,
                       headers=_as("clinician")).status_code == 201
    record = client.get("/registry/patients/P-100", headers=_as("clinician")).json()
    assert [v["date"] for v in record["visits"]] == ["2023-01-10", "2024-01-10"]
    course = client.get("/registry/patients/P-100/course", headers=_as("clinician")).json()
    assert course["events"][0]["summary"] == "spread to the right arm"
    page = client.get("/registry/patients/P-100/timeline", headers=_as("clinician"))
    assert page.status_code == 200 and "<svg" in page.text and "<script" not in page.text
    assert "style-src 'self' 'sha256-" in page.headers["content-security-policy"]
    cohort = client.get("/registry/cohort", headers=_as("researcher")).json()
    assert cohort["patients"] >= 1
    assert "<svg" in client.get("/registry/cohort?format=html", headers=_as("clinician")).text
    changed = client.post("/registry/patients/P-100/reassess", headers=_as("clinician")).json()
    assert [v["changed"] for v in changed["visits"]] == [False, False]


def test_bad_input_and_unknown_patients(service) -> None:
    """Check that a bad case is 422 naming the field, an unknown patient 404, a bad date 422."""
    client, _ = service
    bad = client.post("/registry/patients/P-101/visits?date=2024-01-01", json={"course": "chronic"},
                      headers=_as("clinician"))
    assert bad.status_code == 422 and bad.json()["problems"][0]["field"] == "case.course"
    assert client.get("/registry/patients/P-404", headers=_as("clinician")).status_code == 404
    assert client.post("/registry/patients/P-101/visits?date=2024-99-01", json={"age": 3},
                       headers=_as("clinician")).status_code == 422
    named = client.post("/registry/patients/Jane%20Doe/visits?date=2024-01-01", json={"age": 3},
                        headers=_as("clinician"))
    assert named.status_code == 422 and named.json()["problems"][0]["field"] == "patient"


def test_roles(service, cervical) -> None:
    """Check that a researcher exports pseudonymous records and reads the cohort, and is refused
    (403) records, writes and identified exports; no credential is 401."""
    client, _ = service
    client.post("/registry/patients/P-102/visits?date=2024-01-01", json=cervical, headers=_as("clinician"))
    assert client.get("/registry/patients/P-102").status_code == 401
    export = client.get("/registry/patients/P-102/export?format=fhir", headers=_as("researcher"))
    assert export.status_code == 200 and export.headers["content-type"].startswith("application/fhir+json")
    for method, path in (("GET", "/registry/patients/P-102"), ("GET", "/registry/patients/P-102/timeline"),
                         ("GET", "/registry/patients/P-102/export?identified=true"),
                         ("POST", "/registry/patients/P-102/reassess")):
        answer = client.request(method, path, headers=_as("researcher"))
        assert answer.status_code == 403, (path, answer.text)
        assert "acts as researcher" in answer.json()["problems"][0]["message"]
    refused = client.post("/registry/patients/P-102/visits?date=2024-02-01", json=cervical, headers=_as("researcher"))
    assert refused.status_code == 403


def test_every_request_is_in_the_audit_log_with_the_patient_hashed(service, cervical) -> None:
    """Check that registry reads and writes leave a line in the service's audit log, the
    patient only as its keyed hash, and a row in the registry's own audit."""
    client, folder = service
    client.post("/registry/patients/P-103/visits?date=2024-01-01", json=cervical, headers=_as("clinician"))
    client.get("/registry/patients/P-103/export", headers=_as("researcher"))
    lines = [json.loads(line) for line in (folder / "audit.jsonl").read_text().splitlines()]
    routes = [{d["type"]: d.get("valueString") for e in line["entity"] for d in e.get("detail", [])}.get("route")
              for line in lines]
    assert "POST /registry/patients/{patient}/visits" in routes
    assert "GET /registry/patients/{patient}/export" in routes
    text = (folder / "audit.jsonl").read_text()
    assert "P-103" not in text
    hashed = [e for line in lines for e in line["entity"] if e.get("what", {}).get("identifier")]
    assert hashed, "the patient is in the line as a keyed hash"
