"""The REST routes: assess, differential, FHIR, knowledge, versions and every kind of bad input."""

from __future__ import annotations

import json

import pytest
import yaml

from contraxis import assess, read_case
from contraxis.service.engine import DifferentialUnavailable


def _cli_json(client, case_data):
    """The JSON ``contraxis assess --json`` prints for this case, with the app's own parts."""
    engine = client.app.state.engine
    case = read_case(case_data)
    try:
        ranker = engine.ranker(top=10)
    except DifferentialUnavailable:
        ranker = None
    data = assess(case, kb=engine.kb, differential=ranker).to_json()
    if ranker is None:
        data = engine._noted(data, engine._index_problem)
    return data


@pytest.mark.parametrize("prefix", ["P01", "P21", "P26", "P33"])
def test_assess_matches_the_cli_json(client, vignette, prefix):
    """Check that POST /assess?differential=true answers the JSON of `contraxis assess --json`, for a case block or
    a whole vignette."""
    data = vignette(prefix)
    expected = _cli_json(client, data["case"])
    assert client.post("/assess?differential=true", json=data["case"]).json() == expected
    assert client.post("/assess?differential=true", json=data).json() == _cli_json(client, data)


def test_assess_leaves_the_differential_out_by_default(client, vignette):
    """Check that plain POST /assess answers the JSON of `contraxis assess --json --no-differential`."""
    data = vignette("P01")
    expected = assess(read_case(data), kb=client.app.state.engine.kb).to_json()
    assert expected["case_id"] == data["id"]
    assert client.post("/assess", json=data).json() == expected


def test_assess_reads_yaml(client, vignette):
    """Check that a vignette sent as YAML is read like its JSON."""
    data = vignette("P21")
    answer = client.post("/assess", content=yaml.safe_dump(data), headers={"content-type": "application/yaml"})
    assert answer.status_code == 200
    assert answer.json()["summary"]["alerts"] == client.post("/assess", json=data).json()["summary"]["alerts"]


def test_every_answer_carries_the_versions(client, vignette):
    """Check that answers, pages and errors name the knowledge-base version and the HPO release."""
    engine = client.app.state.engine
    for response in (client.get("/health"), client.get("/"), client.post("/assess", content=b"{")):
        assert response.headers["x-contraxis-kb-version"] == engine.version
        assert response.headers["x-contraxis-hpo-release"] == engine.hpo_release
    page = client.get("/").text
    assert engine.version in page and engine.hpo_release in page
    body = client.post("/assess", json=vignette("P01")).json()
    assert (body["knowledge_base_version"], body["hpo_release"]) == (engine.version, engine.hpo_release)
    assert client.get("/version").json()["knowledge_base_version"] == engine.version


@pytest.mark.parametrize(
    "body, content_type, status, field, words",
    [
        (b"{bad", "application/json", 400, "body", "is not valid JSON"),
        (b"", "application/json", 400, "body", "is empty"),
        (b'{"id": "\xc3\x28"}', "application/json", 400, "body", "not UTF-8"),
        (b"[1, 2]", "application/json", 422, "case", "expected a mapping"),
        (b'{"course": "chronic"}', "application/json", 422, "case.course", "'chronic' is not one of acute, static"),
        (b'{"age": "old"}', "application/json", 422, "case.age", "'old'"),
        (b'{"regions": ["nose"]}', "application/json", 422, "case.regions[0]", "'nose' is not one of"),
        (b'{"findings": ["HP:12"]}', "application/json", 422, "case.findings", "is not a finding code"),
        (b'{"colour": "red"}', "application/json", 422, "case.colour", "is not a case field"),
        (b'{"age": 10, "onset_age": 20}', "application/json", 422, "case.onset_age", "after the current age"),
        (
            b'{"findings": ["HP:0000473"], "absent": ["HP:0000473"]}',
            "application/json",
            422,
            "case.absent",
            "both in findings and absent",
        ),
        (b"age: [", "application/yaml", 400, "body", "is not valid YAML"),
        (b"<case/>", "application/xml", 415, "content-type", "is not accepted"),
        (b"[" * 100000 + b"]" * 100000, "application/json", 400, "body", "nested too deeply"),
    ],
)
def test_bad_input_gets_a_4xx_naming_the_problem(client, body, content_type, status, field, words):
    """Check that bad input gets a 4xx whose problems name the field and the value, with no traceback."""
    answer = client.post("/assess", content=body, headers={"content-type": content_type})
    assert answer.status_code == status
    data = answer.json()
    assert data["status"] == status
    assert any(p["field"].startswith(field) and words in p["message"] for p in data["problems"]), data
    assert "Traceback" not in answer.text


def test_an_oversized_body_gets_413(client):
    """Check that a body over the 1 MiB limit is refused with 413, announced or streamed."""
    big = b'{"id": "' + b"x" * (1024 * 1024 + 10) + b'"}'
    answer = client.post("/assess", content=big, headers={"content-type": "application/json"})
    assert answer.status_code == 413
    assert "larger than the limit of 1048576 bytes" in answer.json()["problems"][0]["message"]

    def chunks():
        for _ in range(40):
            yield b" " * 32768

    streamed = client.post("/assess", content=chunks(), headers={"content-type": "application/json"})
    assert streamed.status_code == 413


def test_a_bad_query_parameter_is_named(client, vignette):
    """Check that a query parameter out of its range is named with what is allowed."""
    answer = client.post("/assess?top=0", json=vignette("P01"))
    assert answer.status_code == 422
    assert answer.json()["problems"] == [{"field": "query.top", "message": "0 is not between 1 and 200"}]
    answer = client.post("/assess?differential=maybe", json=vignette("P01"))
    assert answer.json()["problems"][0]["message"] == "'maybe' is not one of true, false"


def test_unknown_routes_and_methods_are_json(client):
    """Check that 404 and 405 are answered in the same JSON shape."""
    assert client.get("/nowhere").json()["problems"][0]["message"].startswith("no such page: /nowhere")
    answer = client.get("/assess")
    assert answer.status_code == 405
    assert answer.json()["problems"][0]["message"] == "GET is not allowed on /assess"


def test_differential_answers_or_says_why_not(client, vignette):
    """Check that POST /differential ranks the case, or answers 503 naming why it cannot."""
    answer = client.post("/differential?top=5", json=vignette("P26"))
    if answer.status_code == 503:
        assert "differential" in answer.json()["problems"][0]["message"]
    else:
        assert answer.status_code == 200
        assert answer.json()


def test_knowledge_base_can_be_browsed(client):
    """Check that the knowledge base lists its sections, their rows, one row, and names what is unknown."""
    index = client.get("/knowledge").json()
    assert {"conditions", "rules", "sources", "version"} <= set(index["sections"])
    rules = client.get("/knowledge/rules").json()["rows"]
    one = client.get(f"/knowledge/rules/{rules[0]['id']}").json()
    assert one["row"] == rules[0]
    drug_class = client.get("/knowledge/drugs/dopamine-blocking").json()["row"]
    assert "metoclopramide" in drug_class["members"]
    assert client.get("/knowledge/version").json()["knowledge_base_version"] == client.app.state.engine.version
    missing = client.get("/knowledge/spells")
    assert missing.status_code == 404
    assert "'spells' is not a section (allowed: " in missing.json()["problems"][0]["message"]
    assert client.get("/knowledge/rules/no.such.rule").status_code == 404
    page = client.get("/knowledge/sources", headers={"accept": "text/html"})
    assert page.headers["content-type"].startswith("text/html") and "fahn-2007" in page.text


def test_the_intake_form_comes_from_the_knowledge_base_and_hpo(client):
    """Check that every finding offered by the form has its name from HPO or the knowledge base."""
    form = client.get("/intake/form").json()
    engine = client.app.state.engine
    codes = [f for g in form["finding_groups"] for f in g["findings"]] + form["imaging_findings"]
    assert codes and all(f["name"] != f["code"] for f in codes), [f for f in codes if f["name"] == f["code"]]
    for finding in codes:
        assert engine.kb.is_known_code(finding["code"]), finding
    names = {f["code"]: f["name"] for f in codes}
    assert names["HP:0000473"] == "Torticollis"
    assert [r["code"] for r in form["regions"]][:2] == ["upper-face", "lower-face"]
    assert {lab["loinc"] for lab in form["labs"]} >= {"17861-6", "2951-2", "2064-4"}


def test_the_docs_and_the_page_load_nothing_from_outside(client):
    """Check that /docs, the page and the OpenAPI document use local assets only."""
    docs = client.get("/docs").text
    assert "/static/swagger-ui/swagger-ui-bundle.js" in docs and "cdn" not in docs.lower()
    for path in ("/static/swagger-ui/swagger-ui-bundle.js", "/static/swagger-ui/swagger-ui.css",
                 "/static/swagger-ui/LICENSE", "/static/app.js", "/static/app.css", "/report.css"):
        assert client.get(path).status_code == 200, path
    page = client.get("/").text
    assert "http://" not in page and "https://" not in page
    document = client.get("/openapi.json").json()
    assert {"Case", "Assessment", "Error", "FhirBundle"} <= set(document["components"]["schemas"])
    assert document["info"]["x-knowledge-base-version"] == client.app.state.engine.version
    assert "/cds-services/{service_id}" in document["paths"]


def test_fhir_assess_reads_a_bundle(client, vignette):
    """Check that POST /fhir/assess maps a Bundle to the case, reports what it left out, and assesses it."""
    bundle = {
        "resourceType": "Bundle", "type": "collection", "timestamp": "2026-03-02T10:00:00Z",
        "entry": [
            {"resource": {"resourceType": "Patient", "id": "p1", "gender": "female", "birthDate": "2006-05-01"}},
            {"resource": {"resourceType": "Condition", "id": "c1", "subject": {"reference": "Patient/p1"},
                          "code": {"coding": [{"system": "http://human-phenotype-ontology.org", "code": "HP:0000473"}]},
                          "bodySite": [{"text": "neck"}], "onsetDateTime": "2026-03-02"}},
            {"resource": {"resourceType": "MedicationStatement", "id": "m1", "status": "active",
                          "subject": {"reference": "Patient/p1"},
                          "medicationCodeableConcept": {"text": "Metoclopramide 10 mg tablet"},
                          "effectiveDateTime": "2026-03-01"}},
            {"resource": {"resourceType": "Encounter", "id": "e1", "status": "finished", "class": {"code": "EMER"}}},
        ],
    }
    answer = client.post("/fhir/assess?differential=false", json=bundle)
    assert answer.status_code == 200, answer.text
    data = answer.json()
    assert data["case"]["medications"] == [{"name": "Metoclopramide 10 mg tablet", "days_since_start": 1}]
    assert "acute-dystonic-reaction" in data["assessment"]["summary"]["alerts"]
    encounter = [n for n in data["not_read"] if n["path"] == "bundle.entry[3].resource"]
    assert encounter == [
        {"path": "bundle.entry[3].resource", "value": "Encounter/e1: Encounter", "reason": encounter[0]["reason"]}
    ]
    bad = client.post(
        "/fhir/assess",
        json={
            "resourceType": "Bundle",
            "type": "collection",
            "entry": [{"resource": {"resourceType": "Observation", "code": {"text": "x"}}}],
        },
    )
    assert bad.status_code == 422
    assert bad.json()["problems"] == [{"field": "bundle.entry[0].resource.status", "message": "is required"}]


def test_reports_render_for_the_page(client, vignette):
    """Check that POST /report gives the assessment with the clinician report and the handout."""
    data = client.post("/report?differential=false", json=vignette("P21")).json()
    assert "data-alert='acute-dystonic-reaction'" in data["report_html"]
    assert "Act now" in data["handout_html"]
    whole = client.post("/report/html?differential=false", json=vignette("P21"))
    assert whole.text.startswith("<!doctype html>") and "@media print" in whole.text
    handout = client.post("/report/handout", json=vignette("P21"))
    assert handout.status_code == 200 and "When to get help at once" in handout.text
    json.dumps(data)
