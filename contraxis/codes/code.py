"""A code found in an official table, and the code systems Contraxis knows."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Final, Literal, get_args

__all__ = ["FHIR_SYSTEMS", "SYSTEMS", "Code", "System"]

System = Literal["ICD-10-CM", "ICD-11", "HPO", "SNOMED CT", "UMLS", "LOINC"]
"""The code systems Contraxis knows, by the names it reports them under."""

SYSTEMS: Final[tuple[str, ...]] = get_args(System)

FHIR_SYSTEMS: Final[Mapping[str, str]] = MappingProxyType({
    "ICD-10-CM": "http://hl7.org/fhir/sid/icd-10-cm",
    "ICD-11": "http://id.who.int/icd/release/11/mms",
    "HPO": "http://human-phenotype-ontology.org",
    "SNOMED CT": "http://snomed.info/sct",
    "UMLS": "http://www.nlm.nih.gov/research/umls",
    "LOINC": "http://loinc.org",
})
"""The FHIR ``Coding.system`` URI of each code system."""


@dataclass(frozen=True, slots=True)
class Code:
    """A code found in an official table.

    Parameters
    ----------
    system : str
        One of :data:`SYSTEMS`.
    code : str
        The code as the table writes it (ICD-10-CM dotted, ``HP:0000473``).
    display : str or None
        The table's own text for the code; None where Contraxis has no table with text
        (SNOMED CT, UMLS, LOINC).
    leaf : bool or None
        Whether the code has no subdivisions. For ICD-10-CM a leaf is a billable code; for
        ICD-11 a leaf stem code is the most specific code; None where not known (ICD-11
        extension codes, HPO, SNOMED CT, UMLS, LOINC).
    obsolete : bool
        HPO: the term is obsolete in the release.
    replaced_by : str or None
        HPO: the term that replaces an obsolete one, if the release names one.
    extension : bool
        ICD-11: an extension code (chapter X), which qualifies a stem code and is never
        used alone.
    """

    system: str
    code: str
    display: str | None
    leaf: bool | None = None
    obsolete: bool = False
    replaced_by: str | None = None
    extension: bool = False

    @property
    def billable(self) -> bool | None:
        """Whether an ICD-10-CM code is billable (a leaf); None for other systems."""
        return self.leaf if self.system == "ICD-10-CM" else None

    @property
    def fhir_system(self) -> str:
        """The FHIR ``Coding.system`` URI of the code's system."""
        return FHIR_SYSTEMS[self.system]

    def __str__(self) -> str:
        text = f"{self.system} {self.code}"
        return f"{text} {self.display}" if self.display else text
