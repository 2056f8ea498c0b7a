"""The ``Coding.system`` URIs the FHIR reader recognises (identifiers, not clinical content)."""

from __future__ import annotations

__all__ = [
    "CX_FINDING_SYSTEM",
    "CX_REGION_SYSTEM",
    "HGNC",
    "HPO_SYSTEMS",
    "ICD10_WHO",
    "ICD10CM_SYSTEMS",
    "ICD11_SYSTEMS",
    "LOINC",
    "RXNORM",
    "SNOMED",
    "UCUM",
]

HPO_SYSTEMS = frozenset({
    "http://human-phenotype-ontology.org",
    "https://human-phenotype-ontology.org",
    "http://purl.obolibrary.org/obo/hp.owl",
    "http://purl.obolibrary.org/obo/hp",
    "https://hpo.jax.org",
    "http://hpo.jax.org",
})
"""``Coding.system`` URIs taken to mean the Human Phenotype Ontology."""

SNOMED = "http://snomed.info/sct"
LOINC = "http://loinc.org"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
UCUM = "http://unitsofmeasure.org"
HGNC = "http://www.genenames.org"
ICD10_WHO = "http://hl7.org/fhir/sid/icd-10"
"""The WHO ICD-10, whose codes ICD-10-CM extends."""
ICD10CM_SYSTEMS = frozenset({"http://hl7.org/fhir/sid/icd-10-cm", ICD10_WHO})
"""ICD-10-CM (and the WHO ICD-10)."""
ICD11_SYSTEMS = frozenset({"http://id.who.int/icd/release/11/mms", "http://id.who.int/icd11/mms",
                           "http://hl7.org/fhir/sid/icd-11"})
"""ICD-11 for Mortality and Morbidity Statistics."""

CX_FINDING_SYSTEM = "urn:contraxis:finding"
"""``Coding.system`` of Contraxis' local finding codes (``CX:sensory-trick``)."""

CX_REGION_SYSTEM = "urn:contraxis:region"
"""``Coding.system`` of the case format's body regions (``neck``, ``left-arm``), for bodySite."""
