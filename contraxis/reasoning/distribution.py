"""Body distribution of a dystonia (2013 consensus, Axis I), computed from the regions.

The regions of the case are grouped into segments (``regions.yaml``: lower face, jaw and
tongue are the oromandibular segment; a foot counts as its leg; trunk and back are one
segment; the abdomen never counts) and the contiguity of those segments decides between
segmental and multifocal.
"""

from __future__ import annotations

from collections.abc import Iterable

from ..knowledge.schema import Regions
from ..vocabulary import Distribution

__all__ = ["distribution", "segments"]


def segments(regions: Iterable[str], *, layout: Regions) -> frozenset[str]:
    """The body segments that the regions fall in (the abdomen is not one)."""
    return frozenset(
        seg for r in regions if (seg := layout.regions[r].segment) is not None
    )


def _connected(segs: frozenset[str], layout: Regions) -> bool:
    start = next(iter(segs))
    seen = {start}
    stack = [start]
    while stack:
        here = stack.pop()
        for n in layout.contiguous.get(here, ()):
            if n in segs and n not in seen:
                seen.add(n)
                stack.append(n)
    return seen == segs


def _hemi(regions: Iterable[str], layout: Regions) -> bool:
    sides: dict[str, set[str]] = {}
    for r in regions:
        info = layout.regions[r]
        if info.segment is None:
            continue
        if info.side is None:
            if info.cranial and r != "larynx":
                continue  # the face of the same side may be included
            return False
        sides.setdefault(info.side, set()).add(info.limb or "")
    return len(sides) == 1 and next(iter(sides.values())) >= {"arm", "leg"}


def distribution(regions: Iterable[str], *, layout: Regions) -> Distribution | None:
    """Focal, segmental, multifocal, generalized or hemidystonia; None when no region counts.

    Parameters
    ----------
    regions : iterable of str
        The regions involved by the dystonia.
    layout : Regions
        Segments and contiguity from the knowledge base.

    Examples
    --------
    ``["neck"]`` is focal; ``["neck", "right-arm"]`` segmental; ``["upper-face",
    "right-arm"]`` multifocal; ``["trunk", "left-leg", "right-leg"]`` generalized;
    ``["right-arm", "right-foot"]`` hemidystonia.
    """
    regions = list(regions)
    segs = segments(regions, layout=layout)
    if not segs:
        return None
    if "trunk" in segs and len(segs) >= 3:
        return "generalized"
    if _hemi(regions, layout):
        return "hemidystonia"
    if len(segs) == 1:
        return "focal"
    return "segmental" if _connected(segs, layout) else "multifocal"
