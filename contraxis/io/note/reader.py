"""Reading a clinical note into a native case, every fact with the words it came from.

:func:`read_note` takes the text of a letter or a note and returns a :class:`NoteReading`:
an ordinary :class:`~contraxis.case.Case` (validated like any other), the provenance of each
of its facts (:class:`Fact`: the case path, the value, the words, how they were read, the
negation or uncertainty cue, the section), what was recognised and not used
(:class:`Unused`, with why) and what the case reader changed (``not_read``).

How the text is read, step by step:

1. Sections: a line opening with a header of ``context.yaml`` ("Family history:",
   "Medications:", "Plan:") starts a section; a family section is about relatives, a plan
   section about what is to be done.
2. spaCy (no trained model) tokenises the text and cuts it into sentence parts at . ! ? ; :.
3. Findings: the words of every HPO term (labels and synonyms) and the knowledge base's own
   phrases and co-occurrence rules (``findings.yaml``), keyed word by word (stemmed, British
   spelling read as American).
4. Regions: a body part (``body.yaml``) is a region where a word of movement is in the same
   clause; its side comes from the words before it, or the part named before it.
5. Context: NegEx cues (negspacy) negate or make uncertain the findings after (or before)
   them, as far as a list of findings goes; a relative as the subject of a clause makes it
   family history.
6. Drugs (through the drug resolver: brands, salts), with their start read from the words
   around them; treatments tried with their response; laboratory values with their units;
   vital signs; brain MRI; gene tests; age, sex, onset, course, severity.
7. The case is validated by :func:`contraxis.case.read_case_reading`; a finding asserted
   both present and absent keeps the present one.

Nothing is invented: what the note does not say is left unknown. A note with nothing clinical
gives an empty case and a message saying so.
"""

from __future__ import annotations

from dataclasses import replace

from ...errors import CaseError, Problem
from ...reading import excerpt
from .builder import Builder, assemble, assert_findings, settle_findings
from .context import apply_cues, family_history, family_mentions
from .course import MOVEMENT_PREFIXES, course_and_severity, movement_terms, onset_of, sex_of
from .document import Doc, compiled, pipeline_for, sections_of, word_mentions
from .facts import (
    MED_WORDS,
    drug_mentions,
    gene_tests,
    imaging_clauses,
    imaging_fact,
    labs_and_vitals,
    medications_of,
    treatment_mentions,
)
from .index import NoteIndex, default_note_index
from .matching import cooccurrence_mentions, historical, indications, kb_first, phrase_mentions
from .model import EMPTY_MESSAGE, MAX_NOTE_CHARS, Evidence, Fact, NoteReading, Unused
from .regions import moving_parts, part_mentions, regions_of
from .timing import ages

__all__ = ["MAX_NOTE_CHARS", "Evidence", "Fact", "NoteReading", "Unused", "read_note"]


def read_note(text: str, *, index: NoteIndex | None = None, source: str | None = None) -> NoteReading:
    """Read a clinical note into a native case with the provenance of every fact.

    Parameters
    ----------
    text : str
        The note: a letter, a clinic note, a referral, in English (at most
        :data:`MAX_NOTE_CHARS` characters).
    index : NoteIndex, optional
        The reviewed data and phrase index (the shipped ones, loaded once, by default).
    source : str, optional
        Names the note in error messages.

    Returns
    -------
    NoteReading
        The case (validated like any native case), its facts with their words, what was
        recognised and not used, and a message when nothing clinical was found.

    Raises
    ------
    CaseError
        When ``text`` is not text, is too long, or holds control characters.
    NoteReaderUnavailable
        When spaCy or negspacy is not installed (the ``note`` extra).

    Examples
    --------
    >>> read_note("A 58-year-old woman has had, for three years, a pulling of her head to the right.").case.regions
    ('neck',)
    """
    if not isinstance(text, str):
        raise CaseError([Problem("note", f"{excerpt(text, 40)} is not text (allowed: the text of a clinical note)")],
                        source=source)
    if len(text) > MAX_NOTE_CHARS:
        raise CaseError([Problem("note", f"has {len(text)} characters (allowed: at most {MAX_NOTE_CHARS})")],
                        source=source)
    bad = next((i for i, ch in enumerate(text) if not ch.isprintable() and ch not in "\n\r\t"), None)
    if bad is not None:
        raise CaseError([Problem("note", f"holds a control character at character {bad}: "
                                         f"{excerpt(text[max(0, bad - 20):bad + 20], 60)} (allowed: printable text)")],
                        source=source)
    index = index or default_note_index()
    from ...case import Case

    if not text.strip():
        return NoteReading(text=text, case=Case(), message=EMPTY_MESSAGE)
    comp = compiled(index)
    pipe = pipeline_for(index)
    d = Doc(text, index, pipe)
    sections = sections_of(text, comp)
    d.sections = sections
    b = Builder(d, comp, sections)
    findings = kb_first(phrase_mentions(d, comp) + cooccurrence_mentions(d, comp), b)
    elicited = [(m.start, m.end) for m in findings if m.rule is not None and m.rule.rule.elicited]
    findings = [m for m in findings if (m.rule is not None and m.rule.rule.elicited)
                or not any(a <= m.start and m.end <= z for a, z in elicited)]
    parts = part_mentions(d, comp)
    parts = [m for m in parts if not any(a <= m.start and m.end <= z for a, z in elicited)]
    moving_parts(d, comp, parts)
    drugs = drug_mentions(d, comp)
    treatments = treatment_mentions(d, comp)
    medwords = word_mentions(d, MED_WORDS, "medication")
    imaging = word_mentions(d, index.files.facts.imaging.words, "imaging")
    everything = [*findings, *parts, *drugs, *treatments, *medwords, *imaging]
    neg = pipe.cues(d.doc, "negation")
    unc = pipe.cues(d.doc, "uncertainty")
    relatives = family_mentions(d, comp, everything, sections)
    apply_cues(d, neg, [*everything, *relatives], "negated")
    apply_cues(d, unc, [*everything, *relatives], "uncertain")
    family_spans = [r.extra.get("scope", (r.start, r.end)) for r in relatives if not r.negated]
    indications(d, findings, [*drugs, *treatments, *[m for m in findings if str(m.value).startswith("CX:hx-")]])
    historical(d, comp, findings)

    # age and sex
    found_ages = [f for f in ages(text, comp.numbers)]
    age = found_ages[0] if found_ages else None
    if age is not None:
        b.set("age", age.value, b.ev_chars(age.start, age.end, "age"))
    sex = sex_of(d, age)
    if sex is not None:
        b.set("sex", sex[0], sex[1])

    # regions
    region_evidence = regions_of(b, parts)
    # drugs (names, for `requires`)
    drug_names = {i for m in drugs if not (m.negated or m.uncertain or m.family) for i in m.value.ingredients}
    clauses = imaging_clauses(d, [m for m in imaging])
    assert_findings(b, findings, clauses, set(region_evidence), drug_names)
    present, absent = settle_findings(b)
    for code in present:
        for region in index.files.body.regions_of_codes.get(code, ()):
            if region not in region_evidence:
                region_evidence[region] = [replace(e, how=f"{e.how}: names the {region}") for e in b.present[code]]

    # the problem's sentences: a moving body part or a finding of movement
    problem_segments = {d.segment_of[m.start] for m in parts if m.extra.get("move") and not m.negated and not m.family}
    movement_codes = {c for c in present if c.startswith(MOVEMENT_PREFIXES) or c in movement_terms(index)}
    for m in findings:
        if m.value in movement_codes and not m.negated and not m.family and not m.uncertain:
            problem_segments.add(d.segment_of[m.start])
    past = [(m.start, m.end) for m in findings if str(m.value).startswith("CX:hx-")]
    days = onset_of(b, age, problem_segments, family_spans, [(m.start, m.end) for m in drugs], past)
    course_and_severity(b, problem_segments, family_spans, neg, days)

    # medications and treatments tried
    medications_of(b, drugs, medwords, treatments)
    # history, imaging, genetics, labs, vitals, family history
    history = [c for c in present if c.startswith("CX:hx-")]
    imaging_fact(b, imaging, clauses)
    gene_tests(b, everything)
    labs_and_vitals(b)
    family_history(b, relatives, everything)
    return assemble(b, present, absent, history, region_evidence, source)
