"""Tests of drug names and RxNorm codes read as the knowledge base's ingredients
(contraxis.terminology.drugs), and common checks over every row of the drug table."""

from __future__ import annotations

import csv
import dataclasses
import gzip
import io
import json
import zipfile
from pathlib import Path

import pytest
import yaml

from contraxis.errors import KnowledgeBaseError
from contraxis.terminology.drugs import (
    DATA_FILE,
    KB_DRUGS_FILE,
    MAX_NAME,
    SOURCES_FILE,
    DrugReading,
    known_rxnorm,
    load_drug_table,
    resolve_drug,
    suggest_drugs,
)

ROOT = Path(__file__).resolve().parents[2]
SHARED_DATA = ROOT.parent / "shared" / "data"
TABLE = load_drug_table()
SOURCES = {row["id"] for row in yaml.safe_load(SOURCES_FILE.read_text(encoding="utf-8"))}


def _kb_names() -> list[str]:
    data = yaml.safe_load(KB_DRUGS_FILE.read_text(encoding="utf-8"))
    names = {m for cls in data["classes"] for m in cls["members"]} | set(data["treats_as"])
    return sorted(names)


# ----------------------------------------------------------------------------------------------
# Names as clinicians and EHRs write them
# ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name, ingredients, how",
    [
        ("Reglan", ("metoclopramide",), "brand"),
        ("Maxolon", ("metoclopramide",), "brand"),
        ("Compazine", ("prochlorperazine",), "brand"),
        ("Zofran", ("ondansetron",), "brand"),
        ("Phenergan", ("promethazine",), "brand"),
        ("Haldol", ("haloperidol",), "brand"),
        ("Lasix", ("furosemide",), "brand"),
        ("HCTZ", ("hydrochlorothiazide",), "brand"),
        ("Lipitor", ("atorvastatin",), "brand"),
        ("Stemetil", ("prochlorperazine",), "brand"),
        ("Buccastem", ("prochlorperazine",), "brand"),
        ("Xomolix", ("droperidol",), "brand"),
        ("Neoral", ("ciclosporin",), "brand"),
        ("Torem", ("torasemide",), "brand"),
        ("acetaminophen", ("paracetamol",), "brand"),
        ("torsemide", ("torasemide",), "misspelling"),
        ("cyclosporine", ("ciclosporin",), "misspelling"),
        ("metoclopramida", ("metoclopramide",), "misspelling"),
        ("metoclopramide hydrochloride", ("metoclopramide",), "salt"),
        ("Metoclopramide HCl", ("metoclopramide",), "salt"),
        ("prochlorperazine maleate", ("prochlorperazine",), "salt"),
        ("haloperidol decanoate", ("haloperidol",), "salt"),
        ("naproxen sodium", ("naproxen",), "salt"),
        ("lithium carbonate", ("lithium",), "salt"),
        ("metoclopramid", ("metoclopramide",), "misspelling"),
        ("haloperidal", ("haloperidol",), "misspelling"),
        ("chlorpromazin", ("chlorpromazine",), "misspelling"),
        ("carbidopa and levodopa", ("carbidopa", "levodopa"), "combination"),
        ("levodopa/carbidopa", ("carbidopa", "levodopa"), "combination"),
        ("levodopa-carbidopa", ("carbidopa", "levodopa"), "combination"),
        ("co-careldopa", ("carbidopa", "levodopa"), "combination"),
        ("Sinemet", ("carbidopa", "levodopa"), "combination"),
        ("Madopar", ("benserazide", "levodopa"), "combination"),
        ("co-codamol", ("codeine", "paracetamol"), "combination"),
        ("Triptafen", ("amitriptyline", "perphenazine"), "combination"),
        ("24 HR Metformin hydrochloride 500 MG Extended Release Oral Tablet", ("metformin",), "display"),
        ("carbidopa 25 MG / levodopa 100 MG Oral Tablet", ("carbidopa", "levodopa"), "display"),
        ("Stemetil 5mg tablets", ("prochlorperazine",), "display"),
        ("metoclopramide", ("metoclopramide",), "generic"),
        ("  Haloperidol ", ("haloperidol",), "generic"),
    ],
)
def test_names_resolve(name, ingredients, how):
    """Check that generic, brand, salt, misspelt, combination and display names give the
    ingredients the knowledge base reasons about, and say how they were read."""
    reading = resolve_drug(name)
    assert (reading.ingredients, reading.how) == (ingredients, how)
    assert reading.given == name.strip()
    assert (reading.note == "") == (how == "generic")
    if how != "generic":
        for ingredient in ingredients:
            assert ingredient in reading.note


def test_brand_note_says_what_it_was_read_as():
    """Check that a brand's note names the brand and the ingredient in one sentence."""
    assert resolve_drug("Stemetil").note == "brand name 'Stemetil' read as prochlorperazine"
    assert "'Reglan' read as metoclopramide" in resolve_drug("Reglan").note


def test_stemetil_comes_from_the_table_not_the_library():
    """Check that a brand the library lacks is read through the reviewed table."""
    assert "stemetil" in {row.name.casefold() for row in TABLE.names}
    from drug_named_entity_recognition import drugs_finder

    assert "stemetil" not in drugs_finder.drug_variant_to_canonical


def test_display_gives_only_the_drug():
    """Check that dose words, units, numbers and dose forms never become drugs."""
    reading = resolve_drug("24 HR Metformin hydrochloride 500 MG Extended Release Oral Tablet")
    assert reading.ingredients == ("metformin",)
    assert "not read" not in reading.note


@pytest.mark.parametrize(
    "text", ["24 HR", "MG", "ML", "HR", "Oral Tablet", "Extended Release", "500 MG", "mg/ml", "tablets"]
)
def test_dose_words_are_no_drug(text):
    """Check that a dose word, unit or form alone is unresolved, not a drug."""
    assert resolve_drug(text).how == "unresolved"


def test_unknown_name_is_unresolved_and_said():
    """Check that a name Contraxis cannot read gives no ingredient and a note saying so."""
    reading = resolve_drug("zorblatine")
    assert reading == DrugReading(
        "zorblatine",
        (),
        "unresolved",
        "'zorblatine' is not a drug name or code Contraxis knows: not counted as a cause",
    )
    assert not reading.resolved


def test_unknown_part_of_a_description_is_named():
    """Check that a description read in part names the words it did not read."""
    reading = resolve_drug("zorblatine and metoclopramide")
    assert reading.ingredients == ("metoclopramide",)
    assert "not read: 'zorblatine'" in reading.note


@pytest.mark.parametrize("name", ["promazine", "chlorprothixene", "domperidone", "clozapine"])
def test_real_drugs_are_never_corrected_into_others(name):
    """Check that a real drug the knowledge base does not name is read as itself, never
    'corrected' into a near name the knowledge base uses."""
    assert resolve_drug(name).ingredients == (name,)


@pytest.mark.parametrize("name", ["lithum", "halopx"])
def test_short_or_distant_words_are_not_corrected(name):
    """Check that spelling correction needs 6 or more letters and a close match."""
    reading = resolve_drug(name)
    assert reading.how in {"misspelling", "unresolved"}
    if name == "halopx":
        assert reading.how == "unresolved"


def test_long_names_are_cut_and_said():
    """Check that names over 200 characters are cut before matching and the note says so."""
    reading = resolve_drug("metoclopramide " + "y" * 500)
    assert reading.ingredients == ("metoclopramide",)
    assert len(reading.given) <= MAX_NAME
    assert f"first {MAX_NAME} characters" in reading.note
    assert len(reading.note) < 400
    long_unknown = resolve_drug("x" * 10_000)
    assert long_unknown.how == "unresolved" and "first 200 characters" in long_unknown.note


@pytest.mark.parametrize("name", _kb_names())
def test_every_knowledge_base_drug_is_generic(name):
    """Check that every drug the knowledge base names reads as itself, as a generic name with
    an empty note, so that clean cases report nothing."""
    assert resolve_drug(name) == DrugReading(name, (name,), "generic", "")


def test_no_name_and_no_code_is_a_programming_error():
    """Check that a call with neither a name nor a code raises ValueError."""
    for name, code in [(None, None), ("", None), ("   ", ""), (None, "  ")]:
        with pytest.raises(ValueError, match="name or an RxNorm code"):
            resolve_drug(name, rxnorm=code)


def test_readings_are_frozen_and_cached():
    """Check that a reading is immutable and the same input gives the same object."""
    reading = resolve_drug("Reglan")
    assert resolve_drug("Reglan") is reading
    with pytest.raises(dataclasses.FrozenInstanceError):
        reading.how = "generic"  # type: ignore[misc]


# ----------------------------------------------------------------------------------------------
# RxNorm codes
# ----------------------------------------------------------------------------------------------


def test_rxnorm_clinical_drug_without_display():
    """Check that the clinical drug 311666 alone is read as metoclopramide."""
    reading = resolve_drug(rxnorm="311666")
    assert reading == DrugReading(
        "RxNorm 311666",
        ("metoclopramide",),
        "rxnorm",
        "RxNorm 311666 (metoclopramide 10 MG Oral Tablet) read as metoclopramide",
    )


def test_rxnorm_clinical_drug_with_display():
    """Check that a known code with its display is read from the code."""
    reading = resolve_drug("metoclopramide 10 MG Oral Tablet", rxnorm="311666")
    assert (reading.ingredients, reading.how, reading.given) == (
        ("metoclopramide",),
        "rxnorm",
        "metoclopramide 10 MG Oral Tablet",
    )


def test_known_code_wins_over_the_name():
    """Check that a known code wins over a name that says otherwise, and the note says so."""
    reading = resolve_drug("haloperidol", rxnorm="311666")
    assert reading.ingredients == ("metoclopramide",)
    assert "'haloperidol' (read as haloperidol) was set aside" in reading.note


def test_unknown_code_falls_back_to_the_display():
    """Check that an unknown code falls back to the display, and the note says the code was
    not known."""
    reading = resolve_drug("24 HR Metformin hydrochloride 500 MG Extended Release Oral Tablet", rxnorm="99999991")
    assert reading.ingredients == ("metformin",)
    assert reading.how == "display"
    assert reading.note.startswith("RxNorm code '99999991' is not one Contraxis knows")
    generic = resolve_drug("metoclopramide", rxnorm="99999991")
    assert generic.how != "generic" and generic.note and generic.ingredients == ("metoclopramide",)


def test_unknown_code_alone_is_unresolved():
    """Check that an unknown code with no name is unresolved and said."""
    reading = resolve_drug(rxnorm="99999991")
    assert (reading.ingredients, reading.how, reading.given) == ((), "unresolved", "RxNorm 99999991")
    assert "not counted as a cause" in reading.note
    assert "not an RxNorm code" in resolve_drug(rxnorm="abc").note


@pytest.mark.parametrize(
    "code, ingredients",
    [
        ("6915", ("metoclopramide",)),  # ingredient
        ("311666", ("metoclopramide",)),  # clinical drug
        ("5093", ("haloperidol",)),
        ("310672", ("haloperidol",)),
        ("198365", ("prochlorperazine",)),
        ("992447", ("promethazine",)),
        ("991194", ("chlorpromazine",)),
        ("26225", ("ondansetron",)),
        ("312087", ("ondansetron",)),
        ("724606", ("carbidopa", "levodopa")),  # branded drug [Sinemet]
        ("476399", ("carbidopa", "levodopa")),
        ("310798", ("hydrochlorothiazide",)),
    ],
)
def test_codes_of_the_rules_drugs(code, ingredients):
    """Check that the codes of the drugs the rules use are in the table with their ingredients."""
    assert known_rxnorm()[code] == ingredients
    assert resolve_drug(rxnorm=code).ingredients == ingredients


def test_known_rxnorm_is_the_table_and_read_only():
    """Check that known_rxnorm() gives every code of the table and cannot be changed."""
    codes = known_rxnorm()
    assert set(codes) == {row.code for row in TABLE.rxnorm}
    with pytest.raises(TypeError):
        codes["1"] = ("x",)  # type: ignore[index]


# ----------------------------------------------------------------------------------------------
# Common checks over every row of the table
# ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("row", TABLE.rxnorm, ids=lambda r: r.code)
def test_every_code_has_a_source_and_reads_as_its_display(row):
    """Check that every RxNorm code cites a source and evidence, and that its display, read
    by the resolver, gives the row's ingredients (so a mistyped ingredient fails)."""
    assert row.source in SOURCES
    assert row.code in row.evidence or row.display in row.evidence
    assert resolve_drug(row.display).ingredients == tuple(sorted(row.ingredients))


@pytest.mark.parametrize("row", TABLE.names, ids=lambda r: r.name)
def test_every_name_has_a_source(row):
    """Check that every brand or other name cites a source and names its evidence."""
    assert row.source in SOURCES
    assert len(row.evidence) > 10
    assert resolve_drug(row.name).ingredients == tuple(sorted(row.ingredients))


def test_every_ingredient_is_a_lower_case_name_read_as_itself():
    """Check that every ingredient the table maps to is a lower-case generic name that the
    resolver reads as itself (the knowledge base's spelling, not a brand or a salt)."""
    ingredients = {i for row in [*TABLE.names, *TABLE.rxnorm] for i in row.ingredients}
    for ingredient in sorted(ingredients):
        assert ingredient == ingredient.lower().strip()
        assert resolve_drug(ingredient).ingredients == (ingredient,), ingredient


def _shared(path: str) -> Path:
    file = SHARED_DATA / path
    if not file.exists():
        pytest.fail(f"shared reference data is missing: {file} (shared/ must sit beside the project)")
    return file


def test_codes_agree_with_the_omop_sample():
    """Check that every table code that the shared OMOP sample holds has the same name there
    (the sample's CONCEPT table is an RxNorm extract)."""
    with zipfile.ZipFile(_shared("omop-synthea27nj/Synthea27Nj_5.4.zip")) as archive:
        name = next(n for n in archive.namelist() if n.endswith("CONCEPT.csv") and "__MACOSX" not in n)
        rows = csv.DictReader(io.TextIOWrapper(archive.open(name), encoding="utf-8"))
        omop = {r["concept_code"]: r["concept_name"] for r in rows if r["vocabulary_id"] == "RxNorm"}
    table = {row.code: row for row in TABLE.rxnorm}
    shared = sorted(set(table) & set(omop))
    assert len(shared) >= 30
    for code in shared:
        assert table[code].display.casefold() == omop[code].casefold(), code


def test_codes_agree_with_the_fhir_sample():
    """Check that every table code used in the shared FHIR bulk sample has the same display."""
    seen: dict[str, str] = {}
    with gzip.open(_shared("bulk-fhir-10/MedicationRequest.000.ndjson.gz"), "rt", encoding="utf-8") as lines:
        for line in lines:
            for coding in json.loads(line).get("medicationCodeableConcept", {}).get("coding", []):
                seen[coding["code"]] = coding.get("display", "")
    table = {row.code: row for row in TABLE.rxnorm}
    shared = sorted(set(table) & set(seen))
    assert shared
    for code in shared:
        assert table[code].display.casefold() == seen[code].casefold(), code


# ----------------------------------------------------------------------------------------------
# A bad table stops the load
# ----------------------------------------------------------------------------------------------


def _corrupt(tmp_path: Path, old: str, new: str) -> Path:
    text = DATA_FILE.read_text(encoding="utf-8")
    assert old in text
    file = tmp_path / "drugs.yaml"
    file.write_text(text.replace(old, new, 1), encoding="utf-8")
    return file


ROW_311666 = next(i for i, row in enumerate(TABLE.rxnorm) if row.code == "311666")
ROW_312087 = next(i for i, row in enumerate(TABLE.rxnorm) if row.code == "312087")


@pytest.mark.parametrize(
    "old, new, where",
    [
        ('{code: "311666"', '{code: "31x666"', f"drugs.yaml: rxnorm[{ROW_311666}].code"),
        (
            "ingredients: [prochlorperazine], kind: brand, country: UK",
            "ingredients: [Prochlorperazine], kind: brand, country: UK",
            "drugs.yaml: names[0].ingredients",
        ),
        (
            "kind: brand, country: UK, source: nhs-dmd",
            "kind: trade, country: UK, source: nhs-dmd",
            "drugs.yaml: names[0].kind",
        ),
        ("source: nhs-dmd,", "source: nobody-2020,", "drugs.yaml: names[0].source"),
        ('{code: "312087"', '{code: "311666"', f"drugs.yaml: rxnorm[{max(ROW_311666, ROW_312087)}].code"),
    ],
)
def test_a_bad_row_stops_the_load_naming_file_row_and_field(tmp_path, old, new, where):
    """Check that a corrupted copy of the table fails the load, naming file, row and field."""
    with pytest.raises(KnowledgeBaseError) as error:
        load_drug_table(_corrupt(tmp_path, old, new))
    assert where in str(error.value)


def test_a_missing_or_broken_file_stops_the_load(tmp_path):
    """Check that a missing file or bad YAML is a knowledge-base error, not a traceback."""
    with pytest.raises(KnowledgeBaseError, match="file is missing"):
        load_drug_table(tmp_path / "nothing.yaml")
    broken = tmp_path / "drugs.yaml"
    broken.write_text("names: [\n", encoding="utf-8")
    with pytest.raises(KnowledgeBaseError, match="not valid YAML"):
        load_drug_table(broken)


# ----------------------------------------------------------------------------------------------
# Suggestions for the web form
# ----------------------------------------------------------------------------------------------


def test_suggestions_generic_first_then_brands():
    """Check that suggestions list generic names before brands, each with its ingredient."""
    got = suggest_drugs("Meto")
    names = [s["name"] for s in got]
    assert names[0] == "metoclopramide"
    generic_end = max(i for i, s in enumerate(got) if s["name"] == s["name"].lower())
    assert all(s["name"] != s["name"].lower() for s in got[generic_end + 1 :])
    assert {"name": "Reglan", "ingredient": "metoclopramide"} in suggest_drugs("regl")
    assert {"name": "Stemetil", "ingredient": "prochlorperazine"} in suggest_drugs("STEM")
    assert {"name": "Sinemet", "ingredient": "carbidopa + levodopa"} in suggest_drugs("sinem")


def test_suggestions_are_bounded():
    """Check that suggestions respect the limit, and an empty or huge prefix costs nothing."""
    assert len(suggest_drugs("p", limit=3)) == 3
    assert len(suggest_drugs("p", limit=1000)) == 50
    assert len(suggest_drugs("a")) == 10
    assert suggest_drugs("") == [] and suggest_drugs("   ") == []
    assert suggest_drugs("z" * 100_000) == []
    for suggestion in suggest_drugs("halo", limit=50):
        assert suggestion["name"].casefold().startswith("halo")
        assert set(suggestion) == {"name", "ingredient"}
