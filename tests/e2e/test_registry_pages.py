"""The registry's pages in Debian's Chromium: a patient's timeline (body maps over time, the
course, scales, toxin, stimulation) and the cohort overview, with no script, nothing fetched
from elsewhere, and printable."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import yaml

pytest.importorskip("sqlalchemy")

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = Path(__file__).resolve().parent.parent / "artifacts"

TWSTRS_ITEMS = ("I.A1", "I.A2", "I.A3", "I.A4", "I.A5", "I.B", "I.C", "I.D", "I.E", "I.F", "II.A", "II.B", "II.C",
                "II.D", "II.E", "II.F", "III.A.worst", "III.A.best", "III.A.usual", "III.B", "III.C")


def populate(url: str) -> None:
    """A patient followed for three years: cervical dystonia spreading to the arm and trunk,
    toxin every few months, then pallidal stimulation; and a few more patients for the cohort."""
    from contraxis.registry.scales import load_scales
    from contraxis.registry.store import Registry

    registry = Registry.init(url)
    base = yaml.safe_load((ROOT / "examples" / "cervical-dystonia.yaml").read_text())
    base.pop("id")
    scale = load_scales()["twstrs"]
    steps = [("2022-01-12", ["neck"], 0.9), ("2022-05-10", ["neck"], 0.85), ("2022-09-14", ["neck", "right-arm"], 0.8),
             ("2023-01-18", ["neck", "right-arm"], 0.8), ("2023-06-07", ["neck", "right-arm", "trunk"], 0.75),
             ("2023-09-20", ["neck", "right-arm", "trunk"], 0.45), ("2023-12-13", ["neck", "right-arm", "trunk"], 0.35),
             ("2024-06-19", ["neck", "right-arm", "trunk"], 0.3)]
    visits = []
    for n, (day, regions, level) in enumerate(steps):
        case = {**base, "regions": regions, "age": 52 + n * 0.4, "severity": "severe" if level > 0.5 else "moderate"}
        visit = registry.add_visit("P-0042", case, date=day)
        visits.append(visit)
        items = {code: round(float(item.max) * level) if item.min == 0 else int(item.min)
                 for code, item in scale.items.items()}
        registry.add_scale("P-0042", visit.id, "twstrs", items)
        if n < 5:
            registry.add_injection("P-0042", visit.id, {
                "product": "Dysport", "indication": "cervical-dystonia", "guidance": "emg",
                "muscles": [{"muscle": "sternocleidomastoid", "side": "left", "units": 150 + 25 * n},
                            {"muscle": "splenius capitis", "side": "right", "units": 250}],
                "response": {"onset_days": 7, "peak_days": 28, "duration_weeks": 11}})
    implant = registry.add_implant("P-0042", surgery_date="2023-08-16", device="Medtronic Percept PC", target="GPi",
                                   side="bilateral")
    for visit, amplitude in zip(visits[5:], (2.5, 3.2, 3.5), strict=True):
        for side in ("left", "right"):
            registry.add_stimulation("P-0042", visit.id, implant_id=implant.id, side=side, contacts="1-, C+",
                                     amplitude=amplitude, amplitude_unit="mA", pulse_width_us=90, frequency_hz=130)
    for k, regions in enumerate((["upper-face"], ["larynx"], ["neck", "jaw"], ["right-arm"])):
        for year in (2023, 2024):
            registry.add_visit(f"P-{k:04d}", {**base, "regions": regions}, date=dt.date(year, 3, 1 + k))
    registry.close()


@pytest.fixture(scope="module")
def registry_server(tmp_path_factory):
    from contraxis.service.loadbench import free_port, start_server, stop_server

    url = f"sqlite:///{tmp_path_factory.mktemp('registry') / 'registry.sqlite'}"
    populate(url)
    port = free_port()
    process = start_server(port=port, workers=1, env={"CONTRAXIS_REGISTRY_URL": url})
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        stop_server(process)


def _open(browser_context, url: str):
    page = browser_context.new_page()
    errors: list[str] = []
    requests: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("request", lambda request: requests.append(request.url))
    page.goto(url)
    return page, errors, requests


def test_timeline_page(browser_context, registry_server) -> None:
    """Check that the timeline shows a body map per visit with the regions involved filled,
    the course with the spread dated, the scales, toxin and stimulation, requests nothing but
    the page itself, and prints (the print stylesheet keeps every section)."""
    page, errors, requests = _open(browser_context, registry_server + "/registry/patients/P-0042/timeline")
    assert page.locator(".maps figure").count() == 8
    assert page.locator(".maps figure").nth(2).locator("path.cx-involved").count() == 2  # neck and right arm
    course = page.locator("section", has_text="Course").inner_text()
    assert "spread to the right arm" in course and "2022-09-14" in course and "focal → segmental" in course
    assert page.locator("polyline.cx-score").count() >= 4  # TWSTRS scores and toxin units
    assert "Medtronic Percept PC" in page.locator("section", has_text="Deep brain stimulation").inner_text()
    assert "3.5 mA" in page.content()
    assert all(url.startswith(registry_server) for url in requests), requests
    assert page.locator("script").count() == 0
    ARTIFACTS.mkdir(exist_ok=True)
    page.set_viewport_size({"width": 1200, "height": 900})
    page.screenshot(path=str(ARTIFACTS / "registry-timeline.png"), full_page=True)
    page.emulate_media(media="print")
    assert page.locator("section").count() == 7
    pdf = page.pdf(format="A4")
    assert pdf.startswith(b"%PDF")
    page.close()
    assert errors == [], errors


def test_cohort_page(browser_context, registry_server) -> None:
    """Check that the cohort overview counts the patients and draws its charts offline."""
    page, errors, requests = _open(browser_context, registry_server + "/registry/cohort?format=html")
    assert "5 patients, 16 visits" in page.locator("header").inner_text()
    assert page.locator("svg rect.cx-bar").count() >= 4
    assert all(url.startswith(registry_server) for url in requests), requests
    page.screenshot(path=str(ARTIFACTS / "registry-cohort.png"), full_page=True)
    page.close()
    assert errors == [], errors
