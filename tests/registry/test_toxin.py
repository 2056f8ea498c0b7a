"""Botulinum toxin checks: interval, per-treatment and per-muscle maxima, no cross-product sums."""

from __future__ import annotations

import datetime as dt
import shutil
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest
import yaml

from contraxis.errors import CaseError, KnowledgeBaseError
from contraxis.registry.toxin import (
    DATA_FILE,
    Rule,
    Units,
    check_injection,
    load_toxin_table,
    read_injection,
    sum_units,
)

TABLE = load_toxin_table()
SOURCES = {row["id"] for row in yaml.safe_load(
    (Path(__file__).parents[2] / "contraxis" / "knowledge" / "data" / "sources.yaml").read_text())}


def injection(product: str, date: str, indication: str, *muscles: tuple[str, str, float]) -> dict[str, Any]:
    return {"product": product, "date": date, "indication": indication, "guidance": "emg",
            "muscles": [{"muscle": m, "side": s, "units": u} for m, s, u in muscles]}


def rules_of(warnings: list) -> list[str]:
    return [w.rule for w in warnings]


# --- the table ------------------------------------------------------------------------------


def test_every_product_cites_its_label_and_every_rule_quotes_it() -> None:
    """Check that each product has rules, each citing a source of sources.yaml with a DailyMed URL."""
    assert set(TABLE.products) == {"onabotulinumtoxinA", "abobotulinumtoxinA", "incobotulinumtoxinA",
                                   "rimabotulinumtoxinB"}
    for product in TABLE.products.values():
        assert product.rules, product.id
        assert product.source.id in SOURCES
        assert product.source.url.startswith("https://dailymed.nlm.nih.gov/")
        for rule in product.rules:
            assert rule.source == product.source
            assert rule.id.startswith(product.id + ".")


@pytest.mark.parametrize(("name", "expected"), [
    ("Botox", "onabotulinumtoxinA"), ("DYSPORT", "abobotulinumtoxinA"), ("xeomin", "incobotulinumtoxinA"),
    ("Myobloc", "rimabotulinumtoxinB"), ("NeuroBloc", "rimabotulinumtoxinB"),
    ("onabotulinumtoxinA", "onabotulinumtoxinA"), ("botulinum toxin", None),
])
def test_product_names(name: str, expected: str | None) -> None:
    """Check that brands and names read as their product, and a bare 'botulinum toxin' as none."""
    assert TABLE.product(name) == expected


def test_a_rule_naming_an_unknown_muscle_stops_the_load(tmp_path: Path) -> None:
    """Check that a mistyped muscle in a rule is named at load."""
    path = tmp_path / "toxins.yaml"
    shutil.copy(DATA_FILE, path)
    path.write_text(path.read_text().replace("muscles: [biceps-brachii]", "muscles: [biceps-brachi]"))
    with pytest.raises(KnowledgeBaseError, match=r"toxins\.yaml: products\[2\]\.rules\[7\]\.muscles: "
                                                 r"'biceps-brachi' is not a muscle of the table \(did you mean "
                                                 r"'biceps-brachii'\?\)"):
        load_toxin_table(path)


def test_a_rule_without_its_limit_stops_the_load(tmp_path: Path) -> None:
    """Check that a session rule without max_units is refused by the schema."""
    path = tmp_path / "toxins.yaml"
    shutil.copy(DATA_FILE, path)
    path.write_text(path.read_text().replace("        kind: session\n        max_units: 400\n",
                                             "        kind: session\n"))
    with pytest.raises(KnowledgeBaseError, match=r"a session rule needs max_units"):
        load_toxin_table(path)


# --- every threshold, a case on each side ---------------------------------------------------

def _indication(rule: Rule) -> str:
    return sorted(rule.indications)[0] if rule.indications else "cervical-dystonia"


def _neutral_muscle(rule: Rule) -> str:
    """A muscle no per-muscle rule of the product limits."""
    limited = {m for r in TABLE.products[rule.product].rules for m in r.muscles}
    return next(m for m in ("trapezius", "splenius-capitis", "soleus") if m not in limited)


RULES = [r for p in TABLE.products.values() for r in p.rules]


@pytest.mark.parametrize("rule", [r for r in RULES if r.max_units is not None], ids=lambda r: r.id)
def test_every_unit_limit_has_a_case_on_each_side(rule: Rule) -> None:
    """Check that each label limit lets its maximum through and warns one unit above it."""
    assert rule.max_units is not None
    muscle = rule.muscles[0] if rule.muscles else _neutral_muscle(rule)
    for units, fires in ((rule.max_units, False), (rule.max_units + 1, True)):
        record = injection(rule.product, "2026-05-04", _indication(rule), (muscle, "left", float(units)))
        assert (rule.id in rules_of(check_injection(record))) is fires, (rule.id, units)


@pytest.mark.parametrize("rule", [r for r in RULES if r.kind == "interval"], ids=lambda r: r.id)
def test_every_interval_has_a_case_on_each_side(rule: Rule) -> None:
    """Check that each label interval lets an injection through at its minimum and warns a day before."""
    assert rule.min is not None
    today = dt.date(2026, 5, 4)
    muscle = _neutral_muscle(rule)
    current = injection(rule.product, today.isoformat(), _indication(rule), (muscle, "left", 1))
    at_minimum = rule.min.before(today)
    for previous, fires in ((at_minimum, False), (at_minimum + dt.timedelta(days=1), True)):
        history = [injection(rule.product, previous.isoformat(), _indication(rule), (muscle, "left", 1))]
        assert (rule.id in rules_of(check_injection(current, history))) is fires, (rule.id, previous)


# --- interval -------------------------------------------------------------------------------


def test_interval_twelve_weeks() -> None:
    """Check that incobotulinumtoxinA for cervical dystonia 11 weeks 6 days after the last warns, 12 weeks does not."""
    history = [injection("Xeomin", "2026-01-05", "cervical-dystonia", ("splenius capitis", "left", 60))]
    early = check_injection(injection("Xeomin", "2026-03-29", "cervical-dystonia", ("splenius capitis", "left", 60)),
                            history)
    assert rules_of(early) == ["incobotulinumtoxinA.interval"]
    assert early[0].message == ("11 weeks 6 days since the previous botulinum toxin injection (the same product, "
                                "2026-01-05): the label's minimum is 12 weeks")
    assert early[0].source.id == "xeomin-label"
    assert "no sooner" in early[0].label
    on_time = check_injection(injection("Xeomin", "2026-03-30", "cervical-dystonia", ("splenius capitis", "left", 60)),
                              history)
    assert on_time == []


def test_interval_counts_the_previous_injection_of_another_product() -> None:
    """Check that a switch of product inside 12 weeks still warns, naming the previous product."""
    history = [injection("Botox", "2026-02-01", "cervical-dystonia", ("trapezius", "left", 50))]
    warnings = check_injection(injection("Dysport", "2026-03-01", "cervical-dystonia", ("trapezius", "left", 250)),
                               history)
    assert rules_of(warnings) == ["abobotulinumtoxinA.cervical-dystonia-interval"]
    assert "(onabotulinumtoxinA, 2026-02-01)" in warnings[0].message


def test_blepharospasm_three_calendar_months() -> None:
    """Check onabotulinumtoxinA's 'more frequently than every three months' on calendar months."""
    history = [injection("Botox", "2026-01-31", "blepharospasm", ("orbicularis oculi", "left", 10))]
    early = injection("Botox", "2026-04-30", "blepharospasm", ("orbicularis oculi", "left", 10))
    late = injection("Botox", "2026-05-01", "blepharospasm", ("orbicularis oculi", "left", 10))
    assert rules_of(check_injection(early, history)) == ["onabotulinumtoxinA.blepharospasm-interval"]
    assert check_injection(late, history) == []


def test_later_records_are_ignored() -> None:
    """Check that an injection recorded after the one checked does not count."""
    history = [injection("Xeomin", "2026-04-01", "cervical-dystonia", ("trapezius", "left", 300))]
    assert check_injection(injection("Xeomin", "2026-03-01", "cervical-dystonia", ("trapezius", "left", 100)),
                           history) == []


# --- maxima per treatment -------------------------------------------------------------------


def test_session_counts_every_record_of_the_same_day_and_product() -> None:
    """Check that incobotulinumtoxinA's 400 Units per session adds the records of that date."""
    history = [injection("Xeomin", "2026-03-01", "cervical-dystonia", ("trapezius", "left", 250)),
               injection("Botox", "2026-03-01", "cervical-dystonia", ("trapezius", "right", 300))]
    current = injection("Xeomin", "2026-03-01", "cervical-dystonia", ("splenius capitis", "left", 160))
    warnings = check_injection(current, history)
    assert rules_of(warnings) == ["incobotulinumtoxinA.session-400"]
    assert warnings[0].message == ("410 Units of incobotulinumtoxinA in 2 records of the session on 2026-03-01: "
                                   "above the label's 400 Units per treatment session")


def test_abobotulinumtoxinA_spasticity_across_limbs() -> None:
    """Check Dysport's 1000 Units for the upper limb and 1500 Units across limbs in one session."""
    upper = injection("Dysport", "2026-03-01", "upper-limb-spasticity", ("biceps", "left", 900))
    lower = injection("Dysport", "2026-03-01", "lower-limb-spasticity", ("gastrocnemius", "left", 700))
    assert rules_of(check_injection(lower, [upper])) == ["abobotulinumtoxinA.spasticity-session"]
    assert check_injection(upper) == []


def test_cumulative_400_units_in_three_months() -> None:
    """Check onabotulinumtoxinA's 400 Units in 3 months: the window's first day counts, the day before not."""
    history = [injection("Botox", "2026-01-02", "upper-limb-spasticity", ("biceps", "left", 200))]
    warnings = check_injection(injection("Botox", "2026-04-01", "cervical-dystonia", ("trapezius", "left", 201)),
                               history)
    assert rules_of(warnings) == ["onabotulinumtoxinA.cumulative-3-months"]
    assert warnings[0].message.startswith("401 Units of onabotulinumtoxinA from 2026-01-02 to 2026-04-01 "
                                          "(2 injections): above the label's 400 Units in 3 months")
    assert check_injection(injection("Botox", "2026-04-01", "cervical-dystonia", ("trapezius", "left", 200)),
                           history) == []
    outside = [injection("Botox", "2026-01-01", "upper-limb-spasticity", ("biceps", "left", 200))]
    assert check_injection(injection("Botox", "2026-04-01", "cervical-dystonia", ("trapezius", "left", 201)),
                           outside) == []


def test_blepharospasm_200_units_in_30_days() -> None:
    """Check onabotulinumtoxinA's 200 Units for blepharospasm in 30 days, counting blepharospasm only."""
    history = [injection("Botox", "2026-03-01", "blepharospasm", ("orbicularis oculi", "left", 150)),
               injection("Botox", "2026-03-01", "cervical-dystonia", ("trapezius", "left", 100))]
    warnings = check_injection(injection("Botox", "2026-03-20", "blepharospasm", ("orbicularis oculi", "right", 60)),
                               history)
    assert "onabotulinumtoxinA.blepharospasm-30-days" in rules_of(warnings)
    message = next(w.message for w in warnings if w.rule == "onabotulinumtoxinA.blepharospasm-30-days")
    assert message.startswith("210 Units of onabotulinumtoxinA")


# --- per muscle -----------------------------------------------------------------------------


def test_sternocleidomastoid_both_sides_together() -> None:
    """Check onabotulinumtoxinA's 100 Units into the sternocleidomastoid, both sides counted together."""
    over = injection("Botox", "2026-03-01", "cervical-dystonia", ("SCM", "left", 60),
                     ("sternocleidomastoid", "right", 50))
    warnings = check_injection(over)
    assert rules_of(warnings) == ["onabotulinumtoxinA.sternocleidomastoid"]
    assert warnings[0].message == ("sternocleidomastoid (both sides): 110 Units of onabotulinumtoxinA on 2026-03-01, "
                                   "above the label's 100 Units")
    assert warnings[0].side is None
    within = injection("Botox", "2026-03-01", "cervical-dystonia", ("SCM", "left", 50), ("SCM", "right", 50))
    assert check_injection(within) == []


def test_per_muscle_limits_hold_per_side() -> None:
    """Check incobotulinumtoxinA's 200 Units for the biceps per limb, and only for upper limb spasticity."""
    both = injection("Xeomin", "2026-03-01", "upper-limb-spasticity", ("biceps", "left", 150), ("biceps", "right", 150))
    assert check_injection(both) == []
    over = injection("Xeomin", "2026-03-01", "upper-limb-spasticity", ("biceps", "left", 201))
    warnings = check_injection(over)
    assert [(w.rule, w.muscle, w.side) for w in warnings] == [("incobotulinumtoxinA.biceps", "biceps-brachii", "left")]
    dystonia = injection("Xeomin", "2026-03-01", "limb-dystonia", ("biceps", "left", 201))
    assert check_injection(dystonia) == []


def test_per_muscle_adds_the_muscles_the_label_groups() -> None:
    """Check that flexor pollicis brevis and opponens pollicis share the label's 30 Units."""
    record = injection("Xeomin", "2026-03-01", "upper-limb-spasticity", ("flexor pollicis brevis", "left", 20),
                       ("opponens pollicis", "left", 15))
    assert rules_of(check_injection(record)) == ["incobotulinumtoxinA.fpb-opponens"]


# --- no sums across products ----------------------------------------------------------------


def test_units_of_two_products_are_never_added() -> None:
    """Check that adding units of two products is refused, naming both."""
    botox = read_injection(injection("Botox", "2026-03-01", "cervical-dystonia", ("trapezius", "left", 100)))
    dysport = read_injection(injection("Dysport", "2026-03-01", "cervical-dystonia", ("trapezius", "right", 300)))
    with pytest.raises(CaseError, match=r"units of abobotulinumtoxinA and onabotulinumtoxinA are not added"):
        sum_units([botox, dysport])
    with pytest.raises(CaseError, match=r"units of onabotulinumtoxinA and abobotulinumtoxinA are not added"):
        _ = botox.total + dysport.total
    assert sum_units([botox, botox]) == Units("onabotulinumtoxinA", Fraction(200))


def test_checks_never_add_another_products_units() -> None:
    """Check that 300 Units of Botox after 1000 Units of Dysport stays under Botox's 400, and says so when over."""
    history = [injection("Dysport", "2026-02-01", "upper-limb-spasticity", ("biceps", "left", 1000))]
    assert "onabotulinumtoxinA.cumulative-3-months" not in rules_of(
        check_injection(injection("Botox", "2026-03-01", "upper-limb-spasticity", ("biceps", "left", 300)), history))
    over = check_injection(injection("Botox", "2026-03-01", "upper-limb-spasticity", ("biceps", "left", 401)), history)
    message = next(w.message for w in over if w.rule == "onabotulinumtoxinA.cumulative-3-months")
    assert message.endswith("(units of abobotulinumtoxinA in the window are not added)")


# --- reading --------------------------------------------------------------------------------


def test_a_record_that_cannot_be_read_names_every_field() -> None:
    """Check that a wrong injection names each field, its value and what is allowed."""
    with pytest.raises(CaseError) as caught:
        check_injection({"product": "botax", "date": "2026-02-30", "indication": "neck", "guidance": "x-ray",
                         "muscles": [{"muscle": "splenius capitus", "side": "both", "units": 0}], "dose": 1})
    found = {p.where: p.message for p in caught.value.problems}
    assert set(found) == {"injection.dose", "injection.product", "injection.date", "injection.indication",
                          "injection.guidance", "injection.muscles[0].muscle", "injection.muscles[0].side",
                          "injection.muscles[0].units"}
    assert found["injection.product"].startswith("'botax' is not a botulinum toxin product of the table")
    assert "did you mean splenius capitis" in found["injection.muscles[0].muscle"]
    assert found["injection.muscles[0].side"] == "'both' is not one of left, right, midline (one row per side)"
    assert found["injection.muscles[0].units"] == "0: units are above 0"


def test_a_history_record_is_named_by_its_place() -> None:
    """Check that a wrong record of the history is named history[i]."""
    with pytest.raises(CaseError, match=r"history\[1\]\.muscles\[0\]\.units: expected a number of units above 0, "
                                        r"got text '50'"):
        check_injection(injection("Botox", "2026-03-01", "cervical-dystonia", ("trapezius", "left", 50)),
                        [injection("Botox", "2026-01-01", "cervical-dystonia", ("trapezius", "left", 50)),
                         injection("Botox", "2026-02-01", "cervical-dystonia", ("trapezius", "left", "50"))])


def test_injection_json() -> None:
    """Check the plain form of an injection and of a warning."""
    record = read_injection(injection("Myobloc", "2026-03-01", "sialorrhea", ("parotid", "left", 1600)))
    assert record.to_json() == {"product": "rimabotulinumtoxinB", "date": "2026-03-01", "indication": "sialorrhea",
                                "guidance": "emg", "total_units": 1600.0,
                                "muscles": [{"muscle": "parotid-gland", "side": "left", "units": 1600.0}]}
    [warning] = check_injection(record)
    assert warning.to_json()["source"]["id"] == "myobloc-label"
    assert warning.to_json()["rule"] == "rimabotulinumtoxinB.parotid"
