"""Links come from the configured public URL, never from the request's Host header; a Host not
trusted is refused."""

from __future__ import annotations

import json
import warnings

import pytest

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

from contraxis.service import ServiceSettings, create_app

from .conftest import TODAY

PUBLIC = "https://cds.example.org/contraxis"
HPO = "http://human-phenotype-ontology.org"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"


def searchset(*resources):
    return {"resourceType": "Bundle", "type": "searchset", "entry": [{"resource": r} for r in resources]}


def acute_dystonic_reaction() -> dict:
    """A patient-view call whose answer has cards with links: torticollis a day after metoclopramide."""
    condition = {"resourceType": "Condition", "id": "c1", "subject": {"reference": "Patient/p1"},
                 "code": {"coding": [{"system": HPO, "code": "HP:0000473", "display": "Torticollis"}]},
                 "bodySite": [{"text": "neck"}], "onsetDateTime": "2026-03-02"}
    order = {"resourceType": "MedicationRequest", "id": "m1", "status": "active", "intent": "order",
             "subject": {"reference": "Patient/p1"}, "authoredOn": "2026-03-01",
             "medicationCodeableConcept": {"coding": [{"system": RXNORM, "code": "6915", "display": "metoclopramide"}]}}
    prefetch = {"patient": {"resourceType": "Patient", "id": "p1", "gender": "female", "birthDate": "2006-05-01"},
                "conditions": searchset(condition), "medicationRequests": searchset(order)}
    return {"hook": "patient-view", "hookInstance": "d1577c69-dfbe-44ad-ba6d-3e05e953b2ea",
            "context": {"userId": "Practitioner/1", "patientId": "p1"}, "prefetch": prefetch}


def urls(data) -> list[str]:
    """Every string of the answer that looks like a URL."""
    found = []

    def walk(value):
        if isinstance(value, dict):
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)
        elif isinstance(value, str) and "://" in value:
            found.append(value)

    walk(data)
    return found


@pytest.fixture(scope="module")
def any_host(app, tmp_path_factory):
    """A service that accepts any Host header (as behind a proxy that checks it) at PUBLIC."""
    settings = ServiceSettings(today=TODAY, public_url=PUBLIC, allowed_hosts=("*",),
                               state_dir=tmp_path_factory.mktemp("state"))
    with TestClient(create_app(settings, engine=app.state.engine), raise_server_exceptions=False) as client:
        yield client


@pytest.mark.parametrize("host", ["evil.example", "testserver", "cds.example.org", "127.0.0.1:8000"])
def test_card_links_come_from_the_public_url_whatever_the_host(any_host, host):
    """Check that every link of the cards to the service (the knowledge base, the #case= link)
    starts with the configured public URL, and nothing in the answer names the Host header sent."""
    answer = any_host.post("/cds-services/contraxis-patient-view", json=acute_dystonic_reaction(),
                           headers={"Host": host})
    assert answer.status_code == 200, answer.text
    found = urls(answer.json()["cards"])
    own = [url for url in found if "/#case=" in url or "/knowledge" in url]
    assert any("/#case=" in url for url in own) and any("/knowledge" in url for url in own)
    assert all(url.startswith(PUBLIC + "/") for url in own), own
    if host != "cds.example.org":
        assert host.split(":")[0] not in json.dumps(answer.json())


def test_an_untrusted_host_is_refused(client):
    """Check that the default service (its public URL's host and loopback names only) refuses
    Host: evil.example with 400 before any route runs."""
    answer = client.post("/cds-services/contraxis-patient-view", json=acute_dystonic_reaction(),
                         headers={"Host": "evil.example"})
    assert answer.status_code == 400
    assert "evil.example" not in answer.text or "cards" not in answer.text


def test_the_default_public_url_is_the_loopback_address_served():
    """Check the quick start: without public_url, links start with http://127.0.0.1:PORT."""
    settings = ServiceSettings(port=8123, public_url=None)
    assert settings.base_url == "http://127.0.0.1:8123"
    assert "127.0.0.1" in settings.trusted_hosts and "evil.example" not in settings.trusted_hosts
