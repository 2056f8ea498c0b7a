"""The note reader's reviewed data and phrase index: every mistake stops the load naming the
file, the row and the field; every code is a current HPO term of the shipped release or a
code of the knowledge base; the index is built once and cached, never at import; the finding
search ranks the knowledge base's terms first."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from contraxis.errors import KnowledgeBaseError
from contraxis.io.note.data import DATA_DIR, KB_DIR, load_note_files, local_codes
from contraxis.io.note.index import default_note_index, search_findings
from contraxis.terminology.labs import analytes


@pytest.fixture(scope="module")
def index():
    return default_note_index()


@pytest.fixture
def data(tmp_path: Path) -> Path:
    """A copy of the data files to break."""
    folder = tmp_path / "data"
    shutil.copytree(DATA_DIR, folder)
    return folder


def load(folder: Path, index) -> None:
    load_note_files(folder, hpo_ok=lambda code: code in index.labels, analytes=analytes())


def rewrite(folder: Path, name: str, change) -> None:
    path = folder / f"{name}.yaml"
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(document)
    path.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")


def rule(document: dict, rule_id: str) -> dict:
    return next(r for r in document["rules"] if r["id"] == rule_id)


@pytest.mark.parametrize("name, change, message", [
    ("findings", lambda d: rule(d, "cramp.muscle").update(colour="red"),
     r"findings\.yaml: rules\[\d+\] \(cramp\.muscle\)\.colour: is not a field of this file"),
    ("findings", lambda d: rule(d, "cramp.muscle").update(codes=["HP:9999999"]),
     r"rules\[\d+\] \(cramp\.muscle\)\.codes: HP:9999999 is not a current term of the shipped HPO release"),
    ("findings", lambda d: rule(d, "cramp.muscle").update(codes=["CX:cramping"]),
     r"CX:cramping is not a local code of the knowledge base"),
    ("findings", lambda d: rule(d, "hx.wound").update(codes=["CX:hx-scratch"]),
     r"CX:hx-scratch is not a history code of the knowledge base"),
    ("findings", lambda d: rule(d, "cramp.muscle").update(source="nobody-2099"),
     r"rules\[\d+\] \(cramp\.muscle\)\.source: source 'nobody-2099' is not in sources\.yaml"),
    ("findings", lambda d: rule(d, "cramp.muscle").update({"all": [["cramp"]]}),
     r"\(cramp\.muscle\): .*give `terms` or `all`, one of them"),
    ("findings", lambda d: rule(d, "cramp.muscle").update(polarity="maybe"),
     r"\(cramp\.muscle\)\.polarity: Input should be 'present' or 'absent'"),
    ("context", lambda d: d["negation"]["add"]["preceding"].append(False),
     r"context\.yaml: negation\.add\.preceding: False is not a phrase"),
    ("lexicon", lambda d: d["spelling"].append({"uk": "(oe", "us": "e"}),
     r"lexicon\.yaml: spelling\[\d+\]\.uk: .*is not a regular expression"),
    ("facts", lambda d: d["treatments"]["words"].update({"massage": ["massage"]}),
     r"facts\.yaml: treatments\.words: 'massage' is not a treatment"),
    ("facts", lambda d: d["labs"]["names"].update({"troponin": ["troponin"]}),
     r"facts\.yaml: labs\.troponin: 'troponin' is not an analyte of the laboratory table"),
    ("body", lambda d: d["parts"][0].update(region="eyeball"),
     r"body\.yaml: parts\[0\]\.region: Input should be"),
    ("body", lambda d: d["regions_of_codes"].update({"HP:0000473": ["nape"]}),
     r"body\.yaml: regions_of_codes: .*'nape' is not a region"),
])
def test_a_mistake_in_a_data_file_stops_the_load_naming_file_row_and_field(data, index, name, change, message):
    """Check that each kind of mistake is refused with the file, the row and the field named."""
    rewrite(data, name, change)
    with pytest.raises(KnowledgeBaseError) as error:
        load(data, index)
    assert re.search(message, str(error.value)), str(error.value)


def test_a_rule_id_given_twice_is_refused(data, index):
    """Check that two rules may not share an id."""
    rewrite(data, "findings", lambda d: d["rules"].append(dict(rule(d, "cramp.muscle"))))
    with pytest.raises(KnowledgeBaseError, match=r"'cramp\.muscle' is given twice"):
        load(data, index)


def test_every_code_of_the_data_files_is_known(index):
    """Check that every code in the data files is a current term of the shipped HPO release, a
    local code or a history code of the knowledge base (the load checks it; this says so)."""
    local, history = local_codes(KB_DIR)
    text = "".join(line.split("#")[0] + "\n" for p in DATA_DIR.glob("*.yaml")
                   for line in p.read_text(encoding="utf-8").splitlines())
    codes = set(re.findall(r"\b(?:HP:\d{7}|CX:[a-z][a-z0-9-]*)\b", text))
    assert len(codes) > 100
    unknown = [c for c in codes if c not in index.labels and c not in local and c not in history]
    assert unknown == []
    assert index.release == "2025-01-16"  # the shipped contraxis/data/hpo/hp.obo.gz


def test_the_index_is_not_built_at_import_and_the_search_needs_no_spacy():
    """Check that importing the package builds nothing and loads neither spaCy nor the drug
    dictionary, and that the finding search runs without spaCy."""
    code = ("import sys, contraxis.io.note as n; assert 'spacy' not in sys.modules; "
            "assert 'contraxis.io.note.index' not in sys.modules; "
            "hits = n.search_findings('wry neck'); assert hits[0].code == 'HP:0000473', hits; "
            "assert 'spacy' not in sys.modules and 'drug_named_entity_recognition' not in sys.modules")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr


def test_the_index_is_cached_under_the_cache_folder(index):
    """Check that the built index is kept under <cache>/note/ and that a second load is the same object."""
    from contraxis.codes import default_cache_dir

    assert list((default_cache_dir() / "note").glob("index-*.pickle"))
    assert default_note_index() is index


@pytest.mark.parametrize("query, first", [
    ("dyspnoea", "HP:0002094"),  # British spelling
    ("dyspnea", "HP:0002094"),
    ("wry neck", "HP:0000473"),  # a layperson synonym
    ("sensory trick", "CX:sensory-trick"),  # a local code, by its name
    ("writers cramp", "HP:0002356"),
    ("HP:0000473", "HP:0000473"),
    ("0000643", "HP:0000643"),
    ("blepharo", "HP:0000643"),  # the last word unfinished
    ("cramp", "HP:0003394"),
])
def test_the_finding_search(index, query, first):
    """Check that labels, synonyms, spellings, ids and unfinished words find the term, best first."""
    hits = search_findings(query, index=index)
    assert hits and hits[0].code == first, [h.code for h in hits[:5]]


def test_the_search_puts_the_knowledge_base_first_and_reaches_all_of_hpo(index):
    """Check that the knowledge base's terms come before the others, and that terms it does not
    use are found too."""
    hits = search_findings("tongue", index=index, limit=30)
    flags = [h.knowledge_base for h in hits]
    assert flags == sorted(flags, reverse=True) and flags[0] and not flags[-1]
    assert any(h.code == "HP:0031008" for h in hits)  # lingual dystonia
    assert search_findings("macroglossia", index=index)[0].code == "HP:0000158"
    assert search_findings("", index=index) == [] and search_findings("zzzzqqq", index=index) == []
    assert len(search_findings("dystonia", index=index, limit=5)) == 5
