"""GA4GH Phenopackets (schema v2) as Contraxis cases.

:func:`read_phenopacket` turns one phenopacket (JSON text or parsed JSON) into an
:class:`ImportedCase`: the native :class:`~contraxis.case.Case`, the known diagnoses (for
benchmarks; they never reach the case), and the onset as an HPO onset term when the
phenopacket gives one. The JSON is parsed with the ``phenopackets`` package into
``phenopackets.Phenopacket`` (``google.protobuf.json_format``), so a message that does not
fit the schema is refused. Then every field Contraxis reads is checked, and every problem is
reported at once in one :class:`~contraxis.errors.CaseError`, each naming the field and the
value; a phenopacket is read whole or not at all.

What is read:

=====================================  =====================================================
phenopacket                            case
=====================================  =====================================================
``id``                                 ``id``
``subject.sex``                        ``sex`` (MALE, FEMALE; anything else is unknown)
``subject.timeAtLastEncounter.age``    ``age`` (ISO 8601 duration, in years)
``phenotypicFeatures[].type.id``       ``findings``, or ``absent`` when ``excluded``; a term
                                       given both ways is kept as present
``diseases[].onset``                   ``onset_age`` (an age), or the onset term (an HPO
                                       onset class; a gestational age is antenatal onset);
                                       without it, the earliest feature onset
``measurements[]`` (LOINC, quantity)   ``labs`` (the unit is the UCUM code)
``diseases[].term``,                   the known diagnoses
``interpretations[].diagnosis.disease``
=====================================  =====================================================

Genomic interpretations are not read into the case (they name the answer). An onset after
the age at the last encounter drops that age rather than contradict it.

:func:`iter_phenopackets` streams a JSON Lines file of phenopackets (gzipped or not), one
case per line; a bad line raises a :class:`~contraxis.errors.CaseError` naming its number.
"""

from __future__ import annotations

import gzip
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator, Mapping

from ..case import Case, read_case
from ..errors import CaseError, Problem

__all__ = ["Diagnosis", "ImportedCase", "iter_phenopackets", "load_phenopacket", "parse_duration", "read_phenopacket"]

_HPO = re.compile(r"^HP:\d{7}$")
_DURATION = re.compile(
    r"^P(?!$)(?:(\d+(?:\.\d+)?)Y)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)W)?(?:(\d+(?:\.\d+)?)D)?"
    r"(?:T(?=\d)(?:\d+(?:\.\d+)?H)?(?:\d+(?:\.\d+)?M)?(?:\d+(?:\.\d+)?S)?)?$"
)
_LOINC = re.compile(r"^LOINC:(\d{1,7}-\d)$")
_SEX = {"MALE": "male", "FEMALE": "female"}
_ANTENATAL = "HP:0030674"

# A representative age (years) for an onset class covering one age band, so that the
# case's onset_age can be filled; classes spanning several bands leave it unknown.
_BAND_AGE = {
    "HP:0030674": 0.0, "HP:0011460": 0.0, "HP:0011461": 0.0, "HP:0034197": 0.0, "HP:0034198": 0.0,
    "HP:0034199": 0.0, "HP:0003577": 0.0, "HP:0003623": 0.04, "HP:0003593": 0.5, "HP:0011463": 3.0,
    "HP:0003621": 10.0, "HP:0011462": 28.0, "HP:0025708": 17.0, "HP:0025709": 22.0, "HP:0025710": 32.0,
    "HP:4000040": 28.0, "HP:0003596": 50.0, "HP:6000314": 50.0, "HP:0003584": 70.0,
}


@dataclass(frozen=True, slots=True)
class Diagnosis:
    """A diagnosis a phenopacket states (a disease term)."""

    id: str
    label: str = ""


@dataclass(frozen=True, slots=True)
class ImportedCase:
    """A phenopacket read for Contraxis.

    Attributes
    ----------
    case : Case
        The native case.
    diagnoses : tuple of Diagnosis
        The diagnoses the phenopacket states (benchmarks use them; the case does not).
    onset_term : str or None
        The onset as an HPO onset term, when the phenopacket gives one.
    source : str
        Where it was read from (a file, ``file:line``).
    """

    case: Case
    diagnoses: tuple[Diagnosis, ...]
    onset_term: str | None = None
    source: str = ""


def parse_duration(text: str) -> float | None:
    """Read an ISO 8601 duration (``P2Y6M``, ``P3W``, ``P10D``) as years; None if malformed."""
    match = _DURATION.match(text.strip()) if isinstance(text, str) else None
    if match is None:
        return None
    years, months, weeks, days = (float(g) if g else 0.0 for g in match.groups())
    return years + months / 12.0 + (weeks * 7.0 + days) / 365.25


def _parse_message(data: Mapping[str, Any], source: str) -> Any:
    from google.protobuf import json_format
    from phenopackets import Phenopacket

    try:
        return json_format.ParseDict(dict(data), Phenopacket())
    except json_format.ParseError as error:
        message = str(error).replace("Message type \"org.phenopackets.schema.v2.", "\"")
        raise CaseError([Problem("phenopacket", f"does not fit the Phenopacket v2 schema: {message}")], source=source) from None


def _time(element: Any, where: str, problems: list[Problem]) -> tuple[float | None, str | None]:
    """An age in years and/or an HPO onset term from a TimeElement."""
    kind = element.WhichOneof("element")
    if kind == "age":
        years = parse_duration(element.age.iso8601duration)
        if years is None:
            problems.append(Problem(f"{where}.age.iso8601duration", f"{element.age.iso8601duration!r} is not an ISO 8601 duration (e.g. P2Y6M)"))
        return years, None
    if kind == "age_range":
        start = parse_duration(element.age_range.start.iso8601duration)
        end = parse_duration(element.age_range.end.iso8601duration)
        if start is None or end is None:
            problems.append(Problem(f"{where}.ageRange", "start and end must be ISO 8601 durations (e.g. P2Y)"))
            return None, None
        return (start + end) / 2.0, None
    if kind == "ontology_class":
        term = element.ontology_class.id
        if not _HPO.match(term):
            problems.append(Problem(f"{where}.ontologyClass.id", f"{term!r} is not an HPO onset term (HP: and seven digits)"))
            return None, None
        return _BAND_AGE.get(term), term
    if kind == "gestational_age":
        return None, _ANTENATAL
    return None, None


def read_phenopacket(data: Mapping[str, Any] | str, *, source: str = "phenopacket") -> ImportedCase:
    """Read one phenopacket into a case and its known diagnoses.

    Parameters
    ----------
    data : Mapping or str
        The phenopacket as parsed JSON, or as JSON text.
    source : str
        Its name in error messages (a file name, ``file:line``).

    Raises
    ------
    CaseError
        Naming every problem: not JSON, not a Phenopacket v2 message, a feature that is not an
        HPO term, a malformed age, or a case that fails the case's own checks.
    """
    if isinstance(data, str):
        try:
            data = json.loads(data)
        except json.JSONDecodeError as error:
            raise CaseError([Problem("", f"not valid JSON: {error.msg} (line {error.lineno}, column {error.colno})")], source=source) from None
    if not isinstance(data, Mapping):
        raise CaseError([Problem("phenopacket", f"expected a JSON object, got {type(data).__name__}")], source=source)
    packet = _parse_message(data, source)
    problems: list[Problem] = []

    present: dict[str, None] = {}
    absent: dict[str, None] = {}
    feature_onsets: list[tuple[float | None, str | None]] = []
    for i, feature in enumerate(packet.phenotypic_features):
        term = feature.type.id
        if not _HPO.match(term):
            problems.append(Problem(f"phenotypicFeatures[{i}].type.id", f"{term!r} is not an HPO term (HP: and seven digits)"))
            continue
        (absent if feature.excluded else present)[term] = None
        if feature.HasField("onset") and not feature.excluded:
            feature_onsets.append(_time(feature.onset, f"phenotypicFeatures[{i}].onset", problems))
    absent = {t: None for t in absent if t not in present}

    onset_age: float | None = None
    onset_term: str | None = None
    for i, disease in enumerate(packet.diseases):
        if disease.HasField("onset") and not disease.excluded:
            onset_age, onset_term = _time(disease.onset, f"diseases[{i}].onset", problems)
            break
    else:
        ages = [age for age, _ in feature_onsets if age is not None]
        if ages:
            onset_age = min(ages)
        elif terms := [term for _, term in feature_onsets if term]:
            onset_term = terms[0]
            onset_age = _BAND_AGE.get(onset_term)

    age: float | None = None
    subject = packet.subject
    if subject.HasField("time_at_last_encounter"):
        age, _ = _time(subject.time_at_last_encounter, "subject.timeAtLastEncounter", problems)
    sex_names = subject.DESCRIPTOR.fields_by_name["sex"].enum_type.values_by_number
    sex = _SEX.get(sex_names[subject.sex].name if subject.sex in sex_names else "", "unknown")

    labs = []
    for i, measurement in enumerate(packet.measurements):
        loinc = _LOINC.match(measurement.assay.id)
        if loinc is None or measurement.value.WhichOneof("value") != "quantity":
            continue  # only LOINC-coded quantities can be laboratory results
        quantity = measurement.value.quantity
        unit = quantity.unit.id.split(":", 1)[-1] or quantity.unit.label
        labs.append({"loinc": loinc[1], "name": measurement.assay.label or None, "value": quantity.value, "unit": unit})
    seen_loinc: set[str] = set()
    labs = [lab for lab in labs if not (lab["loinc"] in seen_loinc or seen_loinc.add(lab["loinc"]))]  # type: ignore[func-returns-value]

    diagnoses: dict[str, Diagnosis] = {}
    for disease in packet.diseases:
        if not disease.excluded and disease.term.id:
            diagnoses.setdefault(disease.term.id, Diagnosis(disease.term.id, disease.term.label))
    for interpretation in packet.interpretations:
        term = interpretation.diagnosis.disease
        if term.id:
            diagnoses.setdefault(term.id, Diagnosis(term.id, term.label))

    if problems:
        raise CaseError(problems, source=source)
    if age is not None and (age > 120 or (onset_age is not None and onset_age > age)):
        age = None
    if onset_age is not None and onset_age > 120:
        onset_age = None
    fields: dict[str, Any] = {
        "id": packet.id[:200] or None,
        "sex": sex,
        "age": age,
        "onset_age": onset_age,
        "findings": list(present),
        "absent": list(absent),
        "labs": labs,
    }
    case = read_case({k: v for k, v in fields.items() if v not in (None, [])}, source=source)
    return ImportedCase(case=case, diagnoses=tuple(diagnoses.values()), onset_term=onset_term, source=source)


def _open_text(path: Path) -> Any:
    with path.open("rb") as probe:
        gzipped = probe.read(2) == b"\x1f\x8b"
    return gzip.open(path, "rt", encoding="utf-8") if gzipped else path.open("r", encoding="utf-8")


def load_phenopacket(path: str | Path) -> ImportedCase:
    """Read a phenopacket from a JSON file (gzipped or not).

    Raises
    ------
    CaseError
        When the file cannot be read or the phenopacket is malformed.
    """
    path = Path(path)
    try:
        with _open_text(path) as handle:
            text = handle.read()
    except OSError as error:
        raise CaseError([Problem("", f"cannot read the file: {error.strerror or error}")], source=str(path)) from None
    except UnicodeDecodeError:
        raise CaseError([Problem("", "the file is not UTF-8 text")], source=str(path)) from None
    return read_phenopacket(text, source=str(path))


def iter_phenopackets(path: str | Path) -> Iterator[ImportedCase]:
    """Stream a JSON Lines file of phenopackets (gzipped or not), one case per line.

    Blank lines are skipped. Each line is read whole or not at all.

    Raises
    ------
    CaseError
        When the file cannot be read, or at the first malformed line (named ``file:line``).
    """
    path = Path(path)
    try:
        handle = _open_text(path)
    except OSError as error:
        raise CaseError([Problem("", f"cannot read the file: {error.strerror or error}")], source=str(path)) from None
    with handle:
        number = 0
        try:
            for number, line in enumerate(handle, start=1):
                if line.strip():
                    yield read_phenopacket(line, source=f"{path}:{number}")
        except (OSError, EOFError, UnicodeDecodeError) as error:
            raise CaseError([Problem("", f"cannot read line {number + 1}: {error}")], source=str(path)) from None
