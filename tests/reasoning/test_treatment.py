"""Treatment options: the option offered with its group and the exclusions always listed
come from treatments.yaml, not from code."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from contraxis import assess, load_knowledge_base
from contraxis.case import read_case
from contraxis.errors import KnowledgeBaseError
from contraxis.knowledge import DATA_DIR

CERVICAL = {
    "id": "cervical-baclofen", "age": 40, "sex": "female", "onset_age": 35, "course": "static",
    "regions": ["neck"], "findings": ["HP:0001332", "HP:0000473"], "severity": "moderate",
    "treatment_history": [{"treatment": "baclofen", "response": "good"}],
}


def _codes(items):
    return {item.code: item for item in items}


def _edited_kb(tmp_path: Path, edit) -> Path:
    data = tmp_path / "data"
    shutil.copytree(DATA_DIR, data)
    path = data / "treatments.yaml"
    content = yaml.safe_load(path.read_text(encoding="utf-8"))
    edit(content)
    path.write_text(yaml.safe_dump(content, sort_keys=False), encoding="utf-8")
    return data


def _option(content: dict, option_id: str) -> dict:
    return next(o for o in content["options"] if o["id"] == option_id)


def test_oral_medication_is_offered_with_an_oral_drug(kb):
    """Check that an offered oral drug brings oral medication, explained by the treatments.yaml entry."""
    assessment = assess(read_case(CERVICAL), kb=kb, xrefs=False)
    offered = _codes(assessment.treatments)
    assert "baclofen" in offered
    item = offered["oral-medication"]
    rule = kb.treatments["oral-medication"].offered_with
    assert rule is not None and item.why.rule == rule.rule and item.line == rule.line
    assert item.reason == "An oral drug for dystonia is offered: baclofen."
    assert item.why.facts == ("offered: baclofen",)
    assert item.why.source == kb.treatments["oral-medication"].source


def test_deep_brain_stimulation_exclusion_is_listed_though_never_offered(kb):
    """Check that an option marked list_exclusion: always is listed as not offered with no offer rule."""
    assessment = assess(read_case(CERVICAL), kb=kb, xrefs=False)
    assert "deep-brain-stimulation" not in _codes(assessment.treatments)
    assert _codes(assessment.not_offered)["deep-brain-stimulation"].why.rule == "treat.dbs-not-yet"


def test_the_engine_reads_the_grouping_and_the_listing_from_the_data(tmp_path):
    """Check that changing treatments.yaml alone changes the answer: no group option, no listing."""

    def edit(content: dict) -> None:
        del _option(content, "oral-medication")["offered_with"]
        del _option(content, "deep-brain-stimulation")["list_exclusion"]

    kb = load_knowledge_base(_edited_kb(tmp_path, edit))
    assessment = assess(read_case(CERVICAL), kb=kb, xrefs=False)
    assert "oral-medication" not in _codes(assessment.treatments)
    assert "deep-brain-stimulation" not in _codes(assessment.not_offered)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"group": "orals"}, "'orals' is not a group"),
        ({"reason": "An oral drug is offered: {drug}."}, "placeholder(s) ['drug']"),
    ],
)
def test_a_mistake_in_offered_with_stops_the_load(tmp_path, change, message):
    """Check that a misspelt group or placeholder of offered_with stops the load, naming it."""

    def edit(content: dict) -> None:
        _option(content, "oral-medication")["offered_with"].update(change)

    with pytest.raises(KnowledgeBaseError) as caught:
        load_knowledge_base(_edited_kb(tmp_path, edit))
    assert "treatments.yaml" in str(caught.value) and message in str(caught.value)


def test_list_exclusion_takes_only_its_two_words(tmp_path):
    """Check that an unknown list_exclusion value stops the load."""

    def edit(content: dict) -> None:
        _option(content, "deep-brain-stimulation")["list_exclusion"] = "sometimes"

    with pytest.raises(KnowledgeBaseError, match="list_exclusion"):
        load_knowledge_base(_edited_kb(tmp_path, edit))
