"""From a case to the evidence the model scores.

:func:`case_evidence` reads a :class:`~contraxis.case.Case`:

- ``findings`` and ``imaging.findings`` (HPO ids) are present findings, ``absent`` the
  excluded ones. An id the ontology release made obsolete is replaced by its successor;
  an id it does not know, and a term outside Phenotypic abnormality (an onset or
  inheritance term), is set aside and reported.
- Local ``CX:`` codes are not HPO terms: the Mendelian diseases ignore them; the acquired
  causes use them as supporting findings and defining facts (:mod:`.facts`).
- ``labs`` become HPO terms through ``lab_to_hpo.yaml`` (a low calcium is Hypocalcemia,
  a normal one excludes it), and a normal brain MRI excludes a structural brain
  abnormality. These come from a test, not from a clinician's choice of what to record,
  so they are scored without the pertinent-negative factor.
- ``onset_age`` (or an HPO onset term given by an importer) becomes onset bands.
- ``medications``, ``history`` and ``genetics`` are case facts (:mod:`.facts`).

``age``, ``sex``, ``family_history`` and the classification fields are not used by the
differential.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

from contraxis.case import Case, Lab

from .index import DifferentialIndex
from .knowledge import DifferentialKnowledge
from .model import Evidence, reduce_terms
from .onset import BANDS, band_of_age, bands_of_term

__all__ = ["CaseEvidence", "LabReading", "case_evidence", "read_labs"]


@dataclass(frozen=True, slots=True)
class LabReading:
    """What one laboratory result (or the brain MRI) says in HPO terms.

    Attributes
    ----------
    test : str
        The LOINC code and name, e.g. ``17861-6 calcium``, or ``brain MRI``.
    value : str
        The result as given, e.g. ``6.9 mg/dL``.
    present : tuple of str
        HPO terms the result shows.
    excluded : tuple of str
        HPO terms the result excludes.
    note : str
        Why the result was not used, when it was not.
    source : str
        The source of the limits.
    """

    test: str
    value: str
    present: tuple[str, ...] = ()
    excluded: tuple[str, ...] = ()
    note: str = ""
    source: str = ""

    def to_json(self) -> dict[str, object]:
        """JSON-ready data."""
        data: dict[str, object] = {"test": self.test, "value": self.value}
        if self.present:
            data["present"] = list(self.present)
        if self.excluded:
            data["excluded"] = list(self.excluded)
        if self.note:
            data["note"] = self.note
        if self.source:
            data["source"] = self.source
        return data


@dataclass(frozen=True)
class CaseEvidence:
    """A case read for the model, with a record of what was used and what set aside.

    Attributes
    ----------
    evidence : Evidence
        The model's input (without the case facts); ``present``, ``excluded`` and
        ``excluded_by_test`` read its term positions.
    local_present, local_absent : frozenset of str
        The case's ``CX:`` codes.
    labs : tuple of LabReading
        What each laboratory result (and the MRI) gave.
    replaced : dict
        Obsolete ids and the terms used in their place.
    set_aside : dict
        Ids not used, with the reason.
    implied : dict
        Term positions dropped as redundant, with the term that implies or contradicts them.
    onset : str
        How the onset was read (``"12 years: juvenile"``), empty when unknown.
    """

    evidence: Evidence
    local_present: frozenset[str]
    local_absent: frozenset[str]
    labs: tuple[LabReading, ...] = ()
    replaced: dict[str, str] = field(default_factory=dict)
    set_aside: dict[str, str] = field(default_factory=dict)
    implied: dict[int, int] = field(default_factory=dict)
    onset: str = ""

    @property
    def present(self) -> tuple[int, ...]:
        """Present findings (term positions, reduced)."""
        return self.evidence.present

    @property
    def excluded(self) -> tuple[int, ...]:
        """Findings the clinician recorded absent."""
        return self.evidence.excluded

    @property
    def excluded_by_test(self) -> tuple[int, ...]:
        """Findings a normal test result excludes."""
        return self.evidence.excluded_by_test


def _fmt(value: float) -> str:
    return f"{value:g}"


def read_labs(labs: Sequence[Lab], *, knowledge: DifferentialKnowledge) -> list[LabReading]:
    """Turn laboratory results into HPO terms with the limits of ``lab_to_hpo.yaml``.

    A result in another unit is converted with the factors of ``labs.yaml``; a test or
    unit the files do not know is reported, not used.
    """
    readings = []
    for lab in labs:
        label = f"{lab.loinc} {lab.name or ''}".strip()
        shown = f"{_fmt(lab.value)} {lab.unit}"
        test = knowledge.labs.get(lab.loinc)
        if test is None:
            readings.append(LabReading(label, shown, note="no HPO mapping for this test"))
            continue
        value = lab.value
        if lab.unit != test.unit:
            factor = knowledge.conversions.get(lab.loinc, {}).get(lab.unit)
            if factor is None:
                allowed = ", ".join([test.unit, *knowledge.conversions.get(lab.loinc, {})])
                readings.append(LabReading(label, shown, note=f"unit {lab.unit!r} not known for this test (allowed: {allowed})", source=test.source))
                continue
            value = lab.value * factor
        present: tuple[str, ...] = ()
        excluded: tuple[str, ...] = ()
        if test.low is not None and test.low.below is not None and value < test.low.below:
            present = (test.low.hpo,)
        elif test.high is not None and test.high.above is not None and value > test.high.above:
            present = (test.high.hpo,)
        elif test.normal is not None and test.normal.from_ <= value <= test.normal.to:
            excluded = test.normal.excludes
        note = "" if present or excluded else "between the reference range and the limit of an abnormality: not used"
        readings.append(LabReading(label, shown, present, excluded, note, test.source))
    return readings


def case_evidence(case: Case, *, index: DifferentialIndex, onset_term: str | None = None) -> CaseEvidence:
    """Read a case into the model's evidence.

    Parameters
    ----------
    case : Case
        The patient.
    index : DifferentialIndex
        The index (its ontology decides which ids are known, and its knowledge maps labs).
    onset_term : str, optional
        An HPO onset term that replaces ``case.onset_age`` (an importer that has one, such
        as a phenopacket's ``Infantile onset``, gives it here).
    """
    knowledge: DifferentialKnowledge = index.knowledge or DifferentialKnowledge()
    position = index.term_position
    replaced: dict[str, str] = {}
    set_aside: dict[str, str] = {}

    def locate(code: str) -> int | None:
        current = code
        if code not in position and code in index.replaced_by:
            current = index.replaced_by[code]
            replaced[code] = current
        t = position.get(current)
        if t is None:
            set_aside[code] = f"not a term of HPO {index.releases.get('ontology', '')}".rstrip()
            return None
        if index.category[t] < 0:
            set_aside[code] = "not a phenotypic abnormality (onset, inheritance or modifier term)"
            return None
        return t

    imaging_findings = case.imaging.findings if case.imaging else ()
    present = [t for code in (*case.findings, *imaging_findings) if code.startswith("HP:") for t in [locate(code)] if t is not None]
    excluded = [t for code in case.absent if code.startswith("HP:") for t in [locate(code)] if t is not None]

    readings = read_labs(case.labs, knowledge=knowledge)
    if case.imaging is not None and case.imaging.mri_brain == "normal" and knowledge.mri_normal_excludes:
        readings.append(LabReading("brain MRI", "normal", excluded=knowledge.mri_normal_excludes, source="lab_to_hpo.yaml"))
    tested_present = [t for r in readings for code in r.present for t in [locate(code)] if t is not None]
    tested_excluded = [t for r in readings for code in r.excluded for t in [locate(code)] if t is not None]

    kept_present, kept_excluded, implied = reduce_terms([*present, *tested_present], [*excluded, *tested_excluded], index=index)
    by_test = set(tested_excluded) - set(excluded)
    clinical = tuple(t for t in kept_excluded if t not in by_test)
    tested = tuple(t for t in kept_excluded if t in by_test)

    onset = ""
    bands: tuple[int, ...] = ()
    if onset_term is not None:
        bands = bands_of_term(onset_term)
        name = index.term_names[position[onset_term]] if onset_term in position else onset_term
        onset = f"{name} ({onset_term})" if bands else ""
    elif case.onset_age is not None:
        bands = band_of_age(case.onset_age)
        onset = f"{case.onset_age:g} years: " + " or ".join(BANDS[b] for b in bands)

    local_present = frozenset(code for code in case.findings if code.startswith("CX:"))
    local_absent = frozenset(code for code in case.absent if code.startswith("CX:"))
    return CaseEvidence(
        evidence=Evidence(present=kept_present, excluded=clinical, excluded_by_test=tested, onset_bands=bands),
        local_present=local_present,
        local_absent=local_absent,
        labs=tuple(readings),
        replaced=replaced,
        set_aside=set_aside,
        implied=implied,
        onset=onset,
    )
