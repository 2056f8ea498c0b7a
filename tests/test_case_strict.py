"""Strict, kind reading of a case: no boolean read as a number (or a number as a yes-or-no),
no control characters in identifiers, and short messages without Python internals."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from contraxis.case import case_problems, parse_document, read_case
from contraxis.errors import CaseError

PYTHON_INTERNALS = re.compile(
    r"datetime\.|Decimal\(|b'|<class|object at 0x|Traceback|Error\(|_TooLarge|\binstance of\b|"
    r"\b(Tuple|List|Dict|NoneType|Lab|Medication|Case|Imaging|Genetics|TreatmentTried)\b"
)


def problems_of(data: dict) -> dict[str, str]:
    case, problems = case_problems(data)
    assert case is None, data
    return {p.where: p.message for p in problems}


@pytest.mark.parametrize(
    "data, where",
    [
        ({"age": True}, "case.age"),
        ({"onset_age": False}, "case.onset_age"),
        ({"labs": [{"loinc": "2000-8", "value": True, "unit": "mg/dL"}]}, "case.labs[0].value"),
        ({"labs": [{"loinc": "2000-8", "value": 9.0, "unit": "mg/dL", "days_ago": True}]}, "case.labs[0].days_ago"),
        ({"medications": [{"name": "haloperidol", "days_since_start": True}]}, "case.medications[0].days_since_start"),
        ({"medications": [{"name": "haloperidol", "days_since_stop": False}]}, "case.medications[0].days_since_stop"),
    ],
)
def test_a_boolean_is_not_a_number(data, where):
    """Check that `age: true` is refused, not read as age 1 (each numeric field)."""
    message = problems_of(data)[where]
    assert "boolean" in message and ("true" in message or "false" in message)


@pytest.mark.parametrize("value", [1, 0, "yes", "true", 1.0])
@pytest.mark.parametrize("field", ["family_history", "disabling"])
def test_a_yes_or_no_is_true_or_false_only(field, value):
    """Check that a number or a string is not read as a boolean."""
    assert "is not true or false" in problems_of({field: value})[f"case.{field}"]


def test_booleans_and_numbers_still_read():
    """Check the accepted forms: numbers for numbers, true/false for yes-or-no."""
    case = read_case({"age": 40, "onset_age": 38.5, "family_history": False, "disabling": True})
    assert (case.age, case.onset_age, case.family_history, case.disabling) == (40, 38.5, False, True)


@pytest.mark.parametrize(
    "data, where",
    [
        ({"id": "P\x001"}, "case.id"),
        ({"id": "P1\x1b[31m"}, "case.id"),
        ({"findings": ["HP:0001332\x00"]}, "case.findings"),
        ({"history": ["CX:hx-head-trauma\x07"]}, "case.history"),
        ({"genetics": {"tested": ["TOR1A\x00"]}}, "case.genetics.tested"),
        ({"imaging": {"mri_brain": "abnormal", "findings": ["HP:0002134\x00"]}}, "case.imaging.findings"),
        ({"labs": [{"loinc": "2000-8\x00", "value": 9, "unit": "mg/dL"}]}, "case.labs[0].loinc"),
        ({"labs": [{"loinc": "2000-8", "value": 9, "unit": "mg/dL\x00"}]}, "case.labs[0].unit"),
        ({"labs": [{"loinc": "2000-8", "name": "Ca\x00", "value": 9, "unit": "mg/dL"}]}, "case.labs[0].name"),
        ({"medications": [{"rxnorm": "311666\x00"}]}, "case.medications[0].rxnorm"),
        ({"medications": [{"name": "halo\x00peridol"}]}, "case.medications[0].name"),
    ],
)
def test_control_characters_are_refused_in_identifiers(data, where):
    """Check that a NUL byte (or an escape sequence) in an id or code is refused and shown escaped."""
    message = problems_of(data)[where]
    assert "\\x" in message and "\x00" not in message and "\x1b" not in message and "\\\\" not in message


BAD_VALUES = [
    {"age": dt.datetime(2024, 1, 2, 10, 0)},
    {"id": dt.date(2024, 1, 2)},
    {"id": ["x" * 50_000]},
    {"id": "x" * 140_000},
    {"age": "x" * 140_000},
    {"course": "c" * 140_000},
    {"findings": "HP:0001332"},
    {"findings": [["lol"] * 9] * 9},
    {"findings": ["HP:0001332"] * 501},
    {"labs": [5]},
    {"labs": {"loinc": "2000-8"}},
    {"medications": ["haloperidol"]},
    {"age": b"\x00\x01"},
    {"age": {"value": 3}},
    {"age": float("nan")},
    {"age": 10**30},
    {"sex": None},
    {"imaging": "abnormal"},
    {"x" * 10_000: 1},
    {"treatment_history": [{"treatment": "botulinum-toxin"}]},
]


@pytest.mark.parametrize("data", BAD_VALUES, ids=range(len(BAD_VALUES)))
def test_messages_are_short_and_speak_of_the_input(data):
    """Check that every message names the field, shows at most a short excerpt of the value and
    carries no Python repr, type or class name."""
    with pytest.raises(CaseError) as info:
        read_case(data, source="x")
    for problem in info.value.problems:
        assert problem.where.startswith("case"), problem
        assert len(problem.where) <= 80 and len(problem.message) <= 200, problem
        assert not PYTHON_INTERNALS.search(problem.message), problem.message


def test_yaml_dates_are_shown_as_written():
    """Check that a YAML timestamp given as an age is shown in ISO form, not as a Python datetime."""
    with pytest.raises(CaseError) as info:
        read_case(parse_document("age: 2024-01-02 10:00:00\n"))
    assert "2024-01-02T10:00:00 is not a number" in str(info.value)


def test_duplicate_keys_in_a_case_file_are_refused():
    """Check a case given twice the same field, in YAML and JSON."""
    for text in ("age: 30\nage: 40\n", '{"age": 30, "age": 40}'):
        with pytest.raises(CaseError, match="the key 'age' is given twice"):
            parse_document(text)
