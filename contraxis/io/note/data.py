"""The reviewed data of the note reader, validated at load.

Five files in ``contraxis/io/note/data/``, each checked by a pydantic schema when it is read:

================  =============================================================================
file              holds
================  =============================================================================
lexicon.yaml      British -> American spellings, irregular forms, words left out of keys,
                  number words
context.yaml      negation, uncertainty and family cues (NegEx and ConText), section headers
body.yaml         body parts -> regions, side words, words of movement, regions named by codes
findings.yaml     phrases and co-occurrence rules for HPO terms and the knowledge base's local
                  codes, HPO words set aside
facts.yaml        onset and course words, severity and disability, treatments and responses,
                  drugs, laboratory names, vital signs, brain imaging, gene tests
================  =============================================================================

A mistake stops the load with a :class:`~contraxis.errors.KnowledgeBaseError` naming the
file, the row and the field: an unknown field, a code that is not a current HPO term of the
shipped release or a local code of the knowledge base, a history code that is not one, a
treatment, region or analyte outside its vocabulary, a source that is not in
``knowledge/data/sources.yaml``, a spelling rule that is not a regular expression.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from ...codes.patterns import HISTORY_ID, HPO_ID, LOCAL_ID
from ...errors import KnowledgeBaseError, Problem
from ...vocabulary import REGIONS, TREATMENTS

__all__ = [
    "DATA_DIR",
    "BodyFile",
    "ContextFile",
    "FactsFile",
    "FindingsFile",
    "LexiconFile",
    "NoteFiles",
    "Rule",
    "load_note_files",
]

DATA_DIR = Path(__file__).resolve().parent / "data"
KB_DIR = Path(__file__).resolve().parents[2] / "knowledge" / "data"
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

Phrases = list[str]


class _Row(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _phrases(values: Any) -> Any:
    """A phrase list: text only, none empty."""
    if isinstance(values, list):
        out = []
        for value in values:
            if isinstance(value, bool) or value is None:
                raise ValueError(f"{value!r} is not a phrase (allowed: text)")
            text = str(value).strip()
            if not text:
                raise ValueError("an empty phrase")
            out.append(text)
        return out
    return values


# --- lexicon.yaml -----------------------------------------------------------------------------


class Spelling(_Row):
    uk: str = Field(description="A regular expression matched in a lower-case word")
    us: str = Field(description="Its replacement (may use groups)")

    @field_validator("uk")
    @classmethod
    def _regex(cls, value: str) -> str:
        try:
            re.compile(value)
        except re.error as error:
            raise ValueError(f"{value!r} is not a regular expression ({error})") from None
        return value


class LexiconFile(_Row):
    source: str
    reviewed: str | Any
    spelling: list[Spelling]
    irregular: dict[str, str]
    skip: Phrases
    numbers: dict[str, float]


# --- context.yaml -----------------------------------------------------------------------------


class TermLists(_Row):
    preceding: Phrases = []
    following: Phrases = []
    pseudo: Phrases = []
    termination: Phrases = []

    @field_validator("preceding", "following", "pseudo", "termination", mode="before")
    @classmethod
    def _lists(cls, value: Any) -> Any:
        return _phrases(value)


class Negation(_Row):
    source: str
    base: Literal["en_clinical", "en"]
    add: TermLists
    remove: TermLists


class Uncertainty(TermLists):
    source: str


class Family(_Row):
    source: str
    relatives: Phrases
    reporters: Phrases
    similar: Phrases
    none: Phrases
    present: Phrases


class Section(_Row):
    kind: Literal["family", "medications", "plan", "history", "examination", "investigations", "impression",
                  "complaint"]
    headers: Phrases


class ContextFile(_Row):
    source: str
    reviewed: str | Any
    negation: Negation
    uncertainty: Uncertainty
    family: Family
    sections: list[Section]


# --- body.yaml --------------------------------------------------------------------------------

PartRegion = Literal[
    "upper-face", "lower-face", "jaw", "tongue", "larynx", "neck", "trunk", "back", "abdomen",
    "arm", "leg", "foot", "limb", "upper-limb", "lower-limb",
]


class Part(_Row):
    words: Phrases
    region: PartRegion
    moves: Phrases = []
    not_with: Phrases = []
    after: Phrases = []


class Sides(_Row):
    left: Phrases
    right: Phrases
    both: Phrases


class BodyFile(_Row):
    source: str
    reviewed: str | Any
    parts: list[Part]
    sides: Sides
    moves: Phrases
    non_moves: Phrases = []
    regions_of_codes: dict[str, list[str]]

    @field_validator("regions_of_codes")
    @classmethod
    def regions_of(cls, value: dict[str, list[str]]) -> dict[str, list[str]]:
        for code, regions in value.items():
            for region in regions:
                if region not in REGIONS:
                    raise ValueError(f"{code}: {region!r} is not a region (allowed: {', '.join(REGIONS)})")
        return value


# --- findings.yaml ----------------------------------------------------------------------------


class Requires(_Row):
    regions: int | None = Field(default=None, ge=1, description="At least this many regions read")
    regions_any: list[str] = Field(default=[], description="One of these regions read")
    codes: list[str] = Field(default=[], description="One of these codes read as present")
    drugs: list[str] = Field(default=[], description="One of these drugs read (generic names)")


class Rule(_Row):
    """One phrase rule: its codes and how it matches (see findings.yaml's header)."""

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9.\-]*$")
    codes: list[str] = Field(min_length=1)
    terms: Phrases = []
    all: list[Phrases] = []
    window: int = Field(default=8, ge=1, le=40)
    ordered: bool = False
    unless: Phrases = []
    unless_codes: list[str] = []
    polarity: Literal["present", "absent"] = "present"
    only: Literal["any", "negated"] = "any"
    context: Literal["check", "ignore"] = "check"
    scope: Literal["patient", "imaging"] = "patient"
    exact: bool = False
    elicited: bool = False
    requires: Requires | None = None
    source: str
    note: str | None = None

    @field_validator("terms", "unless", mode="before")
    @classmethod
    def _texts(cls, value: Any) -> Any:
        return _phrases(value)

    @field_validator("all", mode="before")
    @classmethod
    def _groups(cls, value: Any) -> Any:
        if isinstance(value, list):
            return [_phrases(group) for group in value]
        return value

    @model_validator(mode="after")
    def _shape(self) -> Rule:
        if bool(self.terms) == bool(self.all):
            raise ValueError("give `terms` or `all`, one of them")
        if any(not group for group in self.all):
            raise ValueError("all: a group is empty")
        for code in [*self.codes, *self.unless_codes]:
            if not (HPO_ID.fullmatch(code) or LOCAL_ID.fullmatch(code)):
                raise ValueError(f"{code!r} is not an HPO id or a local code (HP:0000473, CX:sensory-trick)")
        if self.scope == "imaging" and any(not HPO_ID.fullmatch(c) for c in self.codes):
            raise ValueError("an imaging rule gives HPO ids only")
        return self


class HpoRead(_Row):
    roots: list[str]
    ignore_synonyms: Phrases = []
    ignore_terms: list[str] = []


class FindingsFile(_Row):
    source: str
    reviewed: str | Any
    hpo: HpoRead
    rules: list[Rule]


# --- facts.yaml -------------------------------------------------------------------------------


class OnsetWords(_Row):
    source: str
    ages: dict[str, float]


class CourseWords(_Row):
    source: str
    acute_days: float = Field(gt=0)
    acute_always_days: float = Field(ge=0)
    static_after_days: float = Field(gt=0)
    progressive: Phrases
    episodic: Phrases
    static: Phrases
    acute: Phrases


class SeverityWords(_Row):
    source: str
    mild: Phrases
    moderate: Phrases
    severe: Phrases
    severe_disability: Phrases
    disabling: Phrases
    not_disabling: Phrases


class Responses(_Row):
    good: Phrases
    partial: Phrases
    none: Phrases


class TreatmentWords(_Row):
    source: str
    words: dict[str, Phrases]
    responses: Responses
    never: Phrases

    @field_validator("words")
    @classmethod
    def _treatments(cls, value: dict[str, Phrases]) -> dict[str, Phrases]:
        for key in value:
            if key not in TREATMENTS:
                raise ValueError(f"{key!r} is not a treatment (allowed: {', '.join(TREATMENTS)})")
        return value


class MedicationWords(_Row):
    source: str
    none: Phrases
    not_drugs: Phrases
    given_once: Phrases
    raised: Phrases
    stopped: Phrases
    started: Phrases


class LabWords(_Row):
    source: str
    names: dict[str, Phrases]
    bare_units: dict[str, dict[str, str]]
    normal: Phrases


class VitalWords(_Row):
    source: str
    fever: float
    afebrile: float
    tachycardia: float
    temperature: Phrases
    pulse: Phrases


class ImagingWords(_Row):
    source: str
    words: Phrases
    normal: Phrases
    abnormal: Phrases
    not_done: Phrases


class GeneticsWords(_Row):
    source: str
    positive: Phrases
    negative: Phrases
    none: Phrases
    not_genes: list[str]


class FactsFile(_Row):
    source: str
    reviewed: str | Any
    onset_words: OnsetWords
    course: CourseWords
    severity: SeverityWords
    treatments: TreatmentWords
    medications: MedicationWords
    labs: LabWords
    vitals: VitalWords
    imaging: ImagingWords
    genetics: GeneticsWords


# --- loading ----------------------------------------------------------------------------------


class NoteFiles(_Row):
    """The five data files, validated."""

    lexicon: LexiconFile
    context: ContextFile
    body: BodyFile
    findings: FindingsFile
    facts: FactsFile


_FILES: dict[str, type[_Row]] = {
    "lexicon": LexiconFile,
    "context": ContextFile,
    "body": BodyFile,
    "findings": FindingsFile,
    "facts": FactsFile,
}


def _where(raw: Any, loc: Iterable[Any]) -> str:
    """A readable path: rule rows named by their id (``rules[12] (cramp.muscle).terms``)."""
    parts: list[str] = []
    node = raw
    for part in loc:
        if isinstance(part, int):
            label = f"[{part}]"
            if isinstance(node, list) and part < len(node) and isinstance(node[part], dict) and "id" in node[part]:
                label += f" ({node[part]['id']})"
            parts.append(label)
        else:
            parts.append(("." if parts else "") + str(part))
        try:
            node = node[part]
        except (KeyError, IndexError, TypeError):
            node = None
    return "".join(parts) or "(top)"


def _read(path: Path) -> Any:
    try:
        return yaml.load(path.read_text(encoding="utf-8"), Loader=_LOADER)
    except OSError as error:
        raise KnowledgeBaseError([Problem(path.name, f"cannot read the file: {error.strerror}")]) from None
    except yaml.YAMLError as error:
        raise KnowledgeBaseError([Problem(path.name, f"is not YAML: {str(error)[:200]}")]) from None


def source_ids(kb_dir: Path = KB_DIR) -> frozenset[str]:
    """The ids of ``knowledge/data/sources.yaml``."""
    rows = _read(kb_dir / "sources.yaml") or []
    return frozenset(str(row["id"]) for row in rows if isinstance(row, dict) and "id" in row)


def local_codes(kb_dir: Path = KB_DIR) -> tuple[frozenset[str], frozenset[str]]:
    """The knowledge base's local finding codes (findings.yaml) and history codes (history.yaml)."""
    findings = _read(kb_dir / "findings.yaml") or {}
    history = _read(kb_dir / "history.yaml") or {}
    return frozenset(findings.get("local") or {}), frozenset(history.get("codes") or {})


def load_note_files(
    directory: Path | None = None,
    *,
    hpo_ok: Callable[[str], bool],
    analytes: Iterable[str],
    kb_dir: Path = KB_DIR,
) -> NoteFiles:
    """Read and check the five data files.

    Parameters
    ----------
    directory : pathlib.Path, optional
        Where the files are; the package's ``data/`` by default.
    hpo_ok : callable
        HPO id -> whether it is a current term of the shipped release.
    analytes : iterable of str
        The laboratory table's analyte ids.
    kb_dir : pathlib.Path
        The knowledge base's data folder (sources, local codes, history codes).

    Returns
    -------
    NoteFiles
        The validated files.

    Raises
    ------
    KnowledgeBaseError
        Naming the file, the row and the field of every problem found.
    """
    directory = directory or DATA_DIR
    problems: list[Problem] = []
    parsed: dict[str, Any] = {}
    raws: dict[str, Any] = {}
    for name, model in _FILES.items():
        raw = _read(directory / f"{name}.yaml")
        raws[name] = raw
        try:
            parsed[name] = model.model_validate(raw)
        except ValidationError as error:
            for e in error.errors():
                message = str(e.get("ctx", {}).get("error") or e["msg"])
                if e["type"] == "extra_forbidden":
                    message = "is not a field of this file"
                problems.append(Problem(f"{name}.yaml: {_where(raw, e['loc'])}", message[:300]))
    if problems:
        raise KnowledgeBaseError(problems[:40])
    files = NoteFiles(**parsed)
    problems.extend(_check_references(files, raws, hpo_ok=hpo_ok, analytes=frozenset(analytes), kb_dir=kb_dir))
    if problems:
        raise KnowledgeBaseError(problems[:40])
    return files


def _sources_of(files: NoteFiles) -> list[tuple[str, str]]:
    out = [
        ("lexicon.yaml: source", files.lexicon.source),
        ("context.yaml: source", files.context.source),
        ("context.yaml: negation.source", files.context.negation.source),
        ("context.yaml: uncertainty.source", files.context.uncertainty.source),
        ("context.yaml: family.source", files.context.family.source),
        ("body.yaml: source", files.body.source),
        ("findings.yaml: source", files.findings.source),
        ("facts.yaml: source", files.facts.source),
    ]
    for block in ("onset_words", "course", "severity", "treatments", "medications", "labs", "vitals", "imaging",
                  "genetics"):
        out.append((f"facts.yaml: {block}.source", getattr(files.facts, block).source))
    out.extend((f"findings.yaml: rules[{i}] ({r.id}).source", r.source) for i, r in enumerate(files.findings.rules))
    return out


def _check_references(
    files: NoteFiles, raws: Mapping[str, Any], *, hpo_ok: Callable[[str], bool], analytes: frozenset[str], kb_dir: Path
) -> list[Problem]:
    problems: list[Problem] = []
    sources = source_ids(kb_dir)
    for where, source in _sources_of(files):
        if source not in sources:
            problems.append(Problem(where, f"source {source!r} is not in sources.yaml"))
    local, history = local_codes(kb_dir)

    def check_code(where: str, code: str, *, history_ok: bool) -> None:
        if HPO_ID.fullmatch(code):
            if not hpo_ok(code):
                problems.append(Problem(where, f"{code} is not a current term of the shipped HPO release"))
        elif HISTORY_ID.fullmatch(code):
            if not history_ok or code not in history:
                problems.append(Problem(where, f"{code} is not a history code of the knowledge base (history.yaml)"))
        elif code not in local:
            problems.append(Problem(where, f"{code} is not a local code of the knowledge base (findings.yaml)"))

    seen: set[str] = set()
    for i, rule in enumerate(files.findings.rules):
        where = f"findings.yaml: rules[{i}] ({rule.id})"
        if rule.id in seen:
            problems.append(Problem(where + ".id", f"{rule.id!r} is given twice"))
        seen.add(rule.id)
        for code in rule.codes:
            check_code(where + ".codes", code, history_ok=True)
        for code in rule.unless_codes:
            check_code(where + ".unless_codes", code, history_ok=False)
        if rule.requires:
            for code in rule.requires.codes:
                check_code(where + ".requires.codes", code, history_ok=False)
            for region in rule.requires.regions_any:
                if region not in REGIONS:
                    problems.append(Problem(where + ".requires.regions_any", f"{region!r} is not a region"))
        if any(HISTORY_ID.fullmatch(c) for c in rule.codes) and rule.polarity == "absent":
            problems.append(Problem(where + ".polarity", "a history code cannot be asserted absent"))
    for code in [*files.findings.hpo.roots, *files.findings.hpo.ignore_terms]:
        if not hpo_ok(code):
            problems.append(Problem("findings.yaml: hpo", f"{code} is not a current term of the shipped HPO release"))
    for code in files.body.regions_of_codes:
        check_code(f"body.yaml: regions_of_codes.{code}", code, history_ok=False)
    for analyte in [*files.facts.labs.names, *files.facts.labs.bare_units]:
        if analyte not in analytes:
            problems.append(Problem(f"facts.yaml: labs.{analyte}",
                                    f"{analyte!r} is not an analyte of the laboratory table "
                                    f"(allowed: {', '.join(sorted(analytes))})"))
    return problems
