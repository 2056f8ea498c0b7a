"""``contraxis registry`` commands end to end, and ``contraxis bench registry`` on a small cohort."""

from __future__ import annotations

import json

import pytest

pytest.importorskip("typer")
from typer.testing import CliRunner  # noqa: E402

from contraxis.cli import app  # noqa: E402

from .conftest import EXAMPLES  # noqa: E402

RUN = CliRunner()


def _run(*args: str) -> tuple[int, str]:
    result = RUN.invoke(app, list(args))
    return result.exit_code, result.output


def test_init_add_visit_course_export_import_report(tmp_path) -> None:
    """Check a clinician's round on the command line: init, two visits, the course, an export
    as JSON imported into another registry, the cohort overview and the timeline page."""
    db = f"sqlite:///{tmp_path / 'r.sqlite'}"
    code, out = _run("registry", "init", "--db", db)
    assert code == 0 and "schema 0002" in out
    code, out = _run("registry", "add-visit", "--db", db, "--patient", "P-1", "--date", "2023-04-01",
                     str(EXAMPLES / "cervical-dystonia.yaml"))
    assert code == 0 and "Cervical dystonia" in out and "not read: case.id" in out
    code, out = _run("registry", "add-visit", "--db", db, "--patient", "P-1", "--date", "2024-04-01",
                     str(EXAMPLES / "acute-dystonic-reaction.json"))
    assert code == 0 and "spread: The oromandibular region" in out
    code, out = _run("registry", "course", "--db", db, "--patient", "P-1", "--json")
    assert [e["kind"] for e in json.loads(out)] == ["spread", "distribution", "secondary-feature"]
    exported = tmp_path / "p1.json"
    code, _ = _run("registry", "export", "--db", db, "--patient", "P-1", "--format", "json", "--out", str(exported))
    assert code == 0
    other = f"sqlite:///{tmp_path / 'other.sqlite'}"
    _run("registry", "init", "--db", other)
    code, out = _run("registry", "import", "--db", other, str(exported))
    assert code == 0 and json.loads(out)["visits"] == 2
    code, out = _run("registry", "report", "--db", other)
    assert code == 0 and "1 patients, 2 visits" in out
    page = tmp_path / "timeline.html"
    code, _ = _run("registry", "report", "--db", db, "--patient", "P-1", "--html", str(page))
    assert code == 0 and "<svg" in page.read_text()
    code, out = _run("registry", "reassess", "--db", db, "--patient", "P-1")
    assert code == 0 and "no conclusion changed" in out


def test_errors_are_one_line_and_exit_2(tmp_path) -> None:
    """Check that a missing registry, a bad date, a bad file and a researcher's identified
    export end with a one-line error and exit code 2, never a traceback."""
    db = f"sqlite:///{tmp_path / 'r.sqlite'}"
    code, out = _run("registry", "visits", "--db", db, "--patient", "P-1")
    assert code == 2 and "holds no registry" in out and "Traceback" not in out
    _run("registry", "init", "--db", db)
    code, out = _run("registry", "add-visit", "--db", db, "--patient", "P-1", "--date", "yesterday",
                     str(EXAMPLES / "cervical-dystonia.yaml"))
    assert code == 2 and "--date" in out
    bad = tmp_path / "bad.yaml"
    bad.write_text("course: chronic\n")
    code, out = _run("registry", "add-visit", "--db", db, "--patient", "P-1", "--date", "2024-01-01", str(bad))
    assert code == 2 and "case.course" in out
    _run("registry", "add-visit", "--db", db, "--patient", "P-1", "--date", "2024-01-01",
         str(EXAMPLES / "cervical-dystonia.yaml"))
    code, out = _run("registry", "export", "--db", db, "--patient", "P-1", "--role", "researcher", "--identified")
    assert code == 2 and "acts as researcher" in out
    code, out = _run("registry", "export", "--db", db, "--patient", "P-1", "--role", "researcher")
    assert code == 0 and json.loads(out)["subject"]["id"] == "P-1"


def test_bench_registry_small(tmp_path) -> None:
    """Check that the benchmark loads patients x visits and computes the overview."""
    db = f"sqlite:///{tmp_path / 'bench.sqlite'}"
    code, out = _run("bench", "registry", "--patients", "20", "--visits", "3", "--db", db)
    assert code == 0, out
    assert "20 patients x 3 visits" in out and "cohort overview" in out and "60 visits" in out


def test_cohort_overview_counts(db_url, kb, cervical) -> None:
    """Check the overview's counts on both engines: patients, visits, follow-up days, the
    distribution at the first and newest visit and its change, scales."""
    from contraxis.registry.store import Registry

    from .conftest import case_with
    from .test_treatments import TSUI

    registry = Registry.init(db_url, kb=kb)
    registry.add_visit("P-1", cervical, date="2024-01-01")
    second = registry.add_visit("P-1", case_with(cervical, regions=["neck", "right-arm"]), date="2024-03-01")
    registry.add_visit("P-2", cervical, date="2023-06-01")
    registry.add_scale("P-1", second.id, "tsui", TSUI)
    overview = registry.cohort().to_json()
    assert (overview["patients"], overview["visits"]) == (2, 3)
    assert overview["follow_up_days"] == {"min": 0.0, "median": 30.0, "max": 60.0, "mean": 30.0}
    assert overview["distribution_first"] == {"focal": 2}
    assert overview["distribution_latest"] == {"focal": 1, "segmental": 1}
    assert overview["distribution_changes"] == {"focal → segmental": 1, "unchanged": 1}
    assert overview["visits_per_year"] == {"2023": 1, "2024": 2}
    assert overview["scales"] == {"tsui": {"ratings": 1, "mean_total": 9.0}}
