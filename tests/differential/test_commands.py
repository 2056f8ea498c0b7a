"""The two commands, run through Typer, and the benchmark on a few real cases."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from contraxis.cli.differential import bench_differential_command, differential_command
from contraxis.differential.benchmark import MethodResult, evenly_spaced, run_benchmark
from contraxis.io.phenopacket import iter_phenopackets

SHARED = Path(__file__).resolve().parents[3] / "shared"
DEV = SHARED / "benchmarks" / "phenopackets-dev.jsonl"
VIGNETTE = SHARED / "vignettes" / "P21-metoclopramide-acute-dystonic-reaction.yaml"

app = typer.Typer()
app.command("differential")(differential_command)
bench = typer.Typer()
app.add_typer(bench, name="bench")
bench.command("differential")(bench_differential_command)
runner = CliRunner()


@pytest.fixture(scope="module")
def few_packets(tmp_path_factory) -> Path:
    if not DEV.exists():
        pytest.skip(f"the dev benchmark is not here: {DEV}")
    lines = DEV.read_text(encoding="utf-8").splitlines()[:3]
    path = tmp_path_factory.mktemp("packets") / "three.jsonl.gz"
    path.write_bytes(gzip.compress(("\n".join(lines) + "\n").encode("utf-8")))
    return path


def test_jsonl_output_has_one_line_per_case(real_index, few_packets):
    """Check that --jsonl prints one JSON object per phenopacket with at least the top 50."""
    result = runner.invoke(app, ["differential", str(few_packets), "--jsonl"])
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.output.splitlines()]
    assert len(rows) == 3
    for row in rows:
        assert row["id"] and row["hpo_release"] == "2025-11-24 (annotations 2025-01-16)"
        assert len(row["candidates"]) == 50
        probabilities = [c["post_test_probability"] for c in row["candidates"]]
        assert {"disease_id", "name", "genes", "score", "post_test_probability"} <= set(row["candidates"][0])
        assert probabilities[0] >= probabilities[-1]


def test_table_output_for_a_vignette(real_index):
    """Check that a vignette prints a ranked table with reasons, the cause first."""
    if not VIGNETTE.exists():
        pytest.skip("the vignette corpus is not here")
    result = runner.invoke(app, ["differential", str(VIGNETTE), "--top", "5"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "Acute dystonic reaction to a dopamine-blocking drug" in result.output
    assert "treatable: stop the drug" in result.output and "haloperidol" not in result.output
    assert "metoclopramide" in result.output


def test_a_single_phenopacket_file_is_recognised(real_index, few_packets, tmp_path):
    """Check that a phenopacket JSON file (not JSON Lines) is read as a phenopacket."""
    line = gzip.decompress(few_packets.read_bytes()).decode("utf-8").splitlines()[0]
    single = tmp_path / "one.json"
    single.write_text(line, encoding="utf-8")
    result = runner.invoke(app, ["differential", str(single), "--jsonl", "--top", "5"])
    assert result.exit_code == 0, result.output
    assert len(json.loads(result.output)["candidates"]) == 5


def test_bad_input_is_an_error_not_a_traceback(real_index, tmp_path):
    """Check that a malformed case exits with code 2 and names the field."""
    bad = tmp_path / "bad.yaml"
    bad.write_text("findings: [HP:12]\n", encoding="utf-8")
    result = runner.invoke(app, ["differential", str(bad)])
    assert result.exit_code == 2
    assert "case.findings" in result.output and "Traceback" not in result.output


def test_benchmark_ranks_with_both_methods(real_index, few_packets):
    """Check the benchmark's figures on three real cases, hpo3 on a sample of two."""
    cases = list(iter_phenopackets(few_packets))
    report = run_benchmark(cases, index=real_index, hpo3_sample=2)
    assert len(report.contraxis.ranks) == 3 and report.sample == (0, 1)
    assert report.hpo3 is not None and len(report.hpo3.ranks) == 2
    assert report.contraxis.ms_per_case > 0 and report.hpo3.ms_per_case > report.contraxis.ms_per_case
    data = report.to_json()
    assert data["contraxis_on_sample"]["cases"] == 2 and "both_known" in data


def test_bench_command_prints_the_comparison(real_index, few_packets):
    """Check that the bench command prints both methods and the comparison."""
    result = runner.invoke(app, ["bench", "differential", str(few_packets), "--hpo3-sample", "2"], env={"COLUMNS": "80"})
    assert result.exit_code == 0, result.output
    assert "hpo3: resnik, funSimAvg" in result.output and "times faster per case" in result.output
    rows = [line for line in result.output.splitlines() if line.startswith(("Contraxis, ", "hpo3, "))]
    assert [r.split("  ")[0] for r in rows] == ["Contraxis, all cases", "Contraxis, sample", "hpo3, sample", "Contraxis, both know", "hpo3, both know"]
    for row in rows:  # one line each, every figure whole
        assert len(row) <= 80 and "…" not in row
        assert all(float(figure) >= 0 for figure in row.split()[-8:])


def test_metrics_of_a_method():
    """Check top-k, MRR and the count of unknown diagnoses."""
    result = MethodResult("m", (1, 2, 11, None), 0.004)
    assert result.top(1) == pytest.approx(1 / 3) and result.top(10) == pytest.approx(2 / 3)
    assert result.mrr == pytest.approx((1 + 0.5 + 1 / 11) / 3)
    assert result.unknown == 1 and result.ms_per_case == pytest.approx(1.0)


@pytest.mark.parametrize("n, k, expected", [(10, 5, (0, 2, 4, 6, 8)), (3, 5, (0, 1, 2)), (4, None, (0, 1, 2, 3))])
def test_evenly_spaced_sample(n, k, expected):
    """Check that the hpo3 sample is spread evenly over the set."""
    assert evenly_spaced(n, k) == expected
