"""A mistake in any rule family stops the load, naming the file, the rule, the field, the value
and what is allowed.

Each case copies the bundled data files to a temporary folder, changes one rule (found by its
id, wherever it sits in its file) and expects :func:`load_knowledge_base` to raise a
:class:`KnowledgeBaseError` one of whose problems holds every expected fragment.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from contraxis import KnowledgeBaseError, load_knowledge_base
from contraxis.knowledge import DATA_DIR
from contraxis.knowledge.conditions import STEPS, readable


def _copy(tmp_path: Path) -> Path:
    target = tmp_path / "data"
    shutil.copytree(DATA_DIR, target)
    return target


def _find_row(node: Any, row_id: str) -> dict[str, Any] | None:
    """The mapping whose id (or gene) is ``row_id``, anywhere in a data file."""
    if isinstance(node, dict):
        if row_id in (node.get("id"), node.get("gene"), node.get("band")):
            return node
        children: Any = node.values()
    elif isinstance(node, list):
        children = node
    else:
        return None
    for child in children:
        found = _find_row(child, row_id)
        if found is not None:
            return found
    return None


def _swap(node: Any, old: Any, new: Any) -> bool:
    """Replace the first scalar (or mapping key) equal to ``old`` inside ``node``, depth first."""
    if isinstance(node, dict):
        for key in list(node):
            if key == old:
                node[new] = node.pop(key)
                return True
            value = node[key]
            if value == old and not isinstance(value, (dict, list)):
                node[key] = new
                return True
            if _swap(value, old, new):
                return True
    elif isinstance(node, list):
        for i, value in enumerate(node):
            if value == old and not isinstance(value, (dict, list)):
                node[i] = new
                return True
            if _swap(value, old, new):
                return True
    return False


def _edit(data: Path, file: str, row_id: str, change: Callable[[dict[str, Any]], None]) -> None:
    path = data / file
    content = yaml.safe_load(path.read_text(encoding="utf-8"))
    row = _find_row(content, row_id)
    assert row is not None, f"{file}: no row {row_id}"
    change(row)
    path.write_text(yaml.safe_dump(content, sort_keys=False, allow_unicode=True), encoding="utf-8")


def swap(old: Any, new: Any, field: str = "when") -> Callable[[dict[str, Any]], None]:
    def change(row: dict[str, Any]) -> None:
        target = row if field == "" else row[field]
        assert _swap(target, old, new), f"{old!r} not found in {row.get('id')}.{field}"
    return change


def set_field(field: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def change(row: dict[str, Any]) -> None:
        assert field in row or field == "when"
        row[field] = value
    return change


def add_condition(condition: dict[str, Any]) -> Callable[[dict[str, Any]], None]:
    """Make the rule's condition ``all: [<its condition>, condition]``."""
    def change(row: dict[str, Any]) -> None:
        row["when"] = {"all": [row["when"], condition]}
    return change


def replace_text(field: str, old: str, new: str) -> Callable[[dict[str, Any]], None]:
    def change(row: dict[str, Any]) -> None:
        assert old in row[field], f"{old!r} not in {row.get('id')}.{field}"
        row[field] = row[field].replace(old, new, 1)
    return change


def _refused(data: Path, *fragments: str) -> None:
    with pytest.raises(KnowledgeBaseError) as info:
        load_knowledge_base(data)
    problems = [str(p) for p in info.value.problems]
    assert any(all(f in p for f in fragments) for p in problems), "\n".join(problems)


# (file, rule id, change, fragments one problem must hold: file and rule, field, value, allowed)
CASES = [
    # -- a misspelt value in each rule family ------------------------------------------
    pytest.param("rules/alerts.yaml", "alert.airway-risk", swap("cramp", "crampp"),
                 ("rules/alerts.yaml: alert.airway-risk.when.", ".in.phenomenology[", "'crampp' is not a phenomenology",
                  "allowed: chorea, cramp, dystonia", "did you mean cramp"), id="alert-phenomenology"),
    pytest.param("rules/alerts.yaml", "alert.wilson-screen", swap("dystonia", "dystonai"),
                 ("rules/alerts.yaml: alert.wilson-screen.when.", ".is.phenomenology",
                  "'dystonai' is not a phenomenology",
                  "did you mean dystonia"), id="wilson-phenomenology"),
    pytest.param("rules/alerts.yaml", "alert.status-dystonicus", swap("generalized", "generalised"),
                 ("alert.status-dystonicus.when.", ".is.distribution", "'generalised' is not a distribution",
                  "allowed: focal, generalized, hemidystonia"), id="alert-distribution"),
    pytest.param("rules/alerts.yaml", "alert.status-dystonicus", swap("severe", "sever"),
                 ("alert.status-dystonicus.when.", ".is.severity", "'sever' is not a severity",
                  "allowed: mild, moderate, severe"),
                 id="alert-severity"),
    pytest.param("rules/phenomenology.yaml", "phenomenology.hemifacial-spasm", set_field("value", "spasms"),
                 ("rules/phenomenology.yaml: phenomenology.hemifacial-spasm (rows[", ").value", "got 'spasms'",
                  "'spasm'"),
                 id="phenomenology-value"),
    pytest.param("rules/phenomenology.yaml", "phenomenology.hemifacial-spasm", swap("hemifacial-spasm",
                                                                                    "hemifacial-spazm"),
                 ("rules/phenomenology.yaml: phenomenology.hemifacial-spasm.when.finding",
                  "'hemifacial-spazm' is neither a concept",
                  "did you mean hemifacial-spasm"), id="phenomenology-concept"),
    pytest.param("rules/classification.yaml", "focal-type.cervical", swap("neck", "nek"),
                 ("rules/classification.yaml: focal_type: focal-type.cervical.when.only_regions[0]",
                  "'nek' is not a region",
                  "allowed: abdomen, back"), id="focal-type-region"),
    pytest.param("rules/classification.yaml", "focal-type.other", set_field("value", "other"),
                 ("rules/classification.yaml: focal-type.other (focal_type.rows[", ").value", "got 'other'",
                  "'other-focal'"),
                 id="focal-type-value"),
    pytest.param("rules/classification.yaml", "associated.isolated", set_field("value", "alone"),
                 ("rules/classification.yaml: associated.isolated (associated.rows[", "got 'alone'", "'isolated'"),
                 id="associated-value"),
    pytest.param("rules/classification.yaml", "temporal.paroxysmal", swap("episodic", "episodical"),
                 ("temporal.paroxysmal.when.any[0].is.course", "'episodical' is not a course",
                  "allowed: acute, episodic"),
                 id="temporal-course"),
    pytest.param("rules/classification.yaml", "named-form.meige", swap("upper-face", "upperface"),
                 ("named-form.meige.when.all[0].region[0]", "'upperface' is not a region", "did you mean upper-face"),
                 id="named-form-region"),
    pytest.param("rules/etiology.yaml", "etiology.toxin", swap("toxin", "toxn"),
                 ("rules/etiology.yaml: etiology: etiology.toxin.when.history",
                  "'toxn' is not a history code or category",
                  "did you mean toxin"), id="etiology-history"),
    pytest.param("rules/etiology.yaml", "etiology.structural-lesion", swap("abnormal", "abnormall"),
                 ("etiology.structural-lesion.when.all[0].is.mri", "'abnormall' is not a mri",
                  "allowed: abnormal, normal, not_done"),
                 id="etiology-mri"),
    pytest.param("rules/etiology.yaml", "etiology.drug", set_field("value", "secundary"),
                 ("rules/etiology.yaml: etiology.drug (etiology.rows[", "got 'secundary'",
                  "'secondary'"), id="etiology-value"),
    pytest.param("rules/etiology.yaml", "axis2.degeneration", swap("degenerative", "degenerate"),
                 ("rules/etiology.yaml: pathology: axis2.degeneration.when.is.etiology",
                  "'degenerate' is not a etiology",
                  "allowed: degenerative, primary, secondary"), id="pathology-etiology"),
    pytest.param("rules/etiology.yaml", "axis2.idiopathic-familial", swap(True, "yes"),
                 ("axis2.idiopathic-familial.when.all[1].is.family_history",
                  "family history is true or false, got 'yes'"),
                 id="inheritance-bool"),
    pytest.param("rules/etiology.yaml", "etiology.degenerative-gene", swap("degenerative", "degenerativ"),
                 ("etiology.degenerative-gene.when.gene.positive_class", "'degenerativ' is not a class of genes.yaml",
                  "allowed: degenerative, primary"), id="gene-class"),
    pytest.param("rules/cause.yaml", "cause.intestinal", set_field("value", "intestine"),
                 ("rules/cause.yaml: cause.intestinal (rows[", ").value", "got 'intestine'",
                  "'intestinal'"), id="cause-value"),
    pytest.param("rules/cause.yaml", "cause.hyponatremia", swap("sodium", "natrium"),
                 ("rules/cause.yaml: cause.hyponatremia.when.all[1].lab.test",
                  "'natrium' is not a laboratory test of labs.yaml",
                  "allowed: ", "calcium"), id="cause-lab-test"),
    pytest.param("rules/cause.yaml", "cause.drug", swap("cramp-inducing", "cramp-inducting"),
                 ("rules/cause.yaml: cause.drug.when.any[0].all[1].drug.class",
                  "'cramp-inducting' is not a drug class of drugs.yaml",
                  "did you mean cramp-inducing"), id="cause-drug-class"),
    pytest.param("rules/workup.yaml", "workup.tetany-calcium", set_field("test", "calcium"),
                 ("rules/workup.yaml: workup.tetany-calcium (rules[", ").test", "got 'calcium'",
                  "'serum-calcium'"), id="workup-test"),
    pytest.param("rules/workup.yaml", "workup.wilson-ceruloplasmin", set_field("priority", "asap"),
                 ("workup.wilson-ceruloplasmin (rules[", ").priority", "got 'asap'",
                  "'emergency', 'urgent', 'soon' or 'routine'"),
                 id="workup-priority"),
    pytest.param("rules/workup.yaml", "workup.weakness-emg", swap("amyotrophy", "HP:9999999"),
                 ("rules/workup.yaml: workup.weakness-emg.when.all[1].finding",
                  "'HP:9999999' is neither a concept of findings.yaml, a current HPO term"),
                 id="workup-hpo-unknown"),
    pytest.param("rules/workup.yaml", "workup.weakness-emg", swap("amyotrophy", "HP:0002275"),
                 ("workup.weakness-emg.when.all[1].finding", "'HP:0002275' is neither", "a current HPO term"),
                 id="workup-hpo-obsolete"),
    pytest.param("rules/workup.yaml", "workup.posterior-fossa", swap("hemifacial-spasm", "CX:hemifacial"),
                 ("workup.posterior-fossa.when.finding", "'CX:hemifacial' is neither", "local code of findings.yaml"),
                 id="workup-local-code"),
    pytest.param("rules/treatment.yaml", "treat.adr-anticholinergic", set_field("treatment", "anticholinergics"),
                 ("rules/treatment.yaml: treat.adr-anticholinergic (rules[", ").treatment", "got 'anticholinergics'"),
                 id="treatment-code"),
    pytest.param("rules/treatment.yaml", "treat.adr-anticholinergic", swap("acute-dystonic-reaction",
                                                                           "acute-dystonic-reactoin"),
                 ("rules/treatment.yaml: treat.adr-anticholinergic.when.alert",
                  "'acute-dystonic-reactoin' is not an alert",
                  "did you mean acute-dystonic-reaction"), id="treatment-alert"),
    pytest.param("rules/definitions.yaml", "oral-failed", swap("oral", "orale"),
                 ("rules/definitions.yaml: oral-failed.when.any[0].tried.treatment",
                  "'orale' is neither a treatment nor a treatment kind",
                  "did you mean oral"), id="tried-treatment"),
    pytest.param("rules/definitions.yaml", "toxin-failed", swap("partial", "partly"),
                 ("rules/definitions.yaml: toxin-failed.when.tried.response", "expects a list of none, partial, good",
                  "'partly'"),
                 id="tried-response"),
    pytest.param("rules/diagnosis.yaml", "dx.drd", swap("GCH1", "GHC1"),
                 ("rules/diagnosis.yaml: dx.drd.when.any[0].gene.positive", "'GHC1' is not a gene of genes.yaml",
                  "did you mean GCH1"),
                 id="diagnosis-gene"),
    pytest.param("rules/diagnosis.yaml", "dx.cervical", set_field("value", "cervical-dystonia-x"),
                 ("rules/diagnosis.yaml: dx.cervical", "dx.cervical.value",
                  "'cervical-dystonia-x' is not a condition of conditions.yaml", "cervical-dystonia"),
                 id="diagnosis-condition"),
    pytest.param("rules/questions.yaml", "ask.ceruloplasmin", swap("wilson-screen", "wilson-sreen"),
                 ("rules/questions.yaml: ask.ceruloplasmin.when.alert", "'wilson-sreen' is not an alert",
                  "did you mean wilson-screen"),
                 id="question-alert"),
    pytest.param("rules/questions.yaml", "ask.onset-age", swap("onset_age", "onset_year"),
                 ("rules/questions.yaml: ask.onset-age.when.not.known",
                  "unknown field 'onset_year'"), id="question-known"),
    pytest.param("rules/questions.yaml", "ask.sodium", set_field("field", "bloods"),
                 ("rules/questions.yaml: ask.sodium.field", "'bloods' is not a case field"), id="question-field"),
    pytest.param("rules/definitions.yaml", "wilson-proven", swap("ATP7B", "ATP7"),
                 ("rules/definitions.yaml: wilson-proven.when.any[0].gene.positive",
                  "'ATP7' is not a gene of genes.yaml",
                  "did you mean ATP7B"), id="definition-gene"),
    pytest.param("rules/definitions.yaml", "tardive-exposure", swap("dopamine-blocking", "dopamine-blocker"),
                 ("rules/definitions.yaml: tardive-exposure.when.drug.class", "'dopamine-blocker' is not a drug class",
                  "did you mean dopamine-blocking"), id="definition-drug-class"),
    pytest.param("rules/definitions.yaml", "tardive-exposure", swap(30, -30),
                 ("tardive-exposure.when.drug.at_least_days", "expects a whole number of days (0 or more), got -30"),
                 id="definition-drug-days"),
    pytest.param("rules/alerts.yaml", "alert.wilson-screen", swap(50, "fifty"),
                 ("alert.wilson-screen.when.", ".lt.onset_age",
                  "onset_age: expects a number, got 'fifty'"), id="compare-number"),
    pytest.param("rules/alerts.yaml", "alert.wilson-screen", swap("onset_age", "onset_band"),
                 ("alert.wilson-screen.when.", ".lt.onset_band", "'onset_band' is not a number",
                  "allowed: age, onset_age"),
                 id="compare-variable"),
    pytest.param("rules/alerts.yaml", "alert.wilson-screen", swap("is", "equals"),
                 ("alert.wilson-screen.when.all[0]", "unknown operator 'equals'", "allowed: "), id="operator"),
    # -- laboratory tests and the units of their limits -----------------------------------
    pytest.param("rules/alerts.yaml", "alert.severe-hyponatremia", swap(125, 12.5),
                 ("alert.severe-hyponatremia.when.lab.below", "12.5 is not a possible sodium value in mmol/L",
                  "plausible: ", "another unit"), id="lab-limit-implausible"),
    pytest.param("rules/alerts.yaml", "alert.severe-hyponatremia", lambda row: row["when"]["lab"].update(unit="mg/dL"),
                 ("alert.severe-hyponatremia.when.lab.unit", "'mg/dL' is not the unit of sodium", "mmol/L"),
                 id="lab-limit-unit"),
    pytest.param("rules/definitions.yaml", "calcium-measured", swap(True, "yes"),
                 ("calcium-measured.when.any[0].lab.known", "expects true or false, got 'yes'"), id="lab-known"),
    pytest.param("labs.yaml", "sodium", set_field("unit", "mg/dL"),
                 ("labs.yaml: sodium.unit",
                  "'mg/dL' is not the unit results of sodium are read in (mmol/L)"), id="labs-unit"),
    pytest.param("labs.yaml", "sodium", set_field("id", "natrium"),
                 ("labs.yaml: natrium.id", "'natrium' is not an analyte"), id="labs-analyte"),
    # -- placeholders ------------------------------------------------------------------
    pytest.param("rules/alerts.yaml", "alert.wilson-screen", replace_text("message", "{onset_age}", "{onset_aeg}"),
                 ("rules/alerts.yaml: alert.wilson-screen.message", "{onset_aeg} is not a variable of the facts",
                  "did you mean onset_age"), id="placeholder-misspelt"),
    pytest.param("rules/alerts.yaml", "alert.wilson-screen", replace_text("message", "{onset_age}", "{age}"),
                 ("rules/alerts.yaml: alert.wilson-screen.message", "{age} may be empty when the rule holds",
                  "makes known: onset_age"), id="placeholder-not-provided"),
    pytest.param("rules/alerts.yaml", "alert.wilson-screen", replace_text("message", "{onset_age}", "{onset_age:.1f}"),
                 ("alert.wilson-screen.message", "{onset_age:.1f}: write {onset_age} alone"), id="placeholder-format"),
    pytest.param("rules/alerts.yaml", "alert.wilson-screen", replace_text("message", "{onset_age}", "{onset_age"),
                 ("alert.wilson-screen.message", "unmatched"), id="placeholder-unclosed"),
    pytest.param("rules/questions.yaml", "ask.drug-start", replace_text("question", "{undated_drugs}",
                                                                        "{undated_drug}"),
                 ("rules/questions.yaml: ask.drug-start.question", "{undated_drug} is not a variable",
                  "did you mean undated_drugs"),
                 id="placeholder-question"),
    pytest.param("rules/workup.yaml", "workup.tetany-calcium", replace_text("reason", "Tetany",
                                                                            "Tetany at {onset_age}"),
                 ("rules/workup.yaml: workup.tetany-calcium.reason",
                  "braces are shown as written here"), id="placeholder-not-filled"),
    pytest.param("rules/treatment.yaml", "treat.adr-stop-drug", replace_text("reason", "Stop", "Stop {drug}"),
                 ("rules/treatment.yaml: treat.adr-stop-drug.reason",
                  "braces are shown as written here"), id="placeholder-treatment"),
    # -- which step may read which variable ---------------------------------------------
    pytest.param("rules/phenomenology.yaml", "phenomenology.hemifacial-spasm",
                 add_condition({"not": {"is": {"cause": "pain-guarding"}}}),
                 ("rules/phenomenology.yaml: phenomenology.hemifacial-spasm.when", "reads 'cause'",
                  "which the cause step concludes after the phenomenology step", "may read: none"),
                 id="phenomenology-reads-cause"),
    pytest.param("rules/phenomenology.yaml", "phenomenology.hemifacial-spasm",
                 add_condition({"not": {"is": {"etiology": "secondary"}}}),
                 ("phenomenology.hemifacial-spasm.when", "reads 'etiology'", "after the phenomenology step"),
                 id="phenomenology-reads-etiology"),
    pytest.param("rules/phenomenology.yaml", "phenomenology.hemifacial-spasm",
                 add_condition({"not": {"fact": "drug-may-cause"}}),
                 ("phenomenology.hemifacial-spasm.when", "reads 'phenomenology' (through fact: drug-may-cause)"),
                 id="phenomenology-reads-itself-through-a-fact"),
    pytest.param("rules/classification.yaml", "focal-type.other", add_condition({"is": {"associated": "isolated"}}),
                 ("focal-type.other.when", "reads 'associated'",
                  "the associated step concludes after the focal_type step"),
                 id="focal-type-reads-associated"),
    pytest.param("rules/etiology.yaml", "etiology.drug", add_condition({"not": {"is": {"cause": "drug-induced"}}}),
                 ("etiology.drug.when", "reads 'cause'", "after the etiology step"), id="etiology-reads-cause"),
    pytest.param("rules/etiology.yaml", "etiology.drug", add_condition({"not": {"alert": "acute-dystonic-reaction"}}),
                 ("etiology.drug.when", "reads 'alerts'", "the alerts step concludes after the etiology step"),
                 id="etiology-reads-alerts"),
    pytest.param("rules/cause.yaml", "cause.drug", add_condition({"not": {"is": {"etiology": "primary"}}}),
                 ("rules/cause.yaml: cause.drug.when", "reads 'etiology'", "never set when the cause step runs"),
                 id="cause-reads-etiology"),
    pytest.param("rules/alerts.yaml", "alert.airway-risk", add_condition({"not": {"alert": "status-dystonicus"}}),
                 ("rules/alerts.yaml: alert.airway-risk.when", "reads alert 'status-dystonicus'",
                  "may read only alerts raised by the rules above it"), id="alert-reads-later-alert"),
    # -- definitions -----------------------------------------------------------------------
    pytest.param("rules/workup.yaml", "workup.medication-review", swap("drug-may-cause", "drug-may-causes"),
                 ("rules/workup.yaml: workup.medication-review.when.all[0].fact",
                  "'drug-may-causes' is not defined in definitions.yaml",
                  "did you mean drug-may-cause"), id="unknown-fact"),
    pytest.param("rules/definitions.yaml", "tardive-exposure", set_field("when", {"fact": "drug-caused-dystonia"}),
                 ("rules/definitions.yaml: ", "refers to itself", "fact: tardive-exposure",
                  "fact: drug-caused-dystonia"),
                 id="definition-cycle"),
    # -- the work-up catalogue ---------------------------------------------------------------
    pytest.param("tests.yaml", "urine-copper", swap("urine-copper", "urine-coper", "done_when"),
                 ("tests.yaml: urine-copper.done_when.lab.test",
                  "'urine-coper' is not a laboratory test"), id="done-when"),
]


@pytest.mark.parametrize("file, row_id, change, fragments", CASES)
def test_a_mistake_stops_the_load_naming_it(tmp_path, file, row_id, change, fragments):
    """Check that a one-word mistake in a rule stops the load with file, rule, field, value and what is allowed."""
    data = _copy(tmp_path)
    _edit(data, file, row_id, change)
    _refused(data, *fragments)


def test_the_family_cases_cover_every_rule_family():
    """Check that the cases above change a rule of every step of the engine, and definitions."""
    files = {"phenomenology": "rules/phenomenology.yaml", "cause": "rules/cause.yaml", "alerts": "rules/alerts.yaml",
             "workup": "rules/workup.yaml", "treatment": "rules/treatment.yaml", "diagnosis": "rules/diagnosis.yaml",
             "questions": "rules/questions.yaml"}
    ids = {c.values[1] for c in CASES}
    prefixes = {"focal_type": "focal-type.", "associated": "associated.", "temporal_pattern": "temporal.",
                "named_forms": "named-form.", "etiology": "etiology.", "pathology": "axis2.degeneration",
                "inheritance": "axis2.idiopathic"}
    for step, _ in STEPS:
        if step == "classification":
            continue
        if step in files:
            assert any(c.values[0] == files[step] for c in CASES), step
        else:
            assert any(i.startswith(prefixes[step]) for i in ids), step
    assert any(c.values[0] == "rules/definitions.yaml" for c in CASES)


def test_a_misspelt_case_field_of_the_vocabulary_is_refused_in_every_variable():
    """Check that the variables a rule compares are typed, and what a rule of each step may read."""
    from contraxis.knowledge.conditions import VARIABLE_TYPES

    assert set(VARIABLE_TYPES) >= {"phenomenology", "cause", "etiology", "course", "severity", "sex", "mri",
                                   "onset_age"}
    assert readable("phenomenology") == frozenset()
    assert "cause" not in readable("etiology") and "etiology" not in readable("cause")
    assert {"phenomenology", "etiology", "cause"} <= readable("alerts") and "alerts" in readable("treatment")


def test_an_alert_of_the_vocabulary_without_a_rule_stops_the_load(tmp_path):
    """Check that removing every rule that raises an alert is refused (the alert would silently never be raised)."""
    data = _copy(tmp_path)
    path = data / "rules/alerts.yaml"
    content = yaml.safe_load(path.read_text(encoding="utf-8"))
    content["rules"] = [r for r in content["rules"] if r["alert"] != "severe-hyponatremia"]
    path.write_text(yaml.safe_dump(content, sort_keys=False), encoding="utf-8")
    _refused(data, "rules/alerts.yaml", "no rule concludes the alert severe-hyponatremia")


def test_onset_bands_must_cover_every_age_once(tmp_path):
    """Check that a gap between two onset bands is refused, naming the band."""
    data = _copy(tmp_path)
    _edit(data, "rules/classification.yaml", "childhood", lambda row: row.update({"below": 12}))
    _refused(data, "rules/classification.yaml: onset_bands.bands: adolescence.from", "13 leaves a gap or an overlap",
             "ends at 12")


def test_a_distribution_without_its_rule_stops_the_load(tmp_path):
    """Check that the distribution rules name each distribution of the vocabulary."""
    data = _copy(tmp_path)
    _edit(data, "rules/classification.yaml", "distribution.multifocal", set_field("value", "multi-focal"))
    _refused(data, "rules/classification.yaml: distribution.multifocal (distribution.rules[", "got 'multi-focal'")


def test_every_problem_is_reported_at_once(tmp_path):
    """Check that two mistakes in two files are both named in one error."""
    data = _copy(tmp_path)
    _edit(data, "rules/alerts.yaml", "alert.airway-risk", swap("cramp", "crampp"))
    _edit(data, "rules/diagnosis.yaml", "dx.drd", swap("GCH1", "GHC1"))
    with pytest.raises(KnowledgeBaseError) as info:
        load_knowledge_base(data)
    text = str(info.value)
    assert "'crampp'" in text and "'GHC1'" in text


def test_filling_a_text_never_shows_a_placeholder_as_written(kb):
    """Check that rendering a text raises, never shows '{...}' or 'None', when a placeholder is not known."""
    from contraxis import read_case
    from contraxis.reasoning.facts import build_facts

    view = build_facts(read_case({"age": 30, "onset_age": 12, "findings": ["HP:0000473"]}), kb).view()
    assert view.fill("began at {onset_age}") == "began at 12"
    for text in ("began at {onset_aeg}", "{undated_drugs} started", "a stray } brace"):
        with pytest.raises(KnowledgeBaseError):
            view.fill(text)


def test_every_rule_family_belongs_to_a_step(kb):
    """Check that every family of rules has its place in the order of steps the read checks use."""
    steps = {name for name, _ in STEPS}
    families = {rule["stage"] for rule in kb.rules()} - {"definitions"}
    assert families <= steps, families - steps


def test_the_step_order_is_the_engines(kb, monkeypatch):
    """Check that the engine concludes the derived variables, then the alerts, in the order STEPS declares."""
    from contraxis import read_case
    from contraxis.engine import assess
    from contraxis.knowledge.conditions import DERIVED
    from contraxis.reasoning.facts import Concluded, Facts

    # Each view the rules read records what had been concluded when it was built.
    order: list[str] = []
    view = Facts.view

    def recording(self: Facts, concluded: Concluded | None = None) -> object:
        seen = Concluded() if concluded is None else concluded
        order.extend(var for var in DERIVED if getattr(seen, var) is not None)
        order.extend(["alerts"] if seen.alerts else [])
        return view(self, seen)

    monkeypatch.setattr(Facts, "view", recording)
    cases = [
        {"age": 30, "onset_age": 12, "course": "static", "regions": ["neck"], "findings": ["HP:0000473", "HP:0001300"]},
        {"age": 40, "onset_age": 40, "course": "episodic", "regions": ["left-leg"], "findings": ["HP:0003394",
                                                                                                 "CX:nocturnal"],
         "labs": [{"loinc": "2951-2", "value": 120, "unit": "mmol/L"}]},
    ]
    rank = {var: i for i, var in enumerate([*DERIVED, "alerts"])}
    for case in cases:
        order.clear()
        assess(read_case(case), kb=kb, xrefs=False)
        seen = list(dict.fromkeys(order))
        assert seen == sorted(seen, key=rank.__getitem__), seen
        assert "alerts" in seen and len(seen) >= 4
