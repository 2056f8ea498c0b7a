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
from contraxis.reading import NotRead

from .index import DifferentialIndex
from .knowledge import DifferentialKnowledge
from .model import Evidence, reduce_terms
from .onset import BANDS, band_of_age, bands_of_term

__all__ = ["CaseEvidence", "LabReading", "case_evidence", "evidence_not_read", "read_labs"]


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
    index : int or None
        Its position in ``case.labs`` (None for the MRI).
    """

    test: str
    value: str
    present: tuple[str, ...] = ()
    excluded: tuple[str, ...] = ()
    note: str = ""
    source: str = ""
    index: int | None = None

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

    A result the case reading resolved (any LOINC code of an analyte the rules read, in any
    accepted unit) is compared in the knowledge base's unit; a bound (``< 20``) or a
    laboratory flag alone (``low``) is used when it decides the limit. Other tests are read
    by their own LOINC code and the factors of ``labs.yaml``; a test or unit the files do
    not know is reported, not used. The latest of several dated results decides.
    """
    readings = []
    for lab in _latest(labs):
        label = f"{lab.loinc} {lab.name or ''}".strip()
        reading = lab.reading
        if reading is not None:
            shown = (f"{reading.comparator or ''}{_fmt(reading.given_value)} {reading.given_unit or ''}".strip()
                     if reading.given_value is not None else f"{reading.interpretation}")
            test = next((knowledge.labs[c] for c in _codes_of(reading.analyte) if c in knowledge.labs), None)
        else:
            shown = f"{_fmt(lab.value) if lab.value is not None else ''} {lab.unit or ''}".strip()
            test = knowledge.labs.get(lab.loinc)
        if test is None:
            readings.append(LabReading(label, shown, note="no HPO mapping for this test"))
            continue
        low, high = _bounds(lab, test, knowledge)
        if low is None and high is None:
            allowed = ", ".join([test.unit, *knowledge.conversions.get(test.loinc, {})])
            readings.append(LabReading(label, shown, note=f"unit {lab.unit!r} not known for this test (allowed: {allowed})", source=test.source))
            continue
        present: tuple[str, ...] = ()
        excluded: tuple[str, ...] = ()
        if test.low is not None and test.low.below is not None and high is not None and high[0] <= test.low.below and (high[0] < test.low.below or high[1]):
            present = (test.low.hpo,)
        elif test.high is not None and test.high.above is not None and low is not None and low[0] >= test.high.above and (low[0] > test.high.above or low[1]):
            present = (test.high.hpo,)
        elif (test.normal is not None and low is not None and high is not None
              and test.normal.from_ <= low[0] and high[0] <= test.normal.to):
            excluded = test.normal.excludes
        note = "" if present or excluded else "between the reference range and the limit of an abnormality: not used"
        readings.append(LabReading(label, shown, present, excluded, note, test.source))
    return readings


def _latest(labs: Sequence[Lab]) -> list[Lab]:
    """One result per test: the latest of a dated series (undated counts as today's)."""
    chosen: dict[str, Lab] = {}
    for lab in labs:
        key = lab.reading.analyte if lab.reading is not None else lab.loinc
        age = lab.age_days if lab.age_days is not None else 0.0
        held = chosen.get(key)
        if held is None or age < (held.age_days if held.age_days is not None else 0.0):
            chosen[key] = lab
    return list(chosen.values())


def _codes_of(analyte: str) -> tuple[str, ...]:
    from contraxis.terminology.labs import analytes

    info = analytes().get(analyte)
    return tuple(info.loinc) if info is not None else ()


Bound = tuple[float, bool]  # (limit, whether the limit itself is excluded)


def _bounds(lab: Lab, test: object, knowledge: DifferentialKnowledge) -> tuple[Bound | None, Bound | None]:
    """Lower and upper bounds of the result in the test's unit ((None, None): not convertible)."""
    unit = getattr(test, "unit")
    reading = lab.reading
    if reading is not None:
        if reading.unit != unit:
            factor = knowledge.conversions.get(getattr(test, "loinc"), {}).get(reading.unit)
            if factor is None:
                return None, None
        else:
            factor = 1.0
        if reading.value is None:
            flag = reading.interpretation
            low_limit = getattr(getattr(test, "low", None), "below", None)
            high_limit = getattr(getattr(test, "high", None), "above", None)
            if flag in ("low", "critical-low") and low_limit is not None:
                return None, (low_limit, True)
            if flag in ("high", "critical-high") and high_limit is not None:
                return (high_limit, True), None
            normal = getattr(test, "normal", None)
            if flag == "normal" and normal is not None:
                return (normal.from_, False), (normal.to, False)
            return (float("-inf"), False), (float("inf"), False)
        value = reading.value * factor
        comparator = reading.comparator
        if comparator in ("<", "<="):
            return None, (value, comparator == "<")
        if comparator in (">", ">="):
            return (value, comparator == ">"), None
        return (value, False), (value, False)
    if lab.value is None:
        return None, None
    if lab.unit == unit:
        factor = 1.0
    else:
        factor = knowledge.conversions.get(lab.loinc, {}).get(lab.unit or "")
        if factor is None:
            return None, None
    value = lab.value * factor
    return (value, False), (value, False)


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


def _code_paths(case: Case) -> dict[str, str]:
    """The case path of each finding code, first place first."""
    paths: dict[str, str] = {}
    lists = [("case.findings", case.findings), ("case.absent", case.absent)]
    if case.imaging is not None:
        lists.append(("case.imaging.findings", case.imaging.findings))
    for name, codes in lists:
        for i, code in enumerate(codes):
            paths.setdefault(code, f"{name}[{i}]")
    return paths


def evidence_not_read(case: Case, read: CaseEvidence) -> list[NotRead]:
    """What the differential did not use, or changed, as :class:`~contraxis.reading.NotRead`
    rows with their case paths (``case.findings[2]``, ``case.labs[0]``).

    The rows: ids set aside (not a term of the release, or not a phenotypic abnormality),
    obsolete ids replaced, and laboratory results not used (no HPO mapping, a unit not
    known, a value between the reference range and a limit, an earlier result of a test
    given again).
    """
    paths = _code_paths(case)
    rows = [NotRead.of(paths.get(code, "case"), code, f"{why}: not used by the differential") for code, why in read.set_aside.items()]
    rows += [NotRead.of(paths.get(old, "case"), old, f"read as {new} by the differential (obsolete in its HPO release)") for old, new in read.replaced.items()]
    for lab in read.labs:
        if lab.note and lab.index is not None:
            rows.append(NotRead.of(f"case.labs[{lab.index}]", f"{lab.test} {lab.value}", f"not used by the differential: {lab.note}"))
    return rows
