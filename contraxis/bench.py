"""Benchmark of the core engine: assessments per second on one core."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .case import load_case
from .engine import assess
from .errors import CaseError, Problem
from .knowledge import load_knowledge_base

__all__ = ["Rate", "bench_assess", "measure_rate", "pin_one_core"]


def pin_one_core() -> bool:
    """Pin this process to one core (Linux); False when it cannot be."""
    try:
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
        return True
    except (AttributeError, OSError):  # pragma: no cover - not on Linux
        return False


@dataclass(frozen=True, slots=True)
class Rate:
    """How fast a function went over items: ``count`` calls, per second of wall time and of
    this process's CPU time (the same on a quiet machine, lower wall on a busy one)."""

    count: int
    per_second: float
    per_cpu_second: float


def measure_rate(fn: Callable[[Any], Any], items: Sequence[Any], seconds: float) -> Rate:
    """Call ``fn`` on every item once (warm-up), then on all of them round after round until
    ``seconds`` of wall time have passed."""
    for item in items:
        fn(item)
    n = 0
    start, cpu = time.perf_counter(), time.process_time()
    deadline = start + seconds
    while True:
        for item in items:
            fn(item)
        n += len(items)
        now = time.perf_counter()
        if now >= deadline:
            return Rate(n, n / (now - start), n / max(time.process_time() - cpu, 1e-9))


def bench_assess(directory: str | Path, *, seconds: float = 5.0) -> str:
    """Run every case of ``directory`` repeatedly for ``seconds``; return the report text.

    Two figures: the engine alone (a validated case in, an assessment out, codes and
    cross-references included) and the whole path from YAML text to JSON.
    """
    pinned = "pinned to one core" if pin_one_core() else "not pinned (no sched_setaffinity)"
    paths = sorted(Path(directory).glob("*.y*ml")) + sorted(Path(directory).glob("*.json"))
    if not paths:
        raise CaseError([Problem("", "no .yaml, .yml or .json cases in this folder")], source=str(directory))
    texts = [(str(p), p.read_text(encoding="utf-8")) for p in paths]
    kb = load_knowledge_base()
    cases = [load_case(name, text=text) for name, text in texts]
    engine = measure_rate(lambda c: assess(c, kb=kb), cases, seconds / 2)
    full = measure_rate(lambda t: assess(load_case(t[0], text=t[1]), kb=kb).to_json(), texts, seconds / 2)
    engine_rate, n1, full_rate, n2 = engine.per_second, engine.count, full.per_second, full.count
    return (
        f"contraxis bench assess: {len(cases)} cases from {directory} ({pinned}, knowledge base {kb.version})\n"
        f"  engine (case -> assessment):        {engine_rate:9.0f} assessments/s  ({n1} runs)\n"
        f"  end to end (YAML text -> JSON data): {full_rate:9.0f} assessments/s  ({n2} runs)"
    )
