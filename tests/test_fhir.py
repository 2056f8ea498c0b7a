"""Reading FHIR R4 into a native case: each resource type, presence and absence, and what is left out."""

from __future__ import annotations

from datetime import date

import pytest

from contraxis import codes as code_tables
from contraxis.errors import CaseError, ContradictionError
from contraxis.io.fhir import read_bundle, read_resources

HPO = "http://human-phenotype-ontology.org"
SNOMED = "http://snomed.info/sct"
LOINC = "http://loinc.org"
ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"
DAY = date(2026, 3, 2)


@pytest.fixture(scope="module")
def read(kb):
    def run(*resources, **options):
        return read_resources(list(resources), reference_date=options.pop("reference_date", DAY), **options)

    return run


def patient(**extra):
    return {"resourceType": "Patient", "id": "p1", "gender": "female", "birthDate": "1970-06-15", **extra}


def observation(oid, system, code, **extra):
    return {
        "resourceType": "Observation",
        "id": oid,
        "status": "final",
        "code": {"coding": [{"system": system, "code": code}]},
        **extra,
    }


def condition(cid, system, code, **extra):
    return {"resourceType": "Condition", "id": cid, "subject": {"reference": "Patient/p1"},
            "code": {"coding": [{"system": system, "code": code}]}, **extra}


def test_patient_gives_sex_and_age(read):
    """Check that gender and birth date become sex and the age at the reference date."""
    case = read(patient()).case
    assert (case.sex, case.age, case.id) == ("female", 55.0, "p1")
    infant = read(patient(birthDate="2025-09-01")).case
    assert infant.age == 0.5


@pytest.mark.parametrize(
    "resource, findings, absent",
    [
        (condition("c", HPO, "HP:0000473"), ("HP:0000473",), ()),
        (condition("c", HPO, "0000643"), ("HP:0000643",), ()),
        (condition("c", SNOMED, "59026006"), ("HP:0000643",), ()),
        (condition("c", HPO, "HP:0000473", verificationStatus={"coding": [{"code": "refuted"}]}), (), ("HP:0000473",)),
        (observation("o", HPO, "HP:0010307", valueBoolean=False), (), ("HP:0010307",)),
        (observation("o", HPO, "HP:0010307", valueBoolean=True), ("HP:0010307",), ()),
        (observation("o", HPO, "HP:0010307", interpretation=[{"coding": [{"code": "NEG"}]}]), (), ("HP:0010307",)),
        (
            observation(
                "o", HPO, "HP:0010307", valueCodeableConcept={"coding": [{"system": SNOMED, "code": "373067005"}]}
            ),
            (),
            ("HP:0010307",),
        ),
        (observation("o", "urn:contraxis:finding", "sensory-trick"), ("CX:sensory-trick",), ()),
    ],
)
def test_findings_present_and_absent(read, resource, findings, absent):
    """Check that HPO, SNOMED CT (through HPO's cross-references) and local codes become findings, or absent ones."""
    case = read(patient(), resource).case
    assert (case.findings, case.absent) == (findings, absent)


def test_regions_onset_severity_and_course(read):
    """Check that bodySite gives regions, onset gives the onset age, and severity and course terms their fields."""
    reading = read(
        patient(),
        condition("c1", HPO, "HP:0000473", bodySite=[{"coding": [{"system": SNOMED, "code": "45048000"}]}],
                  onsetAge={"value": 53, "unit": "a"}, severity={"coding": [{"system": SNOMED, "code": "6736007"}]}),
        condition("c2", HPO, "HP:0031960", bodySite=[{"text": "Right arm"}], onsetDateTime="2025-06-20"),
        observation("o1", HPO, "HP:0003676"),
    )
    case = reading.case
    assert case.regions == ("neck", "right-arm")
    assert (case.onset_age, case.severity, case.course) == (53.0, "moderate", "progressive")


def reasons_by_resource(reading):
    """The not-read reasons of the reader itself, by resource label (``Observation/o3``)."""
    return {n.value.split(":")[0]: n.reason for n in reading.not_read if not n.path.endswith(")")}


def test_labs_are_given_as_written_and_read_in_the_knowledge_base_units(read):
    """Check that LOINC results are passed as written (the case reads them in the knowledge base's unit),
    and an unreadable unit or a test no rule reads is reported."""
    reading = read(
        patient(),
        observation("o1", LOINC, "17861-6", valueQuantity={"value": 1.75, "unit": "mmol/L"}),
        observation("o2", LOINC, "2951-2", valueQuantity={"value": 121, "unit": "mmol/L"}),
        observation("o3", LOINC, "2064-4", valueQuantity={"value": 3, "unit": "furlongs"}),
        observation("o4", LOINC, "2345-7", valueQuantity={"value": 90, "unit": "mg/dL"}),
    )
    labs = {lab.loinc: (lab.value, lab.unit, round(lab.reading.value, 3)) for lab in reading.case.labs}
    assert labs == {"17861-6": (1.75, "mmol/L", 7.014), "2951-2": (121.0, "mmol/L", 121.0)}
    reasons = reasons_by_resource(reading)
    assert "'furlongs' is not a unit Contraxis can read" in reasons["Observation/o3"]
    assert reasons["Observation/o4"] == "LOINC 2345-7 is not a test Contraxis reads"


def test_medications_count_days_from_their_start(read):
    """Check that MedicationRequest and MedicationStatement give generic names and days since start."""
    reading = read(
        patient(),
        {
            "resourceType": "MedicationRequest",
            "id": "m1",
            "status": "active",
            "intent": "order",
            "subject": {"reference": "Patient/p1"},
            "medicationCodeableConcept": {
                "coding": [{"system": "http://www.nlm.nih.gov/research/umls/rxnorm", "code": "5093"}]
            },
            "authoredOn": "2026-02-27T09:00:00Z",
        },
        {
            "resourceType": "MedicationStatement",
            "id": "m2",
            "status": "active",
            "subject": {"reference": "Patient/p1"},
            "medicationCodeableConcept": {"text": "Atorvastatin 40 mg oral tablet"},
            "effectivePeriod": {"start": "2025-03-02"},
        },
        {
            "resourceType": "MedicationStatement",
            "id": "m3",
            "status": "not-taken",
            "subject": {"reference": "Patient/p1"},
            "medicationCodeableConcept": {"text": "metoclopramide"},
        },
    )
    assert [(m.name, m.rxnorm, m.days_since_start) for m in reading.case.medications] == [
        (None, "5093", 3), ("Atorvastatin 40 mg oral tablet", None, 365)]
    assert [m.ingredients for m in reading.case.medications] == [("haloperidol",), ("atorvastatin",)]
    assert reasons_by_resource(reading) == {"MedicationStatement/m3": "status is 'not-taken': not taken, not read"}


def test_history_procedures_genetics_and_family(read):
    """Check past events (ICD-10-CM, SNOMED CT), brain MRI, DBS with its response, gene tests and family history."""
    reading = read(
        patient(),
        condition("h1", ICD10CM, "I63.9"),
        condition("h2", SNOMED, "235856003", clinicalStatus={"coding": [{"code": "resolved"}]}),
        {
            "resourceType": "Procedure",
            "id": "pr1",
            "status": "completed",
            "subject": {"reference": "Patient/p1"},
            "code": {"text": "MRI brain without contrast"},
            "outcome": {"text": "Abnormal: putaminal signal"},
        },
        {
            "resourceType": "Procedure",
            "id": "pr2",
            "status": "completed",
            "subject": {"reference": "Patient/p1"},
            "code": {"text": "Deep brain stimulation, GPi"},
            "outcome": {"text": "partial benefit"},
        },
        {
            "resourceType": "Procedure",
            "id": "pr3",
            "status": "completed",
            "subject": {"reference": "Patient/p1"},
            "code": {"coding": [{"system": SNOMED, "code": "13619001", "display": "Thyroidectomy"}]},
        },
        {
            "resourceType": "Observation",
            "id": "g1",
            "status": "final",
            "code": {"coding": [{"system": LOINC, "code": "69548-6"}]},
            "valueCodeableConcept": {"coding": [{"system": LOINC, "code": "LA9633-4"}]},
            "component": [
                {
                    "code": {"coding": [{"system": LOINC, "code": "48018-6"}]},
                    "valueCodeableConcept": {
                        "coding": [{"system": "http://www.genenames.org", "code": "HGNC:11995", "display": "TOR1A"}]
                    },
                }
            ],
        },
        {
            "resourceType": "FamilyMemberHistory",
            "id": "f1",
            "status": "completed",
            "patient": {"reference": "Patient/p1"},
            "relationship": {"text": "mother"},
        },
    )
    case = reading.case
    assert case.history == ("CX:hx-ischemic-stroke", "CX:hx-liver-disease", "CX:hx-thyroid-or-parathyroid-surgery")
    assert case.imaging.mri_brain == "abnormal"
    assert [(t.treatment, t.response) for t in case.treatment_history] == [("deep-brain-stimulation", "partial")]
    assert (case.genetics.tested, case.genetics.positive) == (("TOR1A",), ("TOR1A",))
    assert case.family_history is True
    assert reasons_by_resource(reading) == {"Condition/h1": "ICD-10-CM I63.9 is not in the problem table; read as its "
                                                            "parent I63 (Cerebral infarction): ischaemic stroke "
                                                            "(cerebral infarction)"}


def test_what_cannot_be_mapped_is_reported(read):
    """Check that unknown codes, unread resource types and unfinished data are listed with a reason."""
    reading = read(
        patient(),
        condition("c1", SNOMED, "59621000"),
        condition("c2", HPO, "HP:9999999"),
        condition("c3", HPO, "HP:0000473", verificationStatus={"coding": [{"code": "provisional"}]}),
        {"resourceType": "Procedure", "id": "pr1", "status": "completed", "subject": {"reference": "Patient/p1"},
         "code": {"text": "MRI brain"}},
        {"resourceType": "Encounter", "id": "e1", "status": "finished", "class": {"code": "AMB"}},
    )
    reasons = reasons_by_resource(reading)
    assert reasons == {
        "Condition/c1": "http://snomed.info/sct|59621000 is not a code Contraxis reads",
        "Condition/c2": f"'HP:9999999' is not a term of HPO release {code_tables.load_code_tables().hpo_release()}",
        "Condition/c3": "verificationStatus is 'provisional': not yet a fact",
        "Procedure/pr1": "a brain MRI was done but its result (outcome: normal or abnormal) is not given",
        "Encounter/e1": reasons["Encounter/e1"],
    }
    assert reasons["Encounter/e1"].startswith("Encounter resources are not read (read: Patient, Condition")
    paths = [n.path for n in reading.not_read]
    assert paths[:2] == ["resources[1].code", "resources[2].code"]


def test_invalid_fhir_is_refused_naming_the_element():
    """Check that a resource that is not valid FHIR R4 is refused with the element named."""
    bundle = {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [
            {"resource": {"resourceType": "Patient", "birthDate": "1970-13-45"}},
            {"resource": {"resourceType": "Spaceship"}},
            {
                "resource": {
                    "resourceType": "Observation",
                    "status": "final",
                    "code": {"text": "x"},
                    "valueQuantity": {"value": "lots"},
                }
            },
        ],
    }
    with pytest.raises(CaseError) as caught:
        read_bundle(bundle)
    fields = [p.where for p in caught.value.problems]
    assert fields == ["bundle.entry[0].resource.birthDate", "bundle.entry[1].resource.resourceType",
                      "bundle.entry[2].resource.valueQuantity.value"]
    with pytest.raises(CaseError, match="'Composition' is not 'Bundle'"):
        read_bundle({"resourceType": "Composition"})


def test_a_contradiction_is_refused(read):
    """Check that resources giving an onset after the current age are refused as a contradiction."""
    with pytest.raises(ContradictionError, match="after the current age"):
        read(patient(birthDate="2000-01-01"), condition("c", HPO, "HP:0000473", onsetAge={"value": 40, "unit": "a"}))


def test_the_bundle_timestamp_is_the_reference_date(kb):
    """Check that without a reference date, a Bundle's timestamp is used."""
    bundle = {"resourceType": "Bundle", "type": "collection", "timestamp": "2020-06-15T00:00:00Z",
              "entry": [{"resource": patient()}]}
    reading = read_bundle(bundle)
    assert (reading.reference_date, reading.case.age) == (date(2020, 6, 15), 50.0)


def test_problem_list_codes_give_findings_regions_and_history(read):
    """Check that ICD-10-CM and SNOMED CT problem codes (no HPO code) give findings, regions and past events."""
    reading = read(
        patient(),
        {**condition("c1", ICD10CM, "G24.3"), "code": {"coding": [
            {"system": ICD10CM, "code": "G24.3", "display": "Spasmodic torticollis"},
            {"system": SNOMED, "code": "15802004", "display": "Dystonia"}]}},
        condition("c2", ICD10CM, "I63.9"),
    )
    case = reading.case
    assert (case.findings, case.regions, case.history) == (
        ("HP:0000473", "HP:0001332"),
        ("neck",),
        ("CX:hx-ischemic-stroke",),
    )
