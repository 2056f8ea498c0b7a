"""Build the real index once and keep it on disk: :func:`load_index`.

Building the index needs the ``hpo3`` ontology and reads the annotation files (about 5 s);
loading it from the cache takes a fraction of a second. The cache file lives in
``<cache>/differential/index-<key>.npz``, where ``<cache>`` is ``$CONTRAXIS_CACHE``, else
``$XDG_CACHE_HOME/contraxis``, else ``~/.cache/contraxis`` (see
:func:`contraxis.codes.default_cache_dir`), and ``<key>`` hashes everything the index is
made of:

- the bundled annotation files (``phenotype.hpoa.gz``, ``genes_to_phenotype.txt.gz``),
- the installed ``hpo3`` version (which fixes the ontology release),
- ``acquired_causes.yaml`` (its causes are ranked beside the diseases),
- the source code of the modules that build the index, and the model parameters.

A missing, unreadable or stale file is rebuilt. The new file is written to a temporary file
in the same folder and renamed into place, so that concurrent processes never read half a
file (the last writer wins; both wrote the same content). When the folder cannot be written
the index is used from memory and a warning is logged.

The differential's knowledge (:class:`~contraxis.differential.knowledge.DifferentialKnowledge`:
its own three files and what it takes from the knowledge base) is cached the same way, as
``<cache>/differential/knowledge-<key>.json``, where ``<key>`` hashes the knowledge files it
is made from (:data:`KNOWLEDGE_FILES`) and the code that reads them. On a hit, starting the
differential reads no YAML and does not load the knowledge base; on a miss the knowledge
base is loaded (:func:`~contraxis.knowledge.load_knowledge_base`, the one reader of the
knowledge files) and the knowledge derived from it.
"""

from __future__ import annotations

import dataclasses
import hashlib
import importlib.metadata
import json
import logging
import os
import tempfile
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from contraxis.codes import HpoOntology, default_cache_dir
from contraxis.codes.cache import write_json_atomically
from contraxis.errors import KnowledgeBaseError, Problem
from contraxis.knowledge import DATA_DIR, KnowledgeBase
from contraxis.knowledge import loader as kb_loader
from contraxis.knowledge import schema as kb_schema

from . import annotations, onset, ontology, parameters
from . import index as index_module
from . import knowledge as knowledge_module
from .annotations import bundled_files, load_bundled_diseases
from .index import ARRAYS, DifferentialIndex, build_index
from .knowledge import (
    ACQUIRED_FILE,
    OWN_FILES,
    PHENOTYPES_DIR,
    PHENOTYPES_FILE,
    DifferentialKnowledge,
    add_reviewed_phenotypes,
    load_knowledge,
)
from .ontology import TermGraph
from .parameters import ModelParameters

__all__ = [
    "KNOWLEDGE_FILES",
    "cache_path",
    "index_key",
    "knowledge_key",
    "load_cached_knowledge",
    "load_index",
    "read_index",
    "write_index",
]

_log = logging.getLogger(__name__)

FORMAT = 2
"""Version of the cache file's layout."""

_BUILDERS = (annotations, index_module, knowledge_module, onset, ontology, parameters)

KNOWLEDGE_FILES = (*OWN_FILES, "sources.yaml", "drugs.yaml", "history.yaml", "labs.yaml", "regions.yaml")
"""The knowledge files the differential's knowledge is made from."""

_KNOWLEDGE_READERS = (knowledge_module, kb_schema, kb_loader)


def _source_digest(module: Any) -> str:
    return hashlib.sha256(Path(module.__file__ or "").read_bytes()).hexdigest()


def _hpo3_version() -> str:
    try:
        return importlib.metadata.version("hpo3")
    except importlib.metadata.PackageNotFoundError:  # pragma: no cover - hpo3 is a dependency
        return "unknown"


def index_key(*, knowledge: DifferentialKnowledge, parameters: ModelParameters = ModelParameters()) -> str:
    """The hash that names the cache file (see the module's docstring for what it covers)."""
    digest = hashlib.sha256()
    digest.update(f"format {FORMAT}\n".encode())
    for bundled in bundled_files():
        digest.update(f"{bundled.name} {bundled.sha256}\n".encode())
    digest.update(f"hpo3 {_hpo3_version()}\n".encode())
    digest.update(f"{ACQUIRED_FILE} {knowledge.hashes.get(ACQUIRED_FILE, '')}\n".encode())
    digest.update(f"{PHENOTYPES_FILE} {knowledge.hashes.get(PHENOTYPES_FILE, '')}\n".encode())
    for module in _BUILDERS:
        digest.update(f"{module.__name__} {_source_digest(module)}\n".encode())
    digest.update(json.dumps(parameters.to_dict(), sort_keys=True).encode())
    return digest.hexdigest()


def knowledge_key(directory: Path = DATA_DIR) -> str | None:
    """The hash that names the cached knowledge: the files it is made from and the code reading them.

    Returns
    -------
    str or None
        None when a file cannot be read (the knowledge is then loaded, which names the problem).
    """
    digest = hashlib.sha256()
    digest.update(f"format {FORMAT}\n".encode())
    try:
        for name in KNOWLEDGE_FILES:
            digest.update(f"{name} {hashlib.sha256((directory / name).read_bytes()).hexdigest()}\n".encode())
        own = (PHENOTYPES_DIR / PHENOTYPES_FILE).read_bytes()
        digest.update(f"{PHENOTYPES_FILE} {hashlib.sha256(own).hexdigest()}\n".encode())
    except OSError:
        return None
    for module in _KNOWLEDGE_READERS:
        digest.update(f"{module.__name__} {_source_digest(module)}\n".encode())
    return digest.hexdigest()


def load_cached_knowledge(*, cache_dir: Path | None = None, kb: KnowledgeBase | None = None) -> DifferentialKnowledge:
    """The differential's knowledge, from the cache when its files have not changed.

    Parameters
    ----------
    cache_dir : pathlib.Path, optional
        The cache folder (``contraxis.codes.default_cache_dir()`` by default).
    kb : KnowledgeBase, optional
        A knowledge base already loaded: the knowledge is derived from it, without the cache.

    Raises
    ------
    KnowledgeBaseError
        When a knowledge file is invalid.
    """
    if kb is not None:
        return load_knowledge(kb)
    key = knowledge_key()
    path = (cache_dir or default_cache_dir()) / "differential" / f"knowledge-{key[:24]}.json" if key else None
    if path is not None:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            if data.get("key") == key:
                return DifferentialKnowledge.from_json(data["knowledge"])
        except FileNotFoundError:
            pass
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as error:
            _log.warning("the differential knowledge cache %s cannot be read (%s): reloading it", path, error)
    knowledge = load_knowledge()
    if path is not None:
        write_json_atomically(path, {"key": key, "knowledge": knowledge.to_json()})
    return knowledge


def cache_path(key: str, *, cache_dir: Path | None = None) -> Path:
    """Where the index with this key is cached."""
    return (cache_dir or default_cache_dir()) / "differential" / f"index-{key[:24]}.npz"


def write_index(index: DifferentialIndex, path: Path, *, key: str) -> None:
    """Write an index to ``path`` atomically (temporary file, then rename).

    Raises
    ------
    OSError
        When the folder cannot be created or written.
    """
    strings = {
        "term_ids": index.term_ids,
        "term_names": index.term_names,
        "replaced_by": dict(index.replaced_by),
        "disease_ids": index.disease_ids,
        "disease_names": index.disease_names,
        "disease_aliases": index.disease_aliases,
        "genes": index.genes,
    }
    header = json.dumps(
        {"key": key, "format": FORMAT, "meta": dict(index.meta), "strings": strings}, ensure_ascii=False
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.stem, suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as out:
            np.savez(out, __header__=np.frombuffer(header.encode("utf-8"), dtype=np.uint8), **dict(index.arrays))
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def read_index(path: Path, *, key: str, knowledge: DifferentialKnowledge | None = None) -> DifferentialIndex | None:
    """Read a cached index; None when the file is missing, damaged or has another key."""
    try:
        with np.load(path, allow_pickle=False) as data:
            header = json.loads(bytes(data["__header__"]).decode("utf-8"))
            if header.get("key") != key or header.get("format") != FORMAT:
                return None
            arrays = {name: data[name] for name in ARRAYS}
    except (OSError, EOFError, KeyError, ValueError, zipfile.BadZipFile, UnicodeDecodeError) as error:
        if path.exists():
            _log.warning("the differential index cache %s cannot be read (%s): rebuilding it", path, error)
        return None
    strings: dict[str, Any] = header["strings"]
    return DifferentialIndex(
        meta=header["meta"],
        term_ids=tuple(strings["term_ids"]),
        term_names=tuple(strings["term_names"]),
        replaced_by=strings["replaced_by"],
        disease_ids=tuple(strings["disease_ids"]),
        disease_names=tuple(strings["disease_names"]),
        genes=tuple(strings["genes"]),
        arrays=arrays,
        knowledge=knowledge,
        disease_aliases=tuple(tuple(a) for a in strings["disease_aliases"]),
    )


def _build(knowledge: DifferentialKnowledge, parameters: ModelParameters) -> DifferentialIndex:
    hpo = HpoOntology.load().ontology
    graph = TermGraph.from_hpo3(hpo)
    knowledge.check_terms(graph.ids, release=graph.release)
    diseases, reconciliation = load_bundled_diseases(hpo, graph=graph)
    diseases, added = add_reviewed_phenotypes(diseases, knowledge.phenotypes)
    reconciliation = dataclasses.replace(reconciliation, reviewed_rows=len(added))
    clash = {d.id for d in diseases} & {c.id for c in knowledge.acquired}
    if clash:
        raise KnowledgeBaseError(
            [Problem(ACQUIRED_FILE, f"ids also used by the annotation file: {', '.join(sorted(clash))}")]
        )
    releases = {
        "ontology": graph.release,
        "annotation": reconciliation.annotation_release,
        "hpo3": _hpo3_version(),
        ACQUIRED_FILE: knowledge.reviewed.get(ACQUIRED_FILE, ""),
    }
    return build_index(
        graph,
        [*diseases, *knowledge.acquired_diseases()],
        parameters=parameters,
        priors=knowledge.priors(),
        meta={"releases": releases, "reconciliation": reconciliation.to_dict()},
        knowledge=knowledge,
    )


def load_index(
    *,
    cache_dir: Path | None = None,
    rebuild: bool = False,
    parameters: ModelParameters = ModelParameters(),
    kb: KnowledgeBase | None = None,
) -> DifferentialIndex:
    """Load the differential index from the cache, building and caching it when needed.

    Parameters
    ----------
    cache_dir : pathlib.Path, optional
        The cache folder (``contraxis.codes.default_cache_dir()`` by default).
    rebuild : bool
        Build afresh even when a cached index is there.
    parameters : ModelParameters
        The model constants (the defaults unless an experiment changes them).
    kb : KnowledgeBase, optional
        The knowledge base, when already loaded; else the knowledge the differential takes
        from it is read from its cache (see the module's docstring).

    Returns
    -------
    DifferentialIndex
        The index, with the knowledge files attached.

    Raises
    ------
    KnowledgeBaseError
        When a knowledge file is invalid or uses an HPO id the ontology does not have.
    """
    knowledge = load_cached_knowledge(cache_dir=cache_dir, kb=kb)
    key = index_key(knowledge=knowledge, parameters=parameters)
    path = cache_path(key, cache_dir=cache_dir)
    if not rebuild:
        cached = read_index(path, key=key, knowledge=knowledge)
        if cached is not None:
            known = set(cached.term_ids)
            knowledge.check_terms(known, release=cached.releases.get("ontology", ""))
            return cached
    built = _build(knowledge, parameters)
    try:
        write_index(built, path, key=key)
    except OSError as error:
        _log.warning("cannot write the differential index cache %s: %s", path, error)
    return built
