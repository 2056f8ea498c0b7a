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
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final, Protocol

from .cache import read_keyed, write_keyed
from .patterns import SCTID, UMLS_CUI

__all__ = ["HP_OBO", "XrefTable", "hp_obo_bytes", "read_hp_obo_xrefs", "snomed_check_digit_ok"]

HP_OBO: Final = ("contraxis.data.hpo", "hp.obo.gz")
"""The package and file name of the shipped hp.obo."""

_log = logging.getLogger(__name__)

_TABLE_FORMAT: Final = 2
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

    Notes
    -----
    The table keeps one short text per HPO term (``"SNOMED ids|UMLS ids"``), which loads
    from the cache several times faster than nested containers; :meth:`refs` reads one term
    from it, and ``forward``, ``snomed`` and ``umls`` are worked out from it on first use.
    """

    __slots__ = ("_forward", "_packed", "_read", "_snomed", "_umls", "dropped", "release")

    def __init__(self, ontology: _Release, *, obo_path: Path | None = None, raw: bytes | None = None) -> None:
        found, self.release = _parse_xrefs(raw if raw is not None else hp_obo_bytes(obo_path))
        forward: dict[str, dict[str, tuple[str, ...]]] = {}
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
        self._packed: dict[str, str] = {
            k: " ".join(v["SNOMED CT"]) + "|" + " ".join(v["UMLS"]) for k, v in forward.items()
        }
        self._forward: dict[str, dict[str, tuple[str, ...]]] | None = forward
        self._read: dict[str, dict[str, tuple[str, ...]]] = {}
        self._snomed: dict[str, tuple[str, ...]] | None = None
        self._umls: dict[str, tuple[str, ...]] | None = None
        self.dropped = tuple(dropped)

    def refs(self, hpo_id: str) -> Mapping[str, tuple[str, ...]] | None:
        """The SNOMED CT and UMLS codes of one current term, in hp.obo's order (read-only);
        None when it has none."""
        if self._forward is not None:
            return self._forward.get(hpo_id)
        found = self._read.get(hpo_id)
        if found is None:
            packed = self._packed.get(hpo_id)
            if packed is None:
                return None
            snomed, _, umls = packed.partition("|")
            found = self._read[hpo_id] = {"SNOMED CT": tuple(snomed.split()), "UMLS": tuple(umls.split())}
        return found

    @property
    def forward(self) -> dict[str, dict[str, tuple[str, ...]]]:
        """HPO id -> ``{"SNOMED CT": (...), "UMLS": (...)}`` for every term with a cross-reference."""
        if self._forward is None:
            self._forward = {k: dict(self.refs(k) or {}) for k in self._packed}
        return self._forward

    @property
    def snomed(self) -> dict[str, tuple[str, ...]]:
        """SNOMED CT id -> the current HPO terms that cross-reference it, sorted."""
        if self._snomed is None:
            self._snomed = self._backward("SNOMED CT")
        return self._snomed

    @property
    def umls(self) -> dict[str, tuple[str, ...]]:
        """UMLS CUI -> the current HPO terms that cross-reference it, sorted."""
        if self._umls is None:
            self._umls = self._backward("UMLS")
        return self._umls

    def _backward(self, system: str) -> dict[str, tuple[str, ...]]:
        out: dict[str, list[str]] = {}
        for hpo_id, refs in self.forward.items():
            for value in refs[system]:
                out.setdefault(value, []).append(hpo_id)
        return {k: tuple(sorted(v)) for k, v in out.items()}

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
                release, packed, dropped = marshal.loads(payload)
                if isinstance(release, str) and isinstance(packed, dict) and isinstance(dropped, tuple):
                    table = cls.__new__(cls)
                    table.release, table._packed, table.dropped = release, packed, dropped
                    table._forward = table._snomed = table._umls = None
                    table._read = {}
                    return table
            except (ValueError, EOFError, TypeError) as error:
                _log.warning("rebuilding the unreadable cross-reference cache %s: %s", path, error)
        table = cls(terms, raw=raw)
        write_keyed(path, key, marshal.dumps((table.release, table._packed, table.dropped)), keep=4)
        return table
