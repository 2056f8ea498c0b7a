"""Rating scales: the publications' arithmetic, range errors and the FHIR round trip.

The worked examples are constructed here and checked by hand against each publication's
arithmetic (the arithmetic is written beside each); none is copied from a publication.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from contraxis.errors import CaseError, KnowledgeBaseError
from contraxis.io.fhir.validation import check_resource
from contraxis.registry.scales import (
    SCALES_DIR,
    load_scales,
    questionnaire,
    questionnaire_response,
    read_response,
    score,
)

SCALES = load_scales()

# --- constructed examples, checked by hand --------------------------------------------------

BFMDRS = {
    # movement: provoking x severity per region, eyes, mouth and neck x 0.5
    "M.eyes.P": 2, "M.eyes.S": 3,      # 0.5 x 6 = 3
    "M.mouth.P": 1, "M.mouth.S": 1,    # 0.5 x 1 = 0.5
    "M.speech.P": 0, "M.speech.S": 0,  # 0
    "M.neck.P": 4, "M.neck.S": 3,      # 0.5 x 12 = 6
    "M.rarm.P": 2, "M.rarm.S": 2,      # 4
    "M.larm.P": 0, "M.larm.S": 0,      # 0
    "M.trunk.P": 1, "M.trunk.S": 2,    # 2
    "M.rleg.P": 3, "M.rleg.S": 2,      # 6
    "M.lleg.P": 0, "M.lleg.S": 0,      # 0   -> movement 21.5
    "D.speech": 1, "D.handwriting": 2, "D.feeding": 1, "D.eating": 0,
    "D.hygiene": 1, "D.dressing": 1, "D.walking": 3,  # -> disability 9
}
TWSTRS = {
    # severity: 2 + 1 + 0 + 1 + 0 + 2 x 3 + 1 + 1 + 2 + 2 = 16
    "I.A1": 2, "I.A2": 1, "I.A3": 0, "I.A4": 1, "I.A5": 0, "I.B": 3, "I.C": 1, "I.D": 1, "I.E": 2, "I.F": 2,
    # disability: 1 + 1 + 0 + 2 + 1 + 1 = 6
    "II.A": 1, "II.B": 1, "II.C": 0, "II.D": 2, "II.E": 1, "II.F": 1,
    # pain: (8 + 2 + 2 x 5) / 4 = 5, + 3 + 2 = 10; total 16 + 6 + 10 = 32
    "III.A.worst": 8, "III.A.best": 2, "III.A.usual": 5, "III.B": 3, "III.C": 2,
}
TSUI = {
    # (A x B) + C + D = (2 + 1 + 0) x 2 + 1 + 1 x 2 = 9
    "A.rotation": 2, "A.tilt": 1, "A.flexion": 0, "B": 2, "C": 1, "D.severity": 1, "D.duration": 2,
}
GDRS = {code: value for code, value in zip(
    ["eyes-upper-face", "lower-face", "jaw-tongue", "larynx", "neck", "right-shoulder-proximal-arm",
     "left-shoulder-proximal-arm", "right-distal-arm-hand", "left-distal-arm-hand", "right-pelvis-proximal-leg",
     "left-pelvis-proximal-leg", "right-distal-leg-foot", "left-distal-leg-foot", "trunk"],
    [2, 0, 0, 1, 6, 3, 0, 4, 0, 0, 0, 0, 0, 1], strict=True)}  # 2 + 1 + 6 + 3 + 4 + 1 = 17
JRS = {"severity": 3, "frequency": 2}  # 5
BSDI = {"driving": None, "reading": 3, "television": 2, "shopping": 1, "walking": 0, "everyday": 2}
# applicable items 3 + 2 + 1 + 0 + 2 = 8, mean 8 / 5 = 1.6
VHI = {**{f"F{i}": v for i, v in enumerate([0, 1, 2, 3, 4, 0, 1, 2, 3, 4], 1)},  # 20
       **{f"P{i}": 2 for i in range(1, 11)},                                     # 20
       **{f"E{i}": 0 for i in range(1, 11)}}                                     # 0 -> total 40
CDIP58 = {
    **{f"HN{i}": 3 for i in range(1, 7)},    # (18 - 6) / (30 - 6) x 100 = 50
    **{f"PD{i}": 1 for i in range(1, 6)},    # (5 - 5) / (25 - 5) x 100 = 0
    **{f"UL{i}": 5 for i in range(1, 10)},   # (45 - 9) / (45 - 9) x 100 = 100
    **{f"WA{i}": 2 for i in range(1, 10)},   # (18 - 9) / (45 - 9) x 100 = 25
    **{f"SL{i}": 2 for i in range(1, 5)},    # (8 - 4) / (20 - 4) x 100 = 25
    **{f"AN{i}": 4 for i in range(1, 9)},    # (32 - 8) / (40 - 8) x 100 = 75
    **{f"MO{i}": v for i, v in enumerate([1, 2, 3, 4, 5, 5], 1)},  # (20 - 6) / (30 - 6) x 100 = 58.3333
    **{f"PS{i}": 1 for i in range(1, 12)},   # 0
}

EXAMPLES = [
    ("bfmdrs", BFMDRS, {"movement": 21.5, "disability": 9}, None),
    ("twstrs", TWSTRS, {"severity": 16, "disability": 6, "pain-severity": 5, "pain": 10, "total": 32}, 32),
    ("tsui", TSUI, {"total": 9}, 9),
    ("gdrs", GDRS, {"total": 17}, 17),
    ("jrs", JRS, {"total": 5}, 5),
    ("bsdi", BSDI, {"sum": 8, "mean": 1.6}, 8),
    ("vhi", VHI, {"F": 20, "P": 20, "E": 0, "total": 40}, 40),
    ("cdip58", CDIP58, {"head-and-neck": 50, "pain": 0, "upper-limb": 100, "walking": 25, "sleep": 25,
                        "annoyance": 75, "mood": 58.3333, "psychosocial": 0}, None),
]


@pytest.mark.parametrize(("scale_id", "items", "expected", "total"), EXAMPLES, ids=[e[0] for e in EXAMPLES])
def test_scale_scores_a_constructed_example(scale_id: str, items: dict, expected: dict, total: float | None) -> None:
    """Check that each scale's scores follow its publication's arithmetic on a hand-checked example."""
    result = score(scale_id, items)
    assert dict(result.scores) == expected
    assert result.total == total
    assert result.missing == ()
    assert result.source.id == SCALES[scale_id].source.id


def test_every_scale_has_an_example() -> None:
    """Check that the examples cover every shipped scale."""
    assert sorted(e[0] for e in EXAMPLES) == sorted(SCALES)


@pytest.mark.parametrize("scale_id", sorted(SCALES))
def test_highest_answers_give_the_published_maximum(scale_id: str) -> None:
    """Check that every item at its maximum gives each score's published maximum (e.g. BFMDRS 120)."""
    scale = SCALES[scale_id]
    result = score(scale_id, {code: float(item.max) for code, item in scale.items.items()})
    for sub in scale.scores:
        assert result.scores[sub.id] == float(sub.range[1]), sub.id
    lowest = score(scale_id, {code: float(item.min) for code, item in scale.items.items()})
    for sub in scale.scores:
        assert lowest.scores[sub.id] == float(sub.range[0]), sub.id


def test_published_maxima() -> None:
    """Check the published maxima the arithmetic must reach: BFMDRS 120/30, TWSTRS 35/30/20/85, Tsui 25."""
    ranges = {(s, sub.id): sub.range[1] for s, scale in SCALES.items() for sub in scale.scores}
    assert ranges[("bfmdrs", "movement")] == 120
    assert ranges[("bfmdrs", "disability")] == 30
    assert (ranges[("twstrs", "severity")], ranges[("twstrs", "disability")], ranges[("twstrs", "pain")],
            ranges[("twstrs", "total")]) == (35, 30, 20, 85)
    assert ranges[("tsui", "total")] == 25
    assert ranges[("gdrs", "total")] == 140
    assert ranges[("jrs", "total")] == 8
    assert ranges[("vhi", "total")] == 120


def test_bfmdrs_weights_eyes_mouth_and_neck_by_half() -> None:
    """Check that the provoking x severity product is halved for eyes, mouth and neck only."""
    assert score("bfmdrs", {"M.eyes.P": 4, "M.eyes.S": 4}).items == {"M.eyes.P": 4, "M.eyes.S": 4}
    full = {code: 0 for code in SCALES["bfmdrs"].items}
    for region, expected in [("eyes", 8), ("mouth", 8), ("neck", 8), ("speech", 16), ("rarm", 16), ("trunk", 16)]:
        result = score("bfmdrs", {**full, f"M.{region}.P": 4, f"M.{region}.S": 4})
        assert result.scores["movement"] == expected, region


def test_missing_items_leave_their_scores_out() -> None:
    """Check that a rating with only the movement items computes movement and says what is missing."""
    movement = {k: v for k, v in BFMDRS.items() if k.startswith("M.")}
    result = score("bfmdrs", movement)
    assert dict(result.scores) == {"movement": 21.5}
    assert result.not_computed == ("disability",)
    assert result.missing == ("D.speech", "D.handwriting", "D.feeding", "D.eating", "D.hygiene", "D.dressing",
                              "D.walking")
    twstrs = score("twstrs", {k: v for k, v in TWSTRS.items() if not k.startswith("III")})
    assert twstrs.total is None
    assert set(twstrs.not_computed) == {"pain-severity", "pain", "total"}


# --- errors ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("scale_id", "items", "message"), [
    ("bfmdrs", {"M.eyes.P": 5}, r"bfmdrs\.M\.eyes\.P: eyes: provoking factor: 5 is out of range 0–4"),
    ("bfmdrs", {"D.walking": 7}, r"bfmdrs\.D\.walking: walking: 7 is out of range 0–6"),
    ("bfmdrs", {"D.walking": 2.5}, r"2\.5 is not a whole number \(0–6\)"),
    ("twstrs", {"III.A.usual": 11}, r"twstrs\.III\.A\.usual: pain severity: usual: 11 is out of range 0–10"),
    ("twstrs", {"I.A4": -1}, r"-1 is out of range 0–1"),
    ("tsui", {"B": 0}, r"tsui\.B: duration of sustained movements: 0 is out of range 1–2"),
    ("cdip58", {"HN1": 0}, r"cdip58\.HN1: .*0 is out of range 1–5"),
    ("vhi", {"F1": "3"}, r"vhi\.F1: functional item 1: expected a number 0–4, got text '3'"),
    ("vhi", {"F1": True}, r"expected a number 0–4, got true or false"),
    ("vhi", {"F1": float("nan")}, r"expected a number 0–4"),
    ("jrs", {"severity": None}, r"'not applicable' is not an answer to severity: give a value 0–4"),
    ("gdrs", {"nekc": 3}, r"gdrs\.nekc: 'nekc' is not an item of Global Dystonia Rating Scale \(did you mean neck"),
    ("twstrs", {"total": 30}, r"twstrs\.total: 'total' is a score .*computed, never entered"),
    ("tsui", {"D.severity": 0, "D.duration": 2}, r"tremor severity 0, tremor duration 2: these are 0 together"),
])
def test_a_wrong_item_is_refused_naming_item_value_and_range(scale_id: str, items: dict, message: str) -> None:
    """Check that a wrong value is refused with the item, the value and the range."""
    with pytest.raises(CaseError, match=message):
        score(scale_id, items)


def test_every_problem_is_named_at_once() -> None:
    """Check that three wrong items give three problems in one error."""
    with pytest.raises(CaseError) as caught:
        score("jrs", {"severity": 9, "frequency": -2, "duration": 1})
    assert [p.where for p in caught.value.problems] == ["jrs.severity", "jrs.frequency", "jrs.duration"]


def test_unknown_scale() -> None:
    """Check that an unknown scale lists the scales there are."""
    with pytest.raises(CaseError, match=r"'udrs' is not a rating scale \(scales: bfmdrs, bsdi, cdip58"):
        score("udrs", {})


def test_not_applicable_everywhere_computes_no_bsdi() -> None:
    """Check that a BSDI answered 'not applicable' throughout has no score rather than 0."""
    result = score("bsdi", dict.fromkeys(SCALES["bsdi"].items))
    assert dict(result.scores) == {}
    assert result.total is None


# --- the data files are checked against the publications ------------------------------------


def _copy_scales(tmp_path: Path) -> Path:
    folder = tmp_path / "scales"
    shutil.copytree(SCALES_DIR, folder)
    return folder


def test_a_mistyped_weight_stops_the_load(tmp_path: Path) -> None:
    """Check that weighting the eyes 1 instead of 0.5 no longer reaches the published 0-120."""
    folder = _copy_scales(tmp_path)
    path = folder / "bfmdrs.yaml"
    path.write_text(path.read_text().replace("{items: [M.eyes.P, M.eyes.S], weight: 0.5}",
                                             "{items: [M.eyes.P, M.eyes.S]}"))
    with pytest.raises(KnowledgeBaseError, match=r"bfmdrs\.yaml: scores\[0\]\.range: the arithmetic gives 0–128 "
                                                 r"but the publication's range is 0–120"):
        load_scales(folder=folder)


def test_a_mistyped_range_and_an_unknown_source_stop_the_load(tmp_path: Path) -> None:
    """Check that a wrong item range and an unknown source are both named."""
    folder = _copy_scales(tmp_path)
    path = folder / "jrs.yaml"
    path.write_text(path.read_text().replace("code: frequency, label: \"frequency\", section: rating, min: 0, max: 4",
                                             "code: frequency, label: \"frequency\", section: rating, min: 0, max: 5")
                    .replace("source: jankovic-orman-1987", "source: jankovic-1897"))
    with pytest.raises(KnowledgeBaseError) as caught:
        load_scales(folder=folder)
    text = str(caught.value)
    assert "jrs.yaml: source: source 'jankovic-1897' is not in sources.yaml" in text
    assert "jrs.yaml: scores[0].range: the arithmetic gives 0–9" in text


def test_a_schema_mistake_names_file_row_and_field(tmp_path: Path) -> None:
    """Check that a misspelt field stops the load naming it."""
    folder = _copy_scales(tmp_path)
    path = folder / "gdrs.yaml"
    path.write_text(path.read_text().replace("range: [0, 140]", "ragne: [0, 140]"))
    with pytest.raises(KnowledgeBaseError, match=r"gdrs\.yaml: scores\[0\]\.ragne: Extra inputs are not permitted"):
        load_scales(folder=folder)


# --- licensed wording -----------------------------------------------------------------------


def test_no_item_carries_the_scales_wording() -> None:
    """Check that the shipped items carry only short labels, and the Questionnaire says why."""
    for scale in SCALES.values():
        for item in scale.items.values():
            assert item.text is None
            assert len(item.label) <= 60, item.code
    assert "Item wording is not included" in questionnaire("twstrs")["copyright"]


def test_a_clinics_licensed_texts_are_merged(tmp_path: Path) -> None:
    """Check that a texts file supplies item wording and the licence to the Questionnaire."""
    texts = tmp_path / "texts.yaml"
    texts.write_text("licence: Licensed to the test clinic (ref. 42)\n"
                     "scales:\n  jrs:\n    items:\n      severity: Severity wording held under licence\n")
    scales = load_scales(texts=texts)
    built = questionnaire("jrs", scales=scales)
    first = built["item"][0]["item"][0]
    assert first["text"] == "Severity wording held under licence"
    assert built["item"][0]["item"][1]["text"] == "frequency"
    assert built["copyright"] == "Item wording used under licence: Licensed to the test clinic (ref. 42)"
    assert score("jrs", JRS, scales=scales).total == 5


def test_a_texts_file_naming_an_unknown_item_stops_the_load(tmp_path: Path) -> None:
    """Check that a texts file is checked against the scales."""
    texts = tmp_path / "texts.yaml"
    texts.write_text("licence: x\nscales:\n  jrs:\n    items:\n      sevrity: text\n  udrs:\n    items: {}\n")
    with pytest.raises(KnowledgeBaseError) as caught:
        load_scales(texts=texts)
    assert "texts.yaml: scales.jrs.items.sevrity: is not an item of Jankovic Rating Scale" in str(caught.value)
    assert "texts.yaml: scales.udrs: is not a rating scale" in str(caught.value)


# --- FHIR -----------------------------------------------------------------------------------


@pytest.mark.parametrize("scale_id", sorted(SCALES))
def test_questionnaire_is_valid_fhir(scale_id: str) -> None:
    """Check that each Questionnaire validates against the R4B model and lists every item with its range."""
    built = questionnaire(scale_id)
    assert check_resource(built, path="q").problems == ()
    leaves = {item["linkId"]: item for group in built["item"] for item in group["item"]}
    assert set(leaves) == set(SCALES[scale_id].items)
    for code, item in leaves.items():
        bounds = {ext["url"].rsplit("/", 1)[1]: ext.get("valueInteger", ext.get("valueDecimal"))
                  for ext in item["extension"]}
        assert bounds == {"minValue": SCALES[scale_id].items[code].min, "maxValue": SCALES[scale_id].items[code].max}


@pytest.mark.parametrize(("scale_id", "items", "expected", "total"), EXAMPLES, ids=[e[0] for e in EXAMPLES])
def test_fhir_round_trip(scale_id: str, items: dict, expected: dict, total: float | None) -> None:
    """Check that items written as a QuestionnaireResponse read back to the same scores."""
    response = questionnaire_response(scale_id, items, subject="Patient/p1", authored="2026-03-01")
    assert check_resource(response, path="qr").problems == ()
    again = read_response(json.loads(json.dumps(response)))
    assert dict(again.scores) == expected
    assert again.total == total
    assert dict(again.items) == {k: (None if v is None else float(v)) for k, v in items.items()}


def _response(items: list[dict], **more: object) -> dict:
    return {"resourceType": "QuestionnaireResponse", "questionnaire": "urn:contraxis:questionnaire:jrs",
            "status": "completed", "item": [{"linkId": "rating", "item": items}], **more}


@pytest.mark.parametrize(("resource", "message"), [
    (_response([{"linkId": "severity", "answer": [{"valueInteger": 7}]}]),
     r"QuestionnaireResponse\.item\[0\]\.item\[0\]\.answer\[0\]\.valueInteger: severity: 7 is out of range 0–4"),
    (_response([{"linkId": "severity", "answer": [{"valueString": "3"}]}]),
     r"item\[0\]\.item\[0\]\.answer\[0\]: expected valueInteger or valueDecimal, got valueString"),
    (_response([{"linkId": "severity", "answer": [{"valueInteger": 1}, {"valueInteger": 2}]}]),
     r"item\[0\]\.item\[0\]\.answer: 2 answers: each item takes one"),
    (_response([{"linkId": "severity", "answer": [{"valueInteger": 1}]},
                {"linkId": "severity", "answer": [{"valueInteger": 2}]}]), r"'severity' is answered twice"),
    (_response([{"linkId": "total", "answer": [{"valueInteger": 5}]}]), r"scores are computed, never entered"),
    (_response([{"linkId": "blinks", "answer": [{"valueInteger": 5}]}]),
     r"item\[0\]\.item\[0\]\.answer\[0\]\.valueInteger: 'blinks' is not an item of Jankovic Rating Scale"),
    (_response([], status="in-progress"), r"QuestionnaireResponse\.status: 'in-progress': only a completed"),
    (_response([], questionnaire="urn:contraxis:questionnaire:jrs|1999"), r"version '1999' .* is not known"),
    (_response([], questionnaire="http://example.org/Questionnaire/phq9"),
     r"QuestionnaireResponse\.questionnaire: 'http://example.org/Questionnaire/phq9' is not the Questionnaire"),
    (_response([], status="done"), r"QuestionnaireResponse\.status"),
    ({"resourceType": "Questionnaire"}, r"expected a QuestionnaireResponse, got 'Questionnaire'"),
])
def test_a_wrong_response_is_refused_naming_the_element(resource: dict, message: str) -> None:
    """Check that a QuestionnaireResponse that cannot be scored is refused at the element at fault."""
    with pytest.raises(CaseError, match=message):
        read_response(resource)


def test_response_refuses_items_out_of_range_before_writing() -> None:
    """Check that no QuestionnaireResponse is written with a value out of range."""
    with pytest.raises(CaseError, match=r"jrs\.severity: severity: 5 is out of range 0–4"):
        questionnaire_response("jrs", {"severity": 5, "frequency": 1})


def test_the_readme_example_runs() -> None:
    """Check that the README's rating-scale example runs and gives what its comment says."""
    import re

    readme = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")
    section = readme.split("### Rating scales", 1)[1]
    code = re.search(r"```python\n(.+?)\n```", section, re.S)
    assert code is not None
    namespace: dict[str, object] = {}
    exec(code.group(1), namespace)  # noqa: S102 - the README's own example
    assert namespace["result"].total == 5  # type: ignore[attr-defined]


def test_twstrs_item_ranges_match_the_scale_as_reproduced() -> None:
    """Check each TWSTRS item's range and weight against reproductions of the scale.

    Severity (Yumpu document 29595711 and the vdocuments copy, source
    ``twstrs-reproduction-severity``): rotation 0-4, laterocollis 0-3, anterocollis/retrocollis
    0-3, lateral and sagittal shift 0-1, duration 0-5 weighted x 2, sensory tricks 0-2,
    shoulder elevation 0-3. Disability (hmdhou.com copy, ``twstrs-reproduction-disability``):
    six activities of 0-5, maximum 30. A severity of 4+3+3+1+1 + 2x5 + 2+3+4+4 = 35.
    """
    items = SCALES["twstrs"].items
    expected = {"I.A1": 4, "I.A2": 3, "I.A3": 3, "I.A4": 1, "I.A5": 1, "I.B": 5, "I.C": 2, "I.D": 3,
                **{f"II.{a}": 5 for a in "ABCDEF"}}
    assert {code: items[code].max for code in expected} == expected
    assert all(items[code].min == 0 for code in expected)
    duration_only = score("twstrs", {code: 0 for code in items} | {"I.B": 5})
    assert duration_only.scores["severity"] == 10  # the duration factor counts twice


def test_gdrs_rates_each_body_part_zero_to_ten() -> None:
    """Check the GDRS's 0-10 per body part (Hum Brain Mapp 2017, PMC5553075 Table 1 footnote,
    source ``gdrs-per-body-part``): a neck of 7 alone scores 7."""
    items = SCALES["gdrs"].items
    assert {(item.min, item.max) for item in items.values()} == {(0, 10)}
    assert score("gdrs", {code: 0 for code in items} | {"neck": 7}).total == 7
