"""The patient handout: the same assessment in plain language (reading grade 8 or lower).

Every sentence comes from ``plain_language.yaml`` beside this module, one entry per word of
the assessment's vocabulary (phenomenology, focal type, cause, etiology, alert, work-up,
treatment), checked at load by :func:`read_plain_language`; nothing is generated.
:func:`handout_sections` picks the entries for an assessment; :func:`render_handout` lays
them out as HTML and :func:`handout_text` as plain text (which the tests measure with
textstat).

What the handout says follows from the assessment and, when given, the case:

* **Who it speaks to.** A patient under 16 (``reader.carer_below_age`` in the data file, with
  its reason and source) is spoken of as "your child", to a parent or carer; an older patient,
  or one of unknown age, is spoken to as "you".
* **The drug.** A drug the assessment holds behind the problem (a ``drug: ...`` fact of a
  conclusion, alert, test or treatment, written by the knowledge base's drug condition) is
  named as it was given, e.g. "Reglan (metoclopramide)".
* **No contradiction.** A text is left out when the handout holds a key that makes it wrong
  (``drop_if``: "no other cause has been found" beside "some signs point to a cause").
* **Emergencies.** When an alert of emergency or urgent urgency is raised, the care it calls
  for comes first; an oral treatment is named only in words that alert gives it (a step after
  the emergency care), or for later when the alert allows it, never as the answer.
* **Warnings.** "When to get help at once" gives the lines that fit the condition; a line
  whose sign the patient already has is never given as a future warning (with no urgent
  alert, its words for "now" go to "Act now" instead).
"""

from __future__ import annotations

import functools
import html
import re
import string
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from importlib.resources import files
from typing import TYPE_CHECKING, Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from ..assessment import Assessment
from ..errors import KnowledgeBaseError, Problem
from ..vocabulary import (
    ALERTS,
    CAUSES,
    DISTRIBUTIONS,
    ETIOLOGIES,
    FOCAL_TYPES,
    PHENOMENOLOGIES,
    TREATMENTS,
    WORKUPS,
    urgency_rank,
)
from .html import THEME, urgency_class

if TYPE_CHECKING:
    from ..case import Case
    from ..knowledge import KnowledgeBase

__all__ = [
    "HandoutSection",
    "NamedDrug",
    "PlainLanguage",
    "Reader",
    "handout_reader",
    "handout_sections",
    "handout_text",
    "load_plain_language",
    "named_drugs",
    "read_plain_language",
    "render_handout",
    "speak",
]

FILE = "plain_language.yaml"
Reader = Literal["patient", "carer"]

SECTIONS: Mapping[str, tuple[str, ...]] = {
    "phenomenology": PHENOMENOLOGIES,
    "focal_type": FOCAL_TYPES,
    "distribution": DISTRIBUTIONS,
    "etiology": ETIOLOGIES,
    "cause": CAUSES,
    "alerts": ALERTS,
    "workup": WORKUPS,
    "treatments": TREATMENTS,
}
"""The sections of entries, each with the vocabulary it must cover."""

_CODE = r"[a-z0-9]+(?:-[a-z0-9]+)*"
_KEY = re.compile(rf"^(?:(?:{'|'.join(SECTIONS)})\.{_CODE}|urgent|drug|any|drug\.{_CODE})$")
_SIGN = re.compile(rf"^(?:HP:\d{{7}}|CX:{_CODE}|alerts\.{_CODE}|{_CODE})$")
_PAIR = re.compile(r"\[([^\[\]|]*)\|([^\[\]|]*)\]")
_BARE_YOU = re.compile(r"\b(?:you|your|yours|yourself)\b", re.IGNORECASE)
_OPENING_PLACEHOLDER = re.compile(r"(?:^|[.!?]\s+)\{")
_PLACEHOLDERS = frozenset({"drug", "the_drug"})
_DRUG_FACT = re.compile(r"^drug: (?P<display>.+) \((?P<cls>[a-z0-9]+(?:-[a-z0-9]+)*)(?:, [^()]*)?\)$")


# -- the data file ---------------------------------------------------------------------------

def _wording_problems(text: str) -> list[str]:
    """What is wrong with a text: unpaired brackets, "you" outside a pair, unknown or
    sentence-opening placeholders."""
    problems: list[str] = []
    bare = _PAIR.sub("", text)
    if any(c in bare for c in "[]|"):
        problems.append("a '[patient words|carer words]' pair is not closed, or holds '[' or a second '|'")
    you = _BARE_YOU.search(bare)
    if you:
        problems.append(f"{you.group(0)!r} is written outside a '[patient words|carer words]' pair")
    for reader in (1, 2):
        chosen = _PAIR.sub(lambda m, side=reader: m.group(side), text)
        try:
            names = {name for _, name, _, _ in string.Formatter().parse(chosen) if name is not None}
        except ValueError as error:
            problems.append(f"a placeholder is not closed ({error})")
            continue
        unknown = sorted(names - _PLACEHOLDERS)
        if unknown:
            problems.append(f"unknown placeholder {{{unknown[0]}}} (allowed: {{drug}}, {{the_drug}})")
        if _OPENING_PLACEHOLDER.search(chosen):
            problems.append("a drug name opens a sentence (write 'The medicine {drug} ...')")
    return sorted(set(problems))


def _checked_keys(values: tuple[str, ...]) -> tuple[str, ...]:
    for value in values:
        if not _KEY.match(value):
            raise ValueError(f"{value!r} is not a key (<section>.<code>, urgent, drug, drug.<class> or any)")
    return values


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


def _words(value: str) -> str:
    problems = _wording_problems(value)
    if problems:
        raise ValueError("; ".join(problems))
    return value


class Wording(_Model):
    """One text of the handout: its words, the words with a named drug, and what rules it out."""

    text: str = Field(min_length=1)
    with_drug: str | None = Field(default=None, min_length=1)
    instead: Mapping[str, str] = Field(default_factory=dict)
    drop_if: tuple[str, ...] = ()

    @model_validator(mode="before")
    @classmethod
    def _plain(cls, value: Any) -> Any:
        return {"text": value} if isinstance(value, str) else value

    @field_validator("text", "with_drug")
    @classmethod
    def _text(cls, value: str | None) -> str | None:
        return None if value is None else _words(value)

    @field_validator("with_drug")
    @classmethod
    def _names_drug(cls, value: str | None) -> str | None:
        if value is not None and "{drug}" not in value and "{the_drug}" not in value:
            raise ValueError("with_drug must name the drug with {drug} or {the_drug}")
        return value

    @field_validator("drop_if")
    @classmethod
    def _keys(cls, values: tuple[str, ...]) -> tuple[str, ...]:
        return _checked_keys(values)

    @field_validator("instead")
    @classmethod
    def _instead(cls, values: Mapping[str, str]) -> Mapping[str, str]:
        _checked_keys(tuple(values))
        for key, text in values.items():
            problems = _wording_problems(text)
            if problems:
                raise ValueError(f"{key}: " + "; ".join(problems))
        return values


class AlertWording(Wording):
    """An alert's text, with the words its treatments take in it and whether the others may
    be named for later."""

    treatments: Mapping[str, str] = Field(default_factory=dict)
    later: bool = False

    @field_validator("treatments")
    @classmethod
    def _treatments(cls, values: Mapping[str, str]) -> Mapping[str, str]:
        for code, text in values.items():
            if not re.fullmatch(_CODE, code):
                raise ValueError(f"{code!r} is not a treatment code")
            problems = _wording_problems(text)
            if problems:
                raise ValueError(f"{code}: " + "; ".join(problems))
        return values


class HelpLine(_Model):
    """A "get help at once" line: the conditions it fits, the signs it warns of, and what to
    say when a sign is already there."""

    id: str = Field(pattern=rf"^{_CODE}$")
    text: str
    now: str | None = None
    signs: tuple[str, ...] = ()
    for_: tuple[str, ...] = Field(alias="for", min_length=1)
    drop_if: tuple[str, ...] = ()

    @field_validator("text", "now")
    @classmethod
    def _text(cls, value: str | None) -> str | None:
        return None if value is None else _words(value)

    @field_validator("signs")
    @classmethod
    def _signs(cls, values: tuple[str, ...]) -> tuple[str, ...]:
        for value in values:
            if not _SIGN.match(value):
                raise ValueError(f"{value!r} is not a sign (an HPO id, a CX: code, a concept id or alerts.<code>)")
        return values

    @field_validator("for_", "drop_if")
    @classmethod
    def _for(cls, values: tuple[str, ...]) -> tuple[str, ...]:
        return _checked_keys(values)

    @model_validator(mode="after")
    def _now(self) -> HelpLine:
        if self.signs and self.now is None:
            raise ValueError("a line with signs needs its 'now' words, said when a sign is already there")
        return self


class ReaderRule(_Model):
    """Below which age the handout speaks to a parent or carer, and the source of that age."""

    carer_below_age: float = Field(gt=0, le=21)
    source: str


class Headings(_Model):
    now: str
    what: str
    cause: str
    tests: str
    treatments: str
    emergency_treatments: str
    later: str
    help: str
    closing: str


class DrugWords(_Model):
    unknown: str
    unknown_the: str


class PlainLanguage(_Model):
    """The whole plain-language file, checked."""

    source: str
    reviewed: str
    reader: ReaderRule
    title: str
    intro: str
    headings: Headings
    drug_words: DrugWords
    later_unsaid: str
    phenomenology: Mapping[str, Wording]
    focal_type: Mapping[str, Wording]
    distribution: Mapping[str, Wording]
    etiology: Mapping[str, Wording]
    cause: Mapping[str, Wording]
    alerts: Mapping[str, AlertWording]
    workup: Mapping[str, Wording]
    treatments: Mapping[str, Wording]
    help: tuple[HelpLine, ...]
    closing: str

    @field_validator("reviewed", mode="before")
    @classmethod
    def _date(cls, value: Any) -> Any:
        return str(value)

    @field_validator("title", "intro", "later_unsaid", "closing")
    @classmethod
    def _text(cls, value: str) -> str:
        return _words(value)

    @model_validator(mode="after")
    def _complete(self) -> PlainLanguage:
        missing = [f"{section}.{code}" for section, codes in SECTIONS.items()
                   for code in codes if code not in getattr(self, section)]
        if missing:
            raise ValueError("no plain words for " + ", ".join(missing))
        ids = [line.id for line in self.help]
        if len(ids) != len(set(ids)):
            raise ValueError("two help lines share an id")
        return self

    def entry(self, section: str, code: str) -> Wording:
        """The entry of a code (``entry("alerts", "tetanus")``).

        Raises
        ------
        KnowledgeBaseError
            The file has no words for it (a code added to the vocabulary and not here).
        """
        entries: Mapping[str, Wording] = getattr(self, section)
        if code not in entries:
            raise KnowledgeBaseError([Problem(f"{FILE}: {section}", f"no plain words for {code!r}")])
        return entries[code]


def read_plain_language(data: Any) -> PlainLanguage:
    """Check the plain-language texts (the parsed ``plain_language.yaml``).

    Raises
    ------
    KnowledgeBaseError
        Naming the file, the entry and the field of each mistake: a code of the vocabulary
        with no words, an unpaired ``[patient|carer]`` pair, "you" outside a pair, an unknown
        placeholder, a key or sign of the wrong form.
    """
    try:
        return PlainLanguage.model_validate(data)
    except ValidationError as error:
        problems = [Problem(f"{FILE}: " + ".".join(str(p) for p in e["loc"]), e["msg"].removeprefix("Value error, "))
                    for e in error.errors()]
        raise KnowledgeBaseError(problems) from None


@functools.lru_cache(maxsize=1)
def load_plain_language() -> PlainLanguage:
    """The plain-language texts (``plain_language.yaml``), read and checked once."""
    text = (files("contraxis.report") / FILE).read_text(encoding="utf-8")
    return read_plain_language(yaml.safe_load(text))


# -- what the handout is about ---------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class NamedDrug:
    """A drug the assessment holds behind the problem: as it was given, and its class."""

    display: str
    drug_class: str


def named_drugs(assessment: Assessment) -> tuple[NamedDrug, ...]:
    """The drugs the assessment's conclusions, alerts, tests and treatments rest on.

    Read from their ``drug: <drug as given> (<class>, ...)`` facts, in order of first mention;
    one row per drug and class.
    """
    found: dict[tuple[str, str], NamedDrug] = {}
    groups: Iterable[Iterable[Any]] = (
        assessment.alerts, assessment.conclusions, assessment.treatments, assessment.workup,
    )
    for group in groups:
        for item in group:
            for fact in item.why.facts:
                match = _DRUG_FACT.match(fact)
                if match:
                    key = (match["display"], match["cls"])
                    found.setdefault(key, NamedDrug(*key))
    return tuple(found.values())


def handout_reader(case: Case | None, *, texts: PlainLanguage | None = None) -> Reader:
    """Whom the handout speaks to: ``"carer"`` for a patient under ``reader.carer_below_age``
    (16), else ``"patient"`` (also when the age is not known)."""
    t = texts or load_plain_language()
    if case is not None and case.age is not None and case.age < t.reader.carer_below_age:
        return "carer"
    return "patient"


def _urgent(alert: Any) -> bool:
    """An alert of emergency or urgent urgency: its care comes first, under "Act now"."""
    return urgency_rank(alert.urgency) <= urgency_rank("urgent")


def _join(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def speak(text: str, reader: Reader, drugs: tuple[NamedDrug, ...] = (), *, texts: PlainLanguage | None = None) -> str:
    """A text as said to one reader: each ``[patient|carer]`` pair resolved and the drug
    placeholders filled (with ``drug_words`` when no drug is named)."""
    t = texts or load_plain_language()
    chosen = _PAIR.sub(lambda m: m.group(1 if reader == "patient" else 2), text)
    if "{" not in chosen:
        return chosen
    names = list(dict.fromkeys(d.display for d in drugs))
    return chosen.format(drug=_join(names) if names else t.drug_words.unknown,
                         the_drug=_join(names) if names else t.drug_words.unknown_the)


def _keys(assessment: Assessment, drugs: tuple[NamedDrug, ...]) -> frozenset[str]:
    summary = assessment.summary
    keys = {"any"}
    for section in ("phenomenology", "focal_type", "distribution", "etiology", "cause"):
        value = getattr(summary, section)
        if value:
            keys.add(f"{section}.{value}")
    keys |= {f"alerts.{a.code}" for a in assessment.alerts}
    keys |= {f"workup.{w.code}" for w in assessment.workup}
    keys |= {f"treatments.{t.code}" for t in assessment.treatments}
    if any(_urgent(a) for a in assessment.alerts):
        keys.add("urgent")
    if drugs:
        keys.add("drug")
        keys |= {f"drug.{d.drug_class}" for d in drugs}
    return frozenset(keys)


def _present_signs(
    line: HelpLine, assessment: Assessment, case: Case | None, kb: KnowledgeBase | None,
) -> tuple[bool, bool]:
    """Whether a help line's sign is already there: (by a raised alert, by a finding of the case)."""
    raised = {f"alerts.{a.code}" for a in assessment.alerts}
    by_alert = any(sign in raised for sign in line.signs)
    by_finding = False
    if case is not None and case.present:
        codes: set[str] = set()
        for sign in line.signs:
            if sign.startswith("alerts."):
                continue
            if sign.startswith(("HP:", "CX:")):
                codes.add(sign)
                continue
            kb = kb or _bundled_kb()
            if sign not in kb.concepts:
                raise KnowledgeBaseError([Problem(f"{FILE}: help.{line.id}.signs",
                                                  f"{sign!r} is not a concept of the knowledge base's findings.yaml")])
            codes |= kb.concepts[sign]
        by_finding = bool(codes & case.present)
    return by_alert, by_finding


def _bundled_kb() -> KnowledgeBase:
    from ..knowledge import load_knowledge_base

    return load_knowledge_base()


# -- the sections ----------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class HandoutSection:
    """One part of the handout: a heading and its paragraphs or list items."""

    id: str
    heading: str
    paragraphs: tuple[str, ...] = ()
    items: tuple[str, ...] = ()
    urgent: bool = False


class _Speaker:
    """Says the entries of one handout: to its reader, with its drugs, minus what its keys rule out."""

    def __init__(self, t: PlainLanguage, reader: Reader, drugs: tuple[NamedDrug, ...], keys: frozenset[str]) -> None:
        self.t, self.reader, self.drugs, self.keys = t, reader, drugs, keys

    def say(self, text: str) -> str:
        return speak(text, self.reader, self.drugs, texts=self.t)

    def entry(self, section: str, code: str) -> str | None:
        wording = self.t.entry(section, code)
        if any(key in self.keys for key in wording.drop_if):
            return None
        for key, text in wording.instead.items():
            if key in self.keys:
                return self.say(text)
        return self.say(wording.with_drug if self.drugs and wording.with_drug else wording.text)


def _unique(texts: Iterable[str | None]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(t for t in texts if t))


def handout_sections(assessment: Assessment, *, case: Case | None = None, kb: KnowledgeBase | None = None,
                     texts: PlainLanguage | None = None) -> list[HandoutSection]:
    """Pick the plain-language texts that fit an assessment.

    Parameters
    ----------
    assessment : Assessment
        The assessment.
    case : Case, optional
        The case it came from: its age decides whom the handout speaks to (a parent or carer
        under ``reader.carer_below_age``), its findings which warnings it already has.
        Without it the handout speaks to the patient and knows only the alerts.
    kb : KnowledgeBase, optional
        For the concepts a warning's signs name; the bundled one when needed and omitted.
    texts : PlainLanguage, optional
        The texts; :func:`load_plain_language` if omitted.

    Returns
    -------
    list of HandoutSection
        In reading order: urgent help first (when an alert calls for it), what it is, what
        may cause it, tests, treatments (in an emergency: the care now, then what waits for
        later), when to get help at once, and a closing word.

    Raises
    ------
    KnowledgeBaseError
        A code of the assessment has no plain words, or a warning names an unknown concept.
    """
    t = texts or load_plain_language()
    drugs = named_drugs(assessment)
    keys = _keys(assessment, drugs)
    s = _Speaker(t, handout_reader(case, texts=t), drugs, keys)
    h = t.headings
    summary = assessment.summary
    urgent_alerts = sorted((a for a in assessment.alerts if _urgent(a)), key=lambda a: urgency_rank(a.urgency))
    sections: list[HandoutSection] = []

    help_lines: list[str] = []
    now_lines: list[str] = []
    for line in t.help:
        if not any(key in keys for key in line.for_) or any(key in keys for key in line.drop_if):
            continue
        by_alert, by_finding = _present_signs(line, assessment, case, kb)
        if by_alert or by_finding:
            if not by_alert and not urgent_alerts and line.now:
                now_lines.append(s.say(line.now))
            continue
        help_lines.append(s.say(line.text))

    now = _unique([s.entry("alerts", a.code) for a in urgent_alerts] + now_lines)
    if now:
        sections.append(HandoutSection("now", h.now, now, urgent=True))

    what: list[str | None] = []
    if summary.phenomenology:
        what.append(s.entry("phenomenology", summary.phenomenology))
    if summary.focal_type:
        what.append(s.entry("focal_type", summary.focal_type))
    elif summary.distribution and summary.phenomenology == "dystonia":
        what.append(s.entry("distribution", summary.distribution))
    if _unique(what):
        sections.append(HandoutSection("what", h.what, _unique(what)))

    cause: list[str | None] = []
    if summary.cause:
        cause.append(s.entry("cause", summary.cause))
    if summary.etiology:
        cause.append(s.entry("etiology", summary.etiology))
    cause += [s.entry("alerts", a.code) for a in assessment.alerts if not _urgent(a)]
    if _unique(cause):
        sections.append(HandoutSection("cause", h.cause, _unique(cause)))

    tests = _unique(s.entry("workup", w.code) for w in assessment.workup)
    if tests:
        sections.append(HandoutSection("tests", h.tests, items=tests))

    sections += _treatment_sections(assessment, urgent_alerts, s)
    sections.append(HandoutSection("help", h.help, items=_unique(help_lines)))
    sections.append(HandoutSection("closing", h.closing, (s.say(t.closing),)))
    return sections


def _treatment_sections(assessment: Assessment, urgent_alerts: list[Any], s: _Speaker) -> list[HandoutSection]:
    """The treatments: in order; in an emergency, the care now first and no oral drug as its answer."""
    t, h = s.t, s.t.headings
    ordered = sorted(assessment.treatments, key=lambda i: i.line)
    if not urgent_alerts:
        items = _unique(s.entry("treatments", i.code) for i in ordered)
        return [HandoutSection("treatments", h.treatments, items=items)] if items else []
    own: dict[str, str] = {}
    for alert in urgent_alerts:
        wording = t.alerts.get(alert.code)
        for code, text in (wording.treatments.items() if wording else ()):
            own.setdefault(code, text)
    care: list[str | None] = []
    later: list[str | None] = []
    for item in ordered:
        if item.code in own:
            care.append(s.say(own[item.code]))
        elif item.kind in ("emergency", "causal"):
            care.append(s.entry("treatments", item.code))
        else:
            later.append(s.entry("treatments", item.code))
    sections: list[HandoutSection] = []
    if _unique(care):
        sections.append(HandoutSection("treatments", h.emergency_treatments, items=_unique(care)))
    if _unique(later):
        if all(t.alerts[a.code].later for a in urgent_alerts if a.code in t.alerts):
            sections.append(HandoutSection("later", h.later, items=_unique(later)))
        else:
            sections.append(HandoutSection("later", h.later, (s.say(t.later_unsaid),)))
    return sections


# -- the handout as text and as HTML ---------------------------------------------------------

def handout_text(assessment: Assessment, *, case: Case | None = None, kb: KnowledgeBase | None = None,
                 texts: PlainLanguage | None = None) -> str:
    """The handout as plain text (headings, then sentences), as a reader meets it.

    Parameters as :func:`handout_sections`.
    """
    t = texts or load_plain_language()
    reader = handout_reader(case, texts=t)
    lines = [speak(t.title, reader, texts=t) + ".", speak(t.intro, reader, texts=t)]
    for section in handout_sections(assessment, case=case, kb=kb, texts=t):
        lines.append(section.heading + ".")
        lines += list(section.paragraphs)
        lines += list(section.items)
    lines.append(_versions_sentence(assessment))
    return "\n".join(lines)


def _versions_sentence(assessment: Assessment) -> str:
    return (f"Made with Contraxis. Knowledge base {assessment.knowledge_base_version}. "
            f"HPO release {assessment.hpo_release}.")


def render_handout(assessment: Assessment, *, case: Case | None = None, kb: KnowledgeBase | None = None,
                   standalone: bool = True, texts: PlainLanguage | None = None) -> str:
    """Render the patient handout as HTML.

    Parameters
    ----------
    assessment : Assessment
        The assessment.
    case : Case, optional
        The case it came from (whom to speak to, which warnings are already there); see
        :func:`handout_sections`.
    kb : KnowledgeBase, optional
        For the concepts a warning's signs name; the bundled one when needed and omitted.
    standalone : bool
        A whole HTML document (True) or the ``<article>`` alone, to put in a page.
    texts : PlainLanguage, optional
        The texts; :func:`load_plain_language` if omitted.

    Returns
    -------
    str
        The HTML.
    """
    t = texts or load_plain_language()
    reader = handout_reader(case, texts=t)
    e = html.escape
    title = speak(t.title, reader, texts=t)
    parts = [f'<article class="cx-handout" aria-labelledby="cx-handout-title" lang="en" data-reader="{reader}">',
             f'<h2 id="cx-handout-title">{e(title)}</h2>', f"<p>{e(speak(t.intro, reader, texts=t))}</p>"]
    for section in handout_sections(assessment, case=case, kb=kb, texts=t):
        klass = f" class='cx-alert {urgency_class('emergency')}'" if section.urgent else ""
        parts.append(f"<section data-section='{section.id}'{klass}><h3>{e(section.heading)}</h3>")
        parts += [f"<p>{e(p)}</p>" for p in section.paragraphs]
        if section.items:
            parts.append("<ul>" + "".join(f"<li>{e(i)}</li>" for i in section.items) + "</ul>")
        parts.append("</section>")
    parts.append(
        "<footer class='cx-meta'><p>Contraxis · knowledge base "
        f"<span class='kb-version'>{e(assessment.knowledge_base_version)}</span>"
        f" · HPO release <span class='hpo-release'>{e(assessment.hpo_release)}</span></p></footer></article>"
    )
    article = "\n".join(parts)
    if not standalone:
        return article
    theme = ":root{" + "".join(f"--{k}:{v};" for k, v in THEME.items()) + "}"
    css = theme + """
body{margin:1.5rem auto;max-width:40rem;padding:0 1rem;color:var(--cx-text);background:var(--cx-surface);
font:18px/1.6 Georgia,"Times New Roman",serif}
h2{font-size:1.5rem}h3{font-size:1.15rem;margin-top:1.2rem}
.cx-alert{border-left:.5rem solid var(--cx-alert-emergency);background:var(--cx-alert-emergency-panel);
padding:.3rem .8rem}
.cx-meta{color:var(--cx-muted);font-size:.85rem}
@media print{body{font-size:12pt;margin:0}.cx-alert{-webkit-print-color-adjust:exact;print-color-adjust:exact}}
"""
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{e(title)}</title><style>{css}</style></head>
<body><main>{article}</main></body></html>"""
