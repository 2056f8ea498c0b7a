"""Where Contraxis caches the tables it parses, how it keys them and how it writes them safely."""

from __future__ import annotations

import functools
import json
import logging
import os
from pathlib import Path
from typing import Any

__all__ = ["default_cache_dir", "package_signature", "read_keyed", "write_json_atomically", "write_keyed"]

_log = logging.getLogger(__name__)


def default_cache_dir() -> Path:
    """Return the directory Contraxis caches parsed tables in.

    Returns
    -------
    pathlib.Path
        ``$CONTRAXIS_CACHE`` if set, else ``$XDG_CACHE_HOME/contraxis``, else
        ``~/.cache/contraxis``. It is created when first written to. The variables are read
        at each call (the same path object is returned while they do not change).
    """
    environ = os.environ
    return _cache_dir(environ.get("CONTRAXIS_CACHE"), environ.get("XDG_CACHE_HOME"), environ.get("HOME"))


@functools.lru_cache(maxsize=8)
def _cache_dir(contraxis: str | None, xdg: str | None, home: str | None) -> Path:
    if contraxis:
        return Path(contraxis).expanduser()
    if xdg:
        return Path(xdg).expanduser() / "contraxis"
    return Path.home() / ".cache" / "contraxis"


def write_json_atomically(path: Path, data: Any) -> None:
    """Write JSON to ``path`` so that a reader never sees half a file.

    The data goes to a temporary file in the same folder, which is then renamed into place
    (concurrent writers: the last one wins). A folder that cannot be written costs only a
    logged warning: the caller goes on with the data in memory.

    Parameters
    ----------
    path : pathlib.Path
        The cache file.
    data : Any
        JSON-ready data.
    """
    _write_atomically(path, json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8"))


def _write_atomically(path: Path, *parts: bytes) -> bool:
    """Write ``parts`` to ``path`` through a temporary file in the same folder renamed into
    place; False (and a logged warning) when the folder cannot be written."""
    import tempfile  # only to write: reading a cache needs none of it

    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as out:
                for part in parts:
                    out.write(part)
            os.chmod(tmp, 0o644)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except OSError as exc:
        _log.warning("cannot write the cache file %s: %s", path, exc)
        return False
    return True


# --- keyed binary caches -------------------------------------------------------------------

_MAGIC = b"contraxis-cache 1\n"
_DIGEST_SIZE = 16


def package_signature(module: str) -> str:
    """Name an installed package by the files of its folder, without importing it.

    Importing a package or asking ``importlib.metadata`` for its version costs tens of
    milliseconds; a cache key only needs to change when the package does. The signature lists
    every file directly in the package's folder (or the module's file) with its size and
    modification time, so an upgrade, a downgrade or a rebuild changes it.

    Parameters
    ----------
    module : str
        The top-level import name (``"pyhpo"`` for hpo3, ``"yaml"`` for PyYAML).

    Returns
    -------
    str
        One line; ``"<module> missing"`` when the package is not installed.
    """
    import importlib.util

    try:
        spec = importlib.util.find_spec(module)
    except (ImportError, ValueError):
        spec = None
    if spec is None or spec.origin is None:
        return f"{module} missing"
    origin = Path(spec.origin)
    folder = origin.parent if spec.submodule_search_locations else None
    entries: list[str] = []
    try:
        paths = sorted(p for p in folder.iterdir() if p.is_file()) if folder is not None else [origin]
        for path in paths:
            stat = path.stat()
            entries.append(f"{path.name}:{stat.st_size}:{stat.st_mtime_ns}")
    except OSError as exc:
        entries.append(f"unreadable {exc.errno}")
    return f"{module} {origin.parent if folder is not None else origin} " + " ".join(entries)


def read_keyed(path: Path, key: str) -> bytes | None:
    """Return the payload written by :func:`write_keyed` under ``key``, or None.

    None when the file is missing, written under another key (stale), or damaged (cut short,
    changed on disk: the payload's BLAKE2b digest is checked). Never raises for a bad file.

    Parameters
    ----------
    path : pathlib.Path
        The cache file.
    key : str
        The key the payload must have been written under (a hex digest).

    Returns
    -------
    bytes or None
        The payload.
    """
    import hashlib

    try:
        data = path.read_bytes()
    except OSError:
        return None
    head = _MAGIC + key.encode("ascii") + b"\n"
    if not data.startswith(head) or len(data) < len(head) + _DIGEST_SIZE:
        return None
    digest = data[len(head):len(head) + _DIGEST_SIZE]
    payload = data[len(head) + _DIGEST_SIZE:]
    if hashlib.blake2b(payload, digest_size=_DIGEST_SIZE).digest() != digest:
        _log.warning("rebuilding the damaged cache file %s", path)
        return None
    return payload


def write_keyed(path: Path, key: str, payload: bytes, *, keep: int = 0) -> None:
    """Write a payload under a key so that :func:`read_keyed` finds it, atomically.

    The file holds a header naming the key, the payload's digest and the payload; it goes to
    a temporary file in the same folder, which is then renamed into place (concurrent
    writers: the last one wins). A folder that cannot be written costs only a logged warning.

    Parameters
    ----------
    path : pathlib.Path
        The cache file.
    key : str
        The key (a hex digest, ASCII).
    payload : bytes
        The data, serialised by the caller.
    keep : int, optional
        When above 0, also remove the oldest files of the folder whose names share this
        one's prefix (up to the last ``-``) and suffix, keeping the ``keep`` newest: stale
        entries of a cache keyed by content do not pile up.
    """
    import hashlib

    digest = hashlib.blake2b(payload, digest_size=_DIGEST_SIZE).digest()
    written = _write_atomically(path, _MAGIC + key.encode("ascii") + b"\n" + digest, payload)
    if written and keep > 0:
        _prune(path, keep)


def _prune(path: Path, keep: int) -> None:
    """Remove all but the ``keep`` newest siblings of ``path`` named like it."""
    prefix = path.name.rsplit("-", 1)[0] + "-"
    try:
        siblings = [p for p in path.parent.iterdir()
                    if p.name.startswith(prefix) and p.suffix == path.suffix and p != path]
        siblings.sort(key=lambda p: p.stat().st_mtime_ns, reverse=True)
        for old in siblings[max(keep - 1, 0):]:
            old.unlink(missing_ok=True)
    except OSError:  # another process pruned first, or the folder is read-only
        pass
