"""The command line: a thin adapter over the engine (Typer).

Every command prints clear errors (the field, the value, what is allowed) and exits with
code 2 on bad input; never a traceback.

Starting is kept cheap: each command imports what it needs when it runs, Rich is imported
only to print a report, a table or an error (``assess --json`` never imports it), and the
differential and the web service are imported only by their own commands.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from ..errors import ContraxisError

if TYPE_CHECKING:  # pragma: no cover
    from rich.console import Console

    from ..reading import Reading

__all__ = ["app", "main"]

app = typer.Typer(
    name="contraxis",
    help="Clinical decision support for involuntary muscle contractions: dystonia, spasms and cramps.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
bench_app = typer.Typer(help="Benchmarks that print figures.", no_args_is_help=True)
app.add_typer(bench_app, name="bench")

@cache
def _err() -> Console:
    """The console errors are printed on (standard error), made on first use."""
    from rich.console import Console

    return Console(stderr=True)


def fail(error: ContraxisError) -> None:
    """Print an error's problems, one per line, and exit with code 2."""
    for line in str(error).splitlines():
        _err().print(f"[bold red]error:[/] {line}", highlight=False, markup=True, soft_wrap=True)
    raise typer.Exit(code=2)


def _differential_ranker(top: int) -> Callable[[Any], dict[str, Any]] | None:
    try:
        from ..differential import load_index, rank
    except ImportError:
        return None
    index = load_index()
    return lambda case: rank(case, index=index, top=top).to_json()


@app.command()
def assess(
    file: str = typer.Argument(
        ...,
        help=(
            "A native case, a vignette, a FHIR R4 Bundle or resource, or a GA4GH phenopacket v2; "
            "YAML or JSON; - reads standard input."
        ),
    ),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object instead of the report."),
    differential: bool = typer.Option(
        True, "--differential/--no-differential", help="Include the top of the HPO differential."
    ),
    top: int = typer.Option(10, min=1, max=200, help="How many differential candidates to include."),
) -> None:
    """Assess one patient: phenomenology, classification, cause, alerts, work-up, treatment, codes.

    The input's format is recognised by its shape; what was not read as given is listed
    (``not_read`` in the JSON, a panel at the top of the report).
    """
    from ..io.detect import load_input

    assess_and_print(lambda: load_input(file), as_json=as_json, differential=differential, top=top)


def assess_and_print(read: Callable[[], Reading], *, as_json: bool, differential: bool, top: int) -> None:
    """Read an input with ``read()``, assess it (with the top of the differential when asked)
    and print the report, or one JSON object; a Contraxis error is printed and exits 1."""
    from ..engine import assess as run

    try:
        reading = read()
        ranker = _differential_ranker(top) if differential else None
        assessment = run(reading.case, differential=ranker, not_read=reading.not_read)
    except ContraxisError as error:
        fail(error)
        return
    if as_json:
        typer.echo(json.dumps(assessment.to_json(), ensure_ascii=False))
    else:
        from ..report.terminal import print_assessment

        print_assessment(assessment)


@app.command()
def vignettes(
    directory: Path = typer.Argument(..., help="A folder of vignette YAML files."),
    as_json: bool = typer.Option(False, "--json", help="Print the results as JSON."),
) -> None:
    """Run every vignette in DIRECTORY; print accuracy per field and each failure. Exit 0 only when all pass."""
    from ..validation import render_results, run_vignettes

    if not directory.is_dir():
        _err().print(f"[bold red]error:[/] {directory}: not a folder of vignettes")
        raise typer.Exit(code=2)
    try:
        results = run_vignettes(directory)
    except ContraxisError as error:
        fail(error)
        return
    if as_json:
        typer.echo(json.dumps(results.to_json()))
    else:
        from rich.console import Console

        render_results(results, console=Console())
    raise typer.Exit(code=0 if results.all_passed else 1)


@bench_app.command("assess")
def bench_assess(
    directory: Path = typer.Argument(Path("../shared/vignettes"), help="A folder of cases or vignettes."),
    seconds: float = typer.Option(5.0, min=0.5, max=600, help="How long to run."),
) -> None:
    """Assessments per second on one core over a folder of cases (the acceptance corpus by default)."""
    from ..bench import bench_assess as run

    try:
        report = run(directory, seconds=seconds)
    except ContraxisError as error:
        fail(error)
        return
    typer.echo(report)


def _register_optional() -> None:
    """Commands whose modules live beside this one (the differential, the service, screening)."""
    try:
        from .differential import bench_differential_command, differential_command
    except ImportError:
        pass
    else:
        app.command(
            "differential",
            help=(
                "Rank every HPO-annotated disease for a native case, a vignette, a FHIR R4 Bundle, "
                "a phenopacket or phenopackets as JSON Lines."
            ),
        )(differential_command)
        bench_app.command("differential", help="Top-1/3/10 and MRR on phenopackets with known diagnoses, beside hpo3.")(
            bench_differential_command
        )
    try:
        from .serve import api_key_command, serve_command
    except ImportError:
        pass
    else:
        app.command("serve", help="Start the web service (REST, CDS Hooks, FHIR, web page).")(serve_command)
        app.command("serve-key", help="Issue an API key for the web service: the key, and its settings line.")(
            api_key_command
        )
        try:
            from .serve import bench_load_command
        except ImportError:
            pass
        else:
            bench_app.command(
                "load", help="Requests per second and latency of POST /assess beside a trivial endpoint."
            )(bench_load_command)
    from .note import bench_notes_command, note_command

    app.command("note", help="Read a clinical note into a native case (YAML); --assess assesses it.")(note_command)
    bench_app.command(
        "notes", help="The note reader on vignettes' narratives: findings, regions and fields against the case block."
    )(bench_notes_command)
    from .screen import bench_screen_command, screen_app

    app.add_typer(screen_app, name="screen")
    bench_app.command(
        "screen", help="Cohort screening end to end on generated populations: time, memory, truth found."
    )(bench_screen_command)
    try:
        from .registry import bench_registry_command, registry_app
    except ImportError:
        pass
    else:
        app.add_typer(registry_app, name="registry")
        bench_app.command("registry", help="Load patients x visits into a registry and compute the cohort overview.")(
            bench_registry_command
        )


_register_optional()


def main(argv: list[str] | None = None) -> None:
    """Entry point: run the CLI, turning any unexpected error into one line, not a traceback."""
    try:
        app(args=argv, standalone_mode=True)
    except ContraxisError as error:  # pragma: no cover - commands handle these
        for line in str(error).splitlines():
            _err().print(f"[bold red]error:[/] {line}", highlight=False)
        sys.exit(2)
    except KeyboardInterrupt:  # pragma: no cover
        sys.exit(130)
    except Exception as error:  # noqa: BLE001 - a bug must still not print a traceback
        _err().print(f"[bold red]internal error:[/] {type(error).__name__}: {error}", highlight=False)
        sys.exit(1)
