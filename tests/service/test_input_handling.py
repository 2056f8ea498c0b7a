"""Strict, kind input handling over HTTP: the body must say what it is (else 415), gzip is read
within the route's limit, duplicate keys, booleans as numbers and control characters in
identifiers are refused, and every error message is short, names the field, and carries no
Python internals."""

from __future__ import annotations

import gzip
import json
import re
import warnings

import pytest

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

PYTHON_INTERNALS = re.compile(
    r"datetime\.|Decimal\(|\bb'|<class|object at 0x|Traceback|_TooLarge|\binstance of\b|Error:|Exception|"
    r"\b(Tuple|List|Dict|NoneType|JSONDecodeError|YAMLError|ScannerError)\b"
)
CASE = {"age": 40, "sex": "female", "onset_age": 38, "course": "static", "regions": ["neck"]}


def check_short(answer) -> list[dict[str, str]]:
    """The answer's problems, each checked: short, and without Python internals."""
    assert len(answer.content) < 5000, answer.content[:300]
    data = answer.json()
    assert data["error"] in ("RequestError", "CaseError", "ContradictionError"), data
    for problem in data["problems"]:
        assert len(problem["message"]) <= 300 and len(problem["field"]) <= 100, problem
        assert not PYTHON_INTERNALS.search(problem["message"]), problem
    return data["problems"]


@pytest.mark.parametrize(
    "headers, words",
    [
        ({}, "is required"),
        ({"content-type": "text/plain"}, "'text/plain' is not accepted"),
        ({"content-type": "application/xml"}, "is not accepted"),
        ({"content-type": "application/json; charset=latin-1"}, "charset 'latin-1' is not accepted"),
        ({"content-type": "application/json", "content-encoding": "br"}, "'br' is not accepted"),
        ({"content-type": "application/json", "content-encoding": "gzip, gzip"}, "is not accepted"),
    ],
    ids=["missing", "text", "xml", "charset", "brotli", "double-gzip"],
)
def test_a_body_that_does_not_say_what_it_is_gets_415(client, headers, words):
    """Check that a missing or unsupported Content-Type or Content-Encoding gets 415, naming it."""
    answer = client.post("/assess", content=json.dumps(CASE).encode(), headers=headers)
    assert answer.status_code == 415
    assert any(words in p["message"] for p in check_short(answer)), answer.json()


def test_yaml_is_refused_where_only_json_is_read(client):
    """Check that a FHIR route refuses a YAML body with 415."""
    answer = client.post("/fhir/assess", content=b"resourceType: Bundle\n",
                         headers={"content-type": "application/yaml"})
    assert answer.status_code == 415 and "application/fhir+json" in check_short(answer)[0]["message"]


def test_a_gzip_body_is_read(client):
    """Check that a gzipped JSON case is read as the same case uncompressed."""
    plain = client.post("/assess", json=CASE).json()
    zipped = client.post("/assess", content=gzip.compress(json.dumps(CASE).encode()),
                         headers={"content-type": "application/json", "content-encoding": "gzip"})
    assert zipped.status_code == 200 and zipped.json()["summary"] == plain["summary"]


@pytest.mark.parametrize(
    "body, status, words",
    [
        (gzip.compress(b'{"id": "' + b"x" * (3 * 1024 * 1024) + b'"}'), 413, "decompresses to more than"),
        (b"\x1f\x8b\x08\x00not gzip at all", 400, "is not valid gzip"),
        (gzip.compress(json.dumps(CASE).encode())[:-12], 400, "truncated"),
    ],
    ids=["bomb", "corrupt", "truncated"],
)
def test_a_bad_gzip_body_is_refused(client, body, status, words):
    """Check that a gzip bomb is refused once past the route's limit, and broken gzip with 400."""
    answer = client.post("/assess", content=body, headers={"content-type": "application/json",
                                                           "content-encoding": "gzip"})
    assert answer.status_code == status and words in check_short(answer)[0]["message"]


@pytest.mark.parametrize(
    "body, content_type",
    [
        (b'{"age": 40, "sex": "female", "age": 4}', "application/json"),
        (b"age: 40\nsex: female\nage: 4\n", "application/yaml"),
        (b'{"case": {"age": 40}, "case": {"age": 4}}', "application/json"),
    ],
    ids=["json", "yaml", "json-block"],
)
def test_duplicate_keys_are_refused_naming_the_key(client, body, content_type):
    """Check that the last of two equal keys does not silently win."""
    answer = client.post("/assess", content=body, headers={"content-type": content_type})
    assert answer.status_code == 400
    assert "is given twice" in check_short(answer)[0]["message"]


def test_duplicate_keys_are_refused_in_a_cds_call(client):
    """Check a CDS Hooks request with a key given twice."""
    answer = client.post("/cds-services/contraxis-patient-view",
                         content=b'{"hook": "order-select", "hook": "patient-view"}',
                         headers={"content-type": "application/json"})
    assert answer.status_code == 400 and "'hook' is given twice" in check_short(answer)[0]["message"]


@pytest.mark.parametrize(
    "case, field, words",
    [
        ({"age": True}, "case.age", "true is not an age"),
        ({"onset_age": False, "age": 30}, "case.onset_age", "false is not an age"),
        ({"family_history": 1}, "case.family_history", "1 is not true or false"),
        ({"id": "P\u00001"}, "case.id", "control characters"),
        ({"genetics": {"tested": ["TOR1A\u0000"]}}, "case.genetics.tested", "TOR1A\\x00"),
        ({"medications": [{"name": "haloperidol", "days_since_start": True}]},
         "case.medications[0].days_since_start", "not a number of days"),
    ],
    ids=["age", "onset", "yes-no", "nul-id", "nul-gene", "days"],
)
def test_bad_values_are_refused_naming_field_and_value(client, case, field, words):
    """Check booleans as numbers, numbers as booleans and control characters in identifiers."""
    answer = client.post("/assess", json=case)
    assert answer.status_code == 422
    problems = check_short(answer)
    assert any(p["field"] == field and words in p["message"] for p in problems), problems


@pytest.mark.parametrize(
    "path, body, content_type",
    [
        ("/assess", json.dumps({"id": "x" * 140_000}).encode(), "application/json"),
        ("/assess", json.dumps({"course": "c" * 140_000}).encode(), "application/json"),
        ("/assess", json.dumps({"findings": ["HP:0001332"] * 10_000}).encode(), "application/json"),
        ("/assess", json.dumps({"labs": [5] * 10_000}).encode(), "application/json"),
        ("/assess", json.dumps({"x" * 10_000: 1}).encode(), "application/json"),
        ("/assess", b"age: 2024-01-02 10:00:00\n", "application/yaml"),
        ("/assess", b"id: 2024-01-02\n", "application/yaml"),
        ("/assess", b"age: !!binary aGVsbG8=\n", "application/yaml"),
        ("/assess", b"age: !!python/object:os.system {}\n", "application/yaml"),
        ("/assess", b"age: [\n", "application/yaml"),
        ("/assess", b"{" + b'"a": 1, ' * 20 + b"}", "application/json"),
        ("/assess", b'{"age": 1' + b"0" * 5000 + b"}", "application/json"),
        ("/differential", json.dumps({"findings": "HP:0001332"}).encode(), "application/json"),
        ("/fhir/assess", json.dumps({"resourceType": "Bundle", "entry": "x" * 140_000}).encode(),
         "application/fhir+json"),
        ("/report/html", json.dumps({"age": "x" * 140_000}).encode(), "application/json"),
    ],
)
def test_error_messages_are_short_without_python_internals(client, path, body, content_type):
    """Check that bad input of every kind gets a 4xx whose messages are short, show at most an
    excerpt of the value and name no Python type, class or repr."""
    answer = client.post(path, content=body, headers={"content-type": content_type})
    assert 400 <= answer.status_code < 500, answer.text[:300]
    check_short(answer)


def test_query_errors_show_an_excerpt(client):
    """Check that a bad query parameter is shown briefly."""
    answer = client.post(f"/differential?top={'9' * 5000}", json=CASE)
    assert answer.status_code == 422
    check_short(answer)


def test_a_body_over_the_limit_is_named_as_a_request_error(client):
    """Check that a streamed body past the limit answers 413 as a RequestError, not a private name."""

    def chunks():
        for _ in range(40):
            yield b" " * 65536

    answer = client.post("/assess", content=chunks(), headers={"content-type": "application/json"})
    assert answer.status_code == 413 and answer.json()["error"] == "RequestError"


def test_an_unexpected_error_names_no_class():
    """Check that the 500 answer of a bug does not name the exception's class."""
    from fastapi import FastAPI

    from contraxis.service.errors import install_error_handlers

    app = FastAPI()
    install_error_handlers(app)

    @app.get("/boom")
    async def boom() -> None:
        raise ZeroDivisionError("secret detail")

    with TestClient(app, raise_server_exceptions=False) as test_client:
        answer = test_client.get("/boom")
    assert answer.status_code == 500
    assert "ZeroDivisionError" not in answer.text and "secret" not in answer.text
