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
- ``onset_age`` (or an HPO onset term given by an importer) becomes onset bands; without
  either, the onset came no later than the age at the visit (``age``): the bands up to it.
- ``medications``, ``history`` and ``genetics`` are case facts (:mod:`.facts`).

``sex``, ``family_history`` and the classification fields are not used by the differential;
``age`` only bounds an onset that is not given.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from contraxis.case import Case, Lab
from contraxis.reading import NotRead

from .index import DifferentialIndex
from .knowledge import DifferentialKnowledge, LabTest
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
    from_regions : dict
        Body regions read as findings, with the HPO term each gave (a dystonia of the neck is
        Torticollis: ``dystonia_hpo`` of ``regions.yaml``), when the findings name a dystonia.
    """

    evidence: Evidence
    local_present: frozenset[str]
    local_absent: frozenset[str]
    labs: tuple[LabReading, ...] = ()
    replaced: dict[str, str] = field(default_factory=dict)
    set_aside: dict[str, str] = field(default_factory=dict)
    implied: dict[int, int] = field(default_factory=dict)
    onset: str = ""
    from_regions: dict[str, str] = field(default_factory=dict)

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


def _shown(lab: Lab) -> str:
    """The result as given: ``< 20 mg/dL``, ``low``, ``6.9 mg/dL (low)``."""
    value = "" if lab.value is None else f"{lab.comparator or ''}{_fmt(lab.value)} {lab.unit or ''}".strip()
    if lab.interpretation and value:
        return f"{value} ({lab.interpretation})"
    return value or lab.interpretation or ""


def _analyte(lab: Lab) -> str:
    """The analyte a result is read as (every LOINC code of calcium is calcium), or its LOINC
    code for a test no rule reads."""
    reading = getattr(lab, "reading", None)
    return reading.analyte if reading is not None else lab.loinc


def _superseded(labs: Sequence[Lab]) -> dict[int, str]:
    """Results of a test given more than once that are not the latest, with why they are not used."""
    groups: dict[str, list[int]] = {}
    for i, lab in enumerate(labs):
        groups.setdefault(_analyte(lab), []).append(i)
    notes: dict[int, str] = {}
    for rows in groups.values():
        if len(rows) < 2:
            continue
        ages = {i: getattr(labs[i], "age_days", None) for i in rows}
        dated = [i for i in rows if ages[i] is not None]
        latest = min(dated, key=lambda i: (ages[i], -i)) if dated else rows[-1]
        for i in rows:
            if i != latest:
                when = f"{_fmt(ages[i])} days ago" if ages[i] is not None else "undated"
                latest_when = _fmt(ages[latest]) + " days ago" if ages[latest] is not None else "last given"
                notes[i] = f"an earlier result ({when}): the latest ({latest_when}) decides"
    return notes


def _test_for(lab: Lab, knowledge: DifferentialKnowledge) -> LabTest | None:
    """The ``lab_to_hpo.yaml`` row for a result: by its LOINC code, else by its analyte (every
    LOINC code of calcium reads as calcium)."""
    test = knowledge.labs.get(lab.loinc)
    reading = getattr(lab, "reading", None)
    if test is not None or reading is None:
        return test
    from contraxis.terminology.labs import analyte_of

    return next((t for t in knowledge.labs.values() if analyte_of(t.loinc) == reading.analyte), None)


def _in_unit(lab: Lab, test: LabTest, knowledge: DifferentialKnowledge) -> tuple[float | None, str]:
    """The value in the test's unit, or None and why not."""
    reading = getattr(lab, "reading", None)
    if reading is not None and reading.value is not None:
        value, unit = reading.value, reading.unit
    else:
        value, unit = lab.value, lab.unit or ""
    if value is None:
        return None, ""
    if unit == test.unit:
        return value, ""
    factor = knowledge.conversions.get(test.loinc, {}).get(unit)
    if factor is not None:
        return value * factor, ""
    try:
        from contraxis.terminology.labs import analytes
        from contraxis.terminology.units import convert

        info = analytes().get(reading.analyte) if reading is not None else None
        return convert(
            value, unit, test.unit, molar_mass=info.molar_mass if info else None, charge=info.charge if info else None
        ), ""
    except (ValueError, KeyError, ImportError):
        allowed = ", ".join([test.unit, *knowledge.conversions.get(test.loinc, {})])
        return None, f"unit {unit!r} not known for this test (allowed: {allowed})"


def _judge(
    value: float | None, comparator: str | None, interpretation: str | None, test: LabTest
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The HPO terms a result shows and excludes: a value (a bound with a comparator) against
    the test's limits, else the laboratory's interpretation."""
    if value is None:
        if interpretation in ("low", "critical-low") and test.low is not None:
            return (test.low.hpo,), ()
        if interpretation in ("high", "critical-high") and test.high is not None:
            return (test.high.hpo,), ()
        if interpretation == "normal" and test.normal is not None:
            return (), test.normal.excludes
        return (), ()
    below = test.low.below if test.low is not None else None
    above = test.high.above if test.high is not None else None
    # every value the result allows: a point, or the side of a bound (results are not negative)
    low_end, high_end = {
        "<": (0.0, value),
        "<=": (0.0, value),
        ">": (value, float("inf")),
        ">=": (value, float("inf")),
    }.get(comparator or "", (value, value))
    if below is not None and (high_end < below or (comparator == "<" and high_end <= below)):
        return (test.low.hpo,), ()  # type: ignore[union-attr]
    if above is not None and (low_end > above or (comparator == ">" and low_end >= above)):
        return (test.high.hpo,), ()  # type: ignore[union-attr]
    if test.normal is not None and test.normal.from_ <= low_end and high_end <= test.normal.to:
        return (), test.normal.excludes
    return (), ()


def _corrected(
    lab: Lab, value: float | None, test: LabTest, labs: Sequence[Lab], superseded: Mapping[int, str],
    knowledge: DifferentialKnowledge,
) -> tuple[float, str] | None:
    """The result read corrected by another test of the same sample, as ``labs.yaml`` reads
    it (calcium by albumin: :meth:`~contraxis.knowledge.schema.LabCorrection.delta`), with
    the text shown; None when no correction applies."""
    found = knowledge.corrections.get(test.loinc)
    if found is None or value is None:
        return None
    by_loinc, correction = found
    from contraxis.terminology.labs import analyte_of

    wanted = analyte_of(by_loinc) or by_loinc
    for j, other in enumerate(labs):
        reading = getattr(other, "reading", None)
        if j in superseded or reading is None or _analyte(other) != wanted:
            continue
        days_apart = abs((lab.age_days or 0.0) - (other.age_days or 0.0))
        delta = correction.delta(reading.value, exact=reading.comparator is None, days_apart=days_apart)
        if delta is None:
            return None
        text = (f"{_shown(lab)}: {correction.label} {value + delta:.3g} {test.unit} with {reading.analyte} "
                f"{_fmt(reading.value)} {reading.unit} ({correction.source})")
        return value + delta, text
    return None


def read_labs(labs: Sequence[Lab], *, knowledge: DifferentialKnowledge) -> list[LabReading]:
    """Turn laboratory results into HPO terms with the limits of ``lab_to_hpo.yaml``.

    A result is matched to its test by LOINC code or, for another code of the same analyte
    (calcium 2000-8), through :func:`contraxis.terminology.labs.analyte_of`; its value is
    taken in the knowledge base's unit (as :func:`~contraxis.terminology.labs.read_lab` read
    it), converted to the test's unit where they differ. A value with a comparator is a
    bound: ``< 20`` ceruloplasmin is low, ``> 10`` calcium says nothing. A result that
    ``labs.yaml`` reads corrected by another test of the same sample (a calcium with a low
    albumin) is judged corrected, as the assessment reads it. A result given only
    as an interpretation (low, high, normal) is read as that side of the limits. When a test
    is given more than once, the latest result decides and the earlier ones are listed with
    a note. A test or unit the files do not know is reported, not used.
    """
    readings = []
    superseded = _superseded(labs)
    for i, lab in enumerate(labs):
        label = f"{lab.loinc} {lab.name or ''}".strip()
        shown = _shown(lab)
        if i in superseded:
            readings.append(LabReading(label, shown, note=superseded[i], index=i))
            continue
        test = _test_for(lab, knowledge)
        if test is None:
            readings.append(LabReading(label, shown, note="no HPO mapping for this test", index=i))
            continue
        value, why = _in_unit(lab, test, knowledge)
        if why:
            readings.append(LabReading(label, shown, note=why, source=test.source, index=i))
            continue
        corrected = _corrected(lab, value, test, labs, superseded, knowledge)
        if corrected is not None:
            value, shown = corrected
        present, excluded = _judge(value, lab.comparator, lab.interpretation, test)
        if present or excluded:
            note = ""
        elif value is None:
            note = f"interpretation {lab.interpretation!r} says no side of the limits: not used"
        elif lab.comparator:
            note = (f"a bound ({lab.comparator} {_fmt(value)} {test.unit}) that does not settle the side of "
                    "the limits: not used")
        else:
            note = "between the reference range and the limit of an abnormality: not used"
        readings.append(LabReading(label, shown, present, excluded, note, test.source, index=i))
    return _overruled(readings, labs, knowledge)


def _overruled(readings: list[LabReading], labs: Sequence[Lab], knowledge: DifferentialKnowledge) -> list[LabReading]:
    """Set aside the results that another test overrules (``decides_over``: an ionized
    calcium that settles a side decides over the total calcium), saying which."""
    from contraxis.terminology.labs import analyte_of

    deciding: dict[str, str] = {}
    for reading in readings:
        if reading.index is None or not (reading.present or reading.excluded):
            continue
        test = _test_for(labs[reading.index], knowledge)
        for loinc in test.decides_over if test is not None else ():
            deciding.setdefault(analyte_of(loinc) or loinc, test.name)
    if not deciding:
        return readings
    kept = []
    for reading in readings:
        analyte = _analyte(labs[reading.index]) if reading.index is not None else None
        if analyte in deciding and (reading.present or reading.excluded):
            reading = LabReading(reading.test, reading.value, note=f"set aside: the {deciding[analyte]} decides",
                                 source=reading.source, index=reading.index)
        kept.append(reading)
    return kept


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
    present = [
        t
        for code in (*case.findings, *imaging_findings)
        if code.startswith("HP:")
        for t in [locate(code)]
        if t is not None
    ]
    excluded = [t for code in case.absent if code.startswith("HP:") for t in [locate(code)] if t is not None]
    from_regions = _region_terms(case, present, index, knowledge)
    present += [t for code in from_regions.values() for t in [locate(code)] if t is not None]

    readings = read_labs(case.labs, knowledge=knowledge)
    if case.imaging is not None and case.imaging.mri_brain == "normal" and knowledge.mri_normal_excludes:
        readings.append(
            LabReading("brain MRI", "normal", excluded=knowledge.mri_normal_excludes, source="lab_to_hpo.yaml")
        )
    tested_present = [t for r in readings for code in r.present for t in [locate(code)] if t is not None]
    tested_excluded = [t for r in readings for code in r.excluded for t in [locate(code)] if t is not None]

    kept_present, kept_excluded, implied = reduce_terms(
        [*present, *tested_present], [*excluded, *tested_excluded], index=index
    )
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
    elif case.age is not None and case.age >= 0:
        # The onset is not given, but it came before the visit: no later than the age now.
        bands = tuple(range(max(band_of_age(case.age)) + 1))
        onset = f"not given; by {case.age:g} years (the age at the visit): {BANDS[bands[-1]]} or earlier"

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
        from_regions=from_regions,
    )


DYSTONIA = "HP:0001332"
"""Dystonia: a present finding at or below it makes the case's body regions dystonia terms."""


def _region_terms(
    case: Case, present: Sequence[int], index: DifferentialIndex, knowledge: DifferentialKnowledge
) -> dict[str, str]:
    """The HPO term of each body region of the case (``regions.yaml``: ``dystonia_hpo``), when
    a present finding is a dystonia (the regions then say where the dystonia is, as the
    assessment reads them); empty otherwise."""
    dystonia = index.term_position.get(DYSTONIA)
    if dystonia is None or not knowledge.region_terms:
        return {}
    if not any(dystonia in index.ancestors(t).tolist() for t in present):
        return {}
    return {region: knowledge.region_terms[region] for region in case.regions if region in knowledge.region_terms}


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
    rows = [
        NotRead.of(paths.get(code, "case"), code, f"{why}: not used by the differential")
        for code, why in read.set_aside.items()
    ]
    rows += [
        NotRead.of(paths.get(old, "case"), old, f"read as {new} by the differential (obsolete in its HPO release)")
        for old, new in read.replaced.items()
    ]
    for lab in read.labs:
        if lab.note and lab.index is not None:
            rows.append(
                NotRead.of(
                    f"case.labs[{lab.index}]", f"{lab.test} {lab.value}", f"not used by the differential: {lab.note}"
                )
            )
    return rows
