"""Every error Contraxis raises on purpose.

::

    ContraxisError
     ├── CaseError (also ValueError)          the input about a patient is wrong
     │    └── ContradictionError              the input contradicts itself
     └── KnowledgeBaseError (also RuntimeError)  the reviewed data files are wrong

Each error holds a list of :class:`Problem` rows (where, what came in, what is allowed),
so that a caller sees every problem at once, and ``str(error)`` prints one per line.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

__all__ = [
    "CaseError",
    "ContradictionError",
    "ContraxisError",
    "KnowledgeBaseError",
    "Problem",
]


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with an input.

    Parameters
    ----------
    where : str
        The dotted path of the field (``case.course``, ``rules.yaml: alert.x.when``).
    message : str
        What is wrong, naming the value and what is allowed.
    """

    where: str
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.message}" if self.where else self.message

    def to_dict(self) -> dict[str, str]:
        return {"field": self.where, "message": self.message}


class ContraxisError(Exception):
    """Base class of every error Contraxis raises on purpose."""

    def __init__(self, problems: Sequence[Problem] | str, *, source: str | None = None) -> None:
        if isinstance(problems, str):
            problems = [Problem("", problems)]
        self.problems: list[Problem] = list(problems)
        self.source = source
        super().__init__(self._render())

    def _render(self) -> str:
        prefix = f"{self.source}: " if self.source else ""
        return "\n".join(prefix + str(p) for p in self.problems)

    def to_dict(self) -> dict[str, Any]:
        return {
            "error": type(self).__name__,
            "source": self.source,
            "problems": [p.to_dict() for p in self.problems],
        }


class CaseError(ContraxisError, ValueError):
    """The facts given about a patient cannot be read: a wrong field, type or code."""


class ContradictionError(CaseError):
    """The facts given about a patient contradict each other (onset after the current age,
    a finding both present and absent)."""


class KnowledgeBaseError(ContraxisError, RuntimeError):
    """A knowledge-base file is malformed or refers to something that is not defined."""


def allowed(values: Sequence[str]) -> str:
    """Render a closed set of values for an error message."""
    return ", ".join(values)
