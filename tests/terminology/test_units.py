"""Tests of the unit reader and converter (contraxis.terminology.units)."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from contraxis.codes import snomed_check_digit_ok
from contraxis.errors import KnowledgeBaseError
from contraxis.terminology import units
from contraxis.terminology.units import convert, load_unit_table, normalise_unit

DATA = Path(units.__file__).parent / "data" / "units.yaml"

# Units Ontology terms, as uo.obo names them (bio-ontology-research-group/unit-ontology,
# data-version releases/2026-01-16, commit 8feadc3), with the UCUM code each is.
UO_TERMS = {
    "UO:0000175": ("gram per liter", "g/L"),
    "UO:0000208": ("gram per deciliter", "g/dL"),
    "UO:0010067": ("milligram per deciliter", "mg/dL"),
    "UO:0000273": ("milligram per liter", "mg/L"),
    "UO:0000274": ("microgram per milliliter", "ug/mL"),
    "UO:0010068": ("microgram per deciliter", "ug/dL"),
    "UO:0000301": ("microgram per liter", "ug/L"),
    "UO:0000275": ("nanogram per milliliter", "ng/mL"),
    "UO:0010070": ("picogram per milliliter", "pg/mL"),
    "UO:0000062": ("molar", "mol/L"),
    "UO:0000063": ("millimolar", "mmol/L"),
    "UO:0000064": ("micromolar", "umol/L"),
    "UO:0010003": ("micromole per litre", "umol/L"),
    "UO:0000065": ("nanomolar", "nmol/L"),
    "UO:0000066": ("picomolar", "pmol/L"),
    "UO:0000179": ("unit per liter", "U/L"),
}

# SNOMED CT unit codes with the public source each was checked against (see units.yaml).
SNOMED_UNITS = {
    "258797006": "mg/dL",  # milligram/decilitre: FHIR implementation guide examples
    "258813002": "mmol/L",  # millimole/liter: SNOMED International LOINC-SNOMED demo, FHIR examples
    "258796002": "mg/L",  # Milligram/liter (qualifier value): SNOMED International scripts
    "258794004": "g/L",  # OHDSI vocabulary SNOMED-to-UCUM map
}


@pytest.fixture(scope="module")
def table() -> units.UnitTable:
    return load_unit_table()


# --- the table agrees with the UCUM library -----------------------------------------------


def test_every_factor_agrees_with_ucumvert(table: units.UnitTable) -> None:
    """Check that each unit's kind and factor in units.yaml is what ucumvert computes."""
    for code, info in table.units.items():
        computed = units.library_unit_info(code)
        assert computed is not None, code
        assert computed.property == info.property, code
        assert math.isclose(computed.factor, info.factor, rel_tol=1e-9), (code, computed.factor, info.factor)
        assert computed.eq == info.eq, code


def test_library_reads_a_unit_not_in_the_table() -> None:
    """Check that a valid UCUM code not in the data file is read through the library."""
    assert normalise_unit("mmol/dL") == "mmol/dL"
    assert convert(1, "mmol/dL", "mmol/L") == pytest.approx(10)
    assert units.library_unit_info("kg") is None  # a mass is not a concentration
    assert units.library_unit_info("not a unit") is None


# --- normalise_unit ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, expected",
    [
        # UCUM codes, and UCUM with l for liter
        ("mg/dL", "mg/dL"), ("mg/dl", "mg/dL"), ("mmol/L", "mmol/L"), ("mmol/l", "mmol/L"),
        ("ug/(24.h)", "ug/(24.h)"), ("umol/(24.h)", "umol/(24.h)"), ("[IU]/L", "[IU]/L"),
        ("[iU]/L", "[IU]/L"), ("U/L", "U/L"), ("g/L", "g/L"), ("pg/mL", "pg/mL"),
        # common spellings
        ("mEq/L", "meq/L"), ("meq/L", "meq/L"), ("MG/DL", "mg/dL"), (" mg/dL ", "mg/dL"),
        ("ug/24 h", "ug/(24.h)"), ("µg/24h", "ug/(24.h)"), ("μg/24 h", "ug/(24.h)"),
        ("mcg/24 hr", "ug/(24.h)"), ("IU/L", "[IU]/L"), ("iu/l", "[IU]/L"), ("U/l", "U/L"),
        # words
        ("milligram per deciliter", "mg/dL"), ("Milligrams per decilitre", "mg/dL"),
        ("millimole per liter", "mmol/L"), ("millimoles per litre", "mmol/L"),
        ("microgram per 24 hours", "ug/(24.h)"), ("international units per liter", "[IU]/L"),
        ("gram per deciliter", "g/dL"), ("milliequivalents per liter", "meq/L"),
        # Units Ontology ids
        ("UO:0010067", "mg/dL"), ("UO:0000274", "ug/mL"), ("uo:0000063", "mmol/L"),
        ("UO_0000175", "g/L"), ("http://purl.obolibrary.org/obo/UO_0010070", "pg/mL"),
        # SNOMED CT unit codes
        ("258797006", "mg/dL"), ("258813002", "mmol/L"), ("258796002", "mg/L"),
    ],
)
def test_normalise_unit_reads(text: str, expected: str) -> None:
    """Check that UCUM codes, spellings, words, UO ids and SNOMED CT codes read as UCUM."""
    assert normalise_unit(text) == expected


@pytest.mark.parametrize(
    "text",
    [None, "", "   ", "xyz", "milligram per fortnight", "UO:0000001", "UO:9999999", "258718000", "12", "kg"],
)
def test_normalise_unit_refuses(text: str | None) -> None:
    """Check that what is not a laboratory unit reads as None (258718000 is millimole, an amount)."""
    assert normalise_unit(text) is None


def test_uo_ids_are_the_verified_terms(table: units.UnitTable) -> None:
    """Check that every UO id of units.yaml is a verified term and reads as its UCUM unit."""
    assert set(table.uo) <= set(UO_TERMS), set(table.uo) - set(UO_TERMS)
    for uo_id, code in table.uo.items():
        assert UO_TERMS[uo_id][1] == code, uo_id
        # the UO name itself reads as the same unit
        assert normalise_unit(UO_TERMS[uo_id][0]) in (code, None) or UO_TERMS[uo_id][0].endswith("molar")


def test_snomed_codes_are_the_verified_codes(table: units.UnitTable) -> None:
    """Check that every SNOMED CT unit code is verified and passes its Verhoeff check digit."""
    assert dict(table.snomed) == SNOMED_UNITS
    assert all(snomed_check_digit_ok(code) for code in table.snomed)


def test_written_out_units_are_told_apart() -> None:
    """Check that words are recognised as written out, codes and spellings are not."""
    assert units.is_written_out("milligram per deciliter")
    assert not units.is_written_out("mg/dL")
    assert not units.is_written_out("mEq/L")
    assert not units.is_written_out("ug/24 h")


# --- convert -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value, src, dst, kwargs, expected, tolerance",
    [
        # the spec's stated conversions (shared/spec/vignettes.md)
        (1, "mmol/L", "mg/dL", {"molar_mass": 40.078}, 4.008, 0.0005),  # calcium
        (1, "mmol/L", "mg/dL", {"molar_mass": 24.305}, 2.431, 0.00051),  # magnesium (2.4305)
        (1, "g/L", "mg/dL", {}, 100, 1e-9),  # ceruloplasmin
        (1, "umol/(24.h)", "ug/(24.h)", {"molar_mass": 63.546}, 63.55, 0.005),  # copper
        (1, "pmol/L", "pg/mL", {"molar_mass": 9430}, 9.43, 1e-9),  # PTH
        # same kind
        (9.4, "mg/dL", "mg/L", {}, 94, 1e-9),
        (3, "ukat/L", "U/L", {}, 180, 1e-9),
        (250, "ug/d", "ug/(24.h)", {}, 250, 1e-9),
        (3.5, "g/dL", "g/L", {}, 35, 1e-9),
        # equivalents of a divalent ion: mEq/L = mmol/L x 2
        (1.7, "meq/L", "mmol/L", {"charge": 2}, 0.85, 1e-9),
        (1, "mmol/L", "meq/L", {"charge": 2}, 2, 1e-9),
        (1.7, "mEq/L", "mg/dL", {"charge": 2, "molar_mass": 24.305}, 2.066, 0.001),
        (140, "mEq/L", "mmol/L", {"charge": 1}, 140, 1e-9),
        # spellings on either side
        (6.9, "milligram per deciliter", "UO:0000063", {"molar_mass": 40.078}, 1.7216, 0.0001),
    ],
)
def test_convert(value: float, src: str, dst: str, kwargs: dict, expected: float, tolerance: float) -> None:
    """Check conversions, including the factors the spec states."""
    assert convert(value, src, dst, **kwargs) == pytest.approx(expected, abs=tolerance)


@pytest.mark.parametrize(
    "src, dst, kwargs, words",
    [
        ("mg/dL", "U/L", {}, "cannot be converted"),
        ("ug/(24.h)", "mg/dL", {"molar_mass": 63.546}, "cannot be converted"),
        ("mg/dL", "mmol/L", {}, "molar mass"),
        ("meq/L", "mmol/L", {}, "charge"),
        ("furlong", "mg/dL", {}, "not a unit"),
        ("[IU]/L", "U/L", {}, "cannot be converted"),
    ],
)
def test_convert_refuses(src: str, dst: str, kwargs: dict, words: str) -> None:
    """Check that incompatible units, or a missing molar mass or charge, raise ValueError."""
    with pytest.raises(ValueError, match=words):
        convert(1, src, dst, **kwargs)


# --- the data file is checked at load ------------------------------------------------------


@pytest.mark.parametrize(
    "old, new, where",
    [
        ("  - {code: mg/dL, property: MCnc, factor: 0.01,", "  - {code: mg/dL, property: MCnc, factor: -0.01,",
         "units.yaml: units[2].factor"),
        ("  - {code: mg/L, property: MCnc,", "  - {code: mg/L, property: MCnx,", "units.yaml: units[3].property"),
        ("  UO:0010067: mg/dL ", "  UO:0010067: mg/dX ", "units.yaml: uo.UO:0010067"),
        ('code: "258797006"', 'code: "258797007"', "units.yaml: snomed[0].code"),
        ("  mEq/L: meq/L", "  mEq/L: mmol/L", "units.yaml: aliases.mEq/L"),
    ],
)
def test_a_bad_row_stops_the_load(tmp_path: Path, old: str, new: str, where: str) -> None:
    """Check that a mistake in units.yaml stops the load, naming the file, row and field."""
    text = DATA.read_text(encoding="utf-8")
    assert old in text
    bad = tmp_path / "units.yaml"
    bad.write_text(text.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(KnowledgeBaseError) as caught:
        load_unit_table(bad)
    assert where in str(caught.value)
