"""The schema's revision: upgrade a database with the migrations shipped in the package, and
check that a database is at the revision this code reads.

The migrations are Alembic revisions in :mod:`contraxis.registry.migrations` (``0001`` the
first schema, then one per change), run programmatically on a connection: no ``alembic.ini``
to ship or to find.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

from ..errors import Problem
from .errors import SchemaError

__all__ = ["MIGRATIONS", "current_revision", "downgrade", "head_revision", "require_head", "upgrade"]

MIGRATIONS = Path(__file__).parent / "migrations"
"""The folder of the migration scripts."""


def _config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


@cache
def head_revision() -> str:
    """The newest revision of the schema (``0002``...)."""
    head = ScriptDirectory.from_config(_config()).get_current_head()
    assert head is not None
    return head


def current_revision(engine: Engine) -> str | None:
    """The revision a database is at (None: no registry schema in it yet)."""
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def upgrade(engine: Engine, revision: str = "head") -> str:
    """Bring the database to ``revision`` (the newest by default); return the revision it is at.

    Runs in one transaction on PostgreSQL (DDL is transactional there); each revision is
    idempotent against a database already past it.
    """
    config = _config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)
    return current_revision(engine) or ""


def downgrade(engine: Engine, revision: str) -> str | None:
    """Take the database back to ``revision`` (``base``: no registry tables); for tests and repair."""
    config = _config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, revision)
    return current_revision(engine)


def require_head(engine: Engine, *, url: str) -> None:
    """Refuse a database that is not at the newest revision.

    Raises
    ------
    SchemaError
        Naming the database, its revision and what to run.
    """
    revision = current_revision(engine)
    if revision == head_revision():
        return
    shown = url if len(url) <= 80 else url[:79] + "…"
    if revision is None:
        message = f"{shown} holds no registry: run `contraxis registry init --db {shown}` first"
    else:
        message = (f"{shown} is at schema revision {revision}, this version reads {head_revision()}: "
                   f"run `contraxis registry init --db {shown}` to upgrade it")
    raise SchemaError([Problem("db", message)])
