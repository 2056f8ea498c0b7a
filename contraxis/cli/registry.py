"""``contraxis registry ...`` and ``contraxis bench registry``: the registry from the command line.

Every command takes ``--db URL`` (default: a SQLite file in the user's data folder) and acts as
the operating-system user in the role ``--role`` (``clinician`` by default; a ``researcher``
may only export pseudonymous records and read the cohort overview). Only Typer is imported
here; SQLAlchemy and the registry are imported by the command that runs.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import typer

__all__ = ["bench_registry_command", "registry_app"]

registry_app = typer.Typer(
    help="The registry: patients followed over visits (spread, scales, toxin, deep brain stimulation).",
    no_args_is_help=True,
)

DB_HELP = "sqlite:///PATH or postgresql://USER@HOST:PORT/DB (default: a SQLite file in the user's data folder)."
ROLE_HELP = "Act as clinician (reads and writes) or researcher (pseudonymous exports and the cohort overview)."

# The options most commands share.
DB = typer.Option(None, "--db", help=DB_HELP)
ROLE = typer.Option("clinician", "--role", help=ROLE_HELP)
PATIENT = typer.Option(..., "--patient", help="The patient's pseudonymous id.")
VISIT = typer.Option(..., "--visit", help="The visit id.")
AS_JSON = typer.Option(False, "--json", help="Print JSON.")


def _fail(error: Exception) -> None:
    from . import fail

    fail(error)  # type: ignore[arg-type]


def _open(db: str | None, role: str = "clinician") -> Any:
    try:
        from ..registry.records import ROLES
        from ..registry.store import Registry, local_actor
    except ImportError as error:
        from ..errors import CaseError

        raise CaseError(f"the registry needs the registry extra ({error.name} is missing): "
                        "pip install 'contraxis[registry]'") from None

    if role not in ROLES:
        from ..errors import Problem
        from ..registry.errors import RegistryError

        raise RegistryError([Problem("role", f"{role[:30]!r} is not one of {', '.join(ROLES)}")])
    return Registry(db, actor=local_actor(role))


def _echo(data: Any) -> None:
    typer.echo(json.dumps(data, indent=2, ensure_ascii=False, default=str))


def _write(text: str, out: Path | None) -> None:
    if out is None:
        typer.echo(text, nl=not text.endswith("\n"))
    else:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text, encoding="utf-8")
        typer.echo(f"wrote {out}", err=True)


@registry_app.command("init")
def init_command(db: str | None = DB) -> None:
    """Create the registry's tables, or upgrade an older registry to this version's schema."""
    from ..registry.database import default_url
    from ..registry.schema import current_revision, head_revision
    from ..registry.store import Registry, _shown_url

    with _reported():
        registry = Registry.init(db)
    typer.echo(f"registry {_shown_url(db or default_url())}: schema {current_revision(registry.engine)} "
               f"(newest {head_revision()})")


@registry_app.command("add-visit")
def add_visit_command(
    file: str = typer.Argument(..., help="The visit's case: a native case, a vignette, a FHIR R4 Bundle or resource, "
                                         "or a GA4GH phenopacket v2 (YAML or JSON); - reads standard input."),
    patient: str = typer.Option(..., "--patient", help="The patient's pseudonymous id (added when new)."),
    date: str = typer.Option(None, "--date", help="The visit's date, YYYY-MM-DD (default: today)."),
    db: str | None = DB,
    as_json: bool = typer.Option(False, "--json", help="Print the visit and its assessment as JSON."),
) -> None:
    """Add a visit: read the case, assess it, store both (the knowledge-base version and HPO release with it)."""
    from ..io.detect import load_input

    try:
        day = dt.date.fromisoformat(date) if date else dt.date.today()
    except ValueError:
        _fail_text(f"--date: {date[:30]!r} is not a date (YYYY-MM-DD)")
        return
    with _reported():
        registry = _open(db)
        reading = load_input(file, today=day)
        visit = registry.add_visit(patient, reading, date=day)
        events = [e for e in registry.course(patient) if e.visit_id == visit.id]
    if as_json:
        _echo({**visit.to_json(), "course": [e.to_json() for e in events]})
        return
    summary = visit.summary
    typer.echo(f"visit {visit.id} of {patient} on {visit.date.isoformat()} (#{visit.number}), {visit.input_format}: "
               f"{visit.assessment.get('diagnosis')}; distribution {summary.get('distribution') or '-'}; "
               f"knowledge base {visit.knowledge_base_version}, HPO {visit.hpo_release}")
    for item in visit.not_read:
        typer.echo(f"  not read: {item['path']}: {item['value']} ({item['reason']})")
    for event in events:
        typer.echo(f"  {event.kind}: {event.explanation}")


@contextmanager
def _reported(file: Path | None = None) -> Iterator[None]:
    """Run a command's work: a Contraxis error is printed, one problem a line, and the command
    exits with code 2; so is a ``file`` (the command's input) that cannot be read."""
    from ..errors import ContraxisError

    try:
        yield
    except ContraxisError as error:
        _fail(error)
    except OSError as error:
        if file is None:
            raise
        _fail_text(f"{file}: cannot read the file: {error.strerror or error}")


def _fail_text(message: str) -> None:
    from ..errors import CaseError

    _fail(CaseError(message))


@registry_app.command("visits")
def visits_command(
    patient: str = PATIENT,
    db: str | None = DB,
    as_json: bool = AS_JSON,
) -> None:
    """List a patient's visits with their distribution, diagnosis and knowledge-base version."""
    with _reported():
        visits = _open(db).visits(patient)
    if as_json:
        _echo([v.to_json(assessment=False) for v in visits])
        return
    for v in visits:
        typer.echo(f"{v.id:>6}  {v.date.isoformat()}  {', '.join(v.regions) or '-':<32} "
                   f"{v.summary.get('distribution') or '-':<12} {v.knowledge_base_version:<10} "
                   f"{v.assessment.get('diagnosis')}{'' if v.intact else '  DAMAGED'}")


@registry_app.command("course")
def course_command(
    patient: str = PATIENT,
    db: str | None = DB,
    as_json: bool = AS_JSON,
) -> None:
    """Spread to adjacent regions, changes of distribution and new secondary features, dated and explained."""
    with _reported():
        events = _open(db).course(patient)
    if as_json:
        _echo([e.to_json() for e in events])
        return
    if not events:
        typer.echo("no change over the visits")
    for e in events:
        typer.echo(f"{e.date.isoformat()}  {e.kind:<18} {e.explanation}")


@registry_app.command("reassess")
def reassess_command(
    patient: str = PATIENT,
    visit: int = typer.Option(None, "--visit", help="The visit id (every visit by default)."),
    save: bool = typer.Option(False, "--save", help="Keep the new assessment as the visit's newest."),
    db: str | None = DB,
    as_json: bool = AS_JSON,
) -> None:
    """Assess old visits again with the knowledge base in use now and show what changed."""
    with _reported():
        results = _open(db).reassess(patient, visit, save=save)
    if as_json:
        _echo([r.to_json() for r in results])
        return
    for r in results:
        typer.echo(f"visit {r.visit_id} ({r.date.isoformat()}){' saved' if r.saved else ''}:")
        for line in r.change.lines():
            typer.echo(f"  {line}")


@registry_app.command("export")
def export_command(
    patient: str = PATIENT,
    fmt: str = typer.Option("phenopacket", "--format", help="phenopacket (GA4GH v2), fhir (R4 Bundle) or json (the "
                                                            "registry's own, for import)."),
    identified: bool = typer.Option(False, "--identified", help="Include the identity (clinicians only)."),
    role: str = ROLE,
    out: Path = typer.Option(None, "--out", help="Write to this file instead of standard output."),
    db: str | None = DB,
) -> None:
    """Export a patient: pseudonymous unless --identified."""
    with _reported():
        data = _open(db, role).export(patient, fmt, identified=identified)
    _write(json.dumps(data, indent=2, ensure_ascii=False) + "\n", out)


@registry_app.command("import")
def import_command(
    file: Path = typer.Argument(..., help="JSON Lines of visits ({patient, date, input, scales, injections, implants, "
                                          "stimulation}) or a patient exported with --format json."),
    db: str | None = DB,
) -> None:
    """Import visits (JSON Lines) or exported patients; each case is assessed with the knowledge base in use now."""
    from ..registry.transfer import import_documents, iter_documents

    with _reported():
        summary = import_documents(_open(db), iter_documents(file))
    _echo(summary.to_json())


@registry_app.command("add-scale")
def add_scale_command(
    file: Path = typer.Argument(..., help="YAML or JSON: the scale's item codes and values."),
    patient: str = PATIENT,
    visit: int = VISIT,
    scale: str = typer.Option(..., "--scale", help="bfmdrs, twstrs, tsui, gdrs, jrs, bsdi, vhi or cdip58."),
    db: str | None = DB,
) -> None:
    """Score a rating scale from its items (totals computed, never typed) and keep it with a visit."""
    from ..documents import parse_document

    with _reported(file):
        items = parse_document(file.read_text(encoding="utf-8"), source=str(file))
        record = _open(db).add_scale(patient, visit, scale, items)
    _echo(record.to_json())


@registry_app.command("add-injection")
def add_injection_command(
    file: Path = typer.Argument(..., help="YAML or JSON: product, muscles (muscle, side, units), guidance, response, "
                                          "adverse effects."),
    patient: str = PATIENT,
    visit: int = VISIT,
    db: str | None = DB,
) -> None:
    """Log a botulinum toxin treatment, checked against the product's label (warnings printed and kept)."""
    from ..documents import parse_document

    with _reported(file):
        data = parse_document(file.read_text(encoding="utf-8"), source=str(file))
        record = _open(db).add_injection(patient, visit, data)
    _echo(record.to_json())


@registry_app.command("add-implant")
def add_implant_command(
    patient: str = PATIENT,
    surgery_date: str = typer.Option(..., "--surgery-date", help="YYYY-MM-DD."),
    device: str = typer.Option(..., "--device", help="The stimulator's maker and model."),
    target: str = typer.Option(..., "--target", help="GPi, STN, VIM or other."),
    side: str = typer.Option(..., "--side", help="left, right or bilateral."),
    db: str | None = DB,
) -> None:
    """Record a deep brain stimulation system."""
    with _reported():
        record = _open(db).add_implant(patient, surgery_date=surgery_date, device=device, target=target, side=side)
    _echo(record.to_json())


@registry_app.command("add-settings")
def add_settings_command(
    patient: str = PATIENT,
    visit: int = VISIT,
    implant: int = typer.Option(..., "--implant", help="The implant id."),
    side: str = typer.Option(..., "--side", help="left or right."),
    contacts: str = typer.Option(..., "--contacts", help="Active contacts, e.g. '1-, C+'."),
    amplitude: float = typer.Option(..., "--amplitude"),
    unit: str = typer.Option("mA", "--unit", help="mA or V."),
    pulse_width: float = typer.Option(..., "--pulse-width", help="Microseconds."),
    frequency: float = typer.Option(..., "--frequency", help="Hz."),
    db: str | None = DB,
) -> None:
    """Record the stimulation settings of one side programmed at a visit."""
    with _reported():
        record = _open(db).add_stimulation(patient, visit, implant_id=implant, side=side, contacts=contacts,
                                           amplitude=amplitude, amplitude_unit=unit, pulse_width_us=pulse_width,
                                           frequency_hz=frequency)
    _echo(record.to_json())


@registry_app.command("report")
def report_command(
    patient: str = typer.Option(None, "--patient", help="A patient's timeline (default: the cohort overview)."),
    html: Path = typer.Option(None, "--html", help="Write the page (printable, works offline) to this file."),
    role: str = ROLE,
    db: str | None = DB,
    as_json: bool = AS_JSON,
) -> None:
    """The cohort overview, or a patient's timeline (--patient); --html writes the page."""
    from ..registry import pages
    from ..registry.dbs import dbs_followup

    with _reported():
        registry = _open(db, role)
        if patient is None:
            data = registry.cohort().to_json()
            page = pages.cohort_html(data)
        else:
            record = registry.record(patient, audit="timeline")
            events = registry.course_of(record)
            followups = dbs_followup(record)
            data = {"patient": patient, "visits": [v.to_json(assessment=False) for v in record.visits],
                    "course": [e.to_json() for e in events], "dbs": [f.to_json() for f in followups]}
            page = pages.timeline_html(record, events=events, followups=followups)
    if html is not None:
        _write(page, html)
    if as_json or html is None and patient is not None:
        _echo(data)
    elif html is None:
        _print_overview(data)


def _print_overview(data: dict[str, Any]) -> None:
    typer.echo(f"{data['patients']} patients, {data['visits']} visits (median {data['visits_per_patient']['median']:g} "
               f"a patient), follow-up median {data['follow_up_days']['median']:g} days "
               f"(computed in {data['seconds']:.2f} s)")
    for title, key in (("distribution at the newest visit", "distribution_latest"),
                       ("change, first to newest visit", "distribution_changes"), ("movement", "phenomenology")):
        typer.echo(f"{title}: " + ", ".join(f"{k} {v}" for k, v in data[key].items()))
    if data["scales"]:
        typer.echo("scales: " + ", ".join(f"{k} {v['ratings']} ratings (mean total {v['mean_total']})"
                                          for k, v in data["scales"].items()))
    if data["toxin"]["treatments"]:
        typer.echo("botulinum toxin: " + ", ".join(f"{p} {v['treatments']} treatments"
                                                   for p, v in data["toxin"]["products"].items()))
    if data["dbs"]:
        typer.echo("deep brain stimulation: " + ", ".join(f"{t} {n} patients" for t, n in data["dbs"].items()))


def bench_registry_command(
    patients: int = typer.Option(10_000, "--patients", min=1, help="Patients to load."),
    visits: int = typer.Option(10, "--visits", min=1, max=100, help="Visits per patient."),
    db: str = typer.Option(None, "--db", help="Registry to load (default: a new SQLite file in a temporary folder)."),
    seed: int = typer.Option(0, "--seed", help="Random seed of the generated visits."),
) -> None:
    """Load generated patients and visits (each case assessed) and compute the cohort overview; print the times."""
    from ..registry.bench import bench_registry

    with _reported():
        report = bench_registry(patients=patients, visits=visits, url=db, seed=seed,
                                progress=lambda done, total: typer.echo(f"  {done}/{total} visits", err=True))
    typer.echo(report.text())
