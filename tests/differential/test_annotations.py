"""Reading the HPO annotation files and reconciling their release with the ontology's."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from contraxis.differential import Annotation, Disease, TermGraph
from contraxis.differential.annotations import (
    add_newer_links,
    bundled_join,
    diseases_from_hpo3,
    join_diseases,
    parse_frequency,
    pool_rows,
    read_gene_links,
    read_hpoa,
    read_join,
    reconcile,
)
from contraxis.errors import KnowledgeBaseError

HEADER = "\t".join((
    "database_id", "disease_name", "qualifier", "hpo_id", "reference", "evidence", "onset", "frequency", "sex",
    "modifier", "aspect", "biocuration",
))


def hpoa(*rows: str, version: str = "2025-01-16") -> list[str]:
    return ["#description: test\n", f"#version: {version}\n", HEADER + "\n", *[r + "\n" for r in rows]]


def row(
    disease: str, term: str, *, frequency: str = "", aspect: str = "P", qualifier: str = "", name: str = "Test disease"
) -> str:
    return "\t".join(
        [disease, name, qualifier, term, "PMID:1", "PCS", "", frequency, "", "", aspect, "HPO:x[2025-01-01]"]
    )


@pytest.mark.parametrize(
    "text, expected",
    [
        ("", (None, None)),
        ("HP:0040280", (1.0, None)),
        ("HP:0040282", (0.545, None)),
        ("HP:0040285", (0.0, None)),
        ("3/7", (None, (3, 7))),
        ("0/2", (None, (0, 2))),
        ("25%", (0.25, None)),
        ("12.5%", (0.125, None)),
    ],
)
def test_frequency_column_is_read(text, expected):
    """Check that every form of the frequency column is understood."""
    assert parse_frequency(text) == expected


@pytest.mark.parametrize("text", ["often", "3/0", "4/3", "120%", "HP:0000118"])
def test_bad_frequency_names_the_value(text):
    """Check that a frequency the file may not hold is an error naming it and what is allowed."""
    with pytest.raises(KnowledgeBaseError, match="is not a frequency"):
        parse_frequency(text, where="row 9")


def test_hpoa_rows_become_annotations_onsets_and_inheritance():
    """Check that phenotype, onset and inheritance rows land where they belong."""
    release, diseases = read_hpoa(hpoa(
        row("OMIM:1", "HP:0001332", frequency="HP:0040281"),
        row("OMIM:1", "HP:0000473", frequency="2/3"),
        row("OMIM:1", "HP:0001250", qualifier="NOT"),
        row("OMIM:1", "HP:0001337", frequency="HP:0040285"),
        row("OMIM:1", "HP:0003593", aspect="C"),
        row("OMIM:1", "HP:0000006", aspect="I"),
        row("ORPHA:2", "HP:0001332", frequency="5%", name="Other"),
    ))
    assert release == "2025-01-16"
    first, second = diseases
    assert first.id == "OMIM:1" and first.name == "Test disease"
    cited = ("PMID:1",)
    assert first.annotations == (
        Annotation("HP:0001332", 0.895, references=cited),
        Annotation("HP:0000473", None, (2, 3), references=cited),
        Annotation("HP:0001250", None, None, True, references=cited),
        Annotation("HP:0001337", None, None, True, references=cited),
    )
    assert first.onsets == ("HP:0003593",) and first.inheritance == ("HP:0000006",)
    assert second.annotations == (Annotation("HP:0001332", 0.05, references=cited),)


def test_a_row_keeps_every_reference_it_gives():
    """Check that the reference column is split on semicolons, so that a row can be left out
    for any of its publications."""
    line = row("OMIM:1", "HP:0001332").replace("PMID:1", "PMID:1;OMIM:1")
    _, [disease] = read_hpoa(hpoa(line))
    assert disease.annotations[0].references == ("PMID:1", "OMIM:1")
    assert disease.annotations[0].origin == "annotation"


def test_hpoa_problems_are_listed_with_their_line():
    """Check that a malformed file is refused with every problem's line named."""
    with pytest.raises(KnowledgeBaseError) as caught:
        read_hpoa(hpoa(row("OMIM:1", "HP:0001332", frequency="sometimes"), "OMIM:1\tshort"), source="x.hpoa")
    text = str(caught.value)
    assert "x.hpoa:4: frequency" in text and "'sometimes'" in text
    assert "x.hpoa:5: has 2 columns" in text
    with pytest.raises(KnowledgeBaseError, match="#version"):
        read_hpoa([HEADER + "\n"])


def test_gene_links_are_read_per_disease():
    """Check that genes_to_phenotype.txt gives each disease its genes once, sorted."""
    lines = [
        "ncbi_gene_id\tgene_symbol\thpo_id\thpo_name\tfrequency\tdisease_id\n",
        "1\tTOR1A\tHP:0001332\tDystonia\t-\tOMIM:128100\n",
        "1\tTOR1A\tHP:0000473\tTorticollis\t-\tOMIM:128100\n",
        "2\tABC1\tHP:0000473\tTorticollis\t-\tORPHA:9\n",
        "3\tAAA2\tHP:0000473\tTorticollis\t-\tORPHA:9\n",
    ]
    assert read_gene_links(lines) == {"OMIM:128100": ("TOR1A",), "ORPHA:9": ("AAA2", "ABC1")}
    with pytest.raises(KnowledgeBaseError, match="header"):
        read_gene_links(["gene\tdisease\n"])


def test_reconcile_maps_obsolete_terms_and_drops_unknown_ones(mini_graph: TermGraph):
    """Check that an obsolete id goes to its replacement, an unknown one is dropped and counted,
    and that every row is kept with its references (rows of one term are pooled later)."""
    disease = Disease("OMIM:1", "x", (
        Annotation("HP:0000000", 0.5, references=("PMID:7",)),  # obsolete, replaced by HP:0001332
        Annotation("HP:0001332", 0.9),
        Annotation("HP:9999999", 0.2),  # unknown
        Annotation("HP:0000473", 0.3),
    ), onsets=("HP:0003593", "HP:8888888"))
    [result], report = reconcile([disease], graph=mini_graph, annotation_release="old")
    assert [a.term for a in result.annotations] == ["HP:0001332", "HP:0001332", "HP:0000473"]
    assert result.annotations[0].references == ("PMID:7",)
    assert result.onsets == ("HP:0003593",)
    assert report.replaced_terms == {"HP:0000000": "HP:0001332"} and report.replaced_rows == 1
    assert report.dropped_terms == ("HP:8888888", "HP:9999999") and report.dropped_rows == 2
    assert report.to_dict()["ontology_release"] == "mini-1"


def test_rows_of_one_term_are_pooled():
    """Check that counts add up, stated frequencies average, a row without frequency adds no
    estimate, a NOT row yields to a row that saw the feature, and a reviewed row keeps its
    source only when nothing else annotates the term."""
    rows = [
        Annotation("HP:0001332", cohort=(1, 2)),
        Annotation("HP:0001332", cohort=(3, 8)),
        Annotation("HP:0001332", 0.895),
        Annotation("HP:0001332"),
        Annotation("HP:0000473"),
        Annotation("HP:0001250", negated=True),
        Annotation("HP:0001250", 0.17),
        Annotation("HP:0001337", negated=True),
        Annotation("HP:0002451", 0.895, references=("src-1",), origin="reviewed"),
    ]
    pooled = {p.term: p for p in pool_rows(rows, mean=0.5, strength=3.0)}
    assert pooled["HP:0001332"].frequency == pytest.approx(((4 + 1.5) / 13 + 0.895) / 2)
    assert pooled["HP:0000473"].frequency == 0.5 and not pooled["HP:0000473"].negated
    assert pooled["HP:0001250"].frequency == 0.17 and not pooled["HP:0001250"].negated
    assert pooled["HP:0001337"].negated and pooled["HP:0001337"].frequency == 0.0
    assert pooled["HP:0002451"].source == "src-1" and pooled["HP:0001332"].source == ""
    assert list(pooled) == ["HP:0001332", "HP:0000473", "HP:0001250", "HP:0001337", "HP:0002451"]


def test_entries_mondo_maps_to_one_disease_become_one_row():
    """Check that the OMIM entry gives the id and name, the Orphanet twin becomes an alias, each
    term is taken from the first entry that annotates it, onsets and genes are joined; a group
    with one entry present joins nothing, but its ids without an entry (an OMIM entry newer
    than the annotation) become aliases of that entry's row, as they do of a joined row; a
    group with no entry present changes nothing."""
    omim = Disease("OMIM:100001", "Dystonia A", (Annotation("HP:0000473", 0.9), Annotation("HP:0001337")),
                   onsets=("HP:0003581",), genes=("GENEA",))
    orpha = Disease(
        "ORPHA:5", "Dystonia A (Orphanet)", (Annotation("HP:0001337", 0.025), Annotation("HP:0002451", 0.545)),
        onsets=("HP:0011463",), genes=("GENEA", "GENEZ"),
    )
    alone = Disease("ORPHA:6", "Alone", (Annotation("HP:0001250", 0.9),))
    other = Disease("OMIM:100002", "Dystonia B", (Annotation("HP:0001332", 0.8),))
    groups = [
        ("MONDO:0000001", ("OMIM:100001", "OMIM:100009", "ORPHA:5")),
        ("MONDO:0000002", ("OMIM:999999", "ORPHA:6")),
        ("MONDO:0000003", ("OMIM:888888", "ORPHA:8")),
    ]
    joined, count = join_diseases([orpha, other, omim, alone], groups)
    assert count == 1
    assert [d.id for d in joined] == ["OMIM:100002", "OMIM:100001", "ORPHA:6"]
    row_ = joined[1]
    assert row_.name == "Dystonia A" and row_.ids == ("OMIM:100001", "ORPHA:5", "OMIM:100009")
    assert row_.annotations == (
        Annotation("HP:0000473", 0.9), Annotation("HP:0001337"), Annotation("HP:0002451", 0.545)
    )
    assert row_.onsets == ("HP:0003581", "HP:0011463") and row_.genes == ("GENEA", "GENEZ")
    assert joined[2].ids == ("ORPHA:6", "OMIM:999999") and joined[2].annotations == alone.annotations
    assert joined[0] is other  # in no group


def test_the_join_file_is_read_and_checked():
    """Check the shipped join (myoclonus-dystonia's and DEE4's OMIM entries have Orphanet twins)
    and that a malformed or repeated row is refused naming its line."""
    groups = dict(bundled_join())
    assert groups["MONDO:0012812"] == ("OMIM:612164", "ORPHA:599373")
    def order(i: str) -> tuple[bool, int]:
        return not i.startswith("OMIM:"), int(i.split(":")[1])

    assert all(len(ids) >= 2 and ids == tuple(sorted(ids, key=order)) for ids in groups.values())
    with pytest.raises(KnowledgeBaseError, match="j.tsv:3: 'MONDO:1"):
        read_join(["# c\n", "mondo_id\tids\n", "MONDO:1\tOMIM:1\n"], source="j.tsv")
    with pytest.raises(KnowledgeBaseError, match="ORPHA:5 is already joined to MONDO:0000001"):
        read_join(["mondo_id\tids\n", "MONDO:0000001\tOMIM:100001 ORPHA:5\n", "MONDO:0000002\tOMIM:100002 ORPHA:5\n"])
    with pytest.raises(KnowledgeBaseError, match="header"):
        read_join(["MONDO:0000001\tOMIM:100001 ORPHA:5\n"])


def _hpo3_release(*omim: tuple[int, str, set[int]]) -> SimpleNamespace:
    """A stand-in for the built ``hpo3`` ontology: OMIM diseases with their linked term numbers."""
    diseases = [SimpleNamespace(id=number, name=name, hpo=terms) for number, name, terms in omim]
    return SimpleNamespace(omim_diseases=diseases, orpha_diseases=[])


def test_newer_release_adds_phenotypes_without_frequency_but_never_against_a_not(mini_graph: TermGraph):
    """Check that a phenotype only the newer release links is added without frequency, that a
    NOT annotation keeps it out, that onsets are taken only when the annotation has none, and
    that a disease only the newer release knows comes whole from it."""
    copper = Disease(
        "OMIM:100003", "Copper disease", (Annotation("HP:0200032", cohort=(5, 10)), Annotation("HP:0001332", 0.6))
    )
    epilepsy = Disease(
        "OMIM:100004",
        "Epilepsy",
        (Annotation("HP:0002197", cohort=(1, 1)), Annotation("HP:0001332", negated=True)),
        onsets=("HP:0011463",),
    )
    untouched = Disease("OMIM:100009", "Not in the newer release", (Annotation("HP:0001337", 0.3),))
    newer = _hpo3_release(
        (100003, "Copper disease", {200032, 1332, 2451, 3593}),
        (100004, "Epilepsy", {2197, 1332, 3593}),
        (100007, "New disease", {1337, 3581}),
    )
    (copper_now, epilepsy_now, untouched_now), added = add_newer_links(
        [copper, epilepsy, untouched], newer, graph=mini_graph
    )
    assert copper_now.annotations == (*copper.annotations, Annotation("HP:0002451", origin="newer release"))
    assert copper_now.onsets == ("HP:0003593",)
    assert epilepsy_now == epilepsy  # Dystonia is NOT annotated; the annotated childhood onset stays
    assert untouched_now is untouched
    assert added == 1
    [new] = diseases_from_hpo3(newer, graph=mini_graph, exclude={"OMIM:100003", "OMIM:100004"})
    assert new.id == "OMIM:100007" and new.annotations == (Annotation("HP:0001337", origin="newer release"),)
    assert new.onsets == ("HP:0003581",) and new.release == "mini-1"


def test_the_shipped_join_is_what_the_tool_builds_from_the_mapping_sets():
    """Check that tools/build_disease_join.py rebuilds the shipped file byte for byte from
    ../shared/data/mondo (skipped where the mapping sets are not at hand)."""
    import importlib.util
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    mondo = root.parent / "shared" / "data" / "mondo"
    if not (mondo / "mondo_exactmatch_omim.sssom.tsv.gz").exists():
        pytest.skip(f"the MONDO mapping sets are not here: {mondo}")
    spec = importlib.util.spec_from_file_location("build_disease_join", root / "tools" / "build_disease_join.py")
    assert spec is not None and spec.loader is not None
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    shipped = (root / "contraxis" / "differential" / "data" / "mondo_join.tsv").read_text(encoding="utf-8")
    assert tool.build(mondo) == shipped
