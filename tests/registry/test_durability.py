"""Nothing acknowledged is lost: a process writing visits is killed (SIGKILL) at random moments,
many times; reopened, the registry holds every visit whose write had returned, intact, on
SQLite and on PostgreSQL."""

from __future__ import annotations

import os
import random
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import text

from contraxis.registry.store import Registry

WRITER = Path(__file__).with_name("durability_writer.py")
KILLS = {"sqlite": 10, "postgresql": 6}
"""How many times the writer is killed on each engine."""


def _run_and_kill(url: str, run: int, rng: random.Random) -> list[str]:
    """Start the writer, let it write for a random time after it is ready, SIGKILL it; return its ACK lines."""
    process = subprocess.Popen([sys.executable, str(WRITER), url, str(run)], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    out = b""
    deadline = time.monotonic() + 120
    while b"READY" not in out:
        ready, _, _ = select.select([process.stdout], [], [], 1.0)
        if ready:
            chunk = os.read(process.stdout.fileno(), 65536)
            if not chunk:
                raise AssertionError(f"the writer stopped: {process.stderr.read().decode()[-2000:]}")
            out += chunk
        assert time.monotonic() < deadline, "the writer did not start"
    time.sleep(rng.uniform(0.05, 1.5))
    process.send_signal(signal.SIGKILL)
    rest, err = process.communicate(timeout=30)
    assert process.returncode == -signal.SIGKILL, err.decode()[-2000:]
    lines = (out + rest).decode(errors="replace").splitlines()
    return [line for line in lines if line.startswith("ACK ")]


@pytest.mark.parametrize("engine", ["sqlite", "postgresql"])
def test_every_acknowledged_visit_survives_sigkill(engine, request, tmp_path, kb) -> None:
    """Check that after many SIGKILLs of a writer, every visit it acknowledged is in the
    reopened registry with the very case it wrote, and the database is consistent."""
    if engine == "sqlite":
        url = f"sqlite:///{tmp_path / 'registry.sqlite'}"
    else:
        cluster = request.getfixturevalue("postgres")
        url = cluster.url(cluster.create_database())
    Registry.init(url, kb=kb).close()
    rng = random.Random(20261130)
    acknowledged: dict[int, tuple[str, str]] = {}
    for run in range(KILLS[engine]):
        for line in _run_and_kill(url, run, rng):
            _, visit_id, digest, distribution = line.split(" ", 3)
            acknowledged[int(visit_id)] = (digest, distribution)
    assert len(acknowledged) >= KILLS[engine], "the writer acknowledged too few visits to test anything"
    registry = Registry(url, kb=kb)
    import hashlib
    import json

    from contraxis.registry.store import canonical_json

    found = {}
    with registry.engine.connect() as db:
        patients = db.execute(text("SELECT pseudonym FROM patients")).scalars().all()
        if engine == "sqlite":
            assert db.exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"
        orphans = db.execute(text("SELECT count(*) FROM visits v WHERE NOT EXISTS "
                                  "(SELECT 1 FROM assessments a WHERE a.visit_id = v.id)")).scalar()
    assert orphans == 0  # a visit is never written without its assessment
    for patient in patients:
        for visit in registry.visits(patient):
            assert visit.intact
            found[visit.id] = (hashlib.sha256(canonical_json(visit.case).encode()).hexdigest(),
                               json.dumps(visit.summary.get("distribution")))
    missing = sorted(set(acknowledged) - set(found))
    assert not missing, f"acknowledged visits lost: {missing[:10]}"
    assert all(found[v] == acknowledged[v] for v in acknowledged)
    registry.close()
