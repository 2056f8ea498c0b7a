"""Problem-list codes (ICD-10-CM, ICD-11, SNOMED CT) read as what the case format holds.

FHIR Conditions (problem lists, encounter diagnoses) arrive coded in ICD-10-CM, ICD-11 or
SNOMED CT, often with no HPO code. :func:`read_problem` reads one such code as the findings it
makes present (HPO ids, local ``CX:`` codes), the body regions it implies, the history codes
it gives (``CX:hx-...``) and the knowledge base condition it names, and says how:

``table``
    the reviewed table ``terminology/data/problems.yaml`` holds the code; each entry cites a
    source, each ICD code carries its official title and each SNOMED CT concept the public
    source that shows it.
``icd10-prefix``
    an ICD-10-CM code the table does not list, below a table code marked ``children: true``
    (S06.0X1A under S06), read as that code; the code is checked against the CMS table.
``hpo-xref``
    a SNOMED CT concept that HPO itself cross-references (hp.obo ``xref: SNOMEDCT_US:``),
    read as those HPO terms (:func:`contraxis.terminology.hpo.hpo_xref_index`).

Anything else gives None: the caller reports the code as not read. Nothing clinical is
decided here; whether a Condition is active, refuted or resolved is the reader's business.
The table is validated when first used (pydantic, then every source, condition, history and
local code it names); a mistake raises :class:`~contraxis.errors.KnowledgeBaseError` naming
the file, the entry and the field.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any, Final, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from contraxis.codes import snomed_check_digit_ok
from contraxis.codes.patterns import HISTORY_ID, HPO_ID, ICD10CM_CODE, ICD11_CODE, LOCAL_ID
from contraxis.errors import KnowledgeBaseError, Problem
from contraxis.reading import excerpt
from contraxis.vocabulary import Region

__all__ = [
    "KB_DIR",
    "PROBLEM_FILE",
    "ProblemReading",
    "ProblemTable",
    "load_problem_table",
    "problem_codes",
    "problem_systems",
    "read_problem",
]

PROBLEM_FILE: Final = Path(__file__).parent / "data" / "problems.yaml"
"""The reviewed table of problem-list codes."""

KB_DIR: Final = Path(__file__).parent.parent / "knowledge" / "data"
"""The knowledge base folder the table's sources, conditions and codes must resolve in."""

_YAML_LOADER: Final = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

ProblemSystem = Literal["ICD-10-CM", "ICD-11", "SNOMED CT"]

_SYSTEM_URIS: Final[Mapping[str, ProblemSystem]] = MappingProxyType({
    "http://hl7.org/fhir/sid/icd-10-cm": "ICD-10-CM",
    "urn:oid:2.16.840.1.113883.6.90": "ICD-10-CM",
    "http://snomed.info/sct": "SNOMED CT",
    "urn:oid:2.16.840.1.113883.6.96": "SNOMED CT",
    "http://id.who.int/icd/release/11/mms": "ICD-11",
    "https://id.who.int/icd/release/11/mms": "ICD-11",
    "http://id.who.int/icd11/mms": "ICD-11",
    "https://id.who.int/icd11/mms": "ICD-11",
})
# Short names, compared without case, blanks, hyphens or underscores.
_SHORT_NAMES: Final[Mapping[str, ProblemSystem]] = MappingProxyType({
    "ICD10CM": "ICD-10-CM",
    "ICD11": "ICD-11",
    "ICD11MMS": "ICD-11",
    "SNOMEDCT": "SNOMED CT",
    "SNOMED": "SNOMED CT",
    "SCT": "SNOMED CT",
})

_SLUG = re.compile(r"[a-z0-9]+(-[a-z0-9]+)*")
_SEEN_IN = re.compile(r"hp\.obo:HP:[0-9]{7}|mondo:MONDO:[0-9]{7}|omop-synthea27nj:[0-9]+|https://\S+")


@dataclass(frozen=True, slots=True)
class ProblemReading:
    """What one problem-list code means to the case format.

    Parameters
    ----------
    system : {"ICD-10-CM", "ICD-11", "SNOMED CT"}
        The code system, by its short name.
    code : str
        The code as read (ICD-10-CM dotted and upper-case).
    findings : tuple of str
        HPO ids (current in the knowledge base's HPO release) and local ``CX:`` codes the
        code makes present.
    regions : tuple of str
        Body regions it implies, in the case format's region names (G24.3 gives ``neck``).
    history : tuple of str
        ``CX:hx-...`` history codes it gives (a stroke, a head injury, liver disease, ...).
    diagnosis : str or None
        The knowledge base condition (``conditions.yaml`` id) the code names, if it names one.
    how : {"table", "hpo-xref", "icd10-prefix"}
        How it was read (see the module's docstring).
    note : str
        Empty when the table maps the code exactly with nothing assumed; otherwise one
        sentence saying what was assumed or where the reading came from.
    label : str
        What the reading calls the code's meaning (``cervical dystonia (spasmodic
        torticollis)``), or the HPO names for a cross-reference.
    """

    system: ProblemSystem
    code: str
    findings: tuple[str, ...]
    regions: tuple[str, ...]
    history: tuple[str, ...]
    diagnosis: str | None
    how: Literal["table", "hpo-xref", "icd10-prefix"]
    note: str
    label: str = ""

    @property
    def is_empty(self) -> bool:
        """True when the code is known but gives the case nothing (tetanus): report it."""
        return not (self.findings or self.regions or self.history or self.diagnosis)


# --- the schema of problems.yaml ----------------------------------------------------------


class _Row(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CodeRow(_Row):
    """One code of an entry."""

    system: ProblemSystem
    code: str
    title: str = Field(min_length=1)
    children: bool = False
    display_matches: str | None = None
    seen_in: str | None = None

    @field_validator("display_matches")
    @classmethod
    def _regex(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                re.compile(value)
            except re.error as error:
                raise ValueError(f"not a regular expression: {error}") from None
        return value

    @model_validator(mode="after")
    def _by_system(self) -> CodeRow:
        if self.system == "ICD-10-CM" and not (
            ICD10CM_CODE.fullmatch(self.code) and _icd10cm_form(self.code) == self.code
        ):
            raise ValueError(
                f"code {self.code!r} is not an ICD-10-CM code (a letter, two characters, a dot, up to four more: G24.3)"
            )
        if self.system == "ICD-11" and not (ICD11_CODE.fullmatch(self.code) and not self.code.startswith("X")):
            raise ValueError(f"code {self.code!r} is not an ICD-11 MMS stem code (8A02.00)")
        if self.system == "SNOMED CT":
            if not snomed_check_digit_ok(self.code):
                raise ValueError(f"code {self.code!r} is not a SNOMED CT id (6 to 18 digits, Verhoeff check digit)")
            if self.seen_in is None or not _SEEN_IN.fullmatch(self.seen_in):
                raise ValueError(
                    f"seen_in {self.seen_in!r} must name where the concept was verified "
                    "(hp.obo:HP:nnnnnnn, mondo:MONDO:nnnnnnn, omop-synthea27nj:N or an https:// page)")
        elif self.seen_in is not None:
            raise ValueError(f"seen_in is for SNOMED CT codes only, not {self.system}")
        if self.children and self.system != "ICD-10-CM":
            raise ValueError("children: true is for ICD-10-CM codes only")
        return self


class Entry(_Row):
    """One meaning, with every code that has it."""

    id: str = Field(pattern=_SLUG.pattern)
    label: str = Field(min_length=1)
    findings: tuple[str, ...] = ()
    regions: tuple[Region, ...] = ()
    history: tuple[str, ...] = ()
    diagnosis: str | None = None
    assumes: str | None = None
    source: str
    codes: tuple[CodeRow, ...] = Field(min_length=1)

    @field_validator("findings")
    @classmethod
    def _findings(cls, values: tuple[str, ...]) -> tuple[str, ...]:
        for value in values:
            if not (HPO_ID.fullmatch(value) or (LOCAL_ID.fullmatch(value) and not HISTORY_ID.fullmatch(value))):
                raise ValueError(f"{value!r} is not an HPO id (HP:0001332) or a local finding code (CX:...)")
        return values

    @field_validator("history")
    @classmethod
    def _history(cls, values: tuple[str, ...]) -> tuple[str, ...]:
        for value in values:
            if not HISTORY_ID.fullmatch(value):
                raise ValueError(f"{value!r} is not a history code (CX:hx-...)")
        return values


class ProblemFile(_Row):
    """The whole of problems.yaml."""

    reviewed: dt.date
    entries: tuple[Entry, ...] = Field(min_length=1)


# --- loading ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Known:
    """What the knowledge base defines, to check the table's references against."""

    sources: frozenset[str]
    conditions: frozenset[str]
    history: frozenset[str]
    local_findings: frozenset[str]


def _knowledge_ids(kb_dir: Path) -> _Known:
    def load(name: str) -> Any:
        try:
            return yaml.load((kb_dir / name).read_text(encoding="utf-8"), Loader=_YAML_LOADER)
        except (OSError, yaml.YAMLError) as error:
            raise KnowledgeBaseError(f"cannot read {name} to check problems.yaml against it: {error}",
                                     source=str(kb_dir)) from None

    sources = load("sources.yaml") or []
    conditions = load("conditions.yaml") or []
    history = (load("history.yaml") or {}).get("codes", {}) or {}
    local = (load("findings.yaml") or {}).get("local", {}) or {}
    return _Known(
        sources=frozenset(str(r.get("id")) for r in sources if isinstance(r, dict)),
        conditions=frozenset(str(r.get("id")) for r in conditions if isinstance(r, dict)),
        history=frozenset(map(str, history)),
        local_findings=frozenset(map(str, local)),
    )


def _where(raw: Any, loc: tuple[Any, ...]) -> str:
    """``entries[3] (cervical-dystonia).codes[1].code`` from a pydantic location."""
    parts: list[str] = []
    node = raw
    for i, step in enumerate(loc):
        if isinstance(step, int):
            parts[-1:] = [f"{parts[-1] if parts else ''}[{step}]"]
            node = node[step] if isinstance(node, list) and step < len(node) else None
            if i == 1 and loc[0] == "entries" and isinstance(node, dict) and node.get("id"):
                parts[-1] += f" ({node['id']})"
        else:
            parts.append(str(step))
            node = node.get(step) if isinstance(node, dict) else None
    return ".".join(parts)


def _check_references(data: ProblemFile, known: _Known) -> list[Problem]:
    problems: list[Problem] = []
    ids: set[str] = set()
    owner: dict[tuple[str, str], str] = {}
    for i, entry in enumerate(data.entries):
        where = f"entries[{i}] ({entry.id})"
        if entry.id in ids:
            problems.append(Problem(f"{where}.id", f"{entry.id!r} is used twice"))
        ids.add(entry.id)
        if entry.source not in known.sources:
            problems.append(Problem(f"{where}.source", f"{entry.source!r} is not an id of sources.yaml"))
        if entry.diagnosis is not None and entry.diagnosis not in known.conditions:
            problems.append(Problem(f"{where}.diagnosis", f"{entry.diagnosis!r} is not a condition of conditions.yaml"))
        for code in entry.history:
            if code not in known.history:
                problems.append(Problem(f"{where}.history", f"{code!r} is not a history code of history.yaml "
                                                            f"(allowed: {', '.join(sorted(known.history))})"))
        for code in entry.findings:
            if code.startswith("CX:") and code not in known.local_findings:
                problems.append(Problem(f"{where}.findings", f"{code!r} is not a local code of findings.yaml"))
        for j, row in enumerate(entry.codes):
            key = (row.system, row.code)
            if key in owner:
                problems.append(Problem(f"{where}.codes[{j}].code",
                                        f"{row.system} {row.code} is already read by entry {owner[key]!r}"))
            owner.setdefault(key, entry.id)
    return problems


class ProblemTable:
    """The reviewed table, indexed for reading. Build it with :func:`load_problem_table`.

    Parameters
    ----------
    data : ProblemFile
        The validated file.
    path : pathlib.Path
        Where it was read from (for messages).
    """

    __slots__ = ("data", "path", "_by_code", "_codes")

    def __init__(self, data: ProblemFile, path: Path) -> None:
        self.data = data
        self.path = path
        by_code: dict[tuple[str, str], tuple[Entry, CodeRow]] = {}
        codes: dict[str, list[str]] = {"ICD-10-CM": [], "ICD-11": [], "SNOMED CT": []}
        for entry in data.entries:
            for row in entry.codes:
                by_code[(row.system, row.code)] = (entry, row)
                codes[row.system].append(row.code)
        self._by_code: Mapping[tuple[str, str], tuple[Entry, CodeRow]] = MappingProxyType(by_code)
        self._codes = {k: tuple(sorted(v)) for k, v in codes.items()}

    def lookup(self, system: str, code: str) -> tuple[Entry, CodeRow] | None:
        """The entry and code row for an exact code (system by short name), or None."""
        return self._by_code.get((system, code))

    def codes(self, system: str) -> tuple[str, ...]:
        """The codes the table lists for a system (short name), sorted."""
        return self._codes.get(system, ())

    def rows(self) -> tuple[tuple[Entry, CodeRow], ...]:
        """Every (entry, code row) pair, in file order (for checks and review)."""
        return tuple(self._by_code.values())


def load_problem_table(path: Path | None = None, *, kb_dir: Path | None = None) -> ProblemTable:
    """Read and validate the problem-code table.

    Parameters
    ----------
    path : pathlib.Path, optional
        The YAML file; :data:`PROBLEM_FILE` if omitted (then the table is read once and
        shared).
    kb_dir : pathlib.Path, optional
        The knowledge base folder whose sources, conditions, history and local finding codes
        the table may name; :data:`KB_DIR` (``contraxis/knowledge/data``) if omitted.

    Returns
    -------
    ProblemTable
        The table, indexed by code.

    Raises
    ------
    KnowledgeBaseError
        With the file as its ``source`` and every problem, each naming the entry (index and
        id) and the field (``entries[3] (cervical-dystonia).codes[1].seen_in``):
        a malformed file, a wrong field or code, a SNOMED CT concept without a source, an
        unknown source, condition, history or local code, a code listed twice.
    """
    if path is None and kb_dir is None:
        return _default_table()
    return _load(Path(path) if path is not None else PROBLEM_FILE, kb_dir)


@functools.lru_cache(maxsize=1)
def _default_table() -> ProblemTable:
    return _load(PROBLEM_FILE, None)


def _load(path: Path, kb_dir: Path | None) -> ProblemTable:
    try:
        raw = yaml.load(path.read_text(encoding="utf-8"), Loader=_YAML_LOADER)
    except OSError as error:
        raise KnowledgeBaseError([Problem("", f"cannot be read: {error}")], source=str(path)) from None
    except yaml.YAMLError as error:
        raise KnowledgeBaseError([Problem("", f"not valid YAML: {str(error).splitlines()[0]}")],
                                 source=str(path)) from None
    try:
        data = ProblemFile.model_validate(raw)
    except ValidationError as error:
        problems = [
            Problem(_where(raw, tuple(e["loc"])), f"{e['msg']} (got {excerpt(e.get('input'), 80)})")
            for e in error.errors()
        ]
        raise KnowledgeBaseError(problems, source=str(path)) from None
    problems = _check_references(data, _knowledge_ids(kb_dir or KB_DIR))
    if problems:
        raise KnowledgeBaseError(problems, source=str(path))
    return ProblemTable(data, path)


# --- reading ------------------------------------------------------------------------------


def problem_systems() -> Mapping[str, str]:
    """Return the FHIR ``Coding.system`` URIs read, each with its short name.

    Returns
    -------
    Mapping of str to str
        URI -> ``"ICD-10-CM"``, ``"ICD-11"`` or ``"SNOMED CT"`` (read-only). The HL7 OIDs
        (``urn:oid:2.16.840.1.113883.6.90`` ICD-10-CM, ``...6.96`` SNOMED CT) and both WHO
        ICD-11 MMS URIs are included. :func:`read_problem` also takes the short names
        (``ICD-10-CM``, ``ICD10CM``, ``SNOMED CT``, ``SNOMED``, ``SCT``, ``ICD-11``, ...).
    """
    return _SYSTEM_URIS


def _system(system: str) -> ProblemSystem | None:
    if not isinstance(system, str):
        return None
    text = system.strip()
    uri = text.rstrip("/")
    if uri in _SYSTEM_URIS:
        return _SYSTEM_URIS[uri]
    return _SHORT_NAMES.get(re.sub(r"[\s_\-]", "", text).upper())


def _icd10cm_form(code: str) -> str:
    bare = code.strip().upper().replace(".", "")
    return f"{bare[:3]}.{bare[3:]}" if len(bare) > 3 else bare


def problem_codes(system: str) -> tuple[str, ...]:
    """Return the codes the table lists for a system, for prefetch filters.

    Parameters
    ----------
    system : str
        A FHIR system URI or a short name (see :func:`problem_systems`).

    Returns
    -------
    tuple of str
        The table's codes, sorted (ICD-10-CM dotted); empty for a system not read. Codes
        reached through ``children: true`` or HPO cross-references are not listed.
    """
    short = _system(system)
    return _default_table().codes(short) if short else ()


def _reading(system: ProblemSystem, code: str, entry: Entry, *, how: Any, note: str) -> ProblemReading:
    return ProblemReading(
        system=system,
        code=code,
        findings=entry.findings,
        regions=tuple(entry.regions),
        history=entry.history,
        diagnosis=entry.diagnosis,
        how=how,
        note=note,
        label=entry.label,
    )


def _from_table(
    table: ProblemTable, system: ProblemSystem, code: str, display: str | None,
) -> tuple[Entry, CodeRow, str] | None:
    """The entry for an exact code whose display condition (if any) holds, and what it assumed."""
    found = table.lookup(system, code)
    if found is None:
        return None
    entry, row = found
    said: list[str] = []
    if row.display_matches is not None:
        if not display or not re.search(row.display_matches, display):
            return None
        said.append(f"{system} {code} ({row.title}) read as {entry.label} because its text says "
                    f"{excerpt(display, 60)!r}")
    if entry.assumes:
        said.append(f"{system} {code} ({entry.label}): {entry.assumes}")
    return entry, row, "; ".join(said)


def _icd10cm_parent(table: ProblemTable, code: str) -> tuple[Entry, CodeRow] | None:
    """The nearest table code above ``code`` marked ``children: true``."""
    bare = code.replace(".", "")
    for cut in range(len(bare) - 1, 2, -1):
        found = table.lookup("ICD-10-CM", _icd10cm_form(bare[:cut]))
        if found is not None:
            return found if found[1].children else None
    return None


def read_problem(
    system: str,
    code: str,
    display: str | None = None,
    *,
    table: ProblemTable | None = None,
) -> ProblemReading | None:
    """Read one problem-list code as findings, regions, history and a known diagnosis.

    Parameters
    ----------
    system : str
        The coding's system: a FHIR URI (``http://hl7.org/fhir/sid/icd-10-cm``,
        ``http://snomed.info/sct``, ``http://id.who.int/icd/release/11/mms``, ... see
        :func:`problem_systems`) or a short name (``ICD-10-CM``, ``SNOMED CT``, ``ICD-11``).
    code : str
        The code. ICD-10-CM with or without its dot and in any case (``g243`` is G24.3);
        an ICD-11 postcoordinated cluster (``8A02.00&XK9K``) is read by its first stem code.
    display : str, optional
        The coding's display or the condition's text. A few codes count only when it says
        what they mean (J38.3 as spasmodic dysphonia, G25.89 as writer's cramp).
    table : ProblemTable, optional
        The table to read with; the shipped one if omitted.

    Returns
    -------
    ProblemReading or None
        The reading, or None when nothing is known for the code (a system not read, a
        malformed or unknown code): the caller reports it as not read. A reading may be
        empty (:attr:`ProblemReading.is_empty`): the code is known but gives the case
        nothing; its note says why.

    Raises
    ------
    KnowledgeBaseError
        If the shipped table is invalid (never for a bad input code).

    Examples
    --------
    >>> reading = read_problem("http://hl7.org/fhir/sid/icd-10-cm", "G24.3")
    >>> reading.findings, reading.regions, reading.diagnosis
    (('HP:0000473',), ('neck',), 'cervical-dystonia')
    """
    short = _system(system)
    if short is None or not isinstance(code, str) or not code.strip():
        return None
    table = table if table is not None else _default_table()
    if short == "ICD-10-CM":
        return _read_icd10cm(table, _icd10cm_form(code), display)
    if short == "ICD-11":
        return _read_icd11(table, code.strip().upper(), display)
    return _read_snomed(table, code.strip(), display)


def _read_icd10cm(table: ProblemTable, code: str, display: str | None) -> ProblemReading | None:
    if not ICD10CM_CODE.fullmatch(code):
        return None
    found = _from_table(table, "ICD-10-CM", code, display)
    if found is not None:
        entry, _, note = found
        return _reading("ICD-10-CM", code, entry, how="table", note=note)
    if table.lookup("ICD-10-CM", code) is not None:
        return None  # listed, but its display condition does not hold
    parent = _icd10cm_parent(table, code)
    if parent is None:
        return None
    from contraxis.codes import load_code_tables  # the CMS table: 1-2 s to load, so only when needed

    if load_code_tables().icd10cm(code) is None:
        return None
    entry, row = parent
    note = (f"ICD-10-CM {code} is not in the problem table; read as its parent {row.code} "
            f"({row.title}): {entry.label}")
    if entry.assumes:
        note += f"; {entry.assumes}"
    return _reading("ICD-10-CM", code, entry, how="icd10-prefix", note=note)


def _read_icd11(table: ProblemTable, code: str, display: str | None) -> ProblemReading | None:
    parts = [p for p in re.split(r"[&/]", code) if p]
    if not parts or not ICD11_CODE.fullmatch(parts[0]) or parts[0].startswith("X"):
        return None
    stem = parts[0]
    found = _from_table(table, "ICD-11", stem, display)
    if found is None:
        return None
    entry, _, note = found
    if len(parts) > 1:
        extra = (f"ICD-11 {code} read by its stem code {stem} ({entry.label}); "
                 f"{', '.join(parts[1:])} not read")
        note = f"{extra}; {note}" if note else extra
    return _reading("ICD-11", stem, entry, how="table", note=note)


def _read_snomed(table: ProblemTable, code: str, display: str | None) -> ProblemReading | None:
    if not snomed_check_digit_ok(code):
        return None
    found = _from_table(table, "SNOMED CT", code, display)
    if found is not None:
        entry, _, note = found
        return _reading("SNOMED CT", code, entry, how="table", note=note)
    from contraxis.codes import HpoOntology
    from contraxis.terminology.hpo import hpo_xref_index, obo_release

    terms = hpo_xref_index().get(("SNOMED CT", code))
    if not terms:
        return None
    ontology = HpoOntology.load()
    names = {t: (term.name if (term := ontology.term(t)) is not None else t) for t in terms}
    named = [f"{t} ({names[t]})" for t in terms]
    note = (f"SNOMED CT {code} is not in the problem table; HPO {obo_release()} cross-references it "
            f"from {', '.join(named)}: read as {'those findings' if len(terms) > 1 else 'that finding'}")
    return ProblemReading(
        system="SNOMED CT",
        code=code,
        findings=tuple(terms),
        regions=(),
        history=(),
        diagnosis=None,
        how="hpo-xref",
        note=note,
        label=", ".join(names[t] for t in terms),
    )
