"""The embedded engine: DuckDB in-process, nothing to install or start.

The OMOP tables are read where they lie (CSV, Parquet, a DuckDB file, PostgreSQL through
DuckDB's postgres extension) as views; the selection SQL of :mod:`.selection` runs over them
and returns the candidates' records as Arrow; candidates are then assessed in Python, in
chunks, on as many processes as asked (each process holds the knowledge base once).
"""

from __future__ import annotations

import datetime as dt
import multiprocessing
import os
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from typing import Any

from ..errors import CaseError, Problem
from .assembly import assess_rows, sort_worklist, worklist_schema
from .omop import CLINICAL_TABLES, EMPTY_TABLE_SQL, PERSON_SQL, RECORDS_SQL, TABLES, OmopTables
from .result import Progress, ScreenResult
from .screens import CompiledScreen
from .selection import candidates_sql, selection_sql

__all__ = ["register_duckdb", "run_duckdb"]

CHUNK_PEOPLE = 500
"""Candidates assessed per chunk (one progress step, one task for a worker process)."""


def _scan(tables: OmopTables, table: str) -> str:
    path = tables.paths[table].replace("'", "''")
    if tables.kind == "parquet":
        return f"read_parquet('{path}/*.parquet')" if os.path.isdir(path) else f"read_parquet('{path}')"
    return f"read_csv('{path}', header = true, auto_detect = true, sample_size = -1)"


def register_duckdb(con: Any, tables: OmopTables, *, schema: str = "public") -> None:
    """Read the input: views ``person``, the clinical tables and ``concept`` over the source, and
    the tables ``cx_records`` and ``cx_person`` (:mod:`.omop`) loaded from them once.

    Parameters
    ----------
    con : duckdb.DuckDBPyConnection
    tables : OmopTables
    schema : str, optional
        The PostgreSQL schema holding the CDM tables (``public`` by default).

    Raises
    ------
    CaseError
        When the database cannot be opened or attached.
    """
    available: dict[str, str] = {}
    if tables.kind in ("parquet", "csv"):
        available = {t: _scan(tables, t) for t in tables.paths}
    else:
        try:
            if tables.kind == "postgres":
                con.execute("INSTALL postgres").fetchall()
                con.execute("LOAD postgres").fetchall()
                con.execute(f"ATTACH '{tables.location}' AS cx_omop (TYPE postgres, READ_ONLY)").fetchall()
                prefix = f"cx_omop.{schema}"
            else:
                con.execute(f"ATTACH '{tables.location}' AS cx_omop (READ_ONLY)").fetchall()
                prefix = "cx_omop.main"
        except Exception as error:  # noqa: BLE001 - any driver error becomes one clear line
            raise CaseError([Problem("input", f"{tables.location!r} cannot be opened: {str(error)[:200]}")]) from None
        names = {r[0].lower(): r[0] for r in con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_catalog = 'cx_omop'").fetchall()}
        available = {t: f'{prefix}."{names[t]}"' for t in TABLES if t in names}
    if "person" not in available:
        raise CaseError([Problem("input", f"{tables.location!r} holds no person table")])
    for table in TABLES:
        body = f"SELECT * FROM {available[table]}" if table in available else EMPTY_TABLE_SQL(table)
        con.execute(f"CREATE OR REPLACE TEMPORARY VIEW {table} AS {body}").fetchall()
    con.execute(f"CREATE OR REPLACE TEMPORARY TABLE cx_records AS {RECORDS_SQL}").fetchall()
    con.execute(f"CREATE OR REPLACE TEMPORARY TABLE cx_person AS {PERSON_SQL}").fetchall()


def _chunks(table: Any, size: int) -> list[Any]:
    """Split a long table sorted by person into tables of at most ``size`` people each."""
    import pyarrow.compute as pc

    if table.num_rows == 0:
        return []
    ids = table.column("person_id")
    people = pc.unique(ids)
    bounds = [people[i].as_py() for i in range(0, len(people), size)]
    out = []
    for i, low in enumerate(bounds):
        mask = pc.greater_equal(ids, low)
        if i + 1 < len(bounds):
            mask = pc.and_(mask, pc.less(ids, bounds[i + 1]))
        out.append(table.filter(mask))
    return out


def _assess_chunk(chunk: Any, screens: Sequence[CompiledScreen], as_of: dt.date) -> Any:
    return assess_rows(chunk, screens=screens, as_of=as_of)


def run_duckdb(
    tables: OmopTables,
    screens: Sequence[CompiledScreen],
    *,
    as_of: dt.date | None = None,
    lookback_days: int | None = None,
    workers: int | None = None,
    memory_limit: str = "2GB",
    threads: int | None = None,
    progress: Progress | None = None,
    pg_schema: str = "public",
) -> ScreenResult:
    """Run screens on DuckDB.

    Parameters
    ----------
    tables : OmopTables
        From :func:`contraxis.screening.omop.find_tables`.
    screens : sequence of CompiledScreen
    as_of : datetime.date, optional
        The screen date; the latest record date of the input by default.
    lookback_days : int, optional
        How far back an index date may lie, for every screen; each screen's own by default.
    workers : int, optional
        Processes assessing candidates; one for fewer than 1,000 candidates, else up to the
        number of cores (at most 2) by default.
    memory_limit : str
        DuckDB's memory limit (it spills to disk beyond it).
    threads : int, optional
        DuckDB's threads; the number of cores by default.
    progress : callable, optional
        ``(stage, done, total)`` after each step.
    pg_schema : str
        The PostgreSQL schema of the CDM tables.

    Returns
    -------
    ScreenResult
    """
    import duckdb
    import pyarrow as pa
    import pyarrow.compute as pc

    from ..knowledge import load_knowledge_base

    report = progress or (lambda stage, done, total: None)
    seconds: dict[str, float] = {}
    start = time.perf_counter()
    con = duckdb.connect(config={"memory_limit": memory_limit, "threads": threads or (os.cpu_count() or 1)})
    try:
        register_duckdb(con, tables, schema=pg_schema)
        persons = con.execute("SELECT COUNT(*) FROM person").fetchall()[0][0]
        records, latest = con.execute("SELECT COUNT(*), MAX(start_date) FROM cx_records").fetchall()[0]
        report("load", 1, 1)
        day = as_of or latest or dt.date.today()
        seconds["load"] = time.perf_counter() - start

        start = time.perf_counter()
        cands = candidates_sql(screens, as_of=day, lookback_days=lookback_days)
        con.execute(f"CREATE OR REPLACE TEMPORARY TABLE cx_candidates AS {cands}").fetchall()
        long = con.sql(f"SELECT * FROM ({selection_sql(as_of=day)}) ORDER BY person_id").to_arrow_table()
        report("select", 1, 1)
        seconds["select"] = time.perf_counter() - start
    finally:
        con.close()

    start = time.perf_counter()
    index = long.filter(pc.equal(long.column("domain"), "index"))
    candidates = {s.id: 0 for s in screens}
    for screen in index.column("code").to_pylist():
        candidates[screen] += 1
    kb = load_knowledge_base()
    chunks = _chunks(long, CHUNK_PEOPLE)
    people = sum(1 for _ in set(index.column("person_id").to_pylist()))
    wanted = workers if workers is not None else (1 if people < 1000 else min(2, os.cpu_count() or 1))
    parts: list[Any] = []
    report("assess", 0, len(chunks))
    if wanted <= 1 or len(chunks) <= 1:
        for i, chunk in enumerate(chunks):
            parts.append(assess_rows(chunk, screens=screens, as_of=day, kb=kb))
            report("assess", i + 1, len(chunks))
    else:
        context = multiprocessing.get_context("fork")
        with ProcessPoolExecutor(max_workers=wanted, mp_context=context) as pool:
            futures = [pool.submit(_assess_chunk, chunk, tuple(screens), day) for chunk in chunks]
            for done, future in enumerate(as_completed(futures), start=1):
                parts.append(future.result())
                report("assess", done, len(chunks))
    worklist = pa.concat_tables(parts) if parts else worklist_schema().empty_table()
    seconds["assess"] = time.perf_counter() - start
    return ScreenResult(
        worklist=sort_worklist(worklist), engine="duckdb", as_of=day, screens=tuple(s.id for s in screens),
        persons=int(persons), records=int(records), candidates=candidates, seconds=seconds,
    )


def clinical_tables() -> tuple[str, ...]:
    """The clinical tables read (for messages)."""
    return CLINICAL_TABLES
