"""Every numeric threshold of the knowledge base is pinned: a case on each side of it changes
the answer of its rule, and its value is the one the clinical conventions state.

The thresholds are read from the knowledge files themselves: every ``lt``/``le``/``gt``/``ge``
on an age, every ``lab`` limit (``below``, ``above``, ``at_least``) and every drug timing
(``within_days``, ``at_least_days``) of every rule and definition, and the limits of the
onset bands. For each, a base case is searched in the acceptance corpus and the hand-made
cases (those where the rule fires first); only the threshold's quantity is moved, to the two
values where the comparison changes (``lt 50``: 49.5 and 50; ``le 20``: 20 and 20.2;
``within_days 7``: 7 and 8 days), and :func:`contraxis.engine.rule_states` must give the rule
two different answers. This pins the side a bound falls on as well as its place.

Which values are right is not in the files: :data:`PINNED` lists every threshold with the
convention it follows (``shared/spec/vignettes.md``). A threshold that is deleted, moved or
added, in any rule, fails until the list says why. Thresholds that no move of their quantity
alone can cross are listed in :data:`NOT_CROSSABLE` with the reason; none is skipped silently.
"""

from __future__ import annotations

import copy
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from contraxis import CaseError, KnowledgeBase, assess, load_knowledge_base, read_case
from contraxis.engine import rule_states
from contraxis.knowledge import DATA_DIR
from contraxis.terminology.labs import analyte_of

from ..conftest import KB_CASES, VIGNETTES

COMPARISONS = ("lt", "le", "gt", "ge")
LAB_LIMITS = ("below", "above", "at_least")
# Where the comparison changes: the offsets (in steps) of the two values tried around a limit.
SIDES = {
    "lt": (-1, 0), "le": (0, 1), "gt": (0, 1), "ge": (-1, 0),
    "below": (-1, 0), "above": (0, 1), "at_least": (-1, 0),
    "within_days": (0, 1), "at_least_days": (-1, 0),
}

#: Every threshold of every rule, with the convention it follows. Key: ``rule quantity op limit``.
PINNED: dict[str, str] = {
    # Wilson disease screen and the levodopa trial (spec: Alerts).
    "alert.wilson-screen onset_age lt 50": "wilson-screen: dystonia that began before 50",
    "alert.wilson-screen onset_age ge 3": "wilson-screen: not raised for onset before age 3",
    "alert.dopa-trial onset_age le 20": "dopa-trial: dystonia that began at 20 or younger",
    "workup.genetic-early-onset onset_age le 20":
        "work-up: genetic testing for unexplained dystonia that began at 20 or younger",
    "workup.brain-mri onset_age le 20": "work-up: brain MRI when the dystonia began at 20 or younger",
    "dx.myoclonus-dystonia onset_age le 20":
        "myoclonus-dystonia: early-onset dystonia with myoclonus (the dopa-trial age)",
    "dx.dyskinetic-cp onset_age lt 3":
        "dyskinetic cerebral palsy: dystonia from a birth injury beginning in infancy (birth to 2 years)",
    "parkinson-pattern onset_age ge 40": "Parkinson pattern: parkinsonism with dystonia beginning after 40",
    # Laboratory limits (spec: Alerts, Cause, Treatments; Wilson disease proven or suspected).
    "low-calcium lab:calcium below 8.5": "hypocalcemic-tetany and hypocalcemia: serum calcium below 8.5 mg/dL",
    "low-calcium lab:ionized-calcium below 1.1": "an ionized calcium below 1.1 mmol/L counts as low calcium",
    "low-calcium lab:ionized-calcium at_least 1.1": "a normal ionized calcium (1.1 to 1.3) means the calcium is normal",
    "normal-calcium lab:calcium at_least 8.5": "calcium not low: 8.5 mg/dL or more",
    "normal-calcium lab:ionized-calcium at_least 1.1":
        "a normal ionized calcium (1.1 to 1.3) means the calcium is normal",
    "normal-calcium lab:ionized-calcium below 1.1": "an ionized calcium below 1.1 mmol/L counts as low calcium",
    "alert.severe-hyponatremia lab:sodium below 125": "severe-hyponatremia: sodium below 125 mmol/L",
    "cause.hyponatremia lab:sodium below 135": "hyponatremia: a low serum sodium (reference 135 to 145 mmol/L)",
    "drug-may-cause lab:sodium below 135": "a drug that lowered the sodium (below the reference 135 mmol/L)",
    "treat.sweat-salt lab:sodium below 125":
        "sodium-correction below 125 mmol/L, salt and fluid for sweat losses otherwise",
    "treat.sodium-correction-severe lab:sodium below 125": "sodium-correction below 125 mmol/L",
    "alert.status-dystonicus lab:creatine-kinase above 1000":
        "status dystonicus with rhabdomyolysis (creatine kinase above 1,000 U/L)",
    "alert.neuroleptic-malignant-syndrome lab:creatine-kinase above 1000":
        "neuroleptic malignant syndrome: confusion or a creatine kinase above 1,000 U/L",
    "alert.rhabdomyolysis lab:creatine-kinase above 5000": "rhabdomyolysis: a creatine kinase above 5,000 U/L",
    "alert.severe-hypomagnesemia lab:magnesium below 1.2":
        "severe-hypomagnesemia: magnesium below 1.2 mg/dL (0.5 mmol/L)",
    "alert.severe-hypokalemia lab:potassium below 2.5": "severe-hypokalemia: potassium below 2.5 mmol/L",
    "cause.hypomagnesemia-tetany lab:magnesium below 1.7": "hypomagnesemia: magnesium below 1.7 mg/dL",
    "cause.hypomagnesemia lab:magnesium below 1.7": "hypomagnesemia: magnesium below 1.7 mg/dL",
    "cause.hypokalemia lab:potassium below 3.5": "hypokalemia: potassium below 3.5 mmol/L",
    "drug-may-cause lab:magnesium below 1.7": "a drug that lowered the magnesium (below 1.7 mg/dL)",
    "drug-may-cause lab:potassium below 3.5": "a drug that lowered the potassium (below 3.5 mmol/L)",
    "treat.magnesium lab:magnesium below 1.7": "magnesium-repletion for a magnesium below 1.7 mg/dL",
    "treat.potassium lab:potassium below 3.5": "potassium-repletion for a potassium below 3.5 mmol/L with symptoms",
    "workup.hypomagnesemia-calcium lab:magnesium below 1.7":
        "a low magnesium (below 1.7 mg/dL) lowers the calcium: measure it",
    "workup.hypokalemia-magnesium lab:potassium below 3.5":
        "a low potassium (below 3.5 mmol/L) is kept low by a low magnesium: measure it",
    "wilson-proven lab:urine-copper above 100": "Wilson disease proven: a 24-hour urine copper above 100 ug",
    "wilson-proven lab:ceruloplasmin below 10": "Wilson disease proven: a ceruloplasmin below 10 mg/dL",
    "wilson-proven lab:ceruloplasmin below 20": "Wilson disease proven: below 20 with Kayser-Fleischer rings",
    "wilson-excluded lab:ceruloplasmin at_least 20":
        "Wilson disease excluded by a normal ceruloplasmin (20 mg/dL or more)",
    "wilson-suspected lab:ceruloplasmin below 20": "Wilson disease suspected: a ceruloplasmin of 10 to 20 alone",
    "workup.wilson-urine-copper lab:ceruloplasmin below 20":
        "urine copper follows a low ceruloplasmin (below 20 mg/dL)",
    # Drug timing (spec: Etiology, a drug's timing; Alerts, acute-dystonic-reaction).
    "dystonia-drug-this-week drug:dopamine-blocking:start within_days 7":
        "acute dystonic reaction: within about a week of starting the drug",
    "dystonia-drug-this-week drug:dopamine-blocking:dose-increase within_days 7":
        "a dose increase within about a week counts like a start",
    "dystonia-drug-this-week drug:dopamine-depleting:start within_days 7":
        "acute dystonic reaction: within about a week of starting the drug",
    "dystonia-drug-this-week drug:dopamine-depleting:dose-increase within_days 7":
        "a dose increase within about a week counts like a start",
    "dystonia-drug-this-week drug:dystonic-reaction-other:start within_days 7":
        "acute dystonic reaction: within about a week of starting the drug",
    "dystonia-drug-this-week drug:dystonic-reaction-other:dose-increase within_days 7":
        "a dose increase within about a week counts like a start",
    "nms-drug drug:dopamine-blocking:start within_days 30":
        "neuroleptic malignant syndrome: within weeks of starting a dopamine-blocking drug",
    "nms-drug drug:dopamine-blocking:dose-increase within_days 30":
        "neuroleptic malignant syndrome: within weeks of raising its dose",
    "nms-drug drug:dopamine-depleting:start within_days 30":
        "neuroleptic malignant syndrome: within weeks of starting a dopamine-depleting drug",
    "nms-drug drug:dopamine-depleting:dose-increase within_days 30":
        "neuroleptic malignant syndrome: within weeks of raising its dose",
    "tardive-exposure drug:dopamine-blocking:start at_least_days 30":
        "tardive: a dopamine-blocking drug taken for a month or more",
    "treat.levodopa-young onset_age le 20": "levodopa for unexplained dystonia that began at 20 or younger",
    "treat.anticholinergic age lt 65":
        "trihexyphenidyl is best tolerated by the young; not offered from 65 (efns-2011)",
    # Duration of a mimic before it is named (the rule's source).
    "dx.tourette years_since_onset ge 1": "Tourette syndrome: tics for more than a year (DSM-5)",
    "dx.chronic-tics years_since_onset ge 1": "chronic motor tic disorder: tics for more than a year (DSM-5)",
    "dx.chronic-phonic-tics years_since_onset ge 1": "chronic vocal tic disorder: tics for more than a year (DSM-5)",
    "dx.essential-tremor years_since_onset ge 3": "essential tremor: at least three years (MDS 2018 consensus)",
    # Albumin-corrected calcium (spec: calcium judged on its total value; below an albumin of
    # 4.0 g/dL, total + 0.8 x (4.0 - albumin)).
    "labs.yaml calcium corrected by albumin below 4": "the corrected calcium is used with an albumin below 4.0 g/dL",
    "labs.yaml calcium corrected by albumin reference 4": "total + 0.8 x (4.0 - albumin)",
    "labs.yaml calcium corrected by albumin factor 0.8": "total + 0.8 x (4.0 - albumin)",
    "labs.yaml calcium corrected by albumin within_days 1":
        "the albumin of the same sample (taken within a day of the calcium)",
    # Onset bands (spec: expected onset_band, 2013 consensus).
    "onset-band childhood onset_age from 3": "childhood (3-12)",
    "onset-band adolescence onset_age from 13": "adolescence (13-20)",
    "onset-band early-adulthood onset_age from 21": "early-adulthood (21-40)",
    "onset-band late-adulthood onset_age from 41": "late-adulthood (over 40)",
}

#: Thresholds no move of their quantity alone can cross, with the reason.
NOT_CROSSABLE: dict[str, str] = {
    "labs.yaml calcium corrected by albumin below 4": (
        "the correction is zero where it starts (its reference is its limit), so no answer changes at an albumin "
        "of 4.0; the formula is crossed instead where the corrected calcium meets each calcium limit"
    ),
}


@dataclass(frozen=True)
class Threshold:
    """One numeric comparison of a rule: ``rule`` compares ``quantity`` with ``op limit``."""

    rule: str
    quantity: str
    op: str
    limit: float
    where: str

    @property
    def key(self) -> str:
        return f"{self.rule} {self.quantity} {self.op} {self.limit:g}"

    def values(self) -> tuple[float, float]:
        """The two values of the quantity on either side of the place the comparison changes."""
        if self.op in ("within_days", "at_least_days"):
            step: float = 1
        elif self.quantity in ("age", "onset_age", "years_since_onset"):
            step = 0.5
        else:
            step = max(0.01, round(abs(self.limit) * 0.01, 2))
        a, b = SIDES[self.op]
        return self.limit + a * step, self.limit + b * step


def thresholds(kb: KnowledgeBase) -> list[Threshold]:
    """Every numeric threshold of every rule and definition of ``kb``, read from its conditions."""
    out: list[Threshold] = []
    for rule in kb.rules():
        out.extend(_walk(rule["id"], rule["when"], "when"))
    return out


def _walk(rule: str, node: Any, where: str) -> Iterator[Threshold]:
    if not isinstance(node, dict):
        return
    for op, arg in node.items():
        at = f"{where}.{op}"
        if op in ("all", "any") and isinstance(arg, list):
            for i, part in enumerate(arg):
                yield from _walk(rule, part, f"{at}[{i}]")
        elif op == "not":
            yield from _walk(rule, arg, at)
        elif op in COMPARISONS:
            for var, limit in arg.items():
                yield Threshold(rule, var, op, float(limit), f"{at}.{var}")
        elif op == "lab":
            for kind in LAB_LIMITS:
                if kind in arg:
                    yield Threshold(rule, f"lab:{arg['test']}", kind, float(arg[kind]), f"{at}.{kind}")
        elif op == "drug":
            if "within_days" in arg:
                for what in ("start", "dose-increase"):
                    yield Threshold(rule, f"drug:{arg['class']}:{what}", "within_days", float(arg["within_days"]),
                                    f"{at}.within_days")
            if "at_least_days" in arg:
                yield Threshold(rule, f"drug:{arg['class']}:start", "at_least_days", float(arg["at_least_days"]),
                                f"{at}.at_least_days")


# -- moving one quantity of a case -----------------------------------------------------------


def _moved(case: dict[str, Any], quantity: str, value: float, kb: KnowledgeBase, limit: float,
           which: int = 0) -> dict[str, Any] | None:
    """A copy of ``case`` with only ``quantity`` set to ``value``.

    An onset moved past the current age takes the age with it (an onset cannot follow the
    visit). A drug timing moves the ``which``-th drug of the class (its start, with no dose
    increase; or its dose increase, with a start well before the limit). None when the case
    cannot carry the value (no drug of the class, no onset to count years from).
    """
    new = copy.deepcopy(case)
    if quantity == "onset_age":
        new["onset_age"] = value
        if new.get("age") is None or new["age"] < value:
            new["age"] = value
    elif quantity == "age":
        if new.get("onset_age") is not None and new["onset_age"] > value:
            return None
        new["age"] = value
    elif quantity == "years_since_onset":
        if new.get("onset_age") is None or new["onset_age"] + value > 120:
            return None
        new["age"] = new["onset_age"] + value
    elif quantity.startswith("lab:"):
        test = kb.labs[quantity[4:]]
        labs = [lab for lab in new.get("labs", []) if analyte_of(str(lab.get("loinc"))) != test.id]
        new["labs"] = labs + [{"loinc": test.loinc, "value": value, "unit": test.unit}]
    elif quantity.startswith("drug:"):
        _, cls, what = quantity.split(":")
        members = set(kb.drug_classes[cls].members)
        matching = [i for i, med in enumerate(read_case(case).medications) if set(med.ingredients) & members]
        if which >= len(matching):
            return None
        med = new["medications"][matching[which]]
        if what == "start":
            med.pop("days_since_dose_increase", None)
            med["days_since_start"] = int(value)
        else:
            med["days_since_dose_increase"] = int(value)
            med["days_since_start"] = int(limit) + 8
    else:
        return None  # region_count: moving it moves the regions, hence the distribution too
    return new


def _states(case: dict[str, Any], kb: KnowledgeBase) -> dict[str, bool] | None:
    try:
        return rule_states(read_case(case), kb=kb)
    except CaseError:
        return None


#: Base cases for thresholds no case of the corpus isolates: each makes the rest of one rule hold
#: so that the threshold alone decides it.
EXTRA_CASES: dict[str, dict[str, Any]] = {
    # drug-may-cause through its sodium branch alone: carbamazepine lowers sodium but is not a
    # drug that causes cramps itself.
    "cramps-on-carbamazepine-low-sodium": {
        "age": 64, "sex": "female", "onset_age": 64, "course": "acute", "regions": ["left-leg", "right-leg"],
        "findings": ["HP:0003394", "CX:painful", "CX:relieved-by-stretching"],
        "labs": [{"loinc": "2951-2", "value": 129, "unit": "mmol/L"}],
        "medications": [{"name": "carbamazepine", "days_since_start": 120}],
    },
    # The undated acute dystonic reaction holds only while no other dopamine-blocking drug was
    # started within the week: metoclopramide of unknown start beside haloperidol.
    "acute-dystonia-undated-and-dated-blockers": {
        "age": 24, "sex": "male", "onset_age": 24, "course": "acute", "regions": ["neck"],
        "findings": ["HP:0000473", "CX:sustained-contractions"],
        "medications": [{"name": "metoclopramide"}, {"name": "haloperidol", "days_since_start": 5}],
    },
}


def _corpus() -> list[tuple[str, dict[str, Any]]]:
    paths = [*sorted(VIGNETTES.glob("*.yaml")), *sorted((VIGNETTES / "next").glob("*.yaml")),
             *sorted(KB_CASES.glob("*.yaml"))]
    found = [(p.stem, yaml.safe_load(p.read_text(encoding="utf-8"))["case"]) for p in paths]
    return found + list(EXTRA_CASES.items())


def crossing_problems(
    kb: KnowledgeBase, corpus: list[tuple[str, dict[str, Any]]], *, rules: set[str] | None = None,
) -> tuple[list[str], dict[str, str]]:
    """Check every threshold of ``kb`` (the pins of all; the crossing of those of ``rules``, or
    of all); return the problems and, per threshold, the base case that pins it."""
    problems: list[str] = []
    pinned_by: dict[str, str] = {}
    base: list[tuple[str, dict[str, Any], dict[str, bool]]] = []
    for name, case in corpus:
        states = _states(case, kb)
        if states is not None:
            base.append((name, case, states))
    found = thresholds(kb)
    keys = {t.key for t in found}
    for key in sorted(keys - set(PINNED)):
        problems.append(f"{key}: a threshold not pinned (add it to PINNED with the convention it follows)")
    for key in sorted(k for k in PINNED if k not in keys and not k.startswith(("onset-band ", "labs.yaml "))):
        problems.append(f"{key}: pinned, but no rule has it any longer (deleted or moved)")
    for key in sorted(k for k in NOT_CROSSABLE if k not in keys and not k.startswith("labs.yaml ")):
        problems.append(f"{key}: listed as not crossable, but no rule has it")
    for threshold in found:
        chosen = rules is None or threshold.rule in rules
        if threshold.key in NOT_CROSSABLE or threshold.key in pinned_by or not chosen:
            continue
        ranked = sorted(base, key=lambda b: not b[2].get(threshold.rule, False))
        for name, case, _ in ranked:
            if _crosses(threshold, case, kb):
                pinned_by[threshold.key] = name
                break
        else:
            problems.append(
                f"{threshold.key} ({threshold.rule}.{threshold.where}): no case changes the rule's answer between "
                f"{threshold.quantity} = {threshold.values()[0]:g} and {threshold.values()[1]:g} (a bound on the wrong "
                f"side, or a case is missing: add one "
                f"to tests/kb/cases, or list it in NOT_CROSSABLE with the reason)"
            )
    if rules is None:
        problems.extend(_band_problems(kb, base))
        problems.extend(_correction_problems(kb, base, found))
    return problems, pinned_by


def _crosses(threshold: Threshold, case: dict[str, Any], kb: KnowledgeBase) -> bool:
    """Whether moving the threshold's quantity across it in ``case`` changes the rule's answer."""
    first, second = threshold.values()
    for which in range(len(case.get("medications", [])) if threshold.quantity.startswith("drug:") else 1):
        a = _moved(case, threshold.quantity, first, kb, threshold.limit, which)
        b = _moved(case, threshold.quantity, second, kb, threshold.limit, which)
        if a is None or b is None:
            continue
        sa, sb = _states(a, kb), _states(b, kb)
        if sa is not None and sb is not None and sa[threshold.rule] != sb[threshold.rule]:
            return True
    return False


def _correction_problems(kb: KnowledgeBase, base: list[tuple[str, dict[str, Any], dict[str, bool]]],
                         found: list[Threshold]) -> list[str]:
    """A correction of labs.yaml (calcium by albumin) is pinned by its parameters, and crossed
    for each limit of the corrected test: the albumin that brings a base case's calcium to the
    limit, just below and just above; and the day limit of the same sample, with the albumin
    on the corrected side."""
    problems: list[str] = []
    derived: set[str] = set()
    for test in kb.labs.values():
        c = test.correction
        if c is None:
            continue
        prefix = f"labs.yaml {test.id} corrected by {c.by}"
        derived |= {f"{prefix} {name} {getattr(c, name):g}" for name in ("below", "reference", "factor", "within_days")}
        for threshold in (t for t in found if t.quantity == f"lab:{test.id}"):
            ranked = sorted(base, key=lambda b: not b[2].get(threshold.rule, False))
            crossed = {"formula": False, "days": False}
            for _, case, _ in ranked:
                for what, ok in _correction_crosses(threshold, test.id, case, kb).items():
                    crossed[what] = crossed[what] or ok
                if all(crossed.values()):
                    break
            for what, ok in crossed.items():
                if not ok:
                    problems.append(f"{threshold.key} corrected by {c.by} ({what}): no case changes the rule's answer "
                                    f"where the corrected {test.id} meets the limit")
    pinned = {k for k in PINNED if k.startswith("labs.yaml ")}
    problems += [f"{k}: a correction parameter not pinned" for k in sorted(derived - pinned)]
    problems += [f"{k}: pinned, but labs.yaml has it no longer" for k in sorted(pinned - derived)]
    return problems


def _correction_crosses(threshold: Threshold, test: str, case: dict[str, Any], kb: KnowledgeBase) -> dict[str, bool]:
    c = kb.labs[test].correction
    assert c is not None
    read = read_case(case)
    index = next((i for i, lab in enumerate(read.labs)
                  if lab.reading is not None and lab.reading.analyte == test and lab.reading.value is not None
                  and lab.reading.comparator is None), None)
    if index is None:
        return {}
    value = read.labs[index].reading.value
    days = case["labs"][index].get("days_ago", 0) or 0
    at = c.reference - (threshold.limit - value) / c.factor  # the albumin that brings it to the limit
    step = 0.02
    if not (step < at - step and at + step < c.below):
        return {}
    by = kb.labs[c.by]

    def with_by(amount: float, by_days: float) -> dict[str, bool] | None:
        new = copy.deepcopy(case)
        new["labs"] = [lab for lab in new["labs"] if analyte_of(str(lab.get("loinc"))) != c.by]
        new["labs"].append({"loinc": by.loinc, "value": round(amount, 4), "unit": by.unit, "days_ago": by_days})
        new["labs"][index]["days_ago"] = days
        return _states(new, kb)

    rule = threshold.rule
    below, above = with_by(at - step, days), with_by(at + step, days)
    near, far = with_by(at - step, days + c.within_days), with_by(at - step, days + c.within_days + 1)
    return {
        "formula": below is not None and above is not None and below[rule] != above[rule],
        "days": near is not None and far is not None and near[rule] != far[rule],
    }


def _band_problems(kb: KnowledgeBase, base: list[tuple[str, dict[str, Any], dict[str, bool]]]) -> list[str]:
    """Each onset band begins where the one before ends: onset half a year below its start is
    in the band before, onset at its start in the band."""
    problems: list[str] = []
    bands = kb.onset_bands.bands
    derived = {f"onset-band {b.band} onset_age from {b.from_:g}" for b in bands[1:]}
    pinned = {k for k in PINNED if k.startswith("onset-band ")}
    problems += [f"{k}: an onset band limit not pinned" for k in sorted(derived - pinned)]
    problems += [f"{k}: pinned, but no onset band has it any longer" for k in sorted(pinned - derived)]
    case = next(c for _, c, _ in base if c.get("age") is not None and c["age"] >= 60 and c.get("onset_age") is not None)
    for before, band in zip(bands, bands[1:], strict=False):
        got = []
        for onset in (band.from_ - 0.5, band.from_):
            moved = _moved(case, "onset_age", onset, kb, band.from_)
            assert moved is not None
            got.append(assess(read_case(moved), kb=kb, xrefs=False).summary.onset_band)
        if got != [before.band, band.band]:
            problems.append(f"onset-band {band.band} onset_age from {band.from_:g}: onset {band.from_ - 0.5:g} "
                            f"and {band.from_:g} give {got}")
    return problems


# -- tests -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def corpus() -> list[tuple[str, dict[str, Any]]]:
    return _corpus()


def test_every_threshold_is_pinned_by_a_case_on_each_side(kb, corpus):
    """Check that each numeric threshold changes its rule's answer where it says, and has its pinned value."""
    problems, pinned_by = crossing_problems(kb, corpus)
    assert not problems, "\n".join(problems)
    assert len(pinned_by) >= 25


def test_thresholds_are_read_from_every_kind_of_comparison(kb):
    """Check that the walk finds ages, laboratory limits and drug timings, inside any, all and not."""
    found = {t.key for t in thresholds(kb)}
    assert "alert.wilson-screen onset_age ge 3" in found
    assert "low-calcium lab:calcium below 8.5" in found
    assert "dystonia-drug-this-week drug:dopamine-blocking:start within_days 7" in found
    assert "tardive-exposure drug:dopamine-blocking:start at_least_days 30" in found
    inside_not = [t for t in thresholds(kb) if ".not." in t.where]
    assert inside_not, "thresholds under not are read too"


def test_no_work_up_catalogue_condition_holds_a_threshold(kb):
    """Check that tests.yaml's done_when conditions hold no numeric threshold (the walk above covers rules only)."""
    for test in kb.tests.values():
        if test.done_when is not None:
            assert not list(_walk(test.id, test.done_when, "done_when")), test.id


def _mutated(tmp_path: Path, row_id: str, change: Any) -> KnowledgeBase:
    data = tmp_path / "data"
    shutil.copytree(DATA_DIR, data)
    path = data / "rules/alerts.yaml"
    content = yaml.safe_load(path.read_text(encoding="utf-8"))
    row = next(r for r in content["rules"] if r["id"] == row_id)
    change(row)
    path.write_text(yaml.safe_dump(content, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return load_knowledge_base(data)


def _without(part: dict[str, Any]) -> Any:
    def change(row: dict[str, Any]) -> None:
        row["when"]["all"] = [p for p in row["when"]["all"] if p != part]
    return change


def _replace(old: dict[str, Any], new: dict[str, Any]) -> Any:
    def change(row: dict[str, Any]) -> None:
        parts = row["when"]["all"]
        parts[parts.index(old)] = new
    return change


@pytest.mark.parametrize(
    "change, expected",
    [
        pytest.param(_without({"ge": {"onset_age": 3}}),
                     "alert.wilson-screen onset_age ge 3: pinned, but no rule has it any longer",
                     id="lower-bound-deleted"),
        pytest.param(_replace({"lt": {"onset_age": 50}}, {"lt": {"onset_age": 45}}),
                     "alert.wilson-screen onset_age lt 45: a threshold not pinned",
                     id="upper-bound-moved"),
        pytest.param(_replace({"lt": {"onset_age": 50}}, {"le": {"onset_age": 50}}),
                     "alert.wilson-screen onset_age le 50: a threshold not pinned",
                     id="upper-bound-made-inclusive"),
    ],
)
def test_a_deleted_or_moved_bound_fails(tmp_path, corpus, change, expected):
    """Check that deleting or moving a bound of the Wilson alert in a copy of the data fails the threshold check."""
    kb = _mutated(tmp_path, "alert.wilson-screen", change)
    problems, _ = crossing_problems(kb, corpus, rules={"alert.wilson-screen"})
    assert any(p.startswith(expected) for p in problems), "\n".join(problems)


def test_a_bound_that_no_longer_changes_the_answer_fails(tmp_path, corpus):
    """Check that a bound made meaningless (a narrower bound beside it) is found by crossing, not only by the pins."""
    kb = _mutated(tmp_path, "alert.wilson-screen", lambda row: row["when"]["all"].append({"lt": {"onset_age": 40}}))
    problems, _ = crossing_problems(kb, corpus, rules={"alert.wilson-screen"})
    assert any(p.startswith("alert.wilson-screen onset_age lt 50 (") and "no case changes the rule's answer" in p
               for p in problems), \
        "\n".join(problems)
