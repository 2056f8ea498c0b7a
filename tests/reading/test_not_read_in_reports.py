"""What was not read is shown near the top of the reports when it could change the answer."""

from __future__ import annotations

import io

from rich.console import Console

from contraxis import assess
from contraxis.case import read_case_reading
from contraxis.report.html import render_report
from contraxis.report.terminal import THEME, render

CASE = {
    "age": 19, "sex": "male", "onset_age": 19, "course": "acute", "regions": ["neck"],
    "findings": ["HP:0000473", "CX:sustained-contractions"],
    "medications": [{"name": "Reglan", "days_since_start": 1}, {"name": "zorblatine"}],
    "labs": [{"loinc": "17861-6", "value": 9.4, "unit": "mg/dL", "days_ago": 900},
             {"loinc": "17861-6", "value": 9.1, "unit": "mg/dL", "days_ago": 2}],
}


def _assessment():
    reading = read_case_reading(CASE)
    return assess(reading.case, xrefs=False, not_read=reading.not_read)


def test_terminal_report_lists_drugs_not_read_before_the_alerts():
    """Check that the brand name and the unknown drug are shown above the alerts."""
    buffer = io.StringIO()
    Console(file=buffer, width=120, theme=THEME, color_system=None).print(render(_assessment()))
    text = buffer.getvalue()
    assert text.index("Not read as given") < text.index("Alerts")
    assert "zorblatine" in text and "Reglan" in text
    assert "the latest decides" in text and "9.1 mg/dL" in text


def test_html_report_lists_what_was_not_read_and_the_series():
    """Check the clinician report's not-read section and the series of a repeated test."""
    html = render_report(_assessment(), standalone=False)
    assert html.index("cx-not-read") < html.index("cx-alerts-title")
    assert "zorblatine" in html and "Laboratory results (the latest decides)" in html


def test_a_clean_case_shows_no_not_read_section():
    """Check that nothing is shown when everything was read as given."""
    reading = read_case_reading({k: v for k, v in CASE.items() if k not in ("medications", "labs")})
    assessment = assess(reading.case, xrefs=False, not_read=reading.not_read)
    assert "cx-not-read" not in render_report(assessment, standalone=False)
    buffer = io.StringIO()
    Console(file=buffer, width=120, theme=THEME, color_system=None).print(render(assessment))
    assert "Not read as given" not in buffer.getvalue()
