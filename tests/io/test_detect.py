"""One door: every input recognised by its shape, and anything else refused with what it is."""

from __future__ import annotations

import gzip
import json

import pytest

from contraxis.errors import CaseError
from contraxis.io.detect import input_format, iter_input_file, iter_inputs, read_input, relocate

NATIVE = {"age": 30, "sex": "female", "findings": ["HP:0001332"]}
VIGNETTE = {"id": "V1", "title": "t", "narrative": "n", "case": {"age": 30, "findings": ["HP:0001332"]}, "expected": {}}
PATIENT = {"resourceType": "Patient", "id": "p1", "gender": "female", "birthDate": "1990-01-01"}
BUNDLE = {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": PATIENT}]}
PACKET = {
    "id": "P1",
    "subject": {"id": "s1", "sex": "MALE", "timeAtLastEncounter": {"age": {"iso8601duration": "P20Y"}}},
    "phenotypicFeatures": [{"type": {"id": "HP:0001332", "label": "Dystonia"}}],
    "metaData": {"created": "2025-01-01T00:00:00Z", "createdBy": "x", "phenopacketSchemaVersion": "2.0"},
}


@pytest.mark.parametrize(
    "data, fmt",
    [
        (NATIVE, "native"),
        ({}, "native"),
        ({"id": "only-an-id"}, "native"),
        (VIGNETTE, "vignette"),
        ({"case": NATIVE}, "vignette"),
        (BUNDLE, "fhir"),
        (PATIENT, "fhir"),
        ([PATIENT], "fhir"),
        (PACKET, "phenopacket"),
        ({"phenotypic_features": [], "meta_data": {}}, "phenopacket"),
    ],
)
def test_formats_are_recognised_by_shape(data, fmt):
    """Check that each accepted shape is recognised, and read into a case of that format."""
    assert input_format(data) == fmt
    reading = read_input(data, source="x")
    assert reading.format == fmt
    assert isinstance(reading.not_read, tuple)


def test_each_reader_fills_the_case():
    """Check that what each format says reaches the case."""
    assert read_input(NATIVE, source="x").case.findings == ("HP:0001332",)
    assert read_input(VIGNETTE, source="x").case.id == "V1"
    assert read_input(BUNDLE, source="x").case.sex == "female"
    packet = read_input(PACKET, source="x")
    assert packet.case.sex == "male" and packet.case.age == pytest.approx(20.0)
    assert (
        packet.extra["onset_term"] is None
        and packet.extra["origins"]["case.findings[0]"] == "phenotypicFeatures[0].type.id"
    )


@pytest.mark.parametrize(
    "data, words",
    [
        ({"foo": 1, "bar": 2}, ["an object with the keys 'foo', 'bar'", "accepted:", "phenopacket v2", "FHIR R4"]),
        ([1, 2, 3], ["case: expected a mapping, got a list of 3 items", "accepted:"]),
        ({"colour": "red"}, ["case.colour: is not a case field", "accepted:"]),
        ("hello", ["a single string ('hello')", "accepted:"]),
        (42, ["a single number (42)"]),
        (None, ["an empty document"]),
        (
            {"hook": "order-select", "hookInstance": "x", "context": {}},
            ["a CDS Hooks request", "order-select", "/cds-services"],
        ),
        ({"age": 3, "phenotypicFeatures": []}, ["mixes case fields (age)", "phenotypicFeatures"]),
        ([PACKET, PACKET], ["a list of 2 phenopackets", "JSON Lines", "contraxis differential"]),
        (
            {"proband": {"id": "a"}, "relatives": [{"id": "b"}, {"id": "c"}]},
            ["a phenopacket Family", "2 relatives", "proband"],
        ),
        ({"id": "c", "members": [PACKET]}, ["a phenopacket Cohort of 1 member", "JSON Lines"]),
        (
            {**PACKET, "genes": [{"id": "HGNC:1", "symbol": "X"}]},
            ["a phenopacket v1", "`genes`", "phenopacket-tools convert"],
        ),
    ],
)
def test_other_shapes_say_what_they_are(data, words):
    """Check that an input of another shape is refused, naming what it looks like and what to do."""
    with pytest.raises(CaseError) as caught:
        read_input(data, source="in.json")
    text = str(caught.value)
    assert text.startswith("in.json")
    for word in words:
        assert word in text, text


def test_raw_text_and_bytes(tmp_path):
    """Check that raw JSON, YAML and gzipped bytes are read, and JSON Lines refused for one input."""
    assert read_input(json.dumps(PACKET), source="x").format == "phenopacket"
    assert read_input("age: 30\nfindings: [HP:0001332]\n", source="x").format == "native"
    assert read_input(gzip.compress(json.dumps(BUNDLE).encode()), source="x").format == "fhir"
    lines = json.dumps(PACKET) + "\n" + json.dumps({**PACKET, "id": "P2"}) + "\n"
    with pytest.raises(CaseError, match="holds 2 documents .JSON Lines.: give one patient"):
        read_input(lines, source="x")
    assert [r.case.id for r in iter_inputs(lines, source="set.jsonl")] == ["P1", "P2"]
    with pytest.raises(CaseError, match="is empty"):
        read_input("  \n", source="x")
    with pytest.raises(CaseError, match="is not UTF-8 text"):
        read_input(b"\xff\xfe\x00garbage\xff", source="x")


def test_a_binary_phenopacket_is_named():
    """Check that a protobuf (binary) phenopacket is named, with what to do."""
    from google.protobuf import json_format
    from phenopackets import Phenopacket

    raw = json_format.ParseDict(PACKET, Phenopacket()).SerializeToString()
    with pytest.raises(CaseError, match=r"a binary \(protobuf\) phenopacket message: .*JSON"):
        read_input(raw, source="p.pb")
    tiny = Phenopacket(id="pp", subject={"id": "s1"}).SerializeToString()  # valid UTF-8, no NUL byte
    with pytest.raises(CaseError, match=r"a binary \(protobuf\) phenopacket message"):
        read_input(tiny, source="p.pb")
    with pytest.raises(CaseError, match="not valid YAML or JSON"):
        read_input(b"\x01\x02 not a phenopacket", source="x.bin")


def test_several_inputs_in_files(tmp_path):
    """Check JSON Lines (gzipped, mixed formats, each line named) and a JSON array of phenopackets."""
    lines = "\n".join([json.dumps(PACKET), "", json.dumps(NATIVE), json.dumps(BUNDLE)]) + "\n"
    packed = tmp_path / "mixed.jsonl.gz"
    packed.write_bytes(gzip.compress(lines.encode()))
    readings = list(iter_input_file(packed))
    assert [r.format for r in readings] == ["phenopacket", "native", "fhir"]
    array = tmp_path / "many.json"
    array.write_text(json.dumps([PACKET, {**PACKET, "id": "P2"}]), encoding="utf-8")
    assert [r.case.id for r in iter_input_file(array)] == ["P1", "P2"]
    broken = tmp_path / "broken.jsonl"
    broken.write_text(json.dumps(PACKET) + "\n{oops\n", encoding="utf-8")
    with pytest.raises(CaseError, match=r"broken.jsonl:2: is not valid JSON"):
        list(iter_input_file(broken))
    with pytest.raises(CaseError, match="cannot read the file"):
        list(iter_input_file(tmp_path / "missing.json"))


def test_a_gzip_bomb_is_refused():
    """Check that a gzipped input is not decompressed without limit."""
    import contraxis.io.detect as detect

    raw = gzip.compress(b"{" + b" " * 4096 + b"}")
    old = detect.MAX_DECOMPRESSED
    detect.MAX_DECOMPRESSED = 1024
    try:
        with pytest.raises(CaseError, match="decompresses to more than"):
            read_input(raw, source="bomb.gz")
    finally:
        detect.MAX_DECOMPRESSED = old


@pytest.mark.parametrize(
    "path, expected",
    [
        ("case.labs[1].unit", "measurements[3].value.quantity.unit"),
        ("case.labs[1].loinc", "measurements[3]"),
        ("case.labs[12]", "case.labs[12]"),
        ("case.findings[0]", "phenotypicFeatures[2].type.id"),
        ("case.age", "case.age"),
    ],
)
def test_relocate(path, expected):
    """Check that a case path is named by the longest input path it came from."""
    origins = {
        "case.labs[1]": "measurements[3]",
        "case.labs[1].unit": "measurements[3].value.quantity.unit",
        "case.findings[0]": "phenotypicFeatures[2].type.id",
    }
    assert relocate(path, origins) == expected


def test_load_input_reads_one_file(tmp_path):
    """Check that a file is read whole (gzipped or not), and a missing one named."""
    from contraxis.io.detect import load_input

    path = tmp_path / "p.json.gz"
    path.write_bytes(gzip.compress(json.dumps(PACKET).encode()))
    assert load_input(path).format == "phenopacket"
    with pytest.raises(CaseError, match="missing.json: cannot read the file"):
        load_input(tmp_path / "missing.json")


def test_a_phenopacket_envelope_is_a_phenopacket():
    """Check that {"phenopacket": {...}} (as converters write it) is recognised."""
    assert read_input({"phenopacket": PACKET}, source="x").format == "phenopacket"
