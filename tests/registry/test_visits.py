"""Visits: any input the assessment accepts, stored as read and assessed; re-assessment with
a newer knowledge base shows what changed."""

from __future__ import annotations

import datetime as dt
import json
import shutil

import pytest
import yaml
from sqlalchemy import text

from contraxis.errors import CaseError
from contraxis.knowledge import DATA_DIR, load_knowledge_base
from contraxis.registry.errors import NotFound, RegistryError
from contraxis.registry.store import Registry

from .conftest import case_with

FHIR = {"resourceType": "Bundle", "type": "collection", "entry": [
    {"resource": {"resourceType": "Patient", "id": "p1", "gender": "female", "birthDate": "1970-03-01",
                  "name": [{"text": "Jane Example"}]}},
    {"resource": {"resourceType": "Observation", "id": "o1", "status": "final", "subject": {"reference": "Patient/p1"},
                  "code": {"coding": [{"system": "http://human-phenotype-ontology.org", "code": "HP:0000473",
                                       "display": "Torticollis"}]}, "valueBoolean": True}},
]}
PHENOPACKET = {
    "id": "pp1", "subject": {"id": "s1", "sex": "MALE", "dateOfBirth": "1990-01-01T00:00:00Z"},
    "phenotypicFeatures": [{"type": {"id": "HP:0000473", "label": "Torticollis"}}],
    "metaData": {"created": "2024-01-01T00:00:00Z", "createdBy": "test", "phenopacketSchemaVersion": "2.0",
                 "resources": [{"id": "hp", "name": "human phenotype ontology", "namespacePrefix": "HP",
                                "url": "http://purl.obolibrary.org/obo/hp.owl", "version": "2024-04-26",
                                "iriPrefix": "http://purl.obolibrary.org/obo/HP_"}]},
}


@pytest.fixture
def registry(db_url, kb):
    registry = Registry.init(db_url, kb=kb)
    yield registry
    registry.close()


def test_a_native_visit_is_stored_as_read_with_its_assessment(registry, cervical) -> None:
    """Check that a visit keeps the case as read, its SHA-256, and the assessment with the
    knowledge-base version and HPO release; the input's own id is not kept."""
    visit = registry.add_visit("P-0001", cervical, date=dt.date(2024, 3, 1))
    assert (visit.number, visit.input_format, visit.intact) == (1, "native", True)
    assert visit.case == case_with(cervical)  # everything but the id
    assert visit.not_read[0]["path"] == "case.id"
    assert visit.knowledge_base_version == registry.kb.version == visit.assessment["knowledge_base_version"]
    assert visit.hpo_release == registry.kb.hpo_release
    assert visit.summary["focal_type"] == "cervical"
    again = registry.visits("P-0001")
    assert again[0].to_json() == visit.to_json()


@pytest.mark.parametrize("data, fmt, check", [
    (FHIR, "fhir", lambda case: case["age"] == 54 and case["sex"] == "female" and "HP:0000473" in case["findings"]),
    (PHENOPACKET, "phenopacket", lambda case: int(case["age"]) == 34 and case["sex"] == "male"),
    ({"id": "v1", "case": {"age": 40, "regions": ["neck"], "findings": ["HP:0000473"]}}, "vignette",
     lambda case: case["regions"] == ["neck"]),
    (yaml.safe_dump({"age": 40, "findings": ["HP:0000473"]}).encode(), "native", lambda case: case["age"] == 40),
])
def test_any_input_the_assessment_accepts(sqlite_url, kb, data, fmt, check) -> None:
    """Check that FHIR, phenopackets, vignettes and raw YAML are read as of the visit's date."""
    registry = Registry.init(sqlite_url, kb=kb)
    visit = registry.add_visit("P-2", data, date="2024-03-01")
    assert visit.input_format == fmt and check(visit.case)
    assert "Jane" not in json.dumps(visit.case)  # the FHIR Patient's name is not part of the case


def test_a_dated_result_is_kept_as_days_before_the_visit(sqlite_url, kb) -> None:
    """Check that a laboratory result's date is kept as days_ago counted to the visit's date,
    so that a re-assessment years later reads it as it was; one dated after the visit is refused."""
    registry = Registry.init(sqlite_url, kb=kb)
    case = {"age": 30, "findings": ["HP:0000473"], "labs": [
        {"loinc": "2000-8", "value": 9.2, "unit": "mg/dL", "date": "2024-02-20"}]}
    visit = registry.add_visit("P-3", case, date="2024-03-01")
    assert visit.case["labs"][0]["days_ago"] == 10 and "date" not in visit.case["labs"][0]
    with pytest.raises(RegistryError, match=r"case.labs\[0\].date: 2024-02-20 is after the visit's date 2024-01-01"):
        registry.add_visit("P-3", case, date="2024-01-01")


@pytest.mark.parametrize("patient, date, data, where", [
    ("Jane Doe", "2024-01-01", {"age": 3}, "patient"),
    ("P-1", "2024-13-01", {"age": 3}, "date"),
    ("P-1", (dt.date.today() + dt.timedelta(days=30)).isoformat(), {"age": 3}, "date"),
    ("P-1", "2024-01-01", {"age": 300}, "case.age"),
    ("P-1", "2024-01-01", {"course": "chronic"}, "case.course"),
])
def test_bad_visits_are_refused_naming_the_field(sqlite_url, kb, patient, date, data, where) -> None:
    """Check that a name as the patient id, a bad or future date and a bad case are refused,
    naming the field, and that nothing is written."""
    registry = Registry.init(sqlite_url, kb=kb)
    with pytest.raises(CaseError) as error:
        registry.add_visit(patient, data, date=date)
    assert error.value.problems[0].where == where
    with registry.engine.connect() as db:
        assert db.execute(text("SELECT count(*) FROM visits")).scalar() == 0


def test_unknown_patient_and_visit(registry, cervical) -> None:
    """Check that an unknown patient or visit is NotFound, naming it."""
    with pytest.raises(NotFound, match="'P-404' is not a patient"):
        registry.visits("P-404")
    registry.add_visit("P-1", cervical, date="2024-01-01")
    with pytest.raises(NotFound, match="999 is not a visit of 'P-1'"):
        registry.reassess("P-1", 999)


@pytest.fixture(scope="module")
def newer_kb(tmp_path_factory):
    """The bundled knowledge base with the neck no longer contiguous with the right arm, as version 2099.1.1."""
    folder = tmp_path_factory.mktemp("kb") / "data"
    shutil.copytree(DATA_DIR, folder)
    manifest = folder / "manifest.yaml"
    manifest.write_text(manifest.read_text().replace('version: "2026.11.3"', 'version: "2099.1.1"', 1))
    regions = yaml.safe_load((folder / "regions.yaml").read_text())
    regions["contiguous"]["neck"].remove("right-arm")
    regions["contiguous"]["right-arm"].remove("neck")
    (folder / "regions.yaml").write_text(yaml.safe_dump(regions, sort_keys=False))
    kb = load_knowledge_base(folder)
    assert kb.version == "2099.1.1"
    return kb


def test_reassessment_with_a_newer_knowledge_base_shows_what_changed(db_url, kb, newer_kb, cervical) -> None:
    """Check that an old visit assessed again with a newer knowledge base names both versions
    and each conclusion that changed; saving keeps the old assessment and adds the new."""
    old = Registry.init(db_url, kb=kb)
    first = old.add_visit("P-9", cervical, date="2023-01-01")
    second = old.add_visit("P-9", case_with(cervical, regions=["neck", "right-arm"]), date="2024-01-01")
    assert second.summary["distribution"] == "segmental"
    same = old.reassess("P-9")
    assert [r.change.changed for r in same] == [False, False]
    assert same[0].change.lines() == ["no conclusion changed"]
    newer = Registry(db_url, kb=newer_kb)
    results = {r.visit_id: r for r in newer.reassess("P-9", save=True)}
    assert results[first.id].change.changed is False
    change = results[second.id].change
    assert change.knowledge_base == ("2026.11.3", "2099.1.1")
    assert ("distribution", "segmental", "multifocal") in change.fields
    assert "distribution: segmental → multifocal" in change.lines()
    stored = newer.visits("P-9")[1]
    assert (stored.assessments, stored.knowledge_base_version, stored.summary["distribution"]) == (
        2, "2099.1.1", "multifocal")
    with newer.engine.connect() as db:
        versions = db.execute(text("SELECT knowledge_base_version FROM assessments ORDER BY id")).scalars().all()
    assert versions == ["2026.11.3", "2026.11.3", "2099.1.1", "2099.1.1"]


def test_damage_is_seen(sqlite_url, kb, cervical) -> None:
    """Check that a case changed behind the registry's back no longer matches its SHA-256."""
    registry = Registry.init(sqlite_url, kb=kb)
    registry.add_visit("P-1", cervical, date="2024-01-01")
    with registry.engine.begin() as db:
        db.execute(text("UPDATE visits SET case_json = replace(case_json, 'neck', 'jaw')"))
    assert registry.visits("P-1")[0].intact is False
