"""A CDS Hooks prefetch as FHIR input: the resources to read, and what may be missing.

A CDS client sends, under ``prefetch``, the result of each query template the service asked
for: a resource, a search Bundle, ``null`` (no data), or an OperationOutcome (the query
failed). :func:`gather_prefetch` turns that into the resources to read, each with its path
(``prefetch.conditions.entry[0].resource``), and reports:

* a key the service did not ask for: ignored (never an error);
* a key the service asked for that is missing, for the caller to answer (412 when it is one
  the service cannot work without);
* an OperationOutcome, a search Bundle with more pages (``Bundle.link`` next) or fewer entries
  than its ``total``, or a value that is not a FHIR resource: the results of that key may be
  missing (``incomplete``), so that the answer can say so.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ...reading import NotRead

__all__ = ["Prefetched", "gather_prefetch", "template_type"]


@dataclass(frozen=True)
class Prefetched:
    """What a prefetch holds.

    Parameters
    ----------
    entries : tuple of (dict, str, str or None)
        Each resource's JSON, its path and its Bundle ``fullUrl``.
    not_read : tuple of NotRead
        The keys ignored, and why each incomplete key may miss results.
    incomplete : tuple of str
        The keys whose results may be missing.
    missing : tuple of str
        The keys asked for that were not sent at all.
    """

    entries: tuple[tuple[dict[str, Any], str, str | None], ...]
    not_read: tuple[NotRead, ...]
    incomplete: tuple[str, ...]
    missing: tuple[str, ...]


def template_type(template: str) -> str:
    """The resource type a prefetch template queries (``Condition?patient=...`` -> Condition)."""
    return str(template).split("?", 1)[0].split("/", 1)[0]


def _outcome_text(outcome: Mapping[str, Any]) -> str:
    issues = outcome.get("issue")
    texts = []
    for issue in issues if isinstance(issues, list) else []:
        if isinstance(issue, Mapping):
            details = issue.get("details") if isinstance(issue.get("details"), Mapping) else {}
            text = issue.get("diagnostics") or details.get("text") or issue.get("code")
            texts.append(f"{issue.get('severity', '?')}: {text}")
    return "; ".join(texts) or "no issue given"


def gather_prefetch(prefetch: Mapping[str, Any], *, asked: Mapping[str, str]) -> Prefetched:
    """Gather the resources of a CDS Hooks prefetch.

    Parameters
    ----------
    prefetch : mapping
        The request's ``prefetch`` object.
    asked : mapping of str to str
        The service's prefetch templates by key (from the discovery document).

    Returns
    -------
    Prefetched
        The resources with their paths, the notes, and the keys incomplete or missing.
    """
    entries: list[tuple[dict[str, Any], str, str | None]] = []
    notes: list[NotRead] = []
    incomplete: list[str] = []
    for key, value in prefetch.items():
        where = f"prefetch.{key}"
        if key not in asked:
            notes.append(NotRead.of(where, value, f"not a prefetch key this service asks for "
                                                  f"(asked: {', '.join(asked)}): ignored"))
            continue
        if value is None:
            continue
        if not isinstance(value, Mapping):
            notes.append(
                NotRead.of(where, value, "expected a FHIR resource or Bundle: ignored, results may be missing")
            )
            incomplete.append(key)
            continue
        kind = value.get("resourceType")
        if kind == "OperationOutcome":
            notes.append(NotRead.of(where, _outcome_text(value), "the EHR could not run this query "
                                                                 "(OperationOutcome): results may be missing"))
            incomplete.append(key)
            continue
        if kind != "Bundle":
            entries.append((dict(value), where, None))
            continue
        raw_entries = value.get("entry")
        if isinstance(raw_entries, Mapping):
            raw_entries = [raw_entries]
        listed_entries = raw_entries if isinstance(raw_entries, list) else []
        matched = 0
        for i, entry in enumerate(listed_entries):
            path = f"{where}.entry[{i}].resource"
            resource = entry.get("resource") if isinstance(entry, Mapping) else None
            if not isinstance(resource, Mapping):
                notes.append(NotRead.of(path, entry, "an entry without a resource: ignored"))
                continue
            if resource.get("resourceType") == "OperationOutcome":
                notes.append(NotRead.of(path, _outcome_text(resource), "the EHR reported a problem with this query "
                                                                       "(OperationOutcome): results may be missing"))
                if key not in incomplete:
                    incomplete.append(key)
                continue
            search = entry.get("search") if isinstance(entry.get("search"), Mapping) else {}
            if search.get("mode", "match") == "match":
                matched += 1
            url = entry.get("fullUrl")
            entries.append((dict(resource), path, url if isinstance(url, str) else None))
        links = value.get("link") if isinstance(value.get("link"), list) else []
        following = [link for link in links if isinstance(link, Mapping) and link.get("relation") == "next"]
        total = value.get("total")
        if following:
            notes.append(
                NotRead.of(
                    f"{where}.link",
                    following[0].get("url", "next"),
                    "the search has more pages (Bundle.link next) that were not sent: results may be missing",
                )
            )
            incomplete.append(key)
        elif isinstance(total, int) and not isinstance(total, bool) and total > matched:
            notes.append(NotRead.of(f"{where}.total", total, f"the search found {total} results but sent {matched}: "
                                                             "results may be missing"))
            incomplete.append(key)
    missing = tuple(key for key in asked if key not in prefetch)
    return Prefetched(tuple(entries), tuple(notes), tuple(dict.fromkeys(incomplete)), missing)
