"""The intake page in a real browser: Debian's Chromium driven by Playwright.

The app runs under uvicorn (httptools, uvloop) on a free loopback port, started by the
fixture (``conftest.py``). For each vignette, the form is filled as a clinician would (the
body map clicked, findings marked present or absent, labs with their units, drugs,
history...), the case the page sends is compared with the vignette's case block, and the
result shown is compared with the vignette's expected fields. One vignette is entered with the
keyboard alone. Screenshots go to ``tests/artifacts/`` (git-ignored).

Skipped, saying why, when ``/usr/bin/chromium`` is missing (``apt-get install -y chromium``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from .conftest import CHROMIUM

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
VIGNETTES = Path(__file__).resolve().parents[3] / "shared" / "vignettes"

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="Chromium is not installed at /usr/bin/chromium (apt-get install -y chromium)"
)


def vignette(prefix: str) -> dict[str, Any]:
    (path,) = sorted(VIGNETTES.glob(f"{prefix}-*.yaml"))
    return yaml.safe_load(path.read_text(encoding="utf-8"))


# --- filling the form with the mouse -------------------------------------------------------


def mark(page, code: str, value: str) -> None:
    page.fill("#finding-filter", code)
    radio = page.locator(f'#finding-groups input[data-code="{code}"][value="{value}"]')
    assert radio.count() == 1, f"{code} is not offered by the form"
    page.locator(f'label[for="{radio.get_attribute("id")}"]').click()
    page.fill("#finding-filter", "")


def fill_lab(page, lab: dict[str, Any]) -> None:
    """Type a result into the row of its test (found by any of its LOINC codes) and choose its unit."""
    from contraxis.terminology.units import normalise_unit

    row = page.locator(f'#labs .lab[data-codes~="{lab["loinc"]}"]')
    assert row.count() == 1, f"LOINC {lab['loinc']} is not offered by the form"
    row.locator(".lab-value").fill(str(lab["value"]))
    row.locator(".lab-unit").select_option(normalise_unit(lab["unit"]))


def fill_with_mouse(page, case: dict[str, Any]) -> None:
    for field in ("age", "onset_age"):
        if field in case:
            page.fill(f"#{field}", str(case[field]))
    for field in ("sex", "course", "severity"):
        if case.get(field) and case[field] != "unknown":
            page.select_option(f"#{field}", case[field])
    for region in case.get("regions", []):
        page.click(f'.region[data-region="{region}"]')
    for code in case.get("findings", []):
        mark(page, code, "present")
    for code in case.get("absent", []):
        mark(page, code, "absent")
    for lab in case.get("labs", []):
        fill_lab(page, lab)
    if case.get("medications") == []:
        page.check("#no-medication")
    for medication in case.get("medications", []):
        page.click("#add-medication")
        row = page.locator("#medications .medication").last
        row.locator(".med-name").fill(medication["name"])
        if "days_since_start" in medication:
            row.locator(".med-days").fill(str(medication["days_since_start"]))
    for code in case.get("history", []):
        page.check(f'#history input[value="{code}"]')
    imaging = case.get("imaging") or {}
    if imaging.get("mri_brain"):
        page.check(f'input[name=mri_brain][value="{imaging["mri_brain"]}"]')
    for code in imaging.get("findings", []):
        page.check(f'#mri-findings input[value="{code}"]')
    genetics = case.get("genetics") or {}
    if genetics:
        page.fill("#genes-tested", ", ".join(genetics.get("tested", [])))
        page.fill("#genes-positive", ", ".join(genetics.get("positive", [])))
    for tried in case.get("treatment_history", []):
        page.click("#add-treatment")
        row = page.locator("#treatments .treatment").last
        row.locator(".tx-name").select_option(tried["treatment"])
        row.locator(".tx-response").select_option(tried["response"])
    for field in ("disabling", "family_history"):
        if field in case:
            page.check(f"#{field}-{'true' if case[field] else 'false'}")


# --- filling the form with the keyboard alone ----------------------------------------------


def tab_to(page, selector: str, *, limit: int = 600) -> None:
    """Press Tab until the focused element matches ``selector`` (reading focus, never clicking)."""
    for _ in range(limit):
        if page.evaluate("(s) => document.activeElement && document.activeElement.matches(s)", selector):
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"Tab never reached {selector}")


def fill_with_keyboard(page, case: dict[str, Any]) -> None:
    page.keyboard.press("Tab")
    for field in ("age", "onset_age"):
        tab_to(page, f"#{field}")
        page.keyboard.type(str(case[field]))
    for field in ("sex", "course", "severity"):
        tab_to(page, f"#{field}")
        page.keyboard.type(case[field])
    for field in ("disabling", "family_history"):
        if field in case:
            tab_to(page, f"input[name={field}]")
            for _ in range(1 if case[field] is False else 2):  # from "not known" to "no", or on to "yes"
                page.keyboard.press("ArrowLeft")
    for region in case["regions"]:
        tab_to(page, f'.region[data-region="{region}"]')
        page.keyboard.press("Space")
    for codes, presses in ((case.get("findings", []), 2), (case.get("absent", []), 1)):
        for code in codes:
            tab_to(page, "#finding-filter")
            page.keyboard.press("Control+A")
            page.keyboard.type(code)
            tab_to(page, f'#finding-groups input[data-code="{code}"]')
            for _ in range(presses):
                page.keyboard.press("ArrowUp")
    tab_to(page, "#finding-filter")
    page.keyboard.press("Control+A")
    page.keyboard.press("Backspace")
    mri = (case.get("imaging") or {}).get("mri_brain")
    if mri:
        tab_to(page, "input[name=mri_brain]")
        for _ in range(["", "normal", "abnormal", "not_done"].index(mri)):
            page.keyboard.press("ArrowRight")
    tab_to(page, "#assess")
    page.keyboard.press("Enter")


# --- checking ------------------------------------------------------------------------------


def normalised(case: dict[str, Any]) -> dict[str, Any]:
    """A case with its lists sorted and empty or unknown fields left out, for comparison.

    ``medications: []`` (takes none) is kept: it is not the same as leaving drugs out (not
    known). Laboratory results are compared by test and value.
    """
    from contraxis.terminology.labs import analyte_of

    out: dict[str, Any] = {}
    for key, value in case.items():
        if value in (None, [], {}, "unknown") and not (key == "medications" and value == []):
            continue
        if key in ("findings", "absent", "regions", "history"):
            value = sorted(value)
        if key == "labs":
            value = sorted(({"test": analyte_of(lab["loinc"]), "value": float(lab["value"])} for lab in value),
                           key=lambda lab: lab["test"])
        if key == "imaging":
            value = {k: sorted(v) if isinstance(v, list) else v for k, v in value.items() if v not in (None, [])}
        if key == "genetics":
            value = {k: sorted(v) for k, v in value.items()}
        if key in ("age", "onset_age"):
            value = float(value)
        out[key] = value
    return out


def submit_and_capture(page, submit) -> dict[str, Any]:
    with page.expect_request(lambda r: r.url.endswith("/report?differential=true") and r.method == "POST") as info:
        submit()
    page.wait_for_selector("#results[data-assessed=true]")
    return json.loads(info.value.post_data)


def check_result(page, expected: dict[str, Any]) -> None:
    report = page.locator("#panel-report")
    for field in ("phenomenology", "focal_type", "distribution", "onset_band", "associated", "etiology", "cause"):
        if field in expected:
            assert report.locator(f"dd[data-field={field}]").inner_text() == expected[field].replace("-", " "), field
    if "icd10cm" in expected:
        assert report.locator("dd[data-field=icd10cm]").inner_text() == expected["icd10cm"]
    shown = {
        "alerts": set(report.locator("[data-alert]").evaluate_all("els => els.map(e => e.dataset.alert)")),
        "workup": set(report.locator("[data-workup]").evaluate_all("els => els.map(e => e.dataset.workup)")),
        "treatments": set(report.locator("[data-treatment]").evaluate_all("els => els.map(e => e.dataset.treatment)")),
    }
    assert set(expected.get("must_flag", [])) <= shown["alerts"]
    assert not set(expected.get("must_not_flag", [])) & shown["alerts"]
    assert set(expected.get("must_recommend", [])) <= shown["workup"]
    assert not set(expected.get("must_not_recommend", [])) & shown["workup"]
    assert set(expected.get("treatment_must_include", [])) <= shown["treatments"]
    assert not set(expected.get("treatment_must_exclude", [])) & shown["treatments"]
    footer = page.locator(".cx-report footer").inner_text()
    assert "Knowledge base" in footer and "HPO release" in footer


@pytest.mark.parametrize("prefix", ["P21", "P26", "P09"])
def test_form_filled_with_the_mouse_gives_the_expected_answer(page, prefix):
    """Check that filling the form for a vignette sends its case and shows its expected answer."""
    data = vignette(prefix)
    fill_with_mouse(page, data["case"])
    sent = submit_and_capture(page, lambda: page.click("#assess"))
    assert normalised(sent) == normalised(data["case"])
    check_result(page, data["expected"])
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"intake-{prefix}.png"), full_page=True)
    page.click("#tab-handout")
    assert page.locator("#panel-handout .cx-handout").is_visible()
    page.screenshot(path=str(ARTIFACTS / f"handout-{prefix}.png"))


def test_form_filled_with_the_keyboard_alone(page):
    """Check that a vignette can be entered and assessed with the keyboard alone, focus always visible."""
    data = vignette("P01")
    sent = submit_and_capture(page, lambda: fill_with_keyboard(page, data["case"]))
    assert "medications" not in sent  # nothing said about drugs: not known
    assert normalised(sent) == normalised({k: v for k, v in data["case"].items() if k != "medications"})
    check_result(page, data["expected"])
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "intake-P01-keyboard.png"), full_page=True)
    page.keyboard.press("Shift+Tab")
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none"


def test_page_is_usable_on_a_tablet_and_prints_the_report_alone(page):
    """Check the one-column layout at tablet width, the landmarks, and that print hides the form."""
    page.set_viewport_size({"width": 768, "height": 1024})
    form_box = page.locator("#intake").bounding_box()
    results_box = page.locator("#results").bounding_box()
    assert results_box["y"] > form_box["y"] + form_box["height"] - 1
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    for landmark in ("header", "nav", "main", "footer"):
        assert page.locator(landmark).count() >= 1
    assert page.locator("#status").get_attribute("aria-live") == "polite"
    page.locator("details.no-print summary").click()
    page.fill("#case-json", json.dumps(vignette("P33")["case"]))
    page.click("#load-json")
    page.click("#assess")
    page.wait_for_selector("#results[data-assessed=true]")
    page.emulate_media(media="print")
    assert not page.locator("#intake").is_visible()
    assert page.locator("#panel-report .cx-report").is_visible()
    page.emulate_media(media="screen")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "tablet-P33.png"), full_page=False)


def test_unlabelled_controls_and_low_contrast_are_absent(page):
    """Check that every form control has a label and the theme's text colours reach 4.5:1."""
    unlabelled = page.evaluate("""() => Array.from(
            document.querySelectorAll('input, select, textarea, button, [role=checkbox]'))
        .filter(e => e.type !== 'hidden')
        .filter(e => !(e.labels && e.labels.length)
                     && !e.getAttribute('aria-label') && !e.getAttribute('aria-labelledby')
                     && !(e.tagName === 'BUTTON' && e.textContent.trim()))
        .map(e => e.outerHTML.slice(0, 80))""")
    assert unlabelled == []
    from contraxis.report.html import THEME

    def luminance(hex_colour: str) -> float:
        channels = [int(hex_colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
        linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
        return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]

    def contrast(a: str, b: str) -> float:
        high, low = sorted((luminance(a), luminance(b)), reverse=True)
        return (high + 0.05) / (low + 0.05)

    pairs = [
        ("cx-text", "cx-surface"),
        ("cx-muted", "cx-surface"),
        ("cx-muted", "cx-surface-alt"),
        ("cx-accent", "cx-surface"),
        ("cx-text", "cx-alert-emergency-panel"),
        ("cx-text", "cx-alert-urgent-panel"),
        ("cx-text", "cx-alert-soon-panel"),
    ]
    for foreground, background in pairs:
        assert contrast(THEME[foreground], THEME[background]) >= 4.5, (foreground, background)
    for badge in ("cx-alert-emergency", "cx-alert-urgent", "cx-alert-soon", "cx-alert-routine", "cx-accent",
                  "cx-finding-present", "cx-finding-absent"):
        assert contrast("#ffffff", THEME[badge]) >= 4.5, badge
    assert page.title().startswith("Contraxis")


def test_a_card_link_opens_the_case_assessed(page, server):
    """Check that the link of a patient-view card opens the page with the case filled in and assessed."""
    from contraxis import read_case
    from contraxis.service.cards import _case_link

    data = vignette("P31")
    page.goto(_case_link(read_case(data), server + "/"))
    page.wait_for_selector("#results[data-assessed=true]")
    check_result(page, data["expected"])
    assert page.locator('.region[data-region="lower-face"]').get_attribute("aria-checked") in ("true", "false")


def test_every_vignette_report_prints_on_one_a4_page(browser_context, server):
    """Check that the clinician report of every vignette prints on a single A4 page."""
    import re
    import urllib.request

    page = browser_context.new_page()
    try:
        pages = {}
        for path in sorted(VIGNETTES.glob("*.yaml")):
            case = yaml.safe_load(path.read_text(encoding="utf-8"))["case"]
            request = urllib.request.Request(f"{server}/report/html?differential=false", data=json.dumps(case).encode(),
                                             headers={"content-type": "application/json"})
            with urllib.request.urlopen(request, timeout=30) as answer:
                page.set_content(answer.read().decode())
            pdf = page.pdf(format="A4", print_background=True)
            pages[path.stem[:3]] = len(re.findall(rb"/Type\s*/Page[^s]", pdf))
        assert {k: v for k, v in pages.items() if v != 1} == {}
    finally:
        page.close()
