"""``POST /note`` and ``GET /terminology/findings`` on the service."""

from __future__ import annotations

import pytest

NOTE = ("A 58-year-old woman has had, for three years, a pulling of her head to the right that eases when she "
        "touches her chin. There is no tremor. Her father has a similar problem.")


def test_a_note_as_text_gives_the_case_and_its_provenance(client):
    """Check that a text/plain note answers the case, each fact with its words, and the versions."""
    response = client.post("/note", content=NOTE, headers={"content-type": "text/plain; charset=utf-8"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["case"]["regions"] == ["neck"] and "HP:0000473" in body["case"]["findings"]
    assert body["case"]["absent"] == ["HP:0001337"] and body["case"]["family_history"] is True
    tremor = next(f for f in body["facts"] if f["value"] == "HP:0001337")
    words = tremor["evidence"][0]
    assert words["cue"] == "no" and NOTE[words["start"]:words["end"]] == "tremor"
    assert body["message"] == "" and body["knowledge_base_version"] and body["hpo_release"]
    assert response.headers["cache-control"] == "no-store"


def test_a_note_as_json_and_the_case_assessed(client):
    """Check that {"text": ...} is read alike, and that the case it gives is assessed by POST /assess."""
    body = client.post("/note", json={"text": NOTE}).json()
    assessed = client.post("/assess", json=body["case"])
    assert assessed.status_code == 200
    assert assessed.json()["summary"]["phenomenology"] == "dystonia"


@pytest.mark.parametrize("kwargs, status, words", [
    ({"content": b"", "headers": {"content-type": "text/plain"}}, 400, "is empty"),
    ({"json": {"note": "tremor"}}, 422, "is not a note"),
    ({"json": {"text": "tremor", "id": "x"}}, 422, "is not a field"),
    ({"content": "tremor", "headers": {"content-type": "text/html"}}, 415, "is not accepted"),
    ({"content": "tremor", "headers": {"content-type": "text/plain; charset=latin-1"}}, 415, "charset"),
    ({"content": b"\xff\xfe", "headers": {"content-type": "text/plain"}}, 400, "not UTF-8"),
    ({"json": {"text": "tremor\u0000"}}, 422, "control character"),
])
def test_a_bad_note_is_refused_naming_the_problem(client, kwargs, status, words):
    """Check the answer to an empty note, a wrong body, a wrong type or charset, bytes that are not text."""
    response = client.post("/note", **kwargs)
    assert response.status_code == status, response.text
    assert words in " ".join(p["message"] for p in response.json()["problems"])


def test_a_note_with_nothing_clinical_gives_an_empty_case(client):
    """Check that a note with nothing clinical answers an empty case and says so."""
    body = client.post("/note", json={"text": "Many thanks, I will write again next month."}).json()
    assert body["case"] == {} and body["facts"] == []
    assert body["message"].startswith("Nothing clinical was recognised")


def test_the_finding_search(client):
    """Check that the search finds plain words and British spellings, the knowledge base's codes first."""
    body = client.get("/terminology/findings", params={"q": "dyspnoea", "limit": 5}).json()
    assert body["findings"][0]["code"] == "HP:0002094" and len(body["findings"]) <= 5
    body = client.get("/terminology/findings", params={"q": "wry neck"}).json()
    assert body["findings"][0] == {"code": "HP:0000473", "name": "Torticollis", "matched": "Wry neck",
                                   "knowledge_base": True}


@pytest.mark.parametrize("params, words", [
    ({}, "is required"),
    ({"q": "x" * 101}, "longer than 100"),
    ({"q": "tremor", "limit": "500"}, "between 1 and 100"),
])
def test_a_bad_search_is_refused(client, params, words):
    """Check that a missing, long or out-of-range query is a 422 naming the parameter."""
    response = client.get("/terminology/findings", params=params)
    assert response.status_code == 422
    assert words in response.json()["problems"][0]["message"]


def test_the_routes_are_documented_and_behind_their_doors(client):
    """Check that both routes are in the OpenAPI document, POST /note behind the clinician's door."""
    from contraxis.service.access import Door, door_of

    paths = client.get("/openapi.json").json()["paths"]
    assert "text/plain" in paths["/note"]["post"]["requestBody"]["content"]
    assert {p["name"] for p in paths["/terminology/findings"]["get"]["parameters"]} == {"q", "limit"}
    assert door_of("POST", "/note") is Door.CLINICIAN
    assert door_of("GET", "/terminology/findings") is Door.OPEN
