"""Fixtures of the screening tests: the shared OMOP and Bulk samples, a small generated population."""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
SHARED_DATA = ROOT.parent / "shared" / "data"
OMOP_ZIP = SHARED_DATA / "omop-synthea27nj" / "Synthea27Nj_5.4.zip"
BULK = SHARED_DATA / "bulk-fhir-10"
PATIENTS = 1500
SEED = 11


@pytest.fixture(scope="session")
def omop_sample(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The OMOP CDM 5.4 sample (28 patients), unzipped: CSV tables in upper case."""
    if not OMOP_ZIP.exists():
        pytest.fail(f"the shared OMOP sample is missing: {OMOP_ZIP}")
    out = tmp_path_factory.mktemp("omop-sample")
    with zipfile.ZipFile(OMOP_ZIP) as archive:
        for name in archive.namelist():
            if name.endswith(".csv") and not name.startswith("__MACOSX"):
                (out / Path(name).name).write_bytes(archive.read(name))
    return out


@pytest.fixture(scope="session")
def population(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A generated population of 1,500 people with planted patients and near-misses."""
    from contraxis.screening import generate_population

    out = tmp_path_factory.mktemp("population")
    generate_population(PATIENTS, out, seed=SEED)
    return out


def truth_pairs(population: Path, kind: str) -> set[tuple[int, str]]:
    """(person_id, screen) of the planted patients or near-misses of a population."""
    import csv

    with (population / "truth.csv").open(encoding="utf-8") as handle:
        return {(int(r["person_id"]), r["screen"]) for r in csv.DictReader(handle) if r["kind"] == kind}


def worklist_pairs(result: Any) -> set[tuple[int, str]]:
    """(person_id, screen) of a worklist."""
    rows = result.worklist.to_pylist()
    return {(r["person_id"], r["screen"]) for r in rows}


@pytest.fixture(scope="session")
def duckdb_result(population: Path) -> Any:
    """The population screened on DuckDB."""
    from contraxis.screening import run_screen

    return run_screen(population, engine="duckdb")
