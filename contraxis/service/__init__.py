"""The Contraxis web service: REST, CDS Hooks 2.0, FHIR R4 input and the intake page.

A thin adapter over :func:`contraxis.assess`: it reads requests, calls the engine and writes
answers; it holds no clinical knowledge of its own beyond reviewed data files
(``data/order_safety.yaml``, ``data/intake_form.yaml``, ``data/cds-services.json``).

Build the ASGI app with :func:`create_app`; run it with ``contraxis serve``.
"""

from .app import create_app as create_app
from .engine import Engine as Engine
from .settings import ServiceSettings as ServiceSettings

__all__ = ["Engine", "ServiceSettings", "create_app"]
