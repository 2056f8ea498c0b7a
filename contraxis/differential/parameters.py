"""The constants of the likelihood-ratio model, each with the reason for its value.

They are set from what the numbers mean (the HPO definitions, how annotations are made,
how findings get recorded), never fitted to particular cases. The index records them, and
a change to any of them makes the cached index stale.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

__all__ = ["ModelParameters"]


@dataclass(frozen=True, slots=True)
class ModelParameters:
    """The constants of the model (see the comment on each field for its reason).

    Parameters
    ----------
    cohort_prior_strength : float
        Pseudo-count of the Beta prior that turns *n* of *m* patients into a frequency:
        ``(n + s * mean) / (m + s)``, centred on the mean stated frequency of the corpus.
        Many *n/m* annotations come from one family or a handful of patients; three
        pseudo-patients keep a single reported patient (1/1) from reading as certain and
        0 of 2 from reading as never, while cohorts of thirty or more keep their observed
        rate within a few percent.
    false_negative : float
        Probability that a feature the patient has is recorded as absent (missed on
        examination, too mild, or not yet developed at the age seen). Caps the frequency
        used for an excluded term at ``1 - false_negative``, so that one exclusion lowers
        a disease's odds at most tenfold and never vetoes it (LIRICAL uses 0.01; most case
        reports describe children, who may not yet show every feature of their disease).
    ascertainment : float
        How much likelier a finding is to be recorded as *looked for and absent* when it is
        a feature of the patient's disease than when it is not. Clinicians document
        pertinent negatives: the absent findings that would have supported a diagnosis they
        were weighing. An excluded term therefore carries two facts: it was sought (``x
        ascertainment`` for a disease that has the feature, normalised over the corpus) and
        it was not found (``(1 - F) / (1 - background)``). Together they lower a disease
        for whom the feature is nearly constant (F above 0.8) and raise one for whom it
        is occasional. Five: a pertinent negative is five times likelier to concern the
        patient's own disease than any other.
    reporting : float
        Probability that a feature the patient has is mentioned in the record when it is
        not the reason for the visit, for a record that names as many findings as a patient
        of the average disease shows features (the corpus mean of the summed frequencies
        of a disease's topmost annotations, about nine). Records name a minority of what a
        patient has: one feature in five. The rate scales with the record (see
        :meth:`reporting_rate`): a record naming two findings leaves most features
        unmentioned whatever the disease, one naming thirty has looked widely. A
        disease's annotated features that the record neither mentions (itself, a term
        above or below it) nor excludes lower its odds by ``(1 - r * F) / (1 - r *
        background)`` each, ``r`` the record's rate. Only a disease's topmost annotations
        count (a term below another annotated term adds nothing), as features within one
        branch are not independent.
    related_credit : float
        Share of a match credited when the disease has a *different* feature in the same
        branch of the ontology (the closest common ancestor is neither the observed term
        nor a term annotated to the disease): the same abnormality coded at another level
        or from another angle (an annotation "renal insufficiency", a patient
        "proteinuria") is common, but weaker evidence than the annotated term itself. One
        in ten: the credit through an ancestor ``c`` is
        ``related_credit * F(c | disease) / background(c)``.
    unexplained_floor : float
        Likelihood ratio of a finding the disease cannot explain, for the most common
        findings (background ``common_background`` or more). Such findings come from
        incomplete annotations, from coding the same sign differently, or from a second
        condition; LIRICAL takes the same range (1:10 for common findings).
    unexplained_rare : float
        The same likelihood ratio for the rarest findings: a finding annotated to almost
        no disease that this disease cannot explain is strong evidence against it
        (LIRICAL's bound, 1:500). In between, the log of the ratio is linear in the log of
        the background frequency: the penalty grows with the finding's information content.
    common_background : float
        Background frequency at and above which a finding counts as common (one disease
        in ten has it).
    onset_spread : float
        Share of a disease's onset mass placed on each neighbouring onset band (antenatal,
        congenital, neonatal, infantile, childhood, juvenile, young adult, middle age,
        late): the bands are contiguous, and onsets near a boundary, or recalled late,
        often fall in the next one.
    onset_atypical : float
        Share of a disease's onset distribution spread like the whole corpus's: a patient
        may present at an onset unusual for the disease (one in ten).
    acquired_unmet : float
        Likelihood ratio of an acquired cause whose defining fact (a drug, an event in
        the history, a finding or laboratory result) is not in the record: records are
        incomplete, so this is not a veto, but the cause stays unlikely (1 in 100) until
        the fact is found.
    exposure_background : float
        Frequency of a given exposure (a drug of the class, an event of the history) among
        patients whose contractions have another cause: one in twenty. An acquired cause
        whose defining exposure is in the record gains ``1 / exposure_background`` (20); a
        defining finding counts through the phenotype instead.
    local_code_background : float
        Assumed frequency of a local ``CX:`` finding (a sensory trick, relief by
        stretching...) among patients with involuntary contractions who do not have the
        acquired cause that lists it: one in four, so that one such code moves the odds
        at most fourfold. HPO does not name these findings, so they count for the acquired
        causes only.
    gene_test_sensitivity : float
        Probability that a gene test finds the disease-causing variant of a disease of
        that gene (0.9: sequencing misses some deletions, repeats and deep intronic
        variants). A negative test lowers the odds of the gene's diseases tenfold.
    gene_false_positive : float
        Probability that a test reports a disease-causing variant in a gene that does not
        cause the patient's disease (a carrier of a recessive variant read as causal, a
        misclassified variant): 1 in 100, so a positive test raises the odds of the gene's
        diseases ninetyfold.
    specific_share : float
        A finding is specific when fewer than this share of the Mendelian diseases show it
        (one in ten): a record whose findings are all more common than that (seizures,
        intellectual disability, hypotonia, short stature...) singles out no disease, and
        gets no ranked list but a note saying what to record.
    temper : float
        The power to which a single finding's likelihood ratio is raised when the
        post-test probability is computed (a tempered, or power, likelihood). The model
        multiplies likelihood ratios as if the findings were independent; they are not.
    dependence : float
        Mean correlation between the findings of one record (present findings, with the
        features they leave unmentioned and the onset): ``n`` findings carry the
        information of ``n / (1 + (n - 1) * dependence)`` independent ones (Kish's design
        effect), so their summed ``log10`` likelihood ratio is weighted by
        ``temper / (1 + (n - 1) * dependence)`` (:meth:`evidence_weight`). However many
        findings a record names, together they never weigh more than ``temper /
        dependence`` independent ones: a handful of generic findings, or a long list, cannot
        give certainty.
    exclusion_dependence : float
        The same for the findings recorded as absent, weighted on their own: exclusions
        come in checklists, whose items say much the same thing about a disease (a long
        list of them counts as ``temper / exclusion_dependence`` exclusions at most).

        ``dependence`` and ``exclusion_dependence`` are the two constants set from data: by
        maximum likelihood of the known diagnosis over the broad development set of
        phenopackets (``tools/fit_calibration.py``), ``temper`` kept at 1 (one finding counts
        as the model says; the likelihood is flat along ``temper / dependence``, and the
        best point of the grid is within 0.02 nats a case of this one). This makes the
        post-test probabilities calibrated (the README gives the reliability table). They
        weigh the evidence; they do not change what any single finding says.
    """

    cohort_prior_strength: float = 3.0
    false_negative: float = 0.1
    ascertainment: float = 5.0
    reporting: float = 0.2
    related_credit: float = 0.1
    unexplained_floor: float = 0.1
    unexplained_rare: float = 0.002
    common_background: float = 0.1
    onset_spread: float = 0.2
    onset_atypical: float = 0.1
    acquired_unmet: float = 0.01
    exposure_background: float = 0.05
    local_code_background: float = 0.25
    gene_test_sensitivity: float = 0.9
    gene_false_positive: float = 0.01
    specific_share: float = 0.1
    temper: float = 1.0
    dependence: float = 0.3
    exclusion_dependence: float = 0.1

    def evidence_weight(self, findings: int, *, excluded: bool = False) -> float:
        """The weight of the summed ``log10`` likelihood ratio of ``findings`` findings.

        ``temper / (1 + (findings - 1) * dependence)`` (``exclusion_dependence`` for
        findings recorded as absent); ``temper`` for one finding or none.
        """
        rho = self.exclusion_dependence if excluded else self.dependence
        return self.temper / (1.0 + max(findings - 1, 0) * rho)

    def reporting_rate(self, findings: int, expected_features: float) -> float:
        """The probability that a record naming ``findings`` findings mentions a feature.

        ``reporting * findings / expected_features``: proportional to how much the record
        says, equal to ``reporting`` for a record that names as many findings as a patient
        of the average disease shows features (``expected_features``), and never above
        ``1 - false_negative`` (a feature can always be missed). A record that names no
        finding gives no reason to expect any feature in it.
        """
        if findings <= 0 or expected_features <= 0:
            return 0.0
        return min(self.reporting * findings / expected_features, 1.0 - self.false_negative)

    def reporting_steps(self, expected_features: float) -> int:
        """The number of findings from which :meth:`reporting_rate` stays at its ceiling."""
        if expected_features <= 0 or self.reporting <= 0:
            return 0
        return math.ceil((1.0 - self.false_negative) * expected_features / self.reporting)

    def to_dict(self) -> dict[str, Any]:
        """Return the constants as JSON-ready data."""
        return asdict(self)
