"""Exports: a GA4GH phenopacket v2 and a FHIR R4 Bundle, each validated by its own library,
with the onset, each visit's phenotype, scales, injections and stimulation."""

from __future__ import annotations

import json

import pytest
from google.protobuf.json_format import ParseDict

from contraxis.io.detect import read_input
from contraxis.registry.records import Actor
from contraxis.registry.store import Registry
from contraxis.registry.transfer import import_documents

from .conftest import case_with
from .test_treatments import DYSPORT, TSUI


@pytest.fixture
def followed(sqlite_url, kb, cervical):
    registry = Registry.init(sqlite_url, kb=kb)
    first = registry.add_visit("P-7", cervical, date="2023-01-10")
    second = registry.add_visit("P-7", case_with(cervical, regions=["neck", "right-arm"], add=("HP:0001300",),
                                                 age=53), date="2024-01-10")
    registry.add_scale("P-7", first.id, "tsui", TSUI)
    registry.add_injection("P-7", first.id, DYSPORT)
    implant = registry.add_implant("P-7", surgery_date="2023-06-01", device="Percept PC", target="GPi",
                                   side="bilateral")
    registry.add_stimulation("P-7", second.id, implant_id=implant.id, side="left", contacts="1-, C+", amplitude=3.0,
                             amplitude_unit="mA", pulse_width_us=90, frequency_hz=130)
    return registry


def test_phenopacket_is_valid_v2_with_onset_and_visits(followed) -> None:
    """Check that the phenopacket parses as a v2 Phenopacket message, carries the onset, the
    first visit each finding was seen at, the scale scores, and reads back as a case."""
    from phenopackets import Phenopacket

    data = followed.export("P-7", "phenopacket")
    ParseDict(data, Phenopacket())  # raises on anything outside the schema
    assert data["metaData"]["phenopacketSchemaVersion"] == "2.0"
    assert data["diseases"][0]["onset"] == {"age": {"iso8601duration": "P47Y"}}
    features = {f["type"]["id"]: f for f in data["phenotypicFeatures"]}
    assert features["HP:0000473"]["onset"] == {"age": {"iso8601duration": "P52Y"}}
    assert features["HP:0001300"]["onset"] == {"age": {"iso8601duration": "P53Y"}}  # first seen at the second visit
    assert "2024-01-10" in features["HP:0001300"]["description"]
    assert features["HP:0001337"]["excluded"] is True
    assert [m["value"]["quantity"]["value"] for m in data["measurements"]] == [9.0]
    reading = read_input(data, source="export")
    assert reading.format == "phenopacket" and "HP:0001300" in reading.case.findings
    assert reading.case.onset_age == 47


def test_phenopacket_medical_actions_carry_toxin_and_stimulation(followed) -> None:
    """Check that each toxin treatment is a treatment (agent, route, a dose per muscle in the
    product's own unit, the diagnosis as target) and each stimulation system a procedure, and
    that the whole still parses as a v2 Phenopacket."""
    from phenopackets import Phenopacket

    data = followed.export("P-7", "phenopacket")
    message = ParseDict(data, Phenopacket())
    assert len(message.medical_actions) == 2
    treatment, surgery = data["medicalActions"]
    toxin = treatment["treatment"]
    # MeSH D019274 (Botulinum Toxins, Type A): ADReCS BADD_D00290 (source adrecs-botulinum-toxin-a)
    assert toxin["agent"] == {"id": "MESH:D019274", "label": "Botulinum Toxins, Type A"}
    # NCIt C28161: source ncit-intramuscular-route
    assert toxin["routeOfAdministration"]["id"] == "NCIT:C28161"
    doses = [(d["quantity"]["unit"]["id"], d["quantity"]["value"]) for d in toxin["doseIntervals"]]
    assert doses == [("UCUM:{abobotulinumtoxinA_U}", 150.0), ("UCUM:{abobotulinumtoxinA_U}", 250.0)]
    assert toxin["doseIntervals"][0]["interval"] == {"start": "2023-01-10T00:00:00Z", "end": "2023-01-10T00:00:00Z"}
    assert toxin["cumulativeDose"]["value"] == 400.0
    assert treatment["treatmentTarget"] == data["diseases"][0]["term"]  # the newest diagnosis
    # MAXO:0000943 deep brain stimulation, MAxO release 2024-07-29 (source maxo-2024)
    assert surgery["procedure"] == {"code": {"id": "MAXO:0000943", "label": "deep brain stimulation"},
                                    "performed": {"timestamp": "2023-06-01T00:00:00Z"}}
    prefixes = {r["namespacePrefix"] for r in data["metaData"]["resources"]}
    assert {"MAXO", "MESH", "NCIT", "HP", "ICD10CM"} <= prefixes


def test_each_product_keeps_its_own_unit_and_agent(sqlite_url, kb, cervical) -> None:
    """Check that two products at one visit stay two treatments, each dose in its own
    product's unit (never one sum), and that rimabotulinumtoxinB is named by its ATC class."""
    from phenopackets import Phenopacket

    registry = Registry.init(sqlite_url, kb=kb)
    visit = registry.add_visit("P-8", cervical, date="2024-03-01")
    registry.add_injection("P-8", visit.id, {"product": "Botox", "indication": "cervical-dystonia",
                                              "muscles": [{"muscle": "trapezius", "side": "left", "units": 50}]})
    registry.add_injection("P-8", visit.id, {"product": "Myobloc", "indication": "cervical-dystonia",
                                              "muscles": [{"muscle": "trapezius", "side": "right", "units": 2500}]})
    data = registry.export("P-8", "phenopacket")
    ParseDict(data, Phenopacket())
    treatments = [a["treatment"] for a in data["medicalActions"]]
    got = [(t["agent"]["id"], t["cumulativeDose"]["unit"]["id"], t["cumulativeDose"]["value"]) for t in treatments]
    assert got == [
        ("MESH:D019274", "UCUM:{onabotulinumtoxinA_U}", 50.0),
        ("ATC:M03AX01", "UCUM:{rimabotulinumtoxinB_U}", 2500.0),
    ]
    assert not any(a.get("procedure") for a in data["medicalActions"])


def test_a_patient_without_treatments_has_no_medical_actions(sqlite_url, kb, cervical) -> None:
    """Check that no empty medicalActions list is written."""
    registry = Registry.init(sqlite_url, kb=kb)
    registry.add_visit("P-9", cervical, date="2024-03-01")
    data = registry.export("P-9", "phenopacket")
    assert "medicalActions" not in data
    assert not {"MAXO", "MESH", "NCIT", "ATC"} & {r["namespacePrefix"] for r in data["metaData"]["resources"]}


def test_fhir_bundle_validates_with_each_visit_an_encounter(followed) -> None:
    """Check that the Bundle validates with fhir.resources and that each visit is an Encounter
    with its Condition, Observations and Procedures referring to it."""
    from fhir.resources.R4B.bundle import Bundle

    data = followed.export("P-7", "fhir")
    Bundle.model_validate(data)
    resources = [e["resource"] for e in data["entry"]]
    encounters = [r for r in resources if r["resourceType"] == "Encounter"]
    assert [e["period"]["start"] for e in encounters] == ["2023-01-10", "2024-01-10"]
    for encounter in encounters:
        linked = [r for r in resources if r.get("encounter", {}).get("reference") == f"Encounter/{encounter['id']}"]
        kinds = {r["resourceType"] for r in linked}
        assert {"Condition", "Observation"} <= kinds
    first = encounters[0]["id"]
    linked = [r for r in resources if r.get("encounter", {}).get("reference") == f"Encounter/{first}"]
    assert any(r["resourceType"] == "Procedure" and "abobotulinumtoxinA" in r["code"]["text"] for r in linked)
    assert any(r["resourceType"] == "QuestionnaireResponse" for r in resources)
    condition = next(r for r in linked if r["resourceType"] == "Condition")
    assert condition["code"]["coding"][0] == {"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": "G24.3",
                                              "display": "Spasmodic torticollis"}
    assert condition["onsetAge"]["value"] == 47
    settings = next(r for r in resources
                    if r["resourceType"] == "Observation" and "stimulation" in r["code"].get("text", ""))
    assert settings["component"][0]["valueQuantity"] == {"value": 3.0, "unit": "mA",
                                                         "system": "http://unitsofmeasure.org", "code": "mA"}
    assert any(r["resourceType"] == "Procedure" and r.get("performedDateTime") == "2023-06-01" for r in resources)


def test_the_registry_json_round_trips(followed, tmp_path, kb) -> None:
    """Check that a patient exported as the registry's JSON imports into another registry
    with the same visits, scales, injections, implants and settings."""
    data = followed.export("P-7", "json", identified=True)
    other = Registry.init(f"sqlite:///{tmp_path / 'other.sqlite'}", kb=kb)
    summary = import_documents(other, [("export", data)])
    assert summary.to_json()["visits"] == 2 and summary.scales == 1 and summary.injections == 1
    assert summary.implants == 1 and summary.stimulation == 1
    before, after = followed.record("P-7"), other.record("P-7")
    assert [v.case for v in before.visits] == [v.case for v in after.visits]
    assert [v.scales[0].total for v in after.visits if v.scales] == [9.0]
    assert after.implants[0].target == "GPi"
    assert json.dumps(after.visits[1].stimulation[0].to_json()["amplitude"]) == "3.0"


def test_import_of_visit_lines(sqlite_url, kb, cervical, tmp_path) -> None:
    """Check that JSON Lines of visits import, and a bad line is refused naming its line."""
    from contraxis.errors import CaseError
    from contraxis.registry.transfer import iter_documents

    lines = tmp_path / "visits.jsonl"
    rows = [{"patient": "P-1", "date": f"202{i}-01-01", "input": case_with(cervical)} for i in range(3)]
    rows.append({"patient": "P-2", "date": "2022-01-01", "input": cervical, "scales": {"tsui": TSUI}})
    lines.write_text("".join(json.dumps(r) + "\n" for r in rows))
    registry = Registry.init(sqlite_url, kb=kb)
    summary = import_documents(registry, iter_documents(lines))
    assert (summary.visits, summary.scales, len(summary.patients)) == (4, 1, 2)
    lines.write_text(json.dumps({"patient": "P-3", "date": "2022-01-01", "input": {"course": "chronic"}}) + "\n"
                     + json.dumps({"patient": "P-3", "date": "2022-01-01", "input": {}}) + "\n")
    with pytest.raises(CaseError) as error:
        import_documents(registry, iter_documents(lines))
    assert error.value.source.endswith("visits.jsonl:1") and error.value.problems[0].where == "case.course"
    assert registry.as_actor(Actor("x", "clinician")).has_patient("P-3") is False
