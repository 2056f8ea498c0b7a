"""The engine behind the service: the knowledge base, the code tables and the differential
index, loaded once and passed in (no module-level state), and the calls the routes make.

Tests build an :class:`Engine` from their own parts; the app builds one with
:meth:`Engine.load`.
"""

from __future__ import annotations

import contextlib
import json
import logging
import threading
from collections.abc import Callable, Sequence
from typing import Any

from ..assessment import Assessment
from ..case import Case
from ..reading import NotRead

__all__ = ["Engine", "DifferentialUnavailable"]

_log = logging.getLogger(__name__)


class DifferentialUnavailable(RuntimeError):
    """The differential index could not be loaded (the reason is the message)."""


class Engine:
    """The parts the service needs, each loaded at most once, safe to share between threads.

    Parameters
    ----------
    kb : object, optional
        The knowledge base (``contraxis.knowledge.load_knowledge_base()`` if omitted).
    codes : contraxis.codes.CodeTables, optional
        The code tables (the shared ones if omitted).
    assess : callable, optional
        ``assess(case, *, kb, differential) -> Assessment`` (``contraxis.assess`` if omitted).
    differential : bool
        Whether to use the HPO differential at all.
    index, rank : optional
        A differential index and ``rank(case, *, index, top)`` to use instead of loading
        ``contraxis.differential`` (tests).
    """

    def __init__(
        self,
        *,
        kb: Any = None,
        codes: Any = None,
        assess: Callable[..., Assessment] | None = None,
        differential: bool = True,
        index: Any = None,
        rank: Callable[..., Any] | None = None,
    ) -> None:
        self._kb = kb
        self._codes = codes
        self._assess = assess
        self._use_differential = differential
        self._index: Any = index if rank is not None else None
        self._rank: Callable[..., Any] | None = rank
        self._index_problem: str | None = None if differential else "the differential is switched off in this service"
        self._lock = threading.RLock()

    # -- the parts --

    @property
    def kb(self) -> Any:
        """The knowledge base."""
        if self._kb is None:
            with self._lock:
                if self._kb is None:
                    from ..knowledge import load_knowledge_base

                    self._kb = load_knowledge_base()
        return self._kb

    @property
    def codes(self) -> Any:
        """The official code tables."""
        if self._codes is None:
            with self._lock:
                if self._codes is None:
                    from ..codes import load_code_tables

                    self._codes = load_code_tables()
        return self._codes

    @property
    def assess_function(self) -> Callable[..., Assessment]:
        if self._assess is None:
            from .. import assess

            self._assess = assess
        return self._assess

    @property
    def version(self) -> str:
        """The knowledge base's version."""
        return str(self.kb.version)

    @property
    def hpo_release(self) -> str:
        """The HPO release the assessments use."""
        release = getattr(self.kb, "hpo_release", None)
        return str(release) if release else str(self.codes.hpo_release())

    def differential_index(self) -> Any:
        """The differential index, loading it on first use.

        Raises
        ------
        DifferentialUnavailable
            When the differential is off or cannot be loaded (once failed, not retried).
        """
        if self._index is None and self._index_problem is None:
            with self._lock:
                if self._index is None and self._index_problem is None:
                    try:
                        from ..differential import load_index, rank

                        self._index = load_index()
                        self._rank = rank
                    except Exception as error:  # noqa: BLE001 - the service runs on without it
                        self._index_problem = (
                            f"the differential index could not be loaded ({type(error).__name__}: {error})"
                        )
                        _log.warning("%s", self._index_problem)
        if self._index_problem is not None:
            raise DifferentialUnavailable(self._index_problem)
        return self._index

    @property
    def differential_ready(self) -> bool:
        """Whether ranking may be attempted (loaded, or not yet tried)."""
        return self._index is not None or self._index_problem is None

    def preload(self) -> None:
        """Load every part now (the app calls this at start-up)."""
        _ = self.kb, self.codes, self.assess_function, self.hpo_release
        from ..terminology.drugs import resolve_drug

        resolve_drug("metoclopramide 10 MG Oral Tablet")  # builds or reads the drug index now, not at the first request
        if self._use_differential:
            with contextlib.suppress(DifferentialUnavailable):
                self.differential_index()

    # -- the calls --

    def rank(self, case: Case, *, top: int = 50) -> Any:  # noqa: D102
        """Rank the differential for a case (raises DifferentialUnavailable)."""
        index = self.differential_index()
        assert self._rank is not None
        return self._rank(case, index=index, top=top)

    def ranker(self, *, top: int = 10) -> Callable[[Case], dict[str, Any]]:
        """``case -> differential JSON`` for :func:`contraxis.assess` (raises DifferentialUnavailable)."""
        index = self.differential_index()
        rank = self._rank
        assert rank is not None
        return lambda case: rank(case, index=index, top=top).to_json()

    def assessment(
        self, case: Case, *, differential: bool = False, top: int = 10, not_read: Sequence[NotRead] = ()
    ) -> tuple[Assessment, str | None]:
        """Assess a case; with ``differential``, include the top of the HPO differential;
        ``not_read`` (what the reader did not use) is carried into the answer.

        Returns
        -------
        tuple of (Assessment, str or None)
            The assessment and, when the differential was asked for and is unavailable, why.
        """
        ranker = None
        problem = None
        if differential:
            try:
                ranker = self.ranker(top=top)
            except DifferentialUnavailable as error:
                problem = str(error)
        return self.assess_function(case, kb=self.kb, differential=ranker, not_read=not_read), problem

    def assess_json(
        self, case: Case, *, differential: bool = False, top: int = 10, not_read: Sequence[NotRead] = ()
    ) -> dict[str, Any]:
        """The assessment as JSON (``contraxis assess --json``), noting a missing differential."""
        assessment, problem = self.assessment(case, differential=differential, top=top, not_read=not_read)
        data = assessment.to_json()
        if problem:
            data["notes"] = [*data.get("notes", []), f"The differential is left out: {problem}."]
        return data

    def assess_bytes(
        self, case: Case, *, differential: bool = False, top: int = 10, not_read: Sequence[NotRead] = ()
    ) -> bytes:
        """The same JSON as :meth:`assess_json`, encoded (the fast path of ``POST /assess``)."""
        assessment, problem = self.assessment(case, differential=differential, top=top, not_read=not_read)
        if problem:
            return json.dumps(self._noted(assessment.to_json(), problem), ensure_ascii=False).encode()
        return assessment.model_dump_json().encode()

    @staticmethod
    def _noted(data: dict[str, Any], problem: str) -> dict[str, Any]:
        data["notes"] = [*data.get("notes", []), f"The differential is left out: {problem}."]
        return data

    def sections(self) -> dict[str, list[dict[str, Any]]]:
        """The knowledge base's sections, by name."""
        return self.kb.sections()

    def finding_label(self, code: str) -> str | None:
        """The name of a finding or history code: HPO from the ontology, local codes from the
        knowledge base (None when unknown)."""
        label = getattr(self.kb, "label", None)
        if callable(label):
            return label(code) or None
        if code.startswith("HP:"):
            term = self.codes.hpo(code)
            return term.display if term else None
        return None
