"""Cohort screening as background jobs: start a screen, follow its status, fetch its worklist.

==========================================  =====================================================
route                                       answer
==========================================  =====================================================
``POST /screening/jobs``                    202 and the job (``queued``): the screen of a
                                            population under the service's data folder
``GET /screening/jobs``                     every job of this process, newest first
``GET /screening/jobs/{id}``                the job: ``queued``, ``running`` (with the stage and
                                            its progress), ``done`` (with the figures and the
                                            links to its outputs) or ``failed`` (with the problems)
``GET /screening/jobs/{id}/worklist``       the worklist CSV of a done job
``GET /screening/jobs/{id}/report``         its offline HTML report
==========================================  =====================================================

The body names the population by a path relative to the data folder (the service's working
directory unless the router is built with another), never an absolute path or one that leaves
it; outputs go to ``screening-jobs/<id>/`` under it. Jobs run one at a time in a worker thread
of this process and are kept in memory (a restart forgets them; their files stay). The routes
are behind the clinician's door like every route that reads patient data.
"""

from __future__ import annotations

import datetime as dt
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from fastapi import APIRouter
from fastapi.responses import FileResponse, JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from ..errors import ContraxisError, Problem
from ..reading import excerpt
from .errors import RequestError
from .routing import DirectRoute

__all__ = ["JobRequest", "ScreeningJobs", "build_screening_router"]

MAX_JOBS = 100
"""Jobs kept in memory; the oldest finished ones are forgotten beyond it."""


class JobRequest(BaseModel):
    """What to screen."""

    model_config = ConfigDict(extra="forbid")

    source: str = Field(min_length=1, max_length=500, description="The population, relative to the data folder: an "
                                                                  "OMOP folder (CSV or Parquet), a DuckDB file or a "
                                                                  "FHIR Bulk export folder")
    engine: Literal["duckdb", "spark"] = Field("duckdb", description="duckdb (in-process) or spark (local[2])")
    screens: list[str] | None = Field(None, max_length=50, description="Screen ids; all by default")
    lookback_days: int | None = Field(None, ge=1, le=36500, description="Look-back for every screen")
    as_of: dt.date | None = Field(None, description="The screen date; the latest record date by default")


@dataclass
class Job:
    """One screen run."""

    id: str
    request: JobRequest
    status: str = "queued"
    created: str = field(default_factory=lambda: dt.datetime.now(dt.UTC).isoformat(timespec="seconds"))
    progress: dict[str, list[int]] = field(default_factory=dict)
    stage: str | None = None
    summary: dict[str, Any] | None = None
    problems: list[dict[str, str]] = field(default_factory=list)
    outputs: dict[str, str] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {"id": self.id, "status": self.status, "created": self.created,
                                "request": self.request.model_dump(mode="json", exclude_none=True)}
        if self.status == "running":
            body["stage"] = self.stage
            body["progress"] = {k: {"done": v[0], "total": v[1]} for k, v in self.progress.items()}
        if self.summary is not None:
            body["summary"] = self.summary
            body["links"] = {"worklist": f"/screening/jobs/{self.id}/worklist",
                             "report": f"/screening/jobs/{self.id}/report"}
        if self.problems:
            body["problems"] = self.problems
        return body


class ScreeningJobs:
    """The jobs of one service process and the worker that runs them, one at a time.

    Parameters
    ----------
    root : path
        The data folder: sources are read under it, outputs written to ``screening-jobs/``.
    """

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()
        self.jobs: dict[str, Job] = {}
        self.lock = threading.Lock()
        self.pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="contraxis-screen")

    def source_path(self, source: str) -> Path:
        """The source under the data folder, or a RequestError naming the field."""
        refuse = RequestError([Problem("source", f"{excerpt(source, 80)!r} must be a path inside the data folder "
                                                 "(relative, without .., at most 1,024 characters)")], status=422)
        if len(source) > 1024 or "\x00" in source:
            raise refuse
        given = Path(source)
        try:
            path = (self.root / given).resolve()
            exists = path.exists()
        except (OSError, ValueError):
            raise refuse from None
        if given.is_absolute() or not path.is_relative_to(self.root):
            raise refuse
        if not exists:
            raise RequestError([Problem("source", f"{source[:80]!r} does not exist in the data folder")], status=422)
        return path

    def submit(self, request: JobRequest) -> Job:
        """Queue a job after checking its source and screens."""
        from ..screening import load_screens

        path = self.source_path(request.source)
        try:
            load_screens(only=request.screens)
        except ContraxisError as error:
            raise RequestError([Problem("screens", p.message) for p in error.problems], status=422) from None
        job = Job(id=uuid.uuid4().hex, request=request)
        with self.lock:
            self.jobs[job.id] = job
            finished = [j for j in self.jobs.values() if j.status in ("done", "failed")]
            for old in finished[: max(0, len(self.jobs) - MAX_JOBS)]:
                del self.jobs[old.id]
        self.pool.submit(self._run, job, path)
        return job

    def _run(self, job: Job, path: Path) -> None:
        from ..screening import run_screen, write_outputs

        job.status = "running"

        def progress(stage: str, done: int, total: int) -> None:
            job.stage = stage
            job.progress[stage] = [done, total]

        out = self.root / "screening-jobs" / job.id
        try:
            request = job.request
            result = run_screen(path, engine=request.engine, screens=request.screens, as_of=request.as_of,
                                lookback_days=request.lookback_days, progress=progress,
                                **({"workdir": str(out / "omop")} if request.engine == "duckdb" else {}))
            job.outputs = dict(write_outputs(result, out / "worklist.csv"))
            job.summary = result.summary()
            job.status = "done"
        except ContraxisError as error:
            job.problems = [p.to_dict() for p in error.problems]
            job.status = "failed"
        except Exception as error:  # noqa: BLE001 - a failed job says why and the service goes on
            job.problems = [{"where": "job", "message": f"{type(error).__name__}: {str(error)[:300]}"}]
            job.status = "failed"

    def get(self, job_id: str) -> Job:
        job = self.jobs.get(job_id)
        if job is None:
            raise RequestError([Problem("id", f"{job_id[:40]!r} is not a screening job of this service")], status=404)
        return job


def build_screening_router(root: str | Path | None = None) -> APIRouter:
    """The screening routes, with their own job list; ``root`` is the data folder (the working directory by default)."""
    jobs = ScreeningJobs(Path(root) if root is not None else Path.cwd())
    router = APIRouter(prefix="/screening", tags=["screening"], route_class=DirectRoute)
    router.jobs = jobs  # type: ignore[attr-defined]

    job = {"job_id": "$response.body#/id"}
    started: dict[int | str, Any] = {202: {"description": "The job queued, with where to follow it", "links": {
        "GetJob": {"operationRef": "#/paths/~1screening~1jobs~1{job_id}/get", "parameters": job},
        "GetWorklist": {"operationRef": "#/paths/~1screening~1jobs~1{job_id}~1worklist/get", "parameters": job},
        "GetReport": {"operationRef": "#/paths/~1screening~1jobs~1{job_id}~1report/get", "parameters": job},
    }}}

    @router.post("/jobs", status_code=202, summary="Start a screen of a population as a background job",
                 responses=started)
    async def start(body: JobRequest) -> JSONResponse:
        job = jobs.submit(body)
        return JSONResponse(job.to_json(), status_code=202, headers={"Location": f"/screening/jobs/{job.id}"})

    @router.get("/jobs", summary="Every screening job of this service, newest first")
    async def every() -> dict[str, Any]:
        return {"jobs": [j.to_json() for j in sorted(jobs.jobs.values(), key=lambda j: j.created, reverse=True)]}

    @router.get("/jobs/{job_id}", summary="A screening job's status, progress and figures")
    async def status(job_id: str) -> dict[str, Any]:
        return jobs.get(job_id).to_json()

    def _file(job_id: str, key: str, media: str) -> FileResponse:
        job = jobs.get(job_id)
        if job.status != "done":
            raise RequestError([Problem("id", f"job {job_id[:40]} is {job.status}, not done")], status=409)
        return FileResponse(job.outputs[key], media_type=media)

    @router.get("/jobs/{job_id}/worklist", summary="The worklist CSV of a finished job",
                response_class=FileResponse, responses={200: {"description": "The worklist",
                                                              "content": {"text/csv": {"schema": {"type": "string"}}}},
                                                        409: {"description": "The job is not done"}})
    async def worklist(job_id: str) -> FileResponse:
        return _file(job_id, "csv", "text/csv")

    @router.get("/jobs/{job_id}/report", summary="The offline HTML report of a finished job",
                response_class=FileResponse, responses={200: {"description": "The report",
                                                              "content": {"text/html": {"schema": {"type": "string"}}}},
                                                        409: {"description": "The job is not done"}})
    async def report(job_id: str) -> FileResponse:
        return _file(job_id, "html", "text/html")

    return router
