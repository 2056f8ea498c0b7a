"""Body sites (``bodySite``) as regions of the case format: SNOMED CT body structures, the
case format's own region codes, or words of the site's text (a limb needs a side)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from ...vocabulary import REGIONS
from .elements import codings, concept_text
from .systems import CX_REGION_SYSTEM, SNOMED

__all__ = ["regions_of"]


def regions_of(sites: Iterable[Any], *, tables: Any) -> list[str]:
    """The regions a list of bodySite concepts names (those it cannot place are skipped)."""
    snomed = tables.regions.snomed
    found: list[str] = []
    for site in sites:
        coded = [str(c.code) for c in codings(site) if c.system == CX_REGION_SYSTEM and c.code in REGIONS]
        coded += [snomed[str(c.code)] for c in codings(site) if c.system == SNOMED and str(c.code) in snomed]
        if coded:
            found.extend(coded)
            continue
        text = " ".join([concept_text(site)] + [str(c.display or "") for c in codings(site)]).lower()
        side = "left" if re.search(r"\bleft\b", text) else "right" if re.search(r"\bright\b", text) else None
        limb = next((limb for word, limb in tables.limb_words if re.search(rf"\b{re.escape(word)}", text)), None)
        if limb and side:
            found.append(f"{side}-{limb}")
            continue
        region = next(
            (region for word, region in tables.region_words if re.search(rf"\b{re.escape(word)}", text)), None
        )
        if region:
            found.append(region)
    return found
