"""Body distribution (2013 consensus) from the regions involved."""

from __future__ import annotations

import pytest

from contraxis.reasoning.distribution import distribution


@pytest.mark.parametrize(
    "regions, expected",
    [
        (["neck"], "focal"),
        (["jaw", "tongue"], "focal"),  # one oromandibular region
        (["lower-face", "jaw", "tongue"], "focal"),
        (["trunk", "back"], "focal"),  # one trunk segment
        (["left-foot"], "focal"),
        (["left-leg", "left-foot"], "focal"),  # a foot counts as its leg
        (["neck", "right-arm"], "segmental"),
        (["upper-face", "jaw"], "segmental"),
        (["larynx", "neck"], "segmental"),
        (["left-arm", "right-arm"], "segmental"),
        (["left-foot", "right-foot"], "segmental"),
        (["neck", "back"], "segmental"),
        (["larynx", "jaw", "neck", "right-arm"], "segmental"),
        (["upper-face", "right-arm"], "multifocal"),
        (["neck", "left-leg"], "multifocal"),
        (["right-arm", "left-leg"], "multifocal"),
        (["trunk", "left-leg", "right-leg"], "generalized"),
        (["trunk", "neck", "right-arm"], "generalized"),
        (["right-arm", "right-foot"], "hemidystonia"),
        (["right-arm", "right-leg", "lower-face"], "hemidystonia"),  # face of that side included
        (
            ["left-arm", "left-leg", "right-arm"],
            "multifocal",
        ),  # the other arm: not a hemidystonia; the leg joins only through the trunk
        (["left-arm", "left-leg", "neck"], "multifocal"),  # neck is not part of a hemidystonia
        (["left-arm", "left-leg", "trunk"], "generalized"),  # precedence: generalized first
        (["abdomen"], None),  # the intestines never count
        (["abdomen", "neck"], "focal"),
        ([], None),
    ],
)
def test_distribution(regions, expected, kb):
    """Check that the regions give the consensus distribution, with its precedence."""
    assert distribution(regions, layout=kb.regions) == expected


def test_contiguity_is_symmetric(kb):
    """Check that every contiguity in regions.yaml goes both ways."""
    for segment, neighbours in kb.regions.contiguous.items():
        for other in neighbours:
            assert segment in kb.regions.contiguous[other]
