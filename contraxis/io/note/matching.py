"""Finding words: HPO terms, the knowledge base's phrases and co-occurrence rules.

Part of :mod:`contraxis.io.note.reader`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from .document import Compiled, CompiledRule, Doc, Key, Mention, one_word_ok, words_of
from .text import phrase_key

if TYPE_CHECKING:  # pragma: no cover
    from .builder import Builder


def phrase_mentions(d: Doc, comp: Compiled) -> list[Mention]:
    """HPO words and the terms of the rules, longest first, in each segment."""
    index = d.index
    out: list[Mention] = []
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
                if hits and length == 1 and not any(one_word_ok(d, stream[p], h.text) for h in hits):
                    hits = None
                if hits:
                    start, end = stream[p], stream[p + length - 1] + 1
                    if length == 1:
                        hits = tuple(h for h in hits if one_word_ok(d, stream[p], h.text))
                    for code in dict.fromkeys(h.code for h in hits):
                        hit = next(h for h in hits if h.code == code)
                        how = {"label": "HPO label", "synonym": "HPO synonym", "layperson": "HPO layperson synonym"}
                        out.append(Mention("finding", start, end, code, f"{how.get(hit.kind, 'HPO')} '{hit.text}'",
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
                                     if any(one_word_ok(d, stream[p], t) for t in comp.rules[r].rule.terms
                                            if phrase_key(words_of(t), index.lexicon) == (keys[p],)))
                if rule_ids:
                    start, end = stream[p], stream[p + length - 1] + 1
                    for r in rule_ids:
                        out.extend(_rule_mentions(d, comp.rules[r], seg, start, end, tuple(range(start, end))))
                    break
            p += 1
    return out


UNLESS_REACH = 3
"""How far (words) around a rule's match its `unless` words are looked for."""


def _rule_mentions(
    d: Doc, rule: CompiledRule, seg: int, start: int, end: int, tokens: tuple[int, ...]
) -> list[Mention]:
    if rule.unless and _near(d, seg, start, end, rule.unless, UNLESS_REACH, tokens):
        return []
    return [Mention("finding", start, end, code, f"phrase rule {rule.rule.id}", tokens=tokens, rule=rule)
            for code in rule.rule.codes]


def _near(d: Doc, seg: int, start: int, end: int, keys: Sequence[Key], window: int,
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


def cooccurrence_mentions(d: Doc, comp: Compiled) -> list[Mention]:
    """The `all` rules: one word of each group within the rule's window."""
    out: list[Mention] = []
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
                                    one_word_ok(d, d.stream[seg][o[0]], w) for w in rule.rule.all[gi]
                                    if len(words_of(w)) == 1))})
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


def kb_first(mentions: list[Mention], b: Builder) -> list[Mention]:
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


def indications(d: Doc, findings: list[Mention], anchors: Sequence[Mention]) -> None:
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


def historical(d: Doc, comp: Compiled, findings: list[Mention]) -> None:
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
