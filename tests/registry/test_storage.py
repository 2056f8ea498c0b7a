"""Storage: migrations from the first schema, the engines' settings, date arithmetic, refusals."""

from __future__ import annotations

import datetime as dt
import json
import zlib

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, literal, select, text

from contraxis.registry.database import days_between, make_engine, normalise_url
from contraxis.registry.errors import RegistryError, SchemaError
from contraxis.registry.models import Base
from contraxis.registry.schema import current_revision, downgrade, head_revision, upgrade
from contraxis.registry.store import Registry, canonical_json

from .conftest import case_with


def test_upgrade_from_the_first_schema_keeps_the_data(db_url, cervical) -> None:
    """Check that a registry at the first revision, holding a visit, upgrades to the newest
    revision with its visit intact, and that the migrated schema is exactly the models'."""
    engine = make_engine(db_url)
    assert upgrade(engine, "0001") == "0001"
    assert "scale_scores" not in inspect(engine).get_table_names()
    with pytest.raises(SchemaError, match="schema revision 0001"):
        Registry(db_url)
    case = case_with(cervical)
    body = canonical_json(case)
    from contraxis import assess, read_case

    answer = canonical_json(assess(read_case(case)).to_json())
    digest = __import__("hashlib").sha256
    with engine.begin() as db:  # what the first version wrote, as plain SQL
        db.execute(text("INSERT INTO patients (pseudonym, created_at) VALUES ('P-old', :t)"),
                   {"t": dt.datetime(2024, 1, 2, tzinfo=dt.UTC)})
        pid = db.execute(text("SELECT id FROM patients WHERE pseudonym = 'P-old'")).scalar_one()
        db.execute(text("INSERT INTO visits (patient_id, date, input_format, case_json, case_sha256, regions, "
                        "not_read, recorded_at, recorded_by) VALUES (:p, :d, 'native', :c, :h, :r, '[]', :t, 'x')"),
                   {"p": pid, "d": dt.date(2024, 1, 2), "c": body, "h": digest(body.encode()).hexdigest(),
                    "r": json.dumps(case["regions"]), "t": dt.datetime(2024, 1, 2, tzinfo=dt.UTC)})
        vid = db.execute(text("SELECT id FROM visits")).scalar_one()
        db.execute(text("INSERT INTO assessments (visit_id, knowledge_base_version, hpo_release, assessed_at, "
                        "phenomenology, distribution, focal_type, etiology, body_zlib, body_sha256) VALUES "
                        "(:v, 'old', 'old', :t, 'dystonia', 'focal', 'cervical', 'primary', :b, :h)"),
                   {"v": vid, "t": dt.datetime(2024, 1, 2, tzinfo=dt.UTC), "b": zlib.compress(answer.encode()),
                    "h": digest(answer.encode()).hexdigest()})
    registry = Registry.init(db_url)
    assert current_revision(registry.engine) == head_revision() == "0002"
    assert {"scale_scores", "toxin_injections", "dbs_implants", "dbs_settings"} <= set(
        inspect(registry.engine).get_table_names())
    with registry.engine.connect() as db:
        assert compare_metadata(MigrationContext.configure(db), Base.metadata) == []
        assert db.execute(text("SELECT case_json FROM visits")).scalar_one() == body
    registry.add_visit("P-old", case_with(case, regions=["neck", "left-arm"]), date="2024-06-01")
    old, new = registry.visits("P-old")
    assert (old.intact, old.knowledge_base_version, old.case, new.number) == (True, "old", case, 2)
    assert [e.kind for e in registry.course("P-old")] == ["spread", "distribution"]
    registry.close()


def test_downgrade_to_the_first_schema_and_back(db_url) -> None:
    """Check that every revision has a working downgrade."""
    engine = make_engine(db_url)
    upgrade(engine)
    assert downgrade(engine, "0001") == "0001"
    assert "dbs_settings" not in inspect(engine).get_table_names()
    assert downgrade(engine, "base") is None
    assert upgrade(engine) == head_revision()


def test_sqlite_is_durable_by_default(sqlite_url) -> None:
    """Check that every SQLite connection writes ahead (WAL), syncs at each commit (FULL) and
    enforces foreign keys."""
    engine = make_engine(sqlite_url)
    with engine.connect() as db:
        assert db.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert db.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
        assert db.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


@pytest.mark.parametrize("later, earlier, days", [
    (dt.date(2024, 3, 1), dt.date(2024, 2, 1), 29),  # a leap year's February
    (dt.date(2023, 3, 1), dt.date(2023, 2, 1), 28),
    (dt.date(2025, 1, 1), dt.date(2024, 1, 1), 366),
    (dt.date(2024, 1, 1), dt.date(2024, 1, 1), 0),
    (dt.date(2024, 1, 1), dt.date(2024, 1, 15), -14),
])
def test_days_between_on_each_engine(db_url, later, earlier, days) -> None:
    """Check that date arithmetic gives whole days, the same on SQLite and PostgreSQL."""
    engine = make_engine(db_url)
    from sqlalchemy import Date

    with engine.connect() as db:
        assert db.scalar(select(days_between(literal(later, Date), literal(earlier, Date)))) == days


def test_a_database_without_a_registry_is_refused(sqlite_url) -> None:
    """Check that opening a database that holds no registry names the command to run."""
    with pytest.raises(SchemaError, match="holds no registry: run `contraxis registry init"):
        Registry(sqlite_url)


@pytest.mark.parametrize("url, message", [
    ("not a url", "is not a database URL"),
    ("mysql://me@host/db", "'mysql' is not an engine the registry runs on"),
])
def test_bad_urls(url, message) -> None:
    """Check that a URL the registry does not run on is refused naming it."""
    with pytest.raises(RegistryError, match=message):
        normalise_url(url)


def test_postgresql_url_gets_psycopg() -> None:
    """Check that a plain postgresql:// URL is driven by psycopg 3."""
    assert normalise_url("postgresql://u:p@h:5/d") == "postgresql+psycopg://u:p@h:5/d"


def test_a_password_never_shows_in_errors(tmp_path) -> None:
    """Check that a refused PostgreSQL URL is shown without its password."""
    from contraxis.registry.store import _shown_url

    assert "secret" not in _shown_url("postgresql://me:secret@127.0.0.1:1/db")
