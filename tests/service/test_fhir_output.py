"""FHIR R4 in, the case and what was not read out: pinned by snapshot."""

from __future__ import annotations

RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"

BUNDLE = {
    "resourceType": "Bundle",
    "type": "collection",
    "timestamp": "2026-03-02T10:00:00Z",
    "entry": [
        {"resource": r}
        for r in [
            {"resourceType": "Patient", "id": "p33", "gender": "female", "birthDate": "1988-01-20"},
            {
                "resourceType": "Condition",
                "id": "c1",
                "subject": {"reference": "Patient/p33"},
                "code": {
                    "coding": [
                        {"system": "http://human-phenotype-ontology.org", "code": "HP:0001281", "display": "Tetany"}
                    ]
                },
                "bodySite": [{"text": "left hand"}, {"text": "right hand"}],
                "onsetDateTime": "2026-03-01",
            },
            {
                "resourceType": "Condition",
                "id": "c2",
                "subject": {"reference": "Patient/p33"},
                "code": {
                    "coding": [
                        {
                            "system": "http://hl7.org/fhir/sid/icd-10-cm",
                            "code": "E89.2",
                            "display": "Postprocedural hypoparathyroidism",
                        }
                    ]
                },
            },
            {
                "resourceType": "Observation",
                "id": "o1",
                "status": "final",
                "code": {
                    "coding": [{"system": "http://snomed.info/sct", "code": "16017001", "display": "Chvostek sign"}]
                },
                "valueCodeableConcept": {
                    "coding": [{"system": "http://snomed.info/sct", "code": "10828004", "display": "Positive"}]
                },
            },
            {
                "resourceType": "Observation",
                "id": "o2",
                "status": "final",
                "code": {"coding": [{"system": "http://loinc.org", "code": "17861-6", "display": "Calcium"}]},
                "valueQuantity": {"value": 1.65, "unit": "mmol/L"},
            },
            {
                "resourceType": "Observation",
                "id": "o3",
                "status": "final",
                "code": {
                    "coding": [
                        {"system": "http://human-phenotype-ontology.org", "code": "HP:0010307", "display": "Stridor"}
                    ]
                },
                "interpretation": [{"coding": [{"code": "NEG"}]}],
            },
            {
                "resourceType": "MedicationStatement",
                "id": "m1",
                "status": "active",
                "subject": {"reference": "Patient/p33"},
                "medicationCodeableConcept": {
                    "coding": [{"system": RXNORM, "code": "10582", "display": "levothyroxine"}]
                },
                "effectiveDateTime": "2026-02-20",
            },
            {
                "resourceType": "Procedure",
                "id": "pr1",
                "status": "completed",
                "subject": {"reference": "Patient/p33"},
                "code": {"text": "Total thyroidectomy"},
                "performedDateTime": "2026-02-19",
            },
            {"resourceType": "DiagnosticReport", "id": "d1", "status": "final", "code": {"text": "Chest X-ray"}},
        ]
    ],
}


def test_fhir_case_output_is_pinned(client, snapshot):
    """Check the case and the items not read from a post-thyroidectomy tetany Bundle."""
    answer = client.post("/fhir/case", json=BUNDLE)
    assert answer.status_code == 200, answer.text
    data = answer.json()
    assert data["case"]["labs"] == [{"loinc": "17861-6", "name": "Calcium", "value": 1.65, "unit": "mmol/L"}]
    assert "CX:hx-thyroid-or-parathyroid-surgery" in data["case"]["history"]
    snapshot("fhir-case-post-thyroidectomy-tetany", data)
    assessed = client.post("/fhir/assess?differential=false", json=BUNDLE).json()["assessment"]
    assert assessed["summary"]["phenomenology"] == "tetany"
    assert "hypocalcemic-tetany" in assessed["summary"]["alerts"]
