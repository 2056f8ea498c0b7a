"""The patient handout: the same assessment in plain language (reading grade 8 or lower).

Every sentence comes from ``plain_language.yaml`` beside this module, one entry per word of
the assessment's vocabulary (phenomenology, focal type, cause, etiology, alert, work-up,
treatment); nothing is generated. :func:`handout_sections` picks the entries for an
assessment; :func:`render_handout` lays them out as HTML and :func:`handout_text` as plain
text (which the tests measure with textstat).
"""

from __future__ import annotations

import functools
import html
from dataclasses import dataclass
from importlib.resources import files
from typing import Any, Mapping

import yaml

from ..assessment import Assessment
from .html import THEME, urgency_class

__all__ = ["HandoutSection", "handout_sections", "handout_text", "load_plain_language", "render_handout"]

URGENT = ("emergency", "urgent")


@functools.lru_cache(maxsize=1)
def load_plain_language() -> Mapping[str, Any]:
    """The plain-language texts (``plain_language.yaml``), read once."""
    text = (files("contraxis.report") / "plain_language.yaml").read_text(encoding="utf-8")
    return yaml.safe_load(text)


@dataclass(frozen=True, slots=True)
class HandoutSection:
    """One part of the handout: a heading and its paragraphs or list items."""

    id: str
    heading: str
    paragraphs: tuple[str, ...] = ()
    items: tuple[str, ...] = ()
    urgent: bool = False


def handout_sections(assessment: Assessment, *, texts: Mapping[str, Any] | None = None) -> list[HandoutSection]:
    """Pick the plain-language texts that fit an assessment.

    Parameters
    ----------
    assessment : Assessment
        The assessment.
    texts : mapping, optional
        The texts; :func:`load_plain_language` if omitted.

    Returns
    -------
    list of HandoutSection
        In reading order: urgent help first (when an alert calls for it), what it is, what
        may cause it, tests, treatments, when to get help, and a closing word.
    """
    t = texts or load_plain_language()
    summary = assessment.summary
    sections: list[HandoutSection] = []
    urgent = [t["alerts"][a.code] for a in assessment.alerts if a.urgency in URGENT and a.code in t["alerts"]]
    if urgent:
        sections.append(HandoutSection("now", "Act now", tuple(urgent), urgent=True))
    what: list[str] = []
    if summary.phenomenology:
        what.append(t["phenomenology"][summary.phenomenology])
    if summary.focal_type:
        what.append(t["focal_type"][summary.focal_type])
    elif summary.distribution and summary.phenomenology == "dystonia":
        what.append(t["distribution"][summary.distribution])
    if what:
        sections.append(HandoutSection("what", "What is happening", tuple(what)))
    cause: list[str] = []
    if summary.cause:
        cause.append(t["cause"][summary.cause])
    if summary.etiology:
        cause.append(t["etiology"][summary.etiology])
    cause += [t["alerts"][a.code] for a in assessment.alerts if a.urgency not in URGENT and a.code in t["alerts"]]
    if cause:
        sections.append(HandoutSection("cause", "What may cause it", tuple(cause)))
    tests = tuple(t["workup"][w.code] for w in assessment.workup if w.code in t["workup"])
    if tests:
        sections.append(HandoutSection("tests", "Tests that may come next", items=tests))
    treatments = tuple(
        t["treatments"][item.code] for item in sorted(assessment.treatments, key=lambda i: i.line)
        if item.code in t["treatments"]
    )
    if treatments:
        sections.append(HandoutSection("treatments", "Treatments, in the order we may try them", items=treatments))
    sections.append(HandoutSection("help", "When to get help at once", items=tuple(t["seek_help"])))
    sections.append(HandoutSection("closing", "A last word", (t["closing"],)))
    return sections


def handout_text(assessment: Assessment, *, texts: Mapping[str, Any] | None = None) -> str:
    """The handout as plain text (headings, then sentences), as a reader meets it."""
    t = texts or load_plain_language()
    lines = [t["title"] + ".", t["intro"]]
    for section in handout_sections(assessment, texts=t):
        lines.append(section.heading + ".")
        lines += list(section.paragraphs)
        lines += list(section.items)
    lines.append(_versions_sentence(assessment))
    return "\n".join(lines)


def _versions_sentence(assessment: Assessment) -> str:
    return (f"Made with Contraxis. Knowledge base {assessment.knowledge_base_version}. "
            f"HPO release {assessment.hpo_release}.")


def render_handout(assessment: Assessment, *, standalone: bool = True, texts: Mapping[str, Any] | None = None) -> str:
    """Render the patient handout as HTML.

    Parameters
    ----------
    assessment : Assessment
        The assessment.
    standalone : bool
        A whole HTML document (True) or the ``<article>`` alone, to put in a page.
    texts : mapping, optional
        The texts; :func:`load_plain_language` if omitted.

    Returns
    -------
    str
        The HTML.
    """
    t = texts or load_plain_language()
    e = html.escape
    parts = ['<article class="cx-handout" aria-labelledby="cx-handout-title" lang="en">',
             f'<h2 id="cx-handout-title">{e(t["title"])}</h2>', f"<p>{e(t['intro'])}</p>"]
    for section in handout_sections(assessment, texts=t):
        klass = f" class='cx-alert {urgency_class('emergency')}'" if section.urgent else ""
        parts.append(f"<section data-section='{section.id}'{klass}><h3>{e(section.heading)}</h3>")
        parts += [f"<p>{e(p)}</p>" for p in section.paragraphs]
        if section.items:
            parts.append("<ul>" + "".join(f"<li>{e(i)}</li>" for i in section.items) + "</ul>")
        parts.append("</section>")
    parts.append(
        f"<footer class='cx-meta'><p>Contraxis · knowledge base <span class='kb-version'>{e(assessment.knowledge_base_version)}</span>"
        f" · HPO release <span class='hpo-release'>{e(assessment.hpo_release)}</span></p></footer></article>"
    )
    article = "\n".join(parts)
    if not standalone:
        return article
    theme = ":root{" + "".join(f"--{k}:{v};" for k, v in THEME.items()) + "}"
    css = theme + """
body{margin:1.5rem auto;max-width:40rem;padding:0 1rem;color:var(--cx-text);background:var(--cx-surface);font:18px/1.6 Georgia,"Times New Roman",serif}
h2{font-size:1.5rem}h3{font-size:1.15rem;margin-top:1.2rem}
.cx-alert{border-left:.5rem solid var(--cx-alert-emergency);background:var(--cx-alert-emergency-panel);padding:.3rem .8rem}
.cx-meta{color:var(--cx-muted);font-size:.85rem}
@media print{body{font-size:12pt;margin:0}.cx-alert{-webkit-print-color-adjust:exact;print-color-adjust:exact}}
"""
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{e(t["title"])}</title><style>{css}</style></head>
<body><main>{article}</main></body></html>"""
