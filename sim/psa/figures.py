"""The PSA's figures in one page, sensitivity/sensitivity.html: what drives each headline (Sobol indices,
the main sensitivity figure) and the acceptability curve of each perspective."""

from __future__ import annotations

from html import escape

import pandas as pd
import plotly.graph_objects as go


def sobol_figure(sobol: pd.DataFrame, measure: str, adequate: bool) -> go.Figure:
    rows = sobol[sobol["measure"] == measure].sort_values("ST")
    figure = go.Figure()
    for index, colour in (("S1", "#4575b4"), ("ST", "#d73027")):
        figure.add_bar(y=rows["input"], x=rows[index], orientation="h", name=index, marker_color=colour,
                       error_x={"type": "data", "array": rows[f"{index}_conf"]})
    note = "" if adequate else " (emulator below the validation bar: read with care)"
    figure.update_layout(title=f"{measure}: Sobol indices, first-order (S1) and total (ST){note}", barmode="group",
                         xaxis_title="share of the variance of the expected result", xaxis_range=[0, 1.05],
                         height=160 + 36 * len(rows))
    return figure


def acceptability_figure(ceac: pd.DataFrame) -> go.Figure:
    figure = go.Figure()
    for perspective, rows in ceac.groupby("perspective", sort=False):
        figure.add_scatter(x=rows["wtp_gbp_per_unit"], y=rows["probability_cost_effective"], mode="lines+markers",
                           name=perspective)
    effect = ceac["effect"].iloc[0] if len(ceac) else ""
    figure.update_layout(title=f"Acceptability: probability that each perspective gains, by what one more '{effect}' "
                               "is worth to it", xaxis_title="willingness to pay, GBP per unit", xaxis_type="log",
                         yaxis_title="probability", yaxis_range=[0, 1])
    return figure


def page(sensitivity: dict[str, pd.DataFrame], ceac: pd.DataFrame, title: str) -> str:
    figures = []
    emulators = sensitivity.get("emulator", pd.DataFrame())
    adequate = dict(zip(emulators.get("measure", []), emulators.get("adequate", [])))
    sobol = sensitivity.get("sobol", pd.DataFrame())
    for measure in (pd.unique(sobol["measure"]) if len(sobol) else []):
        figures.append(sobol_figure(sobol, measure, bool(adequate.get(measure, False))))
    if len(ceac):
        # Willingness to pay 0 cannot sit on a log axis: the curve starts at the first price above it.
        figures.append(acceptability_figure(ceac[ceac["wtp_gbp_per_unit"] > 0]))
    parts = [f.to_html(full_html=False, include_plotlyjs=(i == 0)) for i, f in enumerate(figures)]
    body = "\n".join(parts) if parts else "<p>Nothing to show.</p>"
    return (f"<!doctype html><html><head><meta charset='utf-8'><title>{escape(title)}</title></head><body>\n"
            f"<h1>{escape(title)}</h1>\n{body}\n</body></html>\n")
