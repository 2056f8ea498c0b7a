"""A FHIR R4 Bundle (any type: collection, searchset, document, transaction) as the input."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from ...documents import kind_of
from ...errors import CaseError, Problem
from ...reading import excerpt
from .elements import as_date
from .reader import FhirReading, check_all, read_located
from .tables import FhirTables
from .validation import check_resource

__all__ = ["bundle_entries", "bundle_resources", "read_bundle"]


def bundle_entries(bundle: Any, *, where: str = "bundle") -> list[tuple[dict[str, Any], str, str | None]]:
    """The resources of a Bundle with their paths and fullUrls, after checking its shell.

    Raises
    ------
    CaseError
        When ``bundle`` is not a FHIR Bundle, or an entry has no resource, naming what is
        wrong.
    """
    if not isinstance(bundle, Mapping):
        raise CaseError([Problem(where, f"expected a FHIR Bundle (a JSON object), got {kind_of(bundle)}")],
                        source="FHIR")
    if bundle.get("resourceType") != "Bundle":
        raise CaseError([Problem(f"{where}.resourceType",
                                 f"{excerpt(bundle.get('resourceType'), 60)!r} is not 'Bundle'")], source="FHIR")
    entries = bundle.get("entry", [])
    if isinstance(entries, Mapping):
        entries = [entries]
    if not isinstance(entries, list):
        raise CaseError([Problem(f"{where}.entry", f"expected a list of entries, got {kind_of(entries)}")],
                        source="FHIR")
    shell = {k: v for k, v in bundle.items() if k != "entry"}
    problems = list(check_resource(shell, path=where, strict=True).problems)
    found: list[tuple[dict[str, Any], str, str | None]] = []
    for i, entry in enumerate(entries):
        if not isinstance(entry, Mapping) or not isinstance(entry.get("resource"), Mapping):
            problems.append(Problem(f"{where}.entry[{i}].resource", "is required (a FHIR resource)"))
            continue
        url = entry.get("fullUrl")
        found.append((dict(entry["resource"]), f"{where}.entry[{i}].resource", url if isinstance(url, str) else None))
    if problems:
        raise CaseError(problems, source="FHIR")
    return found


def bundle_resources(bundle: Any) -> list[dict[str, Any]]:
    """Check a Bundle (its shell and each resource, after coercion) and return its
    resources as coerced JSON.

    Raises
    ------
    CaseError
        When the Bundle or one of its resources is not valid FHIR R4, naming each problem.
    """
    entries = bundle_entries(bundle)
    located, _ = check_all(((data, path) for data, path, _ in entries), strict=True, source="FHIR")
    return [item.resource.model_dump(mode="json", by_alias=True, exclude_none=True) for item in located]


def read_bundle(
    bundle: Any,
    *,
    reference_date: date | None = None,
    codes: Any = None,
    strict: bool = True,
    tables: FhirTables | None = None,
) -> FhirReading:
    """Read a FHIR R4 Bundle (any type) into a case.

    Parameters
    ----------
    bundle : Any
        The parsed JSON of the Bundle.
    reference_date : datetime.date, optional
        The date ages and days are counted to: the Bundle's ``timestamp`` if it has one,
        else today (UTC).
    codes, strict, tables
        As for :func:`~contraxis.io.fhir.read_resources`.

    Returns
    -------
    FhirReading
        The case, and every item not read or changed with where it is
        (``bundle.entry[3].resource...``) and why.

    Raises
    ------
    CaseError
        When the Bundle or one of its resources is not valid FHIR R4 (after coercing the
        unambiguous non-conformant shapes), naming each element, its value and what is
        allowed; or when the case read from it is not valid.
    """
    entries = bundle_entries(bundle)
    located, notes = check_all(((data, path) for data, path, _ in entries), strict=strict, source="FHIR")
    if reference_date is None and isinstance(bundle, Mapping):
        reference_date = as_date(bundle.get("timestamp")) if isinstance(bundle.get("timestamp"), str) else None
    full_urls = {path: url for _, path, url in entries if url}
    return read_located(located, notes=notes, reference_date=reference_date, codes=codes, tables=tables,
                        full_urls=full_urls)
