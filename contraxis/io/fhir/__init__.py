"""Read FHIR R4 (a Bundle, a list of resources, a CDS Hooks prefetch) into a native case.

Each resource is first rewritten where its shape is non-conformant but unambiguous (a list
field given as one object, ``doseQuantity`` directly under ``dosageInstruction``, ...;
:mod:`.shapes`, each rewrite reported), then validated with the R4B models of
``fhir.resources`` (wire-compatible with R4 for the resources read here), then read, as a
typed model, by the module of its kind:

==========================  ===============================================================
resource (module)           becomes
==========================  ===============================================================
Patient (``patient``)       ``sex`` (gender) and ``age`` (birthDate, at the reference date)
Condition (``condition``)   findings (HPO, local ``CX:`` codes, and ICD-10-CM, ICD-11 or
                            SNOMED CT problem codes through the problem-code resolver),
                            present or ``absent`` (refuted); past events (``history``);
                            ``regions`` (the code, bodySite); ``onset_age`` (onsetAge,
                            onsetDateTime or onsetPeriod with the birth date, onsetString
                            where it can be read); ``severity``; ``course``
Observation                 laboratory results (``labs``) under every LOINC code the
(``observation``)           laboratory resolver reads, with comparator, unit, interpretation
                            and date, every result of a test kept; gene tests
                            (``genetics``); findings present or absent
MedicationRequest,          ``medications``: the drug as written (name, RxNorm code) from a
MedicationStatement         CodeableConcept or a referenced Medication, with
(``medication``)            ``days_since_start`` and ``days_since_stop`` by status and dates
Procedure, DiagnosticReport brain MRI (``imaging``), treatments tried with their response
(``procedure``)             (``treatment_history``), thyroid surgery (``history``)
FamilyMemberHistory         ``family_history: true``
AllergyIntolerance          read by the CDS Hooks order checks (``allergy``): a dystonic
                            reaction only when a manifestation says so
==========================  ===============================================================

The code maps are data files (``io/fhir/data``, :mod:`.tables`); drugs, laboratory tests and
units, problem codes and HPO ids are resolved by :mod:`contraxis.terminology`. Nothing is
dropped silently: :class:`FhirReading` carries the case and ``not_read``, one
:class:`~contraxis.reading.NotRead` per item not used or changed, with its path in the input
and the reason. CDS Hooks prefetches are gathered by :mod:`.prefetch`.
"""

from .bundle import bundle_entries, bundle_resources, read_bundle
from .elements import Located
from .reader import READ_TYPES, FhirReading, read_located, read_resources
from .systems import (
    CX_FINDING_SYSTEM,
    CX_REGION_SYSTEM,
    HPO_SYSTEMS,
    ICD10CM_SYSTEMS,
    ICD11_SYSTEMS,
    LOINC,
    RXNORM,
    SNOMED,
    UCUM,
)
from .validation import check_resource, validate_resource

__all__ = [
    "CX_FINDING_SYSTEM",
    "CX_REGION_SYSTEM",
    "FhirReading",
    "HPO_SYSTEMS",
    "ICD10CM_SYSTEMS",
    "ICD11_SYSTEMS",
    "LOINC",
    "Located",
    "READ_TYPES",
    "RXNORM",
    "SNOMED",
    "UCUM",
    "bundle_entries",
    "bundle_resources",
    "check_resource",
    "read_bundle",
    "read_located",
    "read_resources",
    "validate_resource",
]
