"""Contraxis: clinical decision support for involuntary muscle contractions.

    >>> from contraxis import assess, load_case
    >>> assessment = assess(load_case("examples/cervical-dystonia.yaml"))
    >>> assessment.summary.phenomenology
    'dystonia'

The names below are imported on first use, so that ``import contraxis.case`` (or the command
line) does not load the engine, the knowledge base or their libraries before it needs them.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover - for type checkers and editors only
    from .assessment import Assessment
    from .case import Case, load_case, read_case
    from .engine import assess
    from .errors import CaseError, ContradictionError, ContraxisError, KnowledgeBaseError
    from .knowledge import KnowledgeBase, load_knowledge_base

__version__ = "0.1.0"

#: Each public name and the module it comes from.
_EXPORTS: dict[str, str] = {
    "Assessment": ".assessment",
    "Case": ".case",
    "CaseError": ".errors",
    "ContradictionError": ".errors",
    "ContraxisError": ".errors",
    "KnowledgeBase": ".knowledge",
    "KnowledgeBaseError": ".errors",
    "assess": ".engine",
    "load_case": ".case",
    "load_knowledge_base": ".knowledge",
    "read_case": ".case",
}

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


def __getattr__(name: str) -> Any:
    """Import a public name on first use (PEP 562) and keep it in the package's namespace."""
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'contraxis' has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_EXPORTS})
