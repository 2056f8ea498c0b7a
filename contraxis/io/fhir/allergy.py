"""AllergyIntolerance: a recorded reaction to a drug, and whether it was a dystonic reaction.

A reaction counts as a dystonic reaction only when one of its manifestations says so: a
coding that names an HPO term at or below one of the roots of ``data/allergy_reactions.yaml``
(Dystonia, which holds torticollis, oculogyric crisis, laryngeal dystonia...; trismus;
opisthotonus; laryngospasm), read directly (HPO) or through the problem-code resolver
(SNOMED CT, ICD-10-CM, with HPO's own cross-references), or a word of that file in its text
or in the reaction's ``description``.
Any other allergy or intolerance is what it is ("allergy to prochlorperazine (rash)"), never
a dystonic reaction. Allergies are read by the order checks, not into the case.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from .concepts import at_or_below, read_concept
from .elements import Located, codings, concept_text, listed
from .medication import DrugGiven, _concept_drug

__all__ = ["AllergyReading", "is_dystonic", "read_allergy"]


@dataclass(frozen=True)
class AllergyReading:
    """A recorded allergy or intolerance.

    Parameters
    ----------
    substance : DrugGiven or None
        The drug it is to (name and/or RxNorm code), or None when no drug can be read.
    ingredients : tuple of str
        The ingredients the drug resolves to (empty when it does not).
    dystonic : bool
        Whether a manifestation was a dystonic reaction.
    manifestations : tuple of str
        The manifestations as text ("rash", "Oculogyric crisis").
    kind : str
        ``allergy`` or ``intolerance``.
    skip : str
        Why it is not read (entered in error, refuted), or "".
    """

    substance: DrugGiven | None
    ingredients: tuple[str, ...]
    dystonic: bool
    manifestations: tuple[str, ...]
    kind: str
    skip: str = ""

    def describe(self) -> str:
        """``allergy to prochlorperazine (rash)``."""
        name = ", ".join(self.ingredients) or (self.substance.shown if self.substance else "an unnamed substance")
        what = f"{self.kind} to {name}"
        return f"{what} ({', '.join(self.manifestations)})" if self.manifestations else what


def is_dystonic(manifestation: Any, *, codes: Any, tables: Any) -> bool:
    """Whether one manifestation (a CodeableConcept) names a dystonic reaction."""
    roots = tables.reactions.hpo_roots
    reading = read_concept(manifestation, codes=codes, tables=tables)
    if any(term.startswith("HP:") and at_or_below(codes, term, roots) for term in reading.findings):
        return True
    text = " ".join([concept_text(manifestation)] + [str(c.display or "") for c in codings(manifestation)])
    return _dystonic_words(text, tables)


def _dystonic_words(text: str, tables: Any) -> bool:
    lowered = text.lower()
    return any(re.search(rf"\b{re.escape(word)}", lowered) for word in tables.reactions.words)


def read_allergy(located: Located, *, codes: Any, tables: Any) -> AllergyReading:
    """Read an AllergyIntolerance (see the module's docstring)."""
    from ...terminology.drugs import resolve_drug

    allergy = located.resource
    verification = {str(c.code) for c in codings(allergy.verificationStatus)}
    kind = "intolerance" if allergy.type == "intolerance" else "allergy"
    skip = ""
    if verification & {"refuted", "entered-in-error"}:
        skip = f"verificationStatus is {sorted(verification & {'refuted', 'entered-in-error'})[0]!r}"
    substance = _concept_drug(allergy.code, f"{located.path}.code") if allergy.code is not None else None
    if substance is None:
        for i, reaction in enumerate(listed(allergy.reaction)):
            if reaction.substance is not None:
                substance = _concept_drug(reaction.substance, f"{located.path}.reaction[{i}].substance")
                if substance is not None:
                    break
    ingredients: tuple[str, ...] = ()
    if substance is not None:
        ingredients = resolve_drug(substance.name, rxnorm=substance.rxnorm).ingredients
    manifestations: list[str] = []
    dystonic = False
    for reaction in listed(allergy.reaction):
        for manifestation in listed(reaction.manifestation):
            text = concept_text(manifestation)
            if text:
                manifestations.append(text)
            dystonic = dystonic or is_dystonic(manifestation, codes=codes, tables=tables)
        if reaction.description:
            description = str(reaction.description)
            manifestations.append(description[:80])
            dystonic = dystonic or _dystonic_words(description, tables)
    return AllergyReading(substance=substance, ingredients=ingredients, dystonic=dystonic,
                          manifestations=tuple(dict.fromkeys(manifestations)), kind=kind, skip=skip)
