"""``contraxis screen generate|run|report`` end to end on a small population."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from typer.testing import CliRunner

from contraxis.cli import app

from .conftest import truth_pairs


def test_generate_run_and_report(tmp_path: Path) -> None:
    """Check that the commands write the population, the worklist (CSV, Parquet, JSON, offline HTML) and the report."""
    runner = CliRunner()
    population = tmp_path / "pop"
    done = runner.invoke(app, ["screen", "generate", "--patients", "600", "--seed", "5", "--out", str(population)])
    assert done.exit_code == 0, done.output
    assert (population / "truth.csv").exists() and (population / "person.parquet").exists()
    out = tmp_path / "out" / "worklist.csv"
    done = runner.invoke(app, ["screen", "run", str(population), "--out", str(out), "--bench"])
    assert done.exit_code == 0, done.output
    summary = json.loads(done.stdout[done.stdout.index("{"):])
    assert summary["persons"] == 600 and set(summary["seconds"]) >= {"load", "select", "assess", "write", "total"}
    with out.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0])[:2] == ["person_id", "alert"]
    assert {(int(r["person_id"]), r["screen"]) for r in rows} == truth_pairs(population, "planted")
    page = (tmp_path / "out" / "worklist.html").read_text(encoding="utf-8")
    assert "<svg" in page and "<script" not in page and "http" not in page.replace("http://www.w3.org/2000/svg", "")
    done = runner.invoke(app, ["screen", "report", str(out)])
    assert done.exit_code == 0, done.output
    assert "wilson-screen" in done.stdout


def test_bad_options_exit_with_code_2(tmp_path: Path) -> None:
    """Check that an unknown engine, a bad date, a missing input and an unknown screen each exit 2 with one line."""
    runner = CliRunner()
    assert runner.invoke(app, ["screen", "run", str(tmp_path), "--engine", "oracle"]).exit_code == 2
    assert runner.invoke(app, ["screen", "run", str(tmp_path), "--as-of", "yesterday"]).exit_code == 2
    missing = runner.invoke(app, ["screen", "run", str(tmp_path / "nowhere")])
    assert missing.exit_code == 2 and "does not exist" in missing.output
    unknown = runner.invoke(app, ["screen", "run", str(tmp_path), "--screen", "wilson"])
    assert unknown.exit_code == 2 and "'wilson' is not a screen" in unknown.output
