"""The OMOP and FHIR Bulk readers on the shared samples, and the codes the generator writes."""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import json
import shutil
from pathlib import Path

import pytest

from contraxis.errors import CaseError
from contraxis.screening import open_input, run_screen
from contraxis.screening.omop import find_tables

from .conftest import BULK


def _rows(path: Path) -> int:
    with path.open(encoding="utf-8") as handle:
        return sum(1 for _ in handle) - 1


def test_omop_sample_is_found_and_every_record_read(omop_sample: Path) -> None:
    """Check that the 28-patient CSV sample (upper-case names) is found whole and read into one record per row."""
    tables = find_tables(omop_sample)
    assert tables.kind == "csv" and tables.missing() == ()
    result = run_screen(omop_sample)
    expected = sum(_rows(omop_sample / f"{t}.csv") for t in (
        "CONDITION_OCCURRENCE", "DRUG_EXPOSURE", "MEASUREMENT", "OBSERVATION", "PROCEDURE_OCCURRENCE"))
    assert result.persons == 28 and result.records == expected
    assert result.worklist.num_rows == 0  # the sample holds no dystonia, tetany or cramp


def test_omop_concepts_are_read_through_the_concept_table(omop_sample: Path) -> None:
    """Check that a condition's concept id is read as its SNOMED CT code (372328 -> 65363002 Otitis media)."""
    import duckdb

    from contraxis.screening.engine_duckdb import register_duckdb

    con = duckdb.connect()
    register_duckdb(con, find_tables(omop_sample))
    rows = con.execute("SELECT DISTINCT vocabulary, code FROM cx_records WHERE domain = 'condition' AND code = "
                       "'65363002'").fetchall()
    assert rows == [("SNOMED", "65363002")]
    units = con.execute("SELECT DISTINCT unit FROM cx_records WHERE domain = 'measurement' AND code = '29463-7'"
                        ).fetchall()
    assert units == [("kg",)]


def test_a_dystonia_added_to_the_omop_sample_is_screened(omop_sample: Path, tmp_path: Path) -> None:
    """Check that a dystonia (concept 375800) two days after metoclopramide (source code, concept 0) is flagged."""
    copy = tmp_path / "omop"
    shutil.copytree(omop_sample, copy)
    with (copy / "CONDITION_OCCURRENCE.csv").open("a", encoding="utf-8") as handle:
        handle.write("99001,1,375800,2022-10-01,,,,38000175,0,,,,,dystonia,0,\n")
    with (copy / "DRUG_EXPOSURE.csv").open("a", encoding="utf-8") as handle:
        handle.write("99001,1,0,2022-09-29,,2022-10-29,,,32869,,0,0,30,,0,,,,,311666,0,,\n")
    result = run_screen(copy, screens=["drug-induced-dystonia"], as_of=dt.date(2022, 10, 10))
    rows = result.worklist.to_pylist()
    assert [(r["person_id"], r["alert"]) for r in rows] == [(1, "acute-dystonic-reaction")]
    assert "metoclopramide" in rows[0]["facts"]


def test_bulk_sample_is_laid_out_as_omop(tmp_path: Path) -> None:
    """Check that the 10-patient Bulk export is read: every Patient, Condition, MedicationRequest and Procedure."""
    from contraxis.screening.bulk import bulk_to_omop

    reading = bulk_to_omop(BULK, tmp_path / "omop")
    counts = {}
    for path in sorted(BULK.glob("*.ndjson.gz")):
        with gzip.open(path, "rt", encoding="utf-8") as handle:
            counts[path.name.split(".")[0]] = sum(1 for line in handle if line.strip())
    for kind in ("Patient", "Condition", "MedicationRequest", "Procedure"):
        assert reading.read[kind] == counts[kind], kind
    assert reading.not_read["Encounter: not a type screening reads"] == counts["Encounter"]
    result = run_screen(BULK)
    assert result.persons == counts["Patient"] and result.worklist.num_rows == 0


def _bulk_with_dystonia(tmp_path: Path) -> Path:
    export = tmp_path / "export"
    shutil.copytree(BULK, export)
    patient = {"resourceType": "Patient", "id": "dyst-1", "gender": "female", "birthDate": "1990-05-01"}
    condition = {"resourceType": "Condition", "id": "c1", "subject": {"reference": "Patient/dyst-1"},
                 "verificationStatus": {"coding": [{"code": "confirmed"}]},
                 "code": {"coding": [{"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": "G24.3"}]},
                 "onsetDateTime": "2023-01-10"}
    refuted = {**condition, "id": "c2", "verificationStatus": {"coding": [{"code": "refuted"}]}}
    lab = {"resourceType": "Observation", "id": "o1", "status": "final", "subject": {"reference": "Patient/dyst-1"},
           "code": {"coding": [{"system": "http://loinc.org", "code": "2951-2"}]}, "effectiveDateTime": "2023-01-10",
           "valueQuantity": {"value": 139, "unit": "mmol/L", "code": "mmol/L"}}
    (export / "Patient.001.ndjson").write_text(json.dumps(patient) + "\n", encoding="utf-8")
    (export / "Condition.001.ndjson").write_text(json.dumps(condition) + "\n" + json.dumps(refuted) + "\n",
                                                 encoding="utf-8")
    (export / "Observation.000.ndjson").write_text(json.dumps(lab) + "\n", encoding="utf-8")
    return export


def test_a_dystonia_added_to_the_bulk_export_is_screened(tmp_path: Path) -> None:
    """Check that cervical dystonia at 32 with no ceruloplasmin in a Bulk export is on the Wilson worklist."""
    from contraxis.screening.bulk import bulk_to_omop

    export = _bulk_with_dystonia(tmp_path)
    reading = bulk_to_omop(export, tmp_path / "omop")
    assert reading.not_read["Condition: verificationStatus says it is not a fact"] == 1
    assert reading.read["Observation"] == 1
    result = run_screen(export, screens=["wilson-screen", "dopa-trial"])
    rows = result.worklist.to_pylist()
    assert [(r["alert"], r["person_source_value"], r["age_at_index"]) for r in rows] == [
        ("wilson-screen", "dyst-1", 32.0)]


def test_unreadable_inputs_are_refused_clearly(tmp_path: Path) -> None:
    """Check that a missing folder, a folder with no person table and a bad NDJSON line each name the problem."""
    with pytest.raises(CaseError, match="does not exist"):
        open_input(tmp_path / "nowhere")
    (tmp_path / "empty").mkdir()
    with pytest.raises(CaseError, match="holds no person table"):
        open_input(tmp_path / "empty")
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "Patient.ndjson").write_text('{"resourceType": "Patient", "id": "p"}\nnot json\n', encoding="utf-8")
    with pytest.raises(CaseError, match=r"Patient.ndjson:2: is not JSON"):
        open_input(bad)


def test_generator_concepts_are_those_of_the_omop_sample(omop_sample: Path) -> None:
    """Check that every non-zero concept id the generator writes is in the sample's CONCEPT table with the same code."""
    from contraxis.screening.generate import load_population_parameters

    with (omop_sample / "CONCEPT.csv").open(encoding="utf-8") as handle:
        concepts = {r["concept_id"]: r for r in csv.DictReader(handle)}
    params = load_population_parameters()
    rows = [*params["background_conditions"], *params["background_drugs"], *params["codes"]["vitals"],
            *params["codes"]["labs"].values(), *(r for k in ("dystonia", "muscle_cramp", "tetany", "antidopaminergic",
                                                             "levodopa") for r in params["codes"][k])]
    checked = 0
    for row in rows:
        if row["concept_id"]:
            assert concepts[str(row["concept_id"])]["concept_code"] == str(row["code"]), row
            checked += 1
        for key in ("unit_concept_id",):
            if row.get(key):
                assert concepts[str(row[key])]["concept_code"] == row["unit"], row
    assert checked > 50


def test_generator_source_codes_are_real_and_read(omop_sample: Path) -> None:
    """Check the unmapped codes: ICD-10-CM in the CMS table, LOINC check digits, RxNorm codes the drug table reads."""
    import simple_icd_10_cm as cm

    from contraxis.codes import loinc_check_digit_ok
    from contraxis.screening.generate import load_population_parameters
    from contraxis.terminology.drugs import known_rxnorm
    from contraxis.terminology.labs import analyte_of
    from contraxis.terminology.problems import read_problem

    codes = load_population_parameters()["codes"]
    for key in ("dystonia", "muscle_cramp", "tetany"):
        for row in codes[key]:
            code = str(row["code"])
            if code[0].isalpha():
                assert cm.is_valid_item(code), code
                assert read_problem("ICD-10-CM", code) is not None, code
    for analyte, row in codes["labs"].items():
        assert loinc_check_digit_ok(row["code"]) and analyte_of(row["code"]) == analyte
    for row in (*codes["antidopaminergic"], *codes["levodopa"]):
        assert str(row["code"]) in known_rxnorm(), row
