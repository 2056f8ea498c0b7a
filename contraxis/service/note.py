"""Clinical notes on the service: read a note into a case, and search findings for the page.

=====================================  ===========================================================
route                                  answer
=====================================  ===========================================================
``POST /note``                         the case read from a note (``text/plain``, or JSON
                                       ``{"text": ...}``), every fact with the words it came
                                       from, what was recognised and not used, ``not_read``
                                       (:func:`contraxis.io.note.read_note`); behind the
                                       clinician's door like ``POST /assess``
``GET /terminology/findings?q=...``    every HPO term and local code whose label or synonym
                                       matches the words typed, the knowledge base's first
                                       (:func:`contraxis.io.note.search_findings`); open, like the
                                       other terminology routes
=====================================  ===========================================================

The note reader is the ``note`` extra: without it ``POST /note`` answers 503 naming the
install command. The phrase index is loaded once per process, on first use, in a worker
thread.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from ..errors import Problem
from ..reading import excerpt
from .body import read_document
from .compute import compute
from .errors import RequestError
from .rest import query_int
from .routing import DirectRoute
from .schemas import json_answer

__all__ = ["build_note_router"]

MAX_QUERY = 100
"""The longest finding search read (characters)."""
TEXT_TYPES = ("text/plain",)

NOTE_BODY = {
    "requestBody": {
        "required": True,
        "description": "A clinical note: a letter, a clinic note, a referral (English, at most 100,000 characters)",
        "content": {
            "text/plain": {"schema": {"type": "string", "minLength": 1, "maxLength": 100000, "pattern": r"\S"},
                           "example": "A 58-year-old woman has had, for three years, a pulling of her head to the "
                                      "right that eases when she touches her chin. There is no tremor."},
            "application/json": {"schema": {"type": "object", "required": ["text"],
                                            "properties": {"text": {"type": "string", "minLength": 1,
                                                                    "maxLength": 100000, "pattern": r"\S"}}}},
        },
    }
}
NOTE_ANSWER = {
    "type": "object",
    "properties": {
        "case": {"type": "object", "description": "The native case (the case format)"},
        "facts": {"type": "array", "description": "Each fact of the case: path, value, label and the words "
                                                  "(start, end, text, how, cue, section) it came from"},
        "unused": {"type": "array", "description": "What was recognised and not put in the case, and why"},
        "not_read": {"type": "array", "description": "What the case reader changed (a brand read as its ingredient)"},
        "message": {"type": "string", "description": "Set when nothing clinical was recognised"},
        "knowledge_base_version": {"type": "string"},
        "hpo_release": {"type": "string"},
    },
}
SEARCH_PARAMETERS = [
    {"name": "q", "in": "query", "required": True, "description": "Words, a British or American spelling, plain "
     "words or an HPO id", "schema": {"type": "string", "minLength": 1, "maxLength": MAX_QUERY}},
    {"name": "limit", "in": "query", "required": False, "description": "At most this many findings",
     "schema": {"type": "integer", "minimum": 1, "maximum": 100, "default": 20}},
]


def _versions(request: Request) -> dict[str, str]:
    engine = request.app.state.engine
    return {"knowledge_base_version": engine.version, "hpo_release": engine.hpo_release}


async def _note_text(request: Request) -> str:
    """The note sent: a ``text/plain`` body, or ``{"text": ...}`` as JSON."""
    media = (request.headers.get("content-type") or "").partition(";")[0].strip().lower()
    if media in TEXT_TYPES:
        charset = (request.headers.get("content-type") or "").lower()
        utf8 = ("charset=utf-8", "charset=utf8", 'charset="utf-8"')
        if "charset=" in charset and not any(c in charset for c in utf8):
            raise RequestError([Problem("content-type", "the charset is not accepted (allowed: UTF-8)")], status=415)
        if (request.headers.get("content-encoding") or "identity").strip().lower() != "identity":
            raise RequestError([Problem("content-encoding", "is not accepted for text/plain (allowed: identity; "
                                                            "send JSON to compress)")], status=415)
        raw = await request.body()
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError as error:
            raise RequestError([Problem("body", f"is not UTF-8 text (byte {error.start})")], status=400) from None
        request.state.document = {}
    else:
        document = await read_document(request, yaml_allowed=False)
        if not isinstance(document, dict) or not isinstance(document.get("text"), str):
            raise RequestError([Problem("body", f"{excerpt(document, 40)} is not a note (allowed: text/plain, or "
                                                "JSON {\"text\": \"...\"})")], status=422)
        unknown = sorted(set(document) - {"text"})
        if unknown:
            raise RequestError([Problem(f"body.{excerpt(unknown[0], 30)}", "is not a field (allowed: text)")],
                               status=422)
        text = document["text"]
        request.state.document = {}  # the note holds no patient id for the audit log
    if not text.strip():
        raise RequestError([Problem("body", "is empty: send the text of a clinical note")], status=400)
    return text


def _read(text: str) -> dict[str, Any]:
    from ..io.note import read_note

    return read_note(text, source="request").to_json()


def _search(query: str, limit: int) -> dict[str, Any]:
    from ..io.note import default_note_index, search_findings

    index = default_note_index()
    return {"query": query, "phrase_index_hpo_release": index.release,
            "findings": [hit.to_json() for hit in search_findings(query, limit=limit, index=index)]}


def build_note_router() -> APIRouter:
    """``POST /note`` (tag ``assessment``) and ``GET /terminology/findings`` (tag ``page``)."""
    router = APIRouter(route_class=DirectRoute)

    @router.post(
        "/note", tags=["assessment"], summary="Read a clinical note into a case, with the words behind each fact",
        description=(
            "Read the text of a clinical note into a native case: findings (HPO terms and local codes), "
            "absent findings (negated), body regions with their side, age, sex, onset, course, drugs with "
            "their start, laboratory results, brain MRI, gene tests, treatments tried, family history, "
            "severity. Each fact carries the words it came from and how they were read; what was recognised "
            "but not used is listed with why. The case is an ordinary case: `POST /assess` it once checked."
        ),
        openapi_extra=NOTE_BODY,
        responses={**json_answer(NOTE_ANSWER, "The case and its provenance"),
                   503: {"description": "The note reader (the `note` extra) is not installed"}},
    )
    async def note(request: Request) -> JSONResponse:
        text = await _note_text(request)
        from ..io.note.pipeline import NoteReaderUnavailable

        try:
            answer = await compute(request, _read, text)
        except NoteReaderUnavailable as error:
            raise RequestError(error.problems, status=503) from None
        return JSONResponse({**answer, **_versions(request)})

    @router.get(
        "/terminology/findings", tags=["page"], summary="Search findings: every HPO term and synonym",
        description=(
            "Every HPO term (labels and synonyms, British and American spellings, plain words) and the "
            "knowledge base's local codes whose words start with the words typed, the knowledge base's own "
            "codes first."
        ),
        openapi_extra={"parameters": SEARCH_PARAMETERS},
        responses=json_answer({"type": "object"}, "The findings found, best first"),
    )
    async def findings(request: Request) -> JSONResponse:
        query = request.query_params.get("q")
        if query is None or not query.strip():
            raise RequestError([Problem("query.q", "is required (the words to search)")], status=422)
        if len(query) > MAX_QUERY:
            raise RequestError([Problem("query.q", f"{excerpt(query, 40)!r} is longer than {MAX_QUERY} characters")],
                               status=422)
        if not query.isprintable():
            raise RequestError([Problem("query.q", f"{excerpt(query, 40)!r} holds control characters")], status=422)
        limit = query_int(request, "limit", default=20, low=1, high=100)
        return JSONResponse(await compute(request, _search, query.strip(), limit))

    return router
