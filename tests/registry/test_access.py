"""Roles and audit: a clinician sees and edits, a researcher gets pseudonymous exports and the
cohort overview only, an admin reads the audit; every read and write leaves an audit row."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from contraxis.registry.errors import AccessDenied
from contraxis.registry.records import Actor, IdentityData
from contraxis.registry.store import Registry

NAME, MRN = "Ada Example-Lovelace", "MRN-0042-99"


@pytest.fixture
def clinic(db_url, kb, cervical):
    registry = Registry.init(db_url, kb=kb, actor=Actor("dr.who", "clinician"))
    registry.add_patient("P-1", identity=IdentityData(NAME, dt.date(1971, 5, 4), MRN, "urn:oid:1.2.3"))
    registry.add_visit("P-1", cervical, date="2024-01-10")
    yield registry
    registry.close()


@pytest.mark.parametrize("call", [
    lambda r: r.visits("P-1"),
    lambda r: r.record("P-1"),
    lambda r: r.identity("P-1"),
    lambda r: r.course("P-1"),
    lambda r: r.patients(),
    lambda r: r.reassess("P-1"),
    lambda r: r.add_visit("P-1", {"age": 50}, date="2024-02-01"),
    lambda r: r.add_patient("P-2"),
    lambda r: r.export("P-1", "fhir", identified=True),
    lambda r: r.audit_entries(),
])
def test_a_researcher_gets_no_record_and_no_names(clinic, call) -> None:
    """Check that a researcher is refused every read of a record, every write, identified
    exports and the audit."""
    researcher = clinic.as_actor(Actor("analyst", "researcher"))
    with pytest.raises(AccessDenied, match="acts as researcher; this needs"):
        call(researcher)


@pytest.mark.parametrize("fmt", ["phenopacket", "fhir", "json"])
def test_a_researcher_exports_pseudonymous_records(clinic, fmt) -> None:
    """Check that a researcher's export names the pseudonymous id and never the identity."""
    researcher = clinic.as_actor(Actor("analyst", "researcher"))
    text = json.dumps(researcher.export("P-1", fmt))
    assert "P-1" in text
    for secret in (NAME, MRN, "1971-05-04"):
        assert secret not in text
    identified = json.dumps(clinic.export("P-1", fmt, identified=True))
    assert MRN in identified and "1971-05-04" in identified


def test_an_admin_reads_the_audit_and_nothing_else(clinic) -> None:
    """Check that an admin reads the audit, not the record."""
    admin = clinic.as_actor(Actor("root", "admin"))
    assert admin.audit_entries()
    with pytest.raises(AccessDenied):
        admin.visits("P-1")


def test_every_read_and_write_is_audited(clinic, cervical) -> None:
    """Check that each read and write leaves one row naming who, in which role, what and which patient."""
    before = len(clinic.as_actor(Actor("root", "admin")).audit_entries(limit=1000))
    researcher = clinic.as_actor(Actor("analyst", "researcher"))
    clinic.visits("P-1")
    clinic.identity("P-1")
    clinic.add_visit("P-1", cervical, date="2024-03-01")
    researcher.export("P-1", "phenopacket")
    researcher.cohort()
    rows = clinic.as_actor(Actor("root", "admin")).audit_entries(limit=1000)[before:]
    assert [(r["actor"], r["role"], r["action"], r["patient"]) for r in rows] == [
        ("dr.who", "clinician", "read", "P-1"), ("dr.who", "clinician", "read", "P-1"),
        ("dr.who", "clinician", "create", "P-1"), ("analyst", "researcher", "export", "P-1"),
        ("analyst", "researcher", "read", None)]
    assert rows[1]["what"] == "identity" and rows[3]["what"] == "export phenopacket"
    assert all(NAME not in json.dumps(r) for r in rows)


def test_a_refused_request_writes_nothing(clinic) -> None:
    """Check that a refused write leaves no visit."""
    researcher = clinic.as_actor(Actor("analyst", "researcher"))
    with pytest.raises(AccessDenied):
        researcher.add_visit("P-9", {"age": 50}, date="2024-02-01")
    assert not clinic.has_patient("P-9")
