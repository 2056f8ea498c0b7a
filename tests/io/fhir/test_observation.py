"""Observations: laboratory results under every LOINC code read, with comparator, unit,
interpretation and date; every result of a test kept; what cannot be read reported."""

from __future__ import annotations

import pytest

from contraxis.errors import CaseError
from contraxis.io.fhir.tables import load_tables
from contraxis.terminology.labs import lab_loinc_codes

from .conftest import UCUM, lab, patient, reasons


def labs(reading):
    return [(x.loinc, x.value, x.unit, x.comparator, x.interpretation, x.date and x.date.isoformat())
            for x in reading.case.labs]


@pytest.mark.parametrize(
    "loinc, value, unit, analyte",
    [
        ("2000-8", 2.1, "mmol/L", "calcium"),
        ("49765-1", 8.9, "mg/dL", "calcium"),
        ("1994-3", 1.1, "mmol/L", "ionized-calcium"),
        ("2947-0", 131, "mmol/L", "sodium"),
        ("19123-9", 0.8, "mmol/L", "magnesium"),
    ],
)
def test_every_loinc_code_of_an_analyte_is_read(read, loinc, value, unit, analyte):
    """Check that the LOINC variants (moles and mass; serum, plasma, blood; ionized calcium) are read."""
    reading = read(patient(), lab("o", loinc, value, unit, effectiveDateTime="2026-03-01"))
    (result,) = reading.case.labs
    assert (result.loinc, result.value, result.reading.analyte) == (loinc, value, analyte)


def test_every_code_the_resolver_reads_is_read(read):
    """Check that no LOINC code of the laboratory resolver is left unread by the FHIR reader."""
    for loinc in lab_loinc_codes():
        reading = read(patient(), lab("o", loinc, interpretation=[{"coding": [{"code": "N"}]}]))
        assert [x.loinc for x in reading.case.labs] == [loinc]


def test_comparator_unit_interpretation_and_date(read):
    """Check the comparator, the UCUM code preferred over unit text, unit words, a qualitative result and dates."""
    reading = read(
        patient(),
        lab(
            "o1",
            "2064-4",
            effectiveDateTime="2026-02-01T10:00:00Z",
            valueQuantity={
                "value": 20,
                "comparator": "<",
                "unit": "milligram per deciliter",
                "system": UCUM,
                "code": "mg/dL",
            },
        ),
        lab(
            "o2",
            "17861-6",
            issued="2026-02-02T08:00:00Z",
            valueQuantity={"value": 6.9, "unit": "milligram per deciliter"},
        ),
        lab("o3", "2601-3", valueCodeableConcept={"text": "Low"}, effectiveDateTime="2026-02-03"),
        lab(
            "o4", "2951-2", 128, "mmol/L", interpretation=[{"coding": [{"code": "L"}]}], effectiveDateTime="2026-02-04"
        ),
    )
    assert labs(reading) == [
        ("2064-4", 20.0, "mg/dL", "<", None, "2026-02-01"),
        ("17861-6", 6.9, "milligram per deciliter", None, None, "2026-02-02"),
        ("2601-3", None, None, None, "low", "2026-02-03"),
        ("2951-2", 128.0, "mmol/L", None, "low", "2026-02-04"),
    ]


def test_a_panel_given_as_components_gives_a_result_per_component(read):
    """Check that a panel Observation with a component per test gives each result read, with the panel's date."""
    panel = lab(
        "bmp",
        "51990-0",
        effectiveDateTime="2026-03-01",
        component=[
            {
                "code": {"coding": [{"system": "http://loinc.org", "code": "2951-2"}]},
                "valueQuantity": {"value": 128, "unit": "mmol/L"},
            },
            {
                "code": {"coding": [{"system": "http://loinc.org", "code": "17861-6"}]},
                "valueQuantity": {"value": 3, "unit": "furlongs"},
            },
            {
                "code": {"coding": [{"system": "http://loinc.org", "code": "2345-7"}]},
                "valueQuantity": {"value": 90, "unit": "mg/dL"},
            },
        ],
    )
    reading = read(patient(), panel)
    assert labs(reading) == [("2951-2", 128.0, "mmol/L", None, None, "2026-03-01")]
    assert "'furlongs' is not a unit" in reasons(reading)["resources[1].component[1].valueQuantity"]


def test_serial_results_are_all_kept_with_their_dates(read):
    """Check that every result of a test is kept (the latest decides), in date order."""
    reading = read(
        patient(),
        lab("new", "17861-6", 6.8, "mg/dL", effectiveDateTime="2026-03-01"),
        lab("old", "17861-6", 9.4, "mg/dL", effectiveDateTime="2019-05-01"),
        lab("si", "2000-8", 2.3, "mmol/L", effectiveDateTime="2024-01-01"),
    )
    assert [(x.loinc, x.value, x.date.isoformat()) for x in reading.case.labs] == [
        ("17861-6", 9.4, "2019-05-01"), ("2000-8", 2.3, "2024-01-01"), ("17861-6", 6.8, "2026-03-01")]


def test_a_long_series_keeps_the_latest_results(read):
    """Check that only the latest results of a test are kept, and the older ones are reported."""
    keep = load_tables().elements.labs.latest_kept
    results = [
        lab(f"o{i}", "2951-2", 130 + i % 10, "mmol/L", effectiveDateTime=f"20{10 + i // 12:02d}-{i % 12 + 1:02d}-01")
        for i in range(keep + 3)
    ]
    reading = read(patient(), *results)
    assert len(reading.case.labs) == keep
    older = [n for n in reading.not_read if n.reason.startswith("an older result")]
    assert [n.path for n in older] == ["resources[1]", "resources[2]", "resources[3]"]


def test_what_cannot_be_read_is_reported_not_refused(read):
    """Check that an unreadable unit, a text result, a missing value and a preliminary result are reported."""
    reading = read(
        patient(),
        lab("o1", "2064-4", 3, "furlongs"),
        lab("o2", "17861-6", valueString="see comment"),
        lab("o3", "2951-2"),
        lab("o4", "2951-2", 140, "mmol/L", status="preliminary"),
        lab("o5", "17861-6", 6.5, "U/L"),
    )
    assert reading.case.labs == ()
    why = reasons(reading)
    assert "'furlongs' is not a unit Contraxis can read" in why["resources[1].valueQuantity"]
    assert why["resources[2].value"].startswith("the result 'see comment' is neither a number nor an interpretation")
    assert why["resources[3].value"] == "no result: no valueQuantity and no interpretation"
    assert why["resources[4]"] == "status is 'preliminary': not a final result"
    assert "cannot be read as calcium" in why["resources[5].valueQuantity"]


def test_an_impossible_value_is_refused_naming_where_it_is(read):
    """Check that an implausible result (SI calcium typed as mg/dL) is refused, naming the Observation and the
    likely unit."""
    with pytest.raises(CaseError) as caught:
        read(patient(), lab("o1", "17861-6", 2.35, "mg/dL"))
    (problem,) = caught.value.problems
    assert problem.where.startswith("resources[1] (case.labs[0]")
    assert "2.35 mg/dL" in problem.message and "mmol/L" in problem.message
