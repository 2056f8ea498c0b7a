"""The intake page, its form definition, the printable reports and the local API docs."""

from __future__ import annotations

import functools
import html
from importlib.resources import files
from typing import Any, get_args

import yaml
from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from ..vocabulary import REGIONS, TREATMENTS, Course, Severity, Sex
from ..vocabulary import Response as TreatmentResponse
from .body import read_reading
from .compute import compute
from .engine import Engine
from .routing import DirectRoute
from .schemas import body_of, json_answer

__all__ = ["build_page_router", "intake_form", "knowledge_index_html", "knowledge_section_html"]


def _engine(request: Request) -> Engine:
    return request.app.state.engine


@functools.lru_cache(maxsize=1)
def _intake_groups() -> dict[str, Any]:
    return yaml.safe_load((files("contraxis.service") / "data" / "intake_form.yaml").read_text(encoding="utf-8"))


def _rows_by_id(rows: Any) -> dict[str, dict[str, Any]]:
    """Index a section's rows by ``id`` (or ``code``); a mapping section is taken as is."""
    if isinstance(rows, dict):
        return {str(k): (v if isinstance(v, dict) else {"label": v}) for k, v in rows.items()}
    out: dict[str, dict[str, Any]] = {}
    for row in rows or []:
        if isinstance(row, dict) and (row.get("id") or row.get("code")):
            out[str(row.get("id") or row.get("code"))] = row
    return out


def intake_form(engine: Engine) -> dict[str, Any]:
    """The intake form's content: every list the page shows, named from HPO and the knowledge base.

    Parameters
    ----------
    engine : Engine
        The knowledge base and code tables.

    Returns
    -------
    dict
        ``regions``, ``finding_groups`` (each finding with its code and name),
        ``imaging_findings``, ``labs``, ``history``, ``treatments`` and the closed choices
        (sex, course, severity, response), with the versions. Drug names, laboratory units
        and limits come from ``/terminology/*`` (:mod:`contraxis.service.terminology`).
    """
    sections = engine.sections()
    spec = _intake_groups()

    def named(code: str) -> dict[str, str]:
        return {"code": code, "name": engine.finding_label(code) or code}

    regions = sections.get("regions") or {}
    region_rows = _rows_by_id(regions.get("regions", regions) if isinstance(regions, dict) else regions)
    history_rows = _rows_by_id(sections.get("history"))
    treatment_rows = _rows_by_id(sections.get("treatments"))
    return {
        "knowledge_base_version": engine.version,
        "hpo_release": engine.hpo_release,
        "sexes": list(get_args(Sex)),
        "courses": list(get_args(Course)),
        "severities": list(get_args(Severity)),
        "responses": list(get_args(TreatmentResponse)),
        "regions": [{"code": r, "name": str(region_rows.get(r, {}).get("label") or r)} for r in REGIONS],
        "finding_groups": [
            {"id": g["id"], "label": g["label"], "findings": [named(c) for c in g["codes"]]} for g in spec["groups"]
        ],
        "imaging_findings": [named(c) for c in spec["imaging"]["codes"]],
        "labs": [
            {"loinc": str(r["loinc"]), "name": str(r.get("id")), "unit": str(r.get("unit", ""))}
            for r in sections.get("labs", []) if isinstance(r, dict) and r.get("loinc")
        ],
        "history": [
            {"code": code, "name": str(row.get("label") or code)} for code, row in history_rows.items()
            if code.startswith("CX:hx-")
        ],
        "treatments": [{"code": t, "name": str(treatment_rows.get(t, {}).get("label") or t)} for t in TREATMENTS],
    }


_NAV = (
    '<nav aria-label="Main"><a href="/">Intake</a> <a href="/knowledge">Knowledge base</a> '
    '<a href="/docs">API</a></nav>'
)
_NOT_A_DIAGNOSIS = "Decision support for clinicians, not a diagnosis."


def _page(title: str, body: str, *, kb: str, hpo: str) -> str:
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(title)} · Contraxis</title><link rel="stylesheet" href="/static/app.css"></head>
<body><a class="skip-link" href="#main">Skip to content</a>
<header class="site-header"><a class="brand" href="/">Contraxis</a>
{_NAV}</header>
<main id="main" tabindex="-1">{body}</main>
<footer class="site-footer"><p>Knowledge base <span class="kb-version">{html.escape(kb)}</span> ·
HPO release <span class="hpo-release">{html.escape(hpo)}</span> · {_NOT_A_DIAGNOSIS}</p></footer>
</body></html>"""


def _value_html(value: Any) -> str:
    if isinstance(value, dict):
        items = "".join(f"<dt>{html.escape(str(k))}</dt><dd>{_value_html(v)}</dd>" for k, v in value.items())
        return f"<dl class='kv'>{items}</dl>"
    if isinstance(value, (list, tuple)):
        if all(not isinstance(v, (dict, list, tuple)) for v in value):
            return html.escape(", ".join(str(v) for v in value))
        return "<ol>" + "".join(f"<li>{_value_html(v)}</li>" for v in value) + "</ol>"
    text = html.escape(str(value))
    if isinstance(value, str) and value.startswith(("http://", "https://")):
        return f'<a href="{text}">{text}</a>'
    return text


def knowledge_index_html(data: dict[str, Any]) -> str:
    """The knowledge base's table of contents as a page."""
    rows = "".join(
        f'<li><a href="{html.escape(s["url"])}">{html.escape(name)}</a> ({s["rows"]} rows)</li>'
        for name, s in data["sections"].items()
    )
    body = f"<h1>Knowledge base {html.escape(data['knowledge_base_version'])}</h1><ul>{rows}</ul>"
    return _page("Knowledge base", body, kb=data["knowledge_base_version"], hpo=data["hpo_release"])


def knowledge_section_html(data: dict[str, Any]) -> str:
    """One section of the knowledge base (or one row) as a page."""
    section = html.escape(data["section"])
    items = []
    for row in data["rows"]:
        rid = html.escape(str(row.get("id", ""))) if isinstance(row, dict) else ""
        heading = f'<h2 id="{rid}">{rid}</h2>' if rid else ""
        items.append(f"<article class='kb-row'>{heading}{_value_html(row)}</article>")
    body = f'<h1><a href="/knowledge">Knowledge base</a> · {section}</h1>{"".join(items)}'
    return _page(f"Knowledge: {data['section']}", body, kb=data["knowledge_base_version"], hpo=data["hpo_release"])


@functools.lru_cache(maxsize=4)
def _index_html(kb: str, hpo: str) -> str:
    template = (files("contraxis.service") / "static" / "index.html").read_text(encoding="utf-8")
    return template.replace("{{kb_version}}", html.escape(kb)).replace("{{hpo_release}}", html.escape(hpo))


def _docs_html(*, try_it_out: bool) -> str:
    """The API docs page: Swagger UI from the local copy, started by a script file (no inline script)."""
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Contraxis API</title><link rel="icon" href="/static/favicon.svg" type="image/svg+xml">
<link rel="stylesheet" href="/static/swagger-ui/swagger-ui.css"></head>
<body><div id="swagger-ui"></div>
<script src="/static/swagger-ui/swagger-ui-bundle.js"></script>
<script src="/static/swagger-init.js" data-openapi="/openapi.json" data-try-it-out="{str(try_it_out).lower()}"></script>
</body></html>"""


def build_page_router(*, docs: bool = True, docs_try_it_out: bool = False) -> APIRouter:
    """The page routes: ``/``, ``/intake/form``, ``/report*`` and ``/docs`` (its "Try it out"
    only when ``docs_try_it_out``)."""
    router = APIRouter(route_class=DirectRoute)

    @router.get("/", response_class=HTMLResponse, tags=["page"], summary="The intake page")
    async def index(request: Request) -> HTMLResponse:
        engine = _engine(request)
        return HTMLResponse(_index_html(engine.version, engine.hpo_release))

    @router.get("/report.css", include_in_schema=False)
    async def report_css() -> Response:
        from ..report.html import REPORT_CSS

        return Response(REPORT_CSS, media_type="text/css", headers={"cache-control": "max-age=3600"})

    @router.get(
        "/intake/form", tags=["page"], summary="The lists the intake form shows (from the knowledge base and HPO)"
    )
    async def form(request: Request) -> JSONResponse:
        engine = _engine(request)
        return JSONResponse(await compute(request, intake_form, engine))

    @router.post(
        "/report",
        tags=["page"],
        summary="Assess a case for the page: the JSON and both reports",
        description=(
            "Read the input as `POST /assess` does (a native case, a vignette, a FHIR R4 Bundle or "
            "resource, or a GA4GH phenopacket v2) and answer the assessment, whose `not_read` lists "
            "every item of the input not used or changed, with both reports."
        ),
        openapi_extra=body_of("CaseInput", yaml_allowed=True),
        responses=json_answer(
            {"type": "object"},
            "assessment (with not_read and labs), report_html (clinician) and handout_html (patient)",
        ),
    )
    async def report(request: Request, differential: bool = Query(True)) -> JSONResponse:
        from ..assessment import Assessment
        from ..report.handout import render_handout
        from ..report.html import render_report

        engine = _engine(request)
        reading = await read_reading(request)
        data = await compute(request, engine.assess_json, reading.case, differential=differential,
                                       not_read=reading.not_read)
        assessment = Assessment.model_validate(data)
        return JSONResponse({
            "assessment": data,
            "report_html": render_report(assessment, case=reading.case, standalone=False),
            "handout_html": render_handout(assessment, case=reading.case, kb=engine.kb, standalone=False),
        })

    @router.post(
        "/report/html", response_class=HTMLResponse, tags=["page"], summary="The clinician's one-page report (HTML)",
        openapi_extra=body_of("CaseInput", yaml_allowed=True),
    )
    async def report_html(request: Request, differential: bool = Query(False)) -> HTMLResponse:
        from ..assessment import Assessment
        from ..report.html import render_report

        engine = _engine(request)
        reading = await read_reading(request)
        data = await compute(request, engine.assess_json, reading.case, differential=differential,
                                       not_read=reading.not_read)
        return HTMLResponse(render_report(Assessment.model_validate(data), case=reading.case))

    @router.post(
        "/report/handout",
        response_class=HTMLResponse,
        tags=["page"],
        summary="The patient handout (HTML, plain language)",
        openapi_extra=body_of("CaseInput", yaml_allowed=True),
    )
    async def report_handout(request: Request) -> HTMLResponse:
        from ..report.handout import render_handout

        engine = _engine(request)
        reading = await read_reading(request)
        assessment, _ = await compute(request, engine.assessment, reading.case, not_read=reading.not_read)
        return HTMLResponse(render_handout(assessment, case=reading.case, kb=engine.kb))

    if docs:
        @router.get("/docs", include_in_schema=False)
        async def swagger() -> HTMLResponse:
            return HTMLResponse(_docs_html(try_it_out=docs_try_it_out))

    return router
