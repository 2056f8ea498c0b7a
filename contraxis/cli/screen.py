"""``contraxis screen generate|run|report`` and ``contraxis bench screen``: cohort screening.

Only Typer is imported here; screening, DuckDB, Spark and Rich are imported by the command
that runs.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import typer

__all__ = ["bench_screen_command", "screen_app"]

screen_app = typer.Typer(
    help="Cohort screening: find the patients whose record shows a must-not-miss pattern nobody acted on.",
    no_args_is_help=True,
)


def _fail(error: Exception) -> None:
    from . import fail

    fail(error)  # type: ignore[arg-type]


def _progress_bar() -> tuple[Any, Any]:
    """A Rich progress display on standard error and a ``(stage, done, total)`` callback driving it."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    progress = Progress(TextColumn("{task.description:<8}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                        console=Console(stderr=True), transient=False)
    tasks: dict[str, Any] = {}

    def update(stage: str, done: int, total: int) -> None:
        if stage not in tasks:
            tasks[stage] = progress.add_task(stage, total=max(total, 1))
        progress.update(tasks[stage], completed=done, total=max(total, 1))

    return progress, update


@screen_app.command("generate")
def generate_command(
    patients: int = typer.Option(..., "--patients", min=100, help="People in the population."),
    out: Path = typer.Option(..., "--out", help="Folder to write the Parquet OMOP tables and truth.csv to."),
    seed: int = typer.Option(0, "--seed", help="Random seed: the same seed gives the same files."),
) -> None:
    """Write a synthetic OMOP population with planted patients and near-misses (Parquet tables, truth.csv)."""
    from ..screening.generate import generate_population

    progress, update = _progress_bar()
    with progress:
        population = generate_population(patients, out, seed=seed, progress=lambda done, total: update(
            "generate", done, total))
    typer.echo(json.dumps({"directory": str(population.directory), "persons": population.persons,
                           "rows": population.rows, "truth": population.truth}, indent=2))


@screen_app.command("run")
def run_command(
    source: str = typer.Argument(..., help="OMOP folder (CSV or Parquet), DuckDB file, postgresql:// URL, "
                                            "or FHIR Bulk export folder."),
    out: Path = typer.Option(Path("worklist.csv"), "--out", help="Worklist CSV; .parquet, .summary.json and .html "
                                                                  "are written beside it."),
    engine: str = typer.Option("duckdb", "--engine", help="duckdb (in-process) or spark."),
    screen: list[str] = typer.Option(None, "--screen", help="Screen id to run (repeat); all by default."),
    lookback_days: int = typer.Option(None, "--lookback-days", min=1, max=36500,
                                      help="Look-back for every screen; each screen's own by default."),
    as_of: str = typer.Option(None, "--as-of", help="Screen date (YYYY-MM-DD); the latest record date by default."),
    master: str = typer.Option("local[2]", "--master", help="Spark master (spark engine)."),
    database: str = typer.Option(None, "--database", help="Catalog database of the OMOP tables (spark engine)."),
    bench: bool = typer.Option(False, "--bench", help="Print the time of each stage and the peak memory."),
) -> None:
    """Screen a population and write the worklist: one row per person and alert nobody acted on."""
    import resource
    import time

    from ..errors import ContraxisError
    from ..screening import run_screen, write_outputs

    if engine not in ("duckdb", "spark"):
        from . import _err

        _err().print(f"[bold red]error:[/] --engine: {engine!r} is not one of duckdb, spark")
        raise typer.Exit(code=2)
    try:
        day = dt.date.fromisoformat(as_of) if as_of else None
    except ValueError:
        from . import _err

        _err().print(f"[bold red]error:[/] --as-of: {as_of[:40]!r} is not a date (YYYY-MM-DD)")
        raise typer.Exit(code=2) from None
    options: dict[str, Any] = {"master": master, "database": database} if engine == "spark" else {}
    progress, update = _progress_bar()
    start = time.perf_counter()
    try:
        with progress:
            result = run_screen(source, engine=engine, screens=screen or None, as_of=day,
                                lookback_days=lookback_days, progress=update, **options)
            written = time.perf_counter()
            paths = write_outputs(result, out)
            result.seconds["write"] = time.perf_counter() - written
            update("write", 1, 1)
    except ContraxisError as error:
        _fail(error)
        return
    summary = result.summary()
    summary["outputs"] = dict(paths)
    if bench:
        summary["seconds"]["total"] = round(time.perf_counter() - start, 2)
        peak = max(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
                   resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
        summary["peak_rss_mb_largest_process"] = round(peak / 1024)
    typer.echo(json.dumps(summary, indent=2))


@screen_app.command("report")
def report_command(
    worklist: Path = typer.Argument(..., help="A worklist CSV written by `contraxis screen run`."),
) -> None:
    """Print the counts per screen of a worklist and write its HTML report again (beside it)."""
    import pyarrow.parquet as pq

    from ..screening.report import render_html
    from ..screening.result import ScreenResult

    stem = worklist.with_suffix("")
    summary_path, parquet = Path(f"{stem}.summary.json"), Path(f"{stem}.parquet")
    if not summary_path.exists() or not parquet.exists():
        from . import _err

        _err().print(f"[bold red]error:[/] {worklist}: no {summary_path.name} and {parquet.name} beside it "
                     "(write them with `contraxis screen run`)")
        raise typer.Exit(code=2)
    summary = json.loads(summary_path.read_text(encoding="utf-8"))
    result = ScreenResult(worklist=pq.read_table(parquet), engine=summary["engine"],
                          as_of=dt.date.fromisoformat(summary["as_of"]), screens=tuple(summary["screens"]),
                          persons=summary["persons"], records=summary["records"], candidates=summary["candidates"],
                          seconds={k: float(v) for k, v in summary["seconds"].items()})
    html_path = Path(f"{stem}.html")
    html_path.write_text(render_html(result), encoding="utf-8")
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"{worklist} ({summary['engine']}, as of {summary['as_of']})")
    for column in ("screen", "candidates", "on the worklist"):
        table.add_column(column, justify="left" if column == "screen" else "right")
    for screen_id, count in result.counts().items():
        table.add_row(screen_id, str(summary["candidates"].get(screen_id, "")), str(count))
    Console().print(table)
    typer.echo(f"report: {html_path}")


def bench_screen_command(
    patients: list[int] = typer.Option([100_000, 1_000_000], "--patients", min=100,
                                       help="Population sizes (repeat)."),
    engine: list[str] = typer.Option(["duckdb", "spark"], "--engine", help="Engines (repeat)."),
    workdir: Path = typer.Option(Path("screen-bench"), "--workdir", help="Where populations and worklists go."),
    seed: int = typer.Option(1, "--seed"),
    timeout: float = typer.Option(1800.0, "--timeout", min=10, help="Seconds before a run is stopped."),
) -> None:
    """Generate populations and screen each end to end on each engine; print time, memory and truth found."""
    from ..screening.bench import bench_screen, render_bench

    rows = bench_screen(patients, engines=engine, workdir=workdir, seed=seed, timeout=timeout, echo=typer.echo)
    typer.echo(render_bench(rows))
