"""``contraxis note``: a clinical note in, a native case out; ``contraxis bench notes``.

Nothing heavy is imported until a command runs: the note reader (spaCy, negspacy, the phrase
index) loads only for these commands.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import typer

from ..errors import CaseError, ContraxisError, Problem

__all__ = ["bench_notes_command", "note_command", "read_text"]


def read_text(file: str) -> tuple[str, str]:
    """The text of a note from a file (``-``: standard input), and the name to give it.

    Raises
    ------
    CaseError
        When the file cannot be read, is not UTF-8 text, or is longer than a note may be.
    """
    from ..io.note.reader import MAX_NOTE_CHARS

    source = "<stdin>" if file == "-" else file
    limit = MAX_NOTE_CHARS * 4 + 1  # bytes: at most four per character
    try:
        if file == "-":
            raw = sys.stdin.buffer.read(limit)
        else:
            with Path(file).open("rb") as handle:
                raw = handle.read(limit)
    except OSError as error:
        raise CaseError([Problem("", f"cannot read the file: {error.strerror or error}")], source=source) from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise CaseError([Problem("", f"is not UTF-8 text (byte {error.start})")], source=source) from None
    if len(raw) >= limit or len(text) > MAX_NOTE_CHARS:
        raise CaseError([Problem("note", f"is longer than {MAX_NOTE_CHARS} characters")], source=source)
    return text, source


def _fail(error: ContraxisError) -> None:
    """Print an error as the other commands do; the install command of a missing extra is
    printed as it is (its brackets are not markup)."""
    from ..io.note.pipeline import NoteReaderUnavailable
    from . import fail

    if isinstance(error, NoteReaderUnavailable):
        for line in str(error).splitlines():
            typer.echo(f"error: {line}", err=True)
        raise typer.Exit(code=2)
    fail(error)


def note_command(
    file: str = typer.Argument(..., help="A clinical note as plain text (UTF-8); - reads standard input."),
    assess: bool = typer.Option(False, "--assess", help="Assess the case read from the note."),
    as_json: bool = typer.Option(
        False, "--json",
        help="With --assess: the JSON of `contraxis assess --json` for the case. Without: the case with the words "
             "behind each fact (the answer of POST /note).",
    ),
    provenance: bool = typer.Option(False, "--provenance", help="Print the words behind each fact as YAML too."),
    differential: bool = typer.Option(
        True, "--differential/--no-differential", help="With --assess: include the top of the HPO differential."
    ),
    top: int = typer.Option(10, min=1, max=200, help="With --assess: how many differential candidates to include."),
) -> None:
    """Read a clinical note into a native case: findings (HPO and local codes), regions with
    their side, ages and timing, drugs with their start, results, imaging, gene tests,
    treatments tried, family history. Prints the case as YAML; what was recognised but not
    used goes to standard error."""
    try:
        text, source = read_text(file)
        from ..io.note import read_note

        reading = read_note(text, source=source)
    except ContraxisError as error:
        _fail(error)
        return
    if reading.message and not assess:
        typer.echo(reading.message, err=True)
    if assess:
        _assess(reading, source=source, as_json=as_json, differential=differential, top=top)
        return
    if as_json:
        typer.echo(json.dumps(reading.to_json(), ensure_ascii=False))
        return
    import yaml

    if provenance:
        full = reading.to_json()
        document = {key: full[key] for key in ("case", "facts", "unused", "not_read")}
        typer.echo(yaml.safe_dump(document, sort_keys=False, allow_unicode=True), nl=False)
        return
    typer.echo(yaml.safe_dump(reading.case_json(), sort_keys=False, allow_unicode=True), nl=False)
    for item in reading.unused:
        typer.echo(f"not used: {item.text!r} ({item.what}): {item.reason}", err=True)


def _assess(reading: object, *, source: str, as_json: bool, differential: bool, top: int) -> None:
    """Assess the case exactly as ``contraxis assess`` would assess its YAML."""
    import yaml

    from ..io.detect import read_input
    from . import assess_and_print, fail

    if reading.is_empty:  # type: ignore[attr-defined]
        fail(CaseError([Problem("note", reading.message)], source=source))  # type: ignore[attr-defined]
        return
    text = yaml.safe_dump(reading.case_json(), sort_keys=False, allow_unicode=True)  # type: ignore[attr-defined]
    assess_and_print(lambda: read_input(text, source=source), as_json=as_json, differential=differential, top=top)


def bench_notes_command(
    folders: list[Path] = typer.Argument(..., help="Folders of vignettes (their narrative is read, never their case)."),
    seconds: float = typer.Option(4.0, min=0.5, max=600, help="How long to time the reader."),
    as_json: bool = typer.Option(False, "--json", help="Print the figures as JSON."),
    details: bool = typer.Option(False, "--details", help="With --json: list every difference, vignette by vignette."),
) -> None:
    """Read each vignette's narrative alone into a case, assess it, and compare with the case
    block and the expected answer: precision and recall of findings, regions, absent findings
    and each field; expected fields right beside the case block's; notes per second on one core."""
    try:
        from ..io.note.bench import bench_notes, render_bench

        report = bench_notes(folders, seconds=seconds, details=details)
    except ContraxisError as error:
        _fail(error)
        return
    typer.echo(json.dumps(report.to_json(), ensure_ascii=False) if as_json else render_bench(report))
