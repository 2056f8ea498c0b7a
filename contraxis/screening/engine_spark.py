"""The scale-out engine: Apache Spark (PySpark), for warehouses that are a Spark or Databricks lakehouse.

The same SQL texts as the embedded engine (:data:`~.omop.RECORDS_SQL`,
:data:`~.omop.PERSON_SQL`, :func:`~.selection.selection_sql`) run in Spark SQL over the OMOP
tables (Parquet or CSV files, or tables of a catalog database); the candidates' records are
repartitioned by person and each partition is assessed in a Python worker with Arrow
(``DataFrame.mapInArrow``) by the same :func:`~.assembly.assess_rows` as the embedded engine.
Only the worklist comes back to the driver.
"""

from __future__ import annotations

import datetime as dt
import os
import sys
import time
from collections.abc import Iterator, Sequence
from typing import Any

from ..errors import CaseError, Problem
from .assembly import assess_rows, sort_worklist
from .omop import EMPTY_TABLE_SQL, PERSON_SQL, RECORDS_SQL, TABLES, OmopTables
from .result import Progress, ScreenResult
from .screens import CompiledScreen
from .selection import candidates_sql, selection_sql

__all__ = ["WORKLIST_DDL", "register_spark", "run_spark", "spark_session"]

WORKLIST_DDL = (
    "person_id BIGINT, alert STRING, screen STRING, urgency STRING, index_date DATE, age_at_index DOUBLE, "
    "rule STRING, facts STRING, source STRING, why STRING, next_steps STRING, evidence_missing STRING, "
    "not_read INT, person_source_value STRING"
)
"""The worklist's schema in Spark DDL (the Arrow schema of :func:`~.assembly.worklist_schema`)."""


def spark_session(master: str | None = "local[2]", *, app_name: str = "contraxis-screen",
                  driver_memory: str = "2g", partitions: int = 4) -> Any:
    """A Spark session for screening: the running one under ``spark-submit`` (``master=None``), else a new one.

    Python workers use this interpreter unless ``PYSPARK_PYTHON`` says otherwise; the web UI
    is off; Arrow is on.
    """
    from pyspark.sql import SparkSession

    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    builder = SparkSession.builder.appName(app_name)
    if master is not None:
        builder = (builder.master(master).config("spark.driver.memory", driver_memory)
                   .config("spark.ui.enabled", "false").config("spark.ui.showConsoleProgress", "false")
                   .config("spark.sql.shuffle.partitions", str(partitions)))
    session = builder.config("spark.sql.execution.arrow.pyspark.enabled", "true").getOrCreate()
    session.sparkContext.setLogLevel("ERROR")
    return session


def register_spark(spark: Any, tables: OmopTables | None = None, *, database: str | None = None) -> None:
    """Create the temporary views of the OMOP tables, ``cx_records`` and ``cx_person`` in Spark.

    Parameters
    ----------
    spark : pyspark.sql.SparkSession
    tables : OmopTables, optional
        Parquet or CSV files (:func:`~.omop.find_tables`).
    database : str, optional
        Instead of files: a catalog database holding the CDM tables (``omop.person``...).

    Raises
    ------
    CaseError
        When neither is given, or the input has no person table.
    """
    if database is not None:
        present = {t.name.lower() for t in spark.catalog.listTables(database)}
        for table in TABLES:
            body = f"SELECT * FROM {database}.{table}" if table in present else EMPTY_TABLE_SQL(table)
            spark.sql(f"CREATE OR REPLACE TEMPORARY VIEW {table} AS {body}")
        if "person" not in present:
            raise CaseError([Problem("input", f"database {database!r} holds no person table")])
    elif tables is not None and tables.kind in ("parquet", "csv"):
        for table in TABLES:
            path = tables.paths.get(table)
            if path is None:
                spark.sql(f"CREATE OR REPLACE TEMPORARY VIEW {table} AS {EMPTY_TABLE_SQL(table)}")
                continue
            reader = spark.read
            frame = (reader.parquet(path) if tables.kind == "parquet"
                     else reader.csv(path, header=True, inferSchema=True))
            frame.createOrReplaceTempView(table)
    else:
        kind = tables.kind if tables is not None else "nothing"
        raise CaseError([Problem("input", f"the Spark engine reads Parquet or CSV folders or a catalog database, "
                                          f"not {kind} (use the DuckDB engine for a DuckDB file or PostgreSQL)")])
    spark.sql(RECORDS_SQL).cache().createOrReplaceTempView("cx_records")
    spark.sql(PERSON_SQL).createOrReplaceTempView("cx_person")


def _assess_partition(screens: Sequence[CompiledScreen], as_of: dt.date) -> Any:
    def run(batches: Iterator[Any]) -> Iterator[Any]:
        import pyarrow as pa

        collected = list(batches)
        if not collected:
            return
        table = pa.Table.from_batches(collected)
        yield from assess_rows(table, screens=screens, as_of=as_of).to_batches()

    return run


def run_spark(
    tables: OmopTables | None,
    screens: Sequence[CompiledScreen],
    *,
    as_of: dt.date | None = None,
    lookback_days: int | None = None,
    spark: Any = None,
    master: str | None = "local[2]",
    database: str | None = None,
    partitions: int = 4,
    progress: Progress | None = None,
) -> ScreenResult:
    """Run screens on Spark.

    Parameters
    ----------
    tables : OmopTables or None
        Parquet or CSV files; None with ``database``.
    screens : sequence of CompiledScreen
    as_of : datetime.date, optional
        The screen date; the latest record date of the input by default.
    lookback_days : int, optional
        How far back an index date may lie, for every screen; each screen's own by default.
    spark : SparkSession, optional
        A running session; else one is made with ``master`` (None under ``spark-submit``).
    database : str, optional
        A catalog database holding the CDM tables, instead of files.
    partitions : int
        Partitions of the candidates' records (units of assessment work).
    progress : callable, optional
        ``(stage, done, total)``.

    Returns
    -------
    ScreenResult
    """
    report = progress or (lambda stage, done, total: None)
    session = spark or spark_session(master, partitions=partitions)
    seconds: dict[str, float] = {}
    start = time.perf_counter()
    register_spark(session, tables, database=database)
    persons = session.sql("SELECT COUNT(*) AS n FROM person").collect()[0]["n"]
    row = session.sql("SELECT COUNT(*) AS n, MAX(start_date) AS latest FROM cx_records").collect()[0]
    day = as_of or row["latest"] or dt.date.today()
    report("load", 1, 1)
    seconds["load"] = time.perf_counter() - start

    start = time.perf_counter()
    candidates = session.sql(candidates_sql(screens, as_of=day, lookback_days=lookback_days)).cache()
    candidates.createOrReplaceTempView("cx_candidates")
    counts = {r["screen"]: r["n"] for r in candidates.groupBy("screen").count()
              .withColumnRenamed("count", "n").collect()}
    long = session.sql(selection_sql(as_of=day)).repartition(partitions, "person_id")
    report("select", 1, 1)
    seconds["select"] = time.perf_counter() - start

    start = time.perf_counter()
    report("assess", 0, 1)
    worklist = long.mapInArrow(_assess_partition(tuple(screens), day), WORKLIST_DDL).toArrow()
    report("assess", 1, 1)
    seconds["assess"] = time.perf_counter() - start
    candidates.unpersist()
    return ScreenResult(
        worklist=sort_worklist(_conform(worklist)), engine="spark", as_of=day, screens=tuple(s.id for s in screens),
        persons=int(persons), records=int(row["n"]), candidates={s.id: int(counts.get(s.id, 0)) for s in screens},
        seconds=seconds,
    )


def _conform(table: Any) -> Any:
    """The worklist with exactly the Arrow types of the embedded engine."""
    from .assembly import worklist_schema

    return table.cast(worklist_schema())
