"""Read a CodeableConcept (a problem, a finding, a reaction) as what the case format holds.

Every coding of the concept is read, and what they give is united (the codings of one
concept are translations of each other):

* an HPO code (``HP:0000473``): a finding; an HPO alt_id or obsolete id with a replacement is
  passed on as given (the case reading replaces it and says so); an unknown id is reported;
* a Contraxis local code (``urn:contraxis:finding``): a finding, or a past event (``CX:hx-``);
* an ICD-10-CM, ICD-11 or SNOMED CT code: read by
  :func:`contraxis.terminology.problems.read_problem` as findings, regions, past events and
  the diagnosis it names; a WHO ICD-10 code is read as the ICD-10-CM code of the same form
  (reported), ICD-10-CM extending ICD-10.

The HPO course and severity terms become the case's ``course`` and ``severity`` fields.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from .elements import codings, concept_text, hpo_id
from .systems import CX_FINDING_SYSTEM, HPO_SYSTEMS, ICD10_WHO

__all__ = ["ConceptReading", "at_or_below", "read_concept"]


@dataclass(frozen=True)
class ConceptReading:
    """What a concept gives the case.

    Parameters
    ----------
    findings : tuple of str
        HPO ids (as given) and local ``CX:`` codes.
    regions, history : tuple of str
        Body regions and ``CX:hx-`` codes.
    course, severity : str or None
        From HPO course and severity terms.
    diagnoses : tuple of str
        The knowledge base conditions the problem codes name (``cervical-dystonia``).
    notes : tuple of str
        What a code was read as when something was assumed (a parent code, a cross-reference).
    why_not : str or None
        Why nothing was read, when nothing was.
    """

    findings: tuple[str, ...] = ()
    regions: tuple[str, ...] = ()
    history: tuple[str, ...] = ()
    course: str | None = None
    severity: str | None = None
    diagnoses: tuple[str, ...] = ()
    labels: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    why_not: str | None = None

    @property
    def gives_anything(self) -> bool:
        return bool(self.findings or self.regions or self.history or self.course or self.severity)


def _hpo(code: str, codes: Any) -> tuple[str | None, str | None]:
    """(the HPO id to pass on, or None; why not)."""
    from ...terminology.hpo import hpo_replacement

    term_id = hpo_id(code)
    if term_id is None:
        return None, f"{code!r} is not an HPO id (HP: and seven digits)"
    term = codes.hpo(term_id)
    if term is not None and not term.obsolete:
        return term_id, None
    if hpo_replacement(term_id) is not None:
        return term_id, None  # the case reading replaces it and says so
    if term is not None:
        return None, f"{term_id} is obsolete in HPO release {codes.hpo_release()} and names no replacement"
    return None, f"{term_id!r} is not a term of HPO release {codes.hpo_release()}"


def read_concept(concept: Any, *, codes: Any, tables: Any) -> ConceptReading:
    """Read every coding of a concept.

    Parameters
    ----------
    concept : CodeableConcept model or None
        The concept.
    codes : contraxis.codes.CodeTables
        HPO (for ids and their release).
    tables : FhirTables
        The course and severity terms.

    Returns
    -------
    ConceptReading
        What the codings give, united; ``why_not`` says why when they give nothing.
    """
    from ...terminology.problems import read_problem

    findings: list[str] = []
    regions: list[str] = []
    history: list[str] = []
    diagnoses: list[str] = []
    labels: list[str] = []
    notes: list[str] = []
    reasons: list[str] = []
    course = severity = None
    course_terms = tables.elements.course.codes
    severity_terms = tables.elements.severity_hpo.codes
    text = concept_text(concept) or None
    for coding in codings(concept):
        system = str(coding.system or "")
        code = str(coding.code or "").strip()
        if not code:
            continue
        if system == CX_FINDING_SYSTEM:
            local = code if code.startswith("CX:") else f"CX:{code}"
            (history if local.startswith("CX:hx-") else findings).append(local)
            continue
        if system in HPO_SYSTEMS or (not system and code.upper().startswith("HP:")):
            term, why = _hpo(code, codes)
            if term is None:
                reasons.append(str(why))
            elif term in course_terms:
                course = course_terms[term]
            elif term in severity_terms:
                severity = severity_terms[term]
            else:
                findings.append(term)
            continue
        if system == ICD10_WHO:
            reading = read_problem("ICD-10-CM", code, coding.display or text)
            if reading is not None and not reading.is_empty:
                notes.append(f"ICD-10 (WHO) {code} read as the ICD-10-CM code of the same form")
        else:
            reading = read_problem(system, code, coding.display or text) if system else None
        if reading is None:
            if system:
                reasons.append(f"{system}|{code} is not a code Contraxis reads")
            continue
        if reading.is_empty:
            reasons.append(reading.note or f"{reading.system} {reading.code} gives the case nothing")
            continue
        findings += reading.findings
        regions += reading.regions
        history += reading.history
        if reading.diagnosis:
            diagnoses.append(reading.diagnosis)
        if reading.label:
            labels.append(reading.label)
        if reading.note:
            notes.append(reading.note)
    unique = lambda values: tuple(dict.fromkeys(values))  # noqa: E731
    result = ConceptReading(
        findings=unique(findings), regions=unique(regions), history=unique(history), course=course,
        severity=severity, diagnoses=unique(diagnoses), labels=unique(labels), notes=unique(notes),
    )
    if result.gives_anything:
        return result
    why = (
        "; ".join(dict.fromkeys(reasons))
        or "no HPO, ICD-10-CM, ICD-11, SNOMED CT or Contraxis code that Contraxis reads"
    )
    return ConceptReading(diagnoses=result.diagnoses, labels=result.labels, why_not=why)


def at_or_below(codes: Any, term: str, ancestors: Iterable[str]) -> bool:
    """Whether an HPO term is one of ``ancestors`` or below one of them in the bundled HPO."""
    ancestors = list(ancestors)
    if term in ancestors:
        return True
    ontology = codes.hpo_ontology
    node = ontology.term(term)
    if node is None:
        return False
    for ancestor in ancestors:
        parent = ontology.term(ancestor)
        if parent is not None and node.child_of(parent):
            return True
    return False
