"""Read a FHIR R4 Bundle (or a list of FHIR resources) into a native :class:`~contraxis.case.Case`.

Every resource is first validated with the R4B models of ``fhir.resources`` (R4B is
wire-compatible with R4 for the resources read here). Then each one is mapped:

==========================  ===============================================================
resource                    becomes
==========================  ===============================================================
Patient                     ``sex`` (gender) and ``age`` (birthDate, at the reference date)
Condition, Observation      a finding (HPO, local ``CX:`` code, or SNOMED CT mapped to HPO
                            through HPO's own cross-references), present or ``absent``
                            (``verificationStatus`` refuted, ``valueBoolean`` false, a
                            negative ``interpretation`` or value); a past event
                            (``history``, from ICD-10-CM or SNOMED CT); ``onset_age``
                            (onsetAge, or onsetDateTime with the birth date); ``severity``;
                            ``course`` (HPO clinical-course terms); ``regions`` (bodySite)
Observation (LOINC)         a laboratory result (``labs``), converted to the unit the
                            knowledge base uses; a gene test (LOINC 69548-6 with the gene
                            studied, 48018-6) becomes ``genetics``
MedicationStatement,        ``medications`` with ``days_since_start`` counted from
MedicationRequest           effective[DateTime|Period.start] or authoredOn to the
                            reference date
Procedure, DiagnosticReport brain MRI (``imaging``), deep brain stimulation and botulinum
                            toxin (``treatment_history``, when the response is given),
                            thyroid or parathyroid surgery (``history``)
FamilyMemberHistory         ``family_history: true``
==========================  ===============================================================

What cannot be mapped is never dropped silently: :class:`FhirReading` carries the case and
the list of :class:`Unmapped` items, each with the resource it came from and the reason.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from typing import Any, Collection, Iterable, Mapping, Sequence

from ..case import GENE_SYMBOL, Case, read_case
from ..errors import CaseError, Problem
from ..vocabulary import REGIONS

__all__ = [
    "CX_FINDING_SYSTEM",
    "CX_REGION_SYSTEM",
    "FhirReading",
    "HPO_SYSTEMS",
    "LabSpec",
    "Unmapped",
    "bundle_resources",
    "read_bundle",
    "read_resources",
    "validate_resource",
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
ICD10CM_SYSTEMS = frozenset({"http://hl7.org/fhir/sid/icd-10-cm", "http://hl7.org/fhir/sid/icd-10"})
HGNC = "http://www.genenames.org"

CX_FINDING_SYSTEM = "urn:contraxis:finding"
"""``Coding.system`` of Contraxis' local finding codes (``CX:sensory-trick``)."""

CX_REGION_SYSTEM = "urn:contraxis:region"
"""``Coding.system`` of the case format's body regions (``neck``, ``left-arm``), for bodySite."""

READ_TYPES = (
    "Patient", "Condition", "Observation", "MedicationStatement", "MedicationRequest",
    "Medication", "Procedure", "DiagnosticReport", "FamilyMemberHistory",
)
"""The resource types this reader maps (a Medication only when another resource refers to it)."""

# --- terminology tables (code systems, not clinical knowledge) -----------------------------

# ICD-10-CM code prefixes (each checked against the CMS table in the tests) and SNOMED CT
# concepts (each passing the Verhoeff check) naming a past event of the case format.
HISTORY_ICD10CM: Mapping[str, tuple[str, ...]] = {
    "CX:hx-head-trauma": ("S06", "S09.90"),
    "CX:hx-encephalitis": ("G04", "G05", "A83", "A84", "A85", "A86", "B00.4"),
    "CX:hx-ischemic-stroke": ("I63", "I69.3", "Z86.73"),
    "CX:hx-hemorrhagic-stroke": ("I60", "I61", "I62", "I69.1", "I69.2"),
    "CX:hx-perinatal-injury": ("P10", "P11", "P52", "P57", "P91.6"),
    "CX:hx-toxin-exposure": ("T57.2", "T58", "T51.1"),
    "CX:hx-herniated-disc": ("M50.2", "M51.1", "M51.2"),
    "CX:hx-thyroid-or-parathyroid-surgery": ("E89.0", "E89.2"),
    "CX:hx-liver-disease": ("K70", "K71", "K72", "K73", "K74", "K75", "K76", "K77", "E83.01"),
    "CX:hx-psychiatric-illness": ("F2", "F3", "F40", "F41", "F42", "F43", "F44", "F45", "F48", "F6"),
}
HISTORY_SNOMED: Mapping[str, str] = {
    "82271004": "CX:hx-head-trauma",            # Injury of head
    "45170000": "CX:hx-encephalitis",           # Encephalitis
    "422504002": "CX:hx-ischemic-stroke",       # Ischemic stroke
    "432504007": "CX:hx-ischemic-stroke",       # Cerebral infarction
    "274100004": "CX:hx-hemorrhagic-stroke",    # Cerebral hemorrhage
    "13619001": "CX:hx-thyroid-or-parathyroid-surgery",  # Thyroidectomy
    "235856003": "CX:hx-liver-disease",         # Disorder of liver
    "74732009": "CX:hx-psychiatric-illness",    # Mental disorder
    "58214004": "CX:hx-psychiatric-illness",    # Schizophrenia
}
# Words of a Procedure's text that name a past event or a treatment of the case format.
HISTORY_PROCEDURE_WORDS: Mapping[str, str] = {
    "thyroidectomy": "CX:hx-thyroid-or-parathyroid-surgery",
    "parathyroidectomy": "CX:hx-thyroid-or-parathyroid-surgery",
}
TREATMENT_PROCEDURE_WORDS: Mapping[str, str] = {
    "deep brain stimulation": "deep-brain-stimulation",
    "dbs": "deep-brain-stimulation",
    "botulinum": "botulinum-toxin",
    "botox": "botulinum-toxin",
    "microvascular decompression": "microvascular-decompression",
}

# HPO clinical-course and severity terms, which the case holds as fields, not findings.
COURSE_TERMS: Mapping[str, str] = {
    "HP:0003676": "progressive", "HP:0003680": "static", "HP:0011009": "acute", "HP:0025303": "episodic",
}
SEVERITY_TERMS: Mapping[str, str] = {"HP:0012825": "mild", "HP:0012826": "moderate", "HP:0012828": "severe"}
# FHIR's condition-severity value set (SNOMED CT).
SEVERITY_SNOMED: Mapping[str, str] = {"255604002": "mild", "6736007": "moderate", "24484000": "severe"}

# SNOMED CT body structures that are one region of the case format (laterality from text).
REGION_SNOMED: Mapping[str, str] = {
    "45048000": "neck", "4596009": "larynx", "21974007": "tongue", "22943007": "trunk",
    "77568009": "back", "818983003": "abdomen", "113345001": "abdomen", "80243003": "upper-face",
    "661005": "jaw", "91609006": "jaw",
}
REGION_WORDS: tuple[tuple[str, str], ...] = (
    ("eyelid", "upper-face"), ("upper face", "upper-face"), ("brow", "upper-face"),
    ("lower face", "lower-face"), ("jaw", "jaw"), ("mandible", "jaw"), ("tongue", "tongue"),
    ("larynx", "larynx"), ("vocal", "larynx"), ("neck", "neck"), ("cervical", "neck"),
    ("trunk", "trunk"), ("back", "back"), ("abdomen", "abdomen"),
)
LIMB_WORDS: tuple[tuple[str, str], ...] = (
    ("foot", "foot"), ("toe", "foot"), ("arm", "arm"), ("hand", "arm"), ("upper limb", "arm"),
    ("leg", "leg"), ("lower limb", "leg"),
)

# RxNorm ingredient concepts (RXCUI) for the drugs most often met here; other drugs are read
# from the coding's display or the text.
RXNORM_INGREDIENTS: Mapping[str, str] = {
    "5093": "haloperidol", "6915": "metoclopramide", "26225": "ondansetron", "2626": "clozapine",
    "61381": "olanzapine", "35636": "risperidone", "89013": "aripiprazole", "8076": "perphenazine",
    "8331": "pimozide", "10502": "thioridazine", "114176": "zuclopenthixol", "83367": "atorvastatin",
    "10390": "tetrabenazine", "4603": "furosemide", "5487": "hydrochlorothiazide",
}

NEGATIVE_INTERPRETATION = frozenset({"NEG", "ND"})
POSITIVE_INTERPRETATION = frozenset({"POS", "DET"})
NEGATIVE_VALUE_SNOMED = frozenset({"260385009", "373067005", "2667000"})  # Negative, No, Absent
POSITIVE_VALUE_SNOMED = frozenset({"10828004", "373066001", "52101004"})  # Positive, Yes, Present
GENE_VARIANT_LOINC = frozenset({"69548-6"})  # Genetic variant assessment
GENE_STUDIED_LOINC = "48018-6"
LOINC_PRESENT = "LA9633-4"
LOINC_ABSENT = "LA9634-2"
SKIPPED_STATUS = frozenset({"entered-in-error", "cancelled", "not-taken", "draft", "unknown", "preliminary", "registered"})

_HPO_CODE = re.compile(r"^(?:HP:)?(\d{7})$")
_DRUG_WORD = re.compile(r"[a-z][a-z\-]+")


@dataclass(frozen=True, slots=True)
class Unmapped:
    """One item of the FHIR input that did not become part of the case.

    Parameters
    ----------
    where : str
        The resource (``Observation/obs-3``, or ``entry[4]`` when it has no id).
    item : str
        What it held, as readable text (a code with its display).
    reason : str
        Why it was not mapped.
    """

    where: str
    item: str
    reason: str

    def to_dict(self) -> dict[str, str]:
        return {"where": self.where, "item": self.item, "reason": self.reason}


@dataclass(frozen=True, slots=True)
class LabSpec:
    """A laboratory test the knowledge base reads: its unit and the units it converts."""

    loinc: str
    name: str
    unit: str
    conversions: Mapping[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class FhirReading:
    """The result of reading FHIR resources: the case and what could not be mapped.

    Parameters
    ----------
    case : Case
        The native case.
    unmapped : tuple of Unmapped
        Every item left out, with its reason.
    reference_date : datetime.date
        The date ages and ``days_since_start`` were counted to.
    resources : tuple of dict
        The validated resources, by position, for callers that need more than the case
        (the order checks of the CDS Hooks service read Conditions and allergies).
    """

    case: Case
    unmapped: tuple[Unmapped, ...]
    reference_date: date
    resources: tuple[dict[str, Any], ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "case": self.case.model_dump(mode="json", exclude_defaults=True),
            "unmapped": [u.to_dict() for u in self.unmapped],
            "reference_date": self.reference_date.isoformat(),
        }


# --- validation ---------------------------------------------------------------------------


def _fhir_path(loc: Iterable[Any]) -> str:
    path = ""
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path


def validate_resource(resource: Any, *, where: str) -> list[Problem]:
    """Check one resource against the FHIR R4B model of its type.

    Parameters
    ----------
    resource : Any
        The parsed JSON of the resource.
    where : str
        Where it sits, for the messages (``bundle.entry[2].resource``).

    Returns
    -------
    list of Problem
        Empty when the resource is valid.
    """
    from fhir.resources.R4B import get_fhir_model_class
    from pydantic import ValidationError

    if not isinstance(resource, Mapping):
        return [Problem(where, f"expected a FHIR resource (a JSON object), got {type(resource).__name__}")]
    kind = resource.get("resourceType")
    if not isinstance(kind, str) or not kind:
        return [Problem(f"{where}.resourceType", "is required (e.g. Patient, Condition, Observation)")]
    try:
        model = get_fhir_model_class(kind)
    except (KeyError, ValueError, AttributeError):
        return [Problem(f"{where}.resourceType", f"{kind!r} is not a FHIR R4 resource type")]
    try:
        model.model_validate(dict(resource))
    except ValidationError as error:
        return [
            Problem(f"{where}.{_fhir_path(e['loc'])}" if e["loc"] else where, _fhir_message(e))
            for e in error.errors()
        ]
    except (TypeError, ValueError) as error:
        return [Problem(where, f"is not a valid {kind}: {error}")]
    return []


def _fhir_message(error: Mapping[str, Any]) -> str:
    kind = error.get("type", "")
    if kind == "extra_forbidden":
        return "is not a field of this FHIR R4 resource"
    if "missing" in kind:
        return "is required"
    message = str(error.get("msg", "is not valid")).removeprefix("Value error, ")
    message = message[:1].lower() + message[1:]
    value = error.get("input")
    if isinstance(value, (str, int, float, bool)):
        return f"{value!r}: {message}"
    return message


def bundle_resources(bundle: Any) -> list[dict[str, Any]]:
    """Validate a Bundle's shell and return its entries' resources.

    Raises
    ------
    CaseError
        When ``bundle`` is not a FHIR Bundle, naming what is wrong.
    """
    if not isinstance(bundle, Mapping):
        raise CaseError([Problem("bundle", f"expected a FHIR Bundle (a JSON object), got {type(bundle).__name__}")])
    if bundle.get("resourceType") != "Bundle":
        raise CaseError([Problem("bundle.resourceType", f"{bundle.get('resourceType')!r} is not 'Bundle'")])
    entries = bundle.get("entry", [])
    if not isinstance(entries, list):
        raise CaseError([Problem("bundle.entry", f"expected a list of entries, got {type(entries).__name__}")])
    shell = {k: v for k, v in bundle.items() if k != "entry"}
    problems = validate_resource(shell, where="bundle")
    resources: list[dict[str, Any]] = []
    for i, entry in enumerate(entries):
        if not isinstance(entry, Mapping) or not isinstance(entry.get("resource"), Mapping):
            problems.append(Problem(f"bundle.entry[{i}].resource", "is required (a FHIR resource)"))
            continue
        resources.append(dict(entry["resource"]))
    if problems:
        raise CaseError(problems, source="FHIR")
    for i, resource in enumerate(resources):
        problems.extend(validate_resource(resource, where=f"bundle.entry[{i}].resource"))
    if problems:
        raise CaseError(problems, source="FHIR")
    return resources


# --- helpers ------------------------------------------------------------------------------


def _where(resource: Mapping[str, Any], index: int) -> str:
    kind = resource.get("resourceType", "resource")
    rid = resource.get("id")
    return f"{kind}/{rid}" if rid else f"{kind}[{index}]"


def _codings(concept: Any) -> list[Mapping[str, Any]]:
    if not isinstance(concept, Mapping):
        return []
    return [c for c in concept.get("coding", []) or [] if isinstance(c, Mapping)]


def _concept_text(concept: Any) -> str:
    if not isinstance(concept, Mapping):
        return ""
    if concept.get("text"):
        return str(concept["text"])
    for coding in _codings(concept):
        if coding.get("display"):
            return str(coding["display"])
    return ""


def _describe(concept: Any) -> str:
    parts = []
    for coding in _codings(concept):
        label = f"{coding.get('system', '?')}|{coding.get('code', '?')}"
        if coding.get("display"):
            label += f" {coding['display']!r}"
        parts.append(label)
    text = concept.get("text") if isinstance(concept, Mapping) else None
    if text and not parts:
        parts.append(repr(text))
    return "; ".join(parts) or "(no code)"


def _parse_date(value: Any) -> date | None:
    if not isinstance(value, str) or len(value) < 4:
        return None
    try:
        if len(value) == 4:
            return date(int(value), 7, 1)
        if len(value) == 7:
            return date(int(value[:4]), int(value[5:7]), 15)
        return date.fromisoformat(value[:10])
    except ValueError:
        return None


def _years_between(start: date, end: date) -> float:
    days = (end - start).days
    years = days / 365.25
    if years >= 2:
        return float(int(years))
    return round(max(years, 0.0), 1)


def _hpo_id(code: Any) -> str | None:
    match = _HPO_CODE.match(str(code or "").strip())
    return f"HP:{match.group(1)}" if match else None


def _age_quantity_years(quantity: Any) -> float | None:
    if not isinstance(quantity, Mapping) or not isinstance(quantity.get("value"), (int, float)):
        return None
    unit = str(quantity.get("code") or quantity.get("unit") or "a").lower()
    factor = {"a": 1, "yr": 1, "y": 1, "year": 1, "years": 1, "mo": 1 / 12, "month": 1 / 12, "months": 1 / 12,
              "wk": 7 / 365.25, "week": 7 / 365.25, "weeks": 7 / 365.25, "d": 1 / 365.25, "day": 1 / 365.25,
              "days": 1 / 365.25}.get(unit)
    if factor is None:
        return None
    return round(float(quantity["value"]) * factor, 1)


def _lab_specs(labs: Sequence[Mapping[str, Any]] | None) -> dict[str, LabSpec]:
    if labs is None:
        from ..knowledge import load_knowledge_base  # the knowledge base's own labs table

        labs = load_knowledge_base().sections().get("labs", [])
    specs: dict[str, LabSpec] = {}
    for row in labs:
        if row.get("loinc") and row.get("unit"):
            specs[str(row["loinc"])] = LabSpec(
                loinc=str(row["loinc"]), name=str(row.get("id") or row.get("name") or row["loinc"]),
                unit=str(row["unit"]), conversions=dict(row.get("conversions") or {}),
            )
    return specs


def _known_drugs(drug_names: Collection[str] | None) -> list[str]:
    if drug_names is None:
        try:
            from ..knowledge import load_knowledge_base

            kb = load_knowledge_base()
            drug_names = sorted({m for c in kb.drug_classes.values() for m in c.members})
        except Exception:  # noqa: BLE001 - the names only help; the text is read without them
            drug_names = ()
    names = set(drug_names) | set(RXNORM_INGREDIENTS.values())
    return sorted(names, key=lambda n: (-len(n), n))


def drug_name(concept: Any, *, known: Sequence[str] = ()) -> str | None:
    """The generic name (lower case) of a drug coded in RxNorm or named in text.

    Parameters
    ----------
    concept : Any
        A CodeableConcept.
    known : sequence of str
        Generic names to look for in the display or text, longest first.

    Returns
    -------
    str or None
        The name, or None if none can be read.
    """
    for coding in _codings(concept):
        if coding.get("system") == RXNORM and str(coding.get("code")) in RXNORM_INGREDIENTS:
            return RXNORM_INGREDIENTS[str(coding["code"])]
    texts = [str(c.get("display") or "") for c in _codings(concept)]
    if isinstance(concept, Mapping) and concept.get("text"):
        texts.insert(0, str(concept["text"]))
    for text in texts:
        lowered = text.lower()
        for name in known:
            if re.search(rf"(?<![a-z]){re.escape(name)}(?![a-z])", lowered):
                return name
    for text in texts:
        words = _DRUG_WORD.findall(text.lower())
        if words:
            return words[0]
    return None


# --- the reader ---------------------------------------------------------------------------


class _Reader:
    def __init__(self, *, reference_date: date, codes: Any, labs: dict[str, LabSpec], drugs: Sequence[str]) -> None:
        self.reference_date = reference_date
        self.codes = codes
        self.labs = labs
        self.drugs = drugs
        self.unmapped: list[Unmapped] = []
        self.birth: date | None = None
        self.fields: dict[str, Any] = {}
        self.findings: list[str] = []
        self.absent: list[str] = []
        self.history: list[str] = []
        self.regions: list[str] = []
        self.onsets: list[float] = []
        self.lab_rows: dict[str, dict[str, Any]] = {}
        self.medications: dict[str, dict[str, Any]] = {}
        self.treatments: dict[str, dict[str, Any]] = {}
        self.mri: str | None = None
        self.mri_findings: list[str] = []
        self.tested: list[str] = []
        self.positive: list[str] = []
        self.by_reference: dict[str, Mapping[str, Any]] = {}

    # -- outcome --

    def skip(self, where: str, item: str, reason: str) -> None:
        self.unmapped.append(Unmapped(where, item, reason))

    def case_data(self) -> dict[str, Any]:
        data = dict(self.fields)
        if self.onsets and "onset_age" not in data:
            data["onset_age"] = min(self.onsets)
        for key, values in (("findings", self.findings), ("absent", self.absent), ("history", self.history),
                            ("regions", self.regions)):
            unique = list(dict.fromkeys(values))
            if unique:
                data[key] = unique
        if self.lab_rows:
            data["labs"] = list(self.lab_rows.values())
        if self.medications:
            data["medications"] = list(self.medications.values())
        if self.treatments:
            data["treatment_history"] = list(self.treatments.values())
        if self.mri or self.mri_findings:
            imaging: dict[str, Any] = {"mri_brain": self.mri or "abnormal"}
            if self.mri_findings:
                imaging["mri_brain"] = "abnormal"
                imaging["findings"] = list(dict.fromkeys(self.mri_findings))
            data["imaging"] = imaging
        if self.tested:
            data["genetics"] = {"tested": list(dict.fromkeys(self.tested)),
                                "positive": list(dict.fromkeys(self.positive))}
        return data

    # -- codes --

    def hpo_from(self, concept: Any) -> tuple[list[str], str | None]:
        """HPO ids a concept names, or why it names none."""
        reason = None
        for coding in _codings(concept):
            system = str(coding.get("system") or "")
            code = str(coding.get("code") or "").strip()
            if system in HPO_SYSTEMS or (not system and code.startswith("HP:")):
                hpo = _hpo_id(code)
                term = self.codes.hpo(hpo) if hpo else None
                if term is None:
                    reason = f"{code!r} is not a term of HPO release {self.codes.hpo_release()}"
                    continue
                if term.obsolete:
                    if term.replaced_by:
                        return [term.replaced_by], None
                    reason = f"{code} is obsolete in HPO release {self.codes.hpo_release()} and names no replacement"
                    continue
                return [term.code], None
            if system == SNOMED:
                terms = self.codes.hpo_for_snomed(code)
                if terms:
                    return terms, None
                reason = reason or f"SNOMED CT {code} has no cross-reference in HPO"
        return [], reason

    def local_from(self, concept: Any, system: str) -> str | None:
        for coding in _codings(concept):
            if coding.get("system") == system and coding.get("code"):
                code = str(coding["code"]).strip()
                if system == CX_FINDING_SYSTEM and not code.startswith("CX:"):
                    code = f"CX:{code}"
                return code
        return None

    def history_from(self, concept: Any) -> str | None:
        for coding in _codings(concept):
            system = coding.get("system")
            code = str(coding.get("code") or "").strip().upper()
            if system in ICD10CM_SYSTEMS:
                for hx, prefixes in HISTORY_ICD10CM.items():
                    if any(code.startswith(p) for p in prefixes):
                        return hx
            if system == SNOMED and code in HISTORY_SNOMED:
                return HISTORY_SNOMED[code]
        local = self.local_from(concept, CX_FINDING_SYSTEM)
        if local and local.startswith("CX:hx-"):
            return local
        return None

    def regions_from(self, sites: Any) -> list[str]:
        found: list[str] = []
        for site in sites or []:
            coded = [
                str(c["code"]) if c.get("system") == CX_REGION_SYSTEM else REGION_SNOMED[str(c.get("code"))]
                for c in _codings(site)
                if (c.get("system") == CX_REGION_SYSTEM and c.get("code") in REGIONS)
                or (c.get("system") == SNOMED and str(c.get("code")) in REGION_SNOMED)
            ]
            if coded:
                found.extend(coded)
                continue
            text = _concept_text(site).lower()
            side = "left" if re.search(r"\bleft\b", text) else "right" if re.search(r"\bright\b", text) else None
            for word, limb in LIMB_WORDS:
                if word in text and side:
                    found.append(f"{side}-{limb}")
                    break
            else:
                for word, region in REGION_WORDS:
                    if re.search(rf"\b{word}", text):
                        found.append(region)
                        break
        return found

    # -- resources --

    def read(self, resource: Mapping[str, Any], index: int) -> None:
        kind = resource.get("resourceType")
        where = _where(resource, index)
        handler = getattr(self, f"read_{kind}", None)
        if kind == "Medication":
            return
        if handler is None:
            self.skip(where, str(kind), f"{kind} resources are not read (read: {', '.join(READ_TYPES)})")
            return
        handler(resource, where)

    def read_Patient(self, resource: Mapping[str, Any], where: str) -> None:
        gender = resource.get("gender")
        if gender in ("female", "male"):
            self.fields["sex"] = gender
        elif gender:
            self.skip(where, f"gender {gender!r}", "the case format records female, male or unknown")
        birth = _parse_date(resource.get("birthDate"))
        if birth:
            self.birth = birth
            if birth > self.reference_date:
                self.skip(where, f"birthDate {resource.get('birthDate')}", "is after the reference date")
            else:
                self.fields["age"] = _years_between(birth, self.reference_date)

    def _status_skipped(self, resource: Mapping[str, Any], where: str) -> bool:
        status = resource.get("status")
        if status in SKIPPED_STATUS:
            self.skip(where, _describe(resource.get("code") or resource.get("medicationCodeableConcept")),
                      f"status is {status!r}")
            return True
        return False

    def _onset(self, resource: Mapping[str, Any]) -> float | None:
        age = _age_quantity_years(resource.get("onsetAge"))
        if age is not None:
            return age
        start = _parse_date(resource.get("onsetDateTime")) or _parse_date(
            (resource.get("onsetPeriod") or {}).get("start"))
        if start and self.birth and start >= self.birth:
            return _years_between(self.birth, start)
        return None

    def _finding(self, concept: Any, *, present: bool, where: str) -> bool:
        """Add the finding a concept names; return False if it names none."""
        local = self.local_from(concept, CX_FINDING_SYSTEM)
        if local and not local.startswith("CX:hx-"):
            (self.findings if present else self.absent).append(local)
            return True
        hpo, reason = self.hpo_from(concept)
        if not hpo:
            return False
        for term in hpo:
            if term in COURSE_TERMS:
                if present:
                    self.fields["course"] = COURSE_TERMS[term]
            elif term in SEVERITY_TERMS:
                if present:
                    self.fields["severity"] = SEVERITY_TERMS[term]
            else:
                (self.findings if present else self.absent).append(term)
        return True

    def read_Condition(self, resource: Mapping[str, Any], where: str) -> None:
        concept = resource.get("code")
        verification = [c.get("code") for c in _codings(resource.get("verificationStatus"))]
        clinical = [c.get("code") for c in _codings(resource.get("clinicalStatus"))]
        if "entered-in-error" in verification:
            self.skip(where, _describe(concept), "verificationStatus is entered-in-error")
            return
        refuted = "refuted" in verification
        if not refuted and set(verification) & {"unconfirmed", "provisional", "differential"}:
            self.skip(where, _describe(concept), f"verificationStatus is {verification[0]!r}: not yet a fact")
            return
        history = self.history_from(concept)
        if history:
            if not refuted:
                self.history.append(history)
            return
        past = bool(set(clinical) & {"resolved", "inactive", "remission"})
        if past and not refuted:
            self.skip(where, _describe(concept), f"clinicalStatus is {clinical[0]!r}: a past finding is not a present one")
            return
        if not self._finding(concept, present=not refuted, where=where):
            _, reason = self.hpo_from(concept)
            self.skip(where, _describe(concept), reason or "no HPO, SNOMED CT, ICD-10-CM or Contraxis code that maps")
            return
        if not refuted:
            self.regions.extend(self.regions_from(resource.get("bodySite")))
            onset = self._onset(resource)
            if onset is not None:
                self.onsets.append(onset)
            for coding in _codings(resource.get("severity")):
                if coding.get("system") == SNOMED and str(coding.get("code")) in SEVERITY_SNOMED:
                    self.fields["severity"] = SEVERITY_SNOMED[str(coding["code"])]

    def _presence(self, resource: Mapping[str, Any]) -> bool | None:
        """True present, False absent, None not said (from the value or interpretation)."""
        if "valueBoolean" in resource:
            return bool(resource["valueBoolean"])
        for coding in _codings(resource.get("valueCodeableConcept")):
            code = str(coding.get("code"))
            if code in NEGATIVE_VALUE_SNOMED or code == LOINC_ABSENT:
                return False
            if code in POSITIVE_VALUE_SNOMED or code == LOINC_PRESENT:
                return True
        for interpretation in resource.get("interpretation", []) or []:
            for coding in _codings(interpretation):
                if coding.get("code") in NEGATIVE_INTERPRETATION:
                    return False
                if coding.get("code") in POSITIVE_INTERPRETATION:
                    return True
        return None

    def read_Observation(self, resource: Mapping[str, Any], where: str) -> None:
        if self._status_skipped(resource, where):
            return
        concept = resource.get("code")
        loinc = next((str(c.get("code")) for c in _codings(concept) if c.get("system") == LOINC), None)
        if loinc in GENE_VARIANT_LOINC:
            self._gene(resource, where)
            return
        if loinc and loinc in self.labs:
            self._lab(resource, where, self.labs[loinc])
            return
        if resource.get("dataAbsentReason"):
            self.skip(where, _describe(concept), f"no result: dataAbsentReason {_concept_text(resource['dataAbsentReason'])!r}")
            return
        presence = self._presence(resource)
        imaging = any(c.get("code") == "imaging" for cat in resource.get("category", []) or [] for c in _codings(cat))
        if imaging:
            hpo, reason = self.hpo_from(concept)
            if hpo and presence is not False:
                self.mri_findings.extend(hpo)
                return
        history = self.history_from(concept)
        if history:
            if presence is not False:
                self.history.append(history)
            return
        if self._finding(concept, present=presence is not False, where=where):
            if presence is not False:
                self.regions.extend(self.regions_from([resource.get("bodySite")] if resource.get("bodySite") else []))
            return
        if loinc:
            known = ", ".join(f"{s.loinc} {s.name}" for s in self.labs.values())
            self.skip(where, _describe(concept), f"LOINC {loinc} is not a test Contraxis reads (reads: {known})")
            return
        _, reason = self.hpo_from(concept)
        self.skip(where, _describe(concept), reason or "no HPO, SNOMED CT, LOINC or Contraxis code that maps")

    def _lab(self, resource: Mapping[str, Any], where: str, spec: LabSpec) -> None:
        quantity = resource.get("valueQuantity")
        if not isinstance(quantity, Mapping) or not isinstance(quantity.get("value"), (int, float)):
            self.skip(where, f"LOINC {spec.loinc} {spec.name}", "no numeric valueQuantity")
            return
        unit = str(quantity.get("unit") or quantity.get("code") or "").strip()
        value = float(quantity["value"])
        norm = unit.replace(" ", "").lower()
        if norm != spec.unit.replace(" ", "").lower():
            factor = next((f for u, f in spec.conversions.items() if u.replace(" ", "").lower() == norm), None)
            if factor is None:
                allowed_units = ", ".join([spec.unit, *spec.conversions])
                self.skip(where, f"LOINC {spec.loinc} {value:g} {unit}", f"unit {unit!r} is not one of {allowed_units}")
                return
            value = round(value * float(factor), 3)
        self.lab_rows[spec.loinc] = {"loinc": spec.loinc, "name": spec.name, "value": value, "unit": spec.unit}

    def _gene(self, resource: Mapping[str, Any], where: str) -> None:
        gene = None
        for component in resource.get("component", []) or []:
            if any(c.get("code") == GENE_STUDIED_LOINC for c in _codings(component.get("code"))):
                concept = component.get("valueCodeableConcept")
                for coding in _codings(concept):
                    for candidate in (coding.get("display"), coding.get("code")):
                        if isinstance(candidate, str) and GENE_SYMBOL.match(candidate.strip()):
                            gene = candidate.strip()
                            break
                    if gene:
                        break
                if not gene and GENE_SYMBOL.match(_concept_text(concept).strip() or "-"):
                    gene = _concept_text(concept).strip()
        if not gene:
            self.skip(where, "genetic variant assessment", f"no gene studied (component {GENE_STUDIED_LOINC}) as an HGNC symbol")
            return
        presence = self._presence(resource)
        if presence is None:
            self.skip(where, f"gene test {gene}", "no result (valueCodeableConcept LA9633-4 present / LA9634-2 absent)")
            return
        self.tested.append(gene)
        if presence:
            self.positive.append(gene)

    def _medication(self, resource: Mapping[str, Any], where: str, start_value: Any) -> None:
        if self._status_skipped(resource, where):
            return
        concept = resource.get("medicationCodeableConcept")
        reference = (resource.get("medicationReference") or {}).get("reference")
        if concept is None and reference:
            target = self.by_reference.get(str(reference))
            concept = target.get("code") if target else None
            if concept is None:
                self.skip(where, f"medicationReference {reference}", "the Medication it refers to is not in the input")
                return
        name = drug_name(concept, known=self.drugs)
        if not name or not re.match(r"^[a-z][a-z0-9 \-/]*$", name):
            self.skip(where, _describe(concept), "no drug name can be read (RxNorm ingredient or text)")
            return
        item: dict[str, Any] = {"name": name}
        start = _parse_date(start_value)
        if start is not None:
            if start > self.reference_date:
                self.skip(where, f"{name} started {start_value}", "the start is after the reference date: days_since_start left out")
            else:
                item["days_since_start"] = (self.reference_date - start).days
        previous = self.medications.get(name)
        if previous is None or item.get("days_since_start", -1) > previous.get("days_since_start", -1):
            self.medications[name] = item

    def read_MedicationStatement(self, resource: Mapping[str, Any], where: str) -> None:
        start = resource.get("effectiveDateTime") or (resource.get("effectivePeriod") or {}).get("start")
        self._medication(resource, where, start)

    def read_MedicationRequest(self, resource: Mapping[str, Any], where: str) -> None:
        start = resource.get("authoredOn") or (
            ((resource.get("dispenseRequest") or {}).get("validityPeriod") or {}).get("start"))
        self._medication(resource, where, start)

    def _mri_result(self, texts: Iterable[str]) -> str | None:
        for text in texts:
            lowered = text.lower()
            if re.search(r"\babnormal\b", lowered):
                return "abnormal"
            if re.search(r"\bnormal\b|\bunremarkable\b|no abnormalit", lowered):
                return "normal"
        return None

    def read_Procedure(self, resource: Mapping[str, Any], where: str) -> None:
        concept = resource.get("code")
        text = " ".join([_concept_text(concept)] + [str(c.get("display") or "") for c in _codings(concept)]).lower()
        status = resource.get("status")
        history = self.history_from(concept) or next(
            (hx for word, hx in HISTORY_PROCEDURE_WORDS.items() if word in text), None)
        if history and status == "completed":
            self.history.append(history)
            return
        if re.search(r"\bmri\b|magnetic resonance", text) and re.search(r"\bbrain\b|\bhead\b", text):
            if status == "not-done":
                self.mri = self.mri or "not_done"
                return
            if status != "completed":
                self.skip(where, _describe(concept), f"status is {status!r}: the MRI is not done yet")
                return
            outcome = [_concept_text(resource.get("outcome"))] + [str(n.get("text", "")) for n in resource.get("note", []) or []]
            result = self._mri_result(outcome)
            if result is None:
                self.skip(where, _describe(concept), "a brain MRI was done but its result (outcome: normal or abnormal) is not given")
                return
            self.mri = result
            return
        treatment = next((t for word, t in TREATMENT_PROCEDURE_WORDS.items() if re.search(rf"\b{word}", text)), None)
        if treatment:
            if status != "completed":
                self.skip(where, _describe(concept), f"status is {status!r}: not a treatment tried")
                return
            outcome = _concept_text(resource.get("outcome")).lower()
            response = next((r for r, words in (("none", ("no response", "no benefit", "none", "failed", "unsuccessful")),
                                                 ("partial", ("partial",)), ("good", ("good", "successful", "effective")))
                             if any(w in outcome for w in words)), None)
            if response is None:
                self.skip(where, _describe(concept), "a treatment tried, but its response (outcome: good, partial or none) is not given")
                return
            self.treatments[treatment] = {"treatment": treatment, "response": response}
            return
        self.skip(where, _describe(concept), "not a brain MRI, a treatment of the case format or a past event Contraxis reads")

    def read_DiagnosticReport(self, resource: Mapping[str, Any], where: str) -> None:
        if self._status_skipped(resource, where):
            return
        concept = resource.get("code")
        text = _concept_text(concept).lower()
        if not (re.search(r"\bmri\b|magnetic resonance", text) and re.search(r"\bbrain\b|\bhead\b", text)):
            self.skip(where, _describe(concept), "only brain MRI reports are read")
            return
        for conclusion in resource.get("conclusionCode", []) or []:
            hpo, reason = self.hpo_from(conclusion)
            if hpo:
                self.mri_findings.extend(hpo)
            else:
                self.skip(where, _describe(conclusion), reason or "not an HPO term")
        result = self._mri_result([str(resource.get("conclusion") or "")])
        if result:
            self.mri = result if not self.mri_findings else "abnormal"
        elif not self.mri_findings:
            self.skip(where, _describe(concept), "the report gives no conclusion (normal or abnormal) nor HPO conclusionCode")

    def read_FamilyMemberHistory(self, resource: Mapping[str, Any], where: str) -> None:
        if resource.get("status") == "entered-in-error":
            self.skip(where, "family history", "status is 'entered-in-error'")
            return
        self.fields["family_history"] = True


def read_resources(
    resources: Iterable[Mapping[str, Any]],
    *,
    reference_date: date | None = None,
    codes: Any = None,
    labs: Sequence[Mapping[str, Any]] | None = None,
    drug_names: Collection[str] | None = None,
    case_id: str | None = None,
    where: str = "resources",
) -> FhirReading:
    """Read FHIR R4 resources about one patient into a native case.

    Parameters
    ----------
    resources : iterable of mapping
        The resources (parsed JSON), e.g. a Bundle's entries or a CDS Hooks prefetch.
    reference_date : datetime.date, optional
        The date ages and days since a drug was started are counted to; today (UTC) if
        omitted.
    codes : contraxis.codes.CodeTables, optional
        The code tables (HPO, its SNOMED CT cross-references); the shared ones if omitted.
    labs : sequence of mapping, optional
        The knowledge base's ``labs`` rows (``loinc``, ``unit``, ``conversions``); read from
        the bundled knowledge base if omitted.
    drug_names : collection of str, optional
        Generic drug names to recognise in text; the knowledge base's drug classes if omitted.
    case_id : str, optional
        The id given to the case (the Patient's id if omitted).
    where : str, optional
        How to name the list of resources in error messages.

    Returns
    -------
    FhirReading
        The case, what could not be mapped and why.

    Raises
    ------
    CaseError
        When a resource is not valid FHIR R4, or the case read from the resources is not a
        valid case (naming each problem).
    ContradictionError
        When the resources contradict each other as a case (onset after the current age).
    """
    items = list(resources)
    problems: list[Problem] = []
    for i, resource in enumerate(items):
        problems.extend(validate_resource(resource, where=f"{where}[{i}]"))
    if problems:
        raise CaseError(problems, source="FHIR")
    return _read_valid(items, reference_date=reference_date, codes=codes, labs=labs, drug_names=drug_names,
                       case_id=case_id)


def _read_valid(
    items: list[Mapping[str, Any]],
    *,
    reference_date: date | None,
    codes: Any,
    labs: Sequence[Mapping[str, Any]] | None,
    drug_names: Collection[str] | None,
    case_id: str | None = None,
) -> FhirReading:
    if codes is None:
        from ..codes import load_code_tables

        codes = load_code_tables()
    when = reference_date or datetime.now(timezone.utc).date()
    reader = _Reader(reference_date=when, codes=codes, labs=_lab_specs(labs), drugs=_known_drugs(drug_names))
    for resource in items:
        if resource.get("id"):
            reader.by_reference[f"{resource['resourceType']}/{resource['id']}"] = resource
        for contained in resource.get("contained", []) or []:
            if isinstance(contained, Mapping) and contained.get("id"):
                reader.by_reference[f"#{contained['id']}"] = contained
    patients = [r for r in items if r.get("resourceType") == "Patient"]
    if len(patients) > 1:
        ids = {p.get("id") for p in patients}
        if len(ids) > 1:
            raise CaseError([Problem("resources", f"{len(patients)} different Patient resources: give one patient's data")], source="FHIR")
    for resource in patients:
        reader.read(resource, items.index(resource))
    for i, resource in enumerate(items):
        if resource.get("resourceType") != "Patient":
            reader.read(resource, i)
    data = reader.case_data()
    if case_id or patients:
        data["id"] = case_id or (patients[0].get("id") or None)
        if data["id"] is None:
            del data["id"]
    case = read_case(data, source="FHIR")
    return FhirReading(case=case, unmapped=tuple(reader.unmapped), reference_date=when, resources=tuple(dict(r) for r in items))


def read_bundle(
    bundle: Any,
    *,
    reference_date: date | None = None,
    codes: Any = None,
    labs: Sequence[Mapping[str, Any]] | None = None,
    drug_names: Collection[str] | None = None,
) -> FhirReading:
    """Read a FHIR R4 Bundle (any type: collection, searchset, document...) into a case.

    Parameters
    ----------
    bundle : Any
        The parsed JSON of the Bundle.
    reference_date : datetime.date, optional
        The date ages and ``days_since_start`` are counted to: the Bundle's ``timestamp``
        if it has one, else today (UTC).
    codes, labs, drug_names
        As for :func:`read_resources`.

    Returns
    -------
    FhirReading
        The case, what could not be mapped and why.

    Raises
    ------
    CaseError
        When the Bundle or one of its resources is not valid FHIR R4, naming each problem.
    """
    resources = bundle_resources(bundle)
    if reference_date is None:
        reference_date = _parse_date(bundle.get("timestamp")) if isinstance(bundle, Mapping) else None
    return _read_valid(resources, reference_date=reference_date, codes=codes, labs=labs, drug_names=drug_names)
