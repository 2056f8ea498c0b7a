"""What a screen run returns: the worklist and the figures of the run."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Progress", "ScreenResult"]

Progress = Callable[[str, int, int], None]
"""A progress callback: ``(stage, done, total)``; stages ``load``, ``select``, ``assess``, ``write``."""


@dataclass
class ScreenResult:
    """A screen run.

    Parameters
    ----------
    worklist : pyarrow.Table
        One row per person and alert (:data:`contraxis.screening.assembly.WORKLIST_COLUMNS`),
        sorted by person, alert and screen.
    engine : str
        ``duckdb`` or ``spark``.
    as_of : datetime.date
        The screen date.
    screens : tuple of str
        The screens run.
    persons, records : int
        People and clinical records in the input.
    candidates : dict
        Screen id -> people selected as candidates.
    seconds : dict
        Stage (``load``, ``select``, ``assess``, ``write``) -> wall-clock seconds.
    """

    worklist: Any
    engine: str
    as_of: dt.date
    screens: tuple[str, ...]
    persons: int = 0
    records: int = 0
    candidates: dict[str, int] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)

    def counts(self) -> dict[str, int]:
        """Worklist rows per screen (every screen run, zero included), and ``not-assessed``."""
        screens = self.worklist.column("screen").to_pylist()
        alerts = self.worklist.column("alert").to_pylist()
        out = {s: 0 for s in self.screens}
        for screen, alert in zip(screens, alerts, strict=True):
            key = "not-assessed" if alert == "not-assessed" else screen
            out[key] = out.get(key, 0) + 1
        return out

    def summary(self) -> dict[str, Any]:
        """The run as JSON-ready figures."""
        return {
            "engine": self.engine,
            "as_of": self.as_of.isoformat(),
            "screens": list(self.screens),
            "persons": self.persons,
            "records": self.records,
            "candidates": dict(self.candidates),
            "worklist": self.counts(),
            "rows": self.worklist.num_rows,
            "seconds": {k: round(v, 2) for k, v in self.seconds.items()},
        }
