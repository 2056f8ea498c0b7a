"""Order checks: is a drug being ordered unsafe for this patient?

The reviewed rows live in ``data/order_safety.yaml``; the drugs checked are the members of
the knowledge base's drug class the file names (``dopamine-blocking``), never a list in code.
:func:`load_order_safety` reads and checks the file against the knowledge base;
:func:`patient_record` gathers what the checks read from FHIR resources (through the FHIR
readers: problem codes through the problem-code resolver, drugs through the drug resolver,
allergies with whether a reaction was dystonic); :func:`check_order` returns the
contraindications that apply.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date
from importlib.resources import files
from typing import Any, Literal

import yaml

from ..errors import KnowledgeBaseError, Problem
from ..io.fhir.allergy import read_allergy
from ..io.fhir.concepts import at_or_below, read_concept
from ..io.fhir.elements import Located, codings
from ..io.fhir.medication import (
    drugs_of,
    read_medication_administration,
    read_medication_dispense,
    read_medication_request,
    read_medication_statement,
)
from ..io.fhir.parts import Context
from ..io.fhir.systems import ICD10CM_SYSTEMS, SNOMED
from ..io.fhir.tables import load_tables
from ..reading import NotRead

__all__ = [
    "AllergyEvidence",
    "Alternative",
    "Contraindication",
    "Evidence",
    "Match",
    "OrderSafety",
    "PatientRecord",
    "check_order",
    "load_order_safety",
    "patient_record",
]

Indicator = Literal["info", "warning", "critical"]
INDICATORS: tuple[str, ...] = ("info", "warning", "critical")
AllergyMatch = Literal["dystonic-reaction", "other-reaction"]
ALLERGY_MATCHES: tuple[str, ...] = ("dystonic-reaction", "other-reaction")
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
    allergy_to_class: AllergyMatch | None = None
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

    @property
    def relevant_drugs(self) -> frozenset[str]:
        """The drugs the checks read: the class's members and the drugs a contraindication names."""
        return self.members | {m for row in self.contraindications for m in row.medications}


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
            problems.append(
                Problem(f"{where}.source", f"{row.get('source')!r} is not in the knowledge base's sources.yaml")
            )
        if row.get("indicator") not in INDICATORS:
            problems.append(
                Problem(f"{where}.indicator", f"{row.get('indicator')!r} is not one of {', '.join(INDICATORS)}")
            )
        exempt = frozenset(row.get("exempt", []))
        match = row.get("match") or {}
        allergy = match.get("allergy_to_class")
        if allergy is not None and allergy not in ALLERGY_MATCHES:
            problems.append(Problem(f"{where}.match.allergy_to_class",
                                    f"{allergy!r} is not one of {', '.join(ALLERGY_MATCHES)}"))
        rows.append(Contraindication(
            id=str(row.get("id")), label=str(row.get("label")), indicator=row.get("indicator"),
            source=str(row.get("source")), icd10cm=tuple(match.get("icd10cm", [])),
            snomed=tuple(str(c) for c in match.get("snomed", [])), hpo=tuple(match.get("hpo", [])),
            medications=tuple(match.get("medications", [])), allergy_to_class=allergy,
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
    """What in the record supports a match: the resource (``Condition/c1``) and a text."""

    where: str
    text: str


@dataclass(frozen=True)
class AllergyEvidence:
    """A recorded allergy or intolerance: the ingredients it is to, whether a reaction was
    dystonic, and how to say it (``allergy to prochlorperazine (rash)``)."""

    ingredients: tuple[str, ...]
    dystonic: bool
    evidence: Evidence


@dataclass
class PatientRecord:
    """What the order checks read about a patient, each item with where it came from."""

    icd10cm: list[tuple[str, Evidence]] = field(default_factory=list)
    snomed: list[tuple[str, Evidence]] = field(default_factory=list)
    hpo: list[tuple[str, Evidence]] = field(default_factory=list)
    medications: list[tuple[str, Evidence]] = field(default_factory=list)
    allergies: list[AllergyEvidence] = field(default_factory=list)
    not_read: list[NotRead] = field(default_factory=list)


def _display(coding: Any) -> str:
    return f"{coding.code}" + (f" {coding.display}" if coding.display else "")


def _conditions(item: Located, record: PatientRecord, *, codes: Any, tables: Any) -> None:
    condition = item.resource
    status = {str(c.code) for c in codings(condition.verificationStatus)}
    if status & {"refuted", "entered-in-error"}:
        return
    for coding in codings(condition.code):
        system, code = str(coding.system or ""), str(coding.code or "").strip()
        if not code:
            continue
        evidence = Evidence(item.label, _display(coding))
        if system in ICD10CM_SYSTEMS:
            record.icd10cm.append((code.upper(), evidence))
        elif system == SNOMED:
            record.snomed.append((code, evidence))
        concept = type(condition.code)(coding=[coding])
        reading = read_concept(concept, codes=codes, tables=tables)
        record.hpo.extend((term, evidence) for term in reading.findings if term.startswith("HP:"))


def _medications(item: Located, record: PatientRecord, ctx: Context, relevant: frozenset[str]) -> None:
    from ..terminology.drugs import resolve_drug

    reader = {"MedicationRequest": read_medication_request, "MedicationStatement": read_medication_statement,
              "MedicationAdministration": read_medication_administration,
              "MedicationDispense": read_medication_dispense}[item.kind]
    part = reader(item, ctx)
    drugs, _ = drugs_of(item, ctx)
    readings = [resolve_drug(d.name, rxnorm=d.rxnorm) for d in drugs]
    if not drugs or any(not r.ingredients or set(r.ingredients) & relevant for r in readings):
        record.not_read.extend(part.not_read)  # what was left out could matter to the checks
    for med in part.medications:
        row = med.value
        reading = resolve_drug(row.get("name"), rxnorm=row.get("rxnorm"))
        if not reading.ingredients:
            record.not_read.append(NotRead.of(med.path, reading.given, reading.note))
        for ingredient in reading.ingredients:
            taken = "stopped" if "days_since_stop" in row else "taken"
            record.medications.append((ingredient, Evidence(item.label, f"{ingredient} ({taken})")))


def patient_record(located: Iterable[Located], *, codes: Any, reference_date: date | None = None,
                   tables: Any = None, relevant: Iterable[str] = ()) -> PatientRecord:
    """Gather the coded conditions, drugs taken and drug allergies of a patient.

    Parameters
    ----------
    located : iterable of Located
        Validated FHIR resources with their paths (Condition, MedicationRequest,
        MedicationStatement, AllergyIntolerance, Medication; others are ignored).
    codes : CodeTables
        HPO and the code tables.
    reference_date : datetime.date, optional
        For the status and dates of drugs (today if omitted).
    tables : FhirTables, optional
        The FHIR reader's code maps; the shipped ones if omitted.
    relevant : iterable of str
        The drugs the checks read (the class and the drugs contraindications name): a drug
        order left out (its status, long past) is reported only for these, or when its drug
        cannot be resolved.

    Returns
    -------
    PatientRecord
        The record: problem codes (ICD-10-CM, SNOMED CT) and the HPO findings they give
        through the problem-code resolver; drug ingredients taken now or recently; allergies
        with whether a reaction was dystonic; and what was not read.
    """
    from datetime import datetime

    tables = tables or load_tables()
    items = list(located)
    references = {f"Medication/{i.resource.id}": (i.resource, i.path) for i in items
                  if i.kind == "Medication" and i.resource.id}
    ctx = Context(reference_date=reference_date or datetime.now(UTC).date(), codes=codes, tables=tables,
                  references=references)
    record = PatientRecord()
    for item in items:
        if item.kind == "Condition":
            _conditions(item, record, codes=codes, tables=tables)
        elif item.kind in (
            "MedicationRequest",
            "MedicationStatement",
            "MedicationAdministration",
            "MedicationDispense",
        ):
            _medications(item, record, ctx, frozenset(relevant))
        elif item.kind == "AllergyIntolerance":
            allergy = read_allergy(item, codes=codes, tables=tables)
            if allergy.skip:
                continue
            if not allergy.ingredients:
                record.not_read.append(NotRead.of(item.path, f"{item.label}: {allergy.describe()}",
                                                  "the substance is not a drug Contraxis knows: not checked"))
                continue
            record.allergies.append(AllergyEvidence(allergy.ingredients, allergy.dystonic,
                                                    Evidence(item.label, allergy.describe())))
    return record


@dataclass(frozen=True)
class Match:
    """A contraindication found for an ordered drug, with the evidence for it."""

    contraindication: Contraindication
    evidence: tuple[Evidence, ...]


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
            evidence += [e for code, e in record.hpo if at_or_below(codes, code, row.hpo)]
        evidence += [e for name, e in record.medications if name in row.medications]
        if row.allergy_to_class:
            dystonic = row.allergy_to_class == "dystonic-reaction"
            evidence += [a.evidence for a in record.allergies
                         if a.dystonic == dystonic and set(a.ingredients) & safety.members]
        if evidence:
            found.append(Match(row, tuple(dict.fromkeys(evidence))))
    found.sort(key=lambda m: -INDICATORS.index(m.contraindication.indicator))
    kept: list[Match] = []
    for match in found:  # a broader row resting only on evidence already shown adds nothing
        shown = {e for k in kept for e in k.evidence}
        if not set(match.evidence) <= shown:
            kept.append(match)
    return kept


