"""What one resource gives the case (:class:`Part`), and what the readers share (:class:`Context`).

Each reader of the package is a pure function ``read_x(located, ctx) -> Part``: it returns
the findings, laboratory results, drugs... the resource gives, each with the path of the
input it came from, and the items it did not read with the reason. The package's
:func:`~contraxis.io.fhir.reader.read_resources` merges the parts into the case; no reader
writes into a structure another reads.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from types import MappingProxyType
from typing import Any

from ...reading import NotRead
from .elements import Located
from .tables import FhirTables

__all__ = ["Context", "Item", "Part", "skipped"]

_EMPTY: Mapping[str, Any] = MappingProxyType({})


@dataclass(frozen=True, slots=True)
class Item:
    """One value for the case (a code, or a row such as a lab result) and the input path it
    came from."""

    value: Any
    path: str


@dataclass(frozen=True)
class Part:
    """What one resource gives the case.

    ``fields`` holds single-valued case fields (``sex``, ``age``, ``course``, ``severity``,
    ``family_history``); the tuples hold list items with their input paths; ``onsets`` the
    onset ages (years) it gives; ``not_read`` what it did not read, and why.
    """

    fields: Mapping[str, Any] = field(default_factory=lambda: _EMPTY)
    findings: tuple[Item, ...] = ()
    absent: tuple[Item, ...] = ()
    history: tuple[Item, ...] = ()
    regions: tuple[Item, ...] = ()
    onsets: tuple[float, ...] = ()
    labs: tuple[Item, ...] = ()
    medications: tuple[Item, ...] = ()
    treatments: tuple[Item, ...] = ()
    mri: Item | None = None
    mri_findings: tuple[Item, ...] = ()
    genes_tested: tuple[str, ...] = ()
    genes_positive: tuple[str, ...] = ()
    not_read: tuple[NotRead, ...] = ()


@dataclass(frozen=True)
class Context:
    """What every reader may use: fixed before the resources are read.

    Parameters
    ----------
    reference_date : datetime.date
        The date ages and days are counted to.
    codes : contraxis.codes.CodeTables
        HPO and the official code tables.
    tables : FhirTables
        The reader's code maps.
    birth : datetime.date, optional
        The patient's birth date (from the Patient), for onset ages.
    references : mapping
        ``Medication/id`` (and full URLs) -> the Medication resources of the input, for
        ``medicationReference``.
    """

    reference_date: date
    codes: Any
    tables: FhirTables
    birth: date | None = None
    references: Mapping[str, Any] = field(default_factory=dict)


def skipped(located: Located, item: str, reason: str, *, at: str = "") -> Part:
    """A part that reads nothing: one not-read row naming the resource and the item."""
    return Part(not_read=(not_read(located, item, reason, at=at),))


def not_read(located: Located, item: str, reason: str, *, at: str = "") -> NotRead:
    """A not-read row for an item of a resource: the path (plus ``.at``), the resource's
    label with the item as the value, and the reason."""
    path = f"{located.path}.{at}" if at else located.path
    return NotRead.of(path, f"{located.label}: {item}" if item else located.label, reason)
