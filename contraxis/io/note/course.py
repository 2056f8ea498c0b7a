"""Age, sex, onset, course and severity.

Part of :mod:`contraxis.io.note.reader`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import replace
from functools import lru_cache
from typing import TYPE_CHECKING

from .document import Doc, Key, phrase_spots
from .index import NoteIndex
from .model import Evidence
from .pipeline import Cues
from .timing import DAYS, Found, durations, number, onset_ages

if TYPE_CHECKING:  # pragma: no cover
    from .builder import Builder


MOVEMENT_PREFIXES = ("CX:sustained", "CX:brief", "CX:twisting", "CX:abnormal-posture", "CX:repetitive")


def sex_of(d: Doc, age: Found | None) -> tuple[str, Evidence] | None:
    nouns = {"man": "male", "woman": "female", "boy": "male", "girl": "female", "male": "male", "female": "female",
             "gentleman": "male", "lady": "female", "widow": "female", "widower": "male", "mother": "female",
             "father": "male", "son": "male", "daughter": "female", "husband": "male", "wife": "female"}
    if age is not None:
        tail = re.match(r"^\W*(?:[a-z\-]+\s+){0,3}?(man|woman|boy|girl|male|female|gentleman|lady|widow|widower)\b",
                        d.text[age.end:age.end + 50], re.IGNORECASE)
        if tail:
            a = age.end + tail.start(1)
            return nouns[tail.group(1).casefold()], Evidence(a, a + len(tail.group(1)), tail.group(1), "patient noun")
    if age is not None and d.text[age.start:age.end][-1:] in ("F", "M"):  # "62F"
        letter = d.text[age.end - 1]
        return ("female" if letter == "F" else "male"), Evidence(age.start, age.end, d.text[age.start:age.end],
                                                                 "age and sex shorthand")
    title = re.search(r"\b(?-i:(Mr|Mrs|Ms|Miss|Master))\b\.?", d.text)
    if title:
        value = "male" if title.group(1) in ("Mr", "Master") else "female"
        return value, Evidence(title.start(1), title.end(1), title.group(1), "title")
    he = [t for t in range(d.n) if d.lower[t] in ("he", "his", "him", "himself")]
    she = [t for t in range(d.n) if d.lower[t] in ("she", "her", "hers", "herself")]
    if len(he) > len(she) and len(he) >= 2:
        return "male", Evidence(d.idx[he[0]], d.ends[he[0]], d.texts[he[0]],
                                f"pronouns ({len(he)} male, {len(she)} female)")
    if len(she) > len(he) and len(she) >= 2:
        return "female", Evidence(d.idx[she[0]], d.ends[she[0]], d.texts[she[0]],
                                  f"pronouns ({len(she)} female, {len(he)} male)")
    return None


def _evidence(b: Builder, spots: Sequence[tuple[int, int, Key]], how: str) -> list[Evidence]:
    return [b.ev_chars(*b.d.chars(s, e), how) for s, e, _k in spots]


def course_and_severity(b: Builder, problem_segments: set[int], family_spans: Sequence[tuple[int, int]],
                         neg_cues: Cues, days: float | None) -> None:
    d, files = b.d, b.d.index.files
    course = files.facts.course
    static = phrase_spots(d, course.static, family_spans)
    taken = [(s, e) for s, e, _k in static]
    progressive = phrase_spots(d, course.progressive, [*family_spans, *taken])
    episodic = phrase_spots(d, course.episodic, family_spans)
    acute_words = phrase_spots(d, course.acute, family_spans)

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
    spots = {level: phrase_spots(d, getattr(sev, level), family_spans)
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


def onset_of(b: Builder, age: Found | None, problem_segments: set[int], family_spans: Sequence[tuple[int, int]],
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
        """"sertraline 100 mg (for 5 years)": how long a drug has been taken, not the problem."""
        return any(0 <= f.start - d.chars(s, e)[1] <= 30 and not re.search(r"[.;:]", d.text[d.chars(s, e)[1]:f.start])
                   for s, e in drug_spans)

    def after_past_event(f: Found) -> bool:
        """"a disc herniation five years ago": the time of a past event, not of the problem."""
        return any(0 <= f.start - d.chars(s, e)[1] <= 12 and not re.search(r"[.;:]", d.text[d.chars(s, e)[1]:f.start])
                   for s, e in past_spans)

    candidates = [f for f in candidates if not after_past_event(f) and not (f.kind == "duration" and near_drug(f))]
    pick = None
    for f in candidates:
        if in_family(f) or f.kind == "later" or f.kind == "of":
            continue
        if seg_of(f) in problem_segments and not (f.kind == "duration" and near_drug(f)):
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
    history = r"\b(?P<n>[a-z]+|\d+)[- ](?P<u>day|week|month|year)s?[- ](?:history|duration)\b"
    for m in re.finditer(history, text, re.IGNORECASE):  # "a 4 year history of", "a two-year history"
        n = number(m.group("n"), words)
        unit = DAYS.get(m.group("u").casefold())
        if n and unit:
            out.append(Found(n * unit, m.start(), m.end(), "duration"))
    for m in re.finditer(r"\b(?P<n>[a-z]+|\d+) (?P<u>days?|weeks?|months?|years?) of\b", text, re.IGNORECASE):
        n = number(m.group("n"), words)
        unit = DAYS.get(m.group("u").casefold().rstrip("s"))
        if n and unit:
            out.append(Found(n * unit, m.start(), m.end(), "of"))
    return out


@lru_cache(maxsize=4)
def movement_terms(index: NoteIndex) -> frozenset[str]:
    """HPO terms of involuntary contraction: dystonias, spasms, cramps, tetany, tics, jerks,
    fasciculations (what "the problem" is in a note about one)."""
    roots = {"HP:0001332", "HP:0003394", "HP:0001281", "HP:0100033", "HP:0001336", "HP:0002380", "HP:0010828",
             "HP:0032155", "HP:0000211", "HP:0002179", "HP:0011964", "HP:0001288"}
    return frozenset(c for c in index.labels if c in roots or index.ancestors(c) & roots)
