"""The closed vocabularies of the case format and of the assessment's summary.

These are the words the case format (``shared/spec/vignettes.md``) and the summary of an
assessment are written in. They are vocabulary, not clinical knowledge: what each word
implies lives in the knowledge base (``contraxis/knowledge/data``).
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Final, Literal, get_args

Sex = Literal["female", "male", "unknown"]
Course = Literal["acute", "static", "progressive", "episodic"]
Severity = Literal["mild", "moderate", "severe"]
Response = Literal["none", "partial", "good"]
MriResult = Literal["normal", "abnormal", "not_done"]

Region = Literal[
    "upper-face", "lower-face", "jaw", "tongue", "larynx", "neck", "trunk", "back",
    "left-arm", "right-arm", "left-leg", "right-leg", "left-foot", "right-foot", "abdomen",
]

Phenomenology = Literal[
    "dystonia", "spasm", "cramp", "tetany", "tic", "myoclonus", "tremor", "chorea",
    "fasciculation",
]
FocalType = Literal[
    "cervical", "blepharospasm", "laryngeal", "upper-limb-task-specific", "oromandibular",
    "other-focal",
]
Distribution = Literal["focal", "segmental", "multifocal", "generalized", "hemidystonia"]
OnsetBand = Literal["infancy", "childhood", "adolescence", "early-adulthood", "late-adulthood"]
Associated = Literal["isolated", "combined"]
Etiology = Literal["primary", "secondary", "degenerative"]
Cause = Literal[
    "pain-guarding", "nerve-irritation", "hypocalcemia", "hyponatremia", "hypomagnesemia",
    "hypokalemia", "nocturnal-idiopathic", "intestinal", "drug-induced", "other",
]
Alert = Literal[
    "acute-dystonic-reaction", "airway-risk", "status-dystonicus", "hypocalcemic-tetany",
    "severe-hyponatremia", "wilson-screen", "dopa-trial", "secondary-features",
    "neuroleptic-malignant-syndrome", "serotonin-syndrome", "tetanus", "rhabdomyolysis",
    "severe-hypomagnesemia", "severe-hypokalemia",
]
Workup = Literal[
    "neurological-exam", "brain-mri", "spine-imaging", "posterior-fossa-imaging",
    "genetic-testing", "ceruloplasmin", "slit-lamp-exam", "urine-copper", "serum-calcium",
    "serum-sodium", "serum-magnesium", "parathyroid-hormone", "creatine-kinase",
    "levodopa-trial", "medication-review", "emg",
]
Treatment = Literal[
    "stretching", "salt-and-fluid-repletion", "calcium-repletion", "sodium-correction",
    "parenteral-anticholinergic", "stop-offending-drug", "oral-medication", "anticholinergic",
    "levodopa", "botulinum-toxin", "baclofen", "benzodiazepine", "deep-brain-stimulation",
    "microvascular-decompression", "copper-chelation", "treat-underlying-cause",
    "physical-therapy", "antispasmodic", "intensive-care", "magnesium-repletion",
    "potassium-repletion",
]
Urgency = Literal["emergency", "urgent", "soon", "routine"]  # most urgent first: see URGENCY_ORDER

REGIONS: tuple[str, ...] = get_args(Region)
PHENOMENOLOGIES: tuple[str, ...] = get_args(Phenomenology)
FOCAL_TYPES: tuple[str, ...] = get_args(FocalType)
DISTRIBUTIONS: tuple[str, ...] = get_args(Distribution)
ONSET_BANDS: tuple[str, ...] = get_args(OnsetBand)
ETIOLOGIES: tuple[str, ...] = get_args(Etiology)
CAUSES: tuple[str, ...] = get_args(Cause)
ALERTS: tuple[str, ...] = get_args(Alert)
WORKUPS: tuple[str, ...] = get_args(Workup)
TREATMENTS: tuple[str, ...] = get_args(Treatment)
URGENCIES: tuple[str, ...] = get_args(Urgency)

URGENCY_ORDER: Final[Mapping[str, int]] = MappingProxyType({u: i for i, u in enumerate(URGENCIES)})
"""Each urgency's rank, most urgent first: emergency 0, urgent 1, soon 2, routine 3."""


def urgency_rank(urgency: str) -> int:
    """Sort key of an urgency or a work-up priority, most urgent first.

    Parameters
    ----------
    urgency : str
        One of :data:`URGENCIES`.

    Returns
    -------
    int
        Its rank in :data:`URGENCY_ORDER`; a word outside the vocabulary sorts last.
    """
    return URGENCY_ORDER.get(urgency, len(URGENCY_ORDER))
