"""The phenotype-driven differential diagnosis.

Every disease annotated in the Human Phenotype Ontology (OMIM, Orphanet, DECIPHER), and
the acquired and common causes of ``acquired_causes.yaml``, ranked for one case by a
likelihood-ratio model in the manner of LIRICAL, each with its explanation::

    from contraxis.differential import load_index, rank

    index = load_index()                  # cached on disk after the first build
    differential = rank(case, index=index, top=50)
    differential.to_json()

Modules: :mod:`.ontology` (the ontology as data), :mod:`.annotations` (the HPO annotation
files, how the two releases are reconciled, and the OMIM and Orphanet entries of one disease
joined into one row), :mod:`.knowledge` (the reviewed data files, the reviewed disease
phenotypes among them), :mod:`.index` (the precomputed arrays), :mod:`.cache` (building and
caching the real index), :mod:`.parameters` and :mod:`.model` (the likelihood-ratio model
and its tempering), :mod:`.evidence` and :mod:`.facts` (reading a case), :mod:`.explain`,
:mod:`.genes` and :mod:`.ranking` (the result). The benchmark is in :mod:`.benchmark`, and
leaving a publication's annotations out in :mod:`.leaveout`.
"""

from .annotations import Annotation, Disease
from .cache import load_index
from .index import DifferentialIndex, build_index
from .knowledge import DifferentialKnowledge, load_knowledge
from .ontology import TermGraph
from .parameters import ModelParameters
from .ranking import Candidate, Differential, rank

__all__ = [
    "Annotation",
    "Candidate",
    "Differential",
    "DifferentialIndex",
    "DifferentialKnowledge",
    "Disease",
    "ModelParameters",
    "TermGraph",
    "build_index",
    "load_index",
    "load_knowledge",
    "rank",
]
