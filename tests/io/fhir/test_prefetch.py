"""CDS Hooks prefetches: resources gathered with their paths; keys not asked for ignored;
failed or paginated queries marked as possibly missing results."""

from __future__ import annotations

from contraxis.io.fhir.prefetch import gather_prefetch, template_type

ASKED = {"patient": "Patient/{{context.patientId}}", "conditions": "Condition?patient={{context.patientId}}",
         "observations": "Observation?patient={{context.patientId}}"}
PATIENT = {"resourceType": "Patient", "id": "p1"}


def searchset(*resources, **extra):
    return {"resourceType": "Bundle", "type": "searchset", "entry": [{"resource": r} for r in resources], **extra}


def test_resources_are_gathered_with_their_paths():
    """Check that a resource and a search Bundle's entries are gathered with their paths; null means no data."""
    condition = {"resourceType": "Condition", "id": "c1"}
    got = gather_prefetch({"patient": PATIENT, "conditions": searchset(condition), "observations": None}, asked=ASKED)
    assert [(r["resourceType"], path) for r, path, _ in got.entries] == [
        ("Patient", "prefetch.patient"), ("Condition", "prefetch.conditions.entry[0].resource")]
    assert (got.not_read, got.incomplete, got.missing) == ((), (), ())


def test_a_key_not_asked_for_is_ignored_and_reported():
    """Check that an extra key (a string, as in the specification's example) is ignored, not an error."""
    got = gather_prefetch({"patient": PATIENT, "user": "Practitioner/1"}, asked=ASKED)
    (note,) = got.not_read
    assert note.path == "prefetch.user" and note.reason.startswith("not a prefetch key this service asks for")
    assert got.missing == ("conditions", "observations") and got.incomplete == ()


def test_failed_and_paginated_queries_may_miss_results():
    """Check that an OperationOutcome, a next page, and fewer entries than the total mark a key incomplete."""
    outcome = {
        "resourceType": "OperationOutcome",
        "issue": [{"severity": "error", "code": "timeout", "diagnostics": "query timed out"}],
    }
    paged = searchset({"resourceType": "Condition", "id": "c1"}, link=[{"relation": "next", "url": "https://ehr/fhir?page=2"}])
    short = searchset({"resourceType": "Observation", "id": "o1", "status": "final", "code": {"text": "x"}}, total=40)
    got = gather_prefetch({"patient": outcome, "conditions": paged, "observations": short}, asked=ASKED)
    assert got.incomplete == ("patient", "conditions", "observations")
    reasons = {n.path: n.reason for n in got.not_read}
    assert reasons["prefetch.patient"].startswith("the EHR could not run this query (OperationOutcome)")
    assert "more pages" in reasons["prefetch.conditions.link"]
    assert reasons["prefetch.observations.total"] == "the search found 40 results but sent 1: results may be missing"
    assert any("query timed out" in n.value for n in got.not_read)


def test_template_type():
    """Check that a template's resource type is read from its path."""
    assert [template_type(t) for t in ASKED.values()] == ["Patient", "Condition", "Observation"]
