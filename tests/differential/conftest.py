"""Fixtures for the differential: a hand-drawn mini ontology and index, and the real index.

The mini ontology (real HPO ids, simplified parentage)::

    HP:0000001 All
    ├── HP:0000118 Phenotypic abnormality
    │   ├── HP:0000707 Abnormality of the nervous system
    │   │   ├── HP:0001332 Dystonia
    │   │   │   ├── HP:0000473 Torticollis
    │   │   │   └── HP:0002451 Limb dystonia
    │   │   │       └── HP:0031960 Arm dystonia
    │   │   ├── HP:0001250 Seizure
    │   │   │   └── HP:0002197 Generalized-onset seizure
    │   │   └── HP:0001337 Tremor
    │   ├── HP:0000478 Abnormality of the eye
    │   │   └── HP:0200032 Kayser-Fleischer ring
    │   └── HP:0001939 Abnormality of metabolism/homeostasis
    │       └── HP:0002901 Hypocalcemia
    └── HP:0003674 Onset
        ├── HP:0003593 Infantile onset
        ├── HP:0011463 Childhood onset
        └── HP:0003581 Adult onset

and its diseases:

==========  ==========================================================================
OMIM:100001 "Dystonia A": Torticollis 0.9, Limb dystonia 0.5, Tremor 0.3; adult onset
OMIM:100002 "Dystonia B": Dystonia 0.8, Seizure 0.8; infantile onset
OMIM:100003 "Copper disease": Kayser-Fleischer ring 5/10, Dystonia 0.6, Tremor (no frequency)
OMIM:100004 "Epilepsy": Generalized-onset seizure 1/1, NOT Dystonia; childhood onset
OMIM:100005 "Calcium disease": Hypocalcemia obligate, Seizure occasional
==========  ==========================================================================
"""

from __future__ import annotations

import pytest

from contraxis.differential import Annotation, DifferentialIndex, Disease, ModelParameters, TermGraph, build_index

MINI_TERMS = {
    "HP:0000001": ("All", []),
    "HP:0000118": ("Phenotypic abnormality", ["HP:0000001"]),
    "HP:0000707": ("Abnormality of the nervous system", ["HP:0000118"]),
    "HP:0001332": ("Dystonia", ["HP:0000707"]),
    "HP:0000473": ("Torticollis", ["HP:0001332"]),
    "HP:0002451": ("Limb dystonia", ["HP:0001332"]),
    "HP:0031960": ("Arm dystonia", ["HP:0002451"]),
    "HP:0001250": ("Seizure", ["HP:0000707"]),
    "HP:0002197": ("Generalized-onset seizure", ["HP:0001250"]),
    "HP:0001337": ("Tremor", ["HP:0000707"]),
    "HP:0000478": ("Abnormality of the eye", ["HP:0000118"]),
    "HP:0200032": ("Kayser-Fleischer ring", ["HP:0000478"]),
    "HP:0001939": ("Abnormality of metabolism/homeostasis", ["HP:0000118"]),
    "HP:0002901": ("Hypocalcemia", ["HP:0001939"]),
    "HP:0003674": ("Onset", ["HP:0000001"]),
    "HP:0003593": ("Infantile onset", ["HP:0003674"]),
    "HP:0011463": ("Childhood onset", ["HP:0003674"]),
    "HP:0003581": ("Adult onset", ["HP:0003674"]),
}

MINI_DISEASES = [
    Disease(
        "OMIM:100001",
        "Dystonia A",
        (Annotation("HP:0000473", 0.9), Annotation("HP:0002451", 0.5), Annotation("HP:0001337", 0.3)),
        onsets=("HP:0003581",),
        genes=("GENEA",),
        release="mini-1",
    ),
    Disease(
        "OMIM:100002",
        "Dystonia B",
        (Annotation("HP:0001332", 0.8), Annotation("HP:0001250", 0.8)),
        onsets=("HP:0003593",),
        genes=("GENEB",),
        release="mini-1",
    ),
    Disease(
        "OMIM:100003",
        "Copper disease",
        (Annotation("HP:0200032", cohort=(5, 10)), Annotation("HP:0001332", 0.6), Annotation("HP:0001337")),
        genes=("GENEC",),
        release="mini-1",
    ),
    Disease(
        "OMIM:100004",
        "Epilepsy",
        (Annotation("HP:0002197", cohort=(1, 1)), Annotation("HP:0001332", negated=True)),
        onsets=("HP:0011463",),
        genes=("GENED", "GENEE"),
        release="mini-1",
    ),
    Disease(
        "OMIM:100005",
        "Calcium disease",
        (Annotation("HP:0002901", 1.0), Annotation("HP:0001250", 0.17)),
        genes=("GENEF",),
        release="mini-1",
    ),
]


@pytest.fixture(scope="session")
def mini_graph() -> TermGraph:
    """The mini ontology drawn in this module's docstring."""
    return TermGraph.from_mapping(MINI_TERMS, release="mini-1", replaced_by={"HP:0000000": "HP:0001332"})


MINI_PARAMETERS = {"specific_share": 1.0}
"""In a corpus of five diseases every finding is shown by one disease in ten or more: the mini
indexes count every finding as specific, except where a test says otherwise."""


def mini_index(graph: TermGraph, **parameters: float) -> DifferentialIndex:
    """Build the mini index, with some model constants changed."""
    return build_index(
        graph,
        MINI_DISEASES,
        parameters=ModelParameters(**{**MINI_PARAMETERS, **parameters}),
        meta={"releases": {"ontology": "mini-1", "annotation": "mini-1"}},
    )


@pytest.fixture(scope="session")
def mini(mini_graph: TermGraph) -> DifferentialIndex:
    """The mini index with the default model constants."""
    return mini_index(mini_graph)


@pytest.fixture(scope="session")
def real_index() -> DifferentialIndex:
    """The real index (built once into the cache, then read from it)."""
    from contraxis.differential import load_index

    return load_index()


def mini_knowledge():
    """A hand-made knowledge set for the mini ontology: one acquired cause, one laboratory
    test, a normal-MRI rule and one treatable genetic entry."""
    from contraxis.differential.knowledge import AcquiredCause, DifferentialKnowledge, GeneticDystonia, LabTest

    cause = AcquiredCause.model_validate({
        "id": "CX:cause-drug-dystonia",
        "name": "Drug-induced dystonia",
        "pretest": "uncommon",
        "requires": [{"drug_class": "dopamine-blocking", "max_days": 7}],
        "phenotype": [{"hpo": "HP:0001332", "frequency": "obligate"}, {"hpo": "HP:0000473", "frequency": "frequent"}],
        "supports": [{"code": "CX:painful", "frequency": "very frequent"}],
        "treatment": "stop the drug",
        "source": "src-1",
    })
    calcium = LabTest.model_validate({
        "loinc": "17861-6", "name": "calcium", "unit": "mg/dL",
        "low": {"below": 8.5, "hpo": "HP:0002901"},
        "normal": {"from": 8.5, "to": 10.5, "excludes": ["HP:0002901"]},
        "source": "src-1",
    })
    entry = GeneticDystonia.model_validate({
        "gene": "GENEC", "mds_name": "DYT-GENEC", "omim": ["OMIM:100003"], "inheritance": "autosomal recessive",
        "levodopa_responsive": False, "treatment": "chelation", "source": "src-2",
    })
    return DifferentialKnowledge(
        acquired=(cause,),
        labs={"17861-6": calcium},
        mri_normal_excludes=("HP:0000478",),
        dystonias={"OMIM:100003": entry},
        drug_classes={"dopamine-blocking": frozenset({"haloperidol", "metoclopramide"})},
        conversions={"17861-6": {"mmol/L": 4.008}},
        sources={"src-1": "A source.", "src-2": "Another source."},
        reviewed={"acquired_causes.yaml": "2026-01-01"},
    )


@pytest.fixture(scope="session")
def mini_kb(mini_graph: TermGraph) -> DifferentialIndex:
    """The mini index with the mini knowledge: its acquired cause ranked beside the diseases."""
    knowledge = mini_knowledge()
    return build_index(
        mini_graph,
        [*MINI_DISEASES, *knowledge.acquired_diseases()],
        parameters=ModelParameters(**MINI_PARAMETERS),
        priors=knowledge.priors(),
        meta={"releases": {"ontology": "mini-1", "annotation": "mini-1"}},
        knowledge=knowledge,
    )
