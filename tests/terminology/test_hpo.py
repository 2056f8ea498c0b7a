"""Tests of HPO alt_ids and obsolete ids read as current terms (contraxis.terminology.hpo).

The pinned counts depend on the shipped hp.obo (2025-01-16) and the HPO release of hpo3
(2025-11-24); they change when either is updated. Reproduce them with::

    zcat contraxis/data/hpo/hp.obo.gz | grep -c '^alt_id: '      # 3832
"""

from __future__ import annotations

import collections
import gzip
import importlib.resources
import re
import subprocess
import sys
from pathlib import Path

import pytest

from contraxis.codes import HpoOntology
from contraxis.terminology import hpo
from contraxis.terminology.hpo import HpoReplacement, hpo_replacement, hpo_xref_index

ALT_IDS_IN_SHIPPED_OBO = 3832
ALT_IDS_REPLACED = 3832  # every alt_id of hp.obo 2025-01-16 ends at a current hpo3 term
# 3 alt_ids were made obsolete in hpo3 and replaced by another term than hp.obo's: hpo3 wins.
ALT_IDS_BY_HOW = {"alt_id": 3829, "obsolete": 3}

# A hand-made hp.obo over real current terms (HP:0001332 Dystonia, HP:0000643 Blepharospasm)
# and ids that no HPO release holds (HP:99999xx):
#
#   HP:0001332 Dystonia      alt_id HP:9999901; xrefs SNOMED CT 15802004, a bad SNOMED id
#   HP:9999902 (obsolete)    replaced_by HP:0000643
#   HP:9999903 (obsolete)    consider HP:0001332 only
#   HP:9999904 (obsolete)    replaced_by HP:9999902, itself replaced: a chain
#   HP:9999905 (obsolete)    replaced_by HP:9999906 (obsolete) replaced_by HP:9999905: a loop
#   HP:0000057 (obsolete in hpo3)  xref SNOMED CT 10629009: dropped, its term is not current
MINI_OBO = """format-version: 1.2
data-version: hp/releases/2099-01-01

[Term]
id: HP:0001332
name: Dystonia
alt_id: HP:9999901
xref: SNOMEDCT_US:15802004
xref: SNOMEDCT_US:15802005
xref: UMLS:C0013421

[Term]
id: HP:9999902
name: obsolete Something
is_obsolete: true
replaced_by: HP:0000643

[Term]
id: HP:9999903
name: obsolete Something else
is_obsolete: true
consider: HP:0001332

[Term]
id: HP:9999904
name: obsolete Chained
is_obsolete: true
replaced_by: HP:9999902

[Term]
id: HP:9999905
name: obsolete Loop A
is_obsolete: true
replaced_by: HP:9999906

[Term]
id: HP:9999906
name: obsolete Loop B
is_obsolete: true
replaced_by: HP:9999905

[Term]
id: HP:0000057
name: Clitoromegaly
xref: SNOMEDCT_US:10629009

[Typedef]
id: part_of
name: part of
"""


@pytest.fixture(scope="module")
def ontology() -> HpoOntology:
    return HpoOntology.load()


@pytest.fixture()
def mini(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Path]:
    """The mini hp.obo on disk, an empty cache folder, and no maps kept in memory."""
    obo = tmp_path / "hp.obo"
    obo.write_text(MINI_OBO, encoding="utf-8")
    monkeypatch.setattr(hpo, "_FACTS", {})
    return {"obo_path": obo, "cache_dir": tmp_path / "cache"}


def shipped_alt_ids() -> list[str]:
    raw = importlib.resources.files("contraxis.data.hpo").joinpath("hp.obo.gz").read_bytes()
    return re.findall(r"^alt_id: (HP:\d{7})", gzip.decompress(raw).decode("utf-8"), re.M)


# --- the shipped ontology ------------------------------------------------------------------


def test_dystonia_alt_id_is_read_as_dystonia() -> None:
    """Check that HP:0002328, an alt_id of Dystonia, is read as HP:0001332 and says why."""
    found = hpo_replacement("HP:0002328")
    assert found == HpoReplacement(
        given="HP:0002328",
        current="HP:0001332",
        how="alt_id",
        note="HP:0002328 is an alt_id of HP:0001332 (Dystonia) in HPO 2025-01-16: read as HP:0001332",
    )


def test_blanks_around_an_id_are_ignored() -> None:
    """Check that an id with surrounding blanks is read like the bare id."""
    assert hpo_replacement(" HP:0002328\n").current == "HP:0001332"


def test_alt_ids_of_the_shipped_obo_are_replaced(ontology: HpoOntology) -> None:
    """Check that every alt_id of the shipped hp.obo is read as a current term (pinned count)."""
    alt_ids = shipped_alt_ids()
    assert len(alt_ids) == ALT_IDS_IN_SHIPPED_OBO
    found = [hpo_replacement(a) for a in alt_ids]
    replaced = [r for r in found if r is not None]
    assert len(replaced) == ALT_IDS_REPLACED
    assert collections.Counter(r.how for r in replaced) == ALT_IDS_BY_HOW
    assert all(ontology.is_current(r.current) for r in replaced)
    assert all(r.given in r.note and r.current in r.note for r in replaced)


def test_obsolete_id_with_a_replacement(ontology: HpoOntology) -> None:
    """Check that an obsolete id (not an alt_id) is read as its replaced_by term, naming the release."""
    assert not ontology.is_current("HP:0003114")
    found = hpo_replacement("HP:0003114")
    assert found is not None
    assert (found.current, found.how) == ("HP:0001626", "obsolete")
    assert found.note == ("HP:0003114 is obsolete in HPO 2025-11-24, replaced by HP:0001626 "
                          "(Abnormality of the cardiovascular system): read as HP:0001626")


def test_alt_id_of_a_term_made_obsolete_since_follows_the_chain(ontology: HpoOntology) -> None:
    """Check that an alt_id whose term hpo3 has made obsolete ends at that term's replacement."""
    found = hpo_replacement("HP:0002856")
    assert found is not None
    assert not ontology.is_current("HP:0005365")
    assert (found.current, found.how) == ("HP:0010976", "alt_id")
    assert "HP:0005365" in found.note and "2025-01-16" in found.note and "2025-11-24" in found.note


def test_newer_release_wins_over_an_alt_id(ontology: HpoOntology) -> None:
    """Check that an alt_id that hpo3 replaces by another term is read as hpo3's term."""
    found = hpo_replacement("HP:0005409")  # an alt_id of HP:0005435 in hp.obo 2025-01-16
    assert found is not None and ontology.is_current(found.current)
    assert (found.current, found.how) == ("HP:0011840", "obsolete")
    assert "2025-11-24" in found.note


def test_obsolete_id_with_only_consider_is_not_replaced() -> None:
    """Check that an obsolete id that names only terms to consider gives None."""
    assert hpo_replacement("HP:0001726") is None


@pytest.mark.parametrize("given", ["HP:0001332", "HP:0000473", "HP:9999999", "HP:123", "hp:0001332", "", None, 1332])
def test_current_unknown_or_malformed_ids_give_none(given: object) -> None:
    """Check that a current, unknown or malformed id gives None."""
    assert hpo_replacement(given) is None  # type: ignore[arg-type]


def test_current_id_does_not_read_hp_obo(monkeypatch: pytest.MonkeyPatch) -> None:
    """Check that a current id is answered without opening hp.obo or its cache."""
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("hp.obo was read for a current id")

    monkeypatch.setattr(hpo, "_FACTS", {})
    monkeypatch.setattr(hpo, "_obo_bytes", refuse)
    monkeypatch.setattr(hpo, "_read_cache", refuse)
    monkeypatch.setattr(hpo, "_parse_obo", refuse)
    assert hpo_replacement("HP:0001332") is None
    assert hpo_replacement("HP:0000643") is None
    with pytest.raises(AssertionError, match="hp.obo was read"):
        hpo_replacement("HP:0002328")


def test_importing_the_module_reads_nothing(tmp_path: Path) -> None:
    """Check that importing the module neither builds hpo3 nor writes a cache."""
    script = (
        "import sys\n"
        "import contraxis.terminology.hpo\n"
        "print('pyhpo' in sys.modules)\n"
    )
    env = {"CONTRAXIS_CACHE": str(tmp_path), "PATH": ""}
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True, env=env)
    assert out.stdout.strip() == "False"
    assert not any(tmp_path.iterdir())


# --- a hand-made hp.obo --------------------------------------------------------------------


def test_mini_obo_alt_id_and_replacements(mini: dict[str, Path]) -> None:
    """Check alt_id, replaced_by, consider, chains and loops on a hand-made hp.obo."""
    alt = hpo_replacement("HP:9999901", **mini)
    assert alt is not None and (alt.current, alt.how) == ("HP:0001332", "alt_id")
    assert alt.note == "HP:9999901 is an alt_id of HP:0001332 (Dystonia) in HPO 2099-01-01: read as HP:0001332"
    replaced = hpo_replacement("HP:9999902", **mini)
    assert replaced is not None and (replaced.current, replaced.how) == ("HP:0000643", "obsolete")
    assert hpo_replacement("HP:9999903", **mini) is None
    chained = hpo_replacement("HP:9999904", **mini)
    assert chained is not None and chained.current == "HP:0000643"
    assert chained.note == ("HP:9999904 is obsolete in HPO 2099-01-01, replaced by HP:9999902, and "
                            "HP:9999902 is obsolete in HPO 2099-01-01, replaced by HP:0000643 "
                            "(Blepharospasm): read as HP:0000643")
    assert hpo_replacement("HP:9999905", **mini) is None


def test_maps_are_cached_on_disk_and_reused(mini: dict[str, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    """Check that hp.obo is parsed once, cached by its sha256, and read back without parsing."""
    parses = []
    real_parse = hpo._parse_obo
    monkeypatch.setattr(hpo, "_parse_obo", lambda *a: parses.append(1) or real_parse(*a))
    assert hpo_replacement("HP:9999901", **mini) is not None
    assert len(parses) == 1
    files = list((mini["cache_dir"] / "terminology").glob("hpo-obo-*.json"))
    assert len(files) == 1
    monkeypatch.setattr(hpo, "_FACTS", {})
    assert hpo_replacement("HP:9999902", **mini) is not None
    assert len(parses) == 1  # read from the disk cache
    files[0].write_text("{not json", encoding="utf-8")
    monkeypatch.setattr(hpo, "_FACTS", {})
    assert hpo_replacement("HP:9999901", **mini) is not None
    assert len(parses) == 2  # a damaged cache is rebuilt


def test_changed_obo_is_not_read_from_a_stale_cache(mini: dict[str, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    """Check that the cache is keyed by the file's content."""
    assert hpo_replacement("HP:9999901", **mini) is not None
    mini["obo_path"].write_text(MINI_OBO.replace("alt_id: HP:9999901\n", ""), encoding="utf-8")
    monkeypatch.setattr(hpo, "_FACTS", {})
    assert hpo_replacement("HP:9999901", **mini) is None


def test_mini_obo_xref_index(mini: dict[str, Path]) -> None:
    """Check that xrefs of current terms are indexed and bad or stale ones dropped."""
    index = hpo_xref_index(**mini)
    assert index[("SNOMED CT", "15802004")] == ("HP:0001332",)
    assert index[("UMLS", "C0013421")] == ("HP:0001332",)
    assert ("SNOMED CT", "15802005") not in index  # wrong Verhoeff check digit
    assert ("SNOMED CT", "10629009") not in index  # HP:0000057 is obsolete in hpo3


# --- the shipped cross-references -----------------------------------------------------------


def test_shipped_xref_index(ontology: HpoOntology) -> None:
    """Check known SNOMED CT and UMLS cross-references and that only current terms are listed."""
    index = hpo_xref_index()
    assert index[("SNOMED CT", "59026006")] == ("HP:0000643",)
    assert index[("SNOMED CT", "74333002")] == ("HP:0000473",)
    assert "HP:0001332" in index[("UMLS", "C0013421")]
    assert all(ontology.is_current(t) for terms in index.values() for t in terms)
    assert {system for system, _ in index} >= {"SNOMED CT", "UMLS", "NCIT"}
