"""Reading the HPO annotation files and reconciling their release with the ontology's."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from contraxis.differential import Annotation, Disease, TermGraph
from contraxis.differential.annotations import (
    add_newer_links,
    diseases_from_hpo3,
    parse_frequency,
    pool_gene_matched,
    read_gene_links,
    read_hpoa,
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
    assert first.annotations == (
        Annotation("HP:0001332", 0.895),
        Annotation("HP:0000473", None, (2, 3)),
        Annotation("HP:0001250", None, None, True),
        Annotation("HP:0001337", None, None, True),
    )
    assert first.onsets == ("HP:0003593",) and first.inheritance == ("HP:0000006",)
    assert second.annotations == (Annotation("HP:0001332", 0.05),)


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
    and a duplicate the mapping creates is merged."""
    disease = Disease("OMIM:1", "x", (
        Annotation("HP:0000000", 0.5),  # obsolete, replaced by HP:0001332 in the mini graph
        Annotation("HP:0001332", 0.9),
        Annotation("HP:9999999", 0.2),  # unknown
        Annotation("HP:0000473", 0.3),
    ), onsets=("HP:0003593", "HP:8888888"))
    [result], report = reconcile([disease], graph=mini_graph, annotation_release="old")
    assert [a.term for a in result.annotations] == ["HP:0001332", "HP:0000473"]
    assert result.annotations[0].frequency == 0.5  # the first row is kept
    assert result.onsets == ("HP:0003593",)
    assert report.replaced_terms == {"HP:0000000": "HP:0001332"} and report.replaced_rows == 1
    assert report.dropped_terms == ("HP:8888888", "HP:9999999") and report.dropped_rows == 2
    assert report.to_dict()["ontology_release"] == "mini-1"


def test_gene_matched_orphanet_phenotypes_join_the_omim_entry():
    """Check that an OMIM entry takes the phenotypes of the Orphanet entry for its single gene,
    but not from a chromosomal syndrome nor when the gene has two OMIM entries."""
    omim = Disease("OMIM:1", "Disease one", (Annotation("HP:0001332", 0.5),), genes=("GENEA",))
    orpha = Disease(
        "ORPHA:1",
        "Disease one",
        (Annotation("HP:0001332", 0.9), Annotation("HP:0000473", 0.17)),
        onsets=("HP:0003593",),
        genes=("GENEA",),
    )
    deletion = Disease("ORPHA:2", "1p36 microdeletion syndrome", (Annotation("HP:0001250", 0.9),), genes=("GENEA",))
    allelic_1 = Disease("OMIM:3", "Allelic one", (Annotation("HP:0001337"),), genes=("GENEB",))
    allelic_2 = Disease("OMIM:4", "Allelic two", (Annotation("HP:0001337"),), genes=("GENEB",))
    orpha_b = Disease("ORPHA:3", "Allelic", (Annotation("HP:0001250", 0.9),), genes=("GENEB",))
    pooled, count = pool_gene_matched([omim, orpha, deletion, allelic_1, allelic_2, orpha_b])
    assert count == 1
    assert pooled[0].annotations == (Annotation("HP:0001332", 0.5), Annotation("HP:0000473", 0.17))
    assert pooled[0].onsets == ("HP:0003593",)
    assert pooled[1:] == [orpha, deletion, allelic_1, allelic_2, orpha_b]


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
    assert copper_now.annotations == (*copper.annotations, Annotation("HP:0002451"))
    assert copper_now.onsets == ("HP:0003593",)
    assert epilepsy_now == epilepsy  # Dystonia is NOT annotated; the annotated childhood onset stays
    assert untouched_now is untouched
    assert added == 1
    [new] = diseases_from_hpo3(newer, graph=mini_graph, exclude={"OMIM:100003", "OMIM:100004"})
    assert new.id == "OMIM:100007" and new.annotations == (Annotation("HP:0001337"),)
    assert new.onsets == ("HP:0003581",) and new.release == "mini-1"
