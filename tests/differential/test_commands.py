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
REALWORLD = SHARED / "realworld"
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
    """Check that --jsonl prints one JSON object per phenopacket with at least the top 50, the
    evidence block and not_read."""
    result = runner.invoke(app, ["differential", str(few_packets), "--jsonl"])
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.output.splitlines()]
    assert len(rows) == 3
    for row in rows:
        assert row["id"] and row["hpo_release"] == "2025-11-24 (annotations 2025-01-16)"
        assert row["format"] == "phenopacket" and isinstance(row["not_read"], list)
        assert {"present", "excluded", "labs", "replaced", "set_aside"} <= set(row["evidence"])
        assert all(set(item) == {"path", "value", "reason"} for item in row["not_read"])
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
    result = runner.invoke(app, ["differential", str(single), "--json", "--top", "5"])
    assert result.exit_code == 0, result.output
    answer = json.loads(result.output)
    assert len(answer["candidates"]) == 5 and "not_read" in answer and "model" in answer


def test_bad_input_is_an_error_not_a_traceback(real_index, tmp_path):
    """Check that a malformed case exits with code 2 and names the field."""
    bad = tmp_path / "bad.yaml"
    bad.write_text("findings: [HP:12]\n", encoding="utf-8")
    result = runner.invoke(app, ["differential", str(bad)])
    assert result.exit_code == 2
    assert "case.findings" in result.output and "Traceback" not in result.output


def test_benchmark_ranks_with_both_methods(real_index, few_packets):
    """Check the benchmark's figures on three real cases, hpo3 on a sample of two: the rank as
    listed and among OMIM entries, the calibration, and hpo3 beside."""
    cases = list(iter_phenopackets(few_packets))
    report = run_benchmark(cases, index=real_index, hpo3_sample=2)
    assert len(report.listed.ranks) == 3 and len(report.omim.ranks) == 3 and report.sample == (0, 1)
    assert all(a is None or b is None or a >= b for a, b in zip(report.listed.ranks, report.omim.ranks, strict=True))
    assert report.hpo3 is not None and len(report.hpo3.ranks) == 2
    assert report.listed.ms_per_case > 0 and report.hpo3.ms_per_case > report.listed.ms_per_case
    assert len(report.calibration.confidence) == 3 and report.listed_lpo is None
    data = report.to_json()
    assert data["as_listed_on_sample"]["cases"] == 2 and "both_known" in data and "calibration" in data


def test_bench_command_prints_the_comparison(real_index, few_packets):
    """Check that the bench command prints both ways of ranking, hpo3 beside, the reliability
    table and the comparison, each figure line within 80 columns."""
    result = runner.invoke(
        app,
        ["bench", "differential", str(few_packets), "--hpo3-sample", "2", "--no-leave-publication-out"],
        env={"COLUMNS": "80"},
    )
    assert result.exit_code == 0, result.output
    assert "hpo3: resnik, funSimAvg" in result.output and "times faster per case" in result.output
    assert "expected calibration error (ECE)" in result.output and "first row right" in result.output
    rows = [line for line in result.output.splitlines() if line.startswith(("Contraxis", "hpo3, "))]
    assert [r.split("  ")[0] for r in rows] == [
        "Contraxis, listed",
        "Contraxis, OMIM",
        "Contraxis listed, sample",
        "Contraxis OMIM, sample",
        "hpo3, sample",
        "Contraxis, both know",
        "hpo3, both know",
    ]
    for row in rows:  # one line each, every figure whole
        assert len(row) <= 80 and "…" not in row
        assert all(float(figure) >= 0 for figure in row.split()[-8:])


def test_bench_command_says_where_the_misses_are(real_index, few_packets):
    """Check that, with the publications read, the bench command prints the figures by whether
    the annotation cites the case's own publication and the publications missed most (or that
    none is), within 80 columns."""
    result = runner.invoke(app, ["bench", "differential", str(few_packets), "--no-hpo3"], env={"COLUMNS": "80"})
    assert result.exit_code == 0, result.output
    assert "As listed, by the case's own publication" in result.output
    assert ("Publications whose cases miss the first ten most often" in result.output
            or "No publication's cases miss the first ten." in result.output)
    lines = result.output.splitlines()
    assert all(len(line) <= 80 for line in lines)
    groups = ("annotation cites it", "annotation does not", "no publication")
    split = [line.split() for line in lines if line.strip().startswith(groups) and line.split()[-1][0].isdigit()]
    assert split and sum(int(row[-4]) for row in split) == 3  # every case in one group
    data = json.loads(runner.invoke(app, ["bench", "differential", str(few_packets), "--no-hpo3", "--json"]).output)
    assert sum(group["cases"] for group in data["by_citation"].values()) == 3


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


def _run(tmp_path, data, *args, name="in.json"):
    path = tmp_path / name
    path.write_text(data if isinstance(data, str) else json.dumps(data), encoding="utf-8")
    return runner.invoke(app, ["differential", str(path), *args], env={"COLUMNS": "200"})


PACKET = {
    "id": "pp-1",
    "subject": {"id": "s", "sex": "FEMALE", "timeAtLastEncounter": {"age": {"iso8601duration": "P16Y"}}},
    "phenotypicFeatures": [
        {"type": {"id": "HP:0001336", "label": "Myoclonus"}},
        {"type": {"id": "HP:0002328", "label": "Dystonia (an alt_id)"}},
        {"type": {"id": "HP:0002322", "label": "Resting tremor"}, "excluded": True},
        {"type": {"id": "NCIT:C3038", "label": "Fever"}},
    ],
    "metaData": {"created": "2026-01-05T00:00:00Z", "createdBy": "x", "phenopacketSchemaVersion": "2.0"},
}


def test_not_read_names_each_item_with_its_path(real_index, tmp_path):
    """Check that --json and --jsonl carry not_read with phenopacket paths: the non-HPO feature
    and the alt_id replaced."""
    for flag in ("--json", "--jsonl"):
        result = _run(tmp_path, PACKET, flag, "--top", "5")
        assert result.exit_code == 0, result.output
        answer = json.loads(result.output)
        rows = {item["path"]: item for item in answer["not_read"]}
        assert rows["phenotypicFeatures[3].type.id"]["value"] == "NCIT:C3038 Fever"
        assert "HP:0001332" in rows["phenotypicFeatures[1].type.id"]["reason"]
        assert [t["term"] for t in answer["evidence"]["present"]] == ["HP:0001336", "HP:0001332"]
        assert len(answer["candidates"]) == 5


def test_the_table_shows_what_was_not_read_first(real_index, tmp_path):
    """Check that the table output lists what was not read before the ranking."""
    result = _run(tmp_path, PACKET, "--top", "3")
    assert result.exit_code == 0, result.output
    assert result.output.index("Not read or changed") < result.output.index("log10 LR")
    assert "phenotypicFeatures[3].type.id: NCIT:C3038 Fever" in result.output


def test_the_differential_sets_aside_what_its_release_does_not_hold(real_index, tmp_path):
    """Check that an id the ontology does not know is in not_read with its case path."""
    result = _run(tmp_path, {"findings": ["HP:0001332", "HP:9999999"]}, "--json", "--top", "3")
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)["not_read"]
    assert any(
        r["path"] == "case.findings[1]" and r["value"] == "HP:9999999" and "not used by the differential" in r["reason"]
        for r in rows
    )


@pytest.mark.parametrize(
    "features",
    [[], [{"type": {"id": "HP:0001332"}, "excluded": True}], [{"type": {"id": "NCIT:C3038", "label": "Fever"}}]],
)
def test_no_features_no_ranked_list(real_index, tmp_path, features):
    """Check that a phenopacket with no present HPO feature gives no ranked list but a note."""
    data = {**PACKET, "phenotypicFeatures": features}
    result = _run(tmp_path, data, "--jsonl")
    assert result.exit_code == 0, result.output
    answer = json.loads(result.output)
    assert answer["candidates"] == [] and answer["genes"] == []
    assert answer["note"].startswith("no ranked list: the phenopacket gives")
    table = _run(tmp_path, data)
    assert table.exit_code == 0 and "No ranked list" in table.output and "log10 LR" not in table.output


BUNDLE = {
    "resourceType": "Bundle",
    "type": "collection",
    "entry": [
        {"resource": {"resourceType": "Patient", "id": "p1", "gender": "female", "birthDate": "2000-01-01"}},
        {
            "resource": {
                "resourceType": "Condition",
                "id": "c1",
                "subject": {"reference": "Patient/p1"},
                "code": {
                    "coding": [
                        {"system": "http://purl.obolibrary.org/obo/hp.owl", "code": "HP:0001332", "display": "Dystonia"}
                    ]
                },
            }
        },
    ],
}


def test_a_fhir_bundle_is_ranked(real_index, tmp_path):
    """Check that a FHIR R4 Bundle is recognised and ranked, and its lone resource too."""
    result = _run(tmp_path, BUNDLE, "--json", "--top", "3")
    assert result.exit_code == 0, result.output
    answer = json.loads(result.output)
    assert answer["format"] == "fhir" and answer["id"] == "p1" and len(answer["candidates"]) == 3
    assert [t["term"] for t in answer["evidence"]["present"]] == ["HP:0001332"]
    result = _run(tmp_path, BUNDLE["entry"][0]["resource"], "--jsonl")
    assert result.exit_code == 0 and json.loads(result.output)["candidates"] == []


@pytest.mark.parametrize(
    "data, words",
    [
        ({"colour": "blue"}, ["an object with the keys 'colour'", "accepted:", "phenopacket v2"]),
        ({**PACKET, "genes": []}, ["a phenopacket v1", "phenopacket-tools convert"]),
        ({"id": "f", "proband": PACKET}, ["a phenopacket Family", "give the proband"]),
        ({**PACKET, "subject": {"id": "s", "timeAtLastEncounter": {"age": {"iso8601duration": "P150Y"}}}},
         ["subject.timeAtLastEncounter.age.iso8601duration", "'P150Y' is 150 years", "between 0 and 120"]),
    ],
)
def test_inputs_it_cannot_read_exit_2(real_index, tmp_path, data, words):
    """Check that each input it cannot read exits with code 2, naming the field, the value and
    what is allowed, with no traceback."""
    result = _run(tmp_path, data, "--jsonl")
    assert result.exit_code == 2, result.output
    text = " ".join(result.output.split())
    for word in words:
        assert word in text, text
    assert "Traceback" not in result.output


def test_json_and_jsonl_together_are_refused(real_index, tmp_path):
    """Check that --json with --jsonl is refused."""
    result = _run(tmp_path, PACKET, "--json", "--jsonl")
    assert result.exit_code == 2 and "--json or --jsonl" in result.output


def test_jsonl_lines_carry_the_same_evidence_as_the_json_answer(real_index, few_packets, tmp_path):
    """Check that each --jsonl line has the JSON answer's evidence (what was set aside or replaced,
    the onset read, the reporting rate, the weights) and not_read, leaving out only the model's
    description and the count of diseases ranked."""
    lines = runner.invoke(app, ["differential", str(few_packets), "--jsonl", "--top", "3"])
    whole = runner.invoke(app, ["differential", str(few_packets), "--json", "--top", "3"])
    assert lines.exit_code == 0 and whole.exit_code == 0, lines.output + whole.output
    for line, answer in zip((json.loads(x) for x in lines.output.splitlines()), json.loads(whole.output), strict=True):
        assert line["evidence"] == answer["evidence"] and line["not_read"] == answer["not_read"]
        assert {"set_aside", "replaced", "onset", "reporting_rate", "evidence_weights"} <= set(line["evidence"])
        assert set(answer) - set(line) == {"model", "diseases_ranked"}
        assert line["candidates"] == answer["candidates"]
