"""The page's note box in a real browser: paste a note, read it into the form, see the words
behind each item, correct the form, search a finding in all of HPO, assess.

Debian's Chromium driven by Playwright (fixtures in ``conftest.py``); the page fails the test
on any script or console error. The screenshot of the note box read goes to ``docs/`` (the
README shows it); the whole page to ``tests/artifacts/``.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from .conftest import CHROMIUM

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "tests" / "artifacts"
DOCS = ROOT / "docs"

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="Chromium is not installed at /usr/bin/chromium (apt-get install -y chromium)"
)

NOTE = (
    "A 55-year-old man has had, for two years, an involuntary turning of his chin to the left that he "
    "cannot hold back. Lightly touching his right cheek brings his head back to the midline. The left side "
    "of his neck aches by the end of each day. On examination there is no tremor and no parkinsonism, and a "
    "brain MRI is normal. He takes no regular medication and no relative has a similar problem."
)


def read_note(page, text: str = NOTE) -> None:
    page.fill("#note-text", text)
    page.click("#read-note")
    page.wait_for_selector("#note-view:not([hidden])")


def finding(page, code: str, value: str):
    return page.locator(f'#finding-groups input[data-code="{code}"][value="{value}"]')


def test_a_pasted_note_fills_the_form_and_shows_its_words(page):
    """Check that reading a note fills age, sex, onset, region, findings present and absent, MRI,
    drugs and family history, and that each item shows the words it came from, highlighted."""
    read_note(page)
    assert page.input_value("#age") == "55"
    assert page.input_value("#sex") == "male"
    assert page.input_value("#onset_age") == "53"
    assert page.get_attribute('.region[data-region="neck"]', "aria-checked") == "true"
    assert finding(page, "HP:0000473", "present").is_checked()  # torticollis
    assert finding(page, "CX:sensory-trick", "present").is_checked()
    assert finding(page, "HP:0030833", "present").is_checked()  # neck pain
    assert finding(page, "HP:0001337", "absent").is_checked()  # no tremor
    assert finding(page, "HP:0001300", "absent").is_checked()  # no parkinsonism
    assert page.is_checked("#mri-normal")
    assert page.is_checked("#no-medication")
    assert page.is_checked("#family_history-false")
    row = page.locator('#finding-groups .finding[data-code="HP:0000473"]')
    assert "turning of his chin to the left" in row.locator(".from-note").inner_text()
    marks = page.locator("#note-highlighted mark.note-mark")
    assert marks.count() >= 8
    assert page.locator("#note-highlighted mark.absent", has_text="tremor").count() == 1
    row.locator(".from-note-link").click()
    active = page.locator("#note-highlighted mark.active")
    assert active.count() >= 1 and "chin" in " ".join(active.all_inner_texts())
    assert page.locator("#note-status").inner_text().startswith("Read ")
    DOCS.mkdir(exist_ok=True)
    page.locator(".note-box").screenshot(path=str(DOCS / "note-box.png"))


def test_the_form_read_from_a_note_is_corrected_and_assessed(page):
    """Check that the clinician corrects what was read (severity added, a finding found by the HPO
    search marked absent) and that Assess sends the corrected case and shows the answer."""
    read_note(page)
    page.select_option("#severity", "moderate")
    page.fill("#finding-filter", "dyspnoea")  # British spelling, searched in all of HPO
    option = page.locator("#finding-search [role=option]").first
    option.wait_for()
    assert option.get_attribute("data-code") == "HP:0002094"
    option.click()
    page.locator('label[for="f-HP-0002094-absent"]').click()
    sent: list[dict] = []
    page.on("request", lambda r: sent.append(json.loads(r.post_data)) if r.url.endswith("/report?differential=true")
            else None)
    page.click("#assess")
    page.wait_for_selector("#results[data-assessed=true]")
    case = sent[-1]
    assert case["severity"] == "moderate"
    assert "HP:0002094" in case["absent"] and "HP:0001337" in case["absent"]
    assert {"HP:0000473", "CX:sensory-trick"} <= set(case["findings"])
    assert case["regions"] == ["neck"] and case["medications"] == []
    status = page.locator("#status").inner_text()
    assert "dystonia" in status.lower()
    assert page.locator("#panel-report .cx-report").is_visible()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "note-box-assessed.png"), full_page=True)


def test_a_note_with_nothing_clinical_says_so_and_fills_nothing(page):
    """Check that a note with nothing clinical leaves the form empty and says why."""
    read_note(page, "Thank you for seeing this gentleman. I will be on leave next week; my secretary has the file.")
    assert "Nothing clinical was recognised" in page.locator("#note-status").inner_text()
    assert page.input_value("#age") == ""
    assert page.locator("#finding-groups input[value=present]:checked").count() == 0
    assert page.locator(".region[aria-checked=true]").count() == 0


def test_the_finding_search_finds_plain_words_and_puts_the_knowledge_base_first(page):
    """Check that plain words find HPO terms by their synonyms, the knowledge base's terms first."""
    page.fill("#finding-filter", "wry neck")
    option = page.locator("#finding-search [role=option]").first
    option.wait_for()
    assert option.get_attribute("data-code") == "HP:0000473"
    page.fill("#finding-filter", "tongue")
    page.locator('#finding-search [role=option][data-code="HP:0031008"]').wait_for()
    codes = page.locator("#finding-search [role=option]").evaluate_all("(os) => os.map((o) => o.dataset.code)")
    assert "HP:0031008" in codes[:3]  # lingual dystonia, read by the knowledge base
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.dataset.code") == codes[0]
