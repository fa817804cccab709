"""The report as one self-contained HTML page: styles, sections, tables and figures, plotly.js inlined once.

Every piece of text that can come from a user (scenario names, descriptions,
sources, manifest values) passes through `esc` on its way into the page.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Sequence
from html import escape

import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio
from plotly.offline import get_plotlyjs

from sim.cli_output import terminal_text
from sim.report.describe import Section
from sim.report.formatting import change_words, interval, number
from sim.report.intervals import Estimate
from sim.report.tables import Headline


def esc(value: object) -> str:
    """Text as HTML: tags escaped, and control characters (an escape sequence in a name) shown, not hidden."""
    return escape(terminal_text(value, keep="\n\t"), quote=True)


STYLE = """
:root { --ink:#1f2328; --muted:#57606a; --line:#d0d7de; --panel:#f6f8fa; --blue:#0072B2; --orange:#E69F00;
        --good:#0072B2; --bad:#D55E00; }
* { box-sizing: border-box; }
body { margin:0; font-family:"Segoe UI","Helvetica Neue",Arial,sans-serif; color:var(--ink); background:#fff;
       line-height:1.5; }
header { background:#12355b; color:#fff; padding:28px 32px 22px; }
header h1 { margin:0 0 6px; font-size:1.7rem; font-weight:600; }
header p { margin:2px 0; color:#dbe6f3; }
nav { position:sticky; top:0; z-index:10; background:#fff; border-bottom:1px solid var(--line);
      padding:8px 32px; display:flex; flex-wrap:wrap; gap:6px 18px; font-size:.92rem; }
nav a { color:var(--blue); text-decoration:none; } nav a:hover { text-decoration:underline; }
main { max-width:1280px; margin:0 auto; padding:8px 32px 48px; }
section { margin-top:34px; } h2 { font-size:1.35rem; border-bottom:2px solid var(--line); padding-bottom:4px; }
h3 { font-size:1.08rem; margin:22px 0 6px; }
.how { background:var(--panel); border-left:4px solid var(--blue); padding:10px 14px; margin:10px 0 14px;
       color:var(--muted); font-size:.93rem; }
.how b { color:var(--ink); }
.cards { display:grid; grid-template-columns:repeat(auto-fit,minmax(240px,1fr)); gap:14px; margin-top:14px; }
.card { border:1px solid var(--line); border-radius:8px; padding:14px 16px; background:#fff;
        box-shadow:0 1px 2px rgba(0,0,0,.04); }
.card .label { font-size:.9rem; color:var(--muted); font-weight:600; text-transform:uppercase; letter-spacing:.03em; }
.card .value { font-size:1.9rem; font-weight:650; margin:4px 0 0; }
.card .value.good { color:var(--good); } .card .value.bad { color:var(--bad); }
.card .value .unit { font-size:1rem; font-weight:500; color:var(--muted); }
.sub { font-size:.8rem; color:var(--muted); }
.warn { margin:14px 0; padding:10px 14px; border-left:4px solid var(--orange); background:#fff8e6; }
.warn ul { margin:6px 0 0; padding-left:20px; } .warn li { margin:2px 0; }
.invalid { margin:14px 0; padding:12px 16px; border:2px solid var(--bad); border-radius:8px; background:#fff1eb;
           font-weight:600; }
p.shift { margin:10px 0 0; padding:8px 12px; border-left:4px solid var(--orange); background:#fff8e6; }
.card .ci { font-size:.9rem; color:var(--ink); } .card .note { font-size:.82rem; color:var(--muted); margin-top:6px; }
.figure { width:100%; border:1px solid var(--line); border-radius:8px; padding:6px; margin:10px 0 18px;
          overflow-x:auto; }
/* Side-by-side diagrams and small multiples need room: on a phone the figure scrolls sideways instead. */
.figure .plotly-graph-div { min-width:880px; }
.table-wrap { overflow-x:auto; }
table { border-collapse:collapse; width:100%; font-size:.9rem; margin:8px 0 16px; }
th, td { border-bottom:1px solid var(--line); padding:6px 8px; text-align:left; vertical-align:top; }
th { background:var(--panel); }
td.num { text-align:right; white-space:nowrap; font-variant-numeric:tabular-nums; }
tr.differs td { background:#fff8e6; }
.clear { font-weight:650; }
details { margin:8px 0 16px; } summary { cursor:pointer; color:var(--blue); font-weight:600; }
dl.stress { display:grid; grid-template-columns:minmax(160px,240px) 1fr; gap:4px 16px; margin:6px 0 12px; }
dl.stress dt { font-weight:600; color:var(--muted); } dl.stress dd { margin:0; overflow-wrap:anywhere; }
footer { color:var(--muted); font-size:.85rem; border-top:1px solid var(--line); margin-top:40px; padding-top:12px; }
@media (max-width:700px) { main, header, nav { padding-left:14px; padding-right:14px; }
  nav { position:static; }
  dl.stress { grid-template-columns:1fr; } }
@media print { nav { display:none; } .figure { break-inside:avoid; } }
"""

PLOTLY_CONFIG = {"responsive": True, "displaylogo": False,
                 "toImageButtonOptions": {"format": "png", "scale": 2}}


def figure(fig: go.Figure, name: str) -> str:
    config = {**PLOTLY_CONFIG, "toImageButtonOptions": {**PLOTLY_CONFIG["toImageButtonOptions"], "filename": name}}
    div = pio.to_html(fig, full_html=False, include_plotlyjs=False, include_mathjax=False, div_id=f"fig-{name}",
                      config=config, default_width="100%", default_height=f"{fig.layout.height or 500}px")
    title = fig.layout.title.text or name
    return f'<div class="figure" role="figure" aria-label="{esc(title)}" data-figure="{esc(name)}">{div}</div>'


def how_to_read(text: str) -> str:
    """A short guide above a figure; `text` is the report's own wording, not user input."""
    return f'<div class="how"><b>How to read this.</b> {text}</div>'


Cell = Callable[[pd.Series], "str | tuple[str, str]"]


def _cell(content: str | tuple[str, str]) -> str:
    if isinstance(content, tuple):
        main, sub = content
        return f'{esc(main)}<br><span class="sub">{esc(sub)}</span>'
    return esc(content)


def table(frame: pd.DataFrame, columns: Sequence[tuple[str, str, Cell]],
          row_class: Callable[[pd.Series], str] | None = None) -> str:
    """An HTML table; each column is (header, css class, cell(row) -> text or (text, smaller text below)).

    All cell text is escaped.
    """
    head = "".join(f"<th>{esc(h)}</th>" for h, _, _ in columns)
    body = []
    for _, row in frame.iterrows():
        cls = f' class="{row_class(row)}"' if row_class and row_class(row) else ""
        cells = "".join(f'<td class="{c}">{_cell(cell(row))}</td>' for _, c, cell in columns)
        body.append(f"<tr{cls}>{cells}</tr>")
    return f'<div class="table-wrap"><table><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table></div>'


def headline_cards(items: list[Headline], compared: bool, replications: int | None = None) -> str:
    """Cards of headline numbers; `compared`: they are gains over a (valid) comparison, signed and coloured."""
    cards = []
    for h in items:
        e = h.estimate
        tone = ""
        if compared and e.n > 1 and not math.isnan(e.low):
            tone = " good" if e.low > 0 else " bad" if e.high < 0 else ""
        unit = "" if h.unit == "GBP" else f' <span class="unit">{esc(h.unit)}</span>'
        cards.append(
            f'<div class="card"><div class="label">{esc(h.label)}</div>'
            f'<div class="value{tone}">{esc(number(e.mean, h.unit, signed=compared, with_unit=False))}{unit}</div>'
            f'<div class="ci">95% CI {esc(interval(e, h.unit, signed=compared, replications=replications))}</div>'
            f'<div class="note">{esc(h.explanation)}</div></div>'
        )
    return f'<div class="cards">{"".join(cards)}</div>'


def estimate_cell(prefix: str, signed: bool = False, replications: int | None = None, sign: float = 1.0,
                  scale: float | None = None) -> Cell:
    """Mean over the 95% CI, units left to the table's unit column; `sign` -1 turns a change into a saving.

    `replications` is how many were run: a missing interval is put down to one replication only then.
    `scale` puts every amount of a money column in one unit (£m).
    """
    def cell(row: pd.Series) -> tuple[str, str]:
        mean, low, high = (sign * row[f"{prefix}_{part}"] for part in ("mean", "ci95_low", "ci95_high"))
        unit = row["unit"]
        shown = number(mean, unit, signed, with_unit=False, scale=scale)
        if math.isnan(low):
            return shown, "95% CI " + _missing(mean, replications)
        e = Estimate(mean, min(low, high), max(low, high), replications or 2)
        return shown, f"95% CI {interval(e, unit, signed, False, scale=scale)}"
    return cell


def _missing(mean: float, replications: int | None) -> str:
    if math.isnan(mean):
        return "n/a"
    return "n/a: one replication" if replications == 1 else "n/a: too few replications with a value"


def change_cell(prefix: str, replications: int | None = None) -> Cell:
    """A difference (scenario - comparator) in words that carry its direction, with its 95% CI likewise."""
    def cell(row: pd.Series) -> tuple[str, str]:
        mean, low, high = (row[f"{prefix}_{part}"] for part in ("mean", "ci95_low", "ci95_high"))
        unit = row["unit"]
        if math.isnan(low):
            e = Estimate(mean, low, high, 1)
            return change_words(mean, unit), f"95% CI {interval(e, unit, replications=replications)}"
        if low == high:
            return change_words(mean, unit), "95% CI the same"
        return change_words(mean, unit), f"95% CI {change_words(low, unit)} to {change_words(high, unit)}"
    return cell


def warnings_box(warnings: Sequence, heading: str) -> str:
    """The simulator's warnings (sim.trust), each naming the run it is about; empty when there are none."""
    if not warnings:
        return ""
    items = "".join(f"<li>{esc(w.message)}{' (comparator)' if w.role == 'comparator' else ''}</li>" for w in warnings)
    return f'<div class="warn" role="note"><b>{esc(heading)}</b><ul>{items}</ul></div>'


def not_valid(reason: str) -> str:
    """Where the headline's gains would be, when the comparison cannot be trusted (sim.trust.not_valid_reason)."""
    return f'<div class="invalid" role="alert">{esc(reason)}</div>'



def stress(sections: list[Section]) -> str:
    parts = []
    for s in sections:
        rows = "".join(f"<dt>{esc(term)}</dt><dd>{esc(value)}</dd>" for term, value in s.rows)
        parts.append(f"<h3>{esc(s.heading)}</h3><dl class=\"stress\">{rows}</dl>")
    return "".join(parts)


def page(title: str, subtitle: list[str], nav: list[tuple[str, str]], body: str) -> str:
    links = "".join(f'<a href="#{anchor}">{esc(label)}</a>' for anchor, label in nav)
    subtitle_html = "".join(f"<p>{esc(line)}</p>" for line in subtitle)
    generated = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
        # No page resource may come from the network: the report must open offline.
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
        "script-src 'unsafe-inline' 'unsafe-eval'; style-src 'unsafe-inline'; img-src data: blob:; font-src data:\">"
        f"<title>{esc(title)}</title><style>{STYLE}</style>"
        f"<script type=\"text/javascript\">{get_plotlyjs()}</script></head><body>"
        f"<header><h1>{esc(title)}</h1>{subtitle_html}</header><nav>{links}</nav><main>{body}"
        f"<footer>Generated {esc(generated)} by care-pathway-sim. Means over replications with 95% confidence "
        "intervals; differences are paired by replication (common random numbers).</footer></main></body></html>\n"
    )
