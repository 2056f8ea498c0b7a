"""GA4GH Phenopackets (schema v2) as Contraxis cases, with what was not read.

:func:`read_phenopacket` turns one phenopacket (JSON or YAML text, or parsed data) into an
:class:`ImportedCase`: the native :class:`~contraxis.case.Case`, the diagnoses the
phenopacket states (for benchmarks; they never reach the case), the onset as an HPO onset
term when it gives one, and ``not_read``: one :class:`~contraxis.reading.NotRead` per item
that was not used or was changed, its path in the phenopacket (``phenotypicFeatures[4].type.id``).

The message is parsed with the ``phenopackets`` package (``google.protobuf.json_format``), so
a message that does not fit the v2 schema is refused. Other messages are named and refused
with what to do: a phenopacket v1 (convert it with phenopacket-tools), a Family or a Cohort
(give one person's phenopacket), a binary protobuf file (write it as JSON). Bad values (a
malformed duration, an age over 120, a timestamp before the date of birth) are refused in one
:class:`~contraxis.errors.CaseError` naming each field, its value and what is allowed; a
phenopacket is read whole or not at all.

What is read:

=========================================  =================================================
phenopacket                                case
=========================================  =================================================
``id``                                     ``id``
``subject.sex``                            ``sex`` (MALE, FEMALE; anything else is unknown)
``subject.timeAtLastEncounter``            ``age``: an ISO 8601 duration, an age range (its
                                           middle), or a timestamp counted from
                                           ``subject.dateOfBirth``; without it, the age today
                                           from the date of birth
``phenotypicFeatures[].type.id``           ``findings``, or ``absent`` when ``excluded``; HPO
                                           alt_ids and obsolete ids are replaced
                                           (:func:`contraxis.terminology.hpo.hpo_replacement`);
                                           a term given both ways is kept as present; a term
                                           of another ontology is not read
``diseases[].onset``, else the earliest    ``onset_age``, and the onset term (an HPO onset
``phenotypicFeatures[].onset``             class; an antenatal class, a gestational age or a
                                           timestamp before birth is antenatal onset)
``measurements[]`` (LOINC assays)          ``labs``: a quantity with its unit (UCUM, a Units
                                           Ontology id, through
                                           :func:`contraxis.terminology.units.normalise_unit`),
                                           or a qualitative value (Low, Normal, High...) as
                                           the result's ``interpretation``; every result of a
                                           test is kept with its date (``timeObserved``)
``medicalActions[].treatment.agent``       ``medications`` (name, RxNorm code), with the days
                                           since the first dose and since the last
``diseases[].term``,                       the known diagnoses (reported as not read)
``interpretations[].diagnosis.disease``
=========================================  =================================================

:func:`iter_phenopackets` streams a JSON Lines file of phenopackets (gzipped or not), one
case per line; a bad line raises a :class:`~contraxis.errors.CaseError` naming its number.
"""

from __future__ import annotations

import datetime as dt
import gzip
import math
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..case import Case
from ..codes.patterns import LOINC_CODE, RXNORM_ID
from ..documents import kind_of, parse_document
from ..errors import CaseError, Problem
from ..reading import NotRead, Reading, excerpt, relocate

__all__ = [
    "Diagnosis",
    "ImportedCase",
    "binary_phenopacket_kind",
    "binary_problem",
    "looks_binary",
    "iter_phenopackets",
    "load_phenopacket",
    "other_phenopacket_message",
    "parse_duration",
    "read_phenopacket",
]

MAX_AGE = 120.0
"""The oldest age (years) a case accepts, as in a native case."""

_HPO_VARIANT = re.compile(r"^(?:https?://purl\.obolibrary\.org/obo/)?HP[_:](\d{7})$", re.IGNORECASE)
_DURATION = re.compile(
    r"^P(?!$)(?:(\d+(?:\.\d+)?)Y)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)W)?(?:(\d+(?:\.\d+)?)D)?"
    r"(?:T(?=\d)(?:\d+(?:\.\d+)?H)?(?:\d+(?:\.\d+)?M)?(?:\d+(?:\.\d+)?S)?)?$"
)
_LOINC = re.compile(rf"LOINC:((?:{LOINC_CODE.pattern}))", re.IGNORECASE)
_RXNORM = re.compile(rf"RXNORM:({RXNORM_ID.pattern})", re.IGNORECASE)
_SEX = {"MALE": "male", "FEMALE": "female"}
_YEAR_DAYS = 365.25

# HPO onset classes (hp.obo): HP:0030674 Antenatal onset and its subclasses HP:0011460
# Embryonal onset, HP:0011461 Fetal onset, HP:0034199 Late first trimester onset,
# HP:0034198 Second trimester onset, HP:0034197 Third trimester onset.
_ANTENATAL = "HP:0030674"
_ANTENATAL_TERMS = frozenset({"HP:0030674", "HP:0011460", "HP:0011461", "HP:0034197", "HP:0034198", "HP:0034199"})

# A representative age (years) for an onset class covering one age band, so that the
# case's onset_age can be filled; classes spanning several bands leave it unknown.
_BAND_AGE = {
    **{term: 0.0 for term in _ANTENATAL_TERMS},
    "HP:0003577": 0.0, "HP:0003623": 0.04, "HP:0003593": 0.5, "HP:0011463": 3.0,
    "HP:0003621": 10.0, "HP:0011462": 28.0, "HP:0025708": 17.0, "HP:0025709": 22.0, "HP:0025710": 32.0,
    "HP:4000040": 28.0, "HP:0003596": 50.0, "HP:6000314": 50.0, "HP:0003584": 70.0,
}

# Top-level fields of each phenopacket message (JSON names and proto names).
_V2_FIELDS = frozenset({
    "subject", "phenotypicFeatures", "phenotypic_features", "measurements", "biosamples", "interpretations",
    "diseases", "medicalActions", "medical_actions", "files", "metaData", "meta_data",
})
_V1_ONLY_FIELDS = ("phenotypes", "genes", "variants", "htsFiles", "hts_files", "patient")
_V1_FEATURE_FIELDS = ("negated", "classOfOnset", "ageOfOnset", "ageRangeOfOnset", "class_of_onset", "age_of_onset")
_V1_SUBJECT_FIELDS = ("ageAtCollection", "ageRangeAtCollection", "age_at_collection")
_V1_DISEASE_FIELDS = ("classOfOnset", "ageOfOnset", "ageRangeOfOnset", "tumorStage", "tnmFinding")

_CONVERT_V1 = (
    "Contraxis reads phenopacket v2; convert it with phenopacket-tools "
    "(`phenopacket-tools convert --output-format json FILE`) and give the v2 file"
)
_WRITE_JSON = (
    "Contraxis reads phenopackets as JSON or YAML text; write it out as JSON first "
    "(protobuf's json_format.MessageToJson, or the JSON export of the tool that made it)"
)


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
    not_read : tuple of NotRead
        Every item of the phenopacket not used, or changed before use, with its path.
    origins : Mapping[str, str]
        Case path -> phenopacket path (``case.findings[0]`` -> ``phenotypicFeatures[2].type.id``).
    """

    case: Case
    diagnoses: tuple[Diagnosis, ...]
    onset_term: str | None = None
    source: str = ""
    not_read: tuple[NotRead, ...] = ()
    origins: Mapping[str, str] = field(default_factory=dict)

    @property
    def features(self) -> int:
        """How many phenotypic features (present or excluded) the case kept."""
        return len(self.case.findings) + len(self.case.absent)

    def reading(self) -> Reading:
        """The same, as a :class:`~contraxis.reading.Reading` (format ``phenopacket``).

        ``extra`` holds ``onset_term``, ``diagnoses``, ``source`` and ``origins``.
        """
        return Reading(
            case=self.case,
            not_read=self.not_read,
            format="phenopacket",
            extra={
                "onset_term": self.onset_term,
                "diagnoses": self.diagnoses,
                "source": self.source,
                "origins": dict(self.origins),
            },
        )


def parse_duration(text: str) -> float | None:
    """Read an ISO 8601 duration (``P2Y6M``, ``P3W``, ``P10D``) as years; None if malformed."""
    match = _DURATION.match(text.strip()) if isinstance(text, str) else None
    if match is None:
        return None
    years, months, weeks, days = (float(g) if g else 0.0 for g in match.groups())
    return years + months / 12.0 + (weeks * 7.0 + days) / _YEAR_DAYS


# --- other messages: v1, Family, Cohort, binary ------------------------------------------------


def _v1_evidence(data: Mapping[str, Any]) -> tuple[str, str] | None:
    """The field and the words that show ``data`` is a phenopacket v1, or None."""
    for key in _V1_ONLY_FIELDS:
        if key in data:
            return key, f"it has `{key}`, a field of phenopacket v1"
    subject = data.get("subject")
    if isinstance(subject, Mapping):
        for key in _V1_SUBJECT_FIELDS:
            if key in subject:
                return f"subject.{key}", f"`{key}` is a field of phenopacket v1"
    for list_key, keys in (("phenotypicFeatures", _V1_FEATURE_FIELDS), ("diseases", _V1_DISEASE_FIELDS)):
        items = data.get(list_key)
        if isinstance(items, list):
            for i, item in enumerate(items[:1000]):
                if isinstance(item, Mapping):
                    for key in keys:
                        if key in item:
                            return f"{list_key}[{i}].{key}", f"`{key}` is a field of phenopacket v1"
    meta = data.get("metaData", data.get("meta_data"))
    if isinstance(meta, Mapping):
        version = meta.get("phenopacketSchemaVersion", meta.get("phenopacket_schema_version"))
        if isinstance(version, (str, int, float)) and str(version).strip().startswith(("1", "v1", "0.")):
            return "metaData.phenopacketSchemaVersion", f"its schema version is {excerpt(str(version), 20)!r}"
    return None


def other_phenopacket_message(data: Mapping[str, Any]) -> Problem | None:
    """Name a GA4GH message that is not a phenopacket v2 and say what to do, or return None.

    Recognises a Family (``proband``), a Cohort (``members``) and a phenopacket v1 (its
    v1-only fields, or ``metaData.phenopacketSchemaVersion`` 1.x).
    """
    if "proband" in data:
        relatives = data.get("relatives")
        count = len(relatives) if isinstance(relatives, list) else 0
        return Problem("proband", (
            f"a phenopacket Family (a proband and {count} relative{'s' if count != 1 else ''}), not a phenopacket: "
            "Contraxis reads one person; give the proband (the Family's `proband` field) as its own phenopacket file"
        ))
    if "members" in data:
        members = data.get("members")
        count = len(members) if isinstance(members, list) else 0
        return Problem(
            "members",
            (
                f"a phenopacket Cohort of {count} member{'s' if count != 1 else ''}, not a phenopacket: "
                "Contraxis reads one person; give each member as its own phenopacket file, "
                "or all of them as JSON Lines (one phenopacket per line) to `contraxis differential`"
            ),
        )
    evidence = _v1_evidence(data)
    if evidence is not None:
        where, why = evidence
        return Problem(where, f"a phenopacket v1 ({why}): {_CONVERT_V1}")
    return None


def looks_binary(raw: bytes) -> bool:
    """Whether bytes look like a binary file rather than text: control characters (but tab and
    line ends) or bytes that are not UTF-8, in the first 4 kB."""
    head = raw[:4096]
    if any(byte < 0x20 and byte not in (0x09, 0x0A, 0x0D) for byte in head):
        return True
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as error:
        return error.start < len(head) - 3  # not merely a character cut at the end of the sample
    return False


def binary_phenopacket_kind(raw: bytes) -> str | None:
    """Name a binary (protobuf wire format) phenopacket message, or return None.

    Returns ``"phenopacket"``, ``"Family"`` or ``"Cohort"`` when ``raw`` looks binary
    (:func:`looks_binary`), parses as that v2 message and holds what one holds (features, a
    subject or its creator; a proband; members).
    """
    if not raw or not looks_binary(raw):
        return None
    from google.protobuf.message import DecodeError
    from phenopackets import Cohort, Family, Phenopacket

    tests = (
        ("phenopacket", Phenopacket, lambda m: bool(m.phenotypic_features or m.subject.id or m.meta_data.created_by)),
        ("Family", Family, lambda m: m.HasField("proband")),
        ("Cohort", Cohort, lambda m: len(m.members) > 0),
    )
    for name, kind, holds in tests:
        try:
            message = kind.FromString(raw)
        except (DecodeError, ValueError, RuntimeError):
            continue
        if holds(message):
            return name
    return None


def binary_problem(kind: str) -> Problem:
    """The refusal of a binary phenopacket message of ``kind``."""
    return Problem("", f"a binary (protobuf) {kind} message: {_WRITE_JSON}")


# --- parsing ----------------------------------------------------------------------------------


def _plain(value: Any, depth: int = 0) -> Any:
    """Parsed YAML as JSON data: dates and timestamps become ISO 8601 strings."""
    if depth > 60:
        return value
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")
    if isinstance(value, dt.date):
        return f"{value.isoformat()}T00:00:00Z"
    if isinstance(value, Mapping):
        return {str(k): _plain(v, depth + 1) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v, depth + 1) for v in value]
    return value


def _parse_message(data: Mapping[str, Any], source: str) -> Any:
    from google.protobuf import json_format
    from phenopackets import Phenopacket

    try:
        return json_format.ParseDict(dict(data), Phenopacket())
    except (json_format.ParseError, TypeError, ValueError, AttributeError, RecursionError) as error:
        message = str(error).replace("Message type \"org.phenopackets.schema.v2.", "\"")
        problem = Problem("phenopacket", f"does not fit the Phenopacket v2 schema: {excerpt(message, 300)}")
    try:  # a v1 message without a v1-only field: say so
        from phenopackets.schema.v1.phenopackets_pb2 import Phenopacket as PhenopacketV1

        json_format.ParseDict(dict(data), PhenopacketV1())
    except Exception:  # noqa: BLE001 - not v1 either: the v2 problem stands
        raise CaseError([problem], source=source) from None
    raise CaseError(
        [Problem("phenopacket", f"a phenopacket v1 (it fits the v1 schema, not v2): {_CONVERT_V1}")], source=source
    )


def _mapping(data: Any, source: str) -> Mapping[str, Any]:
    if isinstance(data, bytes):
        kind = binary_phenopacket_kind(data)
        if kind is not None:
            raise CaseError([binary_problem(kind)], source=source)
        try:
            data = data.decode("utf-8")
        except UnicodeDecodeError:
            raise CaseError([Problem("", "is not UTF-8 text")], source=source) from None
    if isinstance(data, str):
        data = parse_document(data, source=source)
    if not isinstance(data, Mapping):
        raise CaseError([Problem("phenopacket", f"expected a JSON object, got {kind_of(data)}")], source=source)
    return data


def _unwrapped(data: Mapping[str, Any]) -> Mapping[str, Any]:
    """The phenopacket inside a ``{"phenopacket": {...}}`` envelope (as some converters write it)."""
    inner = data.get("phenopacket")
    if isinstance(inner, Mapping) and not (set(data) & _V2_FIELDS):
        return inner
    return data


_SEXES = ("UNKNOWN_SEX", "FEMALE", "MALE", "OTHER_SEX")


def _coerced(data: Mapping[str, Any]) -> tuple[dict[str, Any], list[NotRead]]:
    """Fix the one common slip whose meaning is plain: ``subject.sex`` not in upper case
    (``female``); each fix is reported."""
    data = dict(data)
    notes: list[NotRead] = []
    subject = data.get("subject")
    if isinstance(subject, Mapping) and isinstance(subject.get("sex"), str):
        given = subject["sex"]
        upper = given.strip().upper()
        if given not in _SEXES and upper in _SEXES:
            data["subject"] = {**subject, "sex": upper}
            notes.append(NotRead.of("subject.sex", given, f"read as {upper} (the schema's spelling)"))
    return data, notes


# --- reading ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _When:
    """A time element read: an age in years (negative before birth), an HPO onset term, or a date."""

    years: float | None = None
    term: str | None = None
    date: dt.date | None = None
    text: str = ""
    approximate: bool = False

    @property
    def antenatal(self) -> bool:
        return self.term in _ANTENATAL_TERMS or (self.years is not None and self.years < 0)

    @property
    def order(self) -> float:
        """Sort key: earlier onsets first; an onset with no age last."""
        if self.antenatal:
            return -1.0
        if self.years is not None:
            return self.years
        return float("inf")


def _label(concept: Any) -> str:
    return f"{concept.id} {concept.label}".strip()


@dataclass
class _Reader:
    """Reads one parsed Phenopacket message (the protobuf object)."""

    packet: Any
    today: dt.date
    problems: list[Problem] = field(default_factory=list)
    not_read: list[NotRead] = field(default_factory=list)
    origins: dict[str, str] = field(default_factory=dict)
    dob: dt.datetime | None = None

    def skip(self, path: str, value: Any, reason: str) -> None:
        self.not_read.append(NotRead.of(path, value, reason))

    def years(self, years: float, where: str, text: str) -> float | None:
        if years > MAX_AGE:
            self.problems.append(
                Problem(where, f"{excerpt(text, 40)!r} is {years:.0f} years: an age must be between 0 and {MAX_AGE:g}")
            )
            return None
        return years

    def since_birth(self, moment: dt.datetime, where: str) -> float | None:
        """Years from the date of birth to ``moment``; None (reported) without a date of birth."""
        if self.dob is None:
            self.skip(
                where,
                moment.isoformat(),
                "a date, not an age, and the phenopacket gives no subject.dateOfBirth to count the age from: not used",
            )
            return None
        return (moment - self.dob).total_seconds() / (_YEAR_DAYS * 86400.0)

    def time(self, element: Any, where: str) -> _When | None:
        """Read a TimeElement; None when it says nothing usable (reported) or is malformed."""
        kind = element.WhichOneof("element")
        if kind == "age":
            text = element.age.iso8601duration
            years = parse_duration(text)
            if years is None:
                self.problems.append(
                    Problem(
                        f"{where}.age.iso8601duration",
                        f"{excerpt(text, 40)!r} is not an ISO 8601 duration (e.g. P2Y6M)",
                    )
                )
                return None
            years = self.years(years, f"{where}.age.iso8601duration", text)
            return None if years is None else _When(years=years, text=text)
        if kind == "age_range":
            start_text, end_text = element.age_range.start.iso8601duration, element.age_range.end.iso8601duration
            start, end = parse_duration(start_text), parse_duration(end_text)
            if start is None or end is None or end < start:
                self.problems.append(
                    Problem(
                        f"{where}.ageRange",
                        f"start {excerpt(start_text, 20)!r} and end {excerpt(end_text, 20)!r} must be "
                        "ISO 8601 durations, the start first (e.g. P2Y, P4Y)",
                    )
                )
                return None
            if self.years(end, f"{where}.ageRange.end.iso8601duration", end_text) is None:
                return None
            return _When(years=(start + end) / 2.0, text=f"{start_text} to {end_text}", approximate=start != end)
        if kind == "ontology_class":
            term = element.ontology_class.id
            variant = _HPO_VARIANT.match(term.strip())
            if variant is None:
                self.skip(
                    f"{where}.ontologyClass.id",
                    _label(element.ontology_class),
                    "not an HPO onset class (HP: and seven digits): not used",
                )
                return None
            term = f"HP:{variant[1]}"
            return _When(years=_BAND_AGE.get(term), term=term, text=_label(element.ontology_class), approximate=True)
        if kind == "gestational_age":
            weeks = element.gestational_age.weeks
            return _When(term=_ANTENATAL, text=f"gestational age {weeks} weeks")
        if kind in ("timestamp", "interval"):
            stamp = element.timestamp if kind == "timestamp" else element.interval.start
            moment = stamp.ToDatetime(tzinfo=dt.UTC)
            path = f"{where}.timestamp" if kind == "timestamp" else f"{where}.interval.start"
            years = self.since_birth(moment, path)
            if years is None:
                return None
            if years < -1.0:
                self.problems.append(
                    Problem(
                        path,
                        f"{moment.date().isoformat()} is more than a year before the date of birth "
                        f"{self.dob.date().isoformat() if self.dob else ''}",
                    )
                )
                return None
            if years < 0:
                return _When(years=years, term=_ANTENATAL, text=moment.date().isoformat(), date=moment.date())
            years = self.years(years, path, moment.date().isoformat())
            return None if years is None else _When(years=years, text=moment.date().isoformat(), date=moment.date())
        return None

    # -- subject --------------------------------------------------------------------------------

    def subject(self) -> tuple[str, float | None, str]:
        """Sex, age (years), and the path the age came from."""
        subject = self.packet.subject
        if subject.HasField("date_of_birth"):
            self.dob = subject.date_of_birth.ToDatetime(tzinfo=dt.UTC)
            if self.dob.date() > self.today:
                self.problems.append(Problem("subject.dateOfBirth", f"{self.dob.date().isoformat()} is in the future"))
                self.dob = None
        sex_names = subject.DESCRIPTOR.fields_by_name["sex"].enum_type.values_by_number
        sex = _SEX.get(sex_names[subject.sex].name if subject.sex in sex_names else "", "unknown")
        age: float | None = None
        where = ""
        if subject.HasField("time_at_last_encounter"):
            where = "subject.timeAtLastEncounter"
            when = self.time(subject.time_at_last_encounter, where)
            if when is not None:
                if when.antenatal:
                    self.skip(where, when.text, "before birth: not an age at an encounter; age not used")
                elif when.years is None:
                    self.skip(where, when.text, "an age class that gives no age: age not used")
                else:
                    age = when.years
                    if when.approximate:
                        self.skip(where, when.text, f"an age class or range: read as an age of about {age:.3g} years")
        elif self.dob is not None:
            now = dt.datetime.combine(self.today, dt.time(), tzinfo=dt.UTC)
            years = (now - self.dob).total_seconds() / (_YEAR_DAYS * 86400.0)
            where = "subject.dateOfBirth"
            age = self.years(years, where, self.dob.date().isoformat())
            if age is not None:
                self.skip(
                    where,
                    self.dob.date().isoformat(),
                    f"no subject.timeAtLastEncounter: age counted to {self.today.isoformat()} ({age:.3g} years)",
                )
        return sex, age, where

    # -- features -------------------------------------------------------------------------------

    def features(self) -> tuple[list[str], list[str], list[tuple[_When, str]]]:
        """Present and excluded HPO ids (each recorded in ``origins``), and present onsets."""
        from ..terminology.hpo import hpo_replacement

        present: dict[str, str] = {}
        excluded: dict[str, str] = {}
        onsets: list[tuple[_When, str]] = []
        for i, feature in enumerate(self.packet.phenotypic_features):
            where = f"phenotypicFeatures[{i}]"
            given = feature.type.id.strip()
            variant = _HPO_VARIANT.match(given)
            if variant is None:
                self.skip(
                    f"{where}.type.id", _label(feature.type), "not an HPO term: only HPO phenotypic features are read"
                )
                continue
            term = f"HP:{variant[1]}"
            if term != given:
                self.skip(f"{where}.type.id", given, f"read as {term}")
            replacement = hpo_replacement(term)
            if replacement is not None and replacement.current:
                self.skip(
                    f"{where}.type.id", _label(feature.type), replacement.note or f"read as {replacement.current}"
                )
                term = replacement.current
            if feature.excluded:
                excluded.setdefault(term, f"{where}.type.id")
            else:
                present.setdefault(term, f"{where}.type.id")
                if feature.HasField("onset"):
                    when = self.time(feature.onset, f"{where}.onset")
                    if when is not None:
                        onsets.append((when, f"{where}.onset"))
            if feature.modifiers or feature.HasField("severity"):
                shown = ", ".join(
                    _label(m)
                    for m in [*feature.modifiers, *([feature.severity] if feature.HasField("severity") else [])]
                )
                self.skip(
                    f"{where}.modifiers" if feature.modifiers else f"{where}.severity",
                    shown,
                    "modifiers and severity of a feature are not used",
                )
        for term, path in excluded.items():
            if term in present:
                self.skip(path, term, f"given both as present ({present[term]}) and excluded: read as present")
        excluded = {t: p for t, p in excluded.items() if t not in present}
        findings, absent = list(present), list(excluded)
        for i, term in enumerate(findings):
            self.origins[f"case.findings[{i}]"] = present[term]
        for i, term in enumerate(absent):
            self.origins[f"case.absent[{i}]"] = excluded[term]
        return findings, absent, onsets

    # -- onset ----------------------------------------------------------------------------------

    def onset(self, feature_onsets: list[tuple[_When, str]]) -> tuple[float | None, str | None, str]:
        """The onset age, the onset term and the path they came from."""
        chosen: tuple[_When, str] | None = None
        for i, disease in enumerate(self.packet.diseases):
            if disease.HasField("onset") and not disease.excluded:
                when = self.time(disease.onset, f"diseases[{i}].onset")
                if when is not None:
                    chosen = (when, f"diseases[{i}].onset")
                    break
        if chosen is None and feature_onsets:
            chosen = min(feature_onsets, key=lambda pair: pair[0].order)
        if chosen is None:
            return None, None, ""
        when, where = chosen
        if when.antenatal:
            return 0.0, when.term or _ANTENATAL, where
        if when.years is not None and when.approximate and when.term:
            self.skip(
                where,
                when.text,
                "an onset class: the differential uses it as given; "
                f"the assessment reads an onset at about {when.years:g} years",
            )
        elif when.years is not None and when.approximate:
            self.skip(where, when.text, f"an age range: read as onset at {when.years:.3g} years")
        return when.years, when.term, where

    # -- measurements ---------------------------------------------------------------------------

    def unit(self, concept: Any) -> str | None:
        """The UCUM code of a unit given as an ontology class (UCUM:, UO:, or its label)."""
        from ..terminology.units import normalise_unit

        given = concept.id.strip()
        tries = [given[5:] if given.upper().startswith("UCUM:") else given, concept.label.strip()]
        for text in tries:
            if text:
                code = normalise_unit(text)
                if code is not None:
                    return code
        return next((t for t in tries if t), None)

    def measurements(self, age: float | None) -> list[dict[str, Any]]:
        if not self.packet.measurements:
            return []
        from ..terminology.labs import analyte_of, normalise_interpretation

        labs: list[dict[str, Any]] = []
        paths: list[str] = []
        for i, measurement in enumerate(self.packet.measurements):
            where = f"measurements[{i}]"
            loinc = _LOINC.fullmatch(measurement.assay.id.strip())
            if loinc is None:
                self.skip(
                    f"{where}.assay.id",
                    _label(measurement.assay),
                    "not a LOINC code: only LOINC-coded laboratory results are read",
                )
                continue
            lab: dict[str, Any] = {"loinc": loinc[1]}
            if measurement.assay.label:
                lab["name"] = measurement.assay.label[:200]
            kind = measurement.WhichOneof("measurement_value")
            if kind == "complex_value":
                self.skip(
                    f"{where}.complexValue", _label(measurement.assay), "a complex value (several quantities): not read"
                )
                continue
            if kind is None:
                self.skip(f"{where}.value", _label(measurement.assay), "no value: not read")
                continue
            value = measurement.value
            if value.WhichOneof("value") == "quantity":
                if not math.isfinite(value.quantity.value):
                    self.problems.append(
                        Problem(
                            f"{where}.value.quantity.value",
                            f"{value.quantity.value!r} is not a number (allowed: a finite number)",
                        )
                    )
                    continue
                lab["value"] = value.quantity.value
                unit = self.unit(value.quantity.unit)
                if unit is not None:
                    lab["unit"] = unit
                self.origins[f"case.labs[{len(labs)}].value"] = f"{where}.value.quantity.value"
                self.origins[f"case.labs[{len(labs)}].unit"] = f"{where}.value.quantity.unit"
            else:
                concept = value.ontology_class
                flag = normalise_interpretation(concept.id) or normalise_interpretation(concept.label)
                if flag is None:
                    self.skip(
                        f"{where}.value.ontologyClass",
                        _label(concept),
                        "a qualitative result that is not low, normal or high: not read",
                    )
                    continue
                lab["interpretation"] = flag
                self.origins[f"case.labs[{len(labs)}].interpretation"] = f"{where}.value.ontologyClass"
            if measurement.HasField("time_observed"):
                observed = measurement.time_observed
                stamp = {"timestamp": observed.timestamp, "interval": observed.interval.end}.get(
                    observed.WhichOneof("element") or ""
                )
                if stamp is not None:
                    when = _When(date=stamp.ToDatetime(tzinfo=dt.UTC).date())
                else:
                    when = self.time(observed, f"{where}.timeObserved")
                if when is not None and when.date is not None:
                    lab["date"] = when.date.isoformat()
                elif when is not None and when.years is not None and age is not None:
                    lab["days_ago"] = round(max(0.0, age - when.years) * _YEAR_DAYS, 1)
                elif when is not None:
                    self.skip(
                        f"{where}.timeObserved",
                        when.text,
                        "not a date or an age the case can date the result by: taken as undated",
                    )
            self.origins[f"case.labs[{len(labs)}]"] = where
            self.origins[f"case.labs[{len(labs)}].loinc"] = f"{where}.assay.id"
            labs.append(lab)
            paths.append(where)
        return self._dated(labs, paths, analyte_of)

    def _dated(self, labs: list[dict[str, Any]], paths: list[str], analyte_of: Any) -> list[dict[str, Any]]:
        """Drop (and report) undated results of a test given more than once: the latest cannot be told."""
        groups: dict[str, list[int]] = {}
        for i, lab in enumerate(labs):
            groups.setdefault(str(analyte_of(lab["loinc"]) or lab["loinc"]), []).append(i)
        dropped = {
            i
            for rows in groups.values()
            if len(rows) > 1 and any("date" in labs[j] or "days_ago" in labs[j] for j in rows)
            for i in rows
            if "date" not in labs[i] and "days_ago" not in labs[i]
        }
        for rows in groups.values():  # several results, none dated: keep the last given
            if len(rows) > 1 and all(
                i not in dropped and "date" not in labs[i] and "days_ago" not in labs[i] for i in rows
            ):
                dropped.update(rows[:-1])
        for i in sorted(dropped):
            self.skip(
                paths[i],
                labs[i]["loinc"],
                "a repeated test without timeObserved: which result is the latest cannot be told; not used",
            )
        if not dropped:
            return labs
        kept = [i for i in range(len(labs)) if i not in dropped]
        renumbered: dict[str, str] = {}
        for new, old in enumerate(kept):
            for key, value in self.origins.items():
                prefix = f"case.labs[{old}]"
                if key == prefix or key.startswith(prefix + "."):
                    renumbered[f"case.labs[{new}]" + key[len(prefix):]] = value
        self.origins = {k: v for k, v in self.origins.items() if not k.startswith("case.labs[")} | renumbered
        return [labs[i] for i in kept]

    # -- medical actions ------------------------------------------------------------------------

    def medications(self) -> list[dict[str, Any]]:
        drugs: list[dict[str, Any]] = []
        for i, action in enumerate(self.packet.medical_actions):
            where = f"medicalActions[{i}]"
            kind = action.WhichOneof("action")
            if kind != "treatment":
                self.skip(
                    where,
                    kind or "empty",
                    f"a {(kind or 'empty action').replace('_', ' ')}, not a drug treatment: not read",
                )
                continue
            agent = action.treatment.agent
            drug: dict[str, Any] = {}
            rxnorm = _RXNORM.fullmatch(agent.id.strip())
            if rxnorm is not None:
                drug["rxnorm"] = rxnorm[1]
            if agent.label.strip():
                drug["name"] = agent.label.strip()[:200]
            if not drug:
                self.skip(
                    f"{where}.treatment.agent",
                    _label(agent) or "empty",
                    "a treatment agent with no name or RxNorm code: not read",
                )
                continue
            starts, ends = [], []
            for dose in action.treatment.dose_intervals:
                interval = dose.interval
                for stamp, bucket in ((interval.start, starts), (interval.end, ends)):
                    if stamp.seconds or stamp.nanos:
                        bucket.append(stamp.ToDatetime(tzinfo=dt.UTC).date())
            if starts:
                first = min(starts)
                if first > self.today:
                    self.skip(f"{where}.treatment.doseIntervals", first.isoformat(), "starts in the future: not read")
                    continue
                drug["days_since_start"] = (self.today - first).days
            last_end = max(ends) if ends and len(ends) == len(action.treatment.dose_intervals) else None
            if last_end is not None and last_end < self.today:
                drug["days_since_stop"] = (self.today - last_end).days
            elif action.HasField("treatment_termination_reason"):
                self.skip(f"{where}.treatmentTerminationReason", _label(action.treatment_termination_reason),
                          "stopped, with no end date: not read as a current drug")
                continue
            self.origins[f"case.medications[{len(drugs)}]"] = f"{where}.treatment.agent"
            drugs.append(drug)
        return drugs

    # -- what is not read at all ------------------------------------------------------------------

    def diagnoses(self) -> tuple[Diagnosis, ...]:
        found: dict[str, Diagnosis] = {}
        for i, disease in enumerate(self.packet.diseases):
            if disease.term.id:
                if not disease.excluded:
                    found.setdefault(disease.term.id, Diagnosis(disease.term.id, disease.term.label))
                state = "an excluded diagnosis" if disease.excluded else "a stated diagnosis"
                self.skip(
                    f"diseases[{i}].term",
                    _label(disease.term),
                    f"{state}: not used (the answer is reasoned from the findings)",
                )
        for i, interpretation in enumerate(self.packet.interpretations):
            term = interpretation.diagnosis.disease
            if term.id:
                found.setdefault(term.id, Diagnosis(term.id, term.label))
            genes = [g.variant_interpretation.variation_descriptor.gene_context.symbol or g.gene.symbol
                     for g in interpretation.diagnosis.genomic_interpretations]
            shown = _label(term) + (f"; genes {', '.join(g for g in genes if g)}" if any(genes) else "")
            self.skip(
                f"interpretations[{i}]",
                shown or interpretation.id,
                "an interpretation (diagnosis and variants): not used",
            )
        for i, _ in enumerate(self.packet.biosamples):
            self.skip(f"biosamples[{i}]", self.packet.biosamples[i].id, "biosamples are not read")
        if self.packet.files:
            self.skip("files", f"{len(self.packet.files)} file(s)", "files are not read")
        return tuple(found.values())


def read_phenopacket(
    data: Mapping[str, Any] | str | bytes, *, source: str = "phenopacket", today: dt.date | None = None
) -> ImportedCase:
    """Read one phenopacket into a case, its known diagnoses and what was not read.

    Parameters
    ----------
    data : Mapping, str or bytes
        The phenopacket as parsed JSON or YAML, or as JSON or YAML text.
    source : str
        Its name in error messages (a file name, ``file:line``).
    today : datetime.date, optional
        The date ages from ``subject.dateOfBirth`` and the days since a drug's dose are
        counted to; today (UTC) if omitted.

    Returns
    -------
    ImportedCase
        The case, the stated diagnoses, the onset term and ``not_read``.

    Raises
    ------
    CaseError
        Naming every problem: not JSON or YAML, a Family, Cohort, v1 or binary message
        (saying what to do), a message that does not fit the v2 schema, a malformed age, an
        age over 120, or a case that fails the case's own checks (named by their place in
        the phenopacket).
    """
    from ..case import read_case_reading

    mapping = _unwrapped(_mapping(data, source))
    other = other_phenopacket_message(mapping)
    if other is not None:
        raise CaseError([other], source=source)
    mapping, coerced = _coerced(_plain(mapping))
    packet = _parse_message(mapping, source)
    reader = _Reader(packet=packet, today=today or dt.datetime.now(dt.UTC).date())
    reader.not_read.extend(coerced)

    sex, age, age_path = reader.subject()
    findings, absent, onsets = reader.features()
    onset_age, onset_term, onset_path = reader.onset(onsets)
    labs = reader.measurements(age)
    medications = reader.medications()
    diagnoses = reader.diagnoses()
    if reader.problems:
        raise CaseError(reader.problems, source=source)
    if age is not None and onset_age is not None and onset_age > age:
        reader.skip(
            age_path, f"{age:.3g} years", f"earlier than the onset ({onset_path}, {onset_age:.3g} years): age not used"
        )
        age = None
    if age_path:
        reader.origins["case.age"] = age_path
    if onset_path:
        reader.origins["case.onset_age"] = onset_path
    fields: dict[str, Any] = {
        "id": packet.id[:200] or None,
        "sex": sex,
        "age": age,
        "onset_age": onset_age,
        "findings": findings,
        "absent": absent,
        "labs": labs,
        "medications": medications,
    }
    try:
        reading = read_case_reading({k: v for k, v in fields.items() if v not in (None, [])}, source=source)
    except CaseError as error:
        raise type(error)([_relocated(p, reader.origins) for p in error.problems], source=source) from None
    moved = [NotRead(relocate(item.path, reader.origins), item.value, item.reason) for item in reading.not_read]
    return ImportedCase(
        case=reading.case, diagnoses=diagnoses, onset_term=onset_term, source=source,
        not_read=tuple(reader.not_read + moved), origins=dict(reader.origins),
    )


_FIELD = re.compile(r"^([a-z_]+): (.*)$", re.DOTALL)


def _relocated(problem: Problem, origins: Mapping[str, str]) -> Problem:
    """A case problem named by its place in the phenopacket (``case.labs[0]`` and a message
    ``value: ...`` -> ``measurements[2].value.quantity.value``)."""
    field_message = _FIELD.match(problem.message)
    if field_message is not None and f"{problem.where}.{field_message[1]}" in origins:
        return Problem(origins[f"{problem.where}.{field_message[1]}"], field_message[2])
    return Problem(relocate(problem.where, origins), problem.message)


def _open_text(path: Path) -> Any:
    with path.open("rb") as probe:
        gzipped = probe.read(2) == b"\x1f\x8b"
    return gzip.open(path, "rt", encoding="utf-8") if gzipped else path.open("r", encoding="utf-8")


def load_phenopacket(path: str | Path) -> ImportedCase:
    """Read a phenopacket from a JSON or YAML file (gzipped or not).

    Raises
    ------
    CaseError
        When the file cannot be read or the phenopacket is malformed.
    """
    path = Path(path)
    try:
        raw = path.read_bytes()
        if raw[:2] == b"\x1f\x8b":
            raw = gzip.decompress(raw)
    except (OSError, EOFError) as error:
        raise CaseError(
            [Problem("", f"cannot read the file: {getattr(error, 'strerror', None) or error}")], source=str(path)
        ) from None
    return read_phenopacket(raw, source=str(path))


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

