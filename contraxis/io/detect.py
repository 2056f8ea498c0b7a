"""One door: recognise what an input is by its shape and read it.

Every way in (``contraxis assess``, ``contraxis differential``, ``POST /assess``) reads its
input through :func:`read_input`, which recognises, by shape alone:

===============  ===================================  ================================================
format           recognised by                        read by
===============  ===================================  ================================================
``native``       case fields at the top (``age``,     :func:`contraxis.case.read_case_reading`
                 ``findings``...)
``vignette``     a ``case`` block                     :func:`contraxis.case.read_case_reading`
``fhir``         ``resourceType`` (a Bundle or one    :func:`contraxis.io.fhir.read_bundle`,
                 resource), or a list of resources    :func:`contraxis.io.fhir.read_resources`
``phenopacket``  phenopacket v2 fields                :func:`contraxis.io.phenopacket.read_phenopacket`
                 (``subject``,
                 ``phenotypicFeatures``,
                 ``metaData``...)
===============  ===================================  ================================================

and returns a :class:`~contraxis.reading.Reading`: the case, ``not_read`` and the format.
Text is parsed by :mod:`contraxis.documents` (nesting, YAML aliases and duplicate keys
bounded); one input read from a file or standard input is at most :data:`MAX_INPUT_BYTES`.
Anything else is refused with a :class:`~contraxis.errors.CaseError` that names what the
input looks like and what is accepted: a phenopacket v1, Family, Cohort or binary protobuf
file (with what to do), a CDS Hooks request (with where to send it), or an unknown shape.

:func:`iter_inputs` reads text that may hold several inputs (JSON Lines, one per line, or a
JSON array of phenopackets) and :func:`iter_input_file` streams a file of them (gzipped or
not); ``contraxis differential`` ranks each.
"""

from __future__ import annotations

import datetime as dt
import gzip
import zlib
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any, Literal

from ..documents import kind_of, parse_json, shown
from ..errors import CaseError, Problem
from ..reading import NotRead, Reading, excerpt, relocate

__all__ = [
    "ACCEPTED",
    "MAX_INPUT_BYTES",
    "Format",
    "input_format",
    "iter_input_file",
    "iter_inputs",
    "load_input",
    "read_as",
    "read_input",
    "relocate",
]

Format = Literal["native", "vignette", "fhir", "phenopacket"]

ACCEPTED = (
    "a native case or a vignette (YAML or JSON), a FHIR R4 Bundle or resource (JSON), "
    "or a GA4GH phenopacket v2 (JSON or YAML)"
)
"""The formats one input may be in, in words (for error messages)."""

MAX_DECOMPRESSED = 256 * 1024 * 1024
"""The largest gzipped input read, once decompressed (bytes)."""

MAX_INPUT_BYTES = 64 * 1024 * 1024
"""The largest single input read from a file or standard input (bytes): a patient's record
with years of results is a few MB."""

_JSON_LINES = (".jsonl", ".jsonl.gz", ".ndjson", ".ndjson.gz")
_CDS_HOOKS_FIELDS = frozenset({"hook", "hookInstance"})


def _case_fields() -> frozenset[str]:
    from ..case import Case

    return frozenset(Case.model_fields) - {"id"}


def _phenopacket_fields() -> frozenset[str]:
    from .phenopacket import _V1_ONLY_FIELDS, _V2_FIELDS

    return _V2_FIELDS | frozenset(_V1_ONLY_FIELDS) | {"proband", "members", "phenopacket"}


def _keys(data: Mapping[str, Any], limit: int = 6) -> str:
    keys = [excerpt(str(k), 30) for k in list(data)[: limit + 1]]
    shown = ", ".join(repr(k) for k in keys[:limit])
    return shown + (", ..." if len(keys) > limit else "")


def _looks_like(data: Any) -> str:
    """What a parsed document looks like, in a few words."""
    if data is None:
        return "an empty document"
    if isinstance(data, Mapping):
        return f"an object with the keys {_keys(data)}" if data else "an empty object"
    if isinstance(data, list):
        return f"a list of {len(data)} item{'s' if len(data) != 1 else ''}"
    if isinstance(data, str):
        return f"a single string ({excerpt(data, 40)!r})"
    if isinstance(data, bool):
        return f"a single value ({data!r})"
    if isinstance(data, (int, float)):
        return f"a single number ({data!r})"
    return f"{kind_of(data)} ({shown(data, 40)})"


def _unrecognised(data: Any, source: str | None) -> CaseError:
    """The refusal of an input of no accepted shape: what it looks like and what is accepted;
    for an object, also each of its keys as a case field it is not (as a native case would)."""
    what = _looks_like(data)
    if not isinstance(data, Mapping) or not data:
        return CaseError(
            [Problem("case", f"expected a mapping, got {what}: not an input Contraxis reads (accepted: {ACCEPTED})")],
            source=source,
        )
    problems = [Problem("", f"{what}: not an input Contraxis reads (accepted: {ACCEPTED})")]
    problems += [
        Problem(
            f"case.{excerpt(str(key), 40)}",
            "is not a case field (a native case has age, sex, onset_age, findings, labs, medications...)",
        )
        for key in list(data)[:10]
    ]
    return CaseError(problems, source=source)


def input_format(data: Any, *, source: str | None = None) -> Format:
    """Recognise the format of a parsed document by its shape.

    Parameters
    ----------
    data : Any
        Parsed JSON or YAML.
    source : str, optional
        Names the input in error messages.

    Returns
    -------
    str
        ``native``, ``vignette``, ``fhir`` or ``phenopacket``.

    Raises
    ------
    CaseError
        When the shape is none of these: it names what the input looks like (a phenopacket
        v1, Family or Cohort with what to do, a CDS Hooks request, an object with unknown
        keys...) and the formats accepted.
    """
    if isinstance(data, list):
        if data and all(isinstance(item, Mapping) and "resourceType" in item for item in data):
            return "fhir"
        if (
            data
            and all(isinstance(item, Mapping) for item in data)
            and input_format(data[0], source=source) == "phenopacket"
        ):
            raise CaseError([Problem("", (
                f"a list of {len(data)} phenopackets: give one phenopacket per file, or several as JSON Lines "
                "(one per line) to `contraxis differential`"
            ))], source=source)
        raise _unrecognised(data, source)
    if not isinstance(data, Mapping):
        raise _unrecognised(data, source)
    if "resourceType" in data:
        return "fhir"
    if _CDS_HOOKS_FIELDS & set(data) and ("context" in data or "prefetch" in data):
        hook = excerpt(str(data.get("hook", "")), 40)
        raise CaseError([Problem("hook", (
            f"a CDS Hooks request (hook {hook!r}), not a case: send it to POST /cds-services/{{id}} of "
            f"`contraxis serve` (the services are listed at GET /cds-services); here Contraxis reads {ACCEPTED}"
        ))], source=source)
    if "case" in data:
        return "vignette"
    keys = set(data)
    native = keys & _case_fields()
    packet = keys & _phenopacket_fields()
    if native and packet:
        raise CaseError([Problem("", (
            f"mixes case fields ({', '.join(sorted(native)[:4])}) with phenopacket fields "
            f"({', '.join(sorted(packet)[:4])}): give a native case or a phenopacket, not both"
        ))], source=source)
    if packet:
        return "phenopacket"
    if native or keys <= {"id"}:
        return "native"
    raise _unrecognised(data, source)


def _fhir_reading(data: Any, *, today: dt.date | None, options: Mapping[str, Any]) -> Reading:
    from .fhir import read_bundle, read_resources

    if isinstance(data, Mapping) and data.get("resourceType") == "Bundle":
        result = read_bundle(data, reference_date=today, **options)
    else:
        resources = list(data) if isinstance(data, list) else [data]
        result = read_resources(resources, reference_date=today, **options)
    not_read = getattr(result, "not_read", None)
    if not_read is None:  # a reader that reports Unmapped rows
        not_read = [NotRead(u.where, excerpt(u.item), u.reason) for u in getattr(result, "unmapped", ())]
    extra = {"reference_date": getattr(result, "reference_date", None), "fhir": result}
    return Reading(case=result.case, not_read=tuple(not_read), format="fhir", extra=extra)


def read_input(
    data: Any,
    *,
    source: str,
    today: dt.date | None = None,
    fhir_options: Mapping[str, Any] | None = None,
) -> Reading:
    """Read one input of any accepted format, recognised by its shape.

    Parameters
    ----------
    data : Any
        Parsed JSON or YAML; or the raw text or bytes (gzipped or not) of one document.
    source : str
        Names the input in error messages (a file name, ``request``).
    today : datetime.date, optional
        The date ages and days are counted to (a FHIR Bundle's ``timestamp`` comes first;
        a phenopacket's date of birth and drug dates count to it); today (UTC) if omitted.
    fhir_options : mapping, optional
        Keyword arguments for the FHIR reader (``codes``, ``strict``, ``tables``).

    Returns
    -------
    Reading
        The case, ``not_read`` and ``format`` (``native``, ``vignette``, ``fhir`` or
        ``phenopacket``); a phenopacket's ``extra`` holds its ``onset_term`` and
        ``diagnoses``.

    Raises
    ------
    CaseError
        When the input is not one of the accepted formats (naming what it looks like and
        what is accepted), holds several inputs, or is malformed in its own format (naming
        each field, its value and what is allowed).
    """
    if isinstance(data, (bytes, str)):
        documents = list(_documents(data, source=source))
        if len(documents) != 1:
            raise CaseError([Problem("", (
                f"holds {len(documents)} documents (JSON Lines): give one patient; "
                "`contraxis differential` reads several"
            ))], source=source)
        data, source = documents[0]
    return read_as(data, input_format(data, source=source), source=source, today=today, fhir_options=fhir_options)


def read_as(
    data: Any,
    fmt: Format,
    *,
    source: str,
    today: dt.date | None = None,
    fhir_options: Mapping[str, Any] | None = None,
) -> Reading:
    """Read one parsed input whose format :func:`input_format` has already named (``fmt``);
    the parameters, answer and errors are those of :func:`read_input`."""
    if fmt == "fhir":
        return _fhir_reading(data, today=today, options=fhir_options or {})
    if fmt == "phenopacket":
        from .phenopacket import read_phenopacket

        return read_phenopacket(data, source=source, today=today).reading()
    from ..case import read_case_reading

    return read_case_reading(data, source=source)


# --- several inputs ---------------------------------------------------------------------------


def _decompress(raw: bytes, *, source: str | None) -> bytes:
    decompressor = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        out = decompressor.decompress(raw, MAX_DECOMPRESSED + 1)
    except zlib.error as error:
        raise CaseError([Problem("", f"is not a readable gzip file: {error}")], source=source) from None
    if len(out) > MAX_DECOMPRESSED:
        raise CaseError(
            [Problem("", f"decompresses to more than {MAX_DECOMPRESSED // 2**20} MB: too large to read")], source=source
        )
    return out


def _text(data: bytes | str, *, source: str | None) -> str:
    if isinstance(data, str):
        return data
    if data[:2] == b"\x1f\x8b":
        data = _decompress(data, source=source)
    from .phenopacket import binary_phenopacket_kind, binary_problem

    kind = binary_phenopacket_kind(data)
    if kind is not None:
        raise CaseError([binary_problem(kind)], source=source)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise CaseError([Problem("", f"is not UTF-8 text (accepted: {ACCEPTED})")], source=source) from None


def _json_lines(lines: Iterable[str], *, source: str | None) -> Iterator[tuple[Any, str]]:
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        where = f"{source}:{number}" if source else f"line {number}"
        yield parse_json(line, source=where), where


def _documents(data: bytes | str, *, source: str) -> Iterator[tuple[Any, str]]:
    """The parsed documents of raw input: one, or one per line of JSON Lines."""
    from ..case import parse_document

    text = _text(data, source=source)
    if not text.strip():
        raise CaseError([Problem("", f"is empty (accepted: {ACCEPTED})")], source=source)
    if text.lstrip().startswith("{"):
        try:
            document = parse_json(text, source=source)
        except CaseError as error:
            if not any("valid JSON: Extra data" in p.message for p in error.problems):
                raise
        else:
            yield document, source
            return
        yield from _json_lines(text.splitlines(), source=source)
        return
    yield parse_document(text, source=source), source


def iter_inputs(
    data: bytes | str,
    *,
    source: str,
    today: dt.date | None = None,
    fhir_options: Mapping[str, Any] | None = None,
) -> Iterator[Reading]:
    """Read every input in raw text or bytes: one document, JSON Lines (one input per line,
    each named ``source:line``), or a JSON array of phenopackets.

    Raises
    ------
    CaseError
        At the first input that cannot be read (see :func:`read_input`).
    """
    for document, where in _documents(data, source=source):
        if isinstance(document, list) and document and all(
            isinstance(item, Mapping) and "resourceType" not in item for item in document
        ):
            for i, item in enumerate(document):
                yield read_input(item, source=f"{where}[{i}]", today=today, fhir_options=fhir_options)
            continue
        yield read_input(document, source=where, today=today, fhir_options=fhir_options)


def iter_input_file(path: str | Path, *, today: dt.date | None = None) -> Iterator[Reading]:
    """Read every input in a file (see :func:`iter_inputs`); a JSON Lines file (``.jsonl``,
    ``.ndjson``, gzipped or not) is streamed line by line.

    Raises
    ------
    CaseError
        When the file cannot be read, or at the first input that cannot be read.
    """
    path = Path(path)
    source = str(path)
    try:
        if path.name.lower().endswith(_JSON_LINES):
            with path.open("rb") as probe:
                gzipped = probe.read(2) == b"\x1f\x8b"
            opener = gzip.open if gzipped else open
            with opener(path, "rt", encoding="utf-8") as handle:  # type: ignore[operator]
                for document, where in _json_lines(handle, source=source):
                    yield read_input(document, source=where, today=today)
            return
        raw = _read_bounded(path, MAX_DECOMPRESSED, source=source)
    except OSError as error:
        raise CaseError([Problem("", f"cannot read the file: {error.strerror or error}")], source=source) from None
    except (EOFError, UnicodeDecodeError, zlib.error) as error:
        raise CaseError([Problem("", f"cannot read the file: {error}")], source=source) from None
    yield from iter_inputs(raw, source=source, today=today)


def _too_large(limit: int, *, source: str) -> CaseError:
    return CaseError(
        [Problem("", f"is larger than {limit // 2**20} MiB (allowed: one patient's input of at most that size)")],
        source=source,
    )


def _read_bounded(path: str | Path, limit: int, *, source: str) -> bytes:
    """The bytes of a file or of standard input (``-``), refusing more than ``limit``."""
    if str(path) == "-":
        import sys

        raw = sys.stdin.buffer.read(limit + 1)
    else:
        with open(path, "rb") as handle:
            raw = handle.read(limit + 1)
    if len(raw) > limit:
        raise _too_large(limit, source=source)
    return raw


def load_input(
    path: str | Path, *, today: dt.date | None = None, fhir_options: Mapping[str, Any] | None = None
) -> Reading:
    """Read the one input in a file (``-``: standard input), of any accepted format.

    The bytes go to :func:`read_input` as they are, so a gzipped file is read, and a binary
    protobuf phenopacket or a JSON Lines file is named as such. At most
    :data:`MAX_INPUT_BYTES` are read.

    Raises
    ------
    CaseError
        When the file cannot be read or is larger than :data:`MAX_INPUT_BYTES`, or as
        :func:`read_input`.
    """
    source = "<stdin>" if str(path) == "-" else str(path)
    try:
        raw = _read_bounded(path, MAX_INPUT_BYTES, source=source)
    except OSError as error:
        raise CaseError([Problem("", f"cannot read the file: {error.strerror or error}")], source=source) from None
    return read_input(raw, source=source, today=today, fhir_options=fhir_options)
