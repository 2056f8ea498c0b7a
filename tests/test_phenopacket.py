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
        {
            "assay": {"id": "LOINC:17861-6", "label": "Calcium"},
            "value": {"quantity": {"unit": {"id": "UCUM:mg/dL", "label": "mg/dL"}, "value": 7.1}},
        },
        {
            "assay": {"id": "NCIT:C1", "label": "Other"},
            "value": {"quantity": {"unit": {"id": "UCUM:1", "label": "1"}, "value": 1.0}},
        },
    ],
    "diseases": [{"term": {"id": "OMIM:128100", "label": "Dystonia 1"}, "onset": {"age": {"iso8601duration": "P9Y"}}}],
    "interpretations": [
        {"id": "i1", "progressStatus": "SOLVED", "diagnosis": {"disease": {"id": "OMIM:128100", "label": "Dystonia 1"}}}
    ],
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
        ({"gestationalAge": {"weeks": 30}}, 0.0, "HP:0030674"),
        ({"ageRange": {"start": {"iso8601duration": "P2Y"}, "end": {"iso8601duration": "P4Y"}}}, 3.0, None),
    ],
)
def test_onset_forms(onset, age, term):
    """Check onset given as an onset class (with its band's age when narrow), a gestational age
    (antenatal onset, age 0 for the case) or an age range."""
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
    with pytest.raises(CaseError, match=r"x.json: is not valid JSON: .*line 1"):
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
    data["subject"]["timeAtLastEncounter"]["age"]["iso8601duration"] = "12 years"
    data["diseases"][0]["onset"] = {"age": {"iso8601duration": "P130Y"}}
    data["phenotypicFeatures"][2]["onset"] = {
        "ageRange": {"start": {"iso8601duration": "P4Y"}, "end": {"iso8601duration": "P2Y"}}
    }
    with pytest.raises(CaseError) as caught:
        read_phenopacket(data, source="bad.json")
    problems = {p.where: p.message for p in caught.value.problems}
    assert problems["subject.timeAtLastEncounter.age.iso8601duration"].startswith(
        "'12 years' is not an ISO 8601 duration"
    )
    assert problems["diseases[0].onset.age.iso8601duration"] == "'P130Y' is 130 years: an age must be between 0 and 120"
    assert "start first" in problems["phenotypicFeatures[2].onset.ageRange"]
    assert caught.value.source == "bad.json"


def test_terms_of_other_ontologies_are_reported_and_the_rest_read():
    """Check that a feature or onset class outside HPO is in not_read, with its path, and the
    rest of the phenopacket is read."""
    data = copy.deepcopy(GOOD)
    data["phenotypicFeatures"].append({"type": {"id": "NCIT:C3038", "label": "Fever"}})
    data["diseases"][0]["onset"] = {"ontologyClass": {"id": "ONSET:1", "label": "early"}}
    imported = read_phenopacket(data)
    rows = {n.path: n for n in imported.not_read}
    assert rows["phenotypicFeatures[4].type.id"].value == "NCIT:C3038 Fever"
    assert "not an HPO term" in rows["phenotypicFeatures[4].type.id"].reason
    assert "not an HPO onset class" in rows["diseases[0].onset.ontologyClass.id"].reason
    assert imported.case.findings == ("HP:0001332", "HP:0001337")
    assert imported.case.onset_age == pytest.approx(3.0)  # the feature onset stands in


def test_a_list_is_not_a_phenopacket():
    """Check that a JSON array is refused with what was expected."""
    with pytest.raises(CaseError, match="expected a JSON object, got a list"):
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
    with pytest.raises(CaseError, match=r"broken.jsonl:2: is not valid JSON"):
        list(iter_phenopackets(broken))
    with pytest.raises(CaseError, match="cannot read the file"):
        list(iter_phenopackets(tmp_path / "missing.jsonl"))
    with pytest.raises(CaseError, match="cannot read the file"):
        load_phenopacket(tmp_path / "missing.json")


def _packet(**changes):
    data = copy.deepcopy(GOOD)
    del data["measurements"]
    data.update(changes)
    return data


def test_alt_ids_are_replaced_and_reported():
    """Check that an HPO alt_id (HP:0002328, an alt_id of Dystonia HP:0001332 in hp.obo) is read
    as its term, and said."""
    data = _packet(phenotypicFeatures=[{"type": {"id": "HP:0002328", "label": "Dystonia"}},
                                       {"type": {"id": "HP_0001250", "label": "Seizure"}, "excluded": True}])
    imported = read_phenopacket(data)
    assert imported.case.findings == ("HP:0001332",) and imported.case.absent == ("HP:0001250",)
    rows = [n for n in imported.not_read if n.path.startswith("phenotypicFeatures")]
    assert rows[0].path == "phenotypicFeatures[0].type.id" and "HP:0002328" in rows[0].value
    assert "HP:0001332" in rows[0].reason
    assert rows[1].path == "phenotypicFeatures[1].type.id" and rows[1].reason == "read as HP:0001250"


def test_a_term_given_both_ways_is_present_and_said():
    """Check that a term both present and excluded is kept present, and the exclusion reported."""
    imported = read_phenopacket(_packet())
    row = next(n for n in imported.not_read if n.path == "phenotypicFeatures[3].type.id")
    assert "read as present" in row.reason and "phenotypicFeatures[2]" in row.reason


@pytest.mark.parametrize(
    "onset, term",
    [
        ({"ontologyClass": {"id": "HP:0011461", "label": "Fetal onset"}}, "HP:0011461"),
        ({"ontologyClass": {"id": "HP:0011460", "label": "Embryonal onset"}}, "HP:0011460"),
        ({"ontologyClass": {"id": "HP:0030674", "label": "Antenatal onset"}}, "HP:0030674"),
        ({"gestationalAge": {"weeks": 28}}, "HP:0030674"),
    ],
)
def test_a_feature_with_prenatal_onset(onset, term):
    """Check that a feature's antenatal onset (HP:0030674 and its subclasses in hp.obo) is the
    earliest onset, kept as its term (not read as birth)."""
    data = _packet(diseases=[])
    data["phenotypicFeatures"][2]["onset"] = onset
    data["phenotypicFeatures"].insert(0, {"type": {"id": "HP:0001250"}, "onset": {"age": {"iso8601duration": "P1Y"}}})
    imported = read_phenopacket(data)
    assert imported.onset_term == term and imported.case.onset_age == 0.0


def test_timestamps_are_ages_from_the_date_of_birth():
    """Check that timestamps (onset, last encounter) become ages counted from dateOfBirth."""
    data = _packet(diseases=[])
    data["subject"] = {"id": "s", "sex": "FEMALE", "dateOfBirth": "2000-03-01T00:00:00Z",
                       "timeAtLastEncounter": {"timestamp": "2020-03-01T00:00:00Z"}}
    data["phenotypicFeatures"][2]["onset"] = {"timestamp": "2010-09-01T00:00:00Z"}
    imported = read_phenopacket(data)
    assert imported.case.age == pytest.approx(20.0, abs=0.01)
    assert imported.case.onset_age == pytest.approx(10.5, abs=0.01)
    before_birth = copy.deepcopy(data)
    before_birth["phenotypicFeatures"][2]["onset"] = {"timestamp": "1999-12-01T00:00:00Z"}
    assert read_phenopacket(before_birth).onset_term == "HP:0030674"


def test_timestamps_without_a_date_of_birth_are_reported():
    """Check that a timestamp onset with no date of birth is not used, and said."""
    data = _packet(diseases=[])
    data["phenotypicFeatures"][2]["onset"] = {"timestamp": "2010-09-01T00:00:00Z"}
    imported = read_phenopacket(data)
    assert imported.case.onset_age is None
    row = next(n for n in imported.not_read if n.path == "phenotypicFeatures[2].onset.timestamp")
    assert "no subject.dateOfBirth" in row.reason


def test_an_age_from_the_date_of_birth_alone():
    """Check that without timeAtLastEncounter the age is counted to today, and said."""
    import datetime as dt

    data = _packet(diseases=[])
    data["subject"] = {"id": "s", "dateOfBirth": "1990-01-01T00:00:00Z"}
    imported = read_phenopacket(data, today=dt.date(2020, 1, 1))
    assert imported.case.age == pytest.approx(30.0, abs=0.01)
    assert any(n.path == "subject.dateOfBirth" and "counted to 2020-01-01" in n.reason for n in imported.not_read)


@pytest.mark.parametrize(
    "subject, field",
    [
        (
            {"id": "s", "timeAtLastEncounter": {"age": {"iso8601duration": "P121Y"}}},
            "subject.timeAtLastEncounter.age.iso8601duration",
        ),
        ({"id": "s", "dateOfBirth": "1850-01-01T00:00:00Z"}, "subject.dateOfBirth"),
        (
            {
                "id": "s",
                "dateOfBirth": "1850-01-01T00:00:00Z",
                "timeAtLastEncounter": {"timestamp": "2000-01-01T00:00:00Z"},
            },
            "subject.timeAtLastEncounter.timestamp",
        ),
    ],
)
def test_ages_over_120_are_refused(subject, field):
    """Check that an age over 120 is refused as in a native case, naming the field and the value."""
    with pytest.raises(CaseError) as caught:
        read_phenopacket(_packet(subject=subject), source="old.json")
    problem = caught.value.problems[0]
    assert problem.where == field and "an age must be between 0 and 120" in problem.message


def test_a_phenopacket_with_no_features():
    """Check that a phenopacket without features is read (an empty case), not refused."""
    imported = read_phenopacket(_packet(phenotypicFeatures=[], diseases=[], interpretations=[]))
    assert imported.case.findings == () and imported.case.absent == () and imported.features == 0


def test_a_yaml_phenopacket():
    """Check that YAML (with unquoted timestamps, as YAML writers leave them) is read."""
    text = """
id: Y1
subject:
  id: s
  sex: MALE
  dateOfBirth: 2001-01-01T00:00:00Z
  timeAtLastEncounter: {timestamp: 2021-01-01T00:00:00Z}
phenotypicFeatures:
  - type: {id: "HP:0001332", label: Dystonia}
metaData: {created: 2025-01-01T00:00:00Z, createdBy: x, phenopacketSchemaVersion: "2.0"}
"""
    imported = read_phenopacket(text, source="y.yaml")
    assert imported.case.id == "Y1" and imported.case.age == pytest.approx(20.0, abs=0.01)


V1 = {
    "id": "v1-case",
    "subject": {"id": "s", "sex": "FEMALE", "ageAtCollection": {"age": "P10Y"}},
    "phenotypicFeatures": [
        {
            "type": {"id": "HP:0001332", "label": "Dystonia"},
            "classOfOnset": {"id": "HP:0011463", "label": "Childhood onset"},
        }
    ],
    "genes": [{"id": "HGNC:11995", "symbol": "TOR1A"}],
    "metaData": {
        "created": "2019-01-01T00:00:00Z",
        "createdBy": "x",
        "resources": [
            {
                "id": "hp",
                "name": "human phenotype ontology",
                "namespacePrefix": "HP",
                "url": "http://purl.obolibrary.org/obo/hp.owl",
                "version": "2018-03-08",
                "iriPrefix": "http://purl.obolibrary.org/obo/HP_",
            }
        ],
    },
}


@pytest.mark.parametrize(
    "change, where",
    [
        ({}, "genes"),
        ({"genes": None}, "subject.ageAtCollection"),
        ({"genes": None, "subject": {"id": "s"}}, "phenotypicFeatures[0].classOfOnset"),
        (
            {
                "genes": None,
                "subject": {"id": "s"},
                "phenotypicFeatures": [{"type": {"id": "HP:0001332"}}],
                "metaData": {"createdBy": "x", "phenopacketSchemaVersion": "1.0"},
            },
            "metaData.phenopacketSchemaVersion",
        ),
        (
            {
                "genes": None,
                "subject": {"id": "s"},
                "phenotypicFeatures": [{"type": {"id": "HP:0001332"}, "negated": True}],
            },
            "phenotypicFeatures[0].negated",
        ),
        ({"genes": None, "subject": {"id": "s"}, "phenotypicFeatures": [], "phenotypes": []}, "phenotypes"),
    ],
)
def test_a_v1_phenopacket_says_what_to_do(change, where):
    """Check that a phenopacket v1 (by its v1 fields or schema version) is named, with the
    conversion to make."""
    data = {k: v for k, v in {**copy.deepcopy(V1), **change}.items() if v is not None}
    with pytest.raises(CaseError) as caught:
        read_phenopacket(data, source="old.json")
    problem = caught.value.problems[0]
    assert problem.where == where
    assert problem.message.startswith("a phenopacket v1") and "phenopacket-tools convert" in problem.message


def test_a_message_that_fits_only_v1():
    """Check that a message that fits the v1 schema and not v2 is named as v1."""
    data = {"id": "x", "subject": {"id": "s"}, "htsFiles": []}
    with pytest.raises(CaseError, match="a phenopacket v1"):
        read_phenopacket(data)
    data = {
        "id": "x",
        "subject": {"id": "s"},
        "biosamples": [{"id": "b", "ageOfIndividualAtCollection": {"age": "P1Y"}}],
    }
    with pytest.raises(CaseError, match=r"a phenopacket v1 \(it fits the v1 schema, not v2\)"):
        read_phenopacket(data)


@pytest.mark.parametrize(
    "data, words",
    [
        (
            {"id": "fam", "proband": GOOD, "relatives": [GOOD]},
            ["a phenopacket Family (a proband and 1 relative)", "give the proband"],
        ),
        ({"id": "coh", "members": [GOOD, GOOD, GOOD]}, ["a phenopacket Cohort of 3 members", "JSON Lines"]),
    ],
)
def test_family_and_cohort_say_what_to_do(data, words):
    """Check that a Family or a Cohort is named, with what to give instead."""
    with pytest.raises(CaseError) as caught:
        read_phenopacket(data)
    for word in words:
        assert word in str(caught.value)


def test_a_binary_phenopacket_says_what_to_do(tmp_path):
    """Check that a protobuf file is named as such, with what to do."""
    from google.protobuf import json_format
    from phenopackets import Phenopacket

    path = tmp_path / "p.pb"
    path.write_bytes(json_format.ParseDict(_packet(), Phenopacket()).SerializeToString())
    with pytest.raises(
        CaseError,
        match=r"p.pb: a binary \(protobuf\) phenopacket message: Contraxis reads phenopackets as JSON or YAML",
    ):
        load_phenopacket(path)


def test_diagnoses_and_interpretations_are_reported_not_used():
    """Check that the stated diagnosis and interpretation are in not_read, not in the case."""
    imported = read_phenopacket(_packet())
    paths = {n.path for n in imported.not_read}
    assert {"diseases[0].term", "interpretations[0]"} <= paths
    assert imported.case.genetics is None


def test_not_read_paths_are_in_the_phenopacket():
    """Check every not_read row has a path, a bounded value and a reason."""
    data = _packet(phenotypicFeatures=[{"type": {"id": "NCIT:" + "C" * 500, "label": "x" * 500}}])
    imported = read_phenopacket(data)
    for row in imported.not_read:
        assert row.path and row.reason and len(row.value) <= 120


def _measure(loinc, value, when=None, **extra):
    measurement = {"assay": {"id": f"LOINC:{loinc}", "label": "test"}, "value": value, **extra}
    if when is not None:
        measurement["timeObserved"] = when
    return measurement


def _quantity(value, unit_id, label=""):
    return {"quantity": {"unit": {"id": unit_id, "label": label}, "value": value}}


def test_serial_measurements_keep_their_dates():
    """Check that every result of a test is kept with its date (timestamp or age), under any
    LOINC code of the analyte, so that the latest can decide."""
    data = _packet(measurements=[
        _measure("17861-6", _quantity(9.4, "UCUM:mg/dL"), {"timestamp": "2019-01-01T10:00:00Z"}),
        _measure("2000-8", _quantity(1.6, "UO:0000063", "millimolar"), {"timestamp": "2025-06-01T10:00:00Z"}),
        _measure("2951-2", _quantity(131, "UCUM:mmol/L"), {"age": {"iso8601duration": "P12Y"}}),
    ])
    labs = read_phenopacket(data).case.labs
    assert [(lab.loinc, lab.value, lab.unit) for lab in labs] == [
        ("17861-6", 9.4, "mg/dL"),
        ("2000-8", 1.6, "mmol/L"),
        ("2951-2", 131.0, "mmol/L"),
    ]
    assert [str(lab.date) for lab in labs[:2]] == ["2019-01-01", "2025-06-01"]
    assert labs[2].days_ago == pytest.approx(0.5 * 365.25, abs=0.2)  # 12 years, at the last encounter (12.5)


@pytest.mark.parametrize(
    "unit, expected",
    [
        ({"id": "UO:0010067", "label": "milligram per deciliter"}, "mg/dL"),  # UO:0010067 is mg/dL in uo.obo
        ({"id": "UCUM:mg/dL", "label": "mg/dL"}, "mg/dL"),
        ({"id": "NCIT:C67015", "label": "milligram per deciliter"}, "mg/dL"),  # read by its label
    ],
)
def test_units_ontology_and_other_unit_classes(unit, expected):
    """Check that a unit given as a Units Ontology id, a UCUM code or a label is read as UCUM."""
    data = _packet(
        measurements=[{"assay": {"id": "LOINC:17861-6"}, "value": {"quantity": {"unit": unit, "value": 9.0}}}]
    )
    assert read_phenopacket(data).case.labs[0].unit == expected


@pytest.mark.parametrize(
    "concept, interpretation",
    [
        ({"id": "NCIT:C25640", "label": "Reduced"}, "low"),   # the schema docs' ordinal terms
        ({"id": "NCIT:C25493", "label": "Elevated"}, "high"),
        ({"id": "NCIT:C14165", "label": "Normal"}, "normal"),
        ({"id": "LOINC:LA-ANY", "label": "Low"}, "low"),     # read by the answer's label
        ({"id": "HL7:L", "label": "L"}, "low"),
    ],
)
def test_qualitative_measurements_are_interpretations(concept, interpretation):
    """Check that an ordinal result (Low, Normal, High...) is kept as the result's interpretation."""
    data = _packet(measurements=[_measure("2064-4", {"ontologyClass": concept})])
    lab = read_phenopacket(data).case.labs[0]
    assert lab.interpretation == interpretation and lab.value is None


def test_measurements_not_read_are_reported():
    """Check non-LOINC assays, complex values, answers that are not low/normal/high and
    repeated undated results: each in not_read with its path."""
    data = _packet(measurements=[
        {"assay": {"id": "CMO:0000003", "label": "blood pressure"}, "complexValue": {"typedQuantities": []}},
        _measure("5802-4", {"ontologyClass": {"id": "NCIT:C25626", "label": "Present"}}),
        {"assay": {"id": "LOINC:17861-6"}, "complexValue": {"typedQuantities": []}},
        _measure("17861-6", _quantity(9.0, "UCUM:mg/dL")),
        _measure("17861-6", _quantity(7.0, "UCUM:mg/dL"), {"timestamp": "2024-01-01T00:00:00Z"}),
    ])
    imported = read_phenopacket(data)
    rows = {n.path: n.reason for n in imported.not_read}
    assert "not a LOINC code" in rows["measurements[0].assay.id"]
    assert "not low, normal or high" in rows["measurements[1].value.ontologyClass"]
    assert "complex value" in rows["measurements[2].complexValue"]
    assert "without timeObserved" in rows["measurements[3]"]
    assert [(lab.value, str(lab.date)) for lab in imported.case.labs] == [(7.0, "2024-01-01")]


@pytest.mark.parametrize(
    "measurement, field, words",
    [
        (
            _measure("17861-6", _quantity(2.35, "UCUM:mg/dL")),
            "measurements[0].value.quantity.value",
            ["2.35 mg/dL is not a possible calcium", "mmol/L"],
        ),
        (
            _measure("17861-6", _quantity(-1, "UCUM:mg/dL")),
            "measurements[0].value.quantity.value",
            ["negative", "plausible"],
        ),
        (
            _measure("17861-6", _quantity("NaN", "UCUM:mg/dL")),
            "measurements[0].value.quantity.value",
            ["nan is not a number"],
        ),
        (
            _measure("1234-5", _quantity("Infinity", "UCUM:mg/dL")),
            "measurements[0].value.quantity.value",
            ["inf", "a finite number"],
        ),
        (
            _measure("17861-6", _quantity(9, "NCIT:C1", "furlong")),
            "measurements[0].value.quantity.unit",
            ["'NCIT:C1'", "allowed: mg/dL"],
        ),
        (
            _measure("17861-6", _quantity(9, "UCUM:mg/dL"), {"timestamp": "2999-01-01T00:00:00Z"}),
            "measurements[0]",
            ["2999-01-01 is in the future"],
        ),
    ],
)
def test_impossible_measurements_are_refused_by_their_path(measurement, field, words):
    """Check that an impossible result is refused, named by its place in the phenopacket, with
    the value and what is allowed."""
    with pytest.raises(CaseError) as caught:
        read_phenopacket(_packet(measurements=[measurement]), source="m.json")
    problem = caught.value.problems[0]
    assert problem.where == field
    for word in words:
        assert word in problem.message


def test_drug_treatments_become_medications():
    """Check that treatment agents are read as drugs (by name, brand or RxNorm code) with the
    days since the first dose, and what is not a drug treatment is reported."""
    import datetime as dt

    from contraxis.terminology.drugs import known_rxnorm

    rxnorm = next(code for code, ingredients in known_rxnorm().items() if ingredients == ("metoclopramide",))
    data = _packet(
        medicalActions=[
            {
                "treatment": {
                    "agent": {"id": "DrugCentral:1610", "label": "Reglan"},
                    "doseIntervals": [{"interval": {"start": "2020-03-15T13:00:00Z", "end": "2020-03-25T09:00:00Z"}}],
                }
            },
            {"treatment": {"agent": {"id": f"RXNORM:{rxnorm}"}}},
            {
                "treatment": {
                    "agent": {"id": "DrugCentral:1610", "label": "losartan"},
                    "doseIntervals": [{"interval": {"start": "2020-01-01T00:00:00Z", "end": "2020-02-01T00:00:00Z"}}],
                }
            },
            {"procedure": {"code": {"id": "NCIT:C15329", "label": "Surgical Procedure"}}},
            {
                "treatment": {"agent": {"id": "X:1", "label": "haloperidol"}},
                "treatmentTerminationReason": {"id": "NCIT:C41331", "label": "Adverse Event"},
            },
        ]
    )
    imported = read_phenopacket(data, today=dt.date(2020, 3, 18))
    meds = imported.case.medications
    assert [m.ingredients for m in meds] == [("metoclopramide",), ("metoclopramide",), ("losartan",)]
    assert meds[0].days_since_start == 3 and meds[0].days_since_stop is None
    assert meds[2].days_since_stop == 46
    rows = {n.path: n.reason for n in imported.not_read}
    assert "read as metoclopramide" in rows["medicalActions[0].treatment.agent"]
    assert "not a drug treatment" in rows["medicalActions[3]"]
    assert "no end date" in rows["medicalActions[4].treatmentTerminationReason"]


def test_an_envelope_and_a_lower_case_sex():
    """Check that a phenopacket inside {"phenopacket": ...} is read, and a lower-case sex read
    as the schema's value, and said."""
    data = {"phenopacket": _packet(subject={"id": "s", "sex": "female"})}
    imported = read_phenopacket(data)
    assert imported.case.sex == "female" and imported.case.id == "P1"
    assert any(n.path == "subject.sex" and n.reason.startswith("read as FEMALE") for n in imported.not_read)
    with pytest.raises(CaseError, match="does not fit the Phenopacket v2 schema"):
        read_phenopacket(_packet(subject={"id": "s", "sex": "woman"}))
