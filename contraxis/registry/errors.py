"""The registry's errors, below :class:`~contraxis.errors.CaseError` in the project's tree::

    CaseError
     └── RegistryError            a request to the registry cannot be carried out
          ├── NotFound            no such patient, visit or record
          ├── AccessDenied        the role does not allow it (a researcher asking for names)
          └── SchemaError         the database is not a registry, or not at this version

Each holds :class:`~contraxis.errors.Problem` rows naming the field, the value and what is allowed.
"""

from __future__ import annotations

from ..errors import CaseError

__all__ = ["AccessDenied", "NotFound", "RegistryError", "SchemaError"]


class RegistryError(CaseError):
    """A request to the registry cannot be carried out (bad URL, bad value, conflicting record).

    ``status`` is the HTTP status the web service answers it with."""

    status = 422


class NotFound(RegistryError):
    """No patient, visit or record answers to the identifier given."""

    status = 404


class AccessDenied(RegistryError):
    """The role of whoever asks does not allow what was asked."""

    status = 403


class SchemaError(RegistryError):
    """The database is not a registry, or its schema is older than this version of Contraxis
    (run ``contraxis registry init`` to upgrade it)."""

    status = 503
