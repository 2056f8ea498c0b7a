"""Where the registry lives and how each database engine is spoken to: the one module that
knows SQLite from PostgreSQL.

==============  ===========================================  ===================================
engine          URL                                          set on every connection
==============  ===========================================  ===================================
SQLite          ``sqlite:///PATH`` (default: a file in the   ``journal_mode=WAL``,
                user's data folder, :func:`default_url`)     ``synchronous=FULL`` (a commit is on
                                                             disk before it returns),
                                                             ``foreign_keys=ON``, a busy timeout
PostgreSQL      ``postgresql://user@host:port/db``           the server's own durability
                (driver: psycopg 3)                          (``synchronous_commit`` on)
==============  ===========================================  ===================================

Date arithmetic differs between the two (SQLite has no date type: ``julianday()``;
PostgreSQL subtracts dates into whole days): :func:`days_between` is the one expression the
registry's queries use, compiled for each.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, Integer, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import ColumnElement, FunctionElement

from ..errors import Problem
from .errors import RegistryError

__all__ = ["DEFAULT_FILE", "days_between", "default_url", "make_engine", "normalise_url"]

DEFAULT_FILE = "registry.sqlite"
"""The SQLite file's name in the user's data folder."""

SQLITE_BUSY_MS = 30_000
"""How long a SQLite connection waits for another writer before giving up (milliseconds)."""


def _data_home() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "contraxis"


def default_url() -> str:
    """The default registry: ``sqlite:///`` a file in the user's data folder
    (``$XDG_DATA_HOME/contraxis/registry.sqlite``, ``~/.local/share/contraxis/registry.sqlite``)."""
    return f"sqlite:///{_data_home() / DEFAULT_FILE}"


def normalise_url(url: str) -> str:
    """The URL SQLAlchemy is given: a PostgreSQL URL without a driver gets psycopg 3.

    Raises
    ------
    RegistryError
        When ``url`` is not a database URL, or names an engine other than SQLite or PostgreSQL.

    Examples
    --------
    >>> normalise_url("postgresql://me@localhost/registry")
    'postgresql+psycopg://me@localhost/registry'
    """
    try:
        parsed = make_url(url)
    except ArgumentError:
        shown = url if len(url) <= 60 else url[:59] + "…"
        raise RegistryError([Problem("db", f"{shown!r} is not a database URL (allowed: sqlite:///PATH, "
                                       "postgresql://USER@HOST:PORT/DB)")]) from None
    backend = parsed.get_backend_name()
    if backend == "postgresql":
        if parsed.drivername in ("postgresql", "postgres"):
            parsed = parsed.set(drivername="postgresql+psycopg")
        return parsed.render_as_string(hide_password=False)
    if backend == "sqlite":
        return url
    raise RegistryError([Problem("db", f"{backend!r} is not an engine the registry runs on (allowed: sqlite, "
                                   "postgresql)")])


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_MS}")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = FULL")
        cursor.execute("PRAGMA foreign_keys = ON")
    finally:
        cursor.close()


def make_engine(url: str | None = None, *, echo: bool = False) -> Engine:
    """A SQLAlchemy engine on the registry's database, with each engine's settings.

    Parameters
    ----------
    url : str, optional
        ``sqlite:///PATH`` or ``postgresql://...``; :func:`default_url` when omitted. The
        folder of a SQLite file is made if missing.
    echo : bool
        Log every SQL statement.

    Raises
    ------
    RegistryError
        When the URL is not one the registry accepts.
    """
    url = normalise_url(url or default_url())
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if database and database != ":memory:" and not database.startswith("file:"):
            Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, echo=echo, connect_args={"timeout": SQLITE_BUSY_MS / 1000})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, echo=echo, pool_pre_ping=True)


class days_between(FunctionElement[int]):  # noqa: N801 - an SQL function, named as one
    """Whole days from ``earlier`` to ``later`` (two DATE columns or values), as an SQL expression.

    SQLite: ``CAST(julianday(later) - julianday(earlier) AS INTEGER)``; PostgreSQL:
    ``(later - earlier)``, which is already an integer number of days.
    """

    type = Integer()
    inherit_cache = True
    name = "days_between"

    def __init__(self, later: ColumnElement[Any] | Any, earlier: ColumnElement[Any] | Any) -> None:
        super().__init__(later, earlier)


@compiles(days_between, "sqlite")
def _days_sqlite(element: days_between, compiler: Any, **kw: Any) -> str:
    later, earlier = list(element.clauses)
    return f"CAST(julianday({compiler.process(later, **kw)}) - julianday({compiler.process(earlier, **kw)}) AS INTEGER)"


@compiles(days_between, "postgresql")
def _days_postgresql(element: days_between, compiler: Any, **kw: Any) -> str:
    later, earlier = list(element.clauses)
    return f"(CAST({compiler.process(later, **kw)} AS DATE) - CAST({compiler.process(earlier, **kw)} AS DATE))"


@compiles(days_between)
def _days_other(element: days_between, compiler: Any, **kw: Any) -> str:  # pragma: no cover - refused earlier
    raise NotImplementedError(f"days_between is not written for {compiler.dialect.name}")
