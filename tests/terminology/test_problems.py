"""Tests of problem-list codes read as findings, regions, history and diagnoses
(contraxis.terminology.problems), and common checks over every code of problems.yaml."""

from __future__ import annotations

import csv
import gzip
import io
import zipfile
from pathlib import Path

import pytest
import yaml

from contraxis.codes import HpoOntology, load_code_tables
from contraxis.errors import KnowledgeBaseError
from contraxis.terminology import hpo as hpo_module
from contraxis.terminology.problems import (
    PROBLEM_FILE,
    ProblemReading,
    load_problem_table,
    problem_codes,
    problem_systems,
    read_problem,
)
from contraxis.vocabulary import REGIONS

ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"
SNOMED = "http://snomed.info/sct"
ICD11 = "http://id.who.int/icd/release/11/mms"
SHARED_DATA = Path(__file__).resolve().parents[3] / "shared" / "data"

TABLE = load_problem_table()
ROWS = TABLE.rows()


def rows_of(system: str) -> list[tuple[str, object, object]]:
    return [pytest.param(entry, row, id=f"{row.code}") for entry, row in ROWS if row.system == system]


@pytest.fixture(scope="module")
def ontology() -> HpoOntology:
    return HpoOntology.load()


def is_dystonia(ontology: HpoOntology, term: str) -> bool:
    found = ontology.term(term)
    return term == "HP:0001332" or "HP:0001332" in {p.id for p in found.all_parents}


# --- what the rules need ----------------------------------------------------------------


@pytest.mark.parametrize("system", [ICD10CM, "ICD-10-CM", "icd10cm", "urn:oid:2.16.840.1.113883.6.90"])
@pytest.mark.parametrize("code", ["G24.3", "g24.3", "G243"])
def test_spasmodic_torticollis_is_cervical_dystonia(system: str, code: str, ontology: HpoOntology) -> None:
    """Check that ICD-10-CM G24.3 gives a dystonia of the neck, under any spelling."""
    reading = read_problem(system, code, "Spasmodic torticollis")
    assert reading == ProblemReading(
        system="ICD-10-CM", code="G24.3", findings=("HP:0000473",), regions=("neck",), history=(),
        diagnosis="cervical-dystonia", how="table", note="", label="cervical dystonia (spasmodic torticollis)",
    )
    assert is_dystonia(ontology, reading.findings[0])


@pytest.mark.parametrize("system", [SNOMED, "SNOMED CT", "sct", "urn:oid:2.16.840.1.113883.6.96"])
def test_snomed_dystonia(system: str) -> None:
    """Check that SNOMED CT 15802004 Dystonia gives the finding Dystonia."""
    reading = read_problem(system, "15802004", "Dystonia")
    assert reading is not None
    assert (reading.findings, reading.regions, reading.how, reading.note) == (("HP:0001332",), (), "table", "")


@pytest.mark.parametrize("system, code", [
    ("ICD-10-CM", "G20"), ("ICD-10-CM", "G20.A1"), ("ICD-10-CM", "G20.B1"),
    ("SNOMED CT", "49049000"), ("ICD-11", "8A00.0Z"),
])
def test_parkinson_disease(system: str, code: str) -> None:
    """Check that Parkinson disease gives parkinsonism and names the condition."""
    reading = read_problem(system, code)
    assert reading is not None
    assert (reading.findings, reading.diagnosis) == (("HP:0001300",), "parkinson-disease")


@pytest.mark.parametrize("code, diagnosis", [("G20.A2", "parkinson-disease-fluctuating"), ("G20.C", None)])
def test_parkinson_subcodes(code: str, diagnosis: str | None) -> None:
    """Check that fluctuations are kept, and that parkinsonism unspecified (G20.C) is not Parkinson disease."""
    reading = read_problem("ICD-10-CM", code)
    assert reading is not None and reading.findings == ("HP:0001300",)
    assert reading.diagnosis == diagnosis


@pytest.mark.parametrize("system, code, history, how", [
    ("ICD-10-CM", "I63.9", "CX:hx-ischemic-stroke", "icd10-prefix"),
    ("ICD-10-CM", "I63.512", "CX:hx-ischemic-stroke", "icd10-prefix"),
    ("ICD-10-CM", "I69.351", "CX:hx-ischemic-stroke", "icd10-prefix"),
    ("ICD-10-CM", "I61.9", "CX:hx-hemorrhagic-stroke", "icd10-prefix"),
    ("SNOMED CT", "422504002", "CX:hx-ischemic-stroke", "table"),
    ("SNOMED CT", "274100004", "CX:hx-hemorrhagic-stroke", "table"),
    ("ICD-11", "8B11", "CX:hx-ischemic-stroke", "table"),
    ("ICD-10-CM", "S06.0X1A", "CX:hx-head-trauma", "icd10-prefix"),
    ("SNOMED CT", "127295002", "CX:hx-head-trauma", "table"),
    ("ICD-10-CM", "B00.4", "CX:hx-encephalitis", "table"),
    ("ICD-10-CM", "K70.30", "CX:hx-liver-disease", "icd10-prefix"),
])
def test_history(system: str, code: str, history: str, how: str) -> None:
    """Check that strokes, head injuries, encephalitis and liver disease give history, not findings."""
    reading = read_problem(system, code)
    assert reading is not None
    assert (reading.history, reading.findings, reading.how) == ((history,), (), how)


def test_prefix_reading_says_so() -> None:
    """Check that a code read through its parent names the parent in its note."""
    reading = read_problem(ICD10CM, "I63.9", "Cerebral infarction, unspecified")
    assert reading is not None
    assert reading.note.startswith("ICD-10-CM I63.9 is not in the problem table; read as its parent I63")


@pytest.mark.parametrize("code", ["G24.011", "S06.ZZZA", "G24.19"])
def test_prefix_reading_needs_a_real_code_and_a_parent_marked_children(code: str) -> None:
    """Check that no parent is used for a code the CMS table lacks or below a row without `children`."""
    assert read_problem("ICD-10-CM", code) is None


def test_acute_dystonic_reaction_names_the_condition() -> None:
    """Check that G24.02 names the acute dystonic reaction, while G24.01 (dyskinesia) is no dystonia."""
    acute = read_problem("ICD-10-CM", "G24.02")
    assert acute is not None and acute.diagnosis == "acute-dystonic-reaction"
    dyskinesia = read_problem("ICD-10-CM", "G24.01")
    assert dyskinesia is not None and dyskinesia.findings == ("HP:0100660",)


@pytest.mark.parametrize("display, expected", [
    ("Spasmodic dysphonia", "laryngeal-dystonia"),
    ("Adductor spasmodic dysphonia", "laryngeal-dystonia"),
    ("Other diseases of vocal cords", None),
    (None, None),
])
def test_j38_3_is_spasmodic_dysphonia_only_when_it_says_so(display: str | None, expected: str | None) -> None:
    """Check that J38.3 reads as laryngeal dystonia only when its text names spasmodic dysphonia."""
    reading = read_problem("ICD-10-CM", "J38.3", display)
    assert (reading.diagnosis if reading else None) == expected
    if reading:
        assert reading.regions == ("larynx",) and "text says" in reading.note


def test_writers_cramp() -> None:
    """Check that G25.89 with writer's cramp in its text is a task-specific dystonia."""
    reading = read_problem("ICD-10-CM", "G25.89", "Writer's cramp")
    assert reading is not None
    assert (reading.findings, reading.diagnosis) == (("HP:0002356",), "task-specific-dystonia")
    assert read_problem("ICD-10-CM", "G25.89", "Other specified movement disorder") is None


@pytest.mark.parametrize("system, code, finding", [
    ("ICD-10-CM", "E87.1", "HP:0002902"), ("ICD-10-CM", "E83.51", "HP:0002901"),
    ("ICD-10-CM", "E83.42", "HP:0002917"), ("ICD-10-CM", "E87.6", "HP:0002900"),
    ("ICD-10-CM", "R29.0", "HP:0001281"), ("ICD-10-CM", "R25.2", "HP:0003394"),
    ("ICD-10-CM", "R25.3", "HP:0002380"), ("ICD-10-CM", "G25.0", "HP:0002345"),
    ("ICD-10-CM", "E20.812", "HP:0000829"), ("SNOMED CT", "89627008", "HP:0002902"),
])
def test_metabolic_and_other_findings(system: str, code: str, finding: str) -> None:
    """Check that electrolyte disorders, tetany, cramps, fasciculations and tremor give their HPO term."""
    reading = read_problem(system, code)
    assert reading is not None and finding in reading.findings


def test_hemifacial_spasm_side() -> None:
    """Check that a hemifacial spasm coded with its side is one-sided, and unspecified is not."""
    right = read_problem("ICD-10-CM", "G51.31")
    unspecified = read_problem("ICD-10-CM", "G51.39")
    assert right is not None and unspecified is not None
    assert "CX:unilateral" in right.findings and "CX:unilateral" not in unspecified.findings
    assert right.diagnosis == unspecified.diagnosis == "hemifacial-spasm"


def test_snomed_through_hpo_cross_reference() -> None:
    """Check that a SNOMED CT concept HPO cross-references is read as that term, and says so."""
    reading = read_problem(SNOMED, "425492002", "Generalized dystonia")
    assert reading is not None
    assert (reading.findings, reading.how, reading.diagnosis) == (("HP:0007325",), "hpo-xref", None)
    assert "cross-references" in reading.note and "HP:0007325 (Generalized dystonia)" in reading.note


def test_icd11_cluster_is_read_by_its_stem_code() -> None:
    """Check that a postcoordinated ICD-11 cluster is read by its stem, naming what is not read."""
    reading = read_problem(ICD11, "8A02.00&XK9K")
    assert reading is not None
    assert (reading.code, reading.diagnosis) == ("8A02.00", "blepharospasm")
    assert "XK9K not read" in reading.note


def test_known_code_that_gives_nothing() -> None:
    """Check that tetanus is known but empty, and its note says what to do."""
    reading = read_problem("ICD-10-CM", "A35")
    assert reading is not None and reading.is_empty
    assert "trismus" in reading.note


@pytest.mark.parametrize("system, code, display", [
    (ICD10CM, "E11.9", "Type 2 diabetes mellitus without complications"),
    (SNOMED, "840539006", "COVID-19"),
    (SNOMED, "15802005", None),  # wrong check digit
    (ICD11, "5A11", None),
    (ICD11, "XK9K", None),
    ("http://loinc.org", "2951-2", None),
    ("http://hl7.org/fhir/sid/icd-10", "G24.3", None),  # WHO ICD-10 is another system
    (ICD10CM, "not a code", None),
    (ICD10CM, "", None),
    (ICD10CM, None, None),
])
def test_unknown_codes_give_none(system: str, code: str, display: str | None) -> None:
    """Check that a code nothing is known for, or a system not read, gives None."""
    assert read_problem(system, code, display) is None  # type: ignore[arg-type]


def test_systems_and_codes_for_prefetch() -> None:
    """Check the system URIs and the code lists offered for prefetch filters."""
    systems = problem_systems()
    assert systems[ICD10CM] == "ICD-10-CM" and systems[SNOMED] == "SNOMED CT"
    assert systems[ICD11] == systems["http://id.who.int/icd11/mms"] == "ICD-11"
    assert {"G24.3", "G20", "E83.01"} <= set(problem_codes(ICD10CM))
    assert {"15802004", "49049000", "88518009"} <= set(problem_codes("SNOMED CT"))
    assert "5C64.00" in problem_codes(ICD11)
    assert problem_codes("http://loinc.org") == ()


# --- every code of the table ------------------------------------------------------------


@pytest.mark.parametrize("entry, row", rows_of("ICD-10-CM"))
def test_icd10cm_codes_exist_with_their_title(entry: object, row: object) -> None:
    """Check that every ICD-10-CM code is in the CMS table, with its title; `children` only on categories."""
    found = load_code_tables().icd10cm(row.code)
    assert found is not None, f"{row.code} is not an ICD-10-CM code"
    assert (found.code, found.display) == (row.code, row.title)
    if row.children:
        assert found.leaf is False, f"{row.code} has no subdivisions: `children: true` means nothing"


@pytest.mark.parametrize("entry, row", rows_of("ICD-11"))
def test_icd11_codes_exist_with_their_title(entry: object, row: object) -> None:
    """Check that every ICD-11 code is in the WHO MMS table, with its title."""
    found = load_code_tables().icd11(row.code)
    assert found is not None, f"{row.code} is not an ICD-11 MMS code"
    assert found.display == row.title and not found.extension


def mondo_sctid() -> dict[str, tuple[str, set[str]]]:
    path = SHARED_DATA / "mondo" / "mondo_exactmatch_sctid.sssom.tsv.gz"
    if not path.is_file():
        pytest.fail(f"the MONDO mappings that verify SNOMED CT ids are missing: {path}")
    out: dict[str, tuple[str, set[str]]] = {}
    with gzip.open(path, "rt", encoding="utf-8") as f:
        lines = [line for line in f if not line.startswith("#")]
    for row in csv.DictReader(lines, delimiter="\t"):
        label, ids = out.setdefault(row["subject_id"], (row["subject_label"], set()))
        ids.add(row["object_id"].removeprefix("SCTID:"))
    return out


def omop_concepts() -> dict[str, dict[str, str]]:
    path = SHARED_DATA / "omop-synthea27nj" / "Synthea27Nj_5.4.zip"
    if not path.is_file():
        pytest.fail(f"the OMOP sample that verifies SNOMED CT ids is missing: {path}")
    with zipfile.ZipFile(path) as archive:
        text = archive.read("CONCEPT.csv").decode("utf-8")
    return {row["concept_id"]: row for row in csv.DictReader(io.StringIO(text))}


@pytest.fixture(scope="module")
def sources() -> dict[str, object]:
    return {"mondo": mondo_sctid(), "omop": omop_concepts(), "obo": hpo_module._obo_facts()}


@pytest.mark.parametrize("entry, row", rows_of("SNOMED CT"))
def test_snomed_codes_are_seen_in_their_source(entry: object, row: object, sources: dict[str, object]) -> None:
    """Check every SNOMED CT id against the public source its row cites."""
    kind, _, ref = row.seen_in.partition(":")
    if kind == "hp.obo":
        holders = sources["obo"].xrefs.get(f"SNOMEDCT_US:{row.code}", ())
        assert ref in holders, f"hp.obo has no xref SNOMEDCT_US:{row.code} on {ref}"
    elif kind == "mondo":
        label, ids = sources["mondo"].get(ref, ("", set()))
        assert row.code in ids, f"MONDO maps {ref} to {sorted(ids)}, not {row.code}"
        assert row.title.lower() == label.lower()
    elif kind == "omop-synthea27nj":
        concept = sources["omop"].get(ref)
        assert concept is not None and concept["vocabulary_id"] == "SNOMED"
        assert (concept["concept_code"], concept["concept_name"]) == (row.code, row.title)
        assert concept["invalid_reason"] == ""
    else:
        assert row.seen_in.startswith("https://"), row.seen_in


@pytest.mark.parametrize("entry", [pytest.param(e, id=e.id) for e in TABLE.data.entries])
def test_entries_use_current_terms_and_known_vocabulary(entry: object, ontology: HpoOntology) -> None:
    """Check that every HPO id is current in the knowledge base's release and every region is the spec's."""
    for code in entry.findings:
        if code.startswith("HP:"):
            assert ontology.is_current(code), f"{code} is not current in HPO {ontology.release}"
    assert set(entry.regions) <= set(REGIONS)


def test_every_entry_gives_something_or_says_why() -> None:
    """Check that an entry giving the case nothing explains itself."""
    for entry in TABLE.data.entries:
        if not (entry.findings or entry.regions or entry.history or entry.diagnosis):
            assert entry.assumes, f"{entry.id} gives nothing and does not say why"


# --- a bad table stops the load -----------------------------------------------------------


def write_table(tmp_path: Path, entries: list[dict[str, object]]) -> Path:
    path = tmp_path / "problems.yaml"
    path.write_text(yaml.safe_dump({"reviewed": "2026-11-30", "entries": entries}), encoding="utf-8")
    return path


GOOD = {"id": "good", "label": "dystonia", "findings": ["HP:0001332"], "source": "albanese-2013",
        "codes": [{"system": "ICD-10-CM", "code": "G24.9", "title": "Dystonia, unspecified"}]}


@pytest.mark.parametrize("change, where, says", [
    ({"regions": ["nose"]}, "entries[1] (bad).regions[0]", "nose"),
    ({"findings": ["HP:1"]}, "entries[1] (bad).findings", "not an HPO id"),
    ({"history": ["CX:hx-moon-landing"]}, "entries[1] (bad).history", "not a history code of history.yaml"),
    ({"findings": ["CX:made-up"]}, "entries[1] (bad).findings", "not a local code of findings.yaml"),
    ({"diagnosis": "lycanthropy"}, "entries[1] (bad).diagnosis", "not a condition of conditions.yaml"),
    ({"source": "nobody-2099"}, "entries[1] (bad).source", "not an id of sources.yaml"),
    ({"codes": [{"system": "SNOMED CT", "code": "15802004", "title": "Dystonia"}]},
     "entries[1] (bad).codes[0]", "seen_in"),
    ({"codes": [{"system": "ICD-11", "code": "8A02.00", "title": "x", "children": True}]},
     "entries[1] (bad).codes[0]", "ICD-10-CM codes only"),
    ({"codes": [{"system": "ICD-10-CM", "code": "G24.9", "title": "Dystonia, unspecified"}]},
     "entries[1] (bad).codes[0].code", "already read by entry 'good'"),
    ({"codes": [{"system": "ICD-9-CM", "code": "333.6", "title": "x"}]},
     "entries[1] (bad).codes[0].system", "ICD-9-CM"),
    ({"codes": [{"system": "ICD-10-CM", "code": "G24.3", "title": "x", "display_matches": "(unclosed"}]},
     "entries[1] (bad).codes[0].display_matches", "regular expression"),
    ({"colour": "red"}, "entries[1] (bad).colour", "Extra inputs"),
])
def test_bad_table_fails_naming_file_entry_and_field(
    tmp_path: Path, change: dict[str, object], where: str, says: str
) -> None:
    """Check that a mistake in the table stops the load, naming the file, the entry and the field."""
    bad = {
        **GOOD,
        "id": "bad",
        "codes": [{"system": "ICD-10-CM", "code": "G24.8", "title": "Other dystonia"}],
        **change,
    }
    with pytest.raises(KnowledgeBaseError) as caught:
        load_problem_table(write_table(tmp_path, [GOOD, bad]))
    assert any(p.where.startswith(where) and says in p.message for p in caught.value.problems), str(caught.value)
    assert f"{tmp_path / 'problems.yaml'}: {where}" in str(caught.value)


def test_good_table_loads_and_reads(tmp_path: Path) -> None:
    """Check that a hand-made table loads and is used when passed in."""
    table = load_problem_table(write_table(tmp_path, [GOOD]))
    assert read_problem("ICD-10-CM", "G24.9", table=table).findings == ("HP:0001332",)
    assert read_problem("ICD-10-CM", "G24.3", table=table) is None


def test_broken_yaml_names_the_file(tmp_path: Path) -> None:
    """Check that a file that is not YAML gives one clear problem."""
    path = tmp_path / "problems.yaml"
    path.write_text("entries: [unclosed", encoding="utf-8")
    with pytest.raises(KnowledgeBaseError, match="problems.yaml: not valid YAML"):
        load_problem_table(path)


def test_shipped_table_is_the_default() -> None:
    """Check that the shipped table is read from the package and shared."""
    assert TABLE.path == PROBLEM_FILE
    assert load_problem_table() is load_problem_table()
