"""HPO ids as clinicians and tools send them: alt_ids and obsolete ids read as the current term.

The knowledge base reasons over the HPO release bundled in ``hpo3`` (see
:class:`contraxis.codes.HpoOntology`, and :class:`contraxis.codes.HpoTerms` for its cached term
table). Inputs often carry ids that release does not hold as
current terms: an ``alt_id`` (an id merged into another term, such as HP:0002328 for Dystonia
HP:0001332) or an obsolete id. :func:`hpo_replacement` says which current term such an id is
read as, and why; :func:`hpo_xref_index` gives the cross-references (SNOMED CT, UMLS, ...) that
HPO itself records for its terms.

Where the facts come from
-------------------------
1. ``hpo3`` itself: a term it holds as obsolete with a ``replaced_by`` (HPO 2025-11-24); it
   wins where it names another term than hp.obo does.
2. The unmodified ``hp.obo`` shipped in ``contraxis/data/hpo/hp.obo.gz`` (HPO 2025-01-16):
   its ``alt_id:`` lines (an alt_id names the same concept as its term) and, for obsolete
   terms, ``replaced_by:``.

A replacement counts only when it ends at a current term of the ``hpo3`` release; chains are
followed (an alt_id of a term made obsolete since, and replaced). An obsolete id with only
``consider:`` (or with more than one ``replaced_by:``) is not replaced: the caller reports it
as unknown. The ids of the two releases agree wherever both hold a term.

Cost
----
A current id is answered from the cached snapshot of ``hpo3``'s term table
(:class:`contraxis.codes.HpoTerms`, a few milliseconds; the ontology is not built) alone:
hp.obo is not opened. The first id that is not
current reads hp.obo's small maps from a JSON cache,
``<cache>/terminology/hpo-obo-<sha256>.json`` (``<cache>`` as in
:func:`contraxis.codes.default_cache_dir`), keyed by the sha256 of the shipped file; a missing,
damaged or stale cache is rebuilt by parsing hp.obo once (about 0.15 s) and written
atomically. Later lookups are dictionary lookups.
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import importlib.resources
import json
import logging
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Final, Literal

from contraxis.codes import HpoOntology, HpoTerms, default_cache_dir, snomed_check_digit_ok
from contraxis.codes.cache import write_json_atomically
from contraxis.codes.patterns import HPO_ID, UMLS_CUI
from contraxis.codes.xrefs import HP_OBO

__all__ = ["HpoReplacement", "hpo_replacement", "hpo_xref_index", "obo_release"]

_log = logging.getLogger(__name__)

_CACHE_FORMAT: Final = 1
_MAX_CHAIN: Final = 8

XREF_SYSTEMS: Final[Mapping[str, str]] = MappingProxyType({
    "SNOMEDCT_US": "SNOMED CT",
    "SNOMED_CT": "SNOMED CT",
    "SNOMEDCT": "SNOMED CT",
    "UMLS": "UMLS",
})
"""hp.obo xref prefixes renamed to the names Contraxis reports systems under; other prefixes
(``NCIT``, ``MEDDRA``, ``ICD-10``, ...) are kept as hp.obo writes them."""


@dataclass(frozen=True, slots=True)
class HpoReplacement:
    """An HPO id read as another, current, term.

    Parameters
    ----------
    given : str
        The id as given (``HP:0002328``).
    current : str
        The current primary id it is read as (``HP:0001332``), a current term of the ``hpo3``
        release the knowledge base uses.
    how : {"alt_id", "obsolete"}
        Why: the given id is an alt_id of a term, or an obsolete term with a replacement
        (the first step, when a chain was followed).
    note : str
        One sentence for the reader's ``not_read`` entry, naming both ids, the term's name,
        and the release that says so.
    """

    given: str
    current: str
    how: Literal["alt_id", "obsolete"]
    note: str


@dataclass(frozen=True, slots=True)
class _OboFacts:
    """What hp.obo says about ids: alt_ids, replacements of obsolete terms, xrefs."""

    release: str
    sha256: str
    alt_of: Mapping[str, str]
    replaced_by: Mapping[str, str]
    xrefs: Mapping[str, tuple[str, ...]]  # "PREFIX:value" -> HPO ids that list it


# --- reading hp.obo -----------------------------------------------------------------------


def _obo_bytes(path: Path | None) -> bytes:
    if path is None:
        return importlib.resources.files(HP_OBO[0]).joinpath(HP_OBO[1]).read_bytes()
    return Path(path).read_bytes()


def _parse_obo(raw: bytes, sha256: str) -> _OboFacts:
    """Read the alt_ids, the replacements and the xrefs of every ``[Term]`` of hp.obo."""
    text = gzip.decompress(raw).decode("utf-8") if raw[:2] == b"\x1f\x8b" else raw.decode("utf-8")
    release = ""
    alt_of: dict[str, str] = {}
    replaced: dict[str, list[str]] = {}
    xrefs: dict[str, list[str]] = {}
    in_term, term_id, obsolete = False, "", False
    pending: list[str] = []

    def close() -> None:
        if term_id and obsolete and pending:
            replaced[term_id] = list(pending)

    for line in text.splitlines():
        if line.startswith("["):
            close()
            in_term, term_id, obsolete, pending = line.startswith("[Term]"), "", False, []
        elif not in_term:
            if line.startswith("data-version:"):
                release = line.split(":", 1)[1].strip().rsplit("/", 1)[-1]
        elif line.startswith("id: "):
            term_id = line[4:].strip()
        elif line.startswith("alt_id: ") and term_id:
            alt_of[line[8:].split(" ", 1)[0].strip()] = term_id
        elif line.startswith("is_obsolete:"):
            obsolete = line.split(":", 1)[1].strip() == "true"
        elif line.startswith("replaced_by: "):
            pending.append(line[13:].split(" ", 1)[0].strip())
        elif line.startswith("xref: ") and term_id:
            ref = line[6:].split(" ", 1)[0].strip()
            holders = xrefs.setdefault(ref, [])
            if term_id not in holders:
                holders.append(term_id)
    close()
    # An obsolete term with two replacements names no single one: it is not replaced.
    single = {k: v[0] for k, v in replaced.items() if len(v) == 1}
    return _OboFacts(
        release=release,
        sha256=sha256,
        alt_of=MappingProxyType(alt_of),
        replaced_by=MappingProxyType(single),
        xrefs=MappingProxyType({k: tuple(v) for k, v in xrefs.items()}),
    )


def _cache_file(sha256: str, cache_dir: Path | None) -> Path:
    return (cache_dir or default_cache_dir()) / "terminology" / f"hpo-obo-{sha256[:24]}.json"


def _read_cache(path: Path, sha256: str) -> _OboFacts | None:
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
        if data.get("format") != _CACHE_FORMAT or data.get("sha256") != sha256:
            return None
        return _OboFacts(
            release=str(data["release"]),
            sha256=sha256,
            alt_of=MappingProxyType(dict(data["alt_of"])),
            replaced_by=MappingProxyType(dict(data["replaced_by"])),
            xrefs=MappingProxyType({k: tuple(v) for k, v in data["xrefs"].items()}),
        )
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as error:
        _log.warning("rebuilding the unreadable HPO id cache %s: %s", path, error)
        return None


_FACTS: dict[tuple[Path | None, Path | None], _OboFacts] = {}
_FACTS_LOCK = threading.Lock()


def _obo_facts(*, obo_path: Path | None = None, cache_dir: Path | None = None) -> _OboFacts:
    """hp.obo's maps: from memory, else the disk cache, else parsed (and cached)."""
    key = (obo_path, cache_dir)
    found = _FACTS.get(key)
    if found is not None:
        return found
    with _FACTS_LOCK:
        found = _FACTS.get(key)
        if found is not None:
            return found
        raw = _obo_bytes(obo_path)
        sha256 = hashlib.sha256(raw).hexdigest()
        path = _cache_file(sha256, cache_dir)
        facts = _read_cache(path, sha256)
        if facts is None:
            facts = _parse_obo(raw, sha256)
            write_json_atomically(path, {
                "format": _CACHE_FORMAT,
                "sha256": sha256,
                "release": facts.release,
                "alt_of": dict(facts.alt_of),
                "replaced_by": dict(facts.replaced_by),
                "xrefs": {k: list(v) for k, v in facts.xrefs.items()},
            })
        _FACTS[key] = facts
        return facts


# --- replacements -------------------------------------------------------------------------


Release = HpoOntology | HpoTerms
"""Either view of the ``hpo3`` release: the built ontology or the cached snapshot of its terms."""


def _name(ontology: Release, hpo_id: str) -> str:
    term = ontology.term(hpo_id)
    return term.name if term is not None else ""


def _next_step(
    hpo_id: str, ontology: Release, facts: _OboFacts,
) -> tuple[str, Literal["alt_id", "obsolete"], str] | None:
    """One step from a non-current id: (target, how, the release that says so).

    The ``hpo3`` release is newer than hp.obo: where it replaces an id by another term than
    hp.obo's alt_id does, its replacement wins.
    """
    term = ontology.term(hpo_id)
    newer = str(term.replaced_by) if term is not None and term.is_obsolete and term.replaced_by else None
    if hpo_id in facts.alt_of and newer in (None, facts.alt_of[hpo_id]):
        return facts.alt_of[hpo_id], "alt_id", facts.release
    if newer is not None:
        return newer, "obsolete", ontology.release
    if hpo_id in facts.replaced_by:
        return facts.replaced_by[hpo_id], "obsolete", facts.release
    return None


def _sentence(given: str, target: str, how: str, release: str, name: str = "") -> str:
    shown = f"{target} ({name})" if name else target
    if how == "alt_id":
        return f"{given} is an alt_id of {shown} in HPO {release}"
    return f"{given} is obsolete in HPO {release}, replaced by {shown}"


def _resolve(hpo_id: str, ontology: Release, facts: _OboFacts) -> HpoReplacement | None:
    """Follow alt_ids and replacements from a non-current id to a current term, if any."""
    current, seen, steps = hpo_id, {hpo_id}, []
    for _ in range(_MAX_CHAIN):
        step = _next_step(current, ontology, facts)
        if step is None:
            return None
        target, how, release = step
        steps.append((current, target, how, release))
        if ontology.is_current(target):
            said = [_sentence(*s) for s in steps[:-1]]
            said.append(_sentence(*steps[-1], name=_name(ontology, target)))
            note = ", and ".join(said) + f": read as {target}"
            return HpoReplacement(given=hpo_id, current=target, how=steps[0][2], note=note)
        if target in seen:
            return None
        seen.add(target)
        current = target
    return None


def hpo_replacement(
    hpo_id: str,
    *,
    ontology: Release | None = None,
    obo_path: Path | None = None,
    cache_dir: Path | None = None,
) -> HpoReplacement | None:
    """Say which current HPO term an alt_id or an obsolete id is read as.

    Parameters
    ----------
    hpo_id : str
        An HPO id as given, ``HP:`` and seven digits (surrounding blanks are ignored).
    ontology : HpoOntology or HpoTerms, optional
        The release the knowledge base reasons over; the cached snapshot of ``hpo3``'s terms
        (``HpoTerms.load()``, release 2025-11-24) if omitted.
    obo_path : pathlib.Path, optional
        The hp.obo (gzipped or plain) to read alt_ids and replacements from; the shipped
        ``contraxis/data/hpo/hp.obo.gz`` (release 2025-01-16) if omitted.
    cache_dir : pathlib.Path, optional
        The cache folder; :func:`contraxis.codes.default_cache_dir` if omitted.

    Returns
    -------
    HpoReplacement or None
        The replacement, ending at a current term of ``ontology``. None when the id is
        malformed, already current, unknown to both releases, or obsolete with no single
        replacement (only ``consider:``): the caller reports it as it is.

    Notes
    -----
    A current id is answered from ``ontology`` alone, without reading hp.obo. Source: the
    Human Phenotype Ontology (Gargano et al., Nucleic Acids Res. 2024;52:D1333-D1346).

    Examples
    --------
    >>> hpo_replacement("HP:0002328").current
    'HP:0001332'
    """
    if not isinstance(hpo_id, str):
        return None
    hpo_id = hpo_id.strip()
    if HPO_ID.fullmatch(hpo_id) is None:
        return None
    ontology = ontology if ontology is not None else HpoTerms.load(cache_dir=cache_dir)
    if ontology.is_current(hpo_id):
        return None
    facts = _obo_facts(obo_path=obo_path, cache_dir=cache_dir)
    return _resolve(hpo_id, ontology, facts)


# --- cross-references ---------------------------------------------------------------------


def _xref_ok(system: str, code: str) -> bool:
    if system == "SNOMED CT":
        return snomed_check_digit_ok(code)
    if system == "UMLS":
        return UMLS_CUI.fullmatch(code) is not None
    return bool(code)


@functools.lru_cache(maxsize=4)
def _xref_index(
    sha256: str, release: str, obo_path: Path | None, cache_dir: Path | None
) -> Mapping[tuple[str, str], tuple[str, ...]]:
    facts = _obo_facts(obo_path=obo_path, cache_dir=cache_dir)
    ontology = HpoTerms.load(cache_dir=cache_dir)
    index: dict[tuple[str, str], tuple[str, ...]] = {}
    for ref, holders in facts.xrefs.items():
        prefix, sep, code = ref.partition(":")
        if not sep:
            continue
        system = XREF_SYSTEMS.get(prefix, prefix)
        current = tuple(sorted(h for h in holders if ontology.is_current(h)))
        if current and _xref_ok(system, code):
            key = (system, code)
            index[key] = tuple(sorted({*index.get(key, ()), *current}))
    return MappingProxyType(index)


def hpo_xref_index(
    *, obo_path: Path | None = None, cache_dir: Path | None = None,
) -> Mapping[tuple[str, str], tuple[str, ...]]:
    """Return HPO's own cross-references, from a code of another system to HPO terms.

    Parameters
    ----------
    obo_path : pathlib.Path, optional
        The hp.obo to read; the shipped ``contraxis/data/hpo/hp.obo.gz`` (release
        2025-01-16) if omitted.
    cache_dir : pathlib.Path, optional
        The cache folder; :func:`contraxis.codes.default_cache_dir` if omitted.

    Returns
    -------
    Mapping of (str, str) to tuple of str
        ``(system, code) -> HPO ids`` (sorted), read-only. ``system`` is ``"SNOMED CT"`` for
        hp.obo's ``SNOMEDCT_US`` prefix, ``"UMLS"``, or the prefix as hp.obo writes it
        (``"NCIT"``, ``"MEDDRA"``, ``"ICD-10"``, ...). Only terms current in the ``hpo3``
        release are listed: the xrefs of a term made obsolete since hp.obo's release are
        dropped rather than moved to its replacement (which may be broader or narrower), as
        in :mod:`contraxis.codes`. SNOMED CT ids failing their Verhoeff check digit and
        malformed UMLS CUIs are dropped too.

    Examples
    --------
    >>> hpo_xref_index()[("SNOMED CT", "59026006")]
    ('HP:0000643',)
    """
    facts = _obo_facts(obo_path=obo_path, cache_dir=cache_dir)
    return _xref_index(facts.sha256, facts.release, obo_path, cache_dir)


def obo_release(*, obo_path: Path | None = None, cache_dir: Path | None = None) -> str:
    """Return the release of the hp.obo the replacements and xrefs come from (``2025-01-16``)."""
    return _obo_facts(obo_path=obo_path, cache_dir=cache_dir).release
