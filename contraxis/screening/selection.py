"""Candidate selection, written once as SQL that DuckDB and Spark SQL both run unchanged.

:func:`selection_sql` turns compiled screens into one query over the views ``cx_records``
and ``cx_person`` (:mod:`.omop`). It returns, for every candidate, a long table of rows
sharing one schema (:data:`LONG_COLUMNS`): one ``index`` row per screen the person is a
candidate for (code: the screen id, start date: the index date), one ``person`` row (code:
sex, start date: birth date, source value: the source id) and every clinical record of the
person up to the screen date. It is two texts: :func:`candidates_sql` (one row per candidate and screen, which
each engine keeps as the table ``cx_candidates``) and :func:`selection_sql` (the long table
read from it). The engines differ only in how they run them and how they hand the rows,
person by person, to :func:`contraxis.screening.assembly.assess_rows`.

Selection is generous: a record counts when its concept code *or* its source value is one of
the screen's codes, and a laboratory bound is applied in the unit that gives the highest
number. The assessment decides; selection only keeps the rest of the population out.

The SQL uses only what both dialects share: ``CAST``, ``COALESCE``, ``CASE``, ``LIKE``,
``IN`` lists and subqueries, ``UNION ALL``, ``GROUP BY ... HAVING``, date literals and
comparisons; no date arithmetic, no regular expressions, no dialect functions.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from .screens import CompiledCriterion, CompiledScreen

__all__ = ["LONG_COLUMNS", "candidates_sql", "selection_sql"]

LONG_COLUMNS: tuple[str, ...] = (
    "person_id", "domain", "vocabulary", "code", "source_value", "start_date", "end_date", "value", "unit",
)
"""The columns of the long table the selection returns, in order."""


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _date(day: dt.date) -> str:
    return f"DATE '{day.isoformat()}'"


def _matches(criterion: CompiledCriterion, alias: str) -> str:
    domain = "condition" if criterion.kind == "condition" else "measurement"
    codes = ", ".join(_quote(c) for c in criterion.codes)
    terms = [f"{alias}.code IN ({codes})", f"{alias}.source_value IN ({codes})"]
    terms += [f"{alias}.code LIKE {_quote(p + '%')}" for p in criterion.prefixes]
    terms += [f"{alias}.source_value LIKE {_quote(p + '%')}" for p in criterion.prefixes]
    sql = f"{alias}.domain = '{domain}' AND ({' OR '.join(terms)})"
    if criterion.below is not None:
        sql += f" AND {alias}.value < {criterion.below!r}"
    return sql


def _screen_sql(screen: CompiledScreen, *, as_of: dt.date, lookback_days: int | None) -> str:
    days = lookback_days if lookback_days is not None else screen.row.lookback_days
    start = as_of - dt.timedelta(days=days)
    sql = (
        f"SELECT r.person_id AS person_id, {_quote(screen.id)} AS screen, MIN(r.start_date) AS index_date "
        f"FROM cx_records r WHERE {_matches(screen.index, 'r')} AND r.start_date <= {_date(as_of)}"
    )
    if screen.with_:
        either = " OR ".join(f"({_matches(c, 'w')})" for c in screen.with_)
        sql += (f" AND r.person_id IN (SELECT w.person_id FROM cx_records w WHERE ({either}) "
                f"AND w.start_date <= {_date(as_of)})")
    return sql + f" GROUP BY r.person_id HAVING MIN(r.start_date) >= {_date(start)}"


def candidates_sql(screens: Sequence[CompiledScreen], *, as_of: dt.date, lookback_days: int | None = None) -> str:
    """One row per candidate and screen: ``person_id, screen, index_date``.

    Parameters
    ----------
    screens : sequence of CompiledScreen
    as_of : datetime.date
        The screen date: records after it are not read.
    lookback_days : int, optional
        How far back an index date may lie, for every screen; each screen's own by default.
    """
    return "\nUNION ALL\n".join(_screen_sql(s, as_of=as_of, lookback_days=lookback_days) for s in screens)


def selection_sql(*, as_of: dt.date) -> str:
    """The long table of every candidate (:data:`LONG_COLUMNS`), for both engines.

    It reads the table or view ``cx_candidates`` that the engine made from
    :func:`candidates_sql` (made once, so that neither engine computes it twice).

    Parameters
    ----------
    as_of : datetime.date
        The screen date: records after it are not read.

    Returns
    -------
    str
        A single SELECT (no trailing semicolon).
    """
    return (
        "SELECT k.person_id AS person_id, 'index' AS domain, CAST(NULL AS STRING) AS vocabulary, "
        "k.screen AS code, CAST(NULL AS STRING) AS source_value, k.index_date AS start_date, "
        "CAST(NULL AS DATE) AS end_date, CAST(NULL AS DOUBLE) AS value, CAST(NULL AS STRING) AS unit "
        "FROM cx_candidates k\n"
        "UNION ALL\n"
        "SELECT p.person_id, 'person', CAST(NULL AS STRING), p.sex, p.person_source_value, p.birth_date, "
        "CAST(NULL AS DATE), CAST(NULL AS DOUBLE), CAST(NULL AS STRING) "
        "FROM cx_person p WHERE p.person_id IN (SELECT person_id FROM cx_candidates)\n"
        "UNION ALL\n"
        "SELECT r.person_id, r.domain, r.vocabulary, r.code, r.source_value, r.start_date, r.end_date, r.value, r.unit "
        f"FROM cx_records r WHERE r.start_date <= {_date(as_of)} "
        "AND r.person_id IN (SELECT person_id FROM cx_candidates)"
    )
