"""The command line: the report, --json, standard input, the vignette runner, the benchmark,
and bad input (a clear error and exit code 2, never a traceback)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from .conftest import ROOT, VIGNETTES

EXAMPLE = ROOT / "examples" / "cervical-dystonia.yaml"


def run(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "contraxis", *args], input=stdin, capture_output=True, text=True, cwd=ROOT, timeout=120
    )


def test_assess_prints_a_report():
    """Check that `contraxis assess` prints the readable report of the bundled example."""
    out = run("assess", str(EXAMPLE), "--no-differential")
    assert out.returncode == 0, out.stderr
    for text in (
        "Cervical dystonia",
        "Alerts",
        "wilson-screen",
        "Reasoning",
        "Work-up",
        "Treatment options",
        "Codes",
        "G24.3",
    ):
        assert text in out.stdout


def test_assess_json_summary_uses_the_vocabulary():
    """Check that --json prints one object whose summary holds the expected vocabulary's fields."""
    out = run("assess", str(EXAMPLE), "--json", "--no-differential")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert set(data["summary"]) == {"phenomenology", "focal_type", "distribution", "onset_band", "associated",
                                    "etiology", "cause", "alerts", "workup", "treatments", "icd10cm"}
    assert data["summary"]["phenomenology"] == "dystonia" and data["summary"]["cause"] is None
    assert data["knowledge_base_version"] and data["hpo_release"] == "2025-11-24"


def test_assess_reads_a_vignette_from_standard_input():
    """Check that `-` reads standard input and that a whole vignette is read through its case block."""
    text = (VIGNETTES / "P34-nocturnal-calf-toe-cramps-older-woman.yaml").read_text(encoding="utf-8")
    out = run("assess", "-", "--json", "--no-differential", stdin=text)
    assert out.returncode == 0, out.stderr
    summary = json.loads(out.stdout)["summary"]
    assert summary["phenomenology"] == "cramp" and summary["distribution"] is None


@pytest.mark.parametrize(
    "text, message",
    [
        ("course: chronic\n", "case.course: 'chronic' is not one of acute, static, progressive, episodic"),
        ("findings: [HP:9999999]\n", "case.findings[0]: 'HP:9999999' is not a current term"),
        ("age: 20\nonset_age: 30\n", "onset at 30 is after the current age 20"),
        ("{not yaml: [\n", "not valid JSON"),
        ("- a list\n", "not an input Contraxis reads"),
    ],
)
def test_bad_input_exits_2_without_traceback(text, message):
    """Check that bad input prints the field, the value and what is allowed, exits 2, and shows no traceback."""
    out = run("assess", "-", stdin=text)
    assert out.returncode == 2
    assert message in out.stderr
    assert "Traceback" not in out.stderr + out.stdout


def test_missing_file_is_a_clear_error():
    """Check that a missing file is named in a one-line error."""
    out = run("assess", "no-such-case.yaml")
    assert out.returncode == 2 and "no-such-case.yaml: cannot read the file" in out.stderr


def test_vignettes_command_passes_the_corpus():
    """Check that `contraxis vignettes` prints accuracy per field and exits 0 when all pass."""
    out = run("vignettes", str(VIGNETTES))
    assert out.returncode == 0, out.stdout + out.stderr
    assert "all vignettes pass" in out.stdout and "phenomenology" in out.stdout


def test_vignettes_command_fails_on_a_wrong_expectation(tmp_path):
    """Check that a vignette whose expectation is not met makes the command exit non-zero and name the failure."""
    source = (VIGNETTES / "P01-cervical-dystonia-sensory-trick.yaml").read_text(encoding="utf-8")
    (tmp_path / "X01.yaml").write_text(
        source.replace("focal_type: cervical", "focal_type: blepharospasm"), encoding="utf-8"
    )
    out = run("vignettes", str(tmp_path))
    assert out.returncode == 1
    assert "FAIL" in out.stdout and "focal_type" in out.stdout


def test_bench_prints_assessments_per_second():
    """Check that the benchmark command prints a rate for the engine and for the whole path."""
    out = run("bench", "assess", str(VIGNETTES), "--seconds", "1")
    assert out.returncode == 0, out.stderr
    assert "assessments/s" in out.stdout and "engine" in out.stdout
