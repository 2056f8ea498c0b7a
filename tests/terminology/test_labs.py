"""Tests of the laboratory-result reader (contraxis.terminology.labs)."""

from __future__ import annotations

import math
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

import pytest
import yaml

from contraxis.codes import loinc_check_digit_ok
from contraxis.errors import KnowledgeBaseError
from contraxis.terminology import labs
from contraxis.terminology.labs import (
    COMPARATORS,
    INTERPRETATIONS,
    LabProblem,
    LabReading,
    analyte_of,
    analytes,
    format_value,
    lab_loinc_codes,
    load_lab_tables,
    normalise_interpretation,
    read_lab,
)
from contraxis.terminology.units import normalise_unit

DATA = Path(labs.__file__).parent / "data" / "labs.yaml"
KB_LABS = Path(labs.__file__).parent.parent / "knowledge" / "data" / "labs.yaml"


def problem(*args, **kwargs) -> LabProblem:
    with pytest.raises(LabProblem) as caught:
        read_lab(*args, **kwargs)
    return caught.value


# --- the data ------------------------------------------------------------------------------


def test_every_loinc_code_passes_its_check_digit() -> None:
    """Check that every LOINC code read (and every code kept for the case format) is well formed."""
    for info in analytes().values():
        for code in info.loinc_codes + info.case_format_codes:
            assert loinc_check_digit_ok(code), code
            body, digit = code.split("-")
            for other in set("0123456789") - {digit}:
                assert not loinc_check_digit_ok(f"{body}-{other}")


REQUIRED = {
    "calcium": {"17861-6", "2000-8", "49765-1"},
    "ionized-calcium": {"1994-3"},
    "sodium": {"2951-2", "2947-0"},
    "potassium": {"2823-3", "6298-4"},
    "magnesium": {"19123-9", "2601-3"},
    "albumin": {"1751-7"},
    "ceruloplasmin": {"2064-4"},
    "creatine-kinase": {"2157-6"},
    "parathyroid-hormone": {"2731-8"},
}


@pytest.mark.parametrize("analyte, codes", sorted(REQUIRED.items()))
def test_the_spec_codes_are_read(analyte: str, codes: set[str]) -> None:
    """Check that every code of the spec's table, and the common variants, read as their analyte."""
    for code in codes:
        assert analyte_of(code) == analyte
        assert code in lab_loinc_codes()


def test_the_case_format_urine_copper_code_is_read_but_not_requested() -> None:
    """Check that 13967-5 (LOINC: sex hormone binding globulin) is read as urine copper, as
    the case format writes it, but is left out of the codes asked of an EHR."""
    assert analyte_of("13967-5") == "urine-copper"
    assert "13967-5" not in lab_loinc_codes()
    info = analytes()["urine-copper"]
    assert "13967-5" in info.case_format_codes
    assert "Sex hormone binding globulin" in info.loinc_names["13967-5"]
    assert {"5633-3", "14666-2"} <= set(info.loinc_codes)


def test_the_codes_are_unique_and_named() -> None:
    """Check that no code is read as two analytes and each has a LOINC long name."""
    seen: dict[str, str] = {}
    for info in analytes().values():
        for code in info.loinc_codes + info.case_format_codes:
            assert code not in seen, (code, seen.get(code), info.id)
            seen[code] = info.id
            assert "[" in info.loinc_names[code] and " in " in info.loinc_names[code]
    assert len(lab_loinc_codes()) == len(set(lab_loinc_codes()))


def _kb_rows() -> list[dict]:
    return yaml.safe_load(KB_LABS.read_text(encoding="utf-8"))


def test_the_knowledge_base_tests_agree() -> None:
    """Check that each knowledge-base test is an analyte with the same canonical unit, the same
    reference interval, and that its LOINC code reads as it."""
    for row in _kb_rows():
        info = analytes()[row["id"]]
        assert normalise_unit(row["unit"]) == info.unit, row["id"]
        assert info.reference == (row["low"], row["high"]), row["id"]
        assert analyte_of(str(row["loinc"])) == row["id"]


def test_the_knowledge_base_conversions_agree() -> None:
    """Check that the factors the knowledge base states give the same canonical values."""
    for row in _kb_rows():
        for unit, factor in (row.get("conversions") or {}).items():
            code = str(row["loinc"])
            info = analytes()[row["id"]]
            plain = info.reference[1] / factor if info.reference[1] else 10 / factor
            reading = read_lab(code, plain, unit)
            assert reading.value == pytest.approx(plain * factor, rel=2e-3), (row["id"], unit)


def test_molar_masses() -> None:
    """Check the molar masses the conversions use (CIAAW 2021; PTH from 1 pmol/L = 9.43 pg/mL)."""
    expected = {"calcium": 40.078, "ionized-calcium": 40.078, "magnesium": 24.305, "urine-copper": 63.546,
                "sodium": 22.990, "potassium": 39.098, "parathyroid-hormone": 9430}
    for analyte, mass in expected.items():
        assert analytes()[analyte].molar_mass == mass


# --- reading each code ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "loinc, value, unit, analyte, expected, canonical",
    [
        ("17861-6", 9.4, "mg/dL", "calcium", 9.4, "mg/dL"),
        ("2000-8", 2.35, "mmol/L", "calcium", 9.4183, "mg/dL"),
        ("49765-1", 9.0, "mg/dL", "calcium", 9.0, "mg/dL"),
        ("17861-6", 2.35, "mmol/L", "calcium", 9.4183, "mg/dL"),  # SI value under the mass code
        ("2000-8", 9.4, "mg/dL", "calcium", 9.4, "mg/dL"),  # mass unit under the moles code
        ("17861-6", 4.7, "mEq/L", "calcium", 9.4183, "mg/dL"),
        ("1994-3", 1.2, "mmol/L", "ionized-calcium", 1.2, "mmol/L"),
        ("1995-0", 4.8, "mg/dL", "ionized-calcium", 1.1977, "mmol/L"),
        ("2951-2", 140, "mmol/L", "sodium", 140, "mmol/L"),
        ("2947-0", 138, "mEq/L", "sodium", 138, "mmol/L"),
        ("2823-3", 4.1, "mmol/L", "potassium", 4.1, "mmol/L"),
        ("6298-4", 3.9, "mEq/L", "potassium", 3.9, "mmol/L"),
        ("19123-9", 2.0, "mg/dL", "magnesium", 2.0, "mg/dL"),
        ("2601-3", 0.85, "mmol/L", "magnesium", 2.0659, "mg/dL"),
        ("2601-3", 1.7, "mEq/L", "magnesium", 2.0659, "mg/dL"),
        ("1751-7", 40, "g/L", "albumin", 4.0, "g/dL"),
        ("1751-7", 4.0, "g/dL", "albumin", 4.0, "g/dL"),
        ("2064-4", 0.25, "g/L", "ceruloplasmin", 25, "mg/dL"),
        ("2064-4", 250, "mg/L", "ceruloplasmin", 25, "mg/dL"),
        ("2157-6", 350, "U/L", "creatine-kinase", 350, "U/L"),
        ("2157-6", 350, "IU/L", "creatine-kinase", 350, "U/L"),
        ("2157-6", 3, "ukat/L", "creatine-kinase", 180, "U/L"),
        ("2731-8", 45, "pg/mL", "parathyroid-hormone", 45, "pg/mL"),
        ("2731-8", 45, "ng/L", "parathyroid-hormone", 45, "pg/mL"),
        ("14866-8", 4.5, "pmol/L", "parathyroid-hormone", 42.435, "pg/mL"),
        ("5633-3", 250, "ug/(24.h)", "urine-copper", 250, "ug/(24.h)"),
        ("14666-2", 4, "umol/(24.h)", "urine-copper", 254.184, "ug/(24.h)"),
        ("13967-5", 250, "ug/24 h", "urine-copper", 250, "ug/(24.h)"),
    ],
)
def test_each_code_reads_into_the_canonical_unit(
    loinc: str, value: float, unit: str, analyte: str, expected: float, canonical: str
) -> None:
    """Check that each LOINC variant, in SI or conventional units, reads into the canonical unit."""
    reading = read_lab(loinc, value, unit)
    assert (reading.analyte, reading.unit, reading.loinc) == (analyte, canonical, loinc)
    assert reading.value == pytest.approx(expected, abs=1e-3)
    assert (reading.given_value, reading.given_unit) == (value, unit)


@pytest.mark.parametrize(
    "unit", ["mg/dL", "mg/dl", "milligram per deciliter", "UO:0010067", "258797006", "MG/DL"]
)
def test_text_and_coded_units(unit: str) -> None:
    """Check that a unit as text, a UO id or a SNOMED CT code reads like its UCUM code."""
    reading = read_lab("17861-6", 6.9, unit)
    assert reading.value == pytest.approx(6.9)
    assert reading.given_unit == unit


def test_a_written_out_unit_is_noted() -> None:
    """Check that a unit read from words says so, and a UCUM code reads silently."""
    assert read_lab("17861-6", 6.9, "milligram per deciliter").note == "Unit 'milligram per deciliter' read as mg/dL."
    assert read_lab("17861-6", 6.9, "mg/dL").note == ""
    assert read_lab("17861-6", 2.35, "mmol/L").note == ""


def test_a_decimal_value_is_read() -> None:
    """Check that a Decimal (as FHIR models give values) is read as a number."""
    assert read_lab("17861-6", Decimal("6.9"), "mg/dL").value == pytest.approx(6.9)


def test_the_reading_is_frozen() -> None:
    """Check that a LabReading cannot be changed."""
    reading = read_lab("17861-6", 9.4, "mg/dL")
    assert isinstance(reading, LabReading)
    with pytest.raises(AttributeError):
        reading.value = 1.0  # type: ignore[misc]


@pytest.mark.parametrize(
    "analyte, value, unit, expected",
    [
        ("calcium", 9.41833, None, "9.4"),
        ("calcium", 2.3456, "mmol/L", "2.35"),
        ("sodium", 139.6, None, "140"),
        ("magnesium", 2.0659, None, "2.1"),
        ("albumin", 4.04, None, "4.0"),
        ("creatine-kinase", 5234.7, None, "5235"),
        ("parathyroid-hormone", 42.435, None, "42"),
        ("potassium", 3.94, None, "3.9"),
        ("calcium", 94183.3, "ug/L", "94183"),
        ("calcium", 0.012345, "g/L", "0.0123"),
        ("calcium", math.nan, None, "nan"),
    ],
)
def test_values_are_rounded_as_a_laboratory_would(analyte: str, value: float, unit: str | None, expected: str) -> None:
    """Check the decimals kept per analyte and unit (3 significant digits, or none, for another unit)."""
    assert format_value(analyte, value, unit) == expected


# --- impossible values ---------------------------------------------------------------------


def test_an_si_calcium_in_the_mg_dl_box_is_refused_with_the_likely_unit() -> None:
    """Check that calcium 2.35 "mg/dL" is refused and the message points to mmol/L."""
    error = problem("17861-6", 2.35, "mg/dL")
    assert error.field == "value"
    assert error.message == (
        "2.35 mg/dL is not a possible calcium (17861-6) value (plausible: 3 to 25 mg/dL); "
        "2.35 mmol/L is 9.4 mg/dL: was it in mmol/L?"
    )
    assert (error.analyte, error.loinc) == ("calcium", "17861-6")


@pytest.mark.parametrize(
    "loinc, value, unit, words",
    [
        ("2000-8", 9.4, "mmol/L", ["9.4 mmol/L", "calcium (2000-8)", "plausible: 0.75 to 6.24 mmol/L",
                                    "9.4 mg/dL is 2.35 mmol/L: was it in mg/dL?"]),
        ("1751-7", 35, "g/dL", ["35 g/dL", "albumin (1751-7)", "35 g/L is 3.5 g/dL: was it in g/L?"]),
        ("2064-4", 250, "mg/dL", ["ceruloplasmin (2064-4)", "250 mg/L is 25 mg/dL: was it in mg/L?"]),
        ("1994-3", 4.8, "mmol/L", ["ionized calcium (1994-3)", "4.8 mg/dL is 1.20 mmol/L: was it in mg/dL?"]),
        ("2951-2", 14.0, "mmol/L", ["14 mmol/L", "sodium (2951-2)", "plausible: 80 to 250 mmol/L"]),
        ("2823-3", 40, "mmol/L", ["40 mmol/L", "potassium (2823-3)", "plausible: 0.8 to 15 mmol/L"]),
    ],
)
def test_impossible_values_name_the_range_and_the_likely_unit(
    loinc: str, value: float, unit: str, words: list[str]
) -> None:
    """Check that an impossible value names the analyte, code, value, unit, range and likely unit."""
    error = problem(loinc, value, unit)
    assert error.field == "value"
    for word in words:
        assert word in error.message


@pytest.mark.parametrize(
    "value, reason",
    [(math.nan, "nan mg/dL"), (math.inf, "inf mg/dL"), (-math.inf, "-inf mg/dL"), (-5, "-5 mg/dL"), (0, "0 mg/dL"),
     (0.0, "0 mg/dL"), (1000, "1000 mg/dL")],
)
def test_nan_infinite_negative_and_zero_are_refused(value: float, reason: str) -> None:
    """Check that NaN, infinity, negative and zero calcium are refused, naming the value."""
    error = problem("17861-6", value, "mg/dL")
    assert error.field == "value"
    assert error.message.startswith(reason)
    assert "calcium (17861-6)" in error.message and "plausible: 3 to 25 mg/dL" in error.message


def test_zero_is_read_where_it_is_possible() -> None:
    """Check that an undetectable ceruloplasmin (0) is read, as aceruloplasminaemia gives."""
    assert read_lab("2064-4", 0, "mg/dL").value == 0


@pytest.mark.parametrize("value", ["6.9", "low", [6.9], True])
def test_a_value_that_is_not_a_number_is_refused(value: object) -> None:
    """Check that text, lists and booleans are not taken as numbers."""
    error = problem("17861-6", value, "mg/dL")
    assert error.field == "value"
    assert "calcium (17861-6)" in error.message and "must be a number" in error.message


def test_an_abnormal_value_usual_in_another_unit_is_read_with_a_note() -> None:
    """Check that magnesium 0.85 "mg/dL" (possible, but a normal 0.85 mmol/L) says to check the unit."""
    reading = read_lab("2601-3", 0.85, "mg/dL")
    assert reading.value == pytest.approx(0.85)
    assert reading.note == (
        "0.85 mg/dL is outside the usual 1.7 to 2.4 mg/dL, but 0.85 mmol/L (2.1 mg/dL) would be usual: "
        "check the unit."
    )
    assert read_lab("2601-3", 0.85, "mmol/L").note == ""


# --- units ---------------------------------------------------------------------------------


def test_a_value_without_a_unit_is_refused() -> None:
    """Check that a value with no unit is refused, naming the units allowed."""
    for unit in (None, "", "  "):
        error = problem("17861-6", 9.4, unit)
        assert error.field == "unit"
        assert "calcium (17861-6)" in error.message and "mg/dL, mmol/L" in error.message


@pytest.mark.parametrize(
    "loinc, unit, words",
    [
        ("17861-6", "bananas", ["'bananas'", "calcium (17861-6)", "allowed: mg/dL, mmol/L, meq/L"]),
        ("2157-6", "mg/dL", ["mg/dL (mass per volume) cannot be read as creatine kinase (2157-6)", "U/L"]),
        ("17861-6", "U/L", ["cannot be read as calcium (17861-6)", "allowed: mg/dL"]),
        ("2064-4", "mmol/L", ["cannot be read as ceruloplasmin (2064-4)"]),  # no molar mass kept
        ("13967-5", "nmol/L", ["copper in 24-hour urine (13967-5)", "Sex hormone binding globulin"]),
        ("5633-3", "ug/L", ["cannot be read as copper in 24-hour urine (5633-3)", "ug/(24.h)"]),
    ],
)
def test_a_unit_that_cannot_be_read_is_refused(loinc: str, unit: str, words: list[str]) -> None:
    """Check that a unit that is not one, or of the wrong kind, is refused naming what is allowed."""
    error = problem(loinc, 10, unit)
    assert error.field == "unit"
    for word in words:
        assert word in error.message


# --- LOINC codes ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "loinc, words",
    [
        ("2345-7", ["LOINC 2345-7 is not a laboratory test Contraxis reads", "calcium 17861-6, 2000-8, 49765-1"]),
        ("17861-5", ["'17861-5' is not a LOINC code"]),
        ("calcium", ["'calcium' is not a LOINC code"]),
        ("", ["needs a LOINC code"]),
        (None, ["needs a LOINC code"]),
        (17861, ["needs a LOINC code"]),
    ],
)
def test_an_unknown_loinc_code_is_refused(loinc: object, words: list[str]) -> None:
    """Check that a code that is not LOINC, or not read, is refused saying which codes are."""
    error = problem(loinc, 9.4, "mg/dL")
    assert error.field == "loinc"
    for word in words:
        assert word in error.message
    assert analyte_of("2345-7") is None


def test_spaces_around_the_code_are_ignored() -> None:
    """Check that ' 17861-6 ' reads as 17861-6."""
    assert read_lab(" 17861-6 ", 9.4, "mg/dL").loinc == "17861-6"
    assert analyte_of(" 2000-8") == "calcium"


# --- comparators ---------------------------------------------------------------------------


@pytest.mark.parametrize("comparator", COMPARATORS)
def test_comparators_are_kept(comparator: str) -> None:
    """Check that a comparator is kept and the value read as a bound."""
    reading = read_lab("2064-4", 20, "mg/dL", comparator=comparator)
    assert (reading.comparator, reading.value) == (comparator, 20)


@pytest.mark.parametrize(
    "loinc, value, unit, comparator, accepted",
    [
        ("2064-4", 2, "mg/dL", "<", True),  # undetectable ceruloplasmin
        ("17861-6", 2.35, "mg/dL", "<", False),  # no calcium lies under 2.35 mg/dL
        ("17861-6", 3, "mg/dL", "<", False),
        ("17861-6", 3, "mg/dL", "<=", True),
        ("17861-6", 30, "mg/dL", "<", True),  # uninformative but possible
        ("2157-6", 100000, "U/L", ">", True),
        ("2157-6", 6000000, "U/L", ">", False),
        ("2157-6", 5000000, "U/L", ">=", True),
        ("2064-4", 0, "mg/dL", "<", False),  # nothing lies under 0
        ("2064-4", 0, "mg/dL", "<=", True),
    ],
)
def test_a_bound_is_refused_only_when_nothing_possible_lies_on_its_side(
    loinc: str, value: float, unit: str, comparator: str, accepted: bool
) -> None:
    """Check plausibility of bounds: refused only when no plausible value satisfies them."""
    if accepted:
        assert read_lab(loinc, value, unit, comparator=comparator).comparator == comparator
    else:
        assert problem(loinc, value, unit, comparator=comparator).field == "value"


def test_a_bound_in_the_wrong_unit_names_the_likely_unit() -> None:
    """Check that "< 2 mg/dL" calcium suggests mmol/L with the comparator kept."""
    message = problem("17861-6", 2, "mg/dL", comparator="<").message
    assert message.startswith("< 2 mg/dL is not a possible calcium (17861-6) value")
    assert "< 2 mmol/L is < 8.0 mg/dL: was it in mmol/L?" in message


@pytest.mark.parametrize("comparator, words", [("ad", "'ad'"), ("=", "'='"), ("<<", "'<<'"), ("~", "'~'")])
def test_other_comparators_are_refused(comparator: str, words: str) -> None:
    """Check that FHIR's 'ad' and anything else but <, <=, >, >= is refused."""
    error = problem("2064-4", 20, "mg/dL", comparator=comparator)
    assert error.field == "comparator"
    assert words in error.message and "<, <=, >, >=" in error.message


def test_a_comparator_without_a_value_is_refused() -> None:
    """Check that a comparator needs a value to bound."""
    assert problem("2064-4", None, None, comparator="<", interpretation="low").field == "comparator"


# --- interpretations -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, expected",
    [
        ("L", "low"), ("H", "high"), ("N", "normal"), ("A", "abnormal"), ("AA", "abnormal"),
        ("LL", "critical-low"), ("HH", "critical-high"), ("LU", "low"), ("HU", "high"), ("l", "low"),
        ("Low", "low"), ("below normal", "low"), ("Below  Normal", "low"), ("decreased", "low"),
        ("High", "high"), ("elevated", "high"), ("normal", "normal"), ("within normal limits", "normal"),
        ("WNL", "normal"), ("Abnormal", "abnormal"), ("critical low", "critical-low"),
        ("Critical-Low", "critical-low"), ("critically high", "critical-high"), ("critical_high", "critical-high"),
    ],
)
def test_interpretations_are_read(text: str, expected: str) -> None:
    """Check FHIR v3 ObservationInterpretation codes and words."""
    assert normalise_interpretation(text) == expected


@pytest.mark.parametrize("text", ["<", ">", "B", "U", "W", "IND", "POS", "maybe", "", "   ", None, 3])
def test_other_interpretations_are_not_read(text: object) -> None:
    """Check that off-scale, change and other codes are not read as an interpretation."""
    assert normalise_interpretation(text) is None  # type: ignore[arg-type]


def test_every_interpretation_reads_as_itself() -> None:
    """Check that each of INTERPRETATIONS is read as itself."""
    assert all(normalise_interpretation(value) == value for value in INTERPRETATIONS)


def test_a_qualitative_result_is_read_without_a_value() -> None:
    """Check that "ceruloplasmin: low", with no value, is read as a qualitative result."""
    reading = read_lab("2064-4", None, None, interpretation="Low")
    assert (reading.analyte, reading.value, reading.interpretation, reading.unit) == (
        "ceruloplasmin", None, "low", "mg/dL")


def test_a_value_with_an_interpretation_keeps_both() -> None:
    """Check that a value and its interpretation are both kept."""
    reading = read_lab("17861-6", 6.6, "mg/dL", interpretation="LL")
    assert (reading.value, reading.interpretation) == (6.6, "critical-low")


def test_neither_value_nor_interpretation_is_refused() -> None:
    """Check that a result with no value and no interpretation is refused."""
    error = problem("2064-4", None, "mg/dL")
    assert error.field == "value"
    assert "ceruloplasmin (2064-4) has neither a value nor an interpretation" in error.message


def test_an_unknown_interpretation_is_refused() -> None:
    """Check that an interpretation that is not read is refused, naming those allowed."""
    error = problem("2064-4", None, None, interpretation="so-so")
    assert error.field == "interpretation"
    assert "'so-so'" in error.message and "critical-low" in error.message


# --- the data file is checked at load ------------------------------------------------------


@pytest.mark.parametrize(
    "old, new, where",
    [
        ("{loinc: 2000-8,", "{loinc: 2000-9,", "labs.yaml: analytes[0].codes[1].loinc"),
        ("    plausible: [80, 250]\n", "", "labs.yaml: analytes[2].plausible"),
        ("    plausible: [80, 250]\n", "    plausible: [250, 80]\n", "labs.yaml: analytes[2].plausible"),
        ("{loinc: 2951-2,", "{loinc: 2823-3,", "labs.yaml: analytes[3].codes[0].loinc"),
        (
            'property: SCnc, source: loinc, evidence: "OMOP concept 3019550"',
            'property: SCnc, source: nowhere, evidence: "OMOP concept 3019550"',
            "labs.yaml: analytes[2].codes[0].source",
        ),
        (
            "    units: {pg/mL: 0, pmol/L: 1, ng/L: 0}\n",
            "    units: {pg/mL: 0, pmol/L: 1, ng/L: 0, mmol/X: 1}\n",
            "labs.yaml: analytes[8].units.mmol/X",
        ),
        ("    molar_mass: 24.305\n", "", "labs.yaml: analytes[4].units.mmol/L"),
        ("    L: low\n", "    L: lowish\n", "labs.yaml: interpretations.codes.L"),
    ],
)
def test_a_bad_row_stops_the_load(tmp_path: Path, old: str, new: str, where: str) -> None:
    """Check that a mistake in labs.yaml stops the load, naming the file, row and field."""
    text = DATA.read_text(encoding="utf-8")
    assert old in text
    bad = tmp_path / "labs.yaml"
    bad.write_text(text.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(KnowledgeBaseError) as caught:
        load_lab_tables(bad)
    assert where in str(caught.value), str(caught.value)


# --- speed ---------------------------------------------------------------------------------


def test_reading_does_not_load_the_ucum_library() -> None:
    """Check that reading results in the units of the table imports neither ucumvert nor pint."""
    script = (
        "import sys\n"
        "from contraxis.terminology.labs import read_lab\n"
        "read_lab('17861-6', 2.35, 'mmol/L'); read_lab('2157-6', 300, 'IU/L')\n"
        "read_lab('13967-5', 250, 'ug/24 h'); read_lab('17861-6', 6.9, 'milligram per deciliter')\n"
        "read_lab('17861-6', 6.9, 'UO:0010067'); read_lab('17861-6', 6.9, '258797006')\n"
        "try:\n read_lab('17861-6', 2.35, 'mg/dL')\nexcept ValueError:\n pass\n"
        "print(sorted(m for m in ('ucumvert', 'pint', 'lark') if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_reading_is_fast() -> None:
    """Check that a result reads in well under a millisecond once the data is loaded."""
    read_lab("17861-6", 9.4, "mg/dL")
    start = time.perf_counter()
    for _ in range(2000):
        read_lab("2000-8", 2.35, "mmol/L")
        read_lab("2601-3", 0.85, "mg/dL")
    per_read = (time.perf_counter() - start) / 4000
    assert per_read < 200e-6, f"{per_read * 1e6:.0f} us per read"
