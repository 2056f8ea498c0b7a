"""The answer for one input: the differential, not_read (reader's and differential's), and the
note when nothing can be ranked."""

from __future__ import annotations

from contraxis.case import read_case
from contraxis.differential import rank
from contraxis.differential.ranking import answer_not_read, differential_answer, nothing_to_rank
from contraxis.reading import NotRead, Reading


def _reading(data, **extra):
    return Reading(
        case=read_case(data), not_read=extra.pop("not_read", ()), format=extra.pop("format", "native"), extra=extra
    )


def test_the_answer_carries_evidence_and_not_read(mini_kb):
    """Check that the answer keeps the evidence block and adds not_read at the top level."""
    reading = _reading(
        {"findings": ["HP:0000473", "HP:1234567"]}, not_read=(NotRead("case.medications[0].name", "x", "unknown drug"),)
    )
    answer = differential_answer(reading, rank(reading.case, index=mini_kb, top=3))
    assert answer["format"] == "native" and "evidence" in answer and len(answer["candidates"]) == 3
    assert [row["path"] for row in answer["not_read"]] == ["case.medications[0].name", "case.findings[1]"]
    line = differential_answer(reading, rank(reading.case, index=mini_kb, top=3), line=True)
    assert "model" not in line and "evidence" in line and line["not_read"] == answer["not_read"]


def test_rows_are_named_by_the_input_and_merged(mini_kb):
    """Check that the differential's rows take the input's paths and join a row the reader wrote."""
    reading = _reading(
        {"findings": ["HP:0000473", "HP:1234567"], "labs": [{"loinc": "17861-6", "value": 11.0, "unit": "mg/dL"}]},
        not_read=(NotRead("measurements[4].assay.id", "17861-6", "read as calcium"),),
        format="phenopacket",
        origins={"case.findings[1]": "phenotypicFeatures[7].type.id", "case.labs[0]": "measurements[4]"},
    )
    rows = answer_not_read(reading, rank(reading.case, index=mini_kb, top=3))
    assert [r.path for r in rows] == ["measurements[4].assay.id", "phenotypicFeatures[7].type.id"]
    assert rows[0].reason.startswith("read as calcium; not used by the differential: between the reference range")


def test_nothing_to_rank(mini_kb):
    """Check that a case with nothing present gives no list and says why; one with a finding, a
    local code or an abnormal result ranks."""
    for data, ranks in [
        ({}, False),
        ({"absent": ["HP:0001250"], "medications": [{"name": "haloperidol"}]}, False),
        ({"findings": ["CX:painful"]}, True),
        ({"labs": [{"loinc": "17861-6", "value": 6.5, "unit": "mg/dL"}]}, True),
    ]:
        reading = _reading(data)
        result = rank(reading.case, index=mini_kb, top=3)
        assert (nothing_to_rank(reading, result) is None) == ranks, data
        answer = differential_answer(reading, result)
        assert (answer["candidates"] != []) == ranks and ("note" in answer) != ranks
    packet = _reading({}, format="phenopacket")
    assert "gives no phenotypic features" in nothing_to_rank(packet, rank(packet.case, index=mini_kb))
