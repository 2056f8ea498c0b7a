"""The assessment as a readable report in the terminal (Rich).

Colours come from :data:`THEME`, keyed by meaning (``cx.alert.emergency``), never from a
literal colour at the call site.
"""

from __future__ import annotations

from typing import Any

from rich.console import Console, Group, RenderableType
from rich.panel import Panel
from rich.table import Table
from rich.text import Text
from rich.theme import Theme

from ..assessment import Assessment

__all__ = ["THEME", "render", "print_assessment"]

THEME = Theme(
    {
        "cx.title": "bold",
        "cx.muted": "dim",
        "cx.alert.emergency": "bold white on red",
        "cx.alert.urgent": "bold red",
        "cx.alert.soon": "bold yellow",
        "cx.alert.routine": "cyan",
        "cx.value": "bold cyan",
        "cx.rule": "magenta",
        "cx.source": "dim italic",
        "cx.ok": "green",
    }
)

_SUMMARY_FIELDS = (
    "phenomenology",
    "focal_type",
    "distribution",
    "onset_band",
    "associated",
    "etiology",
    "cause",
    "icd10cm",
)


def _alerts(a: Assessment) -> RenderableType:
    if not a.alerts:
        return Text("No alerts.", style="cx.ok")
    table = Table(show_header=True, header_style="cx.title", expand=True)
    table.add_column("urgency", no_wrap=True)
    table.add_column("alert", no_wrap=True)
    table.add_column("what to do")
    for alert in a.alerts:
        style = f"cx.alert.{alert.urgency}"
        table.add_row(Text(alert.urgency.upper(), style=style), Text(alert.code, style=style), alert.message)
    return table


def _summary(a: Assessment) -> RenderableType:
    table = Table.grid(padding=(0, 2))
    table.add_column(style="cx.muted")
    table.add_column()
    for name in _SUMMARY_FIELDS:
        value = getattr(a.summary, name)
        if value is not None:
            table.add_row(name.replace("_", " "), Text(str(value), style="cx.value"))
    axis_i: dict[str, Any] = a.classification.get("axis_i", {}) if a.classification else {}
    temporal = axis_i.get("temporal_pattern")
    if temporal:
        course = temporal.get("course") or "course not given"
        table.add_row("temporal pattern", f"{course}; {', '.join(temporal.get('variability', []))}")
    for form in axis_i.get("named_forms", []):
        table.add_row("named form", form["name"])
    axis_ii = a.classification.get("axis_ii", {}) if a.classification else {}
    for key in ("pathology", "inheritance"):
        if key in axis_ii:
            table.add_row(f"axis II {key}", str(axis_ii[key]["value"]))
    for gene in axis_ii.get("genes", []):
        table.add_row("gene", f"{gene['gene']}" + (f" ({gene['mds_name']})" if gene.get("mds_name") else ""))
    return table


def _reasoning(a: Assessment) -> RenderableType:
    text = Text()
    for c in a.conclusions:
        text.append(f"{c.field.replace('_', ' ')}: ", style="cx.muted")
        text.append(str(c.label or c.value), style="cx.value")
        text.append(f"  [{c.why.rule}; {c.why.source}]\n", style="cx.rule")
        if c.why.rationale:
            text.append(f"  {c.why.rationale}\n")
        if c.why.facts:
            text.append("  facts: " + "; ".join(c.why.facts) + "\n", style="cx.muted")
    return text


def _sources(a: Assessment) -> RenderableType:
    seen: dict[str, str] = {}
    whys = [c.why for c in a.conclusions] + [x.why for x in (*a.alerts, *a.workup, *a.treatments, *a.not_offered)]
    for why in whys:
        seen.setdefault(why.source, why.citation)
    text = Text()
    for source, citation in seen.items():
        text.append(f"{source}: ", style="cx.rule")
        text.append(citation + "\n", style="cx.source")
    return text


def _workup(a: Assessment) -> RenderableType:
    if not a.workup:
        return Text("No further tests advised.", style="cx.muted")
    table = Table(show_header=True, header_style="cx.title", expand=True)
    table.add_column("priority", no_wrap=True)
    table.add_column("test")
    table.add_column("why")
    for w in a.workup:
        label = w.label + (f" (LOINC {', '.join(w.loinc)})" if w.loinc else "")
        table.add_row(Text(w.priority, style=f"cx.alert.{w.priority}"), label, f"{w.reason} [{w.why.rule}]")
    return table


def _treatments(a: Assessment) -> RenderableType:
    parts: list[RenderableType] = []
    if a.treatments:
        table = Table(show_header=True, header_style="cx.title", expand=True)
        table.add_column("#", no_wrap=True)
        table.add_column("option")
        table.add_column("why")
        for i, t in enumerate(a.treatments, 1):
            table.add_row(str(i), f"{t.label} [{t.kind}]", f"{t.reason} [{t.why.rule}]")
        parts.append(table)
    else:
        parts.append(Text("No treatment from the knowledge base applies now.", style="cx.muted"))
    for t in a.not_offered:
        parts.append(Text(f"Not offered now: {t.label}. {t.reason} [{t.why.rule}]", style="cx.muted"))
    return Group(*parts)


def _codes(a: Assessment) -> RenderableType:
    table = Table(show_header=True, header_style="cx.title", expand=True)
    table.add_column("system", no_wrap=True)
    table.add_column("code", no_wrap=True)
    table.add_column("meaning")
    table.add_column("role", style="cx.muted")
    for code in a.codes:
        table.add_row(code.system, code.code, code.display, code.role)
    return table


def _differential(a: Assessment) -> RenderableType | None:
    diff = a.differential
    if not diff:
        return None
    if not diff.get("candidates") and diff.get("note"):
        return Text(str(diff["note"]), style="cx.muted")
    evidence = diff.get("evidence") or {}
    present, excluded = len(evidence.get("present", [])), len(evidence.get("excluded", []))
    caption = (
        f"Ranked on the HPO findings alone ({present} present, {excluded} excluded), with the acquired "
        "causes; it names diseases to consider, not a diagnosis."
    )
    if present < 3:
        caption += " With so few findings the ranking is weak."
    table = Table(show_header=True, header_style="cx.title", expand=True, caption=caption, caption_justify="left")
    table.add_column("#", no_wrap=True)
    table.add_column("disease")
    table.add_column("genes")
    table.add_column("probability", justify="right")
    for i, cand in enumerate(diff.get("candidates", [])[:10], 1):
        name = cand.get("name", "")
        if cand.get("mds_name"):
            name += f" ({cand['mds_name']})"
        if cand.get("treatable"):
            name += " [treatable]"
        prob = cand.get("post_test_probability")
        table.add_row(str(i), f"{name}\n{cand.get('disease_id', '')}", ", ".join(cand.get("genes", [])[:4]),
                      _probability(prob) if isinstance(prob, (int, float)) else "")
    return table


def _probability(p: float) -> str:
    """A post-test probability in two decimals, never as 0 or 1."""
    return ">0.99" if p > 0.99 else "<0.01" if p < 0.01 else f"{p:.2f}"


_WEIGHTY = (
    "medication",
    "lab",
    "condition",
    "observation",
    "allergy",
    "rxnorm",
    "drug",
    "measurement",
    "finding",
    "diagnos",
)


def weighty(path: str) -> bool:
    """Whether a not-read item could change the answer (a drug, a laboratory result, a
    diagnosis or finding), so that it is shown at the top of a report."""
    lowered = path.lower()
    return any(word in lowered for word in _WEIGHTY)


def _not_read(a: Assessment, *, weighty_only: bool) -> RenderableType | None:
    items = [n for n in a.not_read if weighty(n.path) == weighty_only]
    if not items:
        return None
    table = Table(show_header=True, header_style="cx.title", expand=True)
    table.add_column("where", style="cx.muted")
    table.add_column("as given")
    table.add_column("what was done")
    for item in items:
        table.add_row(item.path, item.value, item.reason)
    return table


def _labs(a: Assessment) -> RenderableType | None:
    if not any(lab.series for lab in a.labs):
        return None
    text = Text()
    for lab in a.labs:
        text.append(f"{lab.test}: ", style="cx.muted")
        text.append(lab.latest, style="cx.value")
        if lab.series:
            text.append("  (series, latest first: " + "; ".join(lab.series) + ")", style="cx.muted")
        text.append("\n")
    return text


def _questions(a: Assessment) -> RenderableType:
    if not a.missing:
        return Text("Nothing missing that would change the answer.", style="cx.muted")
    lines = Text()
    for q in a.missing:
        lines.append(f"- {q.question}", style="cx.title")
        lines.append(f" ({q.field}: {q.why})\n", style="cx.muted")
    return lines


def render(a: Assessment) -> RenderableType:
    """The whole report as one Rich renderable."""
    head = Text()
    head.append(a.diagnosis, style="cx.title")
    head.append(
        f"\ncase {a.case_id or '(no id)'} | knowledge base {a.knowledge_base_version} | HPO {a.hpo_release}",
        style="cx.muted",
    )
    sections: list[RenderableType] = [head]
    top = _not_read(a, weighty_only=True)
    if top is not None:
        sections.append(
            Panel(top, title="Not read as given: check these first", title_align="left", border_style="cx.alert.soon")
        )
    sections += [
        Panel(_alerts(a), title="Alerts", title_align="left"),
        Panel(_summary(a), title="Classification", title_align="left"),
        Panel(_reasoning(a), title="Reasoning", title_align="left"),
        Panel(_workup(a), title="Work-up", title_align="left"),
        Panel(_treatments(a), title="Treatment options, in order", title_align="left"),
    ]
    diff = _differential(a)
    if diff is not None:
        sections.append(
            Panel(
                diff, title=f"Differential diagnosis (HPO {a.differential.get('hpo_release', '')})", title_align="left"
            )
        )
    labs = _labs(a)
    if labs is not None:
        sections.append(Panel(labs, title="Laboratory results (the latest decides)", title_align="left"))
    sections.append(Panel(_codes(a), title="Codes", title_align="left"))
    sections.append(Panel(_questions(a), title="Missing information: ask next", title_align="left"))
    sections.append(Panel(_sources(a), title="Sources", title_align="left"))
    if a.notes:
        sections.append(Panel(Text("\n".join(a.notes)), title="Notes", title_align="left"))
    rest = _not_read(a, weighty_only=False)
    if rest is not None:
        sections.append(Panel(rest, title="Not read as given", title_align="left"))
    sections.append(Text(a.disclaimer, style="cx.muted"))
    return Group(*sections)


def print_assessment(a: Assessment, *, console: Console | None = None) -> None:
    (console or Console(theme=THEME)).print(render(a))
