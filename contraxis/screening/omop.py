"""OMOP CDM v5.4 inputs: where the tables are, and one SQL view of every clinical record.

:func:`find_tables` finds the tables of an OMOP CDM v5.4 database given as a folder of CSV or
Parquet files (``PERSON.csv``, ``person.parquet`` or a folder ``person/`` of Parquet parts,
in any letter case), a DuckDB database file, or a PostgreSQL URL. Only the tables screening
reads are looked for: ``person``, ``condition_occurrence``, ``drug_exposure``,
``measurement``, ``observation``, ``procedure_occurrence`` and the vocabulary table
``concept``; a clinical table that is missing is read as empty.

:data:`RECORDS_SQL` is one SQL text, run unchanged by DuckDB and by Spark SQL, that turns the
clinical tables into one long view ``cx_records`` of (person, domain, vocabulary, code,
source value, start date, end date, value, unit). How concepts are read:

* a row whose ``*_concept_id`` is found in ``concept`` is read as that concept's vocabulary and
  code (SNOMED CT for conditions, RxNorm for drugs, LOINC for measurements, UCUM for units);
* a row whose concept is 0 (unmapped) or absent from ``concept`` (or with no ``concept``
  table) is read from its ``*_source_value``; its vocabulary is recognised later from the
  code's shape (:func:`contraxis.screening.assembly.vocabulary_of`);
* either way, what the terminology resolvers of Contraxis do not know is reported as not read
  for a candidate, never guessed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import CaseError, Problem

__all__ = [
    "CLINICAL_TABLES",
    "EMPTY_TABLE_SQL",
    "PERSON_SQL",
    "RECORDS_SQL",
    "TABLES",
    "OmopTables",
    "find_tables",
]

CLINICAL_TABLES: tuple[str, ...] = (
    "condition_occurrence", "drug_exposure", "measurement", "observation", "procedure_occurrence",
)
TABLES: tuple[str, ...] = ("person", *CLINICAL_TABLES, "concept")

# The columns read from each table, with the SQL type of an empty stand-in.
COLUMNS: dict[str, tuple[tuple[str, str], ...]] = {
    "person": (("person_id", "BIGINT"), ("gender_concept_id", "BIGINT"), ("year_of_birth", "INT"),
               ("month_of_birth", "INT"), ("day_of_birth", "INT"), ("birth_datetime", "TIMESTAMP"),
               ("person_source_value", "STRING")),
    "condition_occurrence": (("person_id", "BIGINT"), ("condition_concept_id", "BIGINT"),
                             ("condition_start_date", "DATE"), ("condition_end_date", "DATE"),
                             ("condition_source_value", "STRING")),
    "drug_exposure": (("person_id", "BIGINT"), ("drug_concept_id", "BIGINT"), ("drug_exposure_start_date", "DATE"),
                      ("drug_exposure_end_date", "DATE"), ("drug_source_value", "STRING")),
    "measurement": (("person_id", "BIGINT"), ("measurement_concept_id", "BIGINT"), ("measurement_date", "DATE"),
                    ("value_as_number", "DOUBLE"), ("unit_concept_id", "BIGINT"),
                    ("measurement_source_value", "STRING"), ("unit_source_value", "STRING")),
    "observation": (("person_id", "BIGINT"), ("observation_concept_id", "BIGINT"), ("observation_date", "DATE"),
                    ("value_as_number", "DOUBLE"), ("unit_concept_id", "BIGINT"),
                    ("observation_source_value", "STRING"), ("unit_source_value", "STRING")),
    "procedure_occurrence": (("person_id", "BIGINT"), ("procedure_concept_id", "BIGINT"),
                             ("procedure_date", "DATE"), ("procedure_source_value", "STRING")),
    "concept": (("concept_id", "BIGINT"), ("vocabulary_id", "STRING"), ("concept_code", "STRING")),
}


def EMPTY_TABLE_SQL(table: str) -> str:  # noqa: N802 - a SQL text, named like the constants beside it
    """A SELECT of no rows with the columns screening reads from ``table`` (same text for both engines)."""
    cols = ", ".join(f"CAST(NULL AS {kind}) AS {name}" for name, kind in COLUMNS[table])
    return f"SELECT {cols} WHERE 1 = 0"


def _domain(table: str, domain: str, concept: str, source: str, start: str, end: str | None,
            value: str | None, unit_concept: str | None, unit_source: str | None) -> str:
    end_sql = f"CAST(t.{end} AS DATE)" if end else "CAST(NULL AS DATE)"
    value_sql = f"CAST(t.{value} AS DOUBLE)" if value else "CAST(NULL AS DOUBLE)"
    if unit_concept:
        unit_sql = f"COALESCE(u.concept_code, CAST(t.{unit_source} AS STRING))"
        unit_join = f" LEFT JOIN concept u ON u.concept_id = t.{unit_concept} AND t.{unit_concept} <> 0"
    else:
        unit_sql, unit_join = "CAST(NULL AS STRING)", ""
    return (
        f"SELECT CAST(t.person_id AS BIGINT) AS person_id, '{domain}' AS domain, c.vocabulary_id AS vocabulary, "
        f"COALESCE(c.concept_code, CAST(t.{source} AS STRING)) AS code, CAST(t.{source} AS STRING) AS source_value, "
        f"CAST(t.{start} AS DATE) AS start_date, {end_sql} AS end_date, {value_sql} AS value, {unit_sql} AS unit "
        f"FROM {table} t LEFT JOIN concept c ON c.concept_id = t.{concept} AND t.{concept} <> 0{unit_join}"
    )


RECORDS_SQL: str = "\nUNION ALL\n".join([
    _domain("condition_occurrence", "condition", "condition_concept_id", "condition_source_value",
            "condition_start_date", "condition_end_date", None, None, None),
    _domain("drug_exposure", "drug", "drug_concept_id", "drug_source_value", "drug_exposure_start_date",
            "drug_exposure_end_date", None, None, None),
    _domain("measurement", "measurement", "measurement_concept_id", "measurement_source_value", "measurement_date",
            None, "value_as_number", "unit_concept_id", "unit_source_value"),
    _domain("observation", "observation", "observation_concept_id", "observation_source_value", "observation_date",
            None, "value_as_number", "unit_concept_id", "unit_source_value"),
    _domain("procedure_occurrence", "procedure", "procedure_concept_id", "procedure_source_value", "procedure_date",
            None, None, None, None),
])
"""Every clinical record as one row of ``cx_records`` (DuckDB and Spark SQL alike)."""

PERSON_SQL: str = (
    "SELECT CAST(p.person_id AS BIGINT) AS person_id, "
    "CASE CAST(p.gender_concept_id AS BIGINT) WHEN 8507 THEN 'male' WHEN 8532 THEN 'female' ELSE 'unknown' END AS sex, "
    "COALESCE(CAST(p.birth_datetime AS DATE), make_date(CAST(p.year_of_birth AS INT), "
    "CAST(COALESCE(p.month_of_birth, 7) AS INT), CAST(COALESCE(p.day_of_birth, 1) AS INT))) AS birth_date, "
    "CAST(p.person_source_value AS STRING) AS person_source_value FROM person p"
)
"""One row per person: sex (OMOP gender concepts 8507 male, 8532 female), birth date (the
birth datetime, else year, month and day with a missing month read as July and a missing day
as the 1st), and the source system's id."""


@dataclass(frozen=True)
class OmopTables:
    """Where the tables of one OMOP CDM database are.

    Parameters
    ----------
    kind : str
        ``parquet``, ``csv``, ``duckdb`` or ``postgres``.
    location : str
        The folder, database file or URL.
    paths : dict
        Table name (lower case) -> file or folder path (``parquet`` and ``csv``), or the table's
        name in the database (``duckdb``, ``postgres``). A clinical table not here is read as empty.
    """

    kind: str
    location: str
    paths: dict[str, str] = field(default_factory=dict)

    def missing(self) -> tuple[str, ...]:
        """The tables looked for and not found."""
        return tuple(t for t in TABLES if t not in self.paths)


_POSTGRES = re.compile(r"^postgres(ql)?://", re.IGNORECASE)


def find_tables(location: str | Path) -> OmopTables:
    """Find the OMOP tables at ``location``.

    Parameters
    ----------
    location : str or path
        A folder of CSV or Parquet files (one file, or one folder of parts, per table; names in
        any letter case), a DuckDB database file (``.duckdb``, ``.db``), or a PostgreSQL URL
        (``postgresql://user@host/db``, read through DuckDB's postgres extension).

    Returns
    -------
    OmopTables

    Raises
    ------
    CaseError
        When the location does not exist, holds no ``person`` table, or mixes CSV and Parquet.
    """
    text = str(location)
    if _POSTGRES.match(text):
        return OmopTables("postgres", text, {t: t for t in TABLES})
    path = Path(text)
    if not path.exists():
        raise CaseError([Problem("input", f"{text!r} does not exist (give a folder of OMOP CSV or Parquet tables, "
                                          "a DuckDB file or a postgresql:// URL)")])
    if path.is_file():
        if path.suffix.lower() not in (".duckdb", ".db"):
            raise CaseError([Problem("input", f"{path.name!r} is not a DuckDB database (.duckdb or .db) nor a folder")])
        return OmopTables("duckdb", str(path), {t: t for t in TABLES})
    found: dict[str, dict[str, str]] = {"parquet": {}, "csv": {}}
    for entry in sorted(path.iterdir()):
        name = entry.name.lower()
        for kind, suffixes in (("parquet", (".parquet",)), ("csv", (".csv", ".csv.gz"))):
            for suffix in suffixes:
                stem = name[: -len(suffix)] if name.endswith(suffix) else None
                if stem in TABLES:
                    found[kind][stem] = str(entry)
        if entry.is_dir() and name in TABLES and any(entry.glob("*.parquet")):
            found["parquet"][name] = str(entry)
    kinds = [k for k, v in found.items() if "person" in v]
    if not kinds:
        raise CaseError([Problem("input", f"{text!r} holds no person table (PERSON.csv, person.parquet or a "
                                          "person/ folder of Parquet files)")])
    if len(kinds) > 1:
        raise CaseError([Problem("input", f"{text!r} holds the person table both as CSV and as Parquet: keep one")])
    return OmopTables(kinds[0], str(path), found[kinds[0]])
