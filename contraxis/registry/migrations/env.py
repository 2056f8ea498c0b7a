"""Alembic's environment for the registry: runs on the connection handed over by
:func:`contraxis.registry.store.upgrade` (``config.attributes["connection"]``), or on the URL
in ``sqlalchemy.url`` when run with Alembic's own command line."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection, engine_from_config, pool

from contraxis.registry.models import Base

config = context.config
target_metadata = Base.metadata


def _run(connection: Connection) -> None:
    context.configure(connection=connection, target_metadata=target_metadata,
                      render_as_batch=True, compare_type=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = engine_from_config(config.get_section(config.config_ini_section, {}), prefix="sqlalchemy.",
                                poolclass=pool.NullPool)
    with engine.connect() as connection:
        _run(connection)


if context.is_offline_mode():  # pragma: no cover - SQL scripts are not how the registry is upgraded
    context.configure(url=config.get_main_option("sqlalchemy.url"), target_metadata=target_metadata,
                      literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()
else:
    run_migrations_online()
