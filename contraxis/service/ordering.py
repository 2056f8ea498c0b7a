"""Order checks: is a drug being ordered unsafe for this patient?

The reviewed rows live in ``data/order_safety.yaml``; the drugs checked are the members of
the knowledge base's drug class the file names (``dopamine-blocking``), never a list in code.
:func:`load_order_safety` reads and checks the file against the knowledge base;
:func:`patient_record` gathers what the checks read from FHIR resources; :func:`check_order`
returns the contraindications that apply.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib.resources import files
from typing import Any, Iterable, Literal, Mapping, Sequence

import yaml

from ..errors import KnowledgeBaseError, Problem
from ..io.fhir import HPO_SYSTEMS, ICD10CM_SYSTEMS, SNOMED, _codings, drug_name

__all__ = [
    "Alternative",
    "Contraindication",
    "Match",
    "OrderSafety",
    "PatientRecord",
    "check_order",
    "load_order_safety",
    "patient_record",
]

Indicator = Literal["info", "warning", "critical"]
INDICATORS: tuple[str, ...] = ("info", "warning", "critical")
_FILE = "order_safety.yaml"


@dataclass(frozen=True, slots=True)
class Contraindication:
    """One reviewed reason not to give a drug of the class."""

    id: str
    label: str
    indicator: Indicator
    source: str
    icd10cm: tuple[str, ...] = ()
    snomed: tuple[str, ...] = ()
    hpo: tuple[str, ...] = ()
    medications: tuple[str, ...] = ()
    allergy_to_class: bool = False
    exempt: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class AlternativeOption:
    name: str
    note: str
    source: str
    rxnorm: str | None = None


@dataclass(frozen=True, slots=True)
class Alternative:
    """Safer drugs for what the ordered drug is for."""

    id: str
    purpose: str
    drugs: frozenset[str]
    options: tuple[AlternativeOption, ...]


@dataclass(frozen=True)
class OrderSafety:
    """The checked contents of ``order_safety.yaml``, with the drug class resolved."""

    reviewed: str
    drug_class: str
    class_label: str
    members: frozenset[str]
    sources: Mapping[str, Mapping[str, str]]
    contraindications: tuple[Contraindication, ...]
    alternatives: tuple[Alternative, ...]

    def alternative_for(self, drug: str) -> Alternative | None:
        return next((a for a in self.alternatives if drug in a.drugs), None)


def load_order_safety(kb: Any, *, text: str | None = None) -> OrderSafety:
    """Read and check ``data/order_safety.yaml`` against the knowledge base.

    Parameters
    ----------
    kb : KnowledgeBase
        Supplies the drug class (``kb.drug_classes``).
    text : str, optional
        The file's text (tests); the shipped file if omitted.

    Returns
    -------
    OrderSafety
        The rows, checked.

    Raises
    ------
    KnowledgeBaseError
        Naming every problem: an unknown drug class, a source not defined, an indicator
        not allowed, an alternative for a drug outside the class.
    """
    if text is None:
        text = (files("contraxis.service") / "data" / _FILE).read_text(encoding="utf-8")
    data = yaml.safe_load(text) or {}
    problems: list[Problem] = []
    class_id = str(data.get("drug_class", ""))
    drug_class = kb.drug_classes.get(class_id)
    if drug_class is None:
        problems.append(Problem(f"{_FILE}: drug_class", f"{class_id!r} is not a drug class of the knowledge base "
                                                          f"(allowed: {', '.join(sorted(kb.drug_classes))})"))
        members: frozenset[str] = frozenset()
    else:
        members = frozenset(drug_class.members)
    sources = {key: source.model_dump(mode="json") for key, source in kb.sources.items()}
    if "sources" in data:
        problems.append(Problem(f"{_FILE}: sources", "sources belong in the knowledge base's sources.yaml"))
    rows: list[Contraindication] = []
    for i, row in enumerate(data.get("contraindications", [])):
        where = f"{_FILE}: {row.get('id', f'contraindications[{i}]')}"
        if row.get("source") not in sources:
            problems.append(Problem(f"{where}.source", f"{row.get('source')!r} is not in the knowledge base's sources.yaml"))
        if row.get("indicator") not in INDICATORS:
            problems.append(Problem(f"{where}.indicator", f"{row.get('indicator')!r} is not one of {', '.join(INDICATORS)}"))
        exempt = frozenset(row.get("exempt", []))
        match = row.get("match") or {}
        rows.append(Contraindication(
            id=str(row.get("id")), label=str(row.get("label")), indicator=row.get("indicator"),
            source=str(row.get("source")), icd10cm=tuple(match.get("icd10cm", [])),
            snomed=tuple(str(c) for c in match.get("snomed", [])), hpo=tuple(match.get("hpo", [])),
            medications=tuple(match.get("medications", [])), allergy_to_class=bool(match.get("allergy_to_class")),
            exempt=exempt,
        ))
    alternatives: list[Alternative] = []
    for i, row in enumerate(data.get("alternatives", [])):
        where = f"{_FILE}: {row.get('id', f'alternatives[{i}]')}"
        for name in sorted(set(row.get("for", [])) - members):
            problems.append(Problem(f"{where}.for", f"{name!r} is not a member of the class {class_id!r}"))
        options = []
        for option in row.get("options", []):
            if option.get("source") not in sources:
                problems.append(Problem(f"{where}.options.{option.get('name')}.source",
                                        f"{option.get('source')!r} is not in the knowledge base's sources.yaml"))
            options.append(AlternativeOption(name=str(option["name"]), note=str(option.get("note", "")),
                                             source=str(option.get("source")), rxnorm=option.get("rxnorm")))
        alternatives.append(Alternative(id=str(row.get("id")), purpose=str(row.get("purpose")),
                                        drugs=frozenset(row.get("for", [])), options=tuple(options)))
    if problems:
        raise KnowledgeBaseError(problems)
    return OrderSafety(
        reviewed=str(data.get("reviewed")), drug_class=class_id,
        class_label=str(getattr(drug_class, "label", class_id)), members=members, sources=sources,
        contraindications=tuple(rows), alternatives=tuple(alternatives),
    )


@dataclass(frozen=True)
class Evidence:
    where: str
    text: str


@dataclass
class PatientRecord:
    """What the order checks read about a patient, each item with where it came from."""

    icd10cm: list[tuple[str, Evidence]] = field(default_factory=list)
    snomed: list[tuple[str, Evidence]] = field(default_factory=list)
    hpo: list[tuple[str, Evidence]] = field(default_factory=list)
    medications: list[tuple[str, Evidence]] = field(default_factory=list)
    allergies: list[tuple[str, Evidence]] = field(default_factory=list)


def _where(resource: Mapping[str, Any]) -> str:
    return f"{resource.get('resourceType')}/{resource.get('id', '?')}"


def _display(coding: Mapping[str, Any]) -> str:
    return f"{coding.get('code')}" + (f" {coding['display']}" if coding.get("display") else "")


def patient_record(resources: Iterable[Mapping[str, Any]], *, codes: Any, known_drugs: Sequence[str]) -> PatientRecord:
    """Gather the coded conditions, drugs taken and drug allergies of a patient.

    Parameters
    ----------
    resources : iterable of mapping
        FHIR resources (Condition, MedicationRequest, MedicationStatement, AllergyIntolerance;
        others are ignored).
    codes : CodeTables
        For SNOMED CT → HPO cross-references.
    known_drugs : sequence of str
        Generic names to recognise in text, longest first.

    Returns
    -------
    PatientRecord
        The record.
    """
    record = PatientRecord()
    for resource in resources:
        kind = resource.get("resourceType")
        where = _where(resource)
        if kind == "Condition":
            status = {c.get("code") for c in _codings(resource.get("verificationStatus"))}
            if status & {"refuted", "entered-in-error"}:
                continue
            for coding in _codings(resource.get("code")):
                system, code = coding.get("system"), str(coding.get("code") or "").strip()
                evidence = Evidence(where, _display(coding))
                if system in ICD10CM_SYSTEMS:
                    record.icd10cm.append((code.upper(), evidence))
                elif system == SNOMED:
                    record.snomed.append((code, evidence))
                    record.hpo.extend((h, evidence) for h in codes.hpo_for_snomed(code))
                elif system in HPO_SYSTEMS:
                    record.hpo.append((code if code.startswith("HP:") else f"HP:{code}", evidence))
        elif kind in ("MedicationRequest", "MedicationStatement"):
            if resource.get("status") in ("draft", "entered-in-error", "cancelled", "not-taken"):
                continue
            concept = resource.get("medicationCodeableConcept")
            name = drug_name(concept, known=known_drugs) if concept else None
            if name:
                record.medications.append((name, Evidence(where, name)))
        elif kind == "AllergyIntolerance":
            status = {c.get("code") for c in _codings(resource.get("verificationStatus"))}
            if status & {"refuted", "entered-in-error"}:
                continue
            name = drug_name(resource.get("code"), known=known_drugs)
            if name:
                record.allergies.append((name, Evidence(where, f"allergy or intolerance: {name}")))
    return record


@dataclass(frozen=True)
class Match:
    """A contraindication found for an ordered drug, with the evidence for it."""

    contraindication: Contraindication
    evidence: tuple[Evidence, ...]


def _hpo_below(codes: Any, code: str, ancestors: Sequence[str]) -> bool:
    if code in ancestors:
        return True
    ontology = codes.hpo_ontology
    term = ontology.term(code)
    if term is None:
        return False
    for ancestor in ancestors:
        parent = ontology.term(ancestor)
        if parent is not None and term.child_of(parent):
            return True
    return False


def check_order(drug: str, *, record: PatientRecord, safety: OrderSafety, codes: Any) -> list[Match]:
    """The contraindications that apply to ordering ``drug`` for this patient.

    Parameters
    ----------
    drug : str
        The generic name of the drug ordered (lower case).
    record : PatientRecord
        The patient's record.
    safety : OrderSafety
        The reviewed checks.
    codes : CodeTables
        For the HPO hierarchy.

    Returns
    -------
    list of Match
        Empty when the drug is not in the class or nothing applies; else the matches, most
        severe first.
    """
    if drug not in safety.members:
        return []
    found: list[Match] = []
    for row in safety.contraindications:
        if drug in row.exempt:
            continue
        evidence: list[Evidence] = []
        evidence += [e for code, e in record.icd10cm if any(code.startswith(p.upper()) for p in row.icd10cm)]
        evidence += [e for code, e in record.snomed if code in row.snomed]
        if row.hpo:
            evidence += [e for code, e in record.hpo if _hpo_below(codes, code, row.hpo)]
        evidence += [e for name, e in record.medications if name in row.medications]
        if row.allergy_to_class:
            evidence += [e for name, e in record.allergies if name in safety.members]
        if evidence:
            found.append(Match(row, tuple(dict.fromkeys(evidence))))
    found.sort(key=lambda m: -INDICATORS.index(m.contraindication.indicator))
    kept: list[Match] = []
    for match in found:  # a broader row resting only on evidence already shown adds nothing
        shown = {e for k in kept for e in k.evidence}
        if not set(match.evidence) <= shown:
            kept.append(match)
    return kept


