"""Reading clinical notes: negation and pseudo-negation, uncertainty, family history,
laterality, ages and durations, drugs by brand with their start, results with their units,
imaging, gene tests, treatments tried, provenance, and a note with nothing clinical.

Each note is a few hand-written sentences; each test says what it checks.
"""

from __future__ import annotations

import pytest

from contraxis.case import read_case_reading
from contraxis.errors import CaseError
from contraxis.io.note import read_note
from contraxis.io.note.reader import MAX_NOTE_CHARS

TORTICOLLIS = "HP:0000473"
TREMOR = "HP:0001337"
PARKINSONISM = "HP:0001300"
STRIDOR = "HP:0010307"
MUSCLE_SPASM = "HP:0003394"


def case(text: str) -> dict:
    return read_note(text).case_json()


# --- negation, pseudo-negation, uncertainty -------------------------------------------------


@pytest.mark.parametrize("text", [
    "There is no tremor.",
    "He denies any tremor.",
    "She was examined without finding a tremor.",
    "No tremor, no parkinsonism and no pyramidal signs.",
    "Tremor: absent.",
])
def test_a_negated_finding_is_absent_never_present(text):
    """Check that "no", "denies", "without" and "absent" make a finding absent, not present."""
    read = case(text)
    assert TREMOR in read.get("absent", [])
    assert TREMOR not in read.get("findings", [])


def test_negation_reaches_along_a_list_but_not_past_it():
    """Check that "no" negates each item of a list, and not a finding in the next clause."""
    read = case("There is no tremor, rigidity or bradykinesia; her head pulls to the right.")
    assert {TREMOR, "HP:0002063", "HP:0002067"} <= set(read["absent"])
    assert TORTICOLLIS in read["findings"]


@pytest.mark.parametrize("text", [
    "The pulling of her head to the right is not only present when she walks.",
    "There has been no change in the pulling of her head to the right.",
])
def test_pseudo_negations_do_not_negate(text):
    """Check that "not only" and "no change in" leave the finding present."""
    read = case(text)
    assert TORTICOLLIS in read.get("findings", [])
    assert TORTICOLLIS not in read.get("absent", [])


def test_a_normal_examination_item_is_an_absent_sign():
    """Check that "tone and reflexes are normal" and "plantars are flexor" give absent signs."""
    read = case("Tone and reflexes are normal and the plantar responses are flexor.")
    assert {"HP:0001257", "HP:0001347", "HP:0003487"} <= set(read["absent"])
    assert "findings" not in read


@pytest.mark.parametrize("text, words", [
    ("We should rule out Wilson disease; possible tremor of the hands.", "possible"),
    ("Possible Chvostek sign; no clear tetany.", "possible"),
])
def test_an_uncertain_finding_is_neither_present_nor_absent(text, words):
    """Check that "rule out" and "possible" leave a finding out of the case, and say why."""
    reading = read_note(text)
    assert TREMOR not in reading.case.findings and TREMOR not in reading.case.absent
    assert "HP:0031990" not in reading.case.findings and "HP:0031990" not in reading.case.absent
    assert any("uncertain" in u.reason for u in reading.unused)


def test_stridor_said_as_noisy_breathing_and_negated():
    """Check that lay words are read ("noisy breathing" as stridor) and negated ("no")."""
    assert STRIDOR in case("She has noisy breathing.")["findings"]
    assert STRIDOR in case("She has no noisy breathing and no shortness of breath.")["absent"]


# --- family history -------------------------------------------------------------------------


def test_a_relative_with_the_same_problem_sets_family_history_not_a_finding():
    """Check that "her father has writer's cramp" sets family_history and not the patient's findings."""
    reading = read_note("A 40-year-old woman has neck pain. Her father has writer's cramp.")
    assert reading.case.family_history is True
    assert "HP:0002356" not in reading.case.findings
    assert any("relative" in u.reason and "HP:0002356" in u.what for u in reading.unused)


@pytest.mark.parametrize("text", [
    "No relative has a similar problem.",
    "Nobody in the family has a movement disorder.",
    "There is no family history of dystonia.",
])
def test_no_relative_affected_sets_family_history_false(text):
    """Check that a negated relative or family history gives family_history false."""
    assert case(text).get("family_history") is False


def test_a_relative_who_reports_is_a_witness_not_family_history():
    """Check that "her mother says" keeps the clause about the patient."""
    read = case("A 9-year-old girl: her mother says the left foot turns in by the evening.")
    assert "family_history" not in read
    assert "left-foot" in read["regions"]


# --- laterality -----------------------------------------------------------------------------


@pytest.mark.parametrize("text, regions", [
    ("His left hand cramps when he writes.", ["left-arm"]),
    ("Both feet turn in when she walks.", ["left-foot", "right-foot"]),
    ("Painful cramps in his calves and thighs.", ["left-leg", "right-leg"]),
    ("The right thumb and index finger clamp the pen and the wrist flexes.", ["right-arm"]),
    ("Cramps wake her in one calf or the other.", ["left-leg", "right-leg"]),
    ("Dystonic spasms of the jaw, neck, trunk and all four limbs.",
     ["jaw", "neck", "trunk", "left-arm", "right-arm", "left-leg", "right-leg"]),
])
def test_body_regions_take_their_side(text, regions):
    """Check that a limb takes its side from the words before it, a list, a plural or "one or the other"."""
    assert case(text)["regions"] == regions


def test_a_region_needs_a_word_of_movement_and_a_negated_region_is_not_one():
    """Check that a part named without movement, or "not involved", is not a region."""
    read = case("The right side of the face is never involved. Touching her cheek helps. Her neck aches.")
    assert "regions" not in read
    read = case("His head is pulled to the left; his arms, trunk and legs are unaffected.")
    assert read["regions"] == ["neck"]


def test_a_limb_without_a_side_is_left_for_the_clinician():
    """Check that a limb with no side anywhere, or "the limbs" without how many, is not placed,
    and that the reading says so."""
    reading = read_note("The hand twists into a flexed posture.")
    assert reading.case.regions == ()
    assert any("no side" in u.reason for u in reading.unused)
    reading = read_note("Bouts of painful spasms of the trunk and limbs.")
    assert reading.case.regions == ("trunk",)
    assert any("which limbs" in u.reason for u in reading.unused)


# --- ages, onset, durations, course ---------------------------------------------------------


@pytest.mark.parametrize("text, age, onset, course", [
    ("A 58-year-old woman has had, for three years, a pulling of her head to the right.", 58, 55, "static"),
    ("A 12-year-old boy began at 8 to turn his left foot inward; it has spread since.", 12, 8, "progressive"),
    ("A 60-year-old man has had torticollis to the right since the age of 54.", 60, 54, "static"),
    ("A 19-year-old woman: since yesterday her head has been pulling hard to the left.", 19, 19, "acute"),
    ("A 4-year-old boy began shortly after his second birthday to walk on his toes, both feet turning in.", 4, 2,
     "static"),
    ("A 24-year-old woman has had involuntary twisting movements from infancy; nothing has changed for years.",
     24, 1, "static"),
    ("A 30-year-old man has had painful cramps in both calves for a fortnight, waking him most nights.", 30, 30,
     "episodic"),
])
def test_age_onset_and_course(text, age, onset, course):
    """Check the current age, the age at onset (stated, or the age less the duration) and the course."""
    read = case(text)
    assert read["age"] == age
    assert read["onset_age"] == onset
    assert read.get("course") == course


def test_six_months_old_and_a_relatives_age_is_not_the_patients():
    """Check that ages in months are read in years, and "her 14-year-old son" is not the patient."""
    assert case("A 6-month-old girl has arching of the back.")["age"] == 0.5
    assert case("Her 14-year-old son has dystonia. She is 45 years old.")["age"] == 45


# --- drugs, treatments, results ---------------------------------------------------------------


def test_a_brand_is_read_as_its_ingredient_with_its_start():
    """Check that a brand (Stemetil, Reglan) is read through the drug resolver, with its start."""
    reading = read_note("She was started on Stemetil three days ago; her neck then pulled to the left.")
    (med,) = reading.case.medications
    assert med.name == "prochlorperazine" and med.days_since_start == 3
    fact = next(f for f in reading.facts if f.path == "medications[0]")
    assert "Stemetil" in fact.evidence[0].text and "brand" in fact.evidence[0].how
    reading = read_note("Reglan was given in the emergency department this morning.")
    assert reading.case.medications[0].name == "metoclopramide"
    assert reading.case.medications[0].days_since_start == 0


def test_a_drug_taken_for_years_and_a_dose_raised_are_dated():
    """Check "has taken X for six years", "started nine days ago" and "the dose was raised four days ago"."""
    meds = read_note("She has taken esomeprazole for reflux for six years.").case.medications
    assert meds[0].days_since_start == round(6 * 365.25)
    meds = read_note("Haloperidol was started nine days ago and the dose was raised four days ago.").case.medications
    assert (meds[0].name, meds[0].days_since_start, meds[0].days_since_dose_increase) == ("haloperidol", 9, 4)


def test_a_drug_never_taken_or_an_indication_is_not_a_finding_or_a_drug():
    """Check that a negated drug is not taken, and what a drug was given for is not a finding."""
    reading = read_note("He has never taken haloperidol. He takes citalopram for depression.")
    assert [m.name for m in reading.case.medications] == ["citalopram"]
    assert "HP:0000716" not in reading.case.findings  # depression: the reason for citalopram
    assert "CX:hx-psychiatric-illness" in reading.case.history


def test_no_medication_is_an_empty_list():
    """Check that "takes no regular medication" gives medications: [] (not unknown)."""
    assert case("He takes no regular medication.") == {"medications": []}


def test_treatments_tried_with_their_response():
    """Check botulinum toxin, an oral drug read through the knowledge base's treats_as, and physiotherapy."""
    read = case("Botulinum toxin injections helped well. Trihexyphenidyl did not help. "
                "Six weeks of physiotherapy have helped only partly.")
    assert read["treatment_history"] == [
        {"treatment": "botulinum-toxin", "response": "good"},
        {"treatment": "anticholinergic", "response": "none"},
        {"treatment": "physical-therapy", "response": "partial"},
    ]
    assert "medications" not in read  # a drug tried without benefit is not taken now


@pytest.mark.parametrize("text, loinc, value, unit", [
    ("Serum calcium is 6.9 mg/dL.", "17861-6", 6.9, "mg/dL"),
    ("Serum calcium is 2.30 mmol/L.", "2000-8", 2.30, "mmol/L"),
    ("The creatine kinase is 14,200 U/L.", "2157-6", 14200, "U/L"),
    ("Magnesium 0.38 mmol/L.", "2601-3", 0.38, "mmol/L"),
    ("24-hour urine copper is 310 ug.", "5633-3", 310, "ug/(24.h)"),
    ("Albumin of 41 g/L.", "1751-7", 41, "g/L"),
])
def test_laboratory_results_with_their_units(text, loinc, value, unit):
    """Check that a result is read with its unit as written, and its LOINC code fits the unit."""
    (lab,) = read_note(text).case.labs
    assert (lab.loinc, lab.value, lab.unit) == (loinc, value, unit)
    assert lab.reading is not None  # read by the laboratory resolver, in the knowledge base's unit


def test_several_results_in_one_sentence_and_normal_ones():
    """Check a list of results, and tests named "normal" without a value."""
    labs = read_note("Serum potassium is 2.2 mmol/L, sodium 137 mmol/L and magnesium 2.0 mg/dL. "
                     "Calcium and creatine kinase are normal.").case.labs
    read = {lab.reading.analyte: (lab.value, lab.interpretation) for lab in labs}
    assert read == {"potassium": (2.2, None), "sodium": (137, None), "magnesium": (2.0, None),
                    "calcium": (None, "normal"), "creatine-kinase": (None, "normal")}


def test_an_impossible_value_is_left_out_and_said():
    """Check that a value impossible in its unit is not put in the case, and is listed as not used."""
    reading = read_note("Serum calcium is 2.3 mg/dL.")
    assert reading.case.labs == ()
    assert any("labs" in u.what for u in reading.unused)


def test_temperature_and_pulse_give_fever_and_tachycardia():
    """Check that a temperature of 39.4 C is a fever, 37.0 C none, and a pulse of 118 a tachycardia."""
    assert {"HP:0001945", "HP:0001649"} <= set(case("Temperature 39.4 C, pulse 118.")["findings"])
    assert "HP:0001945" in case("Her temperature is 37.0 C.")["absent"]


# --- imaging, gene tests, history, sections -----------------------------------------------------


def test_brain_mri_normal_abnormal_or_not_done():
    """Check a normal MRI, an MRI with findings (read into imaging.findings only) and none done."""
    assert case("A brain MRI is normal.")["imaging"] == {"mri_brain": "normal"}
    read = case("MRI shows abnormal signal in both putamina and thalami.")
    assert read["imaging"] == {"mri_brain": "abnormal", "findings": ["HP:0012751", "HP:0012696"]}
    assert case("No brain imaging, blood test or gene test has been done.")["imaging"] == {"mri_brain": "not_done"}


def test_gene_tests_positive_and_negative():
    """Check gene symbols read with their result, and a gene to test only later not read."""
    read = case("Gene tests for TOR1A and THAP1 were negative. Two pathogenic ATP7B variants have been found.")
    assert read["genetics"] == {"tested": ["TOR1A", "THAP1", "ATP7B"], "positive": ["ATP7B"]}
    assert "genetics" not in case("We will test for GCH1.")


def test_a_family_history_section_and_a_plan_section():
    """Check that a "Family history:" section is about relatives and a "Plan:" section is not done yet."""
    reading = read_note("History: his head turns to the right.\nFamily history: tremor in his mother.\n"
                        "Plan: start levodopa; MRI brain.\n")
    assert TREMOR not in reading.case.findings
    assert reading.case.medications == () and reading.case.imaging is None
    assert [s[0] for s in reading.sections] == ["complaint", "family", "plan"]


# --- provenance, the native case, empty and bad notes -----------------------------------------------


def test_every_fact_points_at_the_words_it_came_from():
    """Check that each fact's evidence is the text at its offsets, and says how it was read."""
    text = ("A 55-year-old man has had, for two years, an involuntary turning of his chin to the left. "
            "Lightly touching his right cheek brings his head back. There is no tremor.")
    reading = read_note(text)
    assert reading.facts
    for fact in reading.facts:
        for e in fact.evidence:
            assert text[e.start:e.end] == e.text and e.how
    absent = next(f for f in reading.facts if f.value == TREMOR)
    assert absent.path.startswith("absent") and absent.evidence[0].cue == "no"
    assert {f.path for f in reading.facts} >= {"age", "sex", "onset_age", "regions[0]", "absent[0]"}


def test_the_case_is_an_ordinary_native_case():
    """Check that the case written out reads back through the case reader to the same case."""
    reading = read_note("A 61-year-old man started atorvastatin five weeks ago; painful cramps in both calves "
                        "ease when he stretches. Sodium is 139 mmol/L.")
    again = read_case_reading(reading.case_json())
    assert again.case == reading.case
    assert reading.to_reading().format == "note"


@pytest.mark.parametrize("text", ["", "   \n", "Thank you for your letter. I am on leave next week.", "Lunch at noon?"])
def test_a_note_with_nothing_clinical_gives_an_empty_case_and_says_so(text):
    """Check that a note with nothing clinical gives an empty case, no invented finding, and a message."""
    reading = read_note(text)
    assert reading.case_json() == {}
    assert reading.is_empty
    assert reading.message.startswith("Nothing clinical was recognised")


@pytest.mark.parametrize("text, message", [
    (42, "is not text"),
    ("x" * (MAX_NOTE_CHARS + 1), "at most"),
    ("tremor\x00", "control character"),
])
def test_a_bad_note_is_refused_naming_the_problem(text, message):
    """Check that a note that is not text, too long, or with control characters is a CaseError."""
    with pytest.raises(CaseError, match=message):
        read_note(text)


def test_without_the_note_extra_the_reader_says_what_to_install():
    """Check that without spaCy the reader raises NoteReaderUnavailable naming the install
    command, and the command line prints it (exit 2) instead of a traceback."""
    import subprocess
    import sys

    code = ("import sys; sys.modules['spacy'] = None\n"
            "from contraxis.io.note import NoteReaderUnavailable, read_note\n"
            "try:\n    read_note('There is no tremor.')\n"
            "except NoteReaderUnavailable as error:\n    print(error)\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert "pip install 'contraxis[note]'" in result.stdout, result.stderr
    code = ("import sys; sys.modules['spacy'] = None\n"
            "from contraxis.cli import main\nmain(['note', '-'])\n")
    result = subprocess.run([sys.executable, "-c", code], input="There is no tremor.", capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 2 and "contraxis[note]" in result.stderr and "Traceback" not in result.stderr
