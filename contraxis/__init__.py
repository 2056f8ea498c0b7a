"""Contraxis: clinical decision support for involuntary muscle contractions.

    >>> from contraxis import assess, load_case
    >>> assessment = assess(load_case("examples/cervical-dystonia.yaml"))
    >>> assessment.summary.phenomenology
    'dystonia'
"""

from .assessment import Assessment
from .case import Case, load_case, read_case
from .engine import assess
from .errors import CaseError, ContradictionError, ContraxisError, KnowledgeBaseError
from .knowledge import KnowledgeBase, load_knowledge_base

__version__ = "0.1.0"

__all__ = [
    "Assessment",
    "Case",
    "CaseError",
    "ContradictionError",
    "ContraxisError",
    "KnowledgeBase",
    "KnowledgeBaseError",
    "assess",
    "load_case",
    "load_knowledge_base",
    "read_case",
]
