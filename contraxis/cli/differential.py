"""The differential's two commands: ``contraxis differential`` and ``contraxis bench differential``.

Both are plain functions with Typer parameters; ``contraxis/cli/__init__.py`` registers them.
Rich (the tables and progress bars) is imported only when a table is printed, so registering
the commands costs nothing to the other commands.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from ..errors import CaseError, ContraxisError, Problem

if TYPE_CHECKING:  # pragma: no cover
    from rich.console import Console
    from rich.table import Table

    from ..reading import Reading

__all__ = ["bench_differential_command", "differential_command", "read_cases"]


def read_cases(path: Path) -> Iterator[Reading]:
    """Yield one :class:`~contraxis.reading.Reading` per input in a file: a native case, a
    vignette, a FHIR R4 Bundle or resource, a phenopacket v2 (JSON or YAML), or several of
    them as JSON Lines (gzipped or not), recognised by their shape
    (:func:`contraxis.io.detect.iter_input_file`).

    Raises
    ------
    CaseError
        When the file cannot be read, or at the first input that cannot be read.
    """
    from ..io.detect import iter_input_file

    yield from iter_input_file(path)


def _fail(error: ContraxisError) -> None:
    from . import fail

    fail(error)


def _console(*, stderr: bool = False) -> Console:
    """A Rich console with the report's theme."""
    from rich.console import Console

    from ..report.terminal import THEME

    return Console(theme=THEME, stderr=stderr)


def _table(result: Any, *, top: int) -> Table:
    from rich.table import Table
    from rich.text import Text

    from ..differential.ranking import shown_probability

    table = Table(show_header=True, header_style="cx.title", expand=True, show_lines=False)
    table.add_column("#", no_wrap=True, justify="right")
    table.add_column("disease")
    table.add_column("genes")
    table.add_column("P", justify="right", no_wrap=True)
    table.add_column("log10 LR", justify="right", no_wrap=True)
    table.add_column("why")
    for candidate in result.candidates[:top]:
        name = Text(candidate.name, style="cx.title")
        name.append(f"\n{candidate.disease_id}", style="cx.muted")
        if candidate.mds_name:
            name.append(f"  {candidate.mds_name}", style="cx.value")
        if candidate.treatment is not None:
            name.append(f"\ntreatable: {candidate.treatment.name}", style="cx.ok")
        explanation = candidate.explanation
        why = Text()
        matched = explanation.matched[:4]
        if matched:
            why.append("matches " + ", ".join(f"{m.name} {m.log10_lr:+.1f}" for m in matched))
        if explanation.unexplained_count:
            why.append(f"\n{explanation.unexplained_count} not explained", style="cx.muted")
        against = [line for line in explanation.excluded if line.match == "against"][:2]
        if against:
            why.append("\nabsent: " + ", ".join(f"{a.name} {a.log10_lr:+.1f}" for a in against), style="cx.muted")
        if explanation.missing:
            why.append("\nexpected: " + ", ".join(m.name for m in explanation.missing[:2]), style="cx.muted")
        for fact in explanation.facts:
            why.append(f"\n{fact.text}", style="cx.value" if fact.log10_lr >= 0 else "cx.muted")
        table.add_row(
            str(candidate.rank),
            name,
            ", ".join(candidate.genes[:4]) + (" ..." if len(candidate.genes) > 4 else ""),
            f"{shown_probability(candidate.post_test_probability):.3g}",
            f"{candidate.score:.1f}",
            why,
        )
    return table


def _print(console: Console, reading: Reading, result: Any, *, top: int) -> None:
    from rich.console import Group
    from rich.text import Text

    head = Text(f"Differential for {result.case_id or '(no id)'}", style="cx.title")
    head.append(f"  HPO {result.hpo_release}; {result.n_diseases} diseases ranked", style="cx.muted")
    parts: list[Any] = [head]
    from ..differential.ranking import answer_not_read, nothing_to_rank

    not_read = answer_not_read(reading, result)
    if not_read:
        block = Text("Not read or changed:", style="cx.title")
        for item in not_read:
            block.append(f"\n  {item.path}: {item.value}", style="cx.value")
            block.append(f" ({item.reason})", style="cx.muted")
        parts.append(block)
    note = nothing_to_rank(reading, result)
    if note is not None:
        parts.append(Text(note[0].upper() + note[1:] + ".", style="cx.value"))
        console.print(Group(*parts))
        return
    parts.append(_table(result, top=top))
    if result.genes:
        parts.append(
            Text(
                "Gene tests: " + ", ".join(f"{g.gene} ({min(g.probability, 0.999):.3g})" for g in result.genes[:8]),
                style="cx.value",
            )
        )
    console.print(Group(*parts))


def differential_command(
    file: Path = typer.Argument(
        ...,
        help=(
            "A native case or vignette (YAML or JSON), a FHIR R4 Bundle or resource, a GA4GH phenopacket v2 "
            "(JSON or YAML), or several as JSON Lines (.jsonl, .jsonl.gz); recognised by their shape."
        ),
    ),
    jsonl: bool = typer.Option(False, "--jsonl", help="Print one JSON line per case instead of a table."),
    as_json: bool = typer.Option(
        False, "--json", help="Print one JSON object (a list of them for several cases) instead of a table."
    ),
    top: int = typer.Option(50, "--top", min=1, max=1000, help="How many candidates to list."),
) -> None:
    """Rank every HPO-annotated disease and the acquired causes for each case in FILE.

    Every JSON answer carries ``not_read``: each item of the input not used or changed,
    with its path, value and reason.
    """
    from ..differential import load_index, rank
    from ..differential.ranking import differential_answer

    if jsonl and as_json:
        _fail(CaseError([Problem("--json", "give --json or --jsonl, not both")]))
    console = None if jsonl or as_json else _console()
    answers: list[dict[str, Any]] = []
    try:
        index = load_index()
        for reading in read_cases(file):
            result = rank(reading.case, index=index, top=top, onset_term=reading.extra.get("onset_term"))
            if jsonl:
                typer.echo(json.dumps(differential_answer(reading, result, line=True), ensure_ascii=False))
            elif as_json:
                answers.append(differential_answer(reading, result))
            else:
                assert console is not None
                _print(console, reading, result, top=min(top, 20))
    except ContraxisError as error:
        _fail(error)
        return
    if as_json:
        typer.echo(json.dumps(answers[0] if len(answers) == 1 else answers, ensure_ascii=False))


def _figures(table: Table, label: str, result: Any) -> None:
    table.add_row(
        label,
        str(len(result.ranks)),
        str(len(result.known)),
        str(result.unknown),
        f"{result.top(1):.3f}",
        f"{result.top(3):.3f}",
        f"{result.top(10):.3f}",
        f"{result.mrr:.3f}",
        f"{result.ms_per_case:.2f}",
    )


def _reliability(title: str, calibration: Any) -> Table:
    from rich import box
    from rich.table import Table

    table = Table(
        title=title, header_style="cx.title", box=box.SIMPLE_HEAD, padding=(0, 1), show_edge=False,
        caption=f"expected calibration error (ECE) {calibration.ece:.3f} over {len(calibration.confidence)} cases "
        "given a list; a case whose diagnosis is not ranked counts as wrong",
        caption_justify="left",
    )
    for column in ("P of the first row", "cases", "mean P", "first row right"):
        table.add_column(column, justify="right", no_wrap=True)
    for row in calibration.table():
        table.add_row(f"{row['low']:.1f}-{row['high']:.1f}", str(row["cases"]), f"{row['probability']:.3f}",
                      f"{row['correct']:.3f}")
    return table


def _where_missed(report: Any, index: Any) -> list[Any]:
    """The figures as listed by whether the annotation cites the case's own publication, and
    the publications whose cases miss the first ten most often (none without publications)."""
    from rich import box
    from rich.table import Table
    from rich.text import Text

    split = report.by_citation()
    if not split:
        return []
    by_citation = Table(
        title="As listed, by the case's own publication", header_style="cx.title", box=box.SIMPLE_HEAD,
        padding=(0, 1), show_edge=False, caption_justify="left",
        caption="annotation cites it: a row of the diagnosis's annotation cites the publication the case comes from",
    )
    for column in ("publication", "cases", "known", "top-1", "top-10"):
        by_citation.add_column(column, justify="left" if column == "publication" else "right", no_wrap=True)
    for label, result in split:
        by_citation.add_row(label, str(len(result.ranks)), str(len(result.known)), f"{result.top(1):.3f}",
                            f"{result.top(10):.3f}")
    missed = Table(
        title="Publications whose cases miss the first ten most often", header_style="cx.title",
        box=box.SIMPLE_HEAD, padding=(0, 1), show_edge=False, caption_justify="left",
        caption="cited: known cases whose diagnosis's annotation cites the publication",
    )
    missed.add_column("publication", no_wrap=True, min_width=13)
    missed.add_column("diagnosis", no_wrap=True, overflow="ellipsis", max_width=18)
    for column in ("known", "cited", "top-1", "top-10", "misses"):
        missed.add_column(column, justify="right", no_wrap=True, min_width=max(len(column), 5))
    worst = report.publications_missed()
    if not worst:
        return [by_citation, Text("No publication's cases miss the first ten.", style="cx.muted")]
    for figures in worst:
        first = figures.diagnoses[0] if figures.diagnoses else ""
        position = index.disease_position.get(first)
        name = f"{first} {index.disease_names[position]}" if position is not None else first
        more = f" (+{len(figures.diagnoses) - 1})" if len(figures.diagnoses) > 1 else ""
        result = figures.result
        missed.add_row(figures.publication or "none", name + more, str(len(result.known)), str(figures.cited),
                       f"{result.top(1):.3f}", f"{result.top(10):.3f}", str(result.misses(10)))
    return [by_citation, missed]


def _fewer(mine: Any, theirs: Any, k: int) -> str:
    miss_theirs, miss_mine = theirs.misses(k), mine.misses(k)
    if miss_theirs == 0:
        return f"top-{k}: {miss_mine} misses, hpo3 none"
    change = (miss_theirs - miss_mine) / miss_theirs
    return f"top-{k}: {miss_mine} misses against {miss_theirs} ({abs(change):.0%} {'fewer' if change >= 0 else 'more'})"


def bench_differential_command(
    set_path: Path = typer.Argument(
        ..., help="Phenopackets with known diagnoses, as JSON Lines (.jsonl or .jsonl.gz)."
    ),
    hpo3_sample: int | None = typer.Option(
        400,
        "--hpo3-sample",
        min=1,
        help="How many evenly spaced cases hpo3 ranks (it takes about 0.3 s per case); all when larger than the set.",
    ),
    no_hpo3: bool = typer.Option(False, "--no-hpo3", help="Rank with Contraxis only."),
    no_lpo: bool = typer.Option(
        False, "--no-leave-publication-out", help="Leave out the figures with each case's own publication left out."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the figures as JSON."),
) -> None:
    """Top-1/3/10 and MRR of the known diagnosis: Contraxis as the list shows it and among OMIM
    entries, with each case's publication left out, beside hpo3's similarity on the same cases;
    and the calibration of the first row's probability."""
    from rich import box
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
    from rich.table import Table
    from rich.text import Text

    from ..differential import load_index
    from ..differential.benchmark import publications_for, read_publications, run_benchmark
    from ..io.phenopacket import iter_phenopackets

    console = _console(stderr=True)
    try:
        start = time.perf_counter()
        index = load_index()
        startup = time.perf_counter() - start
        cases = list(iter_phenopackets(set_path))
        if not cases:
            raise CaseError([Problem("", "holds no phenopacket")], source=str(set_path))
        publications = None if no_lpo else publications_for(cases, read_publications(set_path))
        with Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
            transient=True,
        ) as bar:
            tasks: dict[str, Any] = {}

            def progress(method: str, done: int, total: int) -> None:
                if method not in tasks:
                    tasks[method] = bar.add_task(method, total=total)
                bar.update(tasks[method], completed=done)

            report = run_benchmark(
                cases, index=index, set_name=str(set_path), hpo3_sample=hpo3_sample, run_hpo3=not no_hpo3,
                publications=publications, startup_seconds=startup, progress=progress,
            )
    except ContraxisError as error:
        _fail(error)
        return
    if as_json:
        typer.echo(json.dumps(report.to_json()))
        return
    out = _console()
    caption = (
        "listed: the place in the list as shown, every row counted, a disease once whichever of its ids the "
        "phenopacket names; OMIM: among the OMIM entries only, as hpo3 ranks; LPO: leave publication out, "
        "without the annotations of the case's own publication; ms: milliseconds per case"
    )
    if report.hpo3 is not None:
        caption += (f"; sample: {len(report.sample)} evenly spaced cases; hpo3: resnik, funSimAvg, "
                    "every OMIM disease")
    table = Table(
        title=f"{set_path.name}: rank of the known diagnosis", caption=caption,
        header_style="cx.title", box=box.SIMPLE_HEAD, padding=(0, 0), show_edge=False, caption_justify="left",
    )
    for column in ("method", "cases", "known", "unknown", "top-1", "top-3", "top-10", "MRR", "ms"):
        table.add_column(column, justify="left" if column == "method" else "right", no_wrap=True)
    for label, result in report.rows():
        _figures(table, label, result)
    out.print(table)
    out.print(_reliability("Calibration of the first row's post-test probability", report.calibration))
    if report.calibration_lpo is not None:
        out.print(Text(
            f"With the publication left out: ECE {report.calibration_lpo.ece:.3f}; "
            f"{report.left_out.get('cases_touched', 0)} cases lost annotations "
            f"({report.left_out.get('rows_left_out', 0)} annotation rows in all).",
            style="cx.muted",
        ))
    for where in _where_missed(report, index):
        out.print(where)
    out.print(Text(
        f"Start-up (index load): {report.startup_seconds:.2f} s; HPO {index.releases.get('ontology')} "
        f"with annotations {index.releases.get('annotation')}",
        style="cx.muted",
    ))
    if report.hpo3 is not None:
        mine, theirs = report.on_sample(report.listed), report.hpo3
        speed = theirs.ms_per_case / mine.ms_per_case if mine.ms_per_case > 0 else float("inf")
        out.print(Text(
            f"On the sample, Contraxis as listed against hpo3: {_fewer(mine, theirs, 1)}; "
            f"{_fewer(mine, theirs, 10)}; {speed:.0f} times faster per case.",
            style="cx.value",
        ))
