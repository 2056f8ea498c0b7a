"""The intake page with what clinicians type, in a real browser (Chromium through Playwright):
a value in the wrong unit held before it is sent, a brand name chosen from the suggestions
with the keyboard, "takes no medication" against "not known", the prompt for the start of a
drug that can cause the movement, and what was not read shown above the reports.

Screenshots go to ``tests/artifacts/`` (git-ignored). Skipped, saying why, when
``/usr/bin/chromium`` is missing (``apt-get install -y chromium``).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from .conftest import CHROMIUM

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="Chromium is not installed at /usr/bin/chromium (apt-get install -y chromium)"
)

ACUTE_NECK = {"age": 19, "course": "acute", "regions": ["neck"]}


def shot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def fill_basics(page, case: dict[str, Any]) -> None:
    page.fill("#age", str(case["age"]))
    page.select_option("#course", case["course"])
    for region in case["regions"]:
        page.click(f'.region[data-region="{region}"]')


def assess(page, submit: Callable[[], None] | None = None) -> tuple[dict[str, Any], dict[str, Any]]:
    """Submit the form; the case sent and the JSON answered."""
    with page.expect_response(lambda r: "/report?" in r.url and r.request.method == "POST") as info:
        (submit or (lambda: page.click("#assess")))()
    page.wait_for_selector("#results[data-assessed=true]")
    return json.loads(info.value.request.post_data), info.value.json()


def reports_sent(page) -> list[str]:
    sent: list[str] = []
    page.on("request", lambda r: sent.append(r.url) if "/report" in r.url and r.method == "POST" else None)
    return sent


def add_drug(page, name: str) -> Any:
    page.click("#add-medication")
    row = page.locator("#medications .medication").last
    row.locator(".med-name").fill(name)
    row.locator(".med-name").press("Tab")
    return row


def test_a_value_impossible_in_its_unit_is_marked_and_the_case_held(page):
    """Check that calcium 2.35 in mg/dL is marked with the value, unit, plausible range and the
    likely unit, that Assess sends nothing until it is corrected, and that in mmol/L it is sent
    with its unit and read as 9.4 mg/dL."""
    sent = reports_sent(page)
    calcium = page.locator('#labs .lab[data-codes~="17861-6"]')
    assert calcium.locator(".lab-unit").input_value() == "mg/dL"
    assert {"mg/dL", "mmol/L"} <= set(calcium.locator(".lab-unit option").evaluate_all("os => os.map(o => o.value)"))
    fill_basics(page, ACUTE_NECK)
    calcium.locator(".lab-value").fill("2.35")
    page.click("#assess")
    message = calcium.locator(".lab-message")
    page.wait_for_function("() => document.querySelector('#status').textContent.startsWith('Not assessed')")
    page.wait_for_function("(m) => m.textContent.includes('was it in')", arg=message.element_handle())
    text = message.inner_text()
    for words in ("2.35 mg/dL", "calcium", "plausible: 3 to 25 mg/dL", "2.35 mmol/L is 9.4 mg/dL"):
        assert words in text, text
    assert calcium.locator(".lab-value").get_attribute("aria-invalid") == "true"
    assert page.evaluate("document.activeElement.classList.contains('lab-value')")
    assert sent == []
    shot(page, "intake-lab-held")

    calcium.locator(".lab-unit").select_option("mmol/L")
    page.wait_for_function("(m) => m.textContent === ''", arg=message.element_handle())
    case, answer = assess(page)
    assert case["labs"] == [{"loinc": "17861-6", "name": "calcium", "value": 2.35, "unit": "mmol/L"}]
    assert any(lab["test"] == "calcium" and lab["latest"].startswith("9.4") for lab in answer["assessment"]["labs"])
    assert "9.4" in page.locator("#labs-read li[data-test=calcium]").inner_text()


def test_a_typed_slip_is_marked_at_once_from_the_served_limits(page):
    """Check that a sodium of 14 (140 mistyped) is marked while typing, before any answer from the server."""
    sodium = page.locator('#labs .lab[data-codes~="2951-2"]')
    sodium.locator(".lab-value").type("14")
    message = sodium.locator(".lab-message").inner_text()
    assert "14 mmol/L is not a possible sodium" in message and "plausible" in message
    sodium.locator(".lab-value").type("0")
    assert sodium.locator(".lab-message").inner_text() == ""


def test_a_brand_name_is_suggested_with_its_ingredient_and_chosen_with_the_keyboard(page):
    """Check that typing 'Regl' suggests Reglan with metoclopramide, that the arrow keys and
    Enter choose it without sending the form, and that the reading is shown."""
    sent = reports_sent(page)
    page.click("#add-medication")
    name = page.locator("#medications .medication .med-name").last
    name.type("Regl", delay=30)
    option = page.locator("#medications [role=option]", has_text="Reglan")
    option.wait_for(timeout=20000)
    assert "metoclopramide" in option.inner_text()
    assert name.get_attribute("aria-expanded") == "true"
    shot(page, "intake-drug-suggestions")
    for _ in range(10):
        name.press("ArrowDown")
        active = name.get_attribute("aria-activedescendant")
        if active and "Reglan" in page.locator(f"#{active}").inner_text():
            break
    name.press("Enter")
    assert name.input_value() == "Reglan"
    assert name.get_attribute("aria-expanded") == "false"
    reading = page.locator("#medications .medication .med-reading").last
    page.wait_for_function("(r) => r.textContent.includes('metoclopramide')", arg=reading.element_handle())
    assert sent == []


def test_no_medication_means_none_and_no_drug_means_not_known(page):
    """Check that drugs left blank leave the field out, and that "takes no medication" sends []."""
    fill_basics(page, ACUTE_NECK)
    case, _ = assess(page)
    assert "medications" not in case
    page.check("#no-medication")
    assert page.locator("#add-medication").is_disabled()
    case, answer = assess(page)
    assert case["medications"] == []
    assert not any(q["field"] == "medications" for q in answer["assessment"]["missing"])
    page.uncheck("#no-medication")
    add_drug(page, "haloperidol")
    page.check("#no-medication")
    assert not page.locator("#medications").is_visible()
    case, _ = assess(page)
    assert case["medications"] == []


def test_a_drug_that_can_cause_the_movement_prompts_for_its_start_and_says_why(page):
    """Check that entering haloperidol prompts for its start and dose increase with the reason,
    that leaving them blank is allowed (the assessment asks first), and that days are sent."""
    fill_basics(page, ACUTE_NECK)
    row = add_drug(page, "haloperidol")
    prompt = row.locator(".med-prompt")
    prompt.wait_for(state="visible", timeout=20000)
    text = prompt.inner_text()
    for words in (
        "When was haloperidol started",
        "dose",
        "dopamine-blocking",
        "acute dystonic reaction",
        "leave them blank",
    ):
        assert words in text, text
    assert "med-prompt" in (row.locator(".med-days").get_attribute("aria-describedby") or "")
    shot(page, "intake-drug-start-prompt")
    case, answer = assess(page)
    assert case["medications"] == [{"name": "haloperidol"}]
    assert answer["assessment"]["missing"][0]["question"].startswith("When was haloperidol started")
    row.locator(".med-days").fill("1")
    row.locator(".med-raised").fill("1")
    case, _ = assess(page)
    assert case["medications"] == [{"name": "haloperidol", "days_since_start": 1, "days_since_dose_increase": 1}]
    paracetamol = add_drug(page, "paracetamol")
    page.wait_for_timeout(500)
    assert not paracetamol.locator(".med-prompt").is_visible()


def test_what_was_not_read_is_shown_above_the_reports(page):
    """Check that a brand name read as its ingredient is listed above the reports (where, as
    given, what was done), that the report keeps it for print, and that it goes with a new
    answer that has nothing to report."""
    fill_basics(page, ACUTE_NECK)
    page.locator("details.no-print summary").click()
    add_drug(page, "Reglan")
    _, answer = assess(page)
    assert answer["assessment"]["not_read"]
    panel = page.locator("#not-read")
    assert panel.is_visible()
    cells = panel.locator("tbody tr").first.locator("td").all_inner_texts()
    assert cells[0] == "case.medications[0].name" and cells[1] == "Reglan" and "metoclopramide" in cells[2]
    assert panel.bounding_box()["y"] < page.locator("#panel-report").bounding_box()["y"]
    assert "not read as given" in page.locator("#status").inner_text()
    shot(page, "intake-not-read")
    page.emulate_media(media="print")
    assert not panel.is_visible()
    assert page.locator("#panel-report .cx-not-read").is_visible()
    page.emulate_media(media="screen")
    page.locator("#medications .medication .med-name").fill("metoclopramide")
    _, answer = assess(page)
    assert answer["assessment"]["not_read"] == [] and not panel.is_visible()


def test_a_loaded_case_keeps_its_series_and_shows_it(page):
    """Check that a pasted case with two calcium results fills the latest, keeps the earlier one
    (listed under the form and sent unchanged), and that the answer's series is shown."""
    case = {**ACUTE_NECK, "findings": ["HP:0000473"],
            "labs": [{"loinc": "17861-6", "value": 9.4, "unit": "mg/dL", "days_ago": 700},
                     {"loinc": "2000-8", "value": 1.7, "unit": "mmol/L", "days_ago": 1},
                     {"loinc": "2064-4", "interpretation": "low"}]}
    page.locator("details.no-print summary").click()
    page.fill("#case-json", json.dumps(case))
    page.click("#load-json")
    calcium = page.locator('#labs .lab[data-codes~="17861-6"]')
    assert calcium.locator(".lab-value").input_value() == "1.7"
    assert calcium.locator(".lab-unit").input_value() == "mmol/L"
    assert page.locator("#labs-kept li").count() == 2
    sent, answer = assess(page)
    assert sorted(sent["labs"], key=json.dumps) == sorted(
        [{"loinc": "2000-8", "name": "calcium", "value": 1.7, "unit": "mmol/L", "days_ago": 1}, *case["labs"][::2]],
        key=json.dumps)
    series = page.locator("#labs-read li[data-test=calcium]").inner_text()
    assert "latest first" in series and "700" in series
    shot(page, "intake-lab-series")
