"""Planted patients and near-misses on both engines, and the same worklist from each."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path
from typing import Any

import pytest

from .conftest import SEED, truth_pairs, worklist_pairs

SCREENS = {"drug-induced-dystonia", "wilson-screen", "dopa-trial", "hypocalcemic-tetany", "severe-hyponatremia",
           "severe-hypomagnesemia"}


def test_truth_has_planted_patients_and_near_misses_of_every_screen(population: Path) -> None:
    """Check that the generator plants patients and near-misses of each screen, with the near-miss kinds named."""
    with (population / "truth.csv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0]) == ["person_id", "screen", "kind"]
    assert {r["screen"] for r in rows if r["kind"] == "planted"} == SCREENS
    assert {r["screen"] for r in rows if r["kind"] == "near-miss"} == SCREENS
    assert {r["kind"] for r in rows} == {"planted", "near-miss"}


def test_duckdb_finds_every_planted_patient_and_no_near_miss(population: Path, duckdb_result: Any) -> None:
    """Check that the DuckDB worklist holds exactly the planted (person, screen) pairs."""
    found = worklist_pairs(duckdb_result)
    planted = truth_pairs(population, "planted")
    assert planted <= found, sorted(planted - found)
    assert not found & truth_pairs(population, "near-miss")
    assert found == planted
    assert "not-assessed" not in duckdb_result.worklist.column("alert").to_pylist()


def test_worklist_rows_say_why_and_what_next(duckdb_result: Any) -> None:
    """Check that each row starts with the person and the alert, and carries the rule, facts, dates and next step."""
    assert duckdb_result.worklist.schema.names[:2] == ["person_id", "alert"]
    for row in duckdb_result.worklist.to_pylist():
        assert row["rule"].startswith("alert.") and row["facts"] and row["source"]
        assert row["index_date"] <= duckdb_result.as_of
        assert row["next_steps"] and row["evidence_missing"].endswith("none in the record")


def test_generator_is_reproducible(population: Path, tmp_path: Path) -> None:
    """Check that the same seed and size give the same tables and truth, and another seed does not."""
    import pyarrow.parquet as pq

    from contraxis.screening import generate_population

    from .conftest import PATIENTS

    again = generate_population(PATIENTS, tmp_path / "again", seed=SEED)
    assert (again.directory / "truth.csv").read_text() == (population / "truth.csv").read_text()
    for table in ("person", "condition_occurrence", "drug_exposure", "measurement"):
        written = pq.read_table(again.directory / f"{table}.parquet")
        assert written.equals(pq.read_table(population / f"{table}.parquet"))
    other = generate_population(PATIENTS, tmp_path / "other", seed=SEED + 1)
    assert (other.directory / "truth.csv").read_text() != (population / "truth.csv").read_text()


def test_a_planted_patient_whose_drug_is_stopped_leaves_the_worklist(population: Path, duckdb_result: Any,
                                                                     tmp_path: Path) -> None:
    """Check that the closing evidence decides: stopping a planted patient's drug on the index date removes the row."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    from contraxis.screening import run_screen

    row = next(r for r in duckdb_result.worklist.to_pylist() if r["screen"] == "drug-induced-dystonia")
    copy = tmp_path / "population"
    shutil.copytree(population, copy)
    drugs = pq.read_table(copy / "drug_exposure.parquet")
    mine = pc.equal(drugs.column("person_id"), row["person_id"])
    ends = pc.if_else(mine, pa.scalar(row["index_date"], pa.date32()), drugs.column("drug_exposure_end_date"))
    drugs = drugs.set_column(drugs.schema.get_field_index("drug_exposure_end_date"), "drug_exposure_end_date", ends)
    pq.write_table(drugs, copy / "drug_exposure.parquet")
    again = run_screen(copy, engine="duckdb", screens=["drug-induced-dystonia"])
    assert (row["person_id"], "drug-induced-dystonia") not in worklist_pairs(again)
    assert again.worklist.num_rows == sum(1 for r in duckdb_result.worklist.to_pylist()
                                          if r["screen"] == "drug-induced-dystonia") - 1


def test_lookback_leaves_out_older_index_dates(duckdb_result: Any, population: Path) -> None:
    """Check that a look-back shorter than the planted index dates empties the worklist."""
    from contraxis.screening import run_screen

    short = run_screen(population, engine="duckdb", lookback_days=1)
    assert short.worklist.num_rows < duckdb_result.worklist.num_rows


def _spark_available() -> bool:
    try:
        import pyspark  # noqa: F401
    except ImportError:
        return False
    return shutil.which("java") is not None or bool(__import__("os").environ.get("JAVA_HOME"))


@pytest.mark.skipif(not _spark_available(), reason="PySpark and a Java runtime are needed for the Spark engine")
def test_spark_gives_the_same_worklist_as_duckdb(population: Path, duckdb_result: Any) -> None:
    """Check that Spark on local[2] finds every planted patient, no near-miss, and the very same rows as DuckDB."""
    from contraxis.screening import run_screen
    from contraxis.screening.engine_spark import spark_session

    spark = spark_session("local[2]", partitions=2)
    try:
        result = run_screen(population, engine="spark", spark=spark, partitions=2)
    finally:
        spark.stop()
    assert result.candidates == duckdb_result.candidates
    assert result.as_of == duckdb_result.as_of
    assert result.worklist.equals(duckdb_result.worklist)
    assert worklist_pairs(result) == truth_pairs(population, "planted")
