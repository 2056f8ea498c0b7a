"""``contraxis bench registry``: load generated patients and visits and compute the cohort overview.

Each generated patient has a dystonia that begins in one region and, visit after visit,
may spread to a contiguous segment (the knowledge base's contiguity) or gain a sign that
points away from primary dystonia; visits are three to nine months apart. Every visit goes
through the same path as ``contraxis registry add-visit`` (read, assess, store), 500 per
transaction; then the cohort overview is computed. The generator is seeded: the same seed
gives the same visits.
"""

from __future__ import annotations

import datetime as dt
import os
import random
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .store import NewVisit, Registry, local_actor

__all__ = ["BenchReport", "bench_registry", "generate_visits"]

START_REGIONS = ("neck", "neck", "neck", "upper-face", "larynx", "right-arm", "left-arm", "jaw")
"""Where a generated dystonia begins (cervical the commonest, as in clinics)."""
NAMED = {"neck": "HP:0000473", "upper-face": "HP:0000643", "larynx": "HP:0012049", "jaw": "HP:0012048"}
"""The finding that names each focal form (torticollis, blepharospasm, laryngeal and
oromandibular dystonia); a limb dystonia is given as sustained contractions and a posture."""
LATE_SIGNS = ("HP:0001300", "HP:0001251", "HP:0001257")
"""Signs a few generated patients gain (parkinsonism, ataxia, spasticity)."""


def _case(rng: random.Random, regions: list[str], *, age: float, onset: float, sex: str,
          signs: list[str]) -> dict[str, Any]:
    findings = ["CX:sustained-contractions", "CX:abnormal-posture"]
    findings += [NAMED[r] for r in regions if r in NAMED]
    if rng.random() < 0.5:
        findings.append("CX:sensory-trick")
    findings += signs
    absent = [c for c in ("HP:0001337", "HP:0001300", "HP:0001251", "HP:0001257") if c not in findings]
    return {"age": round(age, 1), "sex": sex, "onset_age": round(onset, 1), "course": "progressive",
            "regions": list(regions), "findings": list(dict.fromkeys(findings)), "absent": absent,
            "imaging": {"mri_brain": "normal"}, "family_history": False,
            "severity": rng.choice(("mild", "moderate", "severe")), "disabling": rng.random() < 0.3}


def generate_visits(patients: int, visits: int, *, seed: int = 0, contiguous: dict[str, list[str]] | None = None,
                    segment_regions: dict[str, list[str]] | None = None) -> Iterator[NewVisit]:
    """Generated visits, patient after patient (``patients`` x ``visits``)."""
    rng = random.Random(seed)
    contiguous = contiguous or {}
    segment_regions = segment_regions or {}
    today = dt.date.today()
    for p in range(patients):
        pseudonym = f"B-{p:06d}"
        regions = [rng.choice(START_REGIONS)]
        onset = rng.uniform(25, 60)
        age = onset + rng.uniform(0.5, 5)
        sex = rng.choice(("female", "female", "male"))
        day = today - dt.timedelta(days=int(visits * 270 + rng.uniform(30, 2000)))
        signs: list[str] = []
        for _ in range(visits):
            yield NewVisit(pseudonym, day, _case(rng, regions, age=age, onset=onset, sex=sex, signs=signs),
                           f"generated {pseudonym}")
            gap = rng.randint(90, 270)
            day += dt.timedelta(days=gap)
            age += gap / 365.25
            if rng.random() < 0.15:
                here = [s for r in regions for s in contiguous.get(_segment(r, segment_regions), [])]
                if here:
                    choices = [r for s in here for r in segment_regions.get(s, []) if r not in regions]
                    if choices:
                        regions.append(rng.choice(choices))
            if rng.random() < 0.02 and len(signs) < 2:
                signs.append(rng.choice([s for s in LATE_SIGNS if s not in signs]))


def _segment(region: str, segment_regions: dict[str, list[str]]) -> str:
    return next((s for s, rs in segment_regions.items() if region in rs), region)


@dataclass(frozen=True)
class BenchReport:
    """The figures of one run."""

    url: str
    patients: int
    visits: int
    load_seconds: float
    overview_seconds: float
    overview: dict[str, Any]
    size_bytes: int | None

    def text(self) -> str:
        rate = self.visits / self.load_seconds if self.load_seconds else 0.0
        size = f", database {self.size_bytes / 1e6:.0f} MB" if self.size_bytes else ""
        o = self.overview
        return "\n".join([
            f"contraxis bench registry: {self.patients:,} patients x {self.visits // max(self.patients, 1)} visits "
            f"on {self.url.split(':', 1)[0]}{size}",
            f"  load (read, assess, store every visit):  {self.load_seconds:8.1f} s  ({rate:,.0f} visits/s)",
            f"  cohort overview:                          {self.overview_seconds:8.2f} s",
            f"  overview: {o['patients']:,} patients, {o['visits']:,} visits; newest distribution "
            + ", ".join(f"{k} {v:,}" for k, v in o["distribution_latest"].items()),
        ])


def bench_registry(*, patients: int = 10_000, visits: int = 10, url: str | None = None, seed: int = 0,
                   progress: Callable[[int, int], None] | None = None) -> BenchReport:
    """Load ``patients`` x ``visits`` generated visits into a registry and compute its cohort overview.

    Parameters
    ----------
    url : str, optional
        The registry (made if new); a new SQLite file in a temporary folder by default,
        removed afterwards.
    progress : callable, optional
        Called with (visits done, visits in all) after each transaction.
    """
    folder = None
    if url is None:
        folder = tempfile.mkdtemp(prefix="contraxis-bench-registry-")
        url = f"sqlite:///{Path(folder) / 'registry.sqlite'}"
    try:
        registry = Registry.init(url, actor=local_actor())
        layout = registry.kb.regions
        segment_regions: dict[str, list[str]] = {}
        for name, info in layout.regions.items():
            if info.segment is not None:
                segment_regions.setdefault(info.segment, []).append(name)
        total = patients * visits
        items = generate_visits(patients, visits, seed=seed, contiguous=dict(layout.contiguous),
                                segment_regions=segment_regions)
        start = time.perf_counter()
        done = registry.add_visits(items, batch=500,
                                   progress=(lambda n: progress(n, total)) if progress is not None else None)
        load = time.perf_counter() - start
        start = time.perf_counter()
        overview = registry.cohort()
        seconds = time.perf_counter() - start
        size = None
        if url.startswith("sqlite:///"):
            path = Path(url.removeprefix("sqlite:///"))
            size = sum(os.path.getsize(p) for p in (path, Path(f"{path}-wal")) if p.exists())
        registry.close()
        return BenchReport(url, patients, done, load, seconds, overview.to_json(), size)
    finally:
        if folder is not None:
            import shutil

            shutil.rmtree(folder, ignore_errors=True)
