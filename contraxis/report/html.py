"""The clinician's report as HTML: one printable page, from an :class:`~contraxis.assessment.Assessment`.

A pure function of the assessment (and, optionally, the case it came from): alerts first,
coloured by urgency, then the diagnosis and its classification, the work-up, the treatment
options in order, the differential, the reasoning with its sources, the codes, what to ask
next, and the versions of the knowledge base and HPO release. Colours come from the theme
below, keyed by meaning (``--cx-alert-emergency``), never written at the point of use.

``render_report(assessment)`` gives a whole document; ``standalone=False`` gives the
``<article>`` alone, for the intake page (which loads :data:`REPORT_CSS` from
``/static/report.css``).
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Mapping
from typing import Any

from ..assessment import Assessment, TreatmentItem
from ..case import Case
from ..vocabulary import urgency_rank

__all__ = ["REPORT_CSS", "THEME", "render_report", "urgency_class"]

THEME: Mapping[str, str] = {
    # text and surfaces
    "cx-text": "#1b1f24",
    "cx-muted": "#4a5561",
    "cx-surface": "#ffffff",
    "cx-surface-alt": "#f3f5f7",
    "cx-rule": "#c9d1d9",
    "cx-accent": "#0b5394",
    "cx-focus": "#b34700",
    # alerts, by urgency: badge (white text on it) and panel (dark text on it)
    "cx-alert-emergency": "#a4001d",
    "cx-alert-emergency-panel": "#fdecee",
    "cx-alert-urgent": "#8a4600",
    "cx-alert-urgent-panel": "#fff3e0",
    "cx-alert-soon": "#0b5394",
    "cx-alert-soon-panel": "#e8f1fb",
    "cx-alert-routine": "#4a5561",
    "cx-alert-routine-panel": "#f3f5f7",
    # findings in the form: present / absent
    "cx-finding-present": "#145a32",
    "cx-finding-absent": "#8a1c1c",
}
"""Colours by meaning. Every pair of text and background used passes WCAG AA (4.5:1)."""

URGENCY_LABEL: Mapping[str, str] = {
    "emergency": "Emergency", "urgent": "Urgent", "soon": "Soon", "routine": "Routine",
}


def urgency_class(urgency: str) -> str:
    """The CSS class of an urgency (``cx-alert-emergency``...)."""
    return f"cx-alert-{urgency if urgency in URGENCY_LABEL else 'routine'}"


def _theme_css() -> str:
    return ":root{" + "".join(f"--{k}:{v};" for k, v in THEME.items()) + "}"


REPORT_CSS = (
    _theme_css()
    + """
.cx-report{color:var(--cx-text);background:var(--cx-surface);max-width:60rem;
  font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif}
.cx-report h2{font-size:1.25rem;margin:0 0 .25rem}
.cx-report h3{font-size:1rem;margin:1rem 0 .35rem;border-bottom:1px solid var(--cx-rule);padding-bottom:.15rem}
.cx-report .cx-meta,.cx-report .cx-muted{color:var(--cx-muted);font-size:.85em}
.cx-report .cx-diagnosis{font-size:1.1rem;font-weight:600;margin:.25rem 0 .5rem}
.cx-report table{border-collapse:collapse;width:100%;font-size:.92em}
.cx-report th,.cx-report td{border-bottom:1px solid var(--cx-rule);text-align:left;vertical-align:top;
  padding:.2rem .4rem}
.cx-report th{background:var(--cx-surface-alt)}
.cx-report .cx-summary{display:grid;grid-template-columns:repeat(auto-fill,minmax(11rem,1fr));
  gap:.25rem .75rem;margin:0}
.cx-report .cx-summary div{display:flex;flex-direction:column}
.cx-report .cx-summary dt{color:var(--cx-muted);font-size:.8em}
.cx-report .cx-summary dd{margin:0;font-weight:600}
.cx-report ol,.cx-report ul{margin:.2rem 0 .2rem 1.3rem;padding:0}
.cx-alerts{list-style:none;margin:.25rem 0;padding:0}
.cx-alert{border-left:.45rem solid var(--cx-alert-routine);background:var(--cx-alert-routine-panel);
  padding:.35rem .6rem;margin:.3rem 0}
.cx-alert .cx-badge{display:inline-block;color:#fff;background:var(--cx-alert-routine);font-size:.75em;
  font-weight:700;padding:.05rem .4rem;border-radius:.2rem;margin-right:.4rem;text-transform:uppercase;
  letter-spacing:.03em}
.cx-alert.cx-alert-emergency{border-color:var(--cx-alert-emergency);background:var(--cx-alert-emergency-panel)}
.cx-alert.cx-alert-emergency .cx-badge{background:var(--cx-alert-emergency)}
.cx-alert.cx-alert-urgent{border-color:var(--cx-alert-urgent);background:var(--cx-alert-urgent-panel)}
.cx-alert.cx-alert-urgent .cx-badge{background:var(--cx-alert-urgent)}
.cx-alert.cx-alert-soon{border-color:var(--cx-alert-soon);background:var(--cx-alert-soon-panel)}
.cx-alert.cx-alert-soon .cx-badge{background:var(--cx-alert-soon)}
.cx-report details{margin:.2rem 0}
.cx-report summary{cursor:pointer}
.cx-report .cx-why{font-size:.85em;color:var(--cx-muted)}
.cx-report a{color:var(--cx-accent)}
.cx-report .cx-none{color:var(--cx-muted);font-style:italic}
@media print{
  @page{size:A4;margin:9mm 10mm}
  .cx-report{font-size:8.2pt;line-height:1.28;max-width:none}
  .cx-report h2{font-size:12pt}
  .cx-report h3{font-size:9.5pt;margin:.45rem 0 .15rem}
  .cx-report .cx-columns{columns:2;column-gap:6mm}
  .cx-report .cx-columns section{break-inside:avoid}
  .cx-report details{display:block}
  .cx-report details>summary{list-style:none}
  .cx-report .cx-print-hide{display:none}
  .cx-alert,.cx-alert .cx-badge{-webkit-print-color-adjust:exact;print-color-adjust:exact}
  .cx-alert{padding:.15rem .4rem;margin:.15rem 0}
  .cx-report .cx-why .cx-facts,.cx-report .cx-print-brief{display:none}
  .cx-report .cx-reasoning ul{columns:2;column-gap:6mm;list-style:none;margin-left:0}
  .cx-report .cx-reasoning li{break-inside:avoid}
  .cx-report .cx-reasoning .cx-why .cx-citation{display:none}
  .cx-report table{font-size:8pt}
  .cx-report th,.cx-report td{padding:.05rem .25rem}
}
"""
)
"""The report's stylesheet (theme first), also served to the intake page."""

SUMMARY_FIELDS: tuple[tuple[str, str], ...] = (
    ("phenomenology", "Phenomenology"), ("focal_type", "Focal type"), ("distribution", "Distribution"),
    ("onset_band", "Onset"), ("associated", "Associated"), ("etiology", "Etiology"), ("cause", "Cause"),
    ("icd10cm", "ICD-10-CM"),
)


def _e(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _words(value: str | None) -> str:
    return (value or "").replace("-", " ")


def _why(why: Any) -> str:
    facts = "; ".join(_e(f) for f in why.facts)
    parts = [f"<span class='cx-rule-id'>rule <code>{_e(why.rule)}</code></span>"]
    if facts:
        parts.append(f"<span class='cx-facts'>facts: {facts}</span>")
    parts.append(f"<span class='cx-citation'>source: {_e(why.citation)}</span>")
    return "<div class='cx-why'>" + " · ".join(parts) + "</div>"


def _alerts(assessment: Assessment) -> str:
    if not assessment.alerts:
        return "<p class='cx-none'>No alert.</p>"
    items = []
    for alert in sorted(assessment.alerts, key=lambda a: urgency_rank(a.urgency)):
        items.append(
            f"<li class='cx-alert {urgency_class(alert.urgency)}' data-alert='{_e(alert.code)}' "
            f"data-urgency='{_e(alert.urgency)}'>"
            f"<span class='cx-badge'>{_e(URGENCY_LABEL.get(alert.urgency, alert.urgency))}</span>"
            f"<strong>{_e(alert.message)}</strong>{_why(alert.why)}</li>"
        )
    return f"<ul class='cx-alerts'>{''.join(items)}</ul>"


def _summary(assessment: Assessment) -> str:
    cells = []
    summary = assessment.summary
    for name, label in SUMMARY_FIELDS:
        value = getattr(summary, name)
        if value:
            cells.append(
                f"<div><dt>{_e(label)}</dt>"
                f"<dd data-field='{name}'>{_e(_words(value) if name != 'icd10cm' else value)}</dd></div>"
            )
    return f"<dl class='cx-summary'>{''.join(cells)}</dl>"


def _workup(assessment: Assessment) -> str:
    if not assessment.workup:
        return "<p class='cx-none'>No further test advised.</p>"
    rows = "".join(
        f"<li data-workup='{_e(w.code)}'><strong>{_e(w.label)}</strong> "
        f"<span class='cx-muted'>({_e(w.priority)})</span>: {_e(w.reason)}</li>"
        for w in assessment.workup
    )
    return f"<ol>{rows}</ol>"


def _treatment_rows(items: Iterable[TreatmentItem], *, attr: str) -> str:
    return "".join(
        f"<li {attr}='{_e(t.code)}'><strong>{_e(t.label)}</strong> "
        f"<span class='cx-muted'>({_e(t.kind)}, line {t.line})</span>: {_e(t.reason)}</li>"
        for t in sorted(items, key=lambda t: t.line)
    )


def _treatments(assessment: Assessment) -> str:
    out = (f"<ol>{_treatment_rows(assessment.treatments, attr='data-treatment')}</ol>" if assessment.treatments
           else "<p class='cx-none'>No treatment offered now.</p>")
    if assessment.not_offered:
        out += ("<details><summary>Not offered now, and why</summary>"
                f"<ul>{_treatment_rows(assessment.not_offered, attr='data-not-offered')}</ul></details>")
    return out


def _differential(assessment: Assessment) -> str:
    """The top of the differential (``contraxis.differential``'s JSON): disease, genes, probability."""
    data = assessment.differential
    if not data or not isinstance(data.get("candidates"), list):
        return ""
    body = []
    for i, row in enumerate(data["candidates"][:10], 1):
        if not isinstance(row, Mapping):
            continue
        name = _e(row.get("name") or row.get("disease_id") or "")
        if row.get("mds_name"):
            name += f" ({_e(row['mds_name'])})"
        treatment = row.get("treatment")
        if row.get("treatable") and isinstance(treatment, Mapping) and treatment.get("name"):
            name += f" <span class='cx-treatable'>treatable: {_e(treatment['name'])}</span>"
        genes = ", ".join(str(g) for g in (row.get("genes") or [])[:4])
        probability = row.get("post_test_probability")
        shown = "" if not isinstance(probability, (int, float)) else ">0.99" if probability > 0.99 else (
            f"{probability:.2g}")  # never shown as 1
        body.append(f"<tr><td>{i}</td><td>{name}</td><td>{_e(row.get('disease_id') or '')}</td>"
                    f"<td>{_e(genes)}</td><td>{_e(shown)}</td></tr>")
    if not body:
        note = data.get("note")
        return f"<section><h3>Differential (HPO)</h3><p>{_e(note)}</p></section>" if note else ""
    return ("<section><h3>Differential (HPO)</h3><table><thead><tr><th>#</th><th>Disease</th><th>Id</th><th>Genes</th>"
            f"<th>Probability</th></tr></thead><tbody>{''.join(body)}</tbody></table></section>")


def _reasoning(assessment: Assessment) -> str:
    if not assessment.conclusions:
        return ""
    items = "".join(
        f"<li><strong>{_e(_words(c.field))}: {_e(c.label or c.value or '—')}</strong>"
        f"<span class='cx-print-brief'>{(' — ' + _e(c.why.rationale)) if c.why.rationale else ''}</span>"
        f"{_why(c.why)}</li>"
        for c in assessment.conclusions
    )
    return f"<section class='cx-reasoning'><h3>Reasoning and sources</h3><ul>{items}</ul></section>"


def _codes(assessment: Assessment) -> str:
    main = [c for c in assessment.codes if c.role == "main diagnosis"]
    others = [c for c in assessment.codes if c.role != "main diagnosis" and c.system == "HPO"]
    if not main and not others:
        return ""
    rows = "".join(
        f"<tr{'' if c.role == 'main diagnosis' else ' class=cx-print-brief'}><td>{_e(c.system)}</td>"
        f"<td><code>{_e(c.code)}</code></td><td>{_e(c.display)}</td><td>{_e(c.role)}</td></tr>"
        for c in main + others
    )
    head = "<tr><th>System</th><th>Code</th><th>Name</th><th>Role</th></tr>"
    return f"<section><h3>Codes</h3><table><thead>{head}</thead><tbody>{rows}</tbody></table></section>"


def _missing(assessment: Assessment) -> str:
    if not assessment.missing:
        return ""
    items = "".join(f"<li>{_e(q.question)} <span class='cx-muted'>{_e(q.why)}</span></li>" for q in assessment.missing)
    return f"<section><h3>To ask next</h3><ul>{items}</ul></section>"


def _not_read(assessment: Assessment) -> str:
    if not assessment.not_read:
        return ""
    rows = "".join(
        f"<tr><td>{_e(n.path)}</td><td>{_e(n.value)}</td><td>{_e(n.reason)}</td></tr>" for n in assessment.not_read
    )
    return ("<section class='cx-not-read' aria-labelledby='cx-not-read-title'><h3 id='cx-not-read-title'>"
            "Not read as given: check these first</h3><table><thead><tr><th>Where</th><th>As given</th>"
            f"<th>What was done</th></tr></thead><tbody>{rows}</tbody></table></section>")


def _labs(assessment: Assessment) -> str:
    if not any(lab.series for lab in assessment.labs):
        return ""
    items = "".join(
        f"<li>{_e(lab.test)}: <strong>{_e(lab.latest)}</strong>"
        + (f" <span class='cx-muted'>(latest first: {_e('; '.join(lab.series))})</span>" if lab.series else "")
        + "</li>"
        for lab in assessment.labs
    )
    return f"<section><h3>Laboratory results (the latest decides)</h3><ul>{items}</ul></section>"


def _case_line(case: Case | None) -> str:
    if case is None:
        return ""
    parts = []
    if case.age is not None:
        parts.append(f"age {case.age:g}")
    if case.sex != "unknown":
        parts.append(case.sex)
    if case.onset_age is not None:
        parts.append(f"onset at {case.onset_age:g}")
    if case.course:
        parts.append(f"course {case.course}")
    if case.regions:
        parts.append("regions: " + ", ".join(_words(r) for r in case.regions))
    return f"<p class='cx-meta'>{_e('; '.join(parts))}</p>" if parts else ""


def render_report(assessment: Assessment, *, case: Case | None = None, standalone: bool = True) -> str:
    """Render the clinician's one-page report.

    Parameters
    ----------
    assessment : Assessment
        The assessment.
    case : Case, optional
        The case, for a line restating its main facts.
    standalone : bool
        A whole HTML document (True) or the ``<article>`` alone, to put in a page.

    Returns
    -------
    str
        The HTML.
    """
    title = f"Contraxis assessment{(' · ' + assessment.case_id) if assessment.case_id else ''}"
    versions = (f"Knowledge base <span class='kb-version'>{_e(assessment.knowledge_base_version)}</span> · "
                f"HPO release <span class='hpo-release'>{_e(assessment.hpo_release)}</span>")
    notes = "".join(f"<li>{_e(n)}</li>" for n in assessment.notes)
    diagnosis = f'<p class="cx-diagnosis">{_e(assessment.diagnosis)}</p>'
    article = f"""<article class="cx-report" aria-labelledby="cx-report-title">
<h2 id="cx-report-title">{_e(title)}</h2>
{_case_line(case)}
{_not_read(assessment)}
<section aria-labelledby="cx-alerts-title"><h3 id="cx-alerts-title">Alerts</h3>{_alerts(assessment)}</section>
<section><h3>Diagnosis and classification</h3>{diagnosis}{_summary(assessment)}</section>
<div class="cx-columns">
<section><h3>Work-up, in order</h3>{_workup(assessment)}</section>
<section><h3>Treatment options, in order</h3>{_treatments(assessment)}</section>
{_labs(assessment)}
{_differential(assessment)}
{_missing(assessment)}
{_codes(assessment)}
</div>
{_reasoning(assessment)}
{f"<section><h3>Notes</h3><ul>{notes}</ul></section>" if notes else ""}
<footer class="cx-meta"><p>{versions}. {_e(assessment.disclaimer)}</p></footer>
</article>"""
    if not standalone:
        return article
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{_e(title)}</title><style>{REPORT_CSS}body{{margin:1.2rem}}</style></head>
<body><main>{article}</main></body></html>"""
