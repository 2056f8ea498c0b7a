"""A synthetic OMOP CDM population to measure screening with: background, planted, near-misses.

:func:`generate_population` writes Parquet OMOP tables (``person``, ``condition_occurrence``,
``drug_exposure``, ``measurement``, and empty ``observation`` and ``procedure_occurrence``)
and ``truth.csv`` (``person_id,screen,kind``, kind ``planted`` or ``near-miss``) into a
folder. The parameters (rates, the concept ids and codes used, the record types) are the data
file ``screening/data/population.yaml``; every concept id is one of the OMOP sample database
Synthea27Nj, and events whose concept that sample lacks carry concept id 0 and their source
code, as OMOP writes unmapped source codes.

The background never shows a must-not-miss pattern: dystonia that began before 50 has a
ceruloplasmin measured, before 21 also levodopa given; no antidopaminergic drug is given near
a dystonia; electrolytes of the background stay above the screens' bounds. On top of it, for
each screen, planted patients show the pattern with nobody acting on it, and near-misses show
it acted on (the drug stopped, the ceruloplasmin measured, levodopa given, the parathyroid
hormone measured, the sodium or magnesium measured again) or just outside it (a drug started
after the dystonia, dystonia that began at 51). The same seed gives the same files.
"""

from __future__ import annotations

import csv
import datetime as dt
import functools
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

__all__ = ["POPULATION_FILE", "Population", "generate_population", "load_population_parameters"]

POPULATION_FILE = Path(__file__).resolve().parent / "data" / "population.yaml"
CHUNK = 100_000
EPOCH = dt.date(1970, 1, 1)


@functools.lru_cache(maxsize=2)
def load_population_parameters(path: str | None = None) -> dict[str, Any]:
    """The generator's parameters (``screening/data/population.yaml``)."""
    return yaml.safe_load(Path(path or POPULATION_FILE).read_text(encoding="utf-8"))


@dataclass(frozen=True)
class Population:
    """What was written: the folder, people, rows per table, and truth rows per screen and kind."""

    directory: Path
    persons: int
    rows: dict[str, int]
    truth: dict[str, dict[str, int]]


def _schemas() -> dict[str, Any]:
    import pyarrow as pa

    return {
        "person": pa.schema([
            ("person_id", pa.int64()), ("gender_concept_id", pa.int64()), ("year_of_birth", pa.int32()),
            ("month_of_birth", pa.int32()), ("day_of_birth", pa.int32()), ("birth_datetime", pa.timestamp("s")),
            ("race_concept_id", pa.int64()), ("ethnicity_concept_id", pa.int64()),
            ("person_source_value", pa.string()), ("gender_source_value", pa.string()),
        ]),
        "condition_occurrence": pa.schema([
            ("condition_occurrence_id", pa.int64()), ("person_id", pa.int64()), ("condition_concept_id", pa.int64()),
            ("condition_start_date", pa.date32()), ("condition_end_date", pa.date32()),
            ("condition_type_concept_id", pa.int64()), ("condition_source_value", pa.string()),
            ("condition_source_concept_id", pa.int64()),
        ]),
        "drug_exposure": pa.schema([
            ("drug_exposure_id", pa.int64()), ("person_id", pa.int64()), ("drug_concept_id", pa.int64()),
            ("drug_exposure_start_date", pa.date32()), ("drug_exposure_end_date", pa.date32()),
            ("drug_type_concept_id", pa.int64()), ("days_supply", pa.int32()), ("drug_source_value", pa.string()),
            ("drug_source_concept_id", pa.int64()),
        ]),
        "measurement": pa.schema([
            ("measurement_id", pa.int64()), ("person_id", pa.int64()), ("measurement_concept_id", pa.int64()),
            ("measurement_date", pa.date32()), ("measurement_type_concept_id", pa.int64()),
            ("value_as_number", pa.float64()), ("unit_concept_id", pa.int64()),
            ("measurement_source_value", pa.string()), ("unit_source_value", pa.string()),
            ("measurement_source_concept_id", pa.int64()),
        ]),
        "observation": pa.schema([
            ("observation_id", pa.int64()), ("person_id", pa.int64()), ("observation_concept_id", pa.int64()),
            ("observation_date", pa.date32()), ("value_as_number", pa.float64()), ("unit_concept_id", pa.int64()),
            ("observation_source_value", pa.string()), ("unit_source_value", pa.string()),
        ]),
        "procedure_occurrence": pa.schema([
            ("procedure_occurrence_id", pa.int64()), ("person_id", pa.int64()), ("procedure_concept_id", pa.int64()),
            ("procedure_date", pa.date32()), ("procedure_source_value", pa.string()),
        ]),
    }


class _Tables:
    """Column buffers per table, flushed to Parquet writers."""

    def __init__(self, directory: Path) -> None:
        import pyarrow.parquet as pq

        self.schemas = _schemas()
        self.writers = {t: pq.ParquetWriter(directory / f"{t}.parquet", s, compression="zstd")
                        for t, s in self.schemas.items()}
        self.rows = dict.fromkeys(self.schemas, 0)
        self.ids = dict.fromkeys(self.schemas, 0)

    def write(self, table: str, columns: dict[str, Any]) -> None:
        import numpy as np
        import pyarrow as pa

        n = len(next(iter(columns.values())))
        if n == 0:
            return
        id_col = self.schemas[table].names[0]
        if id_col not in columns:
            columns = {id_col: np.arange(self.ids[table] + 1, self.ids[table] + n + 1, dtype=np.int64), **columns}
        self.ids[table] += n
        arrays = []
        for name, kind in zip(self.schemas[table].names, self.schemas[table].types, strict=True):
            values = columns.get(name)
            if values is None:
                arrays.append(pa.nulls(n, kind))
            elif pa.types.is_date32(kind) and isinstance(values, np.ndarray) and values.dtype.kind in "iu":
                arrays.append(pa.array(values.astype("int32"), pa.int32()).cast(pa.date32()))
            else:
                arrays.append(pa.array(values, kind))
        self.writers[table].write_table(pa.Table.from_arrays(arrays, schema=self.schemas[table]))
        self.rows[table] += n

    def close(self) -> None:
        for writer in self.writers.values():
            writer.close()


def _day(value: dt.date) -> int:
    return (value - EPOCH).days


def _background(rng: Any, ids: Any, births: Any, params: dict[str, Any], end: int, start: int,
                tables: _Tables, exclude: set[int]) -> None:
    """Background records of one chunk of people (vectorised)."""
    import numpy as np

    types = params["type_concepts"]
    codes = params["codes"]
    rates = params["rates"]
    n = len(ids)
    normal = np.array([int(i) not in exclude for i in ids])
    first = np.maximum(births, start)

    def dates(owner_idx: Any) -> Any:
        lo = first[owner_idx]
        return lo + (rng.random(len(owner_idx)) * np.maximum(end - lo, 1)).astype(np.int64)

    def pick(pool: list[dict[str, Any]], count: int, weights: bool = True) -> tuple[Any, Any]:
        w = np.array([p.get("weight", 1) for p in pool], dtype=float) if weights else np.ones(len(pool))
        idx = rng.choice(len(pool), size=count, p=w / w.sum())
        return (np.array([p["concept_id"] for p in pool], dtype=np.int64)[idx],
                np.array([str(p["code"]) for p in pool], dtype=object)[idx])

    # conditions of the sample's shape, for people who are neither planted nor near-misses
    per = rng.poisson(params["per_person"]["conditions"], n) * normal
    owner = np.repeat(np.arange(n), per)
    cid, code = pick(params["background_conditions"], len(owner))
    start_d = dates(owner)
    acute = rng.random(len(owner)) < 0.6
    tables.write("condition_occurrence", {
        "person_id": ids[owner], "condition_concept_id": cid, "condition_start_date": start_d,
        "condition_end_date": np.where(acute, start_d + 14, -1), "condition_type_concept_id":
            np.full(len(owner), types["condition"]), "condition_source_value": code,
        "condition_source_concept_id": np.zeros(len(owner), dtype=np.int64)})

    # muscle cramps and tetany (their electrolytes stay normal below)
    for key in ("muscle_cramp", "tetany"):
        owner = np.nonzero((rng.random(n) < rates[key]) & normal)[0]
        cid, code = pick(codes[key], len(owner), weights=False)
        tables.write("condition_occurrence", {
            "person_id": ids[owner], "condition_concept_id": cid, "condition_start_date": dates(owner),
            "condition_type_concept_id": np.full(len(owner), types["condition"]), "condition_source_value": code,
            "condition_source_concept_id": np.zeros(len(owner), dtype=np.int64)})

    # dystonia, acted on as it should be
    dyst = np.nonzero((rng.random(n) < rates["dystonia"]) & normal)[0]
    cid, code = pick(codes["dystonia"], len(dyst), weights=False)
    onset = dates(dyst)
    age = (onset - births[dyst]) / 365.25
    tables.write("condition_occurrence", {
        "person_id": ids[dyst], "condition_concept_id": cid, "condition_start_date": onset,
        "condition_type_concept_id": np.full(len(dyst), types["condition"]), "condition_source_value": code,
        "condition_source_concept_id": np.zeros(len(dyst), dtype=np.int64)})
    young = dyst[age < 50]
    young_onset = onset[age < 50]
    # the evidence comes after the onset but never after the onset's half-way point to the data's end
    _labs(tables, params, "ceruloplasmin", ids[young], young_onset + np.minimum(30, (end - young_onset) // 2),
          rng.uniform(20, 45, len(young)))
    child = dyst[age < 21]  # 20 in whole years, as ages are read
    child_onset = onset[age < 21]
    levo = codes["levodopa"][0]
    tables.write("drug_exposure", {
        "person_id": ids[child], "drug_concept_id": np.full(len(child), levo["concept_id"]),
        "drug_exposure_start_date": child_onset + np.minimum(60, (end - child_onset) // 2),
        "drug_exposure_end_date": child_onset + 150, "drug_type_concept_id":
            np.full(len(child), types["drug"]), "days_supply": np.full(len(child), 90),
        "drug_source_value": np.full(len(child), str(levo["code"]), dtype=object),
        "drug_source_concept_id": np.zeros(len(child), dtype=np.int64)})

    # drugs of the sample's shape, and antidopaminergic drugs for people with no dystonia
    per = rng.poisson(params["per_person"]["drugs"], n) * normal
    owner = np.repeat(np.arange(n), per)
    has_dystonia = np.zeros(n, dtype=bool)
    has_dystonia[dyst] = True
    anti = np.nonzero((rng.random(n) < rates["antidopaminergic"]) & normal & ~has_dystonia)[0]
    cid, code = pick(params["background_drugs"], len(owner))
    acid, acode = pick(codes["antidopaminergic"], len(anti), weights=False)
    owner_all = np.concatenate([owner, anti])
    start_d = dates(owner_all)
    supply = rng.choice(np.array([10, 30, 90]), size=len(owner_all))
    tables.write("drug_exposure", {
        "person_id": ids[owner_all], "drug_concept_id": np.concatenate([cid, acid]),
        "drug_exposure_start_date": start_d, "drug_exposure_end_date": start_d + supply,
        "drug_type_concept_id": np.full(len(owner_all), types["drug"]), "days_supply": supply.astype(np.int32),
        "drug_source_value": np.concatenate([code, acode]),
        "drug_source_concept_id": np.zeros(len(owner_all), dtype=np.int64)})

    # vital signs, and electrolytes within the screens' bounds
    per = rng.poisson(params["per_person"]["vitals"], n)
    owner = np.repeat(np.arange(n), per)
    which = rng.integers(0, len(codes["vitals"]), len(owner))
    vitals = codes["vitals"]
    mean = np.array([v["value"][0] for v in vitals])[which]
    sd = np.array([v["value"][1] for v in vitals])[which]
    tables.write("measurement", {
        "person_id": ids[owner], "measurement_concept_id": np.array([v["concept_id"] for v in vitals])[which],
        "measurement_date": dates(owner), "measurement_type_concept_id": np.full(len(owner), types["measurement"]),
        "value_as_number": np.round(np.abs(rng.normal(mean, sd)), 1),
        "unit_concept_id": np.array([v["unit_concept_id"] for v in vitals])[which],
        "measurement_source_value": np.array([str(v["code"]) for v in vitals], dtype=object)[which],
        "unit_source_value": np.array([v["unit"] for v in vitals], dtype=object)[which],
        "measurement_source_concept_id": np.zeros(len(owner), dtype=np.int64)})
    bounds = {"sodium": (140, 2.5, 126, 150, 0), "calcium": (9.4, 0.35, 8.6, 10.6, 1),
              "magnesium": (2.0, 0.15, 1.5, 2.6, 1), "potassium": (4.2, 0.35, 3.2, 5.4, 1)}
    for analyte, (mu, sigma, low, high, digits) in bounds.items():
        owner = np.nonzero((rng.random(n) < rates[analyte]) & normal)[0]
        owner = np.repeat(owner, rng.integers(1, 4, len(owner)))
        values = np.round(np.clip(rng.normal(mu, sigma, len(owner)), low, high), digits)
        _labs(tables, params, analyte, ids[owner], dates(owner), values)


def _labs(tables: _Tables, params: dict[str, Any], analyte: str, person_ids: Any, days: Any, values: Any,
          *, unit: str | None = None) -> None:
    import numpy as np

    lab = params["codes"]["labs"][analyte]
    n = len(person_ids)
    unit_concept = {"mg/dL": 8840, "mmol/L": 8753}.get(unit or "", lab["unit_concept_id"]) if unit else \
        lab["unit_concept_id"]
    tables.write("measurement", {
        "person_id": np.asarray(person_ids, dtype=np.int64), "measurement_concept_id":
            np.full(n, lab["concept_id"], dtype=np.int64), "measurement_date": np.asarray(days, dtype=np.int64),
        "measurement_type_concept_id": np.full(n, params["type_concepts"]["measurement"], dtype=np.int64),
        "value_as_number": np.asarray(values, dtype=float), "unit_concept_id": np.full(n, unit_concept, dtype=np.int64),
        "measurement_source_value": np.full(n, str(lab["code"]), dtype=object),
        "unit_source_value": np.full(n, unit or lab["unit"], dtype=object),
        "measurement_source_concept_id": np.zeros(n, dtype=np.int64)})


@dataclass
class _Planted:
    """Records of the planted patients and near-misses, written after the background."""

    conditions: list[tuple[int, dict[str, Any], int]]
    drugs: list[tuple[int, dict[str, Any], int, int]]
    labs: list[tuple[int, str, int, float, str | None]]
    truth: list[tuple[int, str, str]]
    births: dict[int, int]


def _plant(rng: Any, params: dict[str, Any], people: list[int], end: int) -> _Planted:
    """Give each person of ``people`` one planted pattern or near-miss, in turn, and a birth
    date that puts the onset at the age the pattern needs; index dates fall in the last two
    years of the data (inside every screen's look-back), follow-up events after them."""
    codes = params["codes"]
    out = _Planted([], [], [], [], {})
    dyst = codes["dystonia"]
    cramps = codes["muscle_cramp"] + codes["tetany"]

    def index_day() -> int:
        return end - int(rng.integers(70, 700))

    def dystonia(pid: int, day: int) -> None:
        out.conditions.append((pid, dyst[int(rng.integers(0, len(dyst)))], day))

    def cramp(pid: int, day: int) -> None:
        out.conditions.append((pid, cramps[int(rng.integers(0, len(cramps)))], day))

    def antidopaminergic(pid: int, first: int, last: int) -> None:
        drugs = codes["antidopaminergic"]
        out.drugs.append((pid, drugs[int(rng.integers(0, len(drugs)))], first, last))

    def adr(pid: int, day: int, kind: str) -> None:
        out.births[pid] = day - int(float(rng.uniform(52, 80)) * 365.25)
        dystonia(pid, day)
        if kind == "after":
            antidopaminergic(pid, day + int(rng.integers(10, 60)), day + 90)
        else:
            first = day - int(rng.integers(1, 6))
            antidopaminergic(pid, first, day + 2 if kind == "stopped" else first + 30)
        out.truth.append((pid, "drug-induced-dystonia", "planted" if kind == "planted" else "near-miss"))

    def wilson(pid: int, day: int, kind: str) -> None:
        age = 51.2 if kind == "at-51" else float(rng.uniform(22, 48))
        out.births[pid] = day - int(age * 365.25)
        dystonia(pid, day)
        if kind == "measured":
            out.labs.append((pid, "ceruloplasmin", day + int(rng.integers(5, 60)), float(rng.uniform(20, 40)), None))
        out.truth.append((pid, "wilson-screen", "planted" if kind == "planted" else "near-miss"))

    def dopa(pid: int, day: int, kind: str) -> None:
        out.births[pid] = day - int(float(rng.uniform(8, 19.5)) * 365.25)
        dystonia(pid, day)
        out.labs.append((pid, "ceruloplasmin", day + int(rng.integers(5, 60)), float(rng.uniform(20, 40)), None))
        if kind == "given":
            levo = codes["levodopa"][0]
            out.drugs.append((pid, levo, day + 30, day + 120))
        out.truth.append((pid, "dopa-trial", "planted" if kind == "planted" else "near-miss"))

    def electrolyte(pid: int, day: int, kind: str, screen: str) -> None:
        out.births[pid] = day - int(float(rng.uniform(30, 80)) * 365.25)
        cramp(pid, day - int(rng.integers(1, 60)))
        if screen == "hypocalcemic-tetany":
            mmol = bool(rng.integers(0, 2))
            value = float(rng.uniform(6.4, 8.2))
            out.labs.append((pid, "calcium", day, round(value / 4.008, 2) if mmol else round(value, 1),
                             "mmol/L" if mmol else None))
            if kind == "acted":
                out.labs.append((pid, "parathyroid-hormone", day + int(rng.integers(0, 10)),
                                 float(rng.uniform(90, 200)), None))
        elif screen == "severe-hyponatremia":
            out.labs.append((pid, "sodium", day, float(rng.integers(114, 124)), None))
            if kind == "acted":
                out.labs.append((pid, "sodium", day + 1, float(rng.integers(126, 131)), None))
        else:
            out.labs.append((pid, "magnesium", day, round(float(rng.uniform(0.6, 1.1)), 2), None))
            if kind == "acted":
                again = round(float(rng.uniform(1.3, 1.8)), 2)
                out.labs.append((pid, "magnesium", day + int(rng.integers(1, 4)), again, None))
        out.truth.append((pid, screen, "planted" if kind == "planted" else "near-miss"))

    makers: list[Callable[[int, int], None]] = [
        lambda p, b: adr(p, b, "planted"), lambda p, b: adr(p, b, "stopped"), lambda p, b: adr(p, b, "after"),
        lambda p, b: wilson(p, b, "planted"), lambda p, b: wilson(p, b, "measured"), lambda p, b: wilson(p, b, "at-51"),
        lambda p, b: dopa(p, b, "planted"), lambda p, b: dopa(p, b, "given"),
    ]
    for screen in ("hypocalcemic-tetany", "severe-hyponatremia", "severe-hypomagnesemia"):
        makers += [lambda p, b, s=screen: electrolyte(p, b, "planted", s),
                   lambda p, b, s=screen: electrolyte(p, b, "acted", s)]
    for i, pid in enumerate(people):
        makers[i % len(makers)](pid, index_day())
    # no event after the data's last date
    out.drugs = [(p, c, min(a, end), min(b, end + 365)) for p, c, a, b in out.drugs]
    out.labs = [(p, a, min(d, end), v, u) for p, a, d, v, u in out.labs]
    return out


def _write_planted(tables: _Tables, params: dict[str, Any], planted: _Planted) -> None:
    import numpy as np

    types = params["type_concepts"]
    if planted.conditions:
        tables.write("condition_occurrence", {
            "person_id": np.array([p for p, _, _ in planted.conditions], dtype=np.int64),
            "condition_concept_id": np.array([c["concept_id"] for _, c, _ in planted.conditions], dtype=np.int64),
            "condition_start_date": np.array([d for _, _, d in planted.conditions], dtype=np.int64),
            "condition_type_concept_id": np.full(len(planted.conditions), types["condition"]),
            "condition_source_value": [str(c["code"]) for _, c, _ in planted.conditions],
            "condition_source_concept_id": np.zeros(len(planted.conditions), dtype=np.int64)})
    if planted.drugs:
        tables.write("drug_exposure", {
            "person_id": np.array([p for p, _, _, _ in planted.drugs], dtype=np.int64),
            "drug_concept_id": np.array([c["concept_id"] for _, c, _, _ in planted.drugs], dtype=np.int64),
            "drug_exposure_start_date": np.array([a for _, _, a, _ in planted.drugs], dtype=np.int64),
            "drug_exposure_end_date": np.array([b for _, _, _, b in planted.drugs], dtype=np.int64),
            "drug_type_concept_id": np.full(len(planted.drugs), types["drug"]),
            "days_supply": np.array([max(b - a, 1) for _, _, a, b in planted.drugs], dtype=np.int32),
            "drug_source_value": [str(c["code"]) for _, c, _, _ in planted.drugs],
            "drug_source_concept_id": np.zeros(len(planted.drugs), dtype=np.int64)})
    for pid, analyte, day, value, unit in planted.labs:
        _labs(tables, params, analyte, [pid], [day], [value], unit=unit)


def generate_population(
    patients: int,
    out: str | Path,
    *,
    seed: int = 0,
    parameters: dict[str, Any] | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Population:
    """Write a synthetic OMOP population with planted patients and near-misses.

    Parameters
    ----------
    patients : int
        People in the population (planted patients and near-misses included), at least 100.
    out : str or path
        The folder to write; created, and emptied of earlier tables if it exists.
    seed : int
        The random seed: the same seed and size give the same files.
    parameters : dict, optional
        The generator's parameters; ``screening/data/population.yaml`` by default.
    progress : callable, optional
        ``(people written, patients)`` after each chunk of 100,000 people.

    Returns
    -------
    Population
        The folder, the rows written per table and the truth counts.

    Raises
    ------
    ValueError
        When ``patients`` is below 100.
    """
    import numpy as np
    import pyarrow as pa

    if patients < 100:
        raise ValueError(f"patients must be at least 100 (got {patients})")
    params = parameters or load_population_parameters()
    directory = Path(out)
    directory.mkdir(parents=True, exist_ok=True)
    for old in directory.glob("*.parquet"):
        old.unlink() if old.is_file() else shutil.rmtree(old)
    rng = np.random.default_rng(seed)
    end = _day(params["end_date"] if isinstance(params["end_date"], dt.date)
               else dt.date.fromisoformat(str(params["end_date"])))
    start = end - int(params["years"] * 365.25)

    makers = 14
    per_kind = max(int(round(patients * params["planted_per_100k"] / 100_000)), params["minimum"])
    planted_count = min(per_kind * makers, patients // 2)
    chosen = [int(i) for i in rng.choice(np.arange(1, patients + 1), size=planted_count, replace=False)]
    planted = _plant(rng, params, chosen, end)
    planted_ids = set(chosen)

    tables = _Tables(directory)
    try:
        for low in range(1, patients + 1, CHUNK):
            high = min(low + CHUNK, patients + 1)
            ids = np.arange(low, high, dtype=np.int64)
            n = len(ids)
            ages = np.clip(rng.gamma(4.0, 10.0, n), 0.5, 98)
            mask = np.isin(ids, np.fromiter(planted_ids, dtype=np.int64)) if planted_ids else np.zeros(n, bool)
            births = end - (ages * 365.25).astype(np.int64)
            births[mask] = [planted.births[int(pid)] for pid in ids[mask]]
            birth_dates = births.astype("datetime64[D]")
            years = birth_dates.astype("datetime64[Y]").astype(int) + 1970
            months = birth_dates.astype("datetime64[M]").astype(int) % 12 + 1
            days = (birth_dates - birth_dates.astype("datetime64[M]")).astype(int) + 1
            male = rng.random(n) < 0.49
            tables.write("person", {
                "person_id": ids, "gender_concept_id": np.where(male, params["gender_concepts"]["male"],
                                                                params["gender_concepts"]["female"]),
                "year_of_birth": years.astype(np.int32), "month_of_birth": months.astype(np.int32),
                "day_of_birth": days.astype(np.int32),
                "birth_datetime": pa.array(births * 86400, pa.int64()).cast(pa.timestamp("s")),
                "race_concept_id": np.zeros(n, dtype=np.int64), "ethnicity_concept_id": np.zeros(n, dtype=np.int64),
                "person_source_value": [f"synthetic-{i}" for i in ids],
                "gender_source_value": np.where(male, "M", "F").astype(object),
            })
            _background(rng, ids, births, params, end, start, tables, planted_ids)
            if progress is not None:
                progress(high - 1, patients)
        _write_planted(tables, params, planted)
    finally:
        tables.close()
    _null_end_dates(directory)
    truth: dict[str, dict[str, int]] = {}
    with (directory / "truth.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["person_id", "screen", "kind"])
        for pid, screen, kind in sorted(planted.truth):
            writer.writerow([pid, screen, kind])
            truth.setdefault(screen, {}).setdefault(kind, 0)
            truth[screen][kind] += 1
    return Population(directory, patients, dict(tables.rows), truth)


def _null_end_dates(directory: Path) -> None:
    """Rewrite condition end dates written as -1 (no end) as nulls."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    path = directory / "condition_occurrence.parquet"
    table = pq.read_table(path)
    ends = table.column("condition_end_date")
    days = ends.cast(pa.int32())
    fixed = pc.if_else(pc.less(days, 0), pa.scalar(None, pa.date32()), ends)
    table = table.set_column(table.schema.get_field_index("condition_end_date"), "condition_end_date", fixed)
    pq.write_table(table, path, compression="zstd")
