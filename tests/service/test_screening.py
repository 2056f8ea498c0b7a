"""Screening jobs over REST: start one, follow its status, fetch the worklist; bad requests refused."""

from __future__ import annotations

import time
import warnings
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

from contraxis.service.errors import install_error_handlers
from contraxis.service.screening import build_screening_router


@pytest.fixture(scope="module")
def data_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from contraxis.screening import generate_population

    root = tmp_path_factory.mktemp("data")
    generate_population(400, root / "pop", seed=2)
    return root


@pytest.fixture(scope="module")
def client(data_folder: Path) -> Any:
    app = FastAPI()
    install_error_handlers(app)
    app.include_router(build_screening_router(data_folder))
    with TestClient(app) as test_client:
        yield test_client


def _wait(client: Any, job_id: str) -> dict[str, Any]:
    for _ in range(240):
        body = client.get(f"/screening/jobs/{job_id}").json()
        if body["status"] in ("done", "failed"):
            return body
        time.sleep(0.25)
    raise AssertionError("the job did not finish in 60 s")


def test_a_job_runs_in_the_background_and_gives_its_worklist(client: Any, data_folder: Path) -> None:
    """Check that POST answers 202 at once with the job, which then runs, finishes and serves its outputs."""
    started = client.post("/screening/jobs", json={"source": "pop", "screens": ["wilson-screen", "dopa-trial"]})
    assert started.status_code == 202
    job = started.json()
    assert job["status"] in ("queued", "running") and started.headers["location"] == f"/screening/jobs/{job['id']}"
    done = _wait(client, job["id"])
    assert done["status"] == "done", done
    assert set(done["summary"]["worklist"]) == {"wilson-screen", "dopa-trial"}
    worklist = client.get(done["links"]["worklist"])
    assert worklist.status_code == 200 and worklist.text.startswith("person_id,alert,")
    assert client.get(done["links"]["report"]).text.startswith("<!DOCTYPE html>")
    assert any(j["id"] == job["id"] for j in client.get("/screening/jobs").json()["jobs"])
    assert (data_folder / "screening-jobs" / job["id"] / "worklist.csv").exists()


@pytest.mark.parametrize(
    ("body", "status", "text"),
    [
        ({"source": "/etc"}, 422, "must be a path inside the data folder"),
        ({"source": "../outside"}, 422, "must be a path inside the data folder"),
        ({"source": "0" * 5000}, 422, "at most 500 characters"),
        ({"source": "0" * 480}, 422, "0"),
        ({"source": "absent"}, 422, "does not exist in the data folder"),
        ({"source": "pop", "screens": ["wilson"]}, 422, "'wilson' is not a screen"),
        ({"source": "pop", "engine": "oracle"}, 422, "engine"),
        ({"source": "pop", "lookback_days": 0}, 422, "lookback_days"),
    ],
)
def test_bad_requests_are_refused_naming_the_field(client: Any, body: dict[str, Any], status: int, text: str) -> None:
    """Check that a source outside the data folder, a missing source, an unknown screen or a bad option is a 422."""
    answer = client.post("/screening/jobs", json=body)
    assert answer.status_code == status
    assert text in answer.text


def test_an_unknown_job_is_a_404(client: Any) -> None:
    """Check that a job id that does not exist is refused with 404 naming it."""
    answer = client.get("/screening/jobs/0123456789abcdef")
    assert answer.status_code == 404 and "is not a screening job" in answer.text


def test_the_service_mounts_the_screening_routes() -> None:
    """Check that the service app serves the screening routes."""
    from contraxis.service import ServiceSettings, create_app

    app = create_app(ServiceSettings())
    paths = set(app.openapi()["paths"])
    assert {"/screening/jobs", "/screening/jobs/{job_id}", "/screening/jobs/{job_id}/worklist"} <= paths
