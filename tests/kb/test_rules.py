"""Every rule has a case that fires it and a case that does not; hand-made cases pin them.

A rule "fires" for a case when its condition holds once every step has run
(:func:`contraxis.engine.rule_states`). The cases are the acceptance corpus and the
hand-made cases of ``tests/kb/cases``, each of which names rules it must fire, rules it
must leave silent and, optionally, summary fields it must reach.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from contraxis import assess, read_case
from contraxis.engine import rule_states
from contraxis.io.vignette import load_vignettes

from ..conftest import KB_CASES, VIGNETTES

CASE_FILES = sorted(KB_CASES.glob("*.yaml"))


def _load(path: Path) -> dict:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def all_states(kb):
    states = []
    for vignette in load_vignettes(VIGNETTES):
        states.append(rule_states(vignette.case, kb=kb))
    for path in CASE_FILES:
        states.append(rule_states(read_case(_load(path)["case"]), kb=kb))
    return states


def test_every_rule_fires_somewhere_and_is_silent_somewhere(kb, all_states):
    """Check that each rule of the knowledge base fires for at least one case and stays silent for another."""
    ids = [rule["id"] for rule in kb.rules()]
    never_fire = [i for i in ids if not any(s[i] for s in all_states)]
    never_silent = [i for i in ids if all(s[i] for s in all_states)]
    assert not never_fire, f"rules no case fires: {never_fire}"
    assert not never_silent, f"rules every case fires: {never_silent}"


@pytest.mark.parametrize("path", CASE_FILES, ids=[p.stem for p in CASE_FILES])
def test_hand_made_case(path, kb):
    """Check that a hand-made case fires the rules it names, leaves the others silent and reaches its expected
    fields."""
    data = _load(path)
    case = read_case(data["case"])
    states = rule_states(case, kb=kb)
    unknown = [r for r in data.get("fires", []) + data.get("silent", []) if r not in states]
    assert not unknown, f"unknown rule ids: {unknown}"
    assert [r for r in data.get("fires", []) if not states[r]] == []
    assert [r for r in data.get("silent", []) if states[r]] == []
    summary = assess(case, kb=kb, xrefs=False).summary
    for field, want in (data.get("expected") or {}).items():
        assert getattr(summary, field) == want, field


def test_phenomenology_guard_never_hides_a_rule_that_holds(kb):
    """Check that a rule skipped for its phenomenology guard would not have held anyway."""
    from contraxis.engine import _run

    cases = [v.case for v in load_vignettes(VIGNETTES)] + [read_case(_load(p)["case"]) for p in CASE_FILES]
    guarded = [
        r for r in (*kb.alerts, *kb.workup, *kb.treatment_rules, *kb.diagnosis, *kb.etiology, *kb.questions) if r.guard
    ]
    assert len(guarded) > 50
    for case in cases:
        _, view = _run(case, kb=kb, xrefs=None, differential=None)
        for row in guarded:
            if row.test(view) is not None:
                assert view.var("phenomenology") in row.guard, row.id


def test_guard_and_dependencies_are_read_from_the_condition():
    """Check the static reading of a condition: its phenomenology guard and what it depends on."""
    from contraxis.knowledge.conditions import dependencies, phenomenology_guard

    node = {"all": [{"in": {"phenomenology": ["cramp", "spasm"]}}, {"fact": "x"}, {"is": {"distribution": "focal"}}]}
    assert phenomenology_guard(node) == frozenset({"cramp", "spasm"})
    assert phenomenology_guard({"any": [{"is": {"phenomenology": "dystonia"}}]}) is None
    assert dependencies(node) == (frozenset({"phenomenology", "distribution"}), frozenset({"x"}))
