"""AllergyIntolerance: a dystonic reaction only when a manifestation says so."""

from __future__ import annotations

import pytest

from contraxis import codes as code_tables
from contraxis.io.fhir.allergy import read_allergy
from contraxis.io.fhir.tables import load_tables
from contraxis.io.fhir.validation import check_resource

from .conftest import HPO, RXNORM, SNOMED


def allergy(*manifestations, code=None, **extra):
    resource = {"resourceType": "AllergyIntolerance", "id": "a1", "patient": {"reference": "Patient/p1"},
                "code": code or {"text": "prochlorperazine"}, **extra}
    if manifestations:
        resource["reaction"] = [{"manifestation": list(manifestations)}]
    return resource


def read(resource):
    located = check_resource(resource, path="r").located
    return read_allergy(located, codes=code_tables.load_code_tables(), tables=load_tables())


@pytest.mark.parametrize(
    "manifestation",
    [
        {"coding": [{"system": SNOMED, "code": "5332004", "display": "Oculogyric crisis"}]},  # through HPO's xref
        {"coding": [{"system": SNOMED, "code": "15802004"}]},  # dystonia, the problem table
        {"coding": [{"system": SNOMED, "code": "87866006"}]},  # trismus, HPO's xref
        {"coding": [{"system": HPO, "code": "HP:0000473"}]},  # torticollis, below Dystonia
        {"coding": [{"system": HPO, "code": "HP:0025425"}]},  # laryngospasm, a root
        {"text": "jaw locked (lockjaw) after the injection"},
        {"text": "Acute dystonic reaction"},
    ],
)
def test_a_dystonic_manifestation_is_a_dystonic_reaction(manifestation):
    """Check that dystonia, oculogyric crisis, trismus, torticollis, laryngospasm (by code or text) count."""
    assert read(allergy(manifestation)).dystonic


@pytest.mark.parametrize(
    "manifestations",
    [
        ({"coding": [{"system": SNOMED, "code": "271807003", "display": "Eruption of skin"}], "text": "rash"},),
        ({"text": "nausea"}, {"text": "hives"}),
        (),
    ],
)
def test_any_other_reaction_is_what_it_is(manifestations):
    """Check that a rash, nausea or no reaction given is never a dystonic reaction, and is described as it is."""
    found = read(allergy(*manifestations))
    assert not found.dystonic
    assert found.ingredients == ("prochlorperazine",)
    texts = [m.get("text") for m in manifestations if m.get("text")]
    assert found.describe() == "allergy to prochlorperazine" + (f" ({', '.join(texts)})" if texts else "")


def test_a_reaction_description_can_say_it_was_dystonic():
    """Check that the free-text description of a reaction is read for a dystonic reaction too."""
    resource = allergy(reaction=[{"description": "Eyes rolled up and neck twisted: oculogyric crisis after 10 mg"}])
    found = read(resource)
    assert found.dystonic and "oculogyric crisis" in found.describe()
    coded = allergy(
        reaction=[{"manifestation": [{"text": "reaction"}], "description": "tongue protrusion and trismus"}]
    )
    assert read(coded).dystonic
    assert not read(allergy(reaction=[{"description": "itchy rash on the arms"}])).dystonic


def test_substance_by_rxnorm_kind_and_status():
    """Check a substance coded in RxNorm, an intolerance, and a refuted allergy (not read)."""
    coded = read(allergy(code={"coding": [{"system": RXNORM, "code": "6915", "display": "metoclopramide"}]},
                         type="intolerance"))
    assert (coded.ingredients, coded.kind, coded.skip) == (("metoclopramide",), "intolerance", "")
    refuted = read(allergy(verificationStatus={"coding": [{"code": "refuted"}]}))
    assert refuted.skip == "verificationStatus is 'refuted'"
