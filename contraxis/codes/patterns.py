"""The written form of every identifier Contraxis reads, each defined once.

Each pattern is compiled without anchors: test a whole value with ``pattern.fullmatch(value)``.
A pydantic field takes the anchored text of the same pattern: ``Field(pattern=anchored(HPO_ID))``.
A value that has the form may still not exist; :mod:`contraxis.codes` checks that against the
official tables (and the check digits of LOINC and SNOMED CT).

==============  ===================  ==========================================================
name            example              form
==============  ===================  ==========================================================
HPO_ID          ``HP:0000473``       ``HP:`` and seven digits
LOCAL_ID        ``CX:painful``       ``CX:`` and lower-case words joined by hyphens
HISTORY_ID      ``CX:hx-stroke``     a local code in the ``hx-`` (history) family
LOINC_CODE      ``2951-2``           up to seven digits, a hyphen, a check digit
LOINC_ANSWER    ``LA9633-4``         ``LA``, up to eight digits, a hyphen, a check digit
GENE_SYMBOL     ``ATP7B``            an HGNC symbol: capitals and digits (``C9orf72``: ``orf``)
SCTID           ``70070008``         a SNOMED CT id: 6 to 18 digits, no leading zero
UMLS_CUI        ``C0040485``         ``C`` and seven digits
ICD10CM_CODE    ``G24.02``           a letter, two characters, up to four after a dot
ICD11_CODE      ``8A02.00``          a stem code, or an extension code ``X...``
OMIM_ID         ``OMIM:128100``      ``OMIM:`` and six digits
RXNORM_ID       ``8076``             an RxNorm concept id: up to ten digits, no leading zero
==============  ===================  ==========================================================
"""

from __future__ import annotations

import re
from typing import Final

__all__ = [
    "GENE_SYMBOL",
    "HISTORY_ID",
    "HPO_ID",
    "ICD10CM_CODE",
    "ICD11_CODE",
    "LOCAL_ID",
    "LOINC_ANSWER",
    "LOINC_CODE",
    "OMIM_ID",
    "RXNORM_ID",
    "SCTID",
    "UMLS_CUI",
    "anchored",
]

HPO_ID: Final = re.compile(r"HP:[0-9]{7}")
"""An HPO term id, ``HP:0000473``."""

LOCAL_ID: Final = re.compile(r"CX:[a-z0-9]+(?:-[a-z0-9]+)*")
"""A Contraxis local finding or history code, ``CX:relieved-by-stretching``."""

HISTORY_ID: Final = re.compile(r"CX:hx-[a-z0-9]+(?:-[a-z0-9]+)*")
"""A Contraxis history code, ``CX:hx-stroke``."""

LOINC_CODE: Final = re.compile(r"([0-9]{1,7})-([0-9])")
"""A LOINC code; group 1 is the body, group 2 the check digit."""

LOINC_ANSWER: Final = re.compile(r"LA[0-9]{1,8}-[0-9]")
"""A LOINC answer code, ``LA9633-4``."""

GENE_SYMBOL: Final = re.compile(r"[A-Z0-9][A-Z0-9orf.\-]*")
"""An HGNC gene symbol as cases write it (``ATP7B``, ``C9orf72``, ``HLA-B``)."""

SCTID: Final = re.compile(r"[1-9][0-9]{5,17}")
"""A SNOMED CT identifier (its Verhoeff check digit is not part of the pattern)."""

UMLS_CUI: Final = re.compile(r"C[0-9]{7}")
"""A UMLS concept unique identifier."""

ICD10CM_CODE: Final = re.compile(r"[A-Z][0-9][0-9A-Z](?:\.?[0-9A-Z]{1,4})?")
"""An ICD-10-CM category or subcategory code, dotted or not."""

ICD11_CODE: Final = re.compile(r"[0-9A-Z]{4}(?:\.[0-9A-Z]{1,2})?|X[0-9A-Z]{4,}")
"""An ICD-11 MMS stem code or extension code."""

OMIM_ID: Final = re.compile(r"OMIM:[0-9]{6}")
"""An OMIM entry, ``OMIM:128100``."""

RXNORM_ID: Final = re.compile(r"[1-9][0-9]{0,9}")
"""An RxNorm concept id (RXCUI)."""


def anchored(pattern: re.Pattern[str]) -> str:
    """Return a pattern's text anchored at both ends, for ``pydantic.Field(pattern=...)``.

    Parameters
    ----------
    pattern : re.Pattern
        One of this module's patterns.

    Returns
    -------
    str
        ``^(?:...)$``: pydantic searches its pattern, so the anchors make it match whole values.
    """
    return f"^(?:{pattern.pattern})$"
