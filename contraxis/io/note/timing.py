"""Numbers, ages and durations in a note's words.

Every function here reads plain text and returns what it found with its character span, so
that each number in the case can point at the words it came from. Nothing here decides which
age or duration belongs to the patient's problem: :mod:`contraxis.io.note.reader` does.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

__all__ = ["Found", "ages", "durations", "number", "onset_ages"]

DAYS = {"hour": 1 / 24, "day": 1.0, "night": 1.0, "week": 7.0, "fortnight": 14.0, "month": 30.4375, "year": 365.25}
"""Days in each unit of time (a month is a twelfth of a year)."""

_ORDINALS = {"first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6, "seventh": 7, "eighth": 8,
             "ninth": 9, "tenth": 10, "eleventh": 11, "twelfth": 12}
_WORDS = ("zero|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen|sixteen|"
          "seventeen|eighteen|nineteen|twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety|hundred|a|an|half|"
          "couple|few|several|dozen|a few|a couple of")
_TENS = "twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety"
_NUM = rf"(?:\d+(?:[.,]\d+)?|(?:{_TENS})[- ](?:one|two|three|four|five|six|seven|eight|nine)|{_WORDS})"


@dataclass(frozen=True, slots=True)
class Found:
    """A value read from the text, with its character span and what it is.

    Parameters
    ----------
    value : float
        Years for an age, days for a duration.
    start, end : int
        The span of the words read, in characters of the text given.
    kind : str
        ``age``, ``onset``, ``duration``, ``ago`` (a time before now), ``since``.
    """

    value: float
    start: int
    end: int
    kind: str


def number(text: str, words: Mapping[str, float]) -> float | None:
    """A number written in digits or words (``12``, ``2.30``, ``18,500``, ``eighteen``,
    ``twenty-five``, ``a``, ``half``); None when it is not one."""
    t = text.strip().casefold()
    if not t:
        return None
    if re.fullmatch(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?", t):
        return float(t.replace(",", ""))
    if re.fullmatch(r"\d+(?:\.\d+)?", t):
        return float(t)
    if re.fullmatch(r"\d+,\d{1,2}", t):  # a decimal comma
        return float(t.replace(",", "."))
    if t in words:
        return float(words[t])
    parts = re.split(r"[- ]", t)
    if len(parts) == 2 and parts[0] in words and parts[1] in words and words[parts[0]] >= 20 and words[parts[1]] < 10:
        return float(words[parts[0]] + words[parts[1]])
    if t in _ORDINALS:
        return float(_ORDINALS[t])
    if t in ("a few", "a couple of"):
        return float(words.get(t.split()[1].rstrip("of").strip() or "few", 3))
    return None


def _unit(word: str) -> float | None:
    w = word.casefold().rstrip("s")
    return DAYS.get(w)


_AGE = re.compile(
    rf"\b(?P<n>{_NUM})[- ](?P<u>year|month|week|day)s?[- ]old\b|\baged (?P<n2>\d+(?:\.\d+)?)\b|"
    rf"\b(?P<n3>\d+(?:\.\d+)?) ?(?:years? old|yo|y/o|yrs?|years?)(?= old\b|\b(?! of| ago| later))"
    r"|\b(?P<n4>\d{1,3}) ?(?-i:[FM])\b"  # "62F", "70 M": a clinician's shorthand for age and sex
    r"|\b(?-i:Mr|Mrs|Ms|Miss|Master)\.? [A-Z][A-Za-z'\-]*, (?P<n5>\d{1,3})\b",  # "Mr B, 70,"
    re.IGNORECASE,
)
_RELATIVE_AFTER = re.compile(
    r"^\W*(?:son|daughter|brother|sister|child|mother|father|sibling|twin|nephew|niece|cousin|grandson|granddaughter)\b",
    re.IGNORECASE,
)


def ages(text: str, words: Mapping[str, float]) -> list[Found]:
    """Every age written as ``55-year-old``, ``6-month-old``, ``aged 55`` or ``55 years old``,
    in years; ages of a relative (``her 14-year-old son``) are left out."""
    out = []
    for m in _AGE.finditer(text):
        if _RELATIVE_AFTER.match(text[m.end():m.end() + 30]):
            continue
        if m.group("n") is not None:
            n = number(m.group("n"), words)
            unit = _unit(m.group("u"))
            if n is None or unit is None:
                continue
            out.append(Found(round(n * unit / DAYS["year"], 2), m.start(), m.end(), "age"))
        else:
            n = float(m.group("n2") or m.group("n3") or m.group("n4") or m.group("n5"))
            if n > 120:
                continue
            out.append(Found(n, m.start(), m.end(), "age"))
    return out


_DURATION = re.compile(
    r"\b(?:for|over|in|during)\s+"
    r"(?:about\s+|around\s+|almost\s+|nearly\s+|over\s+|more than\s+|the\s+(?:last|past)\s+)?"
    rf"(?P<n>{_NUM})\s+(?P<u>hours?|days?|nights?|weeks?|fortnights?|months?|years?)\b"
    rf"|\b(?:has had|had|have had|with)\s+(?:about\s+)?(?P<n2>{_NUM})\s+(?P<u2>days?|weeks?|months?|years?)\s+of\b"
    rf"|\b(?P<n3>{_NUM})\s+(?P<u3>days?|weeks?|months?|years?)\s+of\s+(?:painful|worsening|frequent|intermittent|"
    rf"low|back|cramps?|spasms?|symptoms?|jerks?|twitching|pain)"
    rf"|\bfor\s+(?P<a>a|an)\s+(?P<u4>hour|day|week|fortnight|month|year)\b"
    rf"|\b(?:over|for|in)\s+(?:the\s+)?(?:last|past)\s+(?P<u5>year|month|week|fortnight|day)\b",
    re.IGNORECASE,
)
_AGO = re.compile(
    rf"\b(?P<n>{_NUM})\s+(?P<u>hours?|days?|weeks?|months?|years?)\s+ago\b"
    r"|\b(?P<w>yesterday|last night|this morning|this afternoon|this evening|today|tonight|last week|last month|"
    r"last year)\b"
    rf"|\b(?P<n2>{_NUM})\s+(?P<u2>hours?|days?)\s+(?:later|after)\b"
    rf"|\bsince\s+(?P<w2>yesterday|last night|this morning)\b",
    re.IGNORECASE,
)
_WORD_DAYS = {"yesterday": 1.0, "last night": 0.5, "this morning": 0.0, "this afternoon": 0.0, "this evening": 0.0,
              "today": 0.0, "tonight": 0.0, "last week": 7.0, "last month": 30.0, "last year": 365.0}


_SHORTHAND = re.compile(r"\b(?P<n>\d{1,2})/(?P<base>12|52|7)\b(?!/)")
_SHORTHAND_DAYS = {"12": DAYS["month"], "52": DAYS["week"], "7": DAYS["day"]}


def durations(text: str, words: Mapping[str, float]) -> list[Found]:
    """Every length of time (``for two years``, ``three years of``, ``for a year``, ``over the
    past eighteen months``, ``3/12`` for three months) and time before now (``nine days
    ago``, ``yesterday``, ``this morning``, ``three hours later``), in days; ``kind`` is
    ``duration`` or ``ago``."""
    out = []
    for m in _DURATION.finditer(text):
        groups = m.groupdict()
        if groups.get("a"):
            n: float | None = 1.0
            unit = _unit(groups["u4"])
        elif groups.get("u5"):
            n, unit = 1.0, _unit(groups["u5"])
        else:
            raw = groups.get("n") or groups.get("n2") or groups.get("n3")
            u = groups.get("u") or groups.get("u2") or groups.get("u3")
            n = number(raw or "", words)
            unit = _unit(u or "")
        if n is None or unit is None or n <= 0 or n > 150 * 365:
            continue
        out.append(Found(n * unit, m.start(), m.end(), "duration"))
    for m in _SHORTHAND.finditer(text):  # "3/12" three months, "2/52" two weeks, "5/7" five days
        n = float(m.group("n"))
        if 0 < n < float(m.group("base")):
            out.append(Found(n * _SHORTHAND_DAYS[m.group("base")], m.start(), m.end(), "duration"))
    for m in _AGO.finditer(text):
        groups = m.groupdict()
        if groups.get("w") or groups.get("w2"):
            days = _WORD_DAYS[(groups.get("w") or groups.get("w2") or "").casefold()]
            out.append(Found(days, m.start(), m.end(), "ago"))
            continue
        raw = groups.get("n") or groups.get("n2")
        u = groups.get("u") or groups.get("u2")
        n = number(raw or "", words)
        unit = _unit(u or "")
        if n is None or unit is None:
            continue
        kind = "ago" if groups.get("n") else "later"
        out.append(Found(n * unit, m.start(), m.end(), kind))
    return sorted(out, key=lambda f: f.start)


_ONSET = re.compile(
    r"\bsince\s+(?:the\s+)?age\s+(?:of\s+)?(?P<a>\d{1,3})\b"
    r"|\bsince\s+(?:(?:his|her|their)\s+)?(?P<b>\d{1,3})(?!\s*(?:years?|months?|weeks?|days?|hours?|mg|%|\.\d))\b"
    r"|\b(?:began|begun|started|starting|developed|noticed|appeared|beginning|onset|presented)\b[^.;]{0,60}?\bat\s+"
    r"(?:the\s+)?(?:age\s+(?:of\s+)?)?(?P<c>\d{1,3}|[a-z]+)(?!\s*(?:years?|months?|weeks?|days?|hours?|minutes?|"
    r"mg|degrees|%|\.\d|o'clock|am\b|pm\b))\b"
    r"|\bat\s+(?:the\s+)?(?:age\s+(?:of\s+)?)?(?P<d>\d{1,3})\b(?=\s*,?\s*(?:he|she|they|her|his)?\s*"
    r"(?:began|developed|noticed|started|had))"
    r"|\b(?:when|since)\s+(?:he|she|they)\s+was\s+(?P<e>\d{1,3}|[a-z]+(?:-[a-z]+)?)\b"
    r"|\bafter\s+(?:his|her|their)\s+(?P<f>[a-z]+|\d+(?:st|nd|rd|th))\s+birthday\b"
    r"|\bby\s+(?P<g>\d{1,2})\b(?=\s*,?\s*(?:the|his|her|it|he|she))",
    re.IGNORECASE,
)


def onset_ages(text: str, words: Mapping[str, float], stages: Mapping[str, float]) -> list[Found]:
    """Every age at onset stated outright: ``since the age of 54``, ``since 12``, ``began at
    8``, ``at 58`` before ``he noticed``, ``when he was eight``, ``after his second birthday``,
    ``by 10`` (``kind == "onset"``), and stages of life from ``stages`` (``since infancy``,
    ``as a toddler``: ``kind == "stage"``), in years."""
    out = []
    for m in _ONSET.finditer(text):
        groups = m.groupdict()
        key = next(k for k in "abcdefg" if groups.get(k))
        raw = groups[key]
        if key == "f":
            raw = re.sub(r"(st|nd|rd|th)$", "", raw) if raw[0].isdigit() else raw
        value = number(raw, words)
        if value is None or not 0 <= value <= 120:
            continue
        kind = "by" if key == "g" else "onset"
        out.append(Found(value, m.start(), m.end(), kind))
    for stage, age in stages.items():
        pattern = re.compile(rf"\b(?:since|from|in|during|as|at)\s+(?:early\s+)?{re.escape(stage)}\b", re.IGNORECASE)
        for m in pattern.finditer(text):
            out.append(Found(float(age), m.start(), m.end(), "stage"))
    return sorted(out, key=lambda f: f.start)
