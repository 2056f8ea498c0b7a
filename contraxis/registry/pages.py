"""The registry's pages: a patient's timeline and the cohort overview, as standalone HTML.

Plots are SVG drawn here, on the server: no script, nothing fetched, so a page works offline,
opens from a file and prints (one stylesheet inline, with print rules). Colours are classes
named for their meaning (``cx-involved``, ``cx-score``), set in that stylesheet.

The timeline shows, in date order: the body map of each visit with the regions involved
(the same figure as the intake page), the regions over all visits as a grid, the course
(spread, distribution changes, new features, dated and explained), the rating scales'
scores, the toxin injections (units per product, never summed across products), the deep
brain stimulation follow-up and its settings, and each visit's assessment with the
knowledge-base version that made it.
"""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Mapping, Sequence
from typing import Any

from .course import CourseEvent
from .dbs import DbsFollowUp
from .records import PatientRecord

__all__ = ["cohort_html", "timeline_html"]

FRONT = {
    "neck": "M88 62 H112 V84 H88 Z",
    "right-arm": "M60 86 L44 92 L30 200 L24 262 L40 264 L48 204 L64 122 Z",
    "left-arm": "M140 86 L156 92 L170 200 L176 262 L160 264 L152 204 L136 122 Z",
    "trunk": "M62 86 Q100 78 138 86 L134 168 L66 168 Z",
    "abdomen": "M66 170 L134 170 L136 234 L64 234 Z",
    "right-leg": "M64 236 L98 236 L94 370 L72 370 Z",
    "left-leg": "M102 236 L136 236 L128 370 L106 370 Z",
    "right-foot": "M72 373 L94 373 L94 398 L54 398 Z",
    "left-foot": "M106 373 L128 373 L146 398 L106 398 Z",
}
"""The body map's front view (the intake page's figure, 200 x 410): the patient's right on the left."""
HEAD = {
    "upper-face": "M50 44 Q100 -2 150 44 L154 90 L46 90 Z",
    "lower-face": "M46 92 L154 92 L146 140 L120 150 L80 150 L54 140 Z",
    "tongue": "M82 134 Q100 121 118 134 Q100 147 82 134 Z",
    "jaw": "M54 142 L80 152 L120 152 L146 142 L130 172 Q100 186 70 172 Z",
    "larynx": "M88 190 H112 V212 H88 Z",
    "back": "M60 232 L140 232 L136 298 L64 298 Z",
}
"""The head, throat and back view (200 x 310)."""
REGION_ORDER = ("upper-face", "lower-face", "jaw", "tongue", "larynx", "neck", "right-arm", "left-arm", "trunk", "back",
                "abdomen", "right-leg", "left-leg", "right-foot", "left-foot")
MAX_MAPS = 12
"""Body maps drawn for at most this many visits (the newest); the grid shows them all."""

STYLE = """
:root{--ink:#1f2933;--muted:#52606d;--line:#cbd2d9;--involved:#c2410c;--free:#eef2f6;--score:#1d4ed8;
--score2:#047857;--score3:#7c3aed;--score4:#b45309;--score5:#be185d;--score6:#0f766e;--warn:#b91c1c}
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--ink);margin:1.5rem auto;
max-width:1100px;padding:0 1rem;line-height:1.4}
h1{font-size:1.5rem;margin:0 0 .25rem}h2{font-size:1.15rem;margin:1.6rem 0 .5rem;border-bottom:1px solid var(--line)}
.meta{color:var(--muted);font-size:.9rem}
table{border-collapse:collapse;width:100%;font-size:.88rem;margin:.4rem 0}
th,td{border-bottom:1px solid var(--line);padding:.25rem .4rem;text-align:left;vertical-align:top}
th{background:#f5f7fa}
.maps{display:flex;flex-wrap:wrap;gap:.6rem}
.maps figure{margin:0;width:130px;text-align:center;font-size:.78rem}
svg text{font-family:inherit}
.cx-region{fill:var(--free);stroke:#4a5561;stroke-width:1.2}.cx-involved{fill:var(--involved)}
.cx-head{fill:var(--free);stroke:#4a5561;stroke-width:1.2}
.cx-cell{fill:var(--free);stroke:#fff}.cx-cell.cx-involved{fill:var(--involved)}
.cx-axis{stroke:#7b8794;stroke-width:1}.cx-grid{stroke:#e4e7eb;stroke-width:1}
.cx-label{fill:var(--muted);font-size:11px}
.s0{color:var(--score)}.s1{color:var(--score2)}.s2{color:var(--score3)}.s3{color:var(--score4)}
.s4{color:var(--score5)}.s5{color:var(--score6)}
polyline.cx-score{fill:none;stroke:currentColor;stroke-width:2}circle.cx-dot{fill:currentColor;stroke:none}
.cx-bar{fill:var(--score)}
.cx-event-spread,.cx-event-new-region,.cx-event-distribution{color:var(--involved);font-weight:600}
.cx-event-secondary-feature{color:var(--warn);font-weight:600}
.cx-warning{color:var(--warn)}
.legend span{display:inline-block;margin-right:1rem;font-size:.8rem}
.legend i{display:inline-block;width:.8rem;height:.8rem;margin-right:.3rem;vertical-align:-.1rem;
background:currentColor}
.note{color:var(--muted);font-size:.85rem}
@media print{body{margin:0;max-width:none;font-size:10pt}h2{break-after:avoid}
section{break-inside:avoid}.noprint{display:none}a{color:inherit;text-decoration:none}}
"""


def _e(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _page(title: str, body: str) -> str:
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{_e(title)}</title>'
            '<meta name="viewport" content="width=device-width, initial-scale=1"><link rel="icon" href="data:,">'
            f"<style>{STYLE}</style></head>"
            f"<body>{body}</body></html>\n")


def _table(head: Sequence[str], rows: Sequence[Sequence[Any]], *, raw: bool = False) -> str:
    if not rows:
        return '<p class="note">None recorded.</p>'
    th = "".join(f"<th>{_e(h)}</th>" for h in head)
    body = "".join("<tr>" + "".join(f"<td>{c if raw else _e(c)}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{th}</tr></thead><tbody>{body}</tbody></table>"


# --- plots -------------------------------------------------------------------------------------


def body_map_svg(regions: Sequence[str], *, label: str) -> str:
    """Both views of the body map with ``regions`` filled, as one SVG (400 x 410)."""
    on = set(regions)

    def paths(shapes: Mapping[str, str], dx: int) -> str:
        return "".join(
            f'<path class="cx-region{" cx-involved" if r in on else ""}" transform="translate({dx} 0)" d="{d}">'
            f"<title>{_e(r)}{' (involved)' if r in on else ''}</title></path>"
            for r, d in shapes.items())

    head = '<circle class="cx-head" cx="100" cy="38" r="26"/>'
    return (f'<svg viewBox="0 0 400 410" width="130" height="134" role="img" aria-label="{_e(label)}">'
            f"{head}{paths(FRONT, 0)}{paths(HEAD, 200)}</svg>")


def region_grid_svg(dates: Sequence[dt.date], regions_by_visit: Sequence[Sequence[str]]) -> str:
    """Regions (rows) over visits (columns), involved cells filled."""
    used = [r for r in REGION_ORDER if any(r in v for v in regions_by_visit)]
    if not used:
        return '<p class="note">No region recorded.</p>'
    cell, left, top = 22, 90, 70
    width, height = left + cell * len(dates) + 50, top + cell * len(used) + 10
    parts = [f'<svg viewBox="0 0 {width} {height}" width="{min(width, 1060)}" role="img" '
             f'aria-label="Regions involved at each visit">']
    for j, day in enumerate(dates):
        x = left + j * cell + cell / 2
        parts.append(f'<text class="cx-label" transform="translate({x + 4} {top - 6}) rotate(-60)">'
                     f"{day.isoformat()}</text>")
    for i, region in enumerate(used):
        y = top + i * cell
        parts.append(f'<text class="cx-label" x="{left - 6}" y="{y + cell * 0.68}" text-anchor="end">'
                     f"{_e(region)}</text>")
        for j, visit in enumerate(regions_by_visit):
            involved = region in visit
            parts.append(f'<rect class="cx-cell{" cx-involved" if involved else ""}" x="{left + j * cell}" y="{y}" '
                         f'width="{cell - 2}" height="{cell - 2}"><title>{_e(region)} {dates[j].isoformat()}: '
                         f'{"involved" if involved else "not involved"}</title></rect>')
    parts.append("</svg>")
    return "".join(parts)


def line_chart_svg(series: Mapping[str, Sequence[tuple[dt.date, float]]], *, title: str,
                   low: float | None = 0.0, high: float | None = None) -> str:
    """A line chart of dated values, one line per series (six colours, then repeated)."""
    points = [p for values in series.values() for p in values]
    if not points:
        return ""
    width, height, left, right, top, bottom = 660, 220, 48, 44, 24, 40
    start, end = min(d for d, _ in points), max(d for d, _ in points)
    span = max((end - start).days, 1)
    y_low = low if low is not None else min(v for _, v in points)
    y_high = high if high is not None else max(v for _, v in points)
    y_high = y_high if y_high > y_low else y_low + 1

    def x(day: dt.date) -> float:
        return left + (day - start).days / span * (width - left - right) if end != start else (width + left) / 2

    def y(value: float) -> float:
        return top + (1 - (value - y_low) / (y_high - y_low)) * (height - top - bottom)

    parts = [f'<svg viewBox="0 0 {width} {height}" width="{width}" role="img" aria-label="{_e(title)}">',
             f'<text class="cx-label" x="{left}" y="14">{_e(title)}</text>']
    for k in range(5):
        value = y_low + (y_high - y_low) * k / 4
        parts.append(f'<line class="cx-grid" x1="{left}" x2="{width - right}" y1="{y(value):.1f}" y2="{y(value):.1f}"/>'
                     f'<text class="cx-label" x="{left - 6}" y="{y(value) + 4:.1f}" text-anchor="end">{value:g}</text>')
    base = height - bottom
    parts.append(f'<line class="cx-axis" x1="{left}" x2="{width - right}" y1="{base}" y2="{base}"/>')
    shown_at = -1e9
    for day in sorted({d for d, _ in points}):
        if x(day) - shown_at < 72:  # no label over its neighbour: the points keep their dates in their titles
            continue
        shown_at = x(day)
        parts.append(f'<text class="cx-label" x="{x(day):.1f}" y="{height - bottom + 16}" text-anchor="middle">'
                     f"{day.isoformat()}</text>")
    legend = []
    for n, (name, values) in enumerate(series.items()):
        cls = f"s{n % 6}"
        ordered = sorted(values)
        line = " ".join(f"{x(d):.1f},{y(v):.1f}" for d, v in ordered)
        parts.append(f'<polyline class="cx-score {cls}" points="{line}"/>')
        parts += [f'<circle class="cx-dot {cls}" cx="{x(d):.1f}" cy="{y(v):.1f}" r="3.5"><title>{_e(name)} '
                  f"{d.isoformat()}: {v:g}</title></circle>" for d, v in ordered]
        legend.append(f'<span><i class="{cls}"></i>{_e(name)}</span>')
    parts.append("</svg>")
    return f'<figure>{"".join(parts)}<figcaption class="legend">{"".join(legend)}</figcaption></figure>'


def bar_chart_svg(values: Mapping[str, float], *, title: str) -> str:
    """A horizontal bar chart of labelled values."""
    if not values:
        return '<p class="note">None recorded.</p>'
    width, bar, left = 640, 20, 220
    height = 30 + bar * len(values)
    top_value = max(max(values.values()), 1)
    parts = [f'<svg viewBox="0 0 {width} {height}" width="{width}" role="img" aria-label="{_e(title)}">',
             f'<text class="cx-label" x="0" y="14">{_e(title)}</text>']
    for i, (label, value) in enumerate(values.items()):
        y = 24 + i * bar
        length = (width - left - 60) * value / top_value
        parts.append(f'<text class="cx-label" x="{left - 8}" y="{y + 14}" text-anchor="end">{_e(label)}</text>'
                     f'<rect class="cx-bar" x="{left}" y="{y + 2}" width="{length:.1f}" height="{bar - 6}">'
                     f"<title>{_e(label)}: {value:g}</title></rect>"
                     f'<text class="cx-label" x="{left + length + 6:.1f}" y="{y + 14}">{value:g}</text>')
    parts.append("</svg>")
    return "".join(parts)


# --- the timeline ------------------------------------------------------------------------------


def _scales_section(record: PatientRecord) -> str:
    by_scale: dict[str, dict[str, list[tuple[dt.date, float]]]] = {}
    for visit in record.visits:
        for rating in visit.scales:
            for score_id, value in (rating.scores.get("scores") or {}).items():
                by_scale.setdefault(rating.scale, {}).setdefault(score_id, []).append((visit.date, float(value)))
    if not by_scale:
        return '<p class="note">No rating scale recorded.</p>'
    return "".join(line_chart_svg(series, title=name.upper()) for name, series in sorted(by_scale.items()))


def _injections_section(record: PatientRecord) -> str:
    rows = []
    series: dict[str, list[tuple[dt.date, float]]] = {}
    for visit in record.visits:
        for inj in visit.injections:
            muscles = "; ".join(f"{m.get('muscle')} {m.get('side', '')} {m.get('units')} U".replace("  ", " ")
                                for m in inj.detail.get("muscles") or [])
            warnings = "<br>".join(f'<span class="cx-warning">{_e(w.get("message", w))}</span>' for w in inj.warnings)
            rows.append([visit.date.isoformat(), _e(inj.product), f"{inj.total_units:g}", _e(muscles),
                         _e(inj.detail.get("guidance") or ""), warnings])
            series.setdefault(inj.product, []).append((visit.date, inj.total_units))
    if not rows:
        return '<p class="note">No botulinum toxin injection recorded.</p>'
    chart = line_chart_svg(series, title="units per treatment, by product (units of different products are not "
                                         "comparable)")
    return chart + _table(["date", "product", "units", "muscles", "guidance", "label checks"], rows, raw=True)


def _dbs_section(record: PatientRecord, followups: Sequence[DbsFollowUp]) -> str:
    if not record.implants:
        return '<p class="note">No deep brain stimulation recorded.</p>'
    out = _table(["surgery", "device", "target", "side"],
                 [[i.surgery_date.isoformat(), i.device, i.target, i.side] for i in record.implants])
    for follow in followups:
        points = ([follow.baseline] if follow.baseline else []) + list(follow.milestones)
        score_ids = sorted({k for p in points for k in p.scores})
        rows = [[p.label, p.date.isoformat(), *(f"{p.scores[k]:g}" + (
            f" ({p.improvement[k]:+.1f}%)" if p.improvement.get(k) is not None else "") if k in p.scores else "-"
            for k in score_ids)] for p in points]
        out += f"<h3>{_e(follow.scale.upper())}: {_e(follow.implant.target)} {_e(follow.implant.side)}</h3>"
        out += _table(["when", "date", *score_ids], rows)
    settings = [[v.date.isoformat(), s.side, s.contacts, f"{s.amplitude:g} {s.amplitude_unit}",
                 f"{s.pulse_width_us:g} µs",
                 f"{s.frequency_hz:g} Hz"] for v in record.visits for s in v.stimulation]
    out += "<h3>Settings</h3>" + _table(["date", "side", "contacts", "amplitude", "pulse width", "frequency"], settings)
    return out


def timeline_html(record: PatientRecord, *, events: Sequence[CourseEvent] = (),
                  followups: Sequence[DbsFollowUp] = ()) -> str:
    """A patient's timeline page (standalone HTML, printable, no script)."""
    visits = record.visits
    title = f"Patient {record.pseudonym}: timeline"
    period = f"{visits[0].date.isoformat()} to {visits[-1].date.isoformat()}" if visits else "no visit"
    maps = "".join(
        f'<figure>{body_map_svg(v.regions, label=f"Regions involved on {v.date.isoformat()}")}'
        f"<figcaption>{v.date.isoformat()}<br>{_e(v.summary.get('distribution') or '-')}</figcaption></figure>"
        for v in visits[-MAX_MAPS:])
    older = f'<p class="note">The {len(visits) - MAX_MAPS} older visits are in the grid below.</p>' \
        if len(visits) > MAX_MAPS else ""
    course = _table(["date", "change", "explanation"],
                    [[e.date.isoformat(), f'<span class="cx-event-{_e(e.kind)}">{_e(e.summary)}</span>',
                      _e(e.explanation)] for e in events], raw=True)
    visit_rows = [[v.number, v.date.isoformat(), ", ".join(v.regions) or "-", v.summary.get("distribution") or "-",
                   v.assessment.get("diagnosis", ""), ", ".join(v.summary.get("alerts") or ()) or "-",
                   f"{v.knowledge_base_version} / HPO {v.hpo_release}" + ("" if v.intact else " (DAMAGED)")]
                  for v in visits]
    identity = ""
    if record.identity is not None:
        identity = f' · {_e(record.identity.name or "")} {_e(record.identity.birth_date or "")}'
    body = (
        f"<header><h1>{_e(title)}</h1><p class=\"meta\">{len(visits)} visits, {period}{identity}. "
        "Decision support for clinicians, not a diagnosis.</p></header>"
        f"<section><h2>Body map over time</h2>{older}<div class=\"maps\">{maps}</div></section>"
        f"<section><h2>Regions at each visit</h2>"
        f"{region_grid_svg([v.date for v in visits], [v.regions for v in visits])}</section>"
        f"<section><h2>Course</h2>{course}</section>"
        f"<section><h2>Rating scales</h2>{_scales_section(record)}</section>"
        f"<section><h2>Botulinum toxin</h2>{_injections_section(record)}</section>"
        f"<section><h2>Deep brain stimulation</h2>{_dbs_section(record, followups)}</section>"
        "<section><h2>Visits</h2>"
        f"{_table(['#', 'date', 'regions', 'distribution', 'diagnosis', 'alerts', 'assessed with'], visit_rows)}"
        "</section>"
    )
    return _page(title, body)


def cohort_html(overview: Mapping[str, Any]) -> str:
    """The cohort overview page (standalone HTML, printable, no script), from
    :meth:`CohortOverview.to_json` data."""
    o = overview
    per_patient, follow = o["visits_per_patient"], o["follow_up_days"]
    scales = {f"{k} (mean total, {v['ratings']} ratings)": v["mean_total"] for k, v in o["scales"].items()
              if v.get("mean_total") is not None}
    body = (
        "<header><h1>Registry: cohort overview</h1>"
        f"<p class=\"meta\">{o['patients']} patients, {o['visits']} visits; visits per patient: median "
        f"{per_patient['median']:g} (from {per_patient['min']:g} to {per_patient['max']:g}); follow-up: median "
        f"{follow['median']:g} days. Computed in {o['seconds']:.2f} s.</p></header>"
        f"<section><h2>Distribution at the newest visit</h2>{bar_chart_svg(o['distribution_latest'], title='patients')}"
        "</section>"
        f"<section><h2>Distribution at the first visit</h2>{bar_chart_svg(o['distribution_first'], title='patients')}"
        "</section>"
        f"<section><h2>Change of distribution, first to newest visit</h2>"
        f"{bar_chart_svg(o['distribution_changes'], title='patients')}</section>"
        f"<section><h2>What the movement is (newest visit)</h2>{bar_chart_svg(o['phenomenology'], title='patients')}"
        "</section>"
        f"<section><h2>Visits per year</h2>{bar_chart_svg(o['visits_per_year'], title='visits')}</section>"
        f"<section><h2>Rating scales</h2>{bar_chart_svg(scales, title='mean total')}</section>"
        f"<section><h2>Treatments</h2>"
        + _table(["botulinum toxin product", "treatments", "patients"],
                 [[p, v["treatments"], v["patients"]] for p, v in o["toxin"]["products"].items()])
        + _table(["deep brain stimulation target", "patients"], list(o["dbs"].items()))
        + "</section>"
        f"<section><h2>Knowledge-base versions of the assessments</h2>"
        f"{_table(['version', 'visits'], list(o['knowledge_base_versions'].items()))}</section>"
    )
    return _page("Registry: cohort overview", body)
