"""A note as the reader sees it: tokens, word keys and sentence parts; the compiled data.

Part of :mod:`contraxis.io.note.reader`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from .data import Rule
from .index import NoteIndex
from .pipeline import Pipeline, load_pipeline
from .text import Lexicon, phrase_key, split_words, word_key

Key = tuple[str, ...]


@dataclass(frozen=True, slots=True)
class CompiledRule:
    rule: Rule
    terms: tuple[Key, ...]
    groups: tuple[tuple[Key, ...], ...]
    unless: tuple[Key, ...]


@dataclass(frozen=True, slots=True)
class CompiledPart:
    key: Key
    region: str
    moves: tuple[Key, ...]
    not_with: frozenset[str]
    after: frozenset[str]


@dataclass(frozen=True, slots=True, eq=False)
class Compiled:
    rules: tuple[CompiledRule, ...]
    term_table: Mapping[Key, tuple[int, ...]]
    term_max: int
    parts: tuple[CompiledPart, ...]
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
def words_of(phrase: str) -> tuple[str, ...]:
    if not _TOKENIZER:
        return tuple(split_words(phrase))
    return tuple(t.text for t in _TOKENIZER[0](phrase) if not (t.is_punct or t.is_space))


def keys_of(phrases: Iterable[str], lexicon: Lexicon) -> tuple[Key, ...]:
    out = []
    for p in phrases:
        k = phrase_key(words_of(p), lexicon)
        if k and k not in out:
            out.append(k)
    return tuple(out)


Phrase = tuple[Key, str]


@lru_cache(maxsize=256)
def _phrases(phrases: tuple[str, ...], lexicon: Lexicon) -> tuple[Phrase, ...]:
    """Each phrase's key with the phrase (a one-word phrase matches only its written forms)."""
    out: list[Phrase] = []
    for p in phrases:
        k = phrase_key(words_of(p), lexicon)
        if k:
            out.append((k, p))
    return tuple(out)


@lru_cache(maxsize=4)
def compiled(index: NoteIndex) -> Compiled:
    if not _TOKENIZER:
        _TOKENIZER.append(pipeline_for(index).nlp.tokenizer)
        words_of.cache_clear()
    lex = index.lexicon
    files = index.files
    rules = []
    term_table: dict[Key, list[int]] = {}
    for rule in files.findings.rules:
        compiled = CompiledRule(rule, keys_of(rule.terms, lex), tuple(keys_of(g, lex) for g in rule.all),
                                keys_of(rule.unless, lex))
        for key in compiled.terms:
            term_table.setdefault(key, []).append(len(rules))
        rules.append(compiled)
    parts: list[CompiledPart] = []
    part_table: dict[Key, list[int]] = {}
    for p in files.body.parts:
        for key in keys_of(p.words, lex):
            part_table.setdefault(key, []).append(len(parts))
            parts.append(CompiledPart(key, p.region, keys_of(p.moves, lex),
                                      frozenset(k for ks in keys_of(p.not_with, lex)
                                                                               for k in ks),
                               frozenset(w.casefold() for w in p.after)))
    sides: dict[Key, str] = {}
    for side in ("left", "right", "both"):
        for key in keys_of(getattr(files.body.sides, side), lex):
            sides[key] = side
    family = files.context.family
    treatments: dict[Key, str] = {}
    for treatment, words in files.facts.treatments.words.items():
        for key in keys_of(words, lex):
            treatments[key] = treatment
    responses = []
    for level in ("none", "partial", "good"):
        for key in keys_of(getattr(files.facts.treatments.responses, level), lex):
            responses.append((key, level))
    responses.sort(key=lambda r: -len(r[0]))
    lab_names = sorted(((n.casefold(), a) for a, names in files.facts.labs.names.items() for n in names),
                       key=lambda x: -len(x[0]))
    return Compiled(
        rules=tuple(rules),
        term_table={k: tuple(v) for k, v in term_table.items()},
        term_max=max((len(k) for k in term_table), default=1),
        parts=tuple(parts),
        part_table={k: tuple(v) for k, v in part_table.items()},
        part_max=max((len(k) for k in part_table), default=1),
        moves=keys_of(files.body.moves, lex),
        non_moves=keys_of(files.body.non_moves, lex),
        side_words=sides,
        relatives=frozenset(keys_of(family.relatives, lex)),
        reporters=frozenset(w.casefold() for w in family.reporters),
        family_similar=keys_of(family.similar, lex),
        family_none=keys_of(family.none, lex),
        family_present=keys_of(family.present, lex),
        sections=tuple(sorted(((h.casefold(), s.kind) for s in files.context.sections for h in s.headers),
                              key=lambda x: -len(x[0]))),
        numbers={k.casefold(): v for k, v in files.lexicon.numbers.items()},
        stages=dict(files.facts.onset_words.ages),
        treatment_words=treatments,
        responses=tuple(responses),
        never_treated=keys_of(files.facts.treatments.never, lex),
        medication_none=keys_of(files.facts.medications.none, lex),
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
def pipeline_for(index: NoteIndex) -> Pipeline:
    return load_pipeline(index)


_BREAK = "|"


LIST_WORDS = frozenset({",", "and", "or", "nor", "the", "his", "her", "their", "its", "a", "an", "both", "all", "any",
                         "four", "either", "each", "also", "still", "now", "is", "are", "was", "were", "be", "been",
                         "of", "in", "at", "on", "to", "with", "other", "no", "-", "/", "(", ")", "'s"})


@dataclass
class Mention:
    kind: str  # finding | part | drug | treatment | medword | imaging | relative | response
    start: int  # token positions, end exclusive
    end: int
    value: Any
    how: str
    tokens: tuple[int, ...] = ()
    rule: CompiledRule | None = None
    negated: str | None = None
    uncertain: str | None = None
    family: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


_VERDICTS = frozenset({"absent", "present", "nil", "none", "negative", "normal", "yes", "no", "positive"})


def _joined(segments: list[tuple[int, int]], lower: list[str]) -> list[tuple[int, int]]:
    """Sentence parts, with "tremor: absent" kept as one (a colon before a one-word verdict)."""
    out: list[tuple[int, int]] = []
    for start, end in segments:
        words = [w for w in lower[start:end] if w not in (".", ",", ";")]
        if out and lower[out[-1][1] - 1] == ":" and len(words) == 1 and words[0] in _VERDICTS:
            out[-1] = (out[-1][0], end)
        else:
            out.append((start, end))
    return out


def _token_table(doc: Any, text: str) -> list[tuple[str, str, int, bool, bool, bool]]:
    """Each token's text, lower case, offset and kind, read in one array (no Token objects)."""
    from spacy.attrs import IDX, IS_ALPHA, IS_PUNCT, IS_SPACE, LENGTH

    rows = doc.to_array([IDX, LENGTH, IS_PUNCT, IS_SPACE, IS_ALPHA]).tolist()
    out = []
    for idx, length, punct, space, alpha in rows:
        word = text[idx:idx + length]
        out.append((word, word.lower(), idx, bool(punct), bool(space), bool(alpha)))
    return out


class Doc:
    """One note as tokens, keys and sentence parts."""

    def __init__(self, text: str, index: NoteIndex, pipeline: Pipeline) -> None:
        self.text = text
        self.index = index
        self.sections: list[tuple[str, int, int]] = []  # set once the headers are read
        self.doc = pipeline.doc(text)
        lex = index.lexicon
        tokens = _token_table(self.doc, text)
        self.n = len(tokens)
        self.texts = [t[0] for t in tokens]
        self.lower = [t[1] for t in tokens]
        self.idx = [t[2] for t in tokens]
        self.ends = [t[2] + len(t[0]) for t in tokens]
        self.alpha = [t[5] for t in tokens]
        self.keys = [("" if (t[3] or t[4]) else word_key(t[0], lex)) for t in tokens]
        self.punct = [t[3] and t[0] not in ("-", "'") for t in tokens]
        self.segments: list[tuple[int, int]] = _joined([(s.start, s.end) for s in self.doc.sents], self.lower)
        self.segment_of = [0] * self.n
        for i, (s, e) in enumerate(self.segments):
            for j in range(s, e):
                self.segment_of[j] = i
        # the key stream of each segment: token positions with a key, and where each key is
        self.stream: list[list[int]] = [[j for j in range(s, e) if self.keys[j]] for s, e in self.segments]
        self.where: list[dict[str, list[int]]] = []
        for stream in self.stream:
            spots: dict[str, list[int]] = {}
            for p, t in enumerate(stream):
                spots.setdefault(self.keys[t], []).append(p)
            self.where.append(spots)

    def segment_of_char(self, char: int) -> int:
        """The sentence part holding a character offset (the last one before it)."""
        best = 0
        for i, (s, _e) in enumerate(self.segments):
            if s < self.n and self.idx[s] <= char:
                best = i
        return best

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
        for p in self.where[seg].get(key[0], ()):
            if p + n > len(stream):
                continue
            if all(self.keys[stream[p + k]] == key[k] for k in range(1, n)) and not any(
                self.punct[t] for t in range(stream[p], stream[p + n - 1])
            ):
                out.append((p, p + n - 1))
        return out


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


def one_word_ok(d: Doc, token: int, phrase: str) -> bool:
    """A one-word phrase matches only its own written forms ("pain" is not "painful",
    "mouth" is not "mouthing"), not every word of its stem."""
    words = words_of(phrase)
    if len(words) != 1:
        return True
    lex = d.index.lexicon
    return _form(d.texts[token], lex) == _form(words[0], lex)


def dedupe(mentions: list[Mention]) -> list[Mention]:
    out: list[Mention] = []
    for m in sorted(mentions, key=lambda x: (x.start, -(x.end - x.start))):
        if any(o.start <= m.start and m.end <= o.end for o in out):
            continue
        out.append(m)
    return out


def sections_of(text: str, comp: Compiled) -> list[tuple[str, int, int]]:
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


def section_at(sections: Sequence[tuple[str, int, int]], char: int) -> str | None:
    for kind, a, b in sections:
        if a <= char < b:
            return kind
    return None


def phrase_spots(d: Doc, phrases: Iterable[str], skip: Sequence[tuple[int, int]] = ()) -> list[tuple[int, int, Key]]:
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
                if len(key) == 1 and not one_word_ok(d, s, text):
                    continue
                out.append((s, e, key))
    return sorted(set(out))


def word_mentions(d: Doc, phrases: Iterable[str], kind: str) -> list[Mention]:
    out = []
    for s, e, key in phrase_spots(d, phrases):
        out.append(Mention(kind, s, e, key, f"{kind} words '{d.words(s, e)}'", tokens=tuple(range(s, e))))
    return dedupe(out)
