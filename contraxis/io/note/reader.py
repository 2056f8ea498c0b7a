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

import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import Any

from ...errors import CaseError, Problem
from ...reading import NotRead, Reading, excerpt
from .data import Rule
from .index import NoteIndex, default_note_index
from .pipeline import Cues, Pipeline, load_pipeline
from .text import Lexicon, phrase_key, split_words, word_key
from .timing import DAYS, Found, ages, durations, number, onset_ages

__all__ = ["MAX_NOTE_CHARS", "Evidence", "Fact", "NoteReading", "Unused", "read_note"]

MAX_NOTE_CHARS = 100_000
"""The longest note read (characters): a long clinic letter is a few thousand."""

EMPTY_MESSAGE = (
    "Nothing clinical was recognised in this text (no finding, body region, age, drug, result or history): "
    "the case is empty. Paste the clinical note itself, or fill in the form."
)

_MOVEMENT_PREFIXES = ("CX:sustained", "CX:brief", "CX:twisting", "CX:abnormal-posture", "CX:repetitive")


# --- what a reading holds --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Evidence:
    """The words a fact came from.

    Parameters
    ----------
    start, end : int
        Character offsets in the note (``text[start:end]`` is the words).
    text : str
        The words, as written.
    how : str
        How they were read: ``HPO label 'Torticollis'``, ``HPO synonym 'Wry neck'``,
        ``phrase rule torticollis.turned``, ``body part 'left hand'``, ``number``...
    cue : str or None
        The negation cue that made the finding absent (``no``, ``without``), if any.
    section : str or None
        The section of the note it was in (``examination``, ``family``...), if the note has
        headers.
    """

    start: int
    end: int
    text: str
    how: str
    cue: str | None = None
    section: str | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"start": self.start, "end": self.end, "text": self.text, "how": self.how}
        if self.cue:
            out["cue"] = self.cue
        if self.section:
            out["section"] = self.section
        return out


@dataclass(frozen=True, slots=True)
class Fact:
    """One fact of the case and the words it came from.

    Parameters
    ----------
    path : str
        Where it is in the case (``findings[2]``, ``regions[0]``, ``age``, ``labs[1]``,
        ``family_history``).
    value : Any
        Its value in the case (a code, a region, a number, a mapping for a drug or a result).
    label : str
        A name for it (the HPO label, ``left arm``, ``58 years``).
    evidence : tuple of Evidence
        Every span of words that says it.
    """

    path: str
    value: Any
    label: str
    evidence: tuple[Evidence, ...]

    def to_json(self) -> dict[str, Any]:
        return {"path": self.path, "value": self.value, "label": self.label,
                "evidence": [e.to_json() for e in self.evidence]}


@dataclass(frozen=True, slots=True)
class Unused:
    """Something recognised in the note and not put in the case, and why.

    Parameters
    ----------
    start, end : int
        Character offsets of the words.
    text : str
        The words.
    what : str
        What they were recognised as (``HP:0100021 Cerebral palsy``, ``drug haloperidol``).
    reason : str
        Why it is not in the case (``uncertain: 'possible'``, ``about a relative``...).
    """

    start: int
    end: int
    text: str
    what: str
    reason: str

    def to_json(self) -> dict[str, Any]:
        return {"start": self.start, "end": self.end, "text": self.text, "what": self.what, "reason": self.reason}


@dataclass(frozen=True)
class NoteReading:
    """A note read into a case.

    Parameters
    ----------
    text : str
        The note as read.
    case : contraxis.case.Case
        The native case (nothing downstream knows it came from a note).
    not_read : tuple of NotRead
        What the case reader changed or could not use (a brand read as its ingredient...).
    facts : tuple of Fact
        The provenance of every fact of the case.
    unused : tuple of Unused
        What was recognised and not used.
    message : str
        ``""``, or a sentence for the reader (an empty case says so).
    sections : tuple of (str, int, int)
        The sections found: kind, start and end offsets.
    """

    text: str
    case: Any
    not_read: tuple[NotRead, ...] = ()
    facts: tuple[Fact, ...] = ()
    unused: tuple[Unused, ...] = ()
    message: str = ""
    sections: tuple[tuple[str, int, int], ...] = ()

    @property
    def is_empty(self) -> bool:
        """Whether nothing was put in the case."""
        return not self.facts

    def to_reading(self) -> Reading:
        """The :class:`~contraxis.reading.Reading` every way in passes to the engine."""
        return Reading(case=self.case, not_read=self.not_read, format="note")

    def case_json(self) -> dict[str, Any]:
        """The case as the case format writes it (fields left unknown are left out)."""
        return self.case.model_dump(mode="json", exclude_none=True, exclude_defaults=True)

    def to_json(self) -> dict[str, Any]:
        """``case``, ``facts``, ``unused``, ``not_read``, ``sections`` and ``message``."""
        return {
            "case": self.case_json(),
            "facts": [f.to_json() for f in self.facts],
            "unused": [u.to_json() for u in self.unused],
            "not_read": [n.to_json() for n in self.not_read],
            "sections": [{"kind": k, "start": s, "end": e} for k, s, e in self.sections],
            "message": self.message,
        }


# --- compiled data -----------------------------------------------------------------------------

Key = tuple[str, ...]


@dataclass(frozen=True, slots=True)
class _Rule:
    rule: Rule
    terms: tuple[Key, ...]
    groups: tuple[tuple[Key, ...], ...]
    unless: tuple[Key, ...]


@dataclass(frozen=True, slots=True)
class _Part:
    key: Key
    region: str
    moves: tuple[Key, ...]
    not_with: frozenset[str]
    after: frozenset[str]


@dataclass(frozen=True, slots=True, eq=False)
class _Compiled:
    rules: tuple[_Rule, ...]
    term_table: Mapping[Key, tuple[int, ...]]
    term_max: int
    parts: tuple[_Part, ...]
    part_table: Mapping[Key, tuple[int, ...]]
    part_max: int
    moves: tuple[Key, ...]
    non_moves: tuple[Key, ...]
    side_words: Mapping[Key, str]
    relatives: frozenset[Key]
    reporters: frozenset[str]
    family_similar: tuple[Key, ...]
    family_none: tuple[Key, ...]
    family_present: tuple[Key, ...]
    sections: tuple[tuple[str, str], ...]
    numbers: Mapping[str, float]
    stages: Mapping[str, float]
    treatment_words: Mapping[Key, str]
    responses: tuple[tuple[Key, str], ...]
    never_treated: tuple[Key, ...]
    medication_none: tuple[Key, ...]
    not_drugs: frozenset[str]
    lab_names: tuple[tuple[str, str], ...]
    treats_as: Mapping[str, str]
    genes: frozenset[str]


_TOKENIZER: list[Any] = []
"""The spaCy tokenizer phrases are cut with, so that a phrase and a note are cut alike
("cannot" -> "can" "not")."""


@lru_cache(maxsize=8192)
def _words(phrase: str) -> tuple[str, ...]:
    if not _TOKENIZER:
        return tuple(split_words(phrase))
    return tuple(t.text for t in _TOKENIZER[0](phrase) if not (t.is_punct or t.is_space))


def _keys(phrases: Iterable[str], lexicon: Lexicon) -> tuple[Key, ...]:
    out = []
    for p in phrases:
        k = phrase_key(_words(p), lexicon)
        if k and k not in out:
            out.append(k)
    return tuple(out)


Phrase = tuple[Key, str]


def _phrases(phrases: Iterable[str], lexicon: Lexicon) -> tuple[Phrase, ...]:
    """Each phrase's key with the phrase (a one-word phrase matches only its written forms)."""
    out: list[Phrase] = []
    for p in phrases:
        k = phrase_key(_words(p), lexicon)
        if k:
            out.append((k, p))
    return tuple(out)


@lru_cache(maxsize=4)
def _compiled(index: NoteIndex) -> _Compiled:
    if not _TOKENIZER:
        _TOKENIZER.append(_pipeline(index).nlp.tokenizer)
        _words.cache_clear()
    lex = index.lexicon
    files = index.files
    rules = []
    term_table: dict[Key, list[int]] = {}
    for rule in files.findings.rules:
        compiled = _Rule(rule, _keys(rule.terms, lex), tuple(_keys(g, lex) for g in rule.all), _keys(rule.unless, lex))
        for key in compiled.terms:
            term_table.setdefault(key, []).append(len(rules))
        rules.append(compiled)
    parts: list[_Part] = []
    part_table: dict[Key, list[int]] = {}
    for p in files.body.parts:
        for key in _keys(p.words, lex):
            part_table.setdefault(key, []).append(len(parts))
            parts.append(_Part(key, p.region, _keys(p.moves, lex), frozenset(k for ks in _keys(p.not_with, lex)
                                                                               for k in ks),
                               frozenset(w.casefold() for w in p.after)))
    sides: dict[Key, str] = {}
    for side in ("left", "right", "both"):
        for key in _keys(getattr(files.body.sides, side), lex):
            sides[key] = side
    family = files.context.family
    treatments: dict[Key, str] = {}
    for treatment, words in files.facts.treatments.words.items():
        for key in _keys(words, lex):
            treatments[key] = treatment
    responses = []
    for level in ("none", "partial", "good"):
        for key in _keys(getattr(files.facts.treatments.responses, level), lex):
            responses.append((key, level))
    responses.sort(key=lambda r: -len(r[0]))
    lab_names = sorted(((n.casefold(), a) for a, names in files.facts.labs.names.items() for n in names),
                       key=lambda x: -len(x[0]))
    return _Compiled(
        rules=tuple(rules),
        term_table={k: tuple(v) for k, v in term_table.items()},
        term_max=max((len(k) for k in term_table), default=1),
        parts=tuple(parts),
        part_table={k: tuple(v) for k, v in part_table.items()},
        part_max=max((len(k) for k in part_table), default=1),
        moves=_keys(files.body.moves, lex),
        non_moves=_keys(files.body.non_moves, lex),
        side_words=sides,
        relatives=frozenset(_keys(family.relatives, lex)),
        reporters=frozenset(w.casefold() for w in family.reporters),
        family_similar=_keys(family.similar, lex),
        family_none=_keys(family.none, lex),
        family_present=_keys(family.present, lex),
        sections=tuple(sorted(((h.casefold(), s.kind) for s in files.context.sections for h in s.headers),
                              key=lambda x: -len(x[0]))),
        numbers={k.casefold(): v for k, v in files.lexicon.numbers.items()},
        stages=dict(files.facts.onset_words.ages),
        treatment_words=treatments,
        responses=tuple(responses),
        never_treated=_keys(files.facts.treatments.never, lex),
        medication_none=_keys(files.facts.medications.none, lex),
        not_drugs=frozenset(n.casefold() for n in files.facts.medications.not_drugs),
        lab_names=tuple(lab_names),
        treats_as=_treats_as(),
        genes=_gene_symbols(),
    )


def _treats_as() -> Mapping[str, str]:
    """The knowledge base's ``treats_as``: drug -> the treatment taking it amounts to."""
    from ...knowledge import load_knowledge_base

    return dict(load_knowledge_base().treats_as)


@lru_cache(maxsize=1)
def _gene_symbols() -> frozenset[str]:
    """Gene symbols of the shipped HPO gene annotations and of the knowledge base."""
    import gzip
    from pathlib import Path

    path = Path(__file__).resolve().parents[2] / "data" / "hpo" / "genes_to_phenotype.txt.gz"
    symbols: set[str] = set()
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        for line in handle:
            fields = line.split("\t", 2)
            if len(fields) > 1 and fields[1] and fields[1] != "gene_symbol":
                symbols.add(fields[1])
    kb = Path(__file__).resolve().parents[2] / "knowledge" / "data" / "genes.yaml"
    symbols.update(re.findall(r"\b[A-Z][A-Z0-9]{1,9}\b", kb.read_text(encoding="utf-8")))
    return frozenset(symbols)


@lru_cache(maxsize=4)
def _pipeline(index: NoteIndex) -> Pipeline:
    return load_pipeline(index)


# --- the document --------------------------------------------------------------------------------

_BREAK = "|"
_LIST_WORDS = frozenset({",", "and", "or", "nor", "the", "his", "her", "their", "its", "a", "an", "both", "all", "any",
                         "four", "either", "each", "also", "still", "now", "is", "are", "was", "were", "be", "been",
                         "of", "in", "at", "on", "to", "with", "other", "no", "any", "-", "/", "(", ")", "'s"})


@dataclass
class _Mention:
    kind: str  # finding | part | drug | treatment | medword | imaging | relative | response
    start: int  # token positions, end exclusive
    end: int
    value: Any
    how: str
    tokens: tuple[int, ...] = ()
    rule: _Rule | None = None
    negated: str | None = None
    uncertain: str | None = None
    family: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


class _Doc:
    """One note as tokens, keys and sentence parts."""

    def __init__(self, text: str, index: NoteIndex, pipeline: Pipeline) -> None:
        self.text = text
        self.index = index
        self.doc = pipeline.doc(text)
        lex = index.lexicon
        self.n = len(self.doc)
        self.lower = [t.lower_ for t in self.doc]
        self.idx = [t.idx for t in self.doc]
        self.ends = [t.idx + len(t.text) for t in self.doc]
        self.keys = [("" if (t.is_punct or t.is_space) else word_key(t.text, lex)) for t in self.doc]
        self.punct = [t.is_punct and t.text not in ("-", "'") for t in self.doc]
        self.segments: list[tuple[int, int]] = [(s.start, s.end) for s in self.doc.sents]
        self.segment_of = [0] * self.n
        for i, (s, e) in enumerate(self.segments):
            for j in range(s, e):
                self.segment_of[j] = i
        # the key stream of each segment: token positions with a key
        self.stream: list[list[int]] = [[j for j in range(s, e) if self.keys[j]] for s, e in self.segments]

    def chars(self, start: int, end: int) -> tuple[int, int]:
        return self.idx[start], self.ends[end - 1]

    def words(self, start: int, end: int) -> str:
        a, b = self.chars(start, end)
        return self.text[a:b]

    def occurrences(self, seg: int, key: Key) -> list[tuple[int, int]]:
        """Where ``key`` occurs in segment ``seg``, as (first, last) positions in its stream."""
        stream = self.stream[seg]
        out = []
        n = len(key)
        for p in range(len(stream) - n + 1):
            if self.keys[stream[p]] != key[0]:
                continue
            if all(self.keys[stream[p + k]] == key[k] for k in range(1, n)) and not any(
                self.punct[t] for t in range(stream[p], stream[p + n - 1])
            ):
                out.append((p, p + n - 1))
        return out


# --- finding words -----------------------------------------------------------------------------


def _form(word: str, lexicon: Lexicon) -> str:
    """A word's written form for a one-word phrase: lower case, American spelling, singular."""
    w = word.casefold().strip("'")
    for pattern, replacement in lexicon.spelling:
        w = pattern.sub(replacement, w)
    w = lexicon.irregular.get(w, w)
    if len(w) > 4 and w.endswith("ies"):
        return w[:-3] + "y"
    if len(w) > 4 and w.endswith(("ches", "shes", "sses", "xes")):
        return w[:-2]
    if len(w) > 3 and w.endswith("s") and not w.endswith(("ss", "us", "is")):
        return w[:-1]
    return w


def _one_word_ok(d: _Doc, token: int, phrase: str) -> bool:
    """A one-word phrase matches only its own written forms ("pain" is not "painful",
    "mouth" is not "mouthing"), not every word of its stem."""
    words = _words(phrase)
    if len(words) != 1:
        return True
    lex = d.index.lexicon
    return _form(d.doc[token].text, lex) == _form(words[0], lex)


def _phrase_mentions(d: _Doc, comp: _Compiled) -> list[_Mention]:
    """HPO words and the terms of the rules, longest first, in each segment."""
    index = d.index
    out: list[_Mention] = []
    for seg, stream in enumerate(d.stream):
        keys = [d.keys[t] for t in stream]
        # a punctuation mark between two words breaks a phrase
        breaks = [any(d.punct[x] for x in range(stream[p], stream[p + 1])) if p + 1 < len(stream) else True
                  for p in range(len(stream))]
        p = 0
        while p < len(keys):
            found = False
            for length in range(min(index.max_words, len(keys) - p), 0, -1):
                if length > 1 and any(breaks[p:p + length - 1]):
                    continue
                hits = index.phrases.get(tuple(keys[p:p + length]))
                if hits and length == 1 and not any(_one_word_ok(d, stream[p], h.text) for h in hits):
                    hits = None
                if hits:
                    start, end = stream[p], stream[p + length - 1] + 1
                    if length == 1:
                        hits = tuple(h for h in hits if _one_word_ok(d, stream[p], h.text))
                    for code in dict.fromkeys(h.code for h in hits):
                        hit = next(h for h in hits if h.code == code)
                        how = {"label": "HPO label", "synonym": "HPO synonym", "layperson": "HPO layperson synonym"}
                        out.append(_Mention("finding", start, end, code, f"{how.get(hit.kind, 'HPO')} '{hit.text}'",
                                            tokens=tuple(range(start, end))))
                    p += length
                    found = True
                    break
            if not found:
                p += 1
        # rule terms (any overlap allowed with HPO words)
        p = 0
        while p < len(keys):
            for length in range(min(comp.term_max, len(keys) - p), 0, -1):
                if length > 1 and any(breaks[p:p + length - 1]):
                    continue
                rule_ids = comp.term_table.get(tuple(keys[p:p + length]))
                if rule_ids and length == 1:
                    rule_ids = tuple(r for r in rule_ids
                                     if any(_one_word_ok(d, stream[p], t) for t in comp.rules[r].rule.terms
                                            if phrase_key(_words(t), index.lexicon) == (keys[p],)))
                if rule_ids:
                    start, end = stream[p], stream[p + length - 1] + 1
                    for r in rule_ids:
                        out.extend(_rule_mentions(d, comp.rules[r], seg, start, end, tuple(range(start, end))))
                    break
            p += 1
    return out


UNLESS_REACH = 3
"""How far (words) around a rule's match its `unless` words are looked for."""


def _rule_mentions(d: _Doc, rule: _Rule, seg: int, start: int, end: int, tokens: tuple[int, ...]) -> list[_Mention]:
    if rule.unless and _near(d, seg, start, end, rule.unless, UNLESS_REACH, tokens):
        return []
    return [_Mention("finding", start, end, code, f"phrase rule {rule.rule.id}", tokens=tokens, rule=rule)
            for code in rule.rule.codes]


def _near(d: _Doc, seg: int, start: int, end: int, keys: Sequence[Key], window: int,
          own: Sequence[int] = ()) -> bool:
    """Whether one of ``keys`` occurs within ``window`` words of tokens start..end in the
    segment, not on the match's own words."""
    stream = d.stream[seg]
    first = next((p for p, t in enumerate(stream) if t >= start), len(stream))
    last = max((p for p, t in enumerate(stream) if t < end), default=first)
    lo, hi = max(0, first - window), min(len(stream), last + window + 1)
    for key in keys:
        for a, b in d.occurrences(seg, key):
            if lo <= a < hi and not all(stream[q] in own for q in range(a, b + 1)):
                return True
    return False


def _cooccurrence_mentions(d: _Doc, comp: _Compiled) -> list[_Mention]:
    """The `all` rules: one word of each group within the rule's window."""
    out: list[_Mention] = []
    for seg in range(len(d.segments)):
        present = {d.keys[t] for t in d.stream[seg]}
        for rule in comp.rules:
            if not rule.groups:
                continue
            if not all(any(k[0] in present for k in group) for group in rule.groups):
                continue
            occ = []
            for gi, group in enumerate(rule.groups):
                spots = sorted({o for k in group if k[0] in present for o in d.occurrences(seg, k)
                                if not (rule.rule.exact and len(k) == 1 and not any(
                                    _one_word_ok(d, d.stream[seg][o[0]], w) for w in rule.rule.all[gi]
                                    if len(_words(w)) == 1))})
                if not spots:
                    break
                occ.append(spots)
            else:
                best = _best_window(occ, rule.rule.window, rule.rule.ordered)
                if best is None:
                    continue
                stream = d.stream[seg]
                chosen = [stream[q] for a, b in best for q in range(a, b + 1)]
                start, end = min(chosen), max(chosen) + 1
                out.extend(_rule_mentions(d, rule, seg, start, end, tuple(sorted(chosen))))
    return out


def _best_window(occ: list[list[tuple[int, int]]], window: int, ordered: bool) -> list[tuple[int, int]] | None:
    """One occurrence per group, the tightest within ``window`` (positions in the stream)."""
    best: tuple[int, list[tuple[int, int]]] | None = None

    def walk(i: int, chosen: list[tuple[int, int]]) -> None:
        nonlocal best
        if chosen:
            lo = min(a for a, _ in chosen)
            hi = max(b for _, b in chosen)
            if hi - lo > window or (best is not None and hi - lo >= best[0]):
                return
        if i == len(occ):
            if len({a for a, _ in chosen}) < len(chosen):
                return  # one word may not fill two groups
            span = max(b for _, b in chosen) - min(a for a, _ in chosen)
            if best is None or span < best[0]:
                best = (span, list(chosen))
            return
        for spot in occ[i][:12]:
            if ordered and chosen and spot[0] <= chosen[-1][1]:
                continue
            walk(i + 1, [*chosen, spot])

    walk(0, [])
    return best[1] if best else None


# --- body regions ------------------------------------------------------------------------------


def _part_mentions(d: _Doc, comp: _Compiled) -> list[_Mention]:
    """Body parts, longest first, each with its side words (``left``, ``both``) if any."""
    out: list[_Mention] = []
    for seg, stream in enumerate(d.stream):
        keys = [d.keys[t] for t in stream]
        p = 0
        while p < len(keys):
            hit = None
            for length in range(min(comp.part_max, len(keys) - p), 0, -1):
                ids = comp.part_table.get(tuple(keys[p:p + length]))
                if ids:
                    hit = (length, ids)
                    break
            if hit is None:
                p += 1
                continue
            length, ids = hit
            start, end = stream[p], stream[p + length - 1] + 1
            part = comp.parts[ids[0]]
            previous = d.lower[start - 1] if start > 0 else ""
            if part.after and previous not in part.after:
                p += length
                continue
            out.append(_Mention("part", start, end, part, f"body part '{d.words(start, end)}'",
                                tokens=tuple(range(start, end)), extra={"seg": seg, "plural": _plural(d, start, end)}))
            p += length
    return out


def _plural(d: _Doc, start: int, end: int) -> bool:
    word = d.lower[end - 1]
    return word in d.index.lexicon.irregular or (word.endswith("s") and not word.endswith("ss"))


def _side_before(d: _Doc, comp: _Compiled, start: int) -> tuple[str, int] | None:
    """A side word just before a part (``left``, ``both``, ``all four``), skipping small words."""
    skip = {"the", "his", "her", "their", "lower", "upper", "index", "big", "outer", "inner", "little", "ring",
            "middle", "of", "a", "one", "side", "-", "sided"}
    j = start - 1
    steps = 0
    while j >= 0 and steps < 4:
        for length in (2, 1):
            if j - length + 1 < 0:
                continue
            key = tuple(k for k in d.keys[j - length + 1:j + 1] if k)
            if key and key in comp.side_words:
                return comp.side_words[key], j - length + 1
        if d.lower[j] not in skip and not d.lower[j].isdigit():
            return None
        j -= 1
        steps += 1
    return None


def _side_after(d: _Doc, start: int) -> str | None:
    """``one calf or the other``: both sides."""
    tail = " ".join(d.lower[start:start + 5])
    return "both" if re.match(r"^\w+ or (?:the )?other\b", tail) else None


def _moving_parts(d: _Doc, comp: _Compiled, parts: list[_Mention]) -> None:
    """Mark parts with a word of movement in their clause, or in a list with one that has."""
    window = 6
    move_spots: dict[int, list[tuple[int, int, Key]]] = {}
    for seg in range(len(d.segments)):
        spots = []
        for key in comp.moves:
            for a, b in d.occurrences(seg, key):
                spots.append((a, b, key))
        move_spots[seg] = spots
    for m in parts:
        seg = m.extra["seg"]
        stream = d.stream[seg]
        pos = [p for p, t in enumerate(stream) if m.start <= t < m.end]
        if not pos:
            continue
        lo, hi = pos[0], pos[-1]
        blocked = any(lo - 2 <= a <= hi + 2 for key in comp.non_moves for a, _b in d.occurrences(seg, key))
        if blocked:
            m.extra["move"] = None
            m.extra["blocked"] = True
            continue
        own: list[tuple[int, int, Key]] = []
        for key in m.value.moves:
            own.extend((a, b, key) for a, b in d.occurrences(seg, key))
        moving = None
        for a, b, key in [*own, *move_spots[seg]]:
            if set(key) & m.value.not_with:
                continue
            if a > hi + window or b < lo - window:
                continue
            if lo <= a <= hi and b <= hi:
                continue  # the part's own word ("jaw-opening") is not its movement
            moving = (stream[a], stream[b] + 1)
            break
        m.extra["move"] = moving
    # lists of parts share a movement
    ordered = sorted(parts, key=lambda x: x.start)
    for _ in range(2):
        for a, b in zip(ordered, ordered[1:], strict=False):
            if a.extra["seg"] != b.extra["seg"]:
                continue
            between = [d.lower[t] for t in range(a.end, b.start)]
            if a.extra.get("blocked") or b.extra.get("blocked"):
                continue
            if all(w in _LIST_WORDS or w in ("left", "right", "lower", "upper", "index", "big") for w in between):
                if a.extra.get("move") and not b.extra.get("move"):
                    b.extra["move"] = a.extra["move"]
                elif b.extra.get("move") and not a.extra.get("move"):
                    a.extra["move"] = b.extra["move"]


# --- context: negation, uncertainty, family ------------------------------------------------------


def _scope_ok(d: _Doc, lo: int, hi: int, spans: Sequence[_Mention], cue_span: tuple[int, int], others_allowed: int) -> bool:
    """Whether a cue reaches across tokens lo..hi: only list words, other findings or parts,
    and at most ``others_allowed`` other words, stand between."""
    covered = set()
    for m in spans:
        if m.start <= cue_span[0] < m.end or m.start < cue_span[1] <= m.end:
            continue  # a mention that holds the cue does not carry it
        covered.update(range(m.start, m.end))
    others = 0
    for t in range(lo, hi):
        if t in covered or d.lower[t] in _LIST_WORDS or not d.keys[t]:
            continue
        others += 1
        if others > others_allowed:
            return False
    return True


def _boundaries(d: _Doc, cues: Cues) -> list[tuple[int, int]]:
    starts = sorted({s for s, _e in d.segments} | set(cues.termination) | {d.n})
    return [(a, b) for a, b in zip(starts, starts[1:], strict=False) if a < b]


_SOFT_CUES = frozenset({"normal", "normally", "full", "free", "unaffected", "uninvolved", "involved", "spared",
                        "rest", "affected", "absent", "negative", "flexor", "intact"})
"""Cue words that say a part or a sign is normal: they do not negate a drug, a treatment,
a test or the word "medication"."""


def _apply_cues(d: _Doc, cues: Cues, mentions: list[_Mention], attr: str) -> None:
    bounds = _boundaries(d, cues)

    def bound_of(t: int) -> tuple[int, int]:
        for a, b in bounds:
            if a <= t < b:
                return a, b
        return 0, d.n

    for m in mentions:
        if m.rule is not None and (m.rule.rule.context == "ignore" or m.rule.rule.polarity == "absent"):
            continue
        a, b = bound_of(m.start)
        hit = None
        hard_only = m.kind in ("drug", "treatment", "medication", "imaging", "relative")

        def usable(text: str) -> bool:
            return not (hard_only and set(text.casefold().split()) & _SOFT_CUES)

        # a cue inside a rule's match, not one of its own words
        for s, e, text in cues.preceding:
            if not usable(text):
                continue
            if m.start <= s < m.end and not any(t in m.tokens for t in range(s, e)):
                hit = text
                break
        if hit is None:
            for s, e, text in reversed(cues.preceding):
                if not (usable(text) and a <= s and e <= m.start):
                    continue
                if hard_only:
                    findings = [x for x in mentions if x.kind in ("finding", "part") and e <= x.start and x.end <= m.start]
                    if findings or not _scope_ok(d, e, m.start, mentions, (s, e), 6):
                        continue
                elif not _scope_ok(d, e, m.start, mentions, (s, e), 2):
                    continue
                hit = text
                break
        if hit is None:
            for s, e, text in cues.following:
                if usable(text) and m.end <= s < b and _scope_ok(d, m.end, s, mentions, (s, e), 0):
                    hit = text
                    break
        if hit is not None:
            setattr(m, attr, hit)


_CONDITION_VERBS = frozenset({"has", "had", "have", "developed", "was", "is", "were", "are", "suffers", "suffered",
                              "carries", "carry", "died", "'s", "with", "also"})


def _family(d: _Doc, comp: _Compiled, mentions: list[_Mention], sections: list[tuple[str, int, int]]) -> list[_Mention]:
    """Relatives as the subject of a clause: their clause is family history."""
    relatives = []
    for seg in range(len(d.segments)):
        for key in comp.relatives:
            for a, b in d.occurrences(seg, key):
                stream = d.stream[seg]
                start, end = stream[a], stream[b] + 1
                nxt = [d.lower[t] for t in range(end, min(d.n, end + 4)) if d.lower[t].isalpha() or d.lower[t] == "'s"]
                if nxt and nxt[0] in comp.reporters or (len(nxt) > 1 and nxt[0] in ("also",) and nxt[1] in comp.reporters):
                    continue  # "her mother says": a witness
                if not set(nxt) & _CONDITION_VERBS:
                    continue  # not the subject of a clause about the relative's health
                j = start - 1
                while j >= 0 and d.lower[j] in ("his", "her", "their", "the", "a", "an", "'s") or (
                        j >= 0 and d.lower[j][:1].isdigit()) or (j >= 0 and d.lower[j] in ("-", "year", "old")):
                    j -= 1
                if j >= 0 and d.lower[j] in ("by", "to", "with", "from", "for", "calls", "called"):
                    continue  # "brought by his parents"
                relatives.append(_Mention("relative", start, end, d.words(start, end), "relative",
                                          tokens=tuple(range(start, end))))
    relatives = _dedupe(relatives)
    for r in relatives:
        seg = d.segment_of[r.start]
        s_end = d.segments[seg][1]
        stop = s_end
        for t in range(r.end, s_end - 1):  # ", and he ..." starts the patient's clause again
            if d.lower[t] in (",",) and d.lower[t + 1] in ("and", "but") or d.lower[t] in ("but", "while", "whereas"):
                stop = t
                break
        seg_start = d.segments[seg][0]
        lo = r.start
        # "no relative", "nobody in the family": the relative is negated
        for m in mentions:
            if m.start >= lo and m.end <= stop and m.kind != "relative":
                m.family = r.value
        r.extra["scope"] = (seg_start, stop)
    for kind, a, b in sections:
        if kind != "family":
            continue
        for m in mentions:
            if a <= d.idx[m.start] < b:
                m.family = m.family or "family history section"
    return relatives


def _kb_first(mentions: list[_Mention], b: _Builder) -> list[_Mention]:
    """Where the knowledge base's own phrase reads some words, HPO's words for them are set
    aside ("brisk reflexes" is read as hyperreflexia, not as the narrower label)."""
    kb_tokens = {t for m in mentions if m.rule is not None for t in m.tokens}
    out = []
    for m in mentions:
        if m.rule is None and kb_tokens & set(m.tokens):
            b.skip(m, f"{m.value} {b.d.index.label(m.value)}", "the knowledge base's own phrase reads these words")
            continue
        out.append(m)
    return out


_INDICATION_STOP = frozenset({"in", "and", "but", "since", "which", "who", "was", "were", "has", "had", "have", "is",
                              "are", "when", "for", "at", "on", "by", "after", "before", "until", "while", "then"})


def _indications(d: _Doc, findings: list[_Mention], anchors: Sequence[_Mention]) -> None:
    """What a drug or a procedure was given for ("citalopram for depression", "a thyroidectomy
    for a goitre") is its reason, not a finding of the movement: set aside (history codes stay)."""
    for a in anchors:
        seg_end = d.segments[d.segment_of[a.start]][1]
        j = a.end
        while j < min(seg_end, a.end + 6) and d.lower[j] != "for":
            if d.punct[j]:
                break
            j += 1
        if j >= seg_end or d.lower[j] != "for":
            continue
        k = j + 1
        while k < seg_end and not d.punct[k] and d.lower[k] not in _INDICATION_STOP and k - j <= 8:
            k += 1
        for m in findings:
            if j < m.start < k and not str(m.value).startswith("CX:hx-"):
                m.extra["indication"] = d.words(j, k)


def _historical(d: _Doc, comp: _Compiled, findings: list[_Mention]) -> None:
    """ConText's historical cues ("recovery from", "previous"): a past illness, not a finding now."""
    cues = ("recovery from", "recovering from", "recovered from", "previous", "previously", "prior", "in the past",
            "resolved", "from which he recovered", "from which she recovered")
    text = d.text.casefold()
    for m in findings:
        if str(m.value).startswith("CX:hx-"):
            continue
        a, _z = d.chars(m.start, m.end)
        before = text[max(0, a - 25):a]
        if any(before.rstrip().endswith(c) for c in cues):
            m.extra["historical"] = before.strip()[-25:]


def _dedupe(mentions: list[_Mention]) -> list[_Mention]:
    out: list[_Mention] = []
    for m in sorted(mentions, key=lambda x: (x.start, -(x.end - x.start))):
        if any(o.start <= m.start and m.end <= o.end for o in out):
            continue
        out.append(m)
    return out


# --- sections ----------------------------------------------------------------------------------


def _sections(text: str, comp: _Compiled) -> list[tuple[str, int, int]]:
    heads = []
    for m in re.finditer(r"(?m)^[ \t]*([A-Za-z][A-Za-z /']{0,40}?)[ \t]*(?::|$)", text):
        head = m.group(1).strip().casefold()
        for header, kind in comp.sections:
            if head == header:
                heads.append((kind, m.start(), m.end()))
                break
    out = []
    for i, (kind, start, _end) in enumerate(heads):
        stop = heads[i + 1][1] if i + 1 < len(heads) else len(text)
        out.append((kind, start, stop))
    return out


def _section_at(sections: Sequence[tuple[str, int, int]], char: int) -> str | None:
    for kind, a, b in sections:
        if a <= char < b:
            return kind
    return None


# --- drugs and treatments --------------------------------------------------------------------------


def _drug_mentions(d: _Doc, comp: _Compiled) -> list[_Mention]:
    """Drug names (one to four words) the drug resolver reads as a drug."""
    from ...terminology.drugs import resolve_drug

    names = d.index.drug_names
    out: list[_Mention] = []
    i = 0
    while i < d.n:
        if not d.doc[i].is_alpha:
            i += 1
            continue
        hit = None
        for length in range(min(4, d.n - i), 0, -1):
            j = i + length
            if not d.doc[j - 1].is_alpha:
                continue
            text = d.text[d.idx[i]:d.ends[j - 1]].casefold()
            if text in names and text not in comp.not_drugs:
                hit = (j, text)
                break
        if hit is None:
            i += 1
            continue
        j, text = hit
        reading = resolve_drug(d.text[d.idx[i]:d.ends[j - 1]])
        if reading.how in ("generic", "brand", "salt", "combination") and reading.ingredients and not (
            set(reading.ingredients) & comp.not_drugs
        ):
            how = {"generic": "drug name", "brand": "brand name", "salt": "salt name", "combination": "combination"}
            out.append(_Mention("drug", i, j, reading, f"{how[reading.how]} '{d.words(i, j)}'",
                                tokens=tuple(range(i, j))))
        i = j
    return out


def _treatment_mentions(d: _Doc, comp: _Compiled) -> list[_Mention]:
    out = []
    for seg in range(len(d.segments)):
        stream = d.stream[seg]
        for key, treatment in comp.treatment_words.items():
            for a, b in d.occurrences(seg, key):
                out.append(_Mention("treatment", stream[a], stream[b] + 1, treatment,
                                    f"treatment words '{d.words(stream[a], stream[b] + 1)}'",
                                    tokens=tuple(range(stream[a], stream[b] + 1))))
    return _dedupe(out)


def _responses(d: _Doc, comp: _Compiled, seg: int) -> list[tuple[int, int, str, str]]:
    """Response words in a segment, longest first and not overlapping: (start, end, level, words)."""
    stream = d.stream[seg]
    found: list[tuple[int, int, str, str]] = []
    taken: set[int] = set()
    for key, level in comp.responses:
        for a, b in d.occurrences(seg, key):
            span = set(range(stream[a], stream[b] + 1))
            if span & taken:
                continue
            taken |= span
            found.append((stream[a], stream[b] + 1, level, d.words(stream[a], stream[b] + 1)))
    return sorted(found)


def _response_for(d: _Doc, comp: _Compiled, m: _Mention) -> tuple[str, str] | None:
    seg = d.segment_of[m.start]
    found = _responses(d, comp, seg)
    after = [r for r in found if r[0] >= m.end]
    before = [r for r in found if r[1] <= m.start]
    if after:
        return after[0][2], after[0][3]
    if before:
        return before[-1][2], before[-1][3]
    return None


_DRUG_TIME = 60
"""How far (characters) around a drug's name its start is looked for."""


def _drug_days(d: _Doc, m: _Mention, timings: Sequence[Found], facts_words: Any) -> dict[str, Any]:
    """Days since the start (and the dose increase) of a drug, from the words of its sentence."""
    seg = d.segment_of[m.start]
    s_start, s_end = d.chars(*d.segments[seg])
    a, b = d.chars(m.start, m.end)
    sentence = d.text[s_start:s_end].casefold()
    out: dict[str, Any] = {}
    near = [t for t in timings if s_start <= t.start < s_end]
    raise_words = ("raised", "increased", "doubled", "double dose", "double doses", "higher dose")
    for t in near:
        before = d.text[max(s_start, t.start - 40):t.start].casefold()
        after = d.text[t.end:min(s_end, t.end + 30)].casefold()
        context = before + " " + after
        if any(w in context for w in raise_words) and "dose" in context:
            if t.kind in ("ago",) or "for" in d.text[t.start:t.end].casefold():
                out.setdefault("days_since_dose_increase", int(round(t.value)))
            continue
        if t.kind in ("ago", "duration", "later"):
            if t.kind == "later":
                continue
            if abs(t.start - b) > _DRUG_TIME and abs(t.end - a) > _DRUG_TIME:
                continue
            # a duration counts when the drug is taken for it; "ago" when it was started then
            if t.kind == "duration" and not re.search(r"\b(?:taken|taking|takes|been on|on)\b", sentence):
                continue
            out.setdefault("days_since_start", int(round(t.value)))
    if "days_since_start" not in out and re.search(r"\b(?:given|gave|administered|injected)\b", sentence):
        if re.search(r"\b(?:this morning|today|emergency department|\bed\b|hours? later|tonight)\b", sentence):
            out["days_since_start"] = 0
    return out


# --- numbers: laboratory results and vital signs ------------------------------------------------

_VALUE = re.compile(r"(?<![\w.])(?P<cmp>[<>]=?\s*)?(?P<n>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)(?P<sp>\s*)"
                    r"(?P<u>[a-zA-Zµμ%][a-zA-Zµμ%0-9()./ ]{0,14})?")


def _unit_of(raw: str | None) -> tuple[str | None, str]:
    """The longest start of ``raw`` that is a unit: (UCUM code, the unit as written)."""
    from ...terminology.units import normalise_unit

    if not raw:
        return None, ""
    text = raw.rstrip()
    for cut in range(len(text), 0, -1):
        candidate = text[:cut].rstrip(" .,;")
        if not candidate or (cut < len(text) and text[cut].isalnum() and candidate[-1].isalnum()):
            continue
        if candidate[-1] in "/(":
            continue
        code = normalise_unit(candidate)
        if code is not None:
            return code, candidate
    return None, ""


def _loinc_for(analyte: str, ucum: str | None) -> str:
    """The analyte's LOINC code whose property fits the unit (serum or plasma first)."""
    from ...terminology.labs import analytes
    from ...terminology.units import unit_info

    info = analytes()[analyte]
    unit = unit_info(ucum) if ucum else None
    want = {"MCnc": "[Mass/volume]", "SCnc": "[Moles/volume]", "MRat": "[Mass/time]", "SRat": "[Moles/time]",
            "CCnc": "[Enzymatic activity/volume]", "ACnc": "[Enzymatic activity/volume]"}.get(
        unit.property if unit else "", "")
    codes = list(info.loinc_codes)
    ranked = sorted(codes, key=lambda c: (bool(want) and want not in info.loinc_names.get(c, ""),
                                          "Blood" in info.loinc_names.get(c, ""), codes.index(c)))
    return ranked[0]


def _labs(d: _Doc, comp: _Compiled, files: Any) -> list[dict[str, Any]]:
    """Laboratory results: a test's name, then its value and unit, in the same sentence part;
    a test named with "normal" and no value is read as normal."""
    out: list[dict[str, Any]] = []
    bare = files.facts.labs.bare_units
    for s, e in d.segments:
        a, b = d.chars(s, e)
        sentence = d.text[a:b]
        low = sentence.casefold()
        names: list[tuple[int, int, str]] = []
        for name, analyte in comp.lab_names:
            for m in re.finditer(rf"(?<![\w-]){re.escape(name)}(?![\w])", low):
                if any(x <= m.start() < y or m.start() <= x < m.end() for x, y, _ in names):
                    continue
                names.append((m.start(), m.end(), analyte))
        if not names:
            continue
        names.sort()
        used: set[int] = set()
        for m in _VALUE.finditer(sentence):
            before = [i for i, (_x, y, _a) in enumerate(names) if y <= m.start() and i not in used]
            if not before:
                continue
            i = before[-1]
            x, y, analyte = names[i]
            gap = sentence[y:m.start()]
            if len(gap) > 40 or re.search(r"\d", gap):
                continue
            ucum, written = _unit_of(m.group("u"))
            if analyte in bare:
                word = (m.group("u") or "").split(" ")[0].rstrip(".,;")
                if word.casefold() in bare[analyte] and (ucum is None or written.casefold() == word.casefold()):
                    ucum, written = bare[analyte][word.casefold()], word
            if ucum is None:
                continue
            value = number(m.group("n"), {})
            if value is None:
                continue
            used.add(i)
            end = m.start("u") + len(written)
            row: dict[str, Any] = {"loinc": _loinc_for(analyte, ucum), "name": sentence[x:y].strip(),
                                   "value": value, "unit": ucum if analyte in bare and ucum in bare[analyte].values()
                                   else written}
            comparator = (m.group("cmp") or "").strip()
            if comparator:
                row["comparator"] = comparator
            out.append({"row": row, "analyte": analyte, "span": (a + x, a + end)})
        for i, (x, y, analyte) in enumerate(names):
            if i in used or any(r["analyte"] == analyte for r in out):
                continue
            tail = low[y:]
            stop = re.search(r"[.;]", tail)
            window = tail[: stop.start() if stop else len(tail)]
            found = re.match(r"^[\s,a-z]{0,60}?\b(?:normal|within normal limits|unremarkable)\b", window)
            if found and not re.search(r"\d", window[: found.end()]):
                row = {"loinc": _loinc_for(analyte, None), "name": sentence[x:y].strip(), "interpretation": "normal"}
                out.append({"row": row, "analyte": analyte, "span": (a + x, a + y + found.end())})
    return out


def _vitals(d: _Doc, files: Any) -> list[tuple[str, bool, tuple[int, int], str]]:
    """Fever and tachycardia from a temperature or a pulse: (code, present, span, how)."""
    vitals = files.facts.vitals
    out = []
    temp = re.compile(r"\b(?:temperature|temp|febrile at|fever of|pyrexial at|t)\s*(?:of|is|was|at|:|=)?\s*"
                      r"(?P<n>\d{2,3}(?:\.\d)?)\s*(?:°\s*)?(?P<u>c|f|degrees)?\b", re.IGNORECASE)
    for m in temp.finditer(d.text):
        value = float(m.group("n"))
        unit = (m.group("u") or "").casefold()
        if unit == "f" or value > 50:
            value = (value - 32) * 5 / 9
        if not 30 <= value <= 44:
            continue
        present = value >= vitals.fever
        if present or value < vitals.afebrile:
            out.append(("HP:0001945", present, m.span(), f"temperature {m.group('n')}"))
    pulse = re.compile(r"\b(?:pulse|heart rate|hr|pulse rate)\s*(?:of|is|was|at|:|=)?\s*(?P<n>\d{2,3})\b",
                       re.IGNORECASE)
    for m in pulse.finditer(d.text):
        value = float(m.group("n"))
        if value > vitals.tachycardia:
            out.append(("HP:0001649", True, m.span(), f"pulse {m.group('n')}"))
    return out


# --- putting the case together ----------------------------------------------------------------------


class _Builder:
    """Collects the case's fields with their evidence, and what was not used."""

    def __init__(self, d: _Doc, comp: _Compiled, sections: list[tuple[str, int, int]]) -> None:
        self.d = d
        self.comp = comp
        self.sections = sections
        self.unused: list[Unused] = []
        self.fields: dict[str, Any] = {}
        self.evidence: dict[str, list[Evidence]] = {}
        self.present: dict[str, list[Evidence]] = {}
        self.absent: dict[str, list[Evidence]] = {}
        self.present_rules: dict[str, set[str]] = {}
        self.imaging_findings: dict[str, list[Evidence]] = {}

    # evidence helpers
    def ev(self, m: _Mention, how: str | None = None, cue: str | None = None) -> Evidence:
        a, b = self.d.chars(m.start, m.end)
        return Evidence(a, b, self.d.text[a:b], how or m.how, cue, _section_at(self.sections, a))

    def ev_chars(self, a: int, b: int, how: str, cue: str | None = None) -> Evidence:
        return Evidence(a, b, self.d.text[a:b], how, cue, _section_at(self.sections, a))

    def skip(self, m: _Mention, what: str, reason: str) -> None:
        a, b = self.d.chars(m.start, m.end)
        self.unused.append(Unused(a, b, self.d.text[a:b], what, reason))

    def set(self, name: str, value: Any, evidence: Evidence) -> None:
        if name not in self.fields:
            self.fields[name] = value
            self.evidence[name] = [evidence]

    def why_not(self, m: _Mention) -> str | None:
        if m.extra.get("indication"):
            return f"the reason a drug or procedure was given ('{m.extra['indication']}'), not a finding of the movement"
        if m.extra.get("historical"):
            return f"past, not current ('{m.extra['historical']}')"
        if m.family:
            return f"about a relative ('{m.family}')"
        if m.uncertain:
            return f"uncertain ('{m.uncertain}')"
        section = _section_at(self.sections, self.d.idx[m.start])
        if section == "plan":
            return "in the plan: to be done, not done"
        return None


def _label(index: NoteIndex, code: str) -> str:
    return index.label(code)


def _imaging_clauses(d: _Doc, imaging: list[_Mention]) -> list[tuple[int, int, _Mention]]:
    """The clause of each imaging word: back to the previous comma or "and", on to the end of
    its sentence part."""
    out = []
    for m in imaging:
        seg = d.segment_of[m.start]
        s, e = d.segments[seg]
        lo = m.start
        while lo > s and d.lower[lo - 1] not in (",", "and", ";", "but"):
            lo -= 1
        out.append((lo, e, m))
    return out


def _in_clause(m: _Mention, clauses: Sequence[tuple[int, int, _Mention]]) -> tuple[int, int, _Mention] | None:
    for lo, hi, w in clauses:
        if lo <= m.start < hi:
            return lo, hi, w
    return None


def _findings(b: _Builder, mentions: list[_Mention], clauses: Sequence[tuple[int, int, _Mention]],
              regions: set[str], drugs: set[str]) -> None:
    index = b.d.index
    waiting: list[_Mention] = []
    for m in mentions:
        rule = m.rule.rule if m.rule else None
        if rule is not None and (rule.requires or rule.unless_codes):
            waiting.append(m)
            continue
        _finding(b, m, clauses)
    codes = set(b.present)
    for m in waiting:
        rule = m.rule.rule
        need = rule.requires
        if need is not None:
            ok = True
            if need.regions is not None and len(regions) < need.regions:
                ok = False
            if need.regions_any and not set(need.regions_any) & regions:
                ok = False
            if need.codes and not set(need.codes) & codes:
                ok = False
            if need.drugs and not set(need.drugs) & drugs:
                ok = False
            if not ok:
                b.skip(m, f"{m.value} {_label(index, m.value)}", f"rule {rule.id} needs {need.model_dump(exclude_defaults=True)}")
                continue
        if rule.unless_codes and set(rule.unless_codes) & codes:
            b.skip(m, f"{m.value} {_label(index, m.value)}",
                   f"a more specific term is read ({', '.join(sorted(set(rule.unless_codes) & codes))})")
            continue
        _finding(b, m, clauses)


def _finding(b: _Builder, m: _Mention, clauses: Sequence[tuple[int, int, _Mention]]) -> None:
    index = b.d.index
    code = m.value
    rule = m.rule.rule if m.rule else None
    what = f"{code} {_label(index, code)}"
    clause = _in_clause(m, clauses)
    if rule is not None and rule.scope == "imaging":
        if clause is None:
            return
        if not m.negated and not m.uncertain and not m.family:
            b.imaging_findings.setdefault(code, []).append(b.ev(m))
        return
    if clause is not None and code not in ("HP:0001945",):
        b.skip(m, what, "read in a sentence about brain imaging")
        return
    reason = b.why_not(m)
    if reason:
        b.skip(m, what, reason)
        return
    polarity = rule.polarity if rule else "present"
    only = rule.only if rule else "any"
    if only == "negated" and not m.negated:
        b.skip(m, what, f"read only when negated (rule {rule.id})" if rule else "read only when negated")
        return
    if polarity == "absent":
        if m.negated:
            b.skip(m, what, f"a negated absence ('{m.negated}'): not read")
            return
        b.absent.setdefault(code, []).append(b.ev(m))
        return
    if m.negated:
        if code.startswith("CX:hx-"):
            b.skip(m, what, f"negated ('{m.negated}'): the history is not had")
            return
        b.absent.setdefault(code, []).append(b.ev(m, cue=m.negated))
        return
    b.present.setdefault(code, []).append(b.ev(m))


def _settle_findings(b: _Builder) -> tuple[list[str], list[str]]:
    """Present beats absent; an ancestor read from the same words as a more specific term is
    dropped; an absent term above a present one is dropped."""
    index = b.d.index
    present = dict(b.present)
    for code in []:  # noqa: B007 - ancestors read from the same words are kept (both are findings)
        anc = index.ancestors(code)
        for other in list(present):
            if other in anc:
                mine = {(e.start, e.end) for e in present[code]}
                theirs = present[other]
                if all(any(e.start < y and x < e.end for x, y in mine) for e in theirs):
                    for e in theirs:
                        b.unused.append(Unused(e.start, e.end, e.text, f"{other} {_label(index, other)}",
                                               f"the more specific {code} {_label(index, code)} is read from these words"))
                    del present[other]
    absent = {}
    for code, evidence in b.absent.items():
        if code in present:
            for e in evidence:
                b.unused.append(Unused(e.start, e.end, e.text, f"{code} {_label(index, code)}",
                                       "also read as present elsewhere in the note: kept as present"))
            continue
        below = [c for c in present if code in index.ancestors(c)]
        if below:
            for e in evidence:
                b.unused.append(Unused(e.start, e.end, e.text, f"{code} {_label(index, code)}",
                                       f"read as absent, but {below[0]} {_label(index, below[0])} below it is present"))
            continue
        absent[code] = evidence
    b.present = present
    b.absent = absent
    return list(present), list(absent)


def _regions(b: _Builder, parts: list[_Mention]) -> dict[str, list[Evidence]]:
    d, comp = b.d, b.comp
    out: dict[str, list[Evidence]] = {}
    last_side: dict[int, tuple[str, int]] = {}  # segment -> (side, token)
    last_side_of: dict[str, str] = {}  # limb kind -> side, through the note
    limb_kinds = {"arm": ("left-arm", "right-arm"), "leg": ("left-leg", "right-leg"), "foot": ("left-foot", "right-foot")}
    for m in sorted(parts, key=lambda x: x.start):
        part: _Part = m.value
        seg = m.extra["seg"]
        side = _side_before(d, comp, m.start)
        side_word = side[0] if side else _side_after(d, m.start)
        if side_word:
            last_side[seg] = (side_word, m.start)
            if part.region in limb_kinds:
                last_side_of[part.region] = side_word
        if not m.extra.get("move"):
            continue
        reason = b.why_not(m)
        if reason or m.negated:
            b.skip(m, f"region {part.region}", reason or f"negated ('{m.negated}')")
            continue
        move = m.extra["move"]
        ev = b.ev_chars(d.chars(m.start, m.end)[0], d.chars(m.start, m.end)[1],
                        f"body part '{d.words(m.start, m.end)}' with '{d.words(*move)}'")
        regions: list[str] = []
        if part.region in limb_kinds:
            if not side_word:
                if m.extra["plural"]:
                    side_word = last_side[seg][0] if seg in last_side else "both"
                elif seg in last_side:
                    side_word = last_side[seg][0]
                else:
                    side_word = last_side_of.get(part.region, "")
            if not side_word:
                b.skip(m, f"region {part.region}", "no side given: choose left or right in the form")
                continue
            left, right = limb_kinds[part.region]
            regions = {"left": [left], "right": [right], "both": [left, right]}[side_word]
        elif part.region == "limb":
            regions = ["left-arm", "right-arm", "left-leg", "right-leg"]
        elif part.region == "upper-limb":
            regions = ["left-arm", "right-arm"]
        elif part.region == "lower-limb":
            regions = ["left-leg", "right-leg"]
        else:
            regions = [part.region]
        for region in regions:
            out.setdefault(region, []).append(ev)
    return out


def _sex(d: _Doc, age: Found | None) -> tuple[str, Evidence] | None:
    nouns = {"man": "male", "woman": "female", "boy": "male", "girl": "female", "male": "male", "female": "female",
             "gentleman": "male", "lady": "female", "widow": "female", "widower": "male", "mother": "female",
             "father": "male", "son": "male", "daughter": "female", "husband": "male", "wife": "female"}
    if age is not None:
        tail = re.match(r"^\W*(?:[a-z\-]+\s+){0,3}?(man|woman|boy|girl|male|female|gentleman|lady|widow|widower)\b",
                        d.text[age.end:age.end + 50], re.IGNORECASE)
        if tail:
            a = age.end + tail.start(1)
            return nouns[tail.group(1).casefold()], Evidence(a, a + len(tail.group(1)), tail.group(1), "patient noun")
    he = [t for t in range(d.n) if d.lower[t] in ("he", "his", "him", "himself")]
    she = [t for t in range(d.n) if d.lower[t] in ("she", "her", "hers", "herself")]
    if len(he) > len(she) and len(he) >= 2:
        return "male", Evidence(d.idx[he[0]], d.ends[he[0]], d.doc[he[0]].text, f"pronouns ({len(he)} male, {len(she)} female)")
    if len(she) > len(he) and len(she) >= 2:
        return "female", Evidence(d.idx[she[0]], d.ends[she[0]], d.doc[she[0]].text,
                                  f"pronouns ({len(she)} female, {len(he)} male)")
    return None


def _phrase_spots(d: _Doc, phrases: Iterable[str], skip: Sequence[tuple[int, int]] = ()) -> list[tuple[int, int, Key]]:
    """Token spans of phrases in the whole note, outside ``skip`` spans (a one-word phrase only
    in its written forms)."""
    out = []
    compiled = _phrases(tuple(phrases), d.index.lexicon)
    for seg in range(len(d.segments)):
        stream = d.stream[seg]
        for key, text in compiled:
            for a, b in d.occurrences(seg, key):
                s, e = stream[a], stream[b] + 1
                if any(x <= s < y for x, y in skip):
                    continue
                if len(key) == 1 and not _one_word_ok(d, s, text):
                    continue
                out.append((s, e, key))
    return sorted(set(out))


def _evidence(b: _Builder, spots: Sequence[tuple[int, int, Key]], how: str) -> list[Evidence]:
    return [b.ev_chars(*b.d.chars(s, e), how) for s, e, _k in spots]


def _course_and_severity(b: _Builder, problem_segments: set[int], family_spans: Sequence[tuple[int, int]],
                         neg_cues: Cues, days: float | None) -> None:
    d, lex, files = b.d, b.d.index.lexicon, b.d.index.files
    course = files.facts.course
    static = _phrase_spots(d, course.static, family_spans)
    taken = [(s, e) for s, e, _k in static]
    progressive = _phrase_spots(d, course.progressive, [*family_spans, *taken])
    episodic = _phrase_spots(d, course.episodic, family_spans)
    acute_words = _phrase_spots(d, course.acute, family_spans)

    acute = days is not None and days <= course.acute_days
    chosen: tuple[str, Evidence] | None = None
    ep = next(iter(_evidence(b, episodic, "course word (episodic)")), None)
    onset = b.evidence.get("onset_age", [None])[0]
    if acute and (ep is None or (days is not None and days <= course.acute_always_days)):
        how = f"began {days:g} days ago or less: acute"
        chosen = ("acute", replace(onset, how=how) if onset is not None else b.ev_chars(0, 0, how))
    if chosen is None:
        st = next(iter(_evidence(b, static, "course word (static)")), None)
        if st is not None:
            chosen = ("static", st)
    if chosen is None:
        pr = next(iter(_evidence(b, progressive, "course word (progressive)")), None)
        if pr is None and "CX:spread-to-adjacent" in b.present:
            pr = replace(b.present["CX:spread-to-adjacent"][0], how="spread to a neighbouring region: progressive")
        if pr is not None:
            chosen = ("progressive", pr)
    if chosen is None and ep is not None:
        chosen = ("episodic", ep)
    if chosen is None and acute_words and acute:
        chosen = ("acute", _evidence(b, acute_words, "course word (acute)")[0])
    if chosen is None and days is not None and days >= course.static_after_days and onset is not None:
        chosen = ("static", replace(onset, how=f"present for {days / 365.25:.1f} years with no word of change: static"))
    if chosen is not None:
        b.set("course", chosen[0], chosen[1])
    sev = files.facts.severity
    spots = {level: _phrase_spots(d, getattr(sev, level), family_spans)
             for level in ("mild", "moderate", "severe", "severe_disability", "disabling", "not_disabling")}
    for level in ("severe_disability", "severe", "moderate", "mild"):
        for s, e, _k in spots[level]:
            if level in ("severe", "moderate", "mild") and d.segment_of[s] not in problem_segments:
                continue
            a, z = d.chars(s, e)
            value = "severe" if level == "severe_disability" else level
            b.set("severity", value, b.ev_chars(a, z, f"severity words ({level.replace('_', ' ')})"))
            break
        if "severity" in b.fields:
            break
    for level, value in (("severe_disability", True), ("disabling", True), ("not_disabling", False)):
        for s, e, _k in spots[level]:
            a, z = d.chars(s, e)
            b.set("disabling", value, b.ev_chars(a, z, f"disability words ({level.replace('_', ' ')})"))
            break
        if "disabling" in b.fields:
            break


_MED_WORDS = ("medication", "medications", "medicine", "medicines", "drug", "drugs", "tablets", "treatment")
_IMAGING_WORDS: tuple[Key, ...] = ()


def _word_mentions(d: _Doc, phrases: Iterable[str], kind: str) -> list[_Mention]:
    out = []
    for s, e, key in _phrase_spots(d, phrases):
        out.append(_Mention(kind, s, e, key, f"{kind} words '{d.words(s, e)}'", tokens=tuple(range(s, e))))
    return _dedupe(out)


def _onset(b: _Builder, age: Found | None, problem_segments: set[int], family_spans: Sequence[tuple[int, int]],
           drug_spans: Sequence[tuple[int, int]], past_spans: Sequence[tuple[int, int]] = ()) -> float | None:
    """Age at onset and how long ago it began (days); the first timing of the problem."""
    d, comp = b.d, b.comp
    explicit = onset_ages(d.text, comp.numbers, comp.stages)
    spans = durations(d.text, comp.numbers) + _week_long(d.text, comp.numbers)
    candidates = sorted([*explicit, *spans], key=lambda f: f.start)

    def seg_of(f: Found) -> int:
        for i, (s, e) in enumerate(d.segments):
            a, z = d.chars(s, e)
            if a <= f.start < z:
                return i
        return -1

    def in_family(f: Found) -> bool:
        return any(d.chars(s, e)[0] <= f.start < d.chars(s, e)[1] for s, e in family_spans if e > s)

    def near_drug(f: Found) -> bool:
        return any(abs(f.start - d.chars(s, e)[1]) < 50 or abs(d.chars(s, e)[0] - f.end) < 50 for s, e in drug_spans)

    def after_past_event(f: Found) -> bool:
        """"a disc herniation five years ago": the time of a past event, not of the problem."""
        return any(0 <= f.start - d.chars(s, e)[1] <= 12 and not re.search(r"[.;:]", d.text[d.chars(s, e)[1]:f.start])
                   for s, e in past_spans)

    candidates = [f for f in candidates if not after_past_event(f)]
    pick = None
    for f in candidates:
        if in_family(f) or f.kind == "later" or f.kind == "of":
            continue
        if seg_of(f) in problem_segments and not (f.kind in ("ago",) and near_drug(f) and False):
            pick = f
            break
    if pick is None:
        for kinds in (("duration", "ago", "onset", "stage", "by"), ("later", "of")):
            for f in candidates:
                if f.kind in kinds and not in_family(f):
                    pick = f
                    break
            if pick is not None:
                break
    if pick is None:
        return None
    words = d.text[pick.start:pick.end]
    if pick.kind in ("onset", "stage", "by"):
        onset = pick.value
        days = (age.value - onset) * 365.25 if age is not None else None
        how = "age at onset stated" if pick.kind != "stage" else "stage of life at onset"
    else:
        days = pick.value if pick.kind != "later" else 0.0
        if age is None:
            return days
        years = days / 365.25
        onset = age.value - years
        onset = float(round(onset)) if age.value >= 3 and abs(onset - round(onset)) > 1e-9 else round(onset, 2)
        how = f"age {age.value:g} less {years:.2g} years" if days >= 1 else f"age {age.value:g}: began {words}"
    if age is not None and onset > age.value:
        return days
    b.set("onset_age", onset, b.ev_chars(pick.start, pick.end, how))
    return days


def _week_long(text: str, words: Mapping[str, float]) -> list[Found]:
    out = []
    for m in re.finditer(r"\b(?P<n>[a-z0-9]+)-(?P<u>day|week|month|year)-long\b|\ba (?P<u2>day|week|month|year)-long\b",
                         text, re.IGNORECASE):
        n = number(m.group("n"), words) if m.group("n") else 1.0
        unit = DAYS.get((m.group("u") or m.group("u2")).casefold())
        if n and unit:
            out.append(Found(n * unit, m.start(), m.end(), "duration"))
    for m in re.finditer(r"\b(?P<n>[a-z]+|\d+) (?P<u>days?|weeks?|months?|years?) of\b", text, re.IGNORECASE):
        n = number(m.group("n"), words)
        unit = DAYS.get(m.group("u").casefold().rstrip("s"))
        if n and unit:
            out.append(Found(n * unit, m.start(), m.end(), "of"))
    return out


def _genetics(b: _Builder, mentions_ctx: Sequence[_Mention]) -> None:
    d, comp, files = b.d, b.comp, b.d.index.files
    gen = files.facts.genetics
    not_genes = {g.upper() for g in gen.not_genes}
    tested: dict[str, Evidence] = {}
    positive: dict[str, Evidence] = {}
    lex = d.index.lexicon
    pos_keys, neg_keys = _keys(gen.positive, lex), _keys(gen.negative, lex)
    for i, token in enumerate(d.doc):
        sym = token.text
        if sym not in comp.genes or sym.upper() != sym or sym in not_genes or len(sym) < 3:
            continue
        seg = d.segment_of[i]
        a, z = d.chars(i, i + 1)
        pos = [o for k in pos_keys for o in d.occurrences(seg, k)]
        neg = [o for k in neg_keys for o in d.occurrences(seg, k)]
        uncertain = any(m.uncertain and m.start <= i < m.end for m in mentions_ctx)
        if uncertain:
            b.unused.append(Unused(a, z, sym, f"gene {sym}", "uncertain: a test to do, not a result"))
            continue
        if neg and (not pos or min(p[0] for p in neg) > max(p[0] for p in pos) - 100):
            if not pos or any(d.keys[d.stream[seg][p[0]]] in ("negat", "normal") for p in neg):
                tested.setdefault(sym, b.ev_chars(a, z, "gene test, negative"))
                continue
        if pos:
            tested.setdefault(sym, b.ev_chars(a, z, "gene test, positive"))
            positive.setdefault(sym, b.ev_chars(a, z, "gene test, positive"))
        else:
            b.unused.append(Unused(a, z, sym, f"gene {sym}", "no result stated"))
    if tested:
        b.fields["genetics"] = {"tested": list(tested), "positive": list(positive)}
        b.evidence["genetics"] = [*tested.values()]


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
    comp = _compiled(index)
    pipe = _pipeline(index)
    d = _Doc(text, index, pipe)
    sections = _sections(text, comp)
    b = _Builder(d, comp, sections)
    findings = _kb_first(_phrase_mentions(d, comp) + _cooccurrence_mentions(d, comp), b)
    elicited = [(m.start, m.end) for m in findings if m.rule is not None and m.rule.rule.elicited]
    findings = [m for m in findings if not (m.rule is None or not m.rule.rule.elicited) or True]
    findings = [m for m in findings if (m.rule is not None and m.rule.rule.elicited)
                or not any(a <= m.start and m.end <= z for a, z in elicited)]
    parts = _part_mentions(d, comp)
    parts = [m for m in parts if not any(a <= m.start and m.end <= z for a, z in elicited)]
    _moving_parts(d, comp, parts)
    drugs = _drug_mentions(d, comp)
    treatments = _treatment_mentions(d, comp)
    medwords = _word_mentions(d, _MED_WORDS, "medication")
    imaging = _word_mentions(d, index.files.facts.imaging.words, "imaging")
    everything = [*findings, *parts, *drugs, *treatments, *medwords, *imaging]
    neg = pipe.cues(d.doc, "negation")
    unc = pipe.cues(d.doc, "uncertainty")
    relatives = _family(d, comp, everything, sections)
    _apply_cues(d, neg, [*everything, *relatives], "negated")
    _apply_cues(d, unc, [*everything, *relatives], "uncertain")
    family_spans = [r.extra.get("scope", (r.start, r.end)) for r in relatives if not r.negated]
    _indications(d, findings, [*drugs, *treatments, *[m for m in findings if str(m.value).startswith("CX:hx-")]])
    _historical(d, comp, findings)

    # age and sex
    found_ages = [f for f in ages(text, comp.numbers)]
    age = found_ages[0] if found_ages else None
    if age is not None:
        b.set("age", age.value, b.ev_chars(age.start, age.end, "age"))
    sex = _sex(d, age)
    if sex is not None:
        b.set("sex", sex[0], sex[1])

    # regions
    region_evidence = _regions(b, parts)
    # drugs (names, for `requires`)
    drug_names = {i for m in drugs if not (m.negated or m.uncertain or m.family) for i in m.value.ingredients}
    clauses = _imaging_clauses(d, [m for m in imaging])
    _findings(b, findings, clauses, set(region_evidence), drug_names)
    present, absent = _settle_findings(b)
    for code in present:
        for region in index.files.body.regions_of_codes.get(code, ()):
            if region not in region_evidence:
                region_evidence[region] = [replace(e, how=f"{e.how}: names the {region}") for e in b.present[code]]

    # the problem's sentences: a moving body part or a finding of movement
    problem_segments = {d.segment_of[m.start] for m in parts if m.extra.get("move") and not m.negated and not m.family}
    movement_codes = {c for c in present if c.startswith(_MOVEMENT_PREFIXES) or c in _movement_terms(index)}
    for m in findings:
        if m.value in movement_codes and not m.negated and not m.family and not m.uncertain:
            problem_segments.add(d.segment_of[m.start])
    past = [(m.start, m.end) for m in findings if str(m.value).startswith("CX:hx-")]
    days = _onset(b, age, problem_segments, family_spans, [(m.start, m.end) for m in drugs], past)
    _course_and_severity(b, problem_segments, family_spans, neg, days)

    # medications and treatments tried
    _medications(b, drugs, medwords, treatments)
    # history, imaging, genetics, labs, vitals, family history
    history = [c for c in present if c.startswith("CX:hx-")]
    _imaging(b, imaging, clauses)
    _genetics(b, everything)
    _labs_and_vitals(b)
    _family_history(b, relatives, everything)
    return _assemble(b, present, absent, history, region_evidence, source)


@lru_cache(maxsize=4)
def _movement_terms(index: NoteIndex) -> frozenset[str]:
    """HPO terms of involuntary contraction: dystonias, spasms, cramps, tetany, tics, jerks,
    fasciculations (what "the problem" is in a note about one)."""
    roots = {"HP:0001332", "HP:0003394", "HP:0001281", "HP:0100033", "HP:0001336", "HP:0002380", "HP:0010828",
             "HP:0032155", "HP:0000211", "HP:0002179", "HP:0011964", "HP:0001288"}
    return frozenset(c for c in index.labels if c in roots or index.ancestors(c) & roots)


def _medications(b: _Builder, drugs: list[_Mention], medwords: list[_Mention], treatments: list[_Mention]) -> None:
    d, comp = b.d, b.comp
    timings = durations(d.text, comp.numbers)
    meds: dict[tuple[str, ...], dict[str, Any]] = {}
    med_ev: dict[tuple[str, ...], list[Evidence]] = {}
    tried: dict[str, tuple[str, Evidence]] = {}
    for m in drugs:
        reading = m.value
        what = f"drug {' and '.join(reading.ingredients)}"
        reason = b.why_not(m)
        if reason or m.negated:
            b.skip(m, what, reason or f"negated ('{m.negated}'): not taken")
            continue
        response = _response_for(d, comp, m)
        treatment = next((comp.treats_as[i] for i in reading.ingredients if i in comp.treats_as), None)
        how = m.how if reading.how == "generic" else f"{m.how} read as {' and '.join(reading.ingredients)}"
        if treatment and response:
            tried.setdefault(treatment, (response[0], b.ev(m, f"{how}, response '{response[1]}'")))
            if response[0] == "none":
                b.skip(m, what, f"tried without benefit ('{response[1]}'): a treatment tried, not taken now")
                continue
        key = reading.ingredients
        row = meds.setdefault(key, {"name": reading.ingredients[0] if len(reading.ingredients) == 1 else reading.given})
        for name, value in _drug_days(d, m, timings, None).items():
            row.setdefault(name, value)
        med_ev.setdefault(key, []).append(b.ev(m, how))
    for m in treatments:
        reason = b.why_not(m)
        if reason or m.negated:
            b.skip(m, f"treatment {m.value}", reason or f"negated ('{m.negated}')")
            continue
        response = _response_for(d, comp, m)
        if response is None:
            b.skip(m, f"treatment {m.value}", "no response stated: not counted as tried")
            continue
        tried.setdefault(m.value, (response[0], b.ev(m, f"{m.how}, response '{response[1]}'")))
    if meds:
        b.fields["medications"] = list(meds.values())
        b.evidence["medications"] = [e for k in meds for e in med_ev[k][:1]]
        b.med_evidence = [med_ev[k] for k in meds]  # type: ignore[attr-defined]
    else:
        for m in medwords:
            if m.negated and not m.family and not m.uncertain and d.lower[m.start] != "treatment":
                b.set("medications", [], b.ev(m, f"no drug taken ('{m.negated}')", cue=m.negated))
                break
    if tried:
        b.fields["treatment_history"] = [{"treatment": t, "response": r} for t, (r, _e) in tried.items()]
        b.evidence["treatment_history"] = [e for _t, (_r, e) in tried.items()]


def _imaging(b: _Builder, imaging: list[_Mention], clauses: Sequence[tuple[int, int, _Mention]]) -> None:
    d, files = b.d, b.d.index.files
    lex = d.index.lexicon
    normal = _keys(files.facts.imaging.normal, lex)
    abnormal = _keys(files.facts.imaging.abnormal, lex)
    if b.imaging_findings:
        codes = list(b.imaging_findings)
        b.fields["imaging"] = {"mri_brain": "abnormal", "findings": codes}
        b.evidence["imaging"] = [e for c in codes for e in b.imaging_findings[c][:1]]
        return
    for lo, hi, m in clauses:
        if b.why_not(m):
            continue
        seg = d.segment_of[m.start]
        if m.negated:
            b.set("imaging", {"mri_brain": "not_done"}, b.ev(m, "brain imaging not done", cue=m.negated))
            continue
        stream = d.stream[seg]
        inside = [p for p, t in enumerate(stream) if lo <= t < hi]
        if not inside:
            continue
        keys_in = [d.keys[stream[p]] for p in inside]

        def has(phrases: Sequence[Key]) -> bool:
            return any(tuple(keys_in[i:i + len(k)]) == k for k in phrases for i in range(len(keys_in)))

        if has(normal):
            b.set("imaging", {"mri_brain": "normal"}, b.ev_chars(d.chars(lo, hi)[0], d.chars(lo, hi)[1],
                                                                  "brain imaging normal"))
        elif has(abnormal):
            b.set("imaging", {"mri_brain": "abnormal"}, b.ev_chars(d.chars(lo, hi)[0], d.chars(lo, hi)[1],
                                                                    "brain imaging abnormal"))


def _labs_and_vitals(b: _Builder) -> None:
    d = b.d
    rows = []
    evidence = []
    for found in _labs(d, b.comp, d.index.files):
        a, z = found["span"]
        rows.append(found["row"])
        evidence.append(b.ev_chars(a, z, f"laboratory result ({found['analyte']})"))
    if rows:
        b.fields["labs"] = rows
        b.evidence["labs"] = evidence
    for code, present, (a, z), how in _vitals(d, d.index.files):
        target = b.present if present else b.absent
        if present and code in b.absent:
            del b.absent[code]
        if not present and code in b.present:
            continue
        target.setdefault(code, []).append(b.ev_chars(a, z, how))


def _family_history(b: _Builder, relatives: list[_Mention], everything: Sequence[_Mention]) -> None:
    d, comp = b.d, b.comp
    nones = _phrase_spots(d, d.index.files.context.family.none)
    for s, e, _k in nones:
        a, z = d.chars(s, e)
        b.set("family_history", False, b.ev_chars(a, z, "no relative affected"))
    for s, e, _k in _phrase_spots(d, d.index.files.context.family.present):
        if any(x < e and s < y for x, y, _k2 in nones):
            continue  # "no family history of": the negation says it
        a, z = d.chars(s, e)
        b.fields.pop("family_history", None)
        b.set("family_history", True, b.ev_chars(a, z, "family history stated"))
    for r in relatives:
        if r.uncertain:
            continue
        lo, hi = r.extra.get("scope", (r.start, r.end))
        if r.negated:
            if "family_history" not in b.fields:
                b.set("family_history", False, b.ev(r, f"relative negated ('{r.negated}')", cue=r.negated))
            continue
        about = [m for m in everything if lo <= m.start < hi and m.kind in ("finding", "part") and m.family]
        similar = [o for seg in {d.segment_of[r.start]} for k in comp.family_similar for o in d.occurrences(seg, k)
                   if lo <= d.stream[seg][o[0]] < hi]
        if about or similar:
            b.fields["family_history"] = True
            b.evidence["family_history"] = [b.ev_chars(d.chars(r.start, r.end)[0], d.chars(lo, hi)[1],
                                                       "a relative with a similar problem")]
            return
        b.skip(r, "a relative", "nothing said about the relative's health")


def _assemble(b: _Builder, present: list[str], absent: list[str], history: list[str],
              region_evidence: Mapping[str, list[Evidence]], source: str | None) -> NoteReading:
    from ...case import read_case_reading
    from ...vocabulary import REGIONS

    index = b.d.index
    present = list(b.present)
    absent = [c for c in b.absent if c not in b.present]
    history = [c for c in present if c.startswith("CX:hx-")]
    findings = [c for c in present if not c.startswith("CX:hx-")]
    regions = [r for r in REGIONS if r in region_evidence]
    data: dict[str, Any] = {}
    facts: list[Fact] = []

    def add(path: str, value: Any, label: str, evidence: Sequence[Evidence]) -> None:
        facts.append(Fact(path, value, label, tuple(evidence)))

    for name in ("age", "sex", "onset_age", "course"):
        if name in b.fields:
            data[name] = b.fields[name]
            add(name, b.fields[name], str(b.fields[name]), b.evidence[name])
    if regions:
        data["regions"] = regions
        for i, r in enumerate(regions):
            add(f"regions[{i}]", r, r.replace("-", " "), region_evidence[r])
    if findings:
        data["findings"] = findings
        for i, c in enumerate(findings):
            add(f"findings[{i}]", c, _label(index, c), b.present[c])
    if absent:
        data["absent"] = absent
        for i, c in enumerate(absent):
            add(f"absent[{i}]", c, _label(index, c), b.absent[c])
    if "labs" in b.fields:
        data["labs"] = b.fields["labs"]
        for i, (row, e) in enumerate(zip(b.fields["labs"], b.evidence["labs"], strict=True)):
            add(f"labs[{i}]", row, row.get("name", row["loinc"]), [e])
    if "medications" in b.fields:
        data["medications"] = b.fields["medications"]
        per = getattr(b, "med_evidence", None)
        if not data["medications"]:
            add("medications", [], "no drug taken", b.evidence["medications"])
        for i, row in enumerate(data["medications"]):
            add(f"medications[{i}]", row, row["name"], per[i] if per else b.evidence["medications"])
    if history:
        data["history"] = history
        for i, c in enumerate(history):
            add(f"history[{i}]", c, _label(index, c), b.present[c])
    if "imaging" in b.fields:
        data["imaging"] = b.fields["imaging"]
        add("imaging", b.fields["imaging"], "brain MRI", b.evidence["imaging"])
    if "genetics" in b.fields:
        data["genetics"] = b.fields["genetics"]
        add("genetics", b.fields["genetics"], "gene tests", b.evidence["genetics"])
    for name in ("family_history", "severity", "disabling"):
        if name in b.fields:
            data[name] = b.fields[name]
            add(name, b.fields[name], str(b.fields[name]), b.evidence[name])
    if "treatment_history" in b.fields:
        data["treatment_history"] = b.fields["treatment_history"]
        for i, (row, e) in enumerate(zip(b.fields["treatment_history"], b.evidence["treatment_history"], strict=True)):
            add(f"treatment_history[{i}]", row, f"{row['treatment']} ({row['response']})", [e])
    for code, evidence in b.imaging_findings.items():
        pass
    try:
        reading = read_case_reading(data, source=source)
    except CaseError as error:
        # a value the case refuses (a laboratory value impossible in its unit): leave it out, say why
        reading, dropped = _without_refused(data, error, source)
        for path, message in dropped:
            b.unused.append(Unused(0, 0, "", path, message))
        facts = [f for f in facts if not any(f.path == p or f.path.startswith(p + "[") for p, _m in dropped)]
    message = "" if facts else EMPTY_MESSAGE
    unused = sorted(b.unused, key=lambda u: (u.start, u.end))
    return NoteReading(text=b.d.text, case=reading.case, not_read=reading.not_read, facts=tuple(facts),
                       unused=tuple(unused), message=message, sections=tuple(b.sections))


def _without_refused(data: dict[str, Any], error: CaseError, source: str | None) -> tuple[Reading, list[tuple[str, str]]]:
    from ...case import read_case_reading

    dropped = []
    data = dict(data)
    for problem in error.problems:
        path = problem.where.removeprefix("case.")
        top = re.match(r"^(\w+)(?:\[(\d+)\])?", path)
        if not top:
            continue
        name, i = top.group(1), top.group(2)
        if name in data:
            if i is not None and isinstance(data[name], list) and int(i) < len(data[name]):
                data[name] = [x for j, x in enumerate(data[name]) if j != int(i)]
                dropped.append((f"{name}[{i}]", problem.message))
            else:
                data.pop(name)
                dropped.append((name, problem.message))
    return read_case_reading(data, source=source), dropped
