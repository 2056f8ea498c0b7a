"""Reading request bodies: JSON (or YAML) into plain data, with errors that name the problem,
and how large a body each route accepts.

Most routes take one case or one Bundle and keep the service's limit (1 MiB by default). The
CDS Hooks services take a whole prefetched record (conditions, results, drugs, allergies),
which real EHRs send in several megabytes: they accept up to :data:`CDS_BODY_BYTES`
(``limits.cds_body_bytes``).

A body must say what it is: ``Content-Type`` is required (JSON, or YAML where a case is
read), in UTF-8; ``Content-Encoding`` may be ``gzip`` (decompressed up to the route's limit)
or ``identity``; anything else is 415. Parsing is bounded by :mod:`contraxis.documents`
(nesting, YAML aliases, duplicate keys: 400). Bodies over :data:`INLINE_BYTES`, YAML, and
inputs other than a native case are parsed and read in a worker thread, so that the event
loop keeps answering other requests.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import anyio.to_thread
from fastapi import Request

from ..documents import parse_json, parse_yaml
from ..errors import CaseError, Problem
from ..reading import Reading, excerpt
from .errors import RequestError

if TYPE_CHECKING:  # pragma: no cover
    from ..io.detect import Format

__all__ = [
    "CDS_BODY_BYTES",
    "CDS_PREFIX",
    "ENCODINGS",
    "INLINE_BYTES",
    "JSON_TYPES",
    "YAML_TYPES",
    "body_limit",
    "read_document",
    "read_reading",
]

MiB = 1024 * 1024
CDS_PREFIX = "/cds-services/"
CDS_BODY_BYTES = 8 * MiB
"""Largest body a CDS Hooks service accepts by default: a patient's prefetched record."""
INLINE_BYTES = 16 * 1024
"""JSON bodies up to this size holding a native case are read on the event loop (bounded:
microseconds); everything else is read in a worker thread."""
ENCODINGS = ("gzip", "identity")
"""The ``Content-Encoding`` values accepted."""

_T = TypeVar("_T")


def body_limit(path: str, default: int, *, cds: int = CDS_BODY_BYTES) -> int:
    """The largest request body accepted on ``path``.

    Parameters
    ----------
    path : str
        The request path.
    default : int
        The service's limit (``ServiceSettings.max_body_bytes``).
    cds : int
        The limit of a CDS Hooks service call (``ServiceSettings.limits.cds_body_bytes``).

    Returns
    -------
    int
        ``cds`` (or the default, if larger) for a CDS Hooks service call; the default for
        every other route (CDS feedback included).
    """
    if path.startswith(CDS_PREFIX) and not path.rstrip("/").endswith("/feedback"):
        return max(default, cds)
    return default


JSON_TYPES = ("application/json", "application/fhir+json", "application/cds-hooks+json")
YAML_TYPES = ("application/yaml", "application/x-yaml", "text/yaml", "text/x-yaml")


async def _in_thread(function: Callable[..., _T], *args: Any) -> _T:
    """Run ``function`` in a worker thread; a request that times out does not wait for it."""
    return await anyio.to_thread.run_sync(function, *args, abandon_on_cancel=True)


def _content_type(request: Request, *, yaml_allowed: bool) -> str:
    """The body's media type, refusing (415) one missing, not accepted or not in UTF-8."""
    accepted = JSON_TYPES + (YAML_TYPES if yaml_allowed else ())
    allowed = f"allowed: {', '.join(accepted)}, in UTF-8"
    value = request.headers.get("content-type")
    if value is None or not value.strip():
        raise RequestError([Problem("content-type", f"is required: say what the body is ({allowed})")], status=415)
    media, _, parameters = value.partition(";")
    media = media.strip().lower()
    if media not in accepted and not media.endswith("+json"):
        raise RequestError([Problem("content-type", f"{excerpt(media, 60)!r} is not accepted ({allowed})")],
                           status=415)
    for parameter in parameters.split(";"):
        name, _, charset = parameter.partition("=")
        if name.strip().lower() == "charset" and charset.strip().strip('"').lower() not in ("utf-8", "utf8"):
            raise RequestError(
                [Problem("content-type", f"charset {excerpt(charset.strip(), 30)!r} is not accepted ({allowed})")],
                status=415,
            )
    return media


def _encoding(request: Request) -> str:
    """The body's content coding, refusing (415) one not in :data:`ENCODINGS`."""
    value = (request.headers.get("content-encoding") or "identity").strip().lower()
    if value not in ENCODINGS:
        raise RequestError(
            [Problem("content-encoding", f"{excerpt(value, 40)!r} is not accepted (allowed: {', '.join(ENCODINGS)})")],
            status=415,
        )
    return value


def _limit(request: Request) -> int:
    settings = request.app.state.settings
    limits = getattr(settings, "limits", None)
    cds = getattr(limits, "cds_body_bytes", CDS_BODY_BYTES)
    return body_limit(request.url.path, settings.max_body_bytes, cds=cds)


def _gunzip(raw: bytes, limit: int) -> bytes:
    """Decompress a gzip body, refusing one that decompresses past ``limit`` (413) or is not gzip (400)."""
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        out = inflater.decompress(raw, limit + 1)
    except zlib.error:
        raise RequestError([Problem("body", "is not valid gzip data (Content-Encoding: gzip)")], status=400) from None
    if len(out) > limit or inflater.unconsumed_tail:
        raise RequestError(
            [Problem("body", f"decompresses to more than the limit of {limit} bytes on this route")], status=413
        )
    if not inflater.eof:
        raise RequestError([Problem("body", "is truncated gzip data (Content-Encoding: gzip)")], status=400)
    return out


def _parse(raw: bytes, media: str) -> Any:
    """Parse a body (JSON, or YAML for a YAML type), as a 400 naming the problem."""
    try:
        if media in YAML_TYPES:
            try:
                text = raw.decode("utf-8-sig")
            except UnicodeDecodeError:
                raise RequestError([Problem("body", "is not UTF-8 text")], status=400) from None
            return parse_yaml(text)
        return parse_json(raw)
    except CaseError as error:
        raise RequestError([Problem("body", p.message) for p in error.problems], status=400) from None


async def _raw_body(request: Request, *, yaml_allowed: bool) -> tuple[bytes, str]:
    """The body's bytes (decompressed) and media type, after the content checks."""
    media = _content_type(request, yaml_allowed=yaml_allowed)
    encoding = _encoding(request)
    raw = await request.body()
    if encoding == "gzip":
        limit = _limit(request)
        raw = await _in_thread(_gunzip, raw, limit) if len(raw) > INLINE_BYTES else _gunzip(raw, limit)
    if not raw.strip():
        raise RequestError([Problem("body", "is empty: send a JSON document")], status=400)
    return raw, media


async def read_document(request: Request, *, yaml_allowed: bool = True) -> Any:
    """Read the request body as JSON (or YAML, when its content type says so).

    Parameters
    ----------
    request : fastapi.Request
        The request.
    yaml_allowed : bool
        Whether a YAML body is accepted (cases and vignettes: yes; FHIR and CDS Hooks: no).

    Returns
    -------
    Any
        The parsed document, also kept as ``request.state.document`` (the audit log takes the
        patient id from it, :mod:`contraxis.service.access`).

    Raises
    ------
    RequestError
        400 for an empty or malformed body (nesting, aliases, a duplicate key), 415 for a
        content type or coding not accepted, 413 for a body over the limit (from the
        middleware, or once decompressed).
    """
    raw, media = await _raw_body(request, yaml_allowed=yaml_allowed)
    if len(raw) > INLINE_BYTES or media in YAML_TYPES:
        document = await _in_thread(_parse, raw, media)
    else:
        document = _parse(raw, media)
    request.state.document = document
    return document


def _format(document: Any) -> Format | None:
    """The input format of a parsed body; None when it is none Contraxis reads."""
    from ..io.detect import input_format

    try:
        return input_format(document)
    except CaseError:
        return None


async def read_reading(request: Request, *, source: str = "request", **options: Any) -> Reading:
    """Read the request body as one input of any accepted format (see
    :func:`contraxis.io.detect.read_input`), off the event loop unless it is a small JSON
    native case.

    Parameters
    ----------
    request : fastapi.Request
        The request.
    source : str
        Names the input in error messages.
    **options
        Passed to :func:`~contraxis.io.detect.read_input` (``today``, ``fhir_options``).

    Returns
    -------
    Reading
        The case, what was not read and the format; the parsed document is kept as
        ``request.state.document``.

    Raises
    ------
    RequestError
        As :func:`read_document`.
    CaseError
        When the input is not one Contraxis reads, or is malformed in its own format (422).
    """
    from ..io.detect import read_as, read_input

    raw, media = await _raw_body(request, yaml_allowed=True)
    if len(raw) <= INLINE_BYTES and media not in YAML_TYPES:
        document = _parse(raw, media)
        request.state.document = document
        fmt = _format(document)
        if fmt is None:
            return read_input(document, source=source, **options)  # refused at once, with its message
        if fmt in ("native", "vignette"):
            return read_as(document, fmt, source=source, **options)  # microseconds: on the event loop
        return await _in_thread(lambda: read_as(document, fmt, source=source, **options))
    parsed: list[Any] = []

    def work() -> Reading:
        parsed.append(_parse(raw, media))
        return read_input(parsed[0], source=source, **options)

    try:
        return await _in_thread(work)
    finally:
        if parsed:
            request.state.document = parsed[0]
