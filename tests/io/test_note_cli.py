"""``contraxis note`` and ``contraxis bench notes`` on the command line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from contraxis.cli import app

NOTE = ("A 19-year-old woman was given Reglan in the emergency department yesterday. This afternoon her head "
        "began pulling hard to the left and her tongue kept pushing out of her mouth. She is breathing "
        "comfortably, without stridor or fever.")


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def note(tmp_path: Path) -> Path:
    path = tmp_path / "note.txt"
    path.write_text(NOTE, encoding="utf-8")
    return path


def test_note_prints_the_case_as_yaml(runner, note):
    """Check that the case read from the note is printed as YAML, a native case."""
    result = runner.invoke(app, ["note", str(note)])
    assert result.exit_code == 0, result.output
    case = yaml.safe_load(result.stdout)
    assert case["age"] == 19 and case["sex"] == "female" and case["course"] == "acute"
    assert case["regions"] == ["tongue", "neck"]  # in the case format's order
    assert {"HP:0000473", "HP:0031008"} <= set(case["findings"])
    assert {"HP:0010307", "HP:0001945"} <= set(case["absent"])
    assert case["medications"] == [{"name": "metoclopramide", "days_since_start": 1}]


def test_note_reads_standard_input_and_gives_the_provenance(runner):
    """Check ``-`` (standard input), and --provenance with the words behind each fact."""
    result = runner.invoke(app, ["note", "-", "--provenance"], input=NOTE)
    assert result.exit_code == 0, result.output
    document = yaml.safe_load(result.stdout)
    ages = [f for f in document["facts"] if f["path"] == "age"]
    assert ages[0]["evidence"][0]["text"] == "19-year-old"
    reglan = next(f for f in document["facts"] if f["path"] == "medications[0]")
    assert "Reglan" in reglan["evidence"][0]["text"]


def test_note_assess_json_is_exactly_the_assessment_of_that_case(runner, note, tmp_path):
    """Check that ``note --assess --json`` prints exactly what ``assess --json`` prints for the case."""
    case_file = tmp_path / "case.yaml"
    case_file.write_text(runner.invoke(app, ["note", str(note)]).stdout, encoding="utf-8")
    for options in ([], ["--no-differential"]):
        from_note = runner.invoke(app, ["note", str(note), "--assess", "--json", *options])
        from_case = runner.invoke(app, ["assess", str(case_file), "--json", *options])
        assert from_note.exit_code == 0 and from_case.exit_code == 0, from_note.output
        assert from_note.stdout == from_case.stdout
    answer = json.loads(from_note.stdout)
    assert "acute-dystonic-reaction" in answer["summary"]["alerts"]


def test_a_note_with_nothing_clinical(runner):
    """Check that an empty case is printed with the message, and that --assess refuses it (exit 2)."""
    result = runner.invoke(app, ["note", "-"], input="See you at the meeting on Friday.")
    assert result.exit_code == 0
    assert yaml.safe_load(result.stdout) == {}
    assert "Nothing clinical was recognised" in result.stderr
    result = runner.invoke(app, ["note", "-", "--assess"], input="See you at the meeting on Friday.")
    assert result.exit_code == 2
    assert "Nothing clinical was recognised" in result.stderr


def test_a_file_that_cannot_be_read(runner, tmp_path):
    """Check that a missing file or bytes that are not UTF-8 are named errors (exit 2), not tracebacks."""
    result = runner.invoke(app, ["note", str(tmp_path / "missing.txt")])
    assert result.exit_code == 2 and "cannot read the file" in result.stderr
    binary = tmp_path / "note.bin"
    binary.write_bytes(b"\xff\xfe\x00tremor")
    result = runner.invoke(app, ["note", str(binary)])
    assert result.exit_code == 2 and "not UTF-8 text" in result.stderr


def test_bench_notes(runner, vignette_dir):
    """Check that ``bench notes`` prints the figures for a folder of vignettes, and as JSON."""
    result = runner.invoke(app, ["bench", "notes", str(vignette_dir / "next"), "--seconds", "0.5"])
    assert result.exit_code == 0, result.output
    assert "findings" in result.stdout and "expected fields right" in result.stdout
    result = runner.invoke(app, ["bench", "notes", str(vignette_dir / "next"), "--seconds", "0.5", "--json"])
    figures = json.loads(result.stdout)
    assert figures["vignettes"] == 8 and figures["negated_as_present"] == []
    result = runner.invoke(app, ["bench", "notes", "/nonexistent-folder"])
    assert result.exit_code == 2
