"""The worklist written out, and a summary report that works offline.

:func:`write_outputs` writes the worklist as CSV (the file asked for) and Parquet beside it,
the run's figures as JSON, and one self-contained HTML page: counts per screen (candidates and
patients on the worklist) as inline SVG bar charts, the time of each stage, and the worklist
as a table. The page has no script, no external style sheet, font or image: it opens from a
file on a machine with no network.
"""

from __future__ import annotations

import csv
import html
import json
from pathlib import Path
from typing import Any

from .result import ScreenResult

__all__ = ["Outputs", "render_html", "write_outputs"]

HTML_ROWS = 2000
"""Worklist rows shown in the HTML page (the CSV and Parquet files hold them all)."""


class Outputs(dict):
    """Paths written: ``csv``, ``parquet``, ``summary``, ``html``."""


def write_outputs(result: ScreenResult, out: str | Path, *, title: str = "Contraxis cohort screen") -> Outputs:
    """Write the worklist and the report.

    Parameters
    ----------
    result : ScreenResult
    out : str or path
        The worklist CSV (``worklist.csv``); ``worklist.parquet``, ``worklist.summary.json`` and
        ``worklist.html`` are written beside it.
    title : str
        The report's title.

    Returns
    -------
    Outputs
        The paths written.
    """
    import pyarrow.parquet as pq

    path = Path(out)
    path.parent.mkdir(parents=True, exist_ok=True)
    stem = path.with_suffix("")
    paths = Outputs(csv=str(path), parquet=f"{stem}.parquet", summary=f"{stem}.summary.json", html=f"{stem}.html")
    rows = result.worklist.to_pylist()
    columns = result.worklist.schema.names
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(columns)
        for row in rows:
            writer.writerow(["" if row[c] is None else row[c] for c in columns])
    pq.write_table(result.worklist, paths["parquet"])
    Path(paths["summary"]).write_text(json.dumps(result.summary(), indent=2) + "\n", encoding="utf-8")
    Path(paths["html"]).write_text(render_html(result, title=title), encoding="utf-8")
    return paths


def _bars(title: str, values: dict[str, int], colour: str) -> str:
    width, bar, gap, label = 640, 22, 8, 220
    top = max(values.values(), default=0) or 1
    height = len(values) * (bar + gap) + 30
    parts = [f'<svg role="img" aria-label="{html.escape(title)}" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}" xmlns="http://www.w3.org/2000/svg">',
             f'<text x="0" y="16" font-size="14" font-weight="bold">{html.escape(title)}</text>']
    for i, (name, value) in enumerate(values.items()):
        y = 28 + i * (bar + gap)
        length = int((width - label - 60) * value / top)
        parts.append(f'<text x="0" y="{y + 16}" font-size="13">{html.escape(name)}</text>')
        parts.append(f'<rect x="{label}" y="{y}" width="{length}" height="{bar}" fill="{colour}"/>')
        parts.append(f'<text x="{label + length + 6}" y="{y + 16}" font-size="13">{value:,}</text>')
    parts.append("</svg>")
    return "".join(parts)


def render_html(result: ScreenResult, *, title: str = "Contraxis cohort screen") -> str:
    """The summary report as one self-contained HTML page (no script, nothing fetched)."""
    summary = result.summary()
    counts = result.counts()
    rows = result.worklist.to_pylist()[:HTML_ROWS]
    columns = ["person_id", "alert", "screen", "urgency", "index_date", "age_at_index", "why", "next_steps",
               "evidence_missing", "rule", "facts", "source"]
    head = "".join(f"<th scope=\"col\">{html.escape(c)}</th>" for c in columns)
    body = "\n".join(
        "<tr>" + "".join(f"<td>{html.escape('' if r[c] is None else str(r[c]))}</td>" for c in columns) + "</tr>"
        for r in rows
    )
    stages = "".join(f"<tr><th scope=\"row\">{html.escape(k)}</th><td>{v:.2f} s</td></tr>"
                     for k, v in result.seconds.items())
    more = (f"<p>The first {HTML_ROWS:,} of {result.worklist.num_rows:,} rows; the CSV and Parquet files hold all.</p>"
            if result.worklist.num_rows > HTML_ROWS else "")
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2rem; color: #1a1a1a; }}
table {{ border-collapse: collapse; font-size: 0.85rem; }}
th, td {{ border: 1px solid #bbb; padding: 0.25rem 0.5rem; text-align: left; vertical-align: top; }}
th {{ background: #eee; }}
.figures td {{ text-align: right; }}
</style></head>
<body>
<h1>{html.escape(title)}</h1>
<p>Engine <strong>{html.escape(result.engine)}</strong>, screen date <strong>{result.as_of.isoformat()}</strong>:
{summary['persons']:,} people, {summary['records']:,} records; {result.worklist.num_rows:,} worklist rows.</p>
<h2>Per screen</h2>
{_bars("Candidates selected", dict(result.candidates), "#4a6fa5")}
{_bars("On the worklist (pattern raised, nobody acted)", counts, "#b5442c")}
<h2>Time per stage</h2>
<table class="figures">{stages}</table>
<h2>Worklist</h2>
{more}
<table><thead><tr>{head}</tr></thead>
<tbody>
{body}
</tbody></table>
</body></html>
"""


def read_summary(path: str | Path) -> dict[str, Any]:
    """A summary JSON written by :func:`write_outputs`."""
    return json.loads(Path(path).read_text(encoding="utf-8"))
