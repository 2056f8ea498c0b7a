"""The end-to-end screening benchmark: generated populations screened on each engine.

For each size, a population is generated once (not timed), then screened end to end (load,
select, assemble and assess, write the worklist and report) on each engine, each run in its
own process so that its peak memory (resident set, the process and its children) is its own.
The figures say whether every planted patient was found and no near-miss was.
"""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

__all__ = ["bench_screen", "check_truth", "render_bench", "run_one"]


def check_truth(worklist_csv: str | Path, truth_csv: str | Path) -> dict[str, int]:
    """Planted patients found and missed, near-misses flagged, other rows: from a worklist and ``truth.csv``."""
    with open(truth_csv, encoding="utf-8") as handle:
        truth = list(csv.DictReader(handle))
    with open(worklist_csv, encoding="utf-8") as handle:
        found = {(r["person_id"], r["screen"]) for r in csv.DictReader(handle) if r["alert"] != "not-assessed"}
    planted = {(t["person_id"], t["screen"]) for t in truth if t["kind"] == "planted"}
    near = {(t["person_id"], t["screen"]) for t in truth if t["kind"] == "near-miss"}
    return {"planted": len(planted), "found": len(planted & found), "missed": len(planted - found),
            "near_miss_flagged": len(near & found), "other": len(found - planted - near)}


def run_one(population: str, engine: str, out: str) -> dict[str, Any]:
    """Screen one population on one engine in this process and write the outputs; the figures as a dict."""
    from . import run_screen, write_outputs

    start = time.perf_counter()
    result = run_screen(population, engine=engine)
    written = time.perf_counter()
    write_outputs(result, out)
    result.seconds["write"] = time.perf_counter() - written
    total = time.perf_counter() - start
    summary = result.summary()
    summary["seconds"]["total"] = round(total, 2)
    summary["truth"] = check_truth(out, Path(population) / "truth.csv")
    return summary


def _tree_rss_kb(root: int) -> int:
    """Resident memory (kB) of a process and all its descendants, from /proc (0 where /proc is absent)."""
    parents: dict[int, int] = {}
    rss: dict[int, int] = {}
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            status = (entry / "status").read_text()
        except OSError:
            continue
        pid = int(entry.name)
        parents[pid] = int(stat[1])
        for line in status.splitlines():
            if line.startswith("VmRSS:"):
                rss[pid] = int(line.split()[1])
    tree, frontier = {root}, [root]
    while frontier:
        parent = frontier.pop()
        for pid, ppid in parents.items():
            if ppid == parent and pid not in tree:
                tree.add(pid)
                frontier.append(pid)
    return sum(rss.get(pid, 0) for pid in tree)


def _measure(population: Path, engine: str, out: Path, timeout: float) -> dict[str, Any]:
    code = ("import json, sys; from contraxis.screening.bench import run_one; "
            "print('CX-BENCH ' + json.dumps(run_one(sys.argv[1], sys.argv[2], sys.argv[3])))")
    start = time.perf_counter()
    peak = 0
    with subprocess.Popen([sys.executable, "-c", code, str(population), engine, str(out)],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as proc:
        while proc.poll() is None:
            peak = max(peak, _tree_rss_kb(proc.pid))
            if time.perf_counter() - start > timeout:
                proc.kill()
                proc.communicate()
                return {"engine": engine, "error": f"stopped after {timeout:.0f} s"}
            time.sleep(0.5)
        stdout, stderr = proc.communicate()
    wall = time.perf_counter() - start
    lines = [line for line in stdout.splitlines() if line.startswith("CX-BENCH ")]
    if proc.returncode != 0 or not lines:
        return {"engine": engine, "error": (stderr.strip().splitlines() or ["no output"])[-1][:300]}
    figures = json.loads(lines[-1][len("CX-BENCH "):])
    figures["wall_seconds"] = round(wall, 2)
    figures["peak_rss_mb"] = round(peak / 1024, 0)
    return figures


def bench_screen(
    sizes: Sequence[int],
    *,
    engines: Sequence[str] = ("duckdb", "spark"),
    workdir: str | Path,
    seed: int = 1,
    timeout: float = 1800.0,
    echo: Callable[[str], None] = print,
) -> list[dict[str, Any]]:
    """Generate each population size and screen it on each engine; one figures dict per run.

    Peak memory is the largest sum of resident memory over the run's process tree (the Python
    process, its worker processes and, for Spark, the JVM and its Python workers), sampled
    every half second from /proc. Each run is stopped after ``timeout`` seconds.
    """
    from .generate import generate_population

    work = Path(workdir)
    out: list[dict[str, Any]] = []
    for size in sizes:
        population = work / f"population-{size}"
        if not (population / "truth.csv").exists():
            echo(f"generating {size:,} patients in {population} ...")
            start = time.perf_counter()
            generate_population(size, population, seed=seed)
            echo(f"  generated in {time.perf_counter() - start:.1f} s")
        for engine in engines:
            echo(f"screening {size:,} patients on {engine} ...")
            figures = _measure(population, engine, work / f"worklist-{size}-{engine}.csv", timeout)
            figures["patients"] = size
            out.append(figures)
            echo("  " + render_bench([figures]).splitlines()[-1])
    return out


def render_bench(rows: Sequence[dict[str, Any]]) -> str:
    """The figures as a Markdown table."""
    lines = ["| patients | engine | end to end s | load s | select s | assess s | write s | peak memory MB "
             "| candidates | worklist rows | planted found | near-misses flagged |",
             "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        if "error" in r:
            lines.append(f"| {r.get('patients', 0):,} | {r['engine']} | {r['error']} |||||||||")
            continue
        s = r["seconds"]
        truth = r["truth"]
        lines.append(
            f"| {r['patients']:,} | {r['engine']} | {r.get('wall_seconds', s['total']):.1f} | {s.get('load', 0):.1f} | "
            f"{s.get('select', 0):.1f} | {s.get('assess', 0):.1f} | {s.get('write', 0):.1f} | "
            f"{r['peak_rss_mb']:,.0f} | {sum(r['candidates'].values()):,} | {r['rows']:,} | "
            f"{truth['found']}/{truth['planted']} | {truth['near_miss_flagged']} |")
    return "\n".join(lines)


def cpu_count() -> int:
    """Cores available to this process."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
