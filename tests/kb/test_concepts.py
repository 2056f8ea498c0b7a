"""Concepts of findings.yaml that take the HPO descendants of their terms, and the definitions
built on them: a descendant no list names still counts, and the descendants a concept leaves
out (``except``) do not."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from contraxis import assess, read_case
from contraxis.codes import HpoOntology
from contraxis.engine import rule_states
from contraxis.knowledge import DATA_DIR


def _states(kb, **case: Any) -> dict[str, bool]:
    return rule_states(read_case(case), kb=kb)


def _guarding_neck(*findings: str) -> dict[str, Any]:
    return {
        "age": 50, "sex": "female", "onset_age": 50, "course": "acute", "regions": ["neck"],
        "findings": ["HP:0003394", "CX:guarding-movement-pain", "CX:painful", "HP:0030833", *findings],
    }


@pytest.mark.parametrize(
    "code",
    ["HP:0031189", "HP:0033201", "HP:0009027", "HP:0003484", "HP:6000684"],
    ids=["wrist-drop", "biceps-hyporeflexia", "foot-dorsiflexor-weakness", "arm-weakness", "radiating-pain"],
)
def test_a_descendant_nerve_root_sign_gets_spine_imaging(kb, code):
    """Check that a nerve-root sign no list names (a descendant of limb weakness or of reduced reflexes) gets a
    guarding spasm spine imaging."""
    assert code in kb.concepts["nerve-root"]
    summary = assess(read_case(_guarding_neck(code)), kb=kb, xrefs=False).summary
    assert "spine-imaging" in summary.workup


@pytest.mark.parametrize("code", ["HP:0012392", "HP:0010992", "HP:0012513"],
                         ids=["jaw-hyporeflexia", "stress-incontinence", "arm-pain-alone"])
def test_what_is_not_a_nerve_root_sign_gets_no_spine_imaging(kb, code):
    """Check that a descendant left out (jaw jerk, stress incontinence) or plain arm pain is not a nerve-root sign."""
    assert code not in kb.concepts["nerve-root"]
    summary = assess(read_case(_guarding_neck(code)), kb=kb, xrefs=False).summary
    assert "spine-imaging" not in summary.workup


def _dystonia(*findings: str, onset: float = 58, **more: Any) -> dict[str, Any]:
    return {
        "age": onset + 1, "sex": "male", "onset_age": onset, "course": "progressive", "regions": ["right-foot"],
        "findings": ["CX:sustained-contractions", "CX:abnormal-posture", *findings], **more,
    }


@pytest.mark.parametrize(("findings", "holds"), [
    (["HP:0002063"], False),                 # rigidity alone
    (["HP:0002067"], False),                 # bradykinesia alone
    (["HP:0002322"], False),                 # rest tremor alone
    (["HP:0002067", "HP:0002063"], True),    # bradykinesia with rigidity
    (["HP:0002067", "HP:0002396"], True),    # with cogwheel rigidity, a descendant
    (["HP:0002067", "HP:0025387"], True),    # with pill-rolling tremor, a descendant of rest tremor
    (["HP:0033412", "HP:0002063"], True),    # upper extremity akinesia with rigidity
    (["HP:0002067", "HP:0025013"], False),   # decerebrate rigidity is left out
    (["HP:0002548"], True),                  # parkinsonism named as such (a descendant)
])
def test_parkinsonism_is_bradykinesia_with_rigidity_or_rest_tremor(kb, findings, holds):
    """Check the definition of parkinsonism: bradykinesia with rigidity or rest tremor; rigidity alone is not."""
    states = _states(kb, **_dystonia(*findings))
    assert states["parkinsonism"] is holds
    assert states["parkinson-pattern"] is holds
    summary = assess(read_case(_dystonia(*findings)), kb=kb, xrefs=False).summary
    assert (summary.associated == "combined") is holds
    assert ("levodopa" in summary.treatments) is holds


@pytest.mark.parametrize("history", ["CX:hx-toxin-exposure", "CX:hx-ischemic-stroke", "CX:hx-head-trauma"])
def test_an_outside_cause_comes_before_the_parkinson_pattern(kb, history):
    """Check that parkinsonism with a proven toxin, stroke or injury is secondary, not Parkinson disease, and gets
    no levodopa."""
    case = read_case(_dystonia("HP:0002067", "HP:0002063", history=[history]))
    states = rule_states(case, kb=kb)
    assert states["parkinsonism"] and not states["parkinson-pattern"]
    summary = assess(case, kb=kb, xrefs=False).summary
    assert summary.etiology == "secondary"
    assert summary.icd10cm == "G24.8"
    assert "levodopa" not in summary.treatments


def test_a_drug_comes_before_the_parkinson_pattern(kb):
    """Check that dystonia with parkinsonism after a dopamine-blocking drug is secondary (tardive), not Parkinson
    disease."""
    case = read_case(
        _dystonia("HP:0002067", "HP:0002063", medications=[{"name": "haloperidol", "days_since_start": 900}])
    )
    summary = assess(case, kb=kb, xrefs=False).summary
    assert summary.etiology == "secondary"
    assert not summary.icd10cm.startswith("G20")


def test_a_proven_degenerative_disease_comes_before_an_outside_cause(kb):
    """Check that a gene-proven degenerative disease stays degenerative with a toxin exposure."""
    case = read_case(_dystonia("HP:0002067", "HP:0002063", onset=30, history=["CX:hx-toxin-exposure"],
                               genetics={"tested": ["PLA2G6"], "positive": ["PLA2G6"]}))
    assert assess(case, kb=kb, xrefs=False).summary.etiology == "degenerative"


def test_pyramidal_signs_take_descendants_but_not_opisthotonus(kb):
    """Check that ankle clonus and spastic hemiparesis are pyramidal signs and opisthotonus, filed under spasticity,
    is not."""
    pyramidal = kb.concepts["pyramidal"]
    assert {"HP:0011448", "HP:0011099", "HP:0006986"} <= pyramidal
    assert "HP:0002179" not in pyramidal


def test_airway_takes_stridor_and_respiratory_failure_but_not_exertional_dyspnoea(kb):
    """Check that inspiratory stridor and respiratory arrest threaten the airway and breathlessness on exertion does
    not."""
    airway = kb.concepts["airway"]
    assert {"HP:0005348", "HP:0005943", "HP:0030864"} <= airway
    assert not {"HP:0002875", "HP:0012764", "HP:0200073"} & airway


def test_weakness_and_wasting_take_descendants(kb):
    """Check that a wrist drop is weakness and intrinsic hand wasting is amyotrophy."""
    assert "HP:0031189" in kb.concepts["weakness"]
    assert "HP:0008954" in kb.concepts["amyotrophy"]


def test_action_tremor_leaves_out_head_and_voice(kb):
    """Check that the arms' action tremor takes kinetic and postural tremors, not titubation or vocal tremor."""
    action = kb.concepts["action-tremor"]
    assert {"HP:0002174", "HP:0007351", "HP:0030186", "HP:0002080"} <= action
    assert not {"HP:0030187", "HP:0002599", "HP:0012477"} & action


def test_every_exception_removes_something_below_its_concept():
    """Check that each `except` code of findings.yaml (with what lies below it) removes a descendant of its
    concept's roots; otherwise it excludes nothing."""
    hpo = HpoOntology.load()
    findings = yaml.safe_load((DATA_DIR / "findings.yaml").read_text(encoding="utf-8"))

    def below(code: str) -> set[str]:
        out: set[str] = set()
        stack = list(hpo.term(code).children)
        while stack:
            child = stack.pop()
            if child.id not in out:
                out.add(child.id)
                stack.extend(child.children)
        return out

    for concept in findings["concepts"]:
        roots = concept.get("descendants_of", [])
        under = set().union(*(below(r) for r in roots)) if roots else set()
        for code in concept.get("except", []):
            assert ({code} | below(code)) & under, f"{concept['id']}: except {code} removes nothing below {roots}"
