"""The FHIR reader's code maps, read from the data files of ``io/fhir/data`` and checked.

Each file is validated against a pydantic schema when it is first needed: a mistake stops
the load with a :class:`~contraxis.errors.KnowledgeBaseError` naming the file, the row and the
field. Every table cites a source of the knowledge base's ``sources.yaml``.

==========================  ================================================================
file                        holds
==========================  ================================================================
``elements.yaml``           course and severity terms, values meaning present or absent,
                            the gene-test LOINC codes
``regions.yaml``            body sites (SNOMED CT, words) as regions of the case format
``procedures.yaml``         brain MRI, treatments tried and their response, past operations
``allergy_reactions.yaml``  which reactions to a drug are dystonic reactions
``onset.yaml``              words of ``Condition.onsetString``
``statuses.yaml``           which resource statuses are current, past or ignored
==========================  ================================================================
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from ...codes.patterns import HISTORY_ID, HPO_ID, LOINC_ANSWER, LOINC_CODE, SCTID
from ...errors import KnowledgeBaseError, Problem
from ...vocabulary import REGIONS

__all__ = ["FhirTables", "load_tables"]

_LOINC = re.compile(f"{LOINC_CODE.pattern}|{LOINC_ANSWER.pattern}")

Course = Literal["progressive", "static", "acute", "episodic"]
SeverityValue = Literal["mild", "moderate", "severe"]


class _Row(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _check_codes(values: Any, pattern: re.Pattern[str], what: str) -> Any:
    for value in values:
        if not pattern.fullmatch(str(value)):
            raise ValueError(f"{value!r} is not {what}")
    return values


class _HpoTable(_Row):
    source: str
    codes: dict[str, Any]

    @field_validator("codes")
    @classmethod
    def _hpo(cls, value: dict[str, Any]) -> dict[str, Any]:
        return dict(zip(_check_codes(value, HPO_ID, "an HPO id (HP: and seven digits)"), value.values(), strict=True))


class _CourseTable(_HpoTable):
    codes: dict[str, Course]


class _SeverityHpo(_HpoTable):
    codes: dict[str, SeverityValue]


class _SeveritySnomed(_Row):
    source: str
    codes: dict[str, SeverityValue]

    @field_validator("codes")
    @classmethod
    def _sct(cls, value: dict[str, Any]) -> dict[str, Any]:
        _check_codes(value, SCTID, "a SNOMED CT id")
        return value


class _Presence(_Row):
    source: str
    interpretation_negative: list[str]
    interpretation_positive: list[str]
    snomed_negative: list[str]
    snomed_positive: list[str]
    loinc_present: list[str]
    loinc_absent: list[str]

    @field_validator("snomed_negative", "snomed_positive")
    @classmethod
    def _sct(cls, value: list[str]) -> list[str]:
        return _check_codes(value, SCTID, "a SNOMED CT id")

    @field_validator("loinc_present", "loinc_absent")
    @classmethod
    def _loinc(cls, value: list[str]) -> list[str]:
        return _check_codes(value, _LOINC, "a LOINC answer code (LA9633-4)")


class _GeneTest(_Row):
    source: str
    variant_loinc: list[str]
    gene_studied_loinc: str

    @field_validator("variant_loinc")
    @classmethod
    def _loinc(cls, value: list[str]) -> list[str]:
        return _check_codes(value, _LOINC, "a LOINC code")


class _Labs(_Row):
    source: str
    latest_kept: int = Field(ge=1, le=400)


class _Elements(_Row):
    course: _CourseTable
    severity_hpo: _SeverityHpo
    severity_snomed: _SeveritySnomed
    presence: _Presence
    gene_test: _GeneTest
    labs: _Labs


def _region(value: str) -> str:
    if value not in REGIONS:
        raise ValueError(f"{value!r} is not a region of the case format (allowed: {', '.join(REGIONS)})")
    return value


class _Regions(_Row):
    source: str
    snomed: dict[str, str]
    words_source: str
    words: dict[str, str]
    limb_words: dict[str, Literal["arm", "leg", "foot"]]

    @field_validator("snomed")
    @classmethod
    def _sct(cls, value: dict[str, str]) -> dict[str, str]:
        _check_codes(value, SCTID, "a SNOMED CT id")
        for region in value.values():
            _region(region)
        return value

    @field_validator("words")
    @classmethod
    def _words(cls, value: dict[str, str]) -> dict[str, str]:
        for region in value.values():
            _region(region)
        return value


class _Mri(_Row):
    study: list[str]
    site: list[str]
    abnormal: list[str]
    normal: list[str]

    @field_validator("study", "site", "abnormal", "normal")
    @classmethod
    def _patterns(cls, value: list[str]) -> list[str]:
        for pattern in value:
            re.compile(pattern)
        return value


class _Procedures(_Row):
    source: str
    mri: _Mri
    history_words: dict[str, str]
    treatment_words: dict[str, str]
    response_words: dict[Literal["none", "partial", "good"], list[str]]

    @field_validator("history_words")
    @classmethod
    def _hx(cls, value: dict[str, str]) -> dict[str, str]:
        _check_codes(value.values(), HISTORY_ID, "a history code (CX:hx-...)")
        return value

    @field_validator("treatment_words")
    @classmethod
    def _treatments(cls, value: dict[str, str]) -> dict[str, str]:
        from ...vocabulary import TREATMENTS

        for treatment in value.values():
            if treatment not in TREATMENTS:
                raise ValueError(f"{treatment!r} is not a treatment of the case format")
        return value


class _Reactions(_Row):
    source: str
    hpo_roots: dict[str, str]
    words: list[str] = Field(min_length=1)

    @field_validator("hpo_roots")
    @classmethod
    def _hpo(cls, value: dict[str, str]) -> dict[str, str]:
        _check_codes(value, HPO_ID, "an HPO id (HP: and seven digits)")
        return value


class _Onset(_Row):
    source: str
    moments: dict[str, float]
    periods: list[str]


class _Statuses(_Row):
    current: list[str] = Field(default_factory=list)
    past: list[str] = Field(default_factory=list)
    ignored: list[str] = Field(default_factory=list)


class _StatusFile(_Row):
    source: str
    medication_request: _Statuses
    medication_statement: _Statuses
    medication_administration: _Statuses
    medication_dispense: _Statuses
    observation: _Statuses
    diagnostic_report: _Statuses
    stop_long_past_days: int = Field(ge=1, le=36500)


@dataclass(frozen=True)
class FhirTables:
    """Every code map of the FHIR reader, checked. Build it with :func:`load_tables`."""

    elements: _Elements
    regions: _Regions
    procedures: _Procedures
    reactions: _Reactions
    onset: _Onset
    statuses: _StatusFile

    @property
    def region_words(self) -> tuple[tuple[str, str], ...]:
        return tuple(self.regions.words.items())

    @property
    def limb_words(self) -> tuple[tuple[str, str], ...]:
        return tuple(self.regions.limb_words.items())


_FILES: Mapping[str, type[_Row]] = MappingProxyType({
    "elements.yaml": _Elements,
    "regions.yaml": _Regions,
    "procedures.yaml": _Procedures,
    "allergy_reactions.yaml": _Reactions,
    "onset.yaml": _Onset,
    "statuses.yaml": _StatusFile,
})


def _source_ids() -> frozenset[str]:
    from ...knowledge.loader import DATA_DIR

    rows = yaml.safe_load((DATA_DIR / "sources.yaml").read_text(encoding="utf-8")) or []
    return frozenset(str(row.get("id")) for row in rows if isinstance(row, dict))


def _sources_in(data: Any, where: str) -> list[tuple[str, str]]:
    """Every ``source``-like field of a file: (where, source id)."""
    found: list[tuple[str, str]] = []
    if isinstance(data, dict):
        for key, value in data.items():
            if key.endswith("source") and isinstance(value, str):
                found.append((f"{where}{key}", value))
            else:
                found.extend(_sources_in(value, f"{where}{key}."))
    return found


def load_tables(directory: str | Path | None = None) -> FhirTables:
    """Read and check the FHIR reader's data files.

    Parameters
    ----------
    directory : path, optional
        Where the files are (tests); the package's ``data`` folder if omitted.

    Returns
    -------
    FhirTables
        The checked tables.

    Raises
    ------
    KnowledgeBaseError
        Naming each file, row and field that is wrong, and each source not in the knowledge
        base's sources.yaml.
    """
    if directory is None:
        return _bundled()
    return _load(Path(directory))


@functools.lru_cache(maxsize=1)
def _bundled() -> FhirTables:
    return _load(Path(str(files("contraxis.io.fhir") / "data")))


def _load(directory: Path) -> FhirTables:
    problems: list[Problem] = []
    loaded: dict[str, Any] = {}
    sources = _source_ids()
    for name, model in _FILES.items():
        try:
            data = yaml.safe_load((directory / name).read_text(encoding="utf-8"))
        except FileNotFoundError:
            problems.append(Problem(name, "file is missing"))
            continue
        except yaml.YAMLError as error:
            problems.append(Problem(name, f"not valid YAML: {str(error).splitlines()[0]}"))
            continue
        for where, source in _sources_in(data, f"{name}: "):
            if source not in sources:
                problems.append(Problem(where, f"{source!r} is not in the knowledge base's sources.yaml"))
        try:
            loaded[name] = model.model_validate(data)
        except ValidationError as error:
            for e in error.errors():
                loc = ".".join(str(p) for p in e["loc"])
                message = str(e["msg"]).removeprefix("Value error, ")
                problems.append(Problem(f"{name}: {loc}", f"{message} (got {str(e.get('input'))[:80]!r})"))
    if problems:
        raise KnowledgeBaseError(problems)
    return FhirTables(
        elements=loaded["elements.yaml"], regions=loaded["regions.yaml"], procedures=loaded["procedures.yaml"],
        reactions=loaded["allergy_reactions.yaml"], onset=loaded["onset.yaml"],
        statuses=loaded["statuses.yaml"],
    )
