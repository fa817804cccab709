"""The fit report: per fitted distribution, the histogram with the fitted density, a Q-Q plot, AIC and KS.

One self-contained HTML page (plotly.js inlined once) so a person can judge
each fit by eye. Every piece of text that comes from the records or the
library (file names, service names, destinations) is escaped on its way in;
no markup from the input is ever rendered.
"""

from __future__ import annotations

import html

import numpy as np
import plotly.graph_objects as go
import plotly.io as pio
from plotly.offline import get_plotlyjs
from plotly.subplots import make_subplots

from sim.records.families import StayFit, _frozen
from sim.records.fit import Fitted

STYLE = """
body { font-family: "Segoe UI", "Helvetica Neue", Arial, sans-serif; margin: 0; color: #1f2328; line-height: 1.5; }
header { background: #12355b; color: #fff; padding: 22px 32px; } header h1 { margin: 0; font-size: 1.5rem; }
main { max-width: 1200px; margin: 0 auto; padding: 8px 32px 40px; }
h2 { border-bottom: 2px solid #d0d7de; font-size: 1.2rem; margin-top: 30px; }
table { border-collapse: collapse; margin: 8px 0; font-size: .92rem; }
th, td { border: 1px solid #d0d7de; padding: 4px 10px; text-align: right; } th:first-child, td:first-child { text-align: left; }
.chosen { background: #e6f0fa; font-weight: 600; } .note { color: #57606a; font-size: .92rem; }
.warn { border-left: 4px solid #E69F00; background: #fff8e6; padding: 8px 12px; }
"""


def esc(value: object) -> str:
    text = "".join(c if c.isprintable() or c in "\n\t" else repr(c)[1:-1] for c in str(value))
    return html.escape(text, quote=True)


def _figure(title: str, fit: StayFit) -> go.Figure:
    x = np.sort(fit.observed)
    fig = make_subplots(rows=1, cols=2, subplot_titles=("Stays and the fitted density", "Q-Q plot"))
    top = np.quantile(x, 0.99) if len(x) else 1.0
    shown = x[x <= top]
    # binned here, not by plotly: the page carries 60 bars, not every stay
    density, edges = np.histogram(shown, bins=60, density=True)
    density = density * len(shown) / max(len(x), 1)  # the stays above the 99th centile are off the chart, not lost
    fig.add_trace(go.Bar(x=(edges[:-1] + edges[1:]) / 2, y=density, width=np.diff(edges), name="records",
                         marker_color="#9ecae1"), row=1, col=1)
    grid = np.linspace(max(top / 1000, 1e-6), top, 300)
    for c in sorted(fit.candidates, key=lambda c: c.aic):
        best = c.family == fit.best.family
        fig.add_trace(go.Scatter(x=grid, y=c.frozen.pdf(grid), mode="lines", name=c.family,
                                 line=dict(width=3 if best else 1.2, dash=None if best else "dot")), row=1, col=1)
    probabilities = (np.arange(len(x)) + 0.5) / max(len(x), 1)
    step = max(1, len(x) // 500)
    theoretical = _frozen(fit.best.family, fit.best.params).ppf(probabilities[::step])
    fig.add_trace(go.Scatter(x=theoretical, y=x[::step], mode="markers", name=f"{fit.best.family} vs records",
                             marker=dict(size=4, color="#0072B2")), row=1, col=2)
    line = [0, float(max(theoretical.max(initial=0), x.max(initial=0)))]
    fig.add_trace(go.Scatter(x=line, y=line, mode="lines", name="perfect fit", line=dict(color="#999")), row=1, col=2)
    fig.update_xaxes(title_text="days", row=1, col=1)
    fig.update_xaxes(title_text=f"{fit.best.family} quantile", row=1, col=2)
    fig.update_yaxes(title_text="observed quantile", row=1, col=2)
    fig.update_layout(title=esc(title), height=380, margin=dict(t=70, l=50, r=20, b=40))
    return fig


def _aic_table(fit: StayFit) -> str:
    best = min(c.aic for c in fit.candidates)
    rows = "".join(
        f"<tr class=\"{'chosen' if c.family == fit.best.family else ''}\"><td>{esc(c.family)}</td>"
        f"<td>{c.loglik:,.1f}</td><td>{c.aic:,.1f}</td><td>{c.aic - best:,.1f}</td></tr>"
        for c in sorted(fit.candidates, key=lambda c: c.aic))
    gof = (f"Kolmogorov-Smirnov D = {fit.ks_d:.4f}" + (f", p = {fit.ks_p:.3g}" if fit.ks_p is not None else
                                                        " (against the Kaplan-Meier estimate: stays are censored)"))
    chosen = ("the records' own quantiles (empirical): no family fits" if fit.chosen == "empirical"
              else f"{esc(fit.chosen)}, the lowest AIC")
    caution = ("" if fit.censored < 0.1 * (fit.n + fit.censored) else
               " The histogram and the Q-Q plot show ended stays only: with this many still under way they lie left of"
               " the fitted distribution, which counts the unfinished stays too; the Kaplan-Meier gap is the fairer"
               " judge.")
    return (f"<table><tr><th>family</th><th>log-likelihood</th><th>AIC</th><th>&Delta;AIC</th></tr>{rows}</table>"
            f"<p class=\"note\">{fit.n:,} ended stays{f', {fit.censored:,} still under way (censored)' if fit.censored else ''}."
            f" Chosen: {chosen}. {gof}. Mean {fit.mean:.3g} (95% CI {fit.mean_low:.3g} to {fit.mean_high:.3g}).{caution}</p>")


def fit_report(fitted: Fitted, title: str) -> str:
    """The report as one HTML page."""
    parts = [f"<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>{esc(title)}</title><style>{STYLE}</style>",
             f"<script type=\"text/javascript\">{get_plotlyjs()}</script></head><body>",
             f"<header><h1>{esc(title)}</h1><p>{esc(fitted.scenario.get('description', ''))}</p></header><main>"]
    if fitted.notes:
        parts.append("<div class=\"warn\"><b>Look at these before using the scenario:</b><ul>"
                     + "".join(f"<li>{esc(n)}</li>" for n in fitted.notes) + "</ul></div>")
    parts.append("<p class=\"note\">Each distribution is fitted by maximum likelihood (scipy.stats); the lowest AIC"
                 " is chosen. Judge the fit by eye: the fitted density should follow the histogram, and the Q-Q"
                 " points lie on the grey line (points above it at the right: the records' tail is longer).</p>")
    for i, (name, fit) in enumerate(fitted.stays.items()):
        parts.append(f"<h2>{esc(name)}</h2>")
        parts.append(pio.to_html(_figure(name, fit), full_html=False, include_plotlyjs=False,
                                 include_mathjax=False, div_id=f"fit-{i}"))
        parts.append(_aic_table(fit))
    parts.append("<h2>Routes: counts at each decision point</h2>")
    for route, groups in fitted.routes.items():
        counts = groups["all"]
        total = sum(counts.values())
        cells = "".join(f"<tr><td>{esc(d)}</td><td>{n:,}</td><td>{n / total:.1%}</td></tr>" for d, n in counts.items())
        parts.append(f"<h3>{esc(route)}</h3><table><tr><th>to</th><th>people</th><th>share</th></tr>{cells}</table>")
    parts.append("<h2>Sources</h2><table><tr><th>field</th><th>source</th></tr>"
                 + "".join(f"<tr><td>{esc(k)}</td><td style=\"text-align:left\">{esc(v)}</td></tr>"
                           for k, v in fitted.scenario.get("sources", {}).items()) + "</table>")
    parts.append("</main></body></html>")
    return "".join(parts)
