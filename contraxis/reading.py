"""What a reader made of its input: the case, and every item it did not use or changed.

Every reader (native case, vignette, FHIR R4, CDS Hooks prefetch, GA4GH phenopacket) returns a
:class:`Reading`: the validated :class:`~contraxis.case.Case` and ``not_read``, one
:class:`NotRead` per item of the input that was not used, or was used only after a change
(a brand name read as its ingredient, an HPO alt_id replaced by its primary id, a resource
status that made an order count as past). Answers carry ``not_read`` at their top level so
that nothing is silently dropped.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover - the case format imports this module
    from .case import Case

__all__ = ["NotRead", "Reading", "excerpt", "relocate"]

EXCERPT = 120


def excerpt(value: Any, limit: int = EXCERPT) -> str:
    """A short printable excerpt of an input value (never more than ``limit`` characters)."""
    if isinstance(value, str):
        text = value
    else:
        try:
            text = repr(value)
        except Exception:  # noqa: BLE001 - a value whose repr fails is still named
            text = f"<{type(value).__name__}>"
    text = "".join(ch if ch.isprintable() else f"\\x{ord(ch):02x}" if ord(ch) < 256 else "?" for ch in text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def relocate(path: str, origins: Mapping[str, str]) -> str:
    """Where in the original input a case path came from.

    ``origins`` maps case paths to input paths (``case.labs[1]`` -> ``measurements[3]``,
    ``case.labs[1].unit`` -> ``measurements[3].value.quantity.unit``); the longest that
    ``path`` starts with decides. A path with no origin is returned as it is.
    """
    best = ""
    for prefix in origins:
        if len(prefix) > len(best) and (path == prefix or path.startswith((prefix + ".", prefix + "["))):
            best = prefix
    return origins[best] if best else path


@dataclass(frozen=True, slots=True)
class NotRead:
    """One item of the input that was not used, or was changed before use.

    Parameters
    ----------
    path : str
        Where it is in the input (``case.medications[0].name``, ``entry[3].resource``,
        ``phenotypicFeatures[4].type.id``).
    value : str
        An excerpt of the value as given (at most 120 characters).
    reason : str
        Why it was not used, or what it was read as.
    """

    path: str
    value: str
    reason: str

    @classmethod
    def of(cls, path: str, value: Any, reason: str) -> NotRead:
        """Build one, turning ``value`` into a bounded excerpt."""
        return cls(path, excerpt(value), reason)

    def to_json(self) -> dict[str, str]:
        return {"path": self.path, "value": self.value, "reason": self.reason}


@dataclass(frozen=True, slots=True)
class Reading:
    """A case read from some input, with what was not read.

    Parameters
    ----------
    case : contraxis.case.Case
        The validated case.
    not_read : tuple of NotRead
        Every item not used or changed, in input order.
    format : str
        What the input was: ``native``, ``vignette``, ``fhir``, ``phenopacket``.
    """

    case: Case
    not_read: tuple[NotRead, ...] = ()
    format: str = "native"
    extra: dict[str, Any] = field(default_factory=dict)

    def not_read_json(self) -> list[dict[str, str]]:
        return [item.to_json() for item in self.not_read]
