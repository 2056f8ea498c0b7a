"""Laboratory results in the differential as real records give them: other LOINC codes of an
analyte, bounds, interpretations only, repeated results (the latest decides)."""

from __future__ import annotations

import datetime as dt

import pytest

from contraxis.case import Lab, read_case
from contraxis.differential.evidence import evidence_not_read, read_labs

from .conftest import mini_knowledge

LOW, HIGH = ("HP:0002901",), ("HP:0003072",)  # Hypocalcemia; mini knowledge has no high side


def _one(**lab):
    [reading] = read_labs([Lab(loinc="17861-6", **lab)], knowledge=mini_knowledge())
    return reading


@pytest.mark.parametrize(
    "lab, present, excluded",
    [
        ({"loinc": "2000-8", "value": 1.6, "unit": "mmol/L"}, ("HP:0002901",), ()),  # calcium under another code
        ({"loinc": "49765-1", "value": 9.4, "unit": "mg/dL"}, (), ("HP:0002901",)),
    ],
)
def test_other_codes_of_an_analyte(lab, present, excluded):
    """Check that every LOINC code of calcium reads through the calcium row."""
    [reading] = read_labs([Lab(**lab)], knowledge=mini_knowledge())
    assert (reading.present, reading.excluded) == (present, excluded)


@pytest.mark.parametrize(
    "comparator, value, present, excluded, note",
    [
        ("<", 8.5, ("HP:0002901",), (), ""),       # below the limit whatever the value
        ("<=", 8.4, ("HP:0002901",), (), ""),
        ("<=", 8.5, (), (), "a bound"),            # 8.5 itself is not low
        ("<", 9.0, (), (), "a bound"),             # could be low or normal
        (">", 9.0, (), (), "a bound"),
    ],
)
def test_bounds(comparator, value, present, excluded, note):
    """Check that a value with a comparator is reasoned as a bound, never as the number."""
    reading = _one(value=value, unit="mg/dL", comparator=comparator)
    assert (reading.present, reading.excluded) == (present, excluded)
    assert note in reading.note
    assert reading.value.startswith(comparator)


@pytest.mark.parametrize(
    "interpretation, present, excluded",
    [
        ("low", ("HP:0002901",), ()),
        ("critical-low", ("HP:0002901",), ()),
        ("normal", (), ("HP:0002901",)),
        ("abnormal", (), ()),
    ],
)
def test_interpretation_only(interpretation, present, excluded):
    """Check that a result given only as low, normal or high is read as that side."""
    reading = _one(interpretation=interpretation)
    assert (reading.present, reading.excluded) == (present, excluded)
    assert reading.value == interpretation


def test_the_latest_result_decides():
    """Check that of repeated results the latest decides and the earlier are listed as not used."""
    old = Lab(loinc="17861-6", value=9.4, unit="mg/dL", date=dt.date.today() - dt.timedelta(days=900))
    new = Lab(loinc="2000-8", value=1.6, unit="mmol/L", days_ago=1)
    readings = read_labs([old, new], knowledge=mini_knowledge())
    assert (
        readings[0].present == ()
        and readings[0].excluded == ()
        and "the latest (1 days ago) decides" in readings[0].note
    )
    assert readings[1].present == ("HP:0002901",)
    assert [r.index for r in readings] == [0, 1]


def test_what_the_differential_did_not_use_has_case_paths(mini_kb):
    """Check the not_read rows of the differential: unknown ids, non-phenotype terms, unused labs."""
    from contraxis.differential.evidence import case_evidence

    case = read_case({
        "findings": ["HP:0000473", "HP:1234567"],
        "absent": ["HP:0003593"],
        "labs": [{"loinc": "17861-6", "value": 11.0, "unit": "mg/dL"}],
    })
    rows = {(r.path, r.value): r.reason for r in evidence_not_read(case, case_evidence(case, index=mini_kb))}
    assert "not used by the differential" in rows[("case.findings[1]", "HP:1234567")]
    assert "not a phenotypic abnormality" in rows[("case.absent[0]", "HP:0003593")]
    assert "between the reference range" in rows[("case.labs[0]", "17861-6 11 mg/dL")]


def _with_albumin_correction():
    import dataclasses

    from contraxis.knowledge.schema import LabCorrection

    correction = LabCorrection(by="albumin", below=4.0, reference=4.0, factor=0.8, within_days=1,
                               label="corrected calcium", source="src-1")
    return dataclasses.replace(mini_knowledge(), corrections={"17861-6": ("1751-7", correction)})


@pytest.mark.parametrize(
    "albumin, albumin_days_ago, present, excluded",
    [
        (3.0, 0, (), ("HP:0002901",)),        # 8.0 total reads 8.8 corrected: normal, as the assessment reads it
        (4.2, 0, ("HP:0002901",), ()),        # a normal albumin corrects nothing: 8.0 is low
        (3.0, 5, ("HP:0002901",), ()),        # an albumin of another day corrects nothing
        (None, 0, ("HP:0002901",), ()),       # an albumin without a value corrects nothing
    ],
)
def test_a_calcium_is_judged_corrected_by_a_low_albumin(albumin, albumin_days_ago, present, excluded):
    """Check that a total calcium with a low albumin of the same sample is judged as the
    corrected calcium (labs.yaml's correction), and that the reading says so."""
    labs = [
        Lab(loinc="17861-6", value=8.0, unit="mg/dL", days_ago=0),
        Lab(loinc="1751-7", value=albumin, unit="g/dL" if albumin is not None else None, days_ago=albumin_days_ago,
            interpretation=None if albumin is not None else "low"),
    ]
    reading = read_labs(labs, knowledge=_with_albumin_correction())[0]
    assert (reading.present, reading.excluded) == (present, excluded)
    assert ("corrected calcium 8.8 mg/dL with albumin 3 g/dL" in reading.value) == bool(excluded)


@pytest.mark.parametrize(
    "total, ionized, present, excluded",
    [
        (7.9, 1.2, (), ("HP:0002901", "HP:0003072")),  # a normal ionized calcium: normal whatever the total
        (9.0, 1.0, ("HP:0002901",), ()),               # a low ionized calcium: low whatever the total
        (7.9, None, ("HP:0002901",), ()),              # no ionized calcium: the total decides
    ],
)
def test_an_ionized_calcium_decides_over_the_total(total, ionized, present, excluded):
    """Check the case format's convention (spec: an ionized calcium below 1.1 mmol/L counts as
    low whatever the total, a normal one means the calcium is normal whatever the total) with
    the shipped lab_to_hpo.yaml: the total is set aside, saying why."""
    from contraxis.differential import load_knowledge

    labs = [Lab(loinc="17861-6", value=total, unit="mg/dL")]
    if ionized is not None:
        labs.append(Lab(loinc="1994-3", value=ionized, unit="mmol/L"))
    readings = read_labs(labs, knowledge=load_knowledge())
    terms = {t for r in readings for t in r.present}, {t for r in readings for t in r.excluded}
    assert terms == (set(present), set(excluded))
    if ionized is not None:
        assert readings[0].note == "set aside: the ionized calcium decides"
