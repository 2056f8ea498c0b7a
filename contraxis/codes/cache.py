"""Where Contraxis caches the tables it parses, and how it writes them safely."""

from __future__ import annotations

import json
import logging
import os
import tempfile
from pathlib import Path
from typing import Any

__all__ = ["default_cache_dir", "write_json_atomically"]

_log = logging.getLogger(__name__)


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
        _log.warning("cannot write the cache file %s: %s", path, exc)
