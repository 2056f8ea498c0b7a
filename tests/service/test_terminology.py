"""The /terminology routes the intake page reads: drug suggestions and readings, laboratory
units and limits, and the server's check of one laboratory value."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

STATIC = Path(__file__).resolve().parents[2] / "contraxis" / "service" / "static"


# --- drug suggestions -----------------------------------------------------------------------


def test_suggestions_cover_brand_names_with_their_ingredient(client):
    """Check that typing the start of a brand name suggests it with the ingredient it is read as."""
    answer = client.get("/terminology/drugs", params={"q": "Regl"})
    assert answer.status_code == 200
    body = answer.json()
    assert body["query"] == "Regl"
    assert {"name": "Reglan", "ingredient": "metoclopramide"} in body["drugs"]


def test_suggestions_cover_generic_names_first_and_respect_the_limit(client):
    """Check that generic names come before brands and that ``limit`` bounds the list."""
    body = client.get("/terminology/drugs", params={"q": "halo", "limit": 3}).json()
    assert len(body["drugs"]) <= 3
    assert body["drugs"][0] == {"name": "haloperidol", "ingredient": "haloperidol"}
    assert all(d["name"].lower().startswith("halo") for d in body["drugs"])


@pytest.mark.parametrize("params, field, words", [
    ({}, "query.q", "is required"),
    ({"q": "   "}, "query.q", "is required"),
    ({"q": "x" * 61}, "query.q", "longer than 60"),
    ({"q": "reg\x00lan"}, "query.q", "control characters"),
    ({"q": "reg", "limit": "0"}, "query.limit", "between 1 and 50"),
    ({"q": "reg", "limit": "51"}, "query.limit", "between 1 and 50"),
    ({"q": "reg", "limit": "ten"}, "query.limit", "not an integer"),
])
def test_bad_suggestion_queries_get_a_clear_422(client, params, field, words):
    """Check that a bad query is refused with 422 naming the parameter and what is allowed."""
    answer = client.get("/terminology/drugs", params=params)
    assert answer.status_code == 422
    (problem,) = answer.json()["problems"]
    assert problem["field"] == field and words in problem["message"]
    assert len(problem["message"]) < 200  # an excerpt, never the whole value


# --- drug readings --------------------------------------------------------------------------


def test_a_brand_of_a_dopamine_blocker_can_cause_the_movement_and_gets_the_start_question(client):
    """Check that Reglan is read as metoclopramide, a dopamine-blocking drug, with the knowledge
    base's question about its start and the reason."""
    body = client.get("/terminology/drugs/resolve", params={"name": "Reglan"}).json()
    assert body["ingredients"] == ["metoclopramide"] and body["how"] == "brand"
    assert body["display"] == "Reglan (metoclopramide)"
    assert body["can_cause_movement"] is True
    assert [c["id"] for c in body["classes"]] == ["dopamine-blocking"]
    kb = client.app.state.engine.kb
    (asked,) = [r.row for r in kb.questions if r.row.id == "ask.drug-start"]
    assert body["question"] == asked.question.replace("{undated_drugs}", "Reglan (metoclopramide)")
    assert body["why"] == asked.why


def test_every_member_of_a_drug_class_gets_the_prompt(client):
    """Check that each knowledge-base drug class member (a sample per class) is flagged with its class."""
    kb = client.app.state.engine.kb
    for cls in kb.drug_classes.values():
        member = sorted(cls.members)[0]
        body = client.get("/terminology/drugs/resolve", params={"name": member}).json()
        assert body["can_cause_movement"] is True, member
        assert cls.id in {c["id"] for c in body["classes"]}, member


@pytest.mark.parametrize("name, ingredients", [("paracetamol", None), ("no such drug at all", [])])
def test_drugs_outside_the_classes_get_no_prompt(client, name, ingredients):
    """Check that a drug of no class, and an unknown name, are not flagged (and an unknown one has no ingredient)."""
    body = client.get("/terminology/drugs/resolve", params={"name": name}).json()
    assert body["can_cause_movement"] is False and body["classes"] == [] and body["question"] is None
    if ingredients is not None:
        assert body["ingredients"] == ingredients and body["how"] == "unresolved" and body["note"]


@pytest.mark.parametrize("params, field", [
    ({}, "query.name"),
    ({"name": "x" * 201}, "query.name"),
    ({"rxnorm": "31a666"}, "query.rxnorm"),
    ({"name": "Reglan", "rxnorm": "12345678901"}, "query.rxnorm"),
])
def test_bad_drug_queries_get_a_clear_422(client, params, field):
    """Check that a missing, overlong or malformed drug query is refused naming the parameter."""
    answer = client.get("/terminology/drugs/resolve", params=params)
    assert answer.status_code == 422
    assert answer.json()["problems"][0]["field"] == field


# --- laboratory units and limits ------------------------------------------------------------


@pytest.fixture(scope="module")
def catalogue(client):
    answer = client.get("/terminology/labs")
    assert answer.status_code == 200
    return {a["id"]: a for a in answer.json()["analytes"]}


def test_the_catalogue_offers_every_test_the_rules_read(client, catalogue):
    """Check that the analytes the rules read are flagged, and that each is offered under the
    knowledge base's LOINC code with its canonical unit first."""
    kb = client.app.state.engine.kb
    assert {k for k, a in catalogue.items() if a["rules_read"]} == set(kb.labs)
    for test in kb.labs.values():
        analyte = catalogue[test.id]
        assert test.loinc in analyte["loinc_codes"]
        assert analyte["units"][0]["unit"] == analyte["unit"] and analyte["units"][0]["factor"] == 1


def test_calcium_is_offered_in_mg_per_dl_and_mmol_per_l(catalogue):
    """Check calcium's units: mg/dL canonical, mmol/L through its molar mass (40.078 g/mol)."""
    calcium = catalogue["calcium"]
    assert calcium["loinc"] == "17861-6" and {"2000-8", "49765-1"} <= set(calcium["loinc_codes"])
    units = {u["unit"]: u for u in calcium["units"]}
    assert units["mmol/L"]["factor"] == pytest.approx(4.0078)
    assert units["mmol/L"]["low"] * units["mmol/L"]["factor"] == pytest.approx(units["mg/dL"]["low"])
    assert units["meq/L"]["label"] == "mEq/L"


def test_the_served_limits_are_the_limits_the_server_checks(client, catalogue):
    """Check, for every analyte and unit served, that a value just inside the served limits is
    accepted by the server's check and one just outside is refused: the page and the server
    hold a case for the same values."""
    for analyte in catalogue.values():
        for unit in analyte["units"]:
            for value, accepted in ((unit["low"] * 1.01 or 0, True), ((unit["low"] + unit["high"]) / 2, True),
                                    (unit["high"] * 0.99, True), (unit["high"] * 1.05, False)):
                params = {"loinc": analyte["loinc"], "value": repr(value), "unit": unit["unit"]}
                body = client.get("/terminology/labs/check", params=params).json()
                assert body["accepted"] is accepted, (analyte["id"], unit["unit"], value, body)


def test_the_check_names_the_value_the_unit_the_range_and_the_likely_unit(client):
    """Check that calcium 2.35 mg/dL is refused with the plausible range and the likely intended unit."""
    body = client.get("/terminology/labs/check", params={"loinc": "17861-6", "value": "2.35", "unit": "mg/dL"}).json()
    assert body["accepted"] is False
    message = body["problems"][0]["message"]
    for words in ("2.35 mg/dL", "calcium", "plausible: 3 to 25 mg/dL", "2.35 mmol/L is 9.4 mg/dL"):
        assert words in message
    ok = client.get("/terminology/labs/check", params={"loinc": "2000-8", "value": "2.35", "unit": "mmol/L"}).json()
    assert ok["accepted"] is True and ok["analyte"] == "calcium" and ok["value"] == pytest.approx(9.418, abs=0.01)


@pytest.mark.parametrize("value", ["nan", "inf", "-5"])
def test_impossible_numbers_are_refused_by_the_check(client, value):
    """Check that NaN, infinity and a negative calcium are refused, as the server refuses them in a case."""
    body = client.get("/terminology/labs/check", params={"loinc": "17861-6", "value": value, "unit": "mg/dL"}).json()
    assert body["accepted"] is False and body["problems"][0]["field"] == "value"


@pytest.mark.parametrize("params, field", [
    ({"value": "9.4", "unit": "mg/dL"}, "query.loinc"),
    ({"loinc": "17861-6", "unit": "mg/dL"}, "query.value"),
    ({"loinc": "17861-6", "value": "9,4", "unit": "mg/dL"}, "query.value"),
    ({"loinc": "17861-6", "value": "9.4"}, "query.unit"),
    ({"loinc": "17861-6", "value": "9.4", "unit": "u" * 81}, "query.unit"),
])
def test_bad_check_queries_get_a_clear_422(client, params, field):
    """Check that a check query missing a part, or with a value that is not a number, gets 422."""
    answer = client.get("/terminology/labs/check", params=params)
    assert answer.status_code == 422
    assert answer.json()["problems"][0]["field"] == field


def test_a_wrong_unit_or_code_is_a_refusal_naming_what_is_allowed(client):
    """Check that a unit of another kind and an unread LOINC code are refused by the check."""
    unit = client.get("/terminology/labs/check", params={"loinc": "17861-6", "value": "9.4", "unit": "U/L"}).json()
    assert (
        unit["accepted"] is False
        and unit["problems"][0]["field"] == "unit"
        and "mg/dL" in unit["problems"][0]["message"]
    )
    code = client.get("/terminology/labs/check", params={"loinc": "12345-6", "value": "9.4", "unit": "mg/dL"}).json()
    assert code["accepted"] is False and code["problems"][0]["field"] == "loinc"


# --- the page's report and its script ---------------------------------------------------------


def test_the_page_report_carries_not_read_and_the_lab_series(client):
    """Check that POST /report answers not_read (a brand name read as its ingredient) and the labs."""
    case = {"age": 19, "course": "acute", "regions": ["neck"], "findings": ["HP:0000473"],
            "medications": [{"name": "Reglan"}],
            "labs": [{"loinc": "17861-6", "value": 9.4, "unit": "mg/dL", "days_ago": 400},
                     {"loinc": "2000-8", "value": 1.9, "unit": "mmol/L", "days_ago": 0}]}
    body = client.post("/report?differential=false", json=case).json()
    not_read = body["assessment"]["not_read"]
    assert any(n["path"] == "case.medications[0].name" and "metoclopramide" in n["reason"] for n in not_read)
    (calcium,) = [lab for lab in body["assessment"]["labs"] if lab["test"] == "calcium"]
    assert len(calcium["series"]) == 2 and calcium["latest"].startswith("7.6")


def test_the_page_script_holds_no_clinical_data_and_the_page_no_inline_script():
    """Check that drug names, units and limits come from the server, not from the page's files,
    and that the page loads its script from a file (CSP without 'unsafe-inline')."""
    script = (STATIC / "app.js").read_text(encoding="utf-8")
    for word in ("metoclopramide", "haloperidol", "Reglan", "mmol/L", "mg/dL", "4.008", "17861-6"):
        assert word not in script, word
    page = (STATIC / "index.html").read_text(encoding="utf-8")
    assert re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", page) == []
    assert re.findall(r"\son[a-z]+\s*=", page) == []
    assert "style=" not in page


def test_the_routes_and_their_parameters_are_documented(client):
    """Check that the OpenAPI document lists the /terminology routes with their query parameters."""
    paths = client.get("/openapi.json").json()["paths"]
    expected = {"/terminology/drugs": {"q", "limit"}, "/terminology/drugs/resolve": {"name", "rxnorm"},
                "/terminology/labs": set(), "/terminology/labs/check": {"loinc", "value", "unit", "comparator"}}
    for path, names in expected.items():
        assert {p["name"] for p in paths[path]["get"].get("parameters", [])} == names, path
