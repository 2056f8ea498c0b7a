"""Context: negation and uncertainty (NegEx cues, list-bounded), family history, sections.

Part of :mod:`contraxis.io.note.reader`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

from .document import LIST_WORDS, Compiled, Doc, Mention, dedupe, phrase_spots
from .pipeline import Cues

if TYPE_CHECKING:  # pragma: no cover
    from .builder import Builder


def _scope_ok(
    d: Doc, lo: int, hi: int, spans: Sequence[Mention], cue_span: tuple[int, int], others_allowed: int
) -> bool:
    """Whether a cue reaches across tokens lo..hi: only list words, other findings or parts,
    and at most ``others_allowed`` other words, stand between."""
    covered = set()
    for m in spans:
        if m.start <= cue_span[0] < m.end or m.start < cue_span[1] <= m.end:
            continue  # a mention that holds the cue does not carry it
        covered.update(range(m.start, m.end))
    others = 0
    for t in range(lo, hi):
        if t in covered or d.lower[t] in LIST_WORDS or not d.keys[t]:
            continue
        others += 1
        if others > others_allowed:
            return False
    return True


def _boundaries(d: Doc, cues: Cues) -> list[tuple[int, int]]:
    starts = sorted({s for s, _e in d.segments} | set(cues.termination) | {d.n})
    return [(a, b) for a, b in zip(starts, starts[1:], strict=False) if a < b]


_SOFT_CUES = frozenset({"normal", "normally", "full", "free", "unaffected", "uninvolved", "involved", "spared",
                        "rest", "affected", "absent", "negative", "flexor", "intact"})
"""Cue words that say a part or a sign is normal: they do not negate a drug, a treatment,
a test or the word "medication"."""


def apply_cues(d: Doc, cues: Cues, mentions: list[Mention], attr: str) -> None:
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

        def usable(text: str, hard_only: bool = hard_only) -> bool:
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
                    findings = [x for x in mentions
                                if x.kind in ("finding", "part") and e <= x.start and x.end <= m.start]
                    if findings or not _scope_ok(d, e, m.start, mentions, (s, e), 6):
                        continue
                elif not _scope_ok(d, e, m.start, mentions, (s, e), 2):
                    continue
                hit = text
                break
        if hit is None:
            for s, e, text in cues.following:
                if m.kind in ("drug", "treatment") and not _NOT_GIVEN.search(text):
                    continue  # "X did not help" is about X's effect; "X not yet tried" about X
                if usable(text) and m.end <= s < b and _scope_ok(d, m.end, s, mentions, (s, e), 0):
                    hit = text
                    break
        if hit is not None:
            setattr(m, attr, hit)


_NOT_GIVEN = re.compile(r"\b(?:tried|given|started|taken)\b", re.IGNORECASE)


_CONDITION_VERBS = frozenset({"has", "had", "have", "developed", "was", "is", "were", "are", "suffers", "suffered",
                              "carries", "carry", "died", "'s", "with", "also"})


def family_mentions(
    d: Doc, comp: Compiled, mentions: list[Mention], sections: list[tuple[str, int, int]]
) -> list[Mention]:
    """Relatives as the subject of a clause: their clause is family history."""
    relatives = []
    for seg in range(len(d.segments)):
        for key in comp.relatives:
            for a, b in d.occurrences(seg, key):
                stream = d.stream[seg]
                start, end = stream[a], stream[b] + 1
                nxt = [d.lower[t] for t in range(end, min(d.n, end + 4)) if d.lower[t].isalpha() or d.lower[t] == "'s"]
                said = [w for w in nxt[:2] if w != "also"]
                reporting = bool(said) and said[0] in comp.reporters
                if reporting:
                    continue  # "her mother says": a witness
                if not set(nxt) & _CONDITION_VERBS:
                    continue  # not the subject of a clause about the relative's health
                j = start - 1
                while j >= 0 and d.lower[j] in ("his", "her", "their", "the", "a", "an", "'s") or (
                        j >= 0 and d.lower[j][:1].isdigit()) or (j >= 0 and d.lower[j] in ("-", "year", "old")):
                    j -= 1
                if j >= 0 and d.lower[j] in ("by", "to", "with", "from", "for", "calls", "called"):
                    continue  # "brought by his parents"
                relatives.append(Mention("relative", start, end, d.words(start, end), "relative",
                                          tokens=tuple(range(start, end))))
    relatives = dedupe(relatives)
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


def family_history(b: Builder, relatives: list[Mention], everything: Sequence[Mention]) -> None:
    d, comp = b.d, b.comp
    nones = phrase_spots(d, d.index.files.context.family.none)
    for s, e, _k in nones:
        a, z = d.chars(s, e)
        b.set("family_history", False, b.ev_chars(a, z, "no relative affected"))
    for s, e, _k in phrase_spots(d, d.index.files.context.family.present):
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
