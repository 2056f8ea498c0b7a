"""The service's settings: an embedded default configuration, nothing to install or start."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

__all__ = ["MiB", "ServiceSettings"]

MiB = 1024 * 1024


@dataclass(frozen=True, slots=True, kw_only=True)
class ServiceSettings:
    """How the service behaves.

    Parameters
    ----------
    max_body_bytes : int
        Largest request body accepted; a larger one gets 413. 1 MiB by default.
    differential : bool
        Whether to load the HPO differential index (``contraxis.differential``); when it is
        off or cannot be loaded, answers leave the differential out and say why.
    preload : bool
        Load the knowledge base, code tables and differential index when the app starts
        (else on first use).
    docs : bool
        Serve the OpenAPI document's interactive page at ``/docs`` (Swagger UI, local copy).
    today : datetime.date, optional
        The date FHIR data is read at by the CDS Hooks services (ages, days since a drug was
        started); the current date (UTC) if omitted. Tests pin it.
    """

    max_body_bytes: int = MiB
    differential: bool = True
    preload: bool = True
    docs: bool = True
    today: date | None = None
