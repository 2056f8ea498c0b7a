"""The reasoning state: frozen values that each step returns, read one way.

The facts are built once; each step takes what the steps before it concluded and returns its
own frozen result; the rules read a frozen view. Nothing a later step does changes what an
earlier step read, and the caches behind the views never give an answer that evaluating
afresh would not.
"""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from contraxis import read_case
from contraxis.io.vignette import load_vignettes
from contraxis.reasoning.alerts import alerts
from contraxis.reasoning.classification import classify
from contraxis.reasoning.etiology import etiology
from contraxis.reasoning.facts import Concluded, build_facts
from contraxis.reasoning.phenomenology import phenomenology
from contraxis.reasoning.plan import plan

from ..conftest import KB_CASES, VIGNETTES

ROOT = Path(__file__).resolve().parents[2]

# Adult-onset cervical dystonia after a dopamine blocker: every step concludes something.
CASE = {
    "age": 30, "onset_age": 30, "course": "acute", "regions": ["neck"], "findings": ["HP:0000473"],
    "medications": [{"name": "haloperidol", "days_since_start": 2}],
}


def _steps(kb, data=CASE, *, warm=False):
    facts = build_facts(data if not isinstance(data, dict) else read_case(data), kb)
    if warm:  # every definition read before anything is concluded
        for name in kb.definitions:
            facts.view().definition(name)
    named = phenomenology(facts, kb)
    axis1 = classify(facts, named.concluded, kb)
    cause = etiology(facts, axis1.concluded, kb)
    raised = alerts(facts, cause.concluded, kb)
    todo = plan(facts, raised.concluded, kb, xrefs=None)
    return facts, (named, axis1, cause, raised, todo)


def test_each_step_adds_to_what_the_steps_before_concluded(kb):
    """Check that each step's result keeps the earlier conclusions and adds its own, in the engine's order."""
    _, (named, axis1, cause, raised, _) = _steps(kb)
    assert named.concluded == Concluded(phenomenology="dystonia")
    assert axis1.concluded._replace(onset_band=None, distribution=None, focal_type=None,
                                    associated=None) == named.concluded
    assert (axis1.concluded.onset_band, axis1.concluded.distribution) == ("early-adulthood", "focal")
    assert axis1.concluded.focal_type == "cervical"
    assert cause.concluded._replace(etiology=None) == axis1.concluded
    assert cause.concluded.etiology == "secondary"
    assert raised.concluded._replace(alerts=frozenset()) == cause.concluded
    assert "acute-dystonic-reaction" in raised.concluded.alerts
    assert {a.code for a in raised.items} == raised.concluded.alerts


def test_step_results_facts_and_views_are_frozen(kb):
    """Check that no result, fact or view can be changed once built."""
    facts, results = _steps(kb)
    for result in results:
        field = dataclasses.fields(result)[0].name
        with pytest.raises(dataclasses.FrozenInstanceError):
            setattr(result, field, None)
    with pytest.raises(dataclasses.FrozenInstanceError):
        facts.present = frozenset()
    view = facts.view(results[0].concluded)
    with pytest.raises(AttributeError):
        view.present = frozenset()
    with pytest.raises(AttributeError):
        results[0].concluded.phenomenology = "spasm"
    with pytest.raises(TypeError):
        facts.labs["calcium"] = None


def test_a_view_keeps_what_it_was_built_with(kb):
    """Check that the view an earlier step read still says what it said once later steps have run."""
    facts, (named, _, _, raised, _) = _steps(kb)
    first = facts.view()
    assert first.var("phenomenology") is None and not first.alerts
    again = facts.view()
    assert again.var("phenomenology") is None and not again.alerts
    assert facts.view(named.concluded).var("distribution") is None
    final = facts.view(raised.concluded)
    assert final.var("phenomenology") == "dystonia" and final.var("distribution") == "focal"
    assert final.alerts == raised.concluded.alerts


def test_the_same_steps_give_the_same_results(kb):
    """Check that running the steps twice on the same case gives equal results (no hidden state)."""
    _, first = _steps(kb)
    _, second = _steps(kb)
    assert first == second


def test_definitions_kept_by_the_views_match_a_fresh_reading(kb):
    """Check that every definition, read through the views the steps built, holds exactly as it does when read
    afresh from new facts with the same conclusions (the memo never serves a stale answer)."""
    cases = [v.case for v in load_vignettes(VIGNETTES)]
    cases += [read_case(yaml.safe_load(p.read_text(encoding="utf-8"))["case"]) for p in sorted(KB_CASES.glob("*.yaml"))]
    assert len(cases) > 60
    for case in cases:
        facts, results = _steps(kb, case, warm=True)
        concluded = results[3].concluded
        used, fresh = facts.view(concluded), build_facts(case, kb).view(concluded)
        for name in kb.definitions:
            assert used.definition(name) == fresh.definition(name), (case.id, name)


def test_the_condition_language_does_not_import_the_reasoning():
    """Check that the knowledge package (conditions, their view protocol, the loader) loads without the reasoning
    package: the import circle between them is broken."""
    code = (
        "import sys; import contraxis.knowledge.conditions, contraxis.knowledge.view, contraxis.knowledge.loader; "
        "bad = sorted(m for m in sys.modules if m.startswith('contraxis.reasoning')); "
        "sys.exit(f'imported: {bad}' if bad else 0)"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr or result.stdout
