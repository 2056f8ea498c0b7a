"""The closed vocabularies: the urgency order defined once."""

from __future__ import annotations

from contraxis.vocabulary import URGENCIES, URGENCY_ORDER, urgency_rank


def test_urgency_order_follows_the_vocabulary() -> None:
    """Check that the order is the vocabulary's own, most urgent first."""
    assert list(URGENCY_ORDER) == list(URGENCIES) == ["emergency", "urgent", "soon", "routine"]
    assert sorted(["routine", "emergency", "soon", "urgent"], key=urgency_rank) == list(URGENCIES)


def test_unknown_urgency_sorts_last() -> None:
    """Check that a word outside the vocabulary sorts after every known urgency."""
    assert urgency_rank("whenever") > urgency_rank("routine")
