"""Reading GA4GH phenopackets (v2) into cases: good files, malformed ones, JSON Lines."""

from __future__ import annotations

import copy
import gzip
import json

import pytest

from contraxis.errors import CaseError
from contraxis.io.phenopacket import iter_phenopackets, load_phenopacket, parse_duration, read_phenopacket

GOOD = {
    "id": "P1",
    "subject": {"id": "s1", "sex": "FEMALE", "timeAtLastEncounter": {"age": {"iso8601duration": "P12Y6M"}}},
    "phenotypicFeatures": [
        {"type": {"id": "HP:0001332", "label": "Dystonia"}},
        {"type": {"id": "HP:0001250", "label": "Seizure"}, "excluded": True},
        {"type": {"id": "HP:0001337", "label": "Tremor"}, "onset": {"age": {"iso8601duration": "P3Y"}}},
        {"type": {"id": "HP:0001337", "label": "Tremor"}, "excluded": True},
    ],
    "measurements": [
        {"assay": {"id": "LOINC:17861-6", "label": "Calcium"}, "value": {"quantity": {"unit": {"id": "UCUM:mg/dL", "label": "mg/dL"}, "value": 7.1}}},
        {"assay": {"id": "NCIT:C1", "label": "Other"}, "value": {"quantity": {"unit": {"id": "UCUM:1", "label": "1"}, "value": 1.0}}},
    ],
    "diseases": [{"term": {"id": "OMIM:128100", "label": "Dystonia 1"}, "onset": {"age": {"iso8601duration": "P9Y"}}}],
    "interpretations": [{"id": "i1", "progressStatus": "SOLVED", "diagnosis": {"disease": {"id": "OMIM:128100", "label": "Dystonia 1"}}}],
    "metaData": {"created": "2025-01-01T00:00:00Z", "createdBy": "x", "phenopacketSchemaVersion": "2.0"},
}


def test_good_phenopacket_becomes_a_case():
    """Check every field read: id, sex, age, findings, exclusions, onset, labs, diagnoses."""
    imported = read_phenopacket(GOOD)
    case = imported.case
    assert case.id == "P1" and case.sex == "female" and case.age == pytest.approx(12.5)
    assert case.findings == ("HP:0001332", "HP:0001337")
    assert case.absent == ("HP:0001250",)  # tremor given both ways is present
    assert case.onset_age == pytest.approx(9.0) and imported.onset_term is None
    assert [(lab.loinc, lab.value, lab.unit) for lab in case.labs] == [("17861-6", 7.1, "mg/dL")]
    assert [d.id for d in imported.diagnoses] == ["OMIM:128100"]
    assert case.genetics is None  # the answer never reaches the case


@pytest.mark.parametrize(
    "onset, age, term",
    [
        ({"ontologyClass": {"id": "HP:0003593", "label": "Infantile onset"}}, 0.5, "HP:0003593"),
        ({"ontologyClass": {"id": "HP:0003581", "label": "Adult onset"}}, None, "HP:0003581"),
        ({"gestationalAge": {"weeks": 30}}, None, "HP:0030674"),
        ({"ageRange": {"start": {"iso8601duration": "P2Y"}, "end": {"iso8601duration": "P4Y"}}}, 3.0, None),
    ],
)
def test_onset_forms(onset, age, term):
    """Check onset given as an onset class (with its band's age when narrow), a gestational age
    or an age range."""
    data = copy.deepcopy(GOOD)
    data["diseases"][0]["onset"] = onset
    imported = read_phenopacket(data)
    assert imported.onset_term == term
    assert imported.case.onset_age == (pytest.approx(age) if age is not None else None)


def test_feature_onset_stands_in_for_a_missing_disease_onset():
    """Check that without a disease onset the earliest feature onset is used."""
    data = copy.deepcopy(GOOD)
    del data["diseases"][0]["onset"]
    assert read_phenopacket(data).case.onset_age == pytest.approx(3.0)


def test_onset_after_the_last_encounter_drops_the_age():
    """Check that contradictory ages keep the onset and drop the age, rather than fail."""
    data = copy.deepcopy(GOOD)
    data["subject"]["timeAtLastEncounter"] = {"age": {"iso8601duration": "P5Y"}}
    case = read_phenopacket(data).case
    assert case.age is None and case.onset_age == pytest.approx(9.0)


@pytest.mark.parametrize(
    "text, years",
    [("P2Y", 2.0), ("P1Y6M", 1.5), ("P3W", 21 / 365.25), ("P10D", 10 / 365.25), ("P0Y", 0.0), ("P1DT12H", 1 / 365.25)],
)
def test_durations(text, years):
    """Check ISO 8601 durations in years."""
    assert parse_duration(text) == pytest.approx(years)


@pytest.mark.parametrize("text", ["P", "2Y", "P2X", "PT", "", "P1Y2"])
def test_bad_durations(text):
    """Check that malformed durations are refused."""
    assert parse_duration(text) is None


def test_not_json_is_named():
    """Check that text that is not JSON says where it breaks."""
    with pytest.raises(CaseError, match=r"x.json: not valid JSON: .*line 1"):
        read_phenopacket("{not json", source="x.json")


def test_schema_violation_is_refused():
    """Check that a field the Phenopacket schema does not have is refused, naming it."""
    data = copy.deepcopy(GOOD)
    data["phenotypicFeatures"][0]["severity"] = "very"
    with pytest.raises(CaseError, match="does not fit the Phenopacket v2 schema") as caught:
        read_phenopacket(data, source="p.json")
    assert "severity" in str(caught.value)
    data = copy.deepcopy(GOOD)
    data["colour"] = "blue"
    with pytest.raises(CaseError, match="colour"):
        read_phenopacket(data)


def test_every_problem_is_named_and_nothing_is_half_read():
    """Check that all field problems come in one error, each naming the field and value."""
    data = copy.deepcopy(GOOD)
    data["phenotypicFeatures"][1]["type"]["id"] = "MP:0001"
    data["subject"]["timeAtLastEncounter"]["age"]["iso8601duration"] = "12 years"
    data["diseases"][0]["onset"] = {"ontologyClass": {"id": "ONSET:1"}}
    with pytest.raises(CaseError) as caught:
        read_phenopacket(data, source="bad.json")
    problems = {p.where: p.message for p in caught.value.problems}
    assert problems["phenotypicFeatures[1].type.id"].startswith("'MP:0001' is not an HPO term")
    assert problems["subject.timeAtLastEncounter.age.iso8601duration"].startswith("'12 years' is not an ISO 8601 duration")
    assert problems["diseases[0].onset.ontologyClass.id"].startswith("'ONSET:1' is not an HPO onset term")
    assert caught.value.source == "bad.json"


def test_a_list_is_not_a_phenopacket():
    """Check that a JSON array is refused with what was expected."""
    with pytest.raises(CaseError, match="expected a JSON object, got list"):
        read_phenopacket("[]")


def test_files_and_json_lines(tmp_path):
    """Check reading a file, a JSON Lines file and a gzipped one; a bad line is named."""
    single = tmp_path / "p.json"
    single.write_text(json.dumps(GOOD), encoding="utf-8")
    assert load_phenopacket(single).case.id == "P1"
    second = copy.deepcopy(GOOD)
    second["id"] = "P2"
    lines = json.dumps(GOOD) + "\n\n" + json.dumps(second) + "\n"
    plain = tmp_path / "set.jsonl"
    plain.write_text(lines, encoding="utf-8")
    packed = tmp_path / "set.jsonl.gz"
    packed.write_bytes(gzip.compress(lines.encode("utf-8")))
    for path in (plain, packed):
        assert [c.case.id for c in iter_phenopackets(path)] == ["P1", "P2"]
        assert all(c.source.startswith(str(path)) for c in iter_phenopackets(path))
    broken = tmp_path / "broken.jsonl"
    broken.write_text(json.dumps(GOOD) + "\n{oops\n", encoding="utf-8")
    with pytest.raises(CaseError, match=r"broken.jsonl:2: not valid JSON"):
        list(iter_phenopackets(broken))
    with pytest.raises(CaseError, match="cannot read the file"):
        list(iter_phenopackets(tmp_path / "missing.jsonl"))
    with pytest.raises(CaseError, match="cannot read the file"):
        load_phenopacket(tmp_path / "missing.json")
