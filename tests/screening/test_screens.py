"""The screens of the knowledge base: what they hold, and the loader's errors."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from contraxis.errors import KnowledgeBaseError
from contraxis.screening.screens import SCREENS_FILE, load_screens

GOOD = yaml.safe_load(SCREENS_FILE.read_text(encoding="utf-8"))


def test_every_screen_names_its_alert_evidence_lookback_and_source() -> None:
    """Check that the bundled screens load, each with an alert of the knowledge base, closing evidence and a source."""
    from contraxis.knowledge import load_knowledge_base

    kb = load_knowledge_base()
    screens = load_screens()
    assert [s.id for s in screens] == ["drug-induced-dystonia", "wilson-screen", "dopa-trial", "hypocalcemic-tetany",
                                       "severe-hyponatremia", "severe-hypomagnesemia"]
    for screen in screens:
        assert screen.row.source in kb.sources
        assert screen.row.closed_by and screen.row.lookback_days > 0 and screen.row.reviewed
        assert screen.index.codes
    by_id = {s.id: s for s in screens}
    assert [c.describe() for c in by_id["wilson-screen"].row.closed_by] == ["ceruloplasmin measured"]
    assert [c.describe() for c in by_id["dopa-trial"].row.closed_by] == ["levodopa given"]
    assert by_id["drug-induced-dystonia"].row.closed_by[0].kind == "stopped"


def test_condition_codes_come_from_the_problem_table() -> None:
    """Check that dystonia compiles to its HPO id, SNOMED CT 15802004 and ICD-10-CM G24.3 in both spellings."""
    codes = set(load_screens(only=["wilson-screen"])[0].index.codes)
    assert {"HP:0001332", "15802004", "G24.3", "G243", "G24.9"} <= codes
    assert "R25.2" not in codes


def test_a_laboratory_bound_is_never_narrower_than_the_assessment() -> None:
    """Check that calcium below 8.5 mg/dL selects values below 8.5 whatever the unit (mmol/L gives smaller numbers)."""
    screen = load_screens(only=["hypocalcemic-tetany"])[0]
    assert screen.index.below == pytest.approx(8.5)
    assert set(screen.index.codes) == {"17861-6", "2000-8", "49765-1"}


def _write(tmp_path: Path, change: object) -> Path:
    data = yaml.safe_load(yaml.safe_dump(GOOD))
    change(data)  # type: ignore[operator]
    path = tmp_path / "screens.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("change", "where", "message"),
    [
        (lambda d: d["screens"][0].update(alert="acute-reaction"), "drug-induced-dystonia.alert",
         "'acute-reaction' is not an alert of the knowledge base"),
        (lambda d: d["screens"][1]["entry"]["index"].update(condition="dystonia"),
         "wilson-screen.entry.index.condition",
         "'dystonia' is not a concept of findings.yaml"),
        (lambda d: d["screens"][3]["entry"]["index"]["lab"].update(analyte="calcium-total"),
         "hypocalcemic-tetany.entry.index.lab.analyte", "'calcium-total' is not an analyte of labs.yaml"),
        (lambda d: d["screens"][1]["closed_by"][0].update(measured=["copper"]), "wilson-screen.closed_by[0].measured",
         "'copper' is not an analyte of labs.yaml"),
        (lambda d: d["screens"][2]["closed_by"][0].update(given=["l-dopa"]), "dopa-trial.closed_by[0].given",
         "'l-dopa' is not a treatment group of drugs.yaml"),
        (lambda d: d["screens"][0]["closed_by"][0].update(stopped=["neuroleptics"]),
         "drug-induced-dystonia.closed_by[0].stopped", "'neuroleptics' is not a drug class of drugs.yaml"),
        (lambda d: d["screens"][2].update(source="nobody-2020"), "dopa-trial.source",
         "'nobody-2020' is not in sources.yaml"),
        (lambda d: d["screens"][1].update(id="drug-induced-dystonia"), "drug-induced-dystonia.id", "defined twice"),
        (lambda d: d["screens"][1]["closed_by"][0].update(given=["levodopa"]), "wilson-screen.closed_by[0]",
         "give exactly one of measured, given or stopped"),
        (lambda d: d["screens"][4]["closed_by"][0].update(from_days=5), "severe-hyponatremia.closed_by[0]",
         "from_days 5 is after to_days 2"),
        (lambda d: d["screens"][0].update(lookback=30), "drug-induced-dystonia.lookback", "is not a field of a screen"),
        (lambda d: d["screens"][0].pop("action"), "drug-induced-dystonia.action", "Field required"),
        (lambda d: d["screens"][0].update(lookback_days=0), "drug-induced-dystonia.lookback_days",
         "greater than or equal to 1"),
        (lambda d: d["screens"][3]["entry"]["index"].update(condition="muscle-cramp"),
         "hypocalcemic-tetany.entry.index", "give exactly one of condition or lab"),
    ],
)
def test_a_mistake_stops_the_load_naming_file_screen_and_field(tmp_path: Path, change: object, where: str,
                                                               message: str) -> None:
    """Check that each kind of mistake raises KnowledgeBaseError naming the file, screen, field and value."""
    with pytest.raises(KnowledgeBaseError) as raised:
        load_screens(_write(tmp_path, change))
    problems = [(p.where, p.message) for p in raised.value.problems]
    assert any(w == f"screens.yaml: {where}" and message in m for w, m in problems), problems


def test_every_problem_is_named_at_once(tmp_path: Path) -> None:
    """Check that two mistakes in two screens are both reported."""
    def change(d: dict) -> None:
        d["screens"][0]["alert"] = "nope"
        d["screens"][5]["source"] = "nope"

    with pytest.raises(KnowledgeBaseError) as raised:
        load_screens(_write(tmp_path, change))
    assert len(raised.value.problems) == 2


def test_invalid_yaml_and_unknown_screen_ids_are_refused(tmp_path: Path) -> None:
    """Check that a file that is not YAML, and a screen id that does not exist, give one clear problem each."""
    bad = tmp_path / "screens.yaml"
    bad.write_text("screens: [\n", encoding="utf-8")
    with pytest.raises(KnowledgeBaseError, match=r"screens.yaml: is not valid YAML \(line"):
        load_screens(bad)
    with pytest.raises(KnowledgeBaseError, match="'wilson' is not a screen"):
        load_screens(only=["wilson"])
