"""Benchmark of the core engine: assessments per second on one core."""

from __future__ import annotations

import os
import time
from pathlib import Path

from .case import load_case
from .engine import assess
from .errors import CaseError, Problem
from .knowledge import load_knowledge_base

__all__ = ["bench_assess"]


def _pin_one_core() -> str:
    try:
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
        return "pinned to one core"
    except (AttributeError, OSError):  # pragma: no cover - not on Linux
        return "not pinned (no sched_setaffinity)"


def _rate(fn, items, seconds: float) -> tuple[float, int]:
    for item in items:  # warm-up: every case once
        fn(item)
    n = 0
    start = time.perf_counter()
    deadline = start + seconds
    while True:
        for item in items:
            fn(item)
        n += len(items)
        now = time.perf_counter()
        if now >= deadline:
            return n / (now - start), n


def bench_assess(directory: str | Path, *, seconds: float = 5.0) -> str:
    """Run every case of ``directory`` repeatedly for ``seconds``; return the report text.

    Two figures: the engine alone (a validated case in, an assessment out, codes and
    cross-references included) and the whole path from YAML text to JSON.
    """
    pinned = _pin_one_core()
    paths = sorted(Path(directory).glob("*.y*ml")) + sorted(Path(directory).glob("*.json"))
    if not paths:
        raise CaseError([Problem("", "no .yaml, .yml or .json cases in this folder")], source=str(directory))
    texts = [(str(p), p.read_text(encoding="utf-8")) for p in paths]
    kb = load_knowledge_base()
    cases = [load_case(name, text=text) for name, text in texts]
    engine_rate, n1 = _rate(lambda c: assess(c, kb=kb), cases, seconds / 2)
    full_rate, n2 = _rate(lambda t: assess(load_case(t[0], text=t[1]), kb=kb).to_json(), texts, seconds / 2)
    return (
        f"contraxis bench assess: {len(cases)} cases from {directory} ({pinned}, knowledge base {kb.version})\n"
        f"  engine (case -> assessment):        {engine_rate:9.0f} assessments/s  ({n1} runs)\n"
        f"  end to end (YAML text -> JSON data): {full_rate:9.0f} assessments/s  ({n2} runs)"
    )
