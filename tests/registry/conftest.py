"""Fixtures of the registry tests: a registry on SQLite (a file in a temporary folder) and on
PostgreSQL (a throwaway cluster of the machine's PostgreSQL, started with initdb and pg_ctl on a
free loopback port for this session and removed after it; as root, run as the postgres user).

``db_url`` runs a test on both engines, each test with a database of its own. Without
PostgreSQL's programs the PostgreSQL half is skipped, except under CI (``CI`` set), where it
fails: CI installs them (``tools/test-machine.sh``).
"""

from __future__ import annotations

import datetime as dt
import glob
import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"

pytest.importorskip("sqlalchemy")
pytest.importorskip("alembic")


def _pg_bin() -> Path | None:
    found = shutil.which("pg_ctl")
    if found:
        return Path(found).resolve().parent
    versions = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    return Path(versions[-1]).parent if versions else None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _as_postgres(command: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return command
    runuser = shutil.which("runuser")
    return [runuser, "-u", "postgres", "--", *command] if runuser else ["su", "postgres", "-s", "/bin/sh", "-c",
                                                                        " ".join(command)]


class Cluster:
    """A throwaway PostgreSQL cluster on 127.0.0.1."""

    def __init__(self, bin_dir: Path) -> None:
        self.bin = bin_dir
        self.dir = Path(tempfile.mkdtemp(prefix="contraxis-pg-"))
        self.data = self.dir / "data"
        self.port = _free_port()
        if os.geteuid() == 0:
            shutil.chown(self.dir, "postgres", "postgres")
        subprocess.run(_as_postgres([str(self.bin / "initdb"), "-D", str(self.data), "-U", "contraxis",
                                     "--auth=trust", "-E", "UTF8", "--no-locale"]),
                       check=True, capture_output=True)
        options = (f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=on "
                   "-c synchronous_commit=on -c max_connections=50")
        subprocess.run(_as_postgres([str(self.bin / "pg_ctl"), "-D", str(self.data), "-l", str(self.dir / "log"),
                                     "-o", options, "-w", "start"]), check=True, capture_output=True)

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://contraxis@127.0.0.1:{self.port}/{database}"

    def create_database(self) -> str:
        import psycopg

        name = f"t_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(f"host=127.0.0.1 port={self.port} user=contraxis dbname=postgres",
                             autocommit=True) as connection:
            connection.execute(f'CREATE DATABASE "{name}"')
        return name

    def drop_database(self, name: str) -> None:
        import psycopg

        with psycopg.connect(f"host=127.0.0.1 port={self.port} user=contraxis dbname=postgres",
                             autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def stop(self) -> None:
        subprocess.run(_as_postgres([str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop"]),
                       capture_output=True)
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres() -> Iterator[Cluster]:
    bin_dir = _pg_bin()
    if bin_dir is None or not (bin_dir / "initdb").exists():
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL's initdb and pg_ctl are missing: run tools/test-machine.sh")
        pytest.skip("PostgreSQL's initdb and pg_ctl are not installed")
    pytest.importorskip("psycopg")
    cluster = Cluster(bin_dir)
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A new, empty database: a SQLite file, or a database of the throwaway PostgreSQL cluster."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'registry.sqlite'}"
        return
    cluster: Cluster = request.getfixturevalue("postgres")
    name = cluster.create_database()
    try:
        yield cluster.url(name)
    finally:
        cluster.drop_database(name)


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'registry.sqlite'}"


@pytest.fixture(scope="session")
def cervical() -> dict:
    """The bundled cervical dystonia example as a native case."""
    return yaml.safe_load((EXAMPLES / "cervical-dystonia.yaml").read_text())


def case_with(base: dict, *, regions: list[str] | None = None, add: tuple[str, ...] = (), age: float | None = None,
              **fields: object) -> dict:
    """A copy of a case with other regions, extra findings present (taken out of ``absent``), another age."""
    case = {k: v for k, v in base.items() if k != "id"}
    if regions is not None:
        case["regions"] = regions
    if add:
        case["findings"] = [*case.get("findings", ()), *add]
        case["absent"] = [c for c in case.get("absent", ()) if c not in add]
    if age is not None:
        case["age"] = age
    case.update(fields)
    return case


D = dt.date
