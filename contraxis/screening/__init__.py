"""Cohort screening: find the patients whose record shows a must-not-miss pattern nobody acted on.

    >>> from contraxis.screening import generate_population, run_screen, write_outputs
    >>> population = generate_population(2000, "pop", seed=1)          # doctest: +SKIP
    >>> result = run_screen("pop", engine="duckdb")                     # doctest: +SKIP
    >>> write_outputs(result, "worklist.csv")                           # doctest: +SKIP

Modules, one per concept:

``screens``         screens as knowledge (``knowledge/data/screens.yaml``): loader and compiler
``omop``            OMOP CDM v5.4 tables (CSV, Parquet, DuckDB, PostgreSQL) as one record view
``bulk``            FHIR R4 Bulk Data NDJSON laid out as OMOP tables
``selection``       candidate selection, one SQL text for DuckDB and Spark SQL
``assembly``        each candidate's case as of the index date, assessed; evidence of action
``engine_duckdb``   the embedded engine (default)
``engine_spark``    the Spark engine (``mapInArrow`` over partitions of candidates)
``generate``        a synthetic population with planted patients and near-misses
``report``          the worklist as CSV and Parquet, the figures as JSON, an offline HTML page
``bench``           the end-to-end benchmark
"""

from __future__ import annotations

import datetime as dt
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from .result import Progress, ScreenResult
from .screens import CompiledScreen, load_screens

__all__ = [
    "CompiledScreen",
    "Progress",
    "ScreenResult",
    "generate_population",
    "load_screens",
    "open_input",
    "run_screen",
    "write_outputs",
]

ENGINES = ("duckdb", "spark")


def generate_population(patients: int, out: str | Path, *, seed: int = 0, **kwargs: Any) -> Any:
    """Write a synthetic OMOP population (:func:`contraxis.screening.generate.generate_population`)."""
    from .generate import generate_population as run

    return run(patients, out, seed=seed, **kwargs)


def write_outputs(result: ScreenResult, out: str | Path, **kwargs: Any) -> Any:
    """Write the worklist and the report (:func:`contraxis.screening.report.write_outputs`)."""
    from .report import write_outputs as run

    return run(result, out, **kwargs)


def open_input(location: str | Path, *, workdir: str | Path | None = None) -> Any:
    """The OMOP tables of an input: an OMOP database as it is, a FHIR Bulk export laid out as OMOP first.

    Parameters
    ----------
    location : str or path
        An OMOP folder (CSV or Parquet), a DuckDB file, a PostgreSQL URL, or a FHIR Bulk Data
        export folder.
    workdir : str or path, optional
        Where to write the OMOP tables of a Bulk export (a temporary folder by default).

    Returns
    -------
    OmopTables
    """
    from .bulk import bulk_to_omop, is_bulk_export
    from .omop import find_tables

    if is_bulk_export(location):
        out = Path(workdir) if workdir is not None else Path(tempfile.mkdtemp(prefix="contraxis-bulk-"))
        return bulk_to_omop(location, out).tables
    return find_tables(location)


def run_screen(
    location: str | Path,
    *,
    engine: str = "duckdb",
    screens: Iterable[str] | None = None,
    screens_file: str | Path | None = None,
    as_of: dt.date | None = None,
    lookback_days: int | None = None,
    progress: Progress | None = None,
    **options: Any,
) -> ScreenResult:
    """Screen a population: select candidates, assemble and assess their cases, keep what nobody acted on.

    Parameters
    ----------
    location : str or path
        See :func:`open_input`.
    engine : {"duckdb", "spark"}
        DuckDB in-process (default) or Spark (``master`` option, ``local[2]`` by default).
    screens : iterable of str, optional
        Screen ids to run; all by default.
    screens_file : path, optional
        Another screens file; the knowledge base's by default.
    as_of : datetime.date, optional
        The screen date; the latest record date by default.
    lookback_days : int, optional
        How far back an index date may lie, for every screen; each screen's own by default.
    progress : callable, optional
        ``(stage, done, total)``.
    **options
        Passed to the engine (:func:`~.engine_duckdb.run_duckdb`, :func:`~.engine_spark.run_spark`).

    Returns
    -------
    ScreenResult

    Raises
    ------
    CaseError
        When the input cannot be read.
    KnowledgeBaseError
        When the screens file is not valid or a screen id is unknown.
    ValueError
        When the engine is unknown.
    """
    if engine not in ENGINES:
        raise ValueError(f"engine {engine!r} is not one of {', '.join(ENGINES)}")
    chosen = load_screens(screens_file, only=screens)
    if engine == "spark" and options.get("database"):
        tables = None
    else:
        tables = open_input(location, workdir=options.pop("workdir", None))
    if engine == "spark":
        from .engine_spark import run_spark

        return run_spark(tables, chosen, as_of=as_of, lookback_days=lookback_days, progress=progress, **options)
    from .engine_duckdb import run_duckdb

    return run_duckdb(tables, chosen, as_of=as_of, lookback_days=lookback_days, progress=progress, **options)
