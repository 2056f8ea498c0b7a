"""SNOMED CT and UMLS, known only through HPO's own cross-references.

The cross-references (``xref: SNOMEDCT_US:...`` and ``xref: UMLS:C...``) are read from the
unmodified ``hp.obo`` shipped in ``contraxis/data/hpo/hp.obo.gz``. Contraxis has no SNOMED CT
or UMLS table of its own, so these codes carry no display text. A cross-reference is kept
only when its HPO term is current in the ``hpo3`` release and the code is well formed (a
SNOMED CT id passes its Verhoeff check digit, a UMLS CUI starts with ``C``).

Reading hp.obo and checking every cross-reference takes about 0.3 s; :meth:`XrefTable.cached`
reads the finished table from ``<cache>/codes/hpo-xrefs-<key>.bin`` instead (a few
milliseconds), keyed by the sha256 of the hp.obo bytes and the ``hpo3`` snapshot
(:class:`~contraxis.codes.hpo.HpoTerms`) that decides which terms are current.
"""

from __future__ import annotations

import gzip
import hashlib
import logging
import marshal
from pathlib import Path
from typing import Any, Final, Protocol

from .cache import read_keyed, write_keyed
from .patterns import SCTID, UMLS_CUI

__all__ = ["HP_OBO", "XrefTable", "hp_obo_bytes", "read_hp_obo_xrefs", "snomed_check_digit_ok"]

HP_OBO: Final = ("contraxis.data.hpo", "hp.obo.gz")
"""The package and file name of the shipped hp.obo."""

_log = logging.getLogger(__name__)

_TABLE_FORMAT: Final = 1
"""Bump when :class:`XrefTable` is computed or stored differently, so that cached tables are rebuilt."""


class _Release(Protocol):
    """What decides which HPO terms are current (:class:`~contraxis.codes.hpo.HpoOntology` or
    :class:`~contraxis.codes.hpo.HpoTerms`)."""

    def is_current(self, hpo_id: str) -> bool: ...

_SNOMED_PREFIXES: Final = ("SNOMEDCT_US", "SNOMED_CT", "SNOMEDCT")

_VERHOEFF_D: Final = (
    (0, 1, 2, 3, 4, 5, 6, 7, 8, 9), (1, 2, 3, 4, 0, 6, 7, 8, 9, 5),
    (2, 3, 4, 0, 1, 7, 8, 9, 5, 6), (3, 4, 0, 1, 2, 8, 9, 5, 6, 7),
    (4, 0, 1, 2, 3, 9, 5, 6, 7, 8), (5, 9, 8, 7, 6, 0, 4, 3, 2, 1),
    (6, 5, 9, 8, 7, 1, 0, 4, 3, 2), (7, 6, 5, 9, 8, 2, 1, 0, 4, 3),
    (8, 7, 6, 5, 9, 3, 2, 1, 0, 4), (9, 8, 7, 6, 5, 4, 3, 2, 1, 0),
)
_VERHOEFF_P: Final = (
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
    if not isinstance(code, str) or SCTID.fullmatch(code) is None:
        return False
    check = 0
    for position, char in enumerate(reversed(code)):
        check = _VERHOEFF_D[check][_VERHOEFF_P[position % 8][int(char)]]
    return check == 0


def read_hp_obo_xrefs(path: Path | None = None) -> tuple[dict[str, list[tuple[str, str]]], str]:
    """Read the SNOMED CT and UMLS xrefs of every ``[Term]`` of hp.obo, and its release.

    Parameters
    ----------
    path : pathlib.Path, optional
        A gzipped or plain hp.obo; the shipped one if omitted.

    Returns
    -------
    tuple
        HPO id -> ``[(system, code), ...]`` in file order, unchecked; and the release
        (the last part of ``data-version``).
    """
    return _parse_xrefs(hp_obo_bytes(path))


def hp_obo_bytes(path: Path | None = None) -> bytes:
    """The bytes of an hp.obo file (gzipped or plain) as stored; the shipped one if omitted."""
    import importlib.resources

    if path is None:
        return importlib.resources.files(HP_OBO[0]).joinpath(HP_OBO[1]).read_bytes()
    return Path(path).read_bytes()


def _parse_xrefs(raw: bytes) -> tuple[dict[str, list[tuple[str, str]]], str]:
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
            if prefix in _SNOMED_PREFIXES:
                found.setdefault(term_id, []).append(("SNOMED CT", value))
            elif prefix == "UMLS":
                found.setdefault(term_id, []).append(("UMLS", value))
    return found, release


class XrefTable:
    """HPO -> SNOMED CT / UMLS cross-references, and back, for current HPO terms only.

    Parameters
    ----------
    ontology : HpoOntology or HpoTerms
        The release that decides which terms are current.
    obo_path : pathlib.Path, optional
        The hp.obo to read; the shipped one if omitted.
    raw : bytes, optional
        The bytes of that hp.obo, when the caller has read them already.

    Attributes
    ----------
    forward : dict
        HPO id -> ``{"SNOMED CT": (...), "UMLS": (...)}``.
    snomed, umls : dict
        Code -> the HPO ids that cross-reference it, sorted.
    dropped : tuple
        ``(hpo_id, system, code, why)`` of every cross-reference left out.
    release : str
        The hp.obo release.
    """

    __slots__ = ("forward", "snomed", "umls", "dropped", "release")

    def __init__(self, ontology: _Release, *, obo_path: Path | None = None, raw: bytes | None = None) -> None:
        found, self.release = _parse_xrefs(raw if raw is not None else hp_obo_bytes(obo_path))
        forward: dict[str, dict[str, tuple[str, ...]]] = {}
        snomed: dict[str, list[str]] = {}
        umls: dict[str, list[str]] = {}
        dropped: list[tuple[str, str, str, str]] = []
        for hpo_id, refs in found.items():
            current = ontology.is_current(hpo_id)
            by_system: dict[str, list[str]] = {"SNOMED CT": [], "UMLS": []}
            for system, value in refs:
                if not current:
                    dropped.append((hpo_id, system, value, "HPO term not current in hpo3"))
                elif system == "SNOMED CT" and not snomed_check_digit_ok(value):
                    dropped.append((hpo_id, system, value, "not a valid SNOMED CT identifier"))
                elif system == "UMLS" and UMLS_CUI.fullmatch(value) is None:
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

    @classmethod
    def cached(cls, terms: Any, *, cache_dir: Path, obo_path: Path | None = None) -> XrefTable:
        """The table for an hp.obo and an ``hpo3`` snapshot, from the disk cache when it holds it.

        Parameters
        ----------
        terms : HpoTerms
            The snapshot that decides which terms are current (its ``key`` is part of the
            cache key).
        cache_dir : pathlib.Path
            The cache folder.
        obo_path : pathlib.Path, optional
            The hp.obo to read; the shipped one if omitted.

        Returns
        -------
        XrefTable
            The table, equal to ``XrefTable(terms, obo_path=obo_path)``; a missing, damaged or
            stale cache file is rebuilt and written back (an unwritable folder only costs time).
        """
        raw = hp_obo_bytes(obo_path)
        text = f"hpo-xrefs format {_TABLE_FORMAT}\n{hashlib.sha256(raw).hexdigest()}\n{terms.key}\n"
        key = hashlib.sha256(text.encode()).hexdigest()
        path = cache_dir / "codes" / f"hpo-xrefs-{key[:24]}.bin"
        payload = read_keyed(path, key)
        if payload is not None:
            try:
                release, forward, snomed, umls, dropped = marshal.loads(payload)
                table = cls.__new__(cls)
                table.release, table.forward, table.snomed, table.umls = release, forward, snomed, umls
                table.dropped = dropped
                return table
            except (ValueError, EOFError, TypeError) as error:
                _log.warning("rebuilding the unreadable cross-reference cache %s: %s", path, error)
        table = cls(terms, raw=raw)
        data = (table.release, table.forward, table.snomed, table.umls, table.dropped)
        write_keyed(path, key, marshal.dumps(data), keep=4)
        return table
