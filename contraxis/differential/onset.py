"""Age at onset: the HPO onset terms as contiguous age bands.

The HPO defines each onset term by an age range (its ``def:`` line in ``hp.obo``). The
model works on the nine bands below, in order; a term covering several bands (``Pediatric
onset``, ``Adult onset``) stands for all of them, and an age in years falls in one band.

=====  ==================  =============================================  ==============
band   name                HPO definition                                  terms
=====  ==================  =============================================  ==============
0      antenatal           before birth                                    HP:0030674 and below
1      congenital          present at birth                                HP:0003577
2      neonatal            first 28 days                                   HP:0003623
3      infantile           28 days to 1 year                               HP:0003593
4      childhood           1 to 5 years                                    HP:0011463
5      juvenile            5 to 15 years                                   HP:0003621
6      young adult         16 to 40 years                                  HP:0011462 and below
7      middle age          40 to 60 years                                  HP:0003596
8      late                after 60 years                                  HP:0003584
=====  ==================  =============================================  ==============
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

__all__ = ["BANDS", "ONSET_BANDS", "band_of_age", "bands_of_term"]

BANDS: Final[tuple[str, ...]] = (
    "antenatal", "congenital", "neonatal", "infantile", "childhood", "juvenile",
    "young adult", "middle age", "late",
)

ONSET_BANDS: Final[Mapping[str, tuple[int, ...]]] = {
    "HP:0003674": tuple(range(9)),  # Onset (any)
    "HP:0030674": (0,),  # Antenatal onset
    "HP:0011460": (0,),  # Embryonal onset
    "HP:0011461": (0,),  # Fetal onset
    "HP:0034197": (0,),  # Third trimester onset
    "HP:0034198": (0,),  # Second trimester onset
    "HP:0034199": (0,),  # Late first trimester onset
    "HP:0003577": (1,),  # Congenital onset
    "HP:0003623": (2,),  # Neonatal onset
    "HP:0410280": (3, 4, 5),  # Pediatric onset: before 16 years, neonatal and congenital excluded
    "HP:0003593": (3,),  # Infantile onset
    "HP:0011463": (4,),  # Childhood onset
    "HP:0003621": (5,),  # Juvenile onset
    "HP:0003581": (6, 7, 8),  # Adult onset: 16 years or later
    "HP:0011462": (6,),  # Young adult onset
    "HP:0025708": (6,),  # Early young adult onset
    "HP:0025709": (6,),  # Intermediate young adult onset
    "HP:0025710": (6,),  # Late young adult onset
    "HP:4000040": (6,),  # Puerperal onset
    "HP:0003596": (7,),  # Middle age onset
    "HP:6000314": (7,),  # Perimenopausal onset
    "HP:6000315": (7, 8),  # Postmenopausal onset
    "HP:0003584": (8,),  # Late onset
}
"""The bands each onset term stands for. Other onset terms (``Insidious onset``,
``Acute onset``...) say nothing about age and are ignored."""

_NEONATAL_END = 28 / 365.25


def bands_of_term(term: str) -> tuple[int, ...]:
    """Return the bands an HPO onset term stands for (empty if it does not give an age)."""
    return ONSET_BANDS.get(term, ())


def band_of_age(age: float) -> tuple[int, ...]:
    """Return the band of an onset age in years (0 stands for birth: congenital or neonatal).

    Parameters
    ----------
    age : float
        Age at onset in years; negative for before birth.
    """
    if age < 0:
        return (0,)
    if age == 0:
        return (1, 2)
    if age < _NEONATAL_END:
        return (2,)
    if age < 1:
        return (3,)
    if age < 5:
        return (4,)
    if age < 16:
        return (5,)
    if age < 40:
        return (6,)
    if age < 60:
        return (7,)
    return (8,)
