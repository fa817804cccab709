"""The report's figures, as plotly Figures built from a ResultSet's tables.

Colours are the Okabe-Ito palette, distinguishable with the common forms of
colour blindness. Text that comes from users (scenario names) is HTML-escaped
before it reaches plotly, which would otherwise read tags such as <a> in it.
"""

from __future__ import annotations

import html
import math

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from sim.kpis import SERVICE_LABELS
from sim.report import tables
from sim.report.formatting import change_words, interval, number
from sim.report.intervals import Estimate
from sim.results import ResultSet

OKABE_ITO = {
    "orange": "#E69F00", "sky": "#56B4E9", "green": "#009E73", "yellow": "#F0E442",
    "blue": "#0072B2", "vermillion": "#D55E00", "purple": "#CC79A7", "grey": "#777777",
}
ROLE_COLOURS = {"scenario": OKABE_ITO["blue"], "comparator": OKABE_ITO["orange"]}
PAYER_COLOURS = {"nhs": OKABE_ITO["sky"], "council": OKABE_ITO["green"], "self_funder": OKABE_ITO["purple"]}
LOG_FLOOR_DAYS = 0.01  # a quarter of an hour: the shortest stay a log axis shows
FONT = dict(family="Segoe UI, Helvetica Neue, Arial, sans-serif", size=13, color="#222")

# Short, so that two diagrams side by side keep their labels inside the page.
NODE_LABELS = {
    "crisis": "Crisis", "urgent_response": "Urgent response", "ED": "ED", "acute": "Acute bed",
    "P0": "P0 home", "P1": "P1 home + support", "P2": "P2 short-term bed", "P3": "P3 care home",
    "reablement": "Reablement", "home_care": "Home care", "community_beds": "Community hospital",
    "temporary_residential": "Temporary residential", "residential_care": "Residential care",
    "nursing_care": "Nursing care", "home": "Home", "died": "Died", "readmitted": "Readmitted",
}
NODE_COLOURS = {
    "crisis": OKABE_ITO["grey"], "urgent_response": OKABE_ITO["green"], "ED": OKABE_ITO["vermillion"],
    "acute": OKABE_ITO["vermillion"], "P0": OKABE_ITO["sky"], "P1": OKABE_ITO["sky"], "P2": OKABE_ITO["sky"],
    "P3": OKABE_ITO["sky"], "reablement": OKABE_ITO["green"], "home_care": OKABE_ITO["green"],
    "community_beds": OKABE_ITO["orange"], "temporary_residential": OKABE_ITO["orange"],
    "residential_care": OKABE_ITO["purple"], "nursing_care": OKABE_ITO["purple"],
    "home": OKABE_ITO["blue"], "died": "#333333", "readmitted": OKABE_ITO["yellow"],
}
# Each step's column, left to right, and its place top to bottom: both diagrams lay people out alike,
# so the eye can compare the same node across them.
NODE_COLUMNS = {
    "crisis": 0, "urgent_response": 1, "ED": 2, "acute": 3, "P0": 4, "P1": 4, "P2": 4, "P3": 4,
    "community_beds": 5, "temporary_residential": 5, "reablement": 6,
    "home": 7, "home_care": 7, "residential_care": 7, "nursing_care": 7, "readmitted": 7, "died": 7,
}
NODE_ORDER = list(NODE_COLUMNS)
# The last gap is the widest: the end column's labels (left of its nodes) need room beside reablement.
COLUMN_X = (0.001, 0.12, 0.235, 0.35, 0.49, 0.62, 0.78, 0.999)
# Urgent response, short-term beds and reablement sit low, near the flows that feed them (P1, P2),
# so that the big flows home along the top stay clear.
BOTTOM_COLUMNS = {1, 5, 6}
SANKEY_PLOT_PX = 520   # height of the drawing area (figure height less margins)
SANKEY_LABEL_PX = 15   # a node label's line height at the diagram's 11px font
SANKEY_PAD_PX = SANKEY_LABEL_PX  # gap between nodes of a column: the labels of neighbours stay a line apart
SANKEY_NODE_PX = 16    # node thickness
SANKEY_CHAR_PX = 6.0   # average width of a character of the 11px label font (Arial: about 5.6)
# The narrowest a diagram is drawn: the figure's 880px minimum width (page.STYLE), two diagrams, margins.
# Labels placed apart at this width stay apart at any wider one: each is anchored to its node.
SANKEY_MIN_DIAGRAM_PX = 400
SANKEY_WIDE_DIAGRAM_PX = 560  # a diagram on a laptop's page (1280px): no label may meet a node there
SANKEY_MAX_SHIFT_PX = 24  # how far a label may move up or down to stay clear, so it still reads as its node's


def role_name(rs: ResultSet, role: str, limit: int = 48) -> str:
    """'Scenario: <name>' shortened for legends, escaped for plotly."""
    name = rs.scenarios[role].name
    if len(name) > limit:
        name = name[: limit - 1] + "…"
    return html.escape(f"{role.capitalize()}: {name}")


def _base_layout(fig: go.Figure, title: str, height: int, legend_rows: int = 1) -> go.Figure:
    """Title at the top, a horizontal legend under it, the plot below; positions in pixels of the figure."""
    top = 50 + 22 * legend_rows
    height += top
    fig.update_layout(
        title=dict(text=html.escape(title), x=0.01, xanchor="left", yref="container", y=1 - 12 / height,
                   yanchor="top", font=dict(size=16)),
        height=height, font=FONT, paper_bgcolor="white", plot_bgcolor="white",
        margin=dict(l=70, r=30, t=top + 20, b=60),
        legend=dict(orientation="h", yref="container", y=1 - 42 / height, yanchor="top", xanchor="left", x=0.01),
        hoverlabel=dict(font_size=12),
    )
    fig.update_xaxes(showgrid=True, gridcolor="#e5e5e5", zeroline=False, linecolor="#999")
    fig.update_yaxes(showgrid=True, gridcolor="#e5e5e5", zeroline=False, linecolor="#999")
    return fig


def _rgba(hex_colour: str, alpha: float) -> str:
    r, g, b = (int(hex_colour[i: i + 2], 16) for i in (1, 3, 5))
    return f"rgba({r},{g},{b},{alpha})"


# --- flows -----------------------------------------------------------------------


def _node_positions(names: list[str], flows: pd.DataFrame) -> tuple[list[float], list[float], list[float]]:
    """x, y (centre) and height of each node (fractions of the diagram): fixed columns, pathway order.

    Heights follow plotly's own scale (the fullest column fills the height, with SANKEY_PAD_PX between
    nodes), so the stacks do not overlap and neighbours' labels are a line apart.
    """
    size = {n: max(flows.loc[flows["source"] == n, "people"].sum(), flows.loc[flows["target"] == n, "people"].sum())
            for n in names}
    column = {n: NODE_COLUMNS.get(n, len(COLUMN_X) - 1) for n in names}
    pad = SANKEY_PAD_PX / SANKEY_PLOT_PX
    members = {c: [n for n in names if column[n] == c] for c in set(column.values())}
    # 0.998: the end nodes' centres stay inside plotly's (0.001, 0.999), so none is moved.
    scale = min((0.998 - pad * (len(m) - 1)) / sum(size[n] for n in m) for m in members.values())
    y: dict[str, float] = {}
    for c, nodes in members.items():
        top = 0.001
        if c in BOTTOM_COLUMNS:
            top = 0.999 - sum(size[n] * scale for n in nodes) - pad * (len(nodes) - 1)
        for n in nodes:
            y[n] = top + size[n] * scale / 2
            top += size[n] * scale + pad
    return ([COLUMN_X[column[n]] for n in names], [min(max(y[n], 0.001), 0.999) for n in names],
            [size[n] * scale for n in names])


Box = tuple[float, float, float, float]  # left, top, right, bottom, in pixels of the narrowest diagram


def _overlap(a: Box, b: Box) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def _node_centre_px(x: float, width: float = SANKEY_MIN_DIAGRAM_PX) -> float:
    """Plotly puts a node's left edge at x of the width less its thickness."""
    return x * (width - SANKEY_NODE_PX) + SANKEY_NODE_PX / 2


def label_box(label: str, x: float, y: float, side: str, shift: float, diagram_px: float = SANKEY_MIN_DIAGRAM_PX) -> Box:
    """Where a node's label is drawn: beside its node on `side` ("right" or "left"), `shift` px down."""
    width = len(label) * SANKEY_CHAR_PX
    centre = _node_centre_px(x, diagram_px)
    if side == "left":
        right = centre - SANKEY_NODE_PX / 2 - 3
        left = right - width
    else:
        left = centre + SANKEY_NODE_PX / 2 + 3
        right = left + width
    middle = y * SANKEY_PLOT_PX + shift
    return (left, middle - SANKEY_LABEL_PX / 2, right, middle + SANKEY_LABEL_PX / 2)


def node_boxes(x: list[float], y: list[float], heights: list[float],
               diagram_px: float = SANKEY_MIN_DIAGRAM_PX) -> list[Box]:
    return [(_node_centre_px(nx, diagram_px) - SANKEY_NODE_PX / 2, (ny - h / 2) * SANKEY_PLOT_PX,
             _node_centre_px(nx, diagram_px) + SANKEY_NODE_PX / 2, (ny + h / 2) * SANKEY_PLOT_PX)
            for nx, ny, h in zip(x, y, heights)]


def label_places(labels: list[str], x: list[float], y: list[float], heights: list[float]) -> list[tuple[str, float]]:
    """The side and shift (px down) of each node's label so that no two labels, and no label and node,
    overlap: plotly's own labels sit right of the node whatever is there (the intermediate-care steps
    near the end of the pathway ran into each other).

    Greedy, from the last column back (its labels can only go left) and top down in a column: the usual
    side (right; left in the last column) with the smallest shift that is clear, then the other side.
    Clear means of every label at the narrowest width and, if possible, of every node there too; else of
    every node at a laptop's width (SANKEY_WIDE_DIAGRAM_PX); else of labels only. A label left with no
    clear place is placed first in another round, a few times at most; then it keeps the usual place.
    """
    nodes = node_boxes(x, y, heights)
    wide_nodes = node_boxes(x, y, heights, SANKEY_WIDE_DIAGRAM_PX)
    shifts = [0.0] + [sign * step for step in range(3, SANKEY_MAX_SHIFT_PX + 1, 3) for sign in (1, -1)]

    def sides(i: int) -> list[str]:
        return ["left"] if x[i] >= COLUMN_X[-1] else ["right"] if x[i] <= COLUMN_X[0] else ["right", "left"]

    def clear(i: int, place: tuple[str, float], placed: list[Box], tier: int) -> bool:
        box = label_box(labels[i], x[i], y[i], *place)
        if not _clear(box, placed):
            return False
        if tier == 0:
            return _clear(box, nodes)
        if tier == 1:
            wide = label_box(labels[i], x[i], y[i], *place, SANKEY_WIDE_DIAGRAM_PX)
            return _clear(wide, wide_nodes, SANKEY_WIDE_DIAGRAM_PX)
        return True

    def attempt(order: list[int]) -> tuple[list[tuple[str, float]], list[int]]:
        places: list[tuple[str, float]] = [("right", 0.0)] * len(labels)
        placed: list[Box] = []
        stuck = []
        for i in order:
            candidates = [(side, shift) for side in sides(i) for shift in shifts]
            found = next((place for tier in (0, 1, 2) for place in candidates if clear(i, place, placed, tier)), None)
            if found is None:
                stuck.append(i)
            places[i] = found or (sides(i)[0], 0.0)
            placed.append(label_box(labels[i], x[i], y[i], *places[i]))
        return places, stuck

    order = sorted(range(len(labels)), key=lambda i: (-x[i], y[i]))
    places, stuck = attempt(order)
    for _ in range(len(labels)):
        if not stuck:
            break
        order = [stuck[0]] + [i for i in order if i != stuck[0]]
        places, stuck = attempt(order)
    return places


def _clear(box: Box, others: list[Box], diagram_px: float = SANKEY_MIN_DIAGRAM_PX) -> bool:
    # A label may reach into the figure's margins (20px) and the gap between the diagrams, not beyond.
    inside = -10 <= box[0] and box[2] <= diagram_px + 20 and -10 <= box[1] and box[3] <= SANKEY_PLOT_PX + 10
    return inside and not any(_overlap(box, other) for other in others)


def _sankey(flows: pd.DataFrame, x_domain: tuple[float, float]) -> tuple[go.Sankey, list[dict]]:
    """The diagram and its node labels, drawn as annotations placed clear of each other and of the nodes."""
    names = sorted(set(flows["source"]) | set(flows["target"]),
                   key=lambda n: (NODE_ORDER.index(n) if n in NODE_ORDER else len(NODE_ORDER), n))
    index = {n: i for i, n in enumerate(names)}
    node_colour = [NODE_COLOURS.get(n, OKABE_ITO["grey"]) for n in names]
    labels = [NODE_LABELS.get(n, n.replace("_", " ")) for n in names]
    x, y, heights = _node_positions(names, flows)
    places = label_places(labels, x, y, heights)
    span = x_domain[1] - x_domain[0]

    def offset(nx: float, side: str) -> float:
        # From the annotation's anchor (x of the domain) to the label's edge beside the node, in px.
        centre_from_anchor = SANKEY_NODE_PX / 2 - SANKEY_NODE_PX * nx
        return centre_from_anchor + (1 if side == "right" else -1) * (SANKEY_NODE_PX / 2 + 3)

    annotations = [
        dict(text=html.escape(label), x=x_domain[0] + nx * span, y=1 - ny, yshift=-shift, xshift=offset(nx, side),
             xref="paper", yref="paper", xanchor="left" if side == "right" else "right", yanchor="middle",
             showarrow=False, font=dict(size=11, color="#222"))
        for label, nx, ny, (side, shift) in zip(labels, x, y, places)
    ]
    trace = go.Sankey(
        domain=dict(x=list(x_domain), y=[0, 1]),
        arrangement="fixed",  # the labels are placed for these positions
        valueformat=",.1f",
        valuesuffix=" people",
        node=dict(label=[""] * len(names), customdata=[html.escape(label) for label in labels],
                  hovertemplate="%{customdata}: %{value:,.1f} people<extra></extra>", color=node_colour,
                  x=x, y=y, pad=SANKEY_PAD_PX, thickness=SANKEY_NODE_PX, line=dict(color="white", width=0.5)),
        link=dict(source=[index[s] for s in flows["source"]], target=[index[t] for t in flows["target"]],
                  value=flows["people"].tolist(),
                  customdata=[f"{html.escape(labels[index[a]])} → {html.escape(labels[index[b]])}"
                              for a, b in zip(flows["source"], flows["target"])],
                  hovertemplate="%{customdata}: %{value:,.1f} people<extra></extra>",
                  color=[_rgba(node_colour[index[s]], 0.35) for s in flows["source"]]),
    )
    return trace, annotations


def sankey(rs: ResultSet) -> go.Figure:
    """People through the pathway in the measured period: mean over replications, one diagram per role."""
    roles = [r for r in ("comparator", "scenario") if r in rs.scenarios]
    width = 1 / len(roles)
    fig = go.Figure()
    for i, role in enumerate(roles):
        domain = (i * width + (0.02 if i else 0), (i + 1) * width - (0.02 if i < len(roles) - 1 else 0))
        flows = tables.mean_flows(rs, role)
        flows = flows[flows["people"] > 0]
        if flows.empty:  # nobody moved in the measured period (no demand, or a very short run)
            fig.add_annotation(text="nobody moved in the measured period", x=sum(domain) / 2, y=0.5,
                               xref="paper", yref="paper", showarrow=False)
        else:
            trace, labels = _sankey(flows, domain)
            fig.add_trace(trace)
            for label in labels:
                fig.add_annotation(**label)
        fig.add_annotation(text=f"<b>{role_name(rs, role, 56)}</b>", x=domain[0], xanchor="left", y=1.04,
                           xref="paper", yref="paper", showarrow=False,
                           font=dict(size=14, color=ROLE_COLOURS.get(role, "#222")))
    fig = _base_layout(fig, "People through the pathway (mean per replication, measured period)", SANKEY_PLOT_PX, 0)
    fig.update_layout(height=SANKEY_PLOT_PX + 120, margin=dict(l=20, r=20, t=100, b=20))
    return fig


# --- over time ---------------------------------------------------------------------


def over_time(rs: ResultSet, measure: str) -> go.Figure:
    """Daily occupancy or queue per service: median and 90% band over replications; capacity dashed."""
    bands = tables.daily_bands(rs, measure)
    services = [s for s in SERVICE_LABELS if s in set(bands["service"])]
    if measure == "queue":
        # Only services with a capacity limit can have a queue.
        limited = bands.groupby("service")["capacity"].apply(lambda c: np.isfinite(c).any())
        services = [s for s in services if limited.get(s, False)]
    cols = 2
    rows = math.ceil(len(services) / cols)
    fig = make_subplots(rows=rows, cols=cols, subplot_titles=[SERVICE_LABELS[s] for s in services],
                        vertical_spacing=0.32 / rows, horizontal_spacing=0.08)
    unit = "places in use" if measure == "occupancy" else "people waiting"
    first_day = bands["day"].min()
    for k, service in enumerate(services):
        row, col = k // cols + 1, k % cols + 1
        for role in [r for r in ("comparator", "scenario") if r in rs.scenarios]:
            b = bands[(bands["service"] == service) & (bands["role"] == role)]
            colour = ROLE_COLOURS.get(role, OKABE_ITO["grey"])
            name = role_name(rs, role)
            legend = k == 0
            fig.add_trace(go.Scatter(x=b["day"], y=b["p95"], mode="lines", line=dict(width=0), hoverinfo="skip",
                                     showlegend=False, legendgroup=role), row=row, col=col)
            fig.add_trace(go.Scatter(x=b["day"], y=b["p05"], mode="lines", line=dict(width=0), fill="tonexty",
                                     fillcolor=_rgba(colour, 0.22), name=f"{name}, 90% band", hoverinfo="skip",
                                     showlegend=legend, legendgroup=role), row=row, col=col)
            fig.add_trace(go.Scatter(x=b["day"], y=b["median"], mode="lines", line=dict(color=colour, width=1.8),
                                     name=f"{name}, median", showlegend=legend, legendgroup=role,
                                     hovertemplate=f"day %{{x}}: %{{y:.1f}} {unit}<extra>{name}</extra>"),
                          row=row, col=col)
            if measure == "occupancy" and np.isfinite(b["capacity"]).all():
                fig.add_trace(go.Scatter(x=b["day"], y=b["capacity"], mode="lines",
                                         line=dict(color=colour, width=1.2, dash="dash"), name=f"{name}, capacity",
                                         showlegend=legend, legendgroup=role,
                                         hovertemplate="capacity %{y:.0f}<extra></extra>"), row=row, col=col)
        if first_day < 0:
            label = dict(annotation_text="warm-up", annotation_position="top left", annotation_font_size=11)
            fig.add_vrect(x0=first_day, x1=0, fillcolor="#888", opacity=0.12, line_width=0, row=row, col=col,
                          **(label if k == 0 else {}))
        fig.update_yaxes(title_text=unit if col == 1 else None, rangemode="tozero", row=row, col=col)
        fig.update_xaxes(title_text="day (0 = start of measured period)" if row == rows else None, row=row, col=col)
    title = "Daily occupancy" if measure == "occupancy" else "Daily queues"
    legend_rows = 3 if measure == "occupancy" else 2
    return _base_layout(fig, f"{title} per service (median and 90% band over replications)", 260 * rows + 40,
                        legend_rows)


# --- stays and delays ------------------------------------------------------------------


def stays(rs: ResultSet, summary: pd.DataFrame) -> go.Figure:
    """Distribution of completed stays per service and role (box: quartiles; whiskers: 1.5 IQR).

    Drawn from the summary's statistics, not the stays themselves, so the page stays small however many
    replications ran. Stays under LOG_FLOOR_DAYS are drawn at it: the axis is logarithmic.
    """
    fig = go.Figure()
    order = [s for s in SERVICE_LABELS if s in set(summary["service"])]
    for role in [r for r in ("comparator", "scenario") if r in rs.scenarios]:
        s = summary[summary["role"] == role]

        def days(column: str) -> list[float]:
            return s[column].clip(lower=LOG_FLOOR_DAYS).tolist()
        fig.add_trace(go.Box(
            y=s["service_label"].tolist(), q1=days("p25_days"), median=days("median_days"), q3=days("p75_days"),
            lowerfence=days("whisker_low_days"), upperfence=days("whisker_high_days"), mean=days("mean_days"),
            name=role_name(rs, role), orientation="h", marker_color=ROLE_COLOURS.get(role, OKABE_ITO["grey"]),
            boxpoints=False,
        ))
    fig = _base_layout(fig, "Completed lengths of stay (days, log scale)", 120 + 70 * len(order))
    fig.update_layout(boxmode="group", margin=dict(l=230))
    fig.update_xaxes(type="log", title_text="length of stay, days (log scale)")
    fig.update_yaxes(categoryorder="array", categoryarray=[SERVICE_LABELS[s] for s in reversed(order)])
    return fig


def _error(values: pd.DataFrame, prefix: str) -> dict:
    low = values[f"{prefix}_mean"] - values[f"{prefix}_ci95_low"]
    high = values[f"{prefix}_ci95_high"] - values[f"{prefix}_mean"]
    return dict(type="data", symmetric=False, array=high.fillna(0).tolist(), arrayminus=low.fillna(0).tolist(),
                color="#333", thickness=1.2, width=4)


def delays(rs: ResultSet, table: pd.DataFrame) -> go.Figure:
    """Delayed days by service and reason (mean over replications with 95% CI)."""
    table = table.assign(what=table["service_label"] + ": waiting for " + table["reason_label"])
    order = sorted(table["what"].unique())
    fig = go.Figure()
    for role in [r for r in ("comparator", "scenario") if r in rs.scenarios]:
        t = table[table["role"] == role].set_index("what").reindex(order).reset_index()
        fig.add_trace(go.Bar(x=t["delayed_days_mean"], y=t["what"].map(html.escape), orientation="h",
                             name=role_name(rs, role), marker_color=ROLE_COLOURS.get(role, OKABE_ITO["grey"]),
                             error_x=_error(t, "delayed_days"),
                             hovertemplate="%{x:,.0f} days<extra></extra>"))
    fig = _base_layout(fig, "Delayed days by service and reason (mean, 95% CI)", 160 + 60 * len(order))
    fig.update_layout(barmode="group", margin=dict(l=330))
    fig.update_xaxes(title_text="days spent waiting to move on, measured period",
                     autorangeoptions=dict(minallowed=0))
    return fig


# --- money ----------------------------------------------------------------------------------


def costs(rs: ResultSet, table: pd.DataFrame) -> go.Figure:
    """Cost by service, stacked by payer, one panel per role (mean over replications)."""
    roles = [r for r in ("comparator", "scenario") if r in rs.scenarios]
    fig = make_subplots(rows=1, cols=len(roles), shared_yaxes=True, horizontal_spacing=0.04,
                        subplot_titles=[role_name(rs, r, 60) for r in roles])
    order = table.groupby("service_label")["cost_gbp_mean"].sum().sort_values().index.tolist()
    for c, role in enumerate(roles, start=1):
        for payer, colour in PAYER_COLOURS.items():
            t = table[(table["role"] == role) & (table["payer"] == payer)].set_index("service_label").reindex(order)
            fig.add_trace(go.Bar(
                y=order, x=t["cost_gbp_mean"].fillna(0), orientation="h", marker_color=colour,
                name=tables.PAYER_LABELS[payer], legendgroup=payer, showlegend=c == 1,
                customdata=[[number(lo, "GBP"), number(hi, "GBP")] for lo, hi in
                            zip(t["cost_gbp_ci95_low"], t["cost_gbp_ci95_high"])],
                hovertemplate="£%{x:,.0f} (95% CI %{customdata[0]} to %{customdata[1]})"
                              f"<extra>{tables.PAYER_LABELS[payer]}</extra>",
            ), row=1, col=c)
        fig.update_xaxes(title_text="cost in the period, £", tickprefix="£", row=1, col=c)
    fig = _base_layout(fig, "Cost by service and payer (mean per replication)", 140 + 42 * len(order))
    fig.update_layout(barmode="stack", margin=dict(l=230))
    return fig


def _change_interval(e: Estimate) -> str:
    if math.isnan(e.low):
        return interval(e, "GBP")
    return f"{change_words(e.low, 'GBP')} to {change_words(e.high, 'GBP')}"


def waterfall(rs: ResultSet, changes: pd.DataFrame, comparator_total: Estimate, scenario_total: Estimate) -> go.Figure:
    """From the comparator's total cost to the scenario's, service by service (paired mean changes)."""
    changes = changes[changes["change_gbp_mean"].abs() > 0].sort_values("change_gbp_mean")
    x = ["Comparator total", *changes["service_label"], "Scenario total"]
    y = [comparator_total.mean, *changes["change_gbp_mean"], scenario_total.mean]
    estimates = [comparator_total,
                 *(Estimate(m, lo, hi, comparator_total.n) for m, lo, hi in
                   zip(changes["change_gbp_mean"], changes["change_gbp_ci95_low"], changes["change_gbp_ci95_high"])),
                 scenario_total]
    fig = go.Figure(go.Waterfall(
        x=x, y=y, measure=["absolute", *["relative"] * len(changes), "total"],
        # The changes in words ("£1.2m less"), the totals as amounts: no sign to read either way.
        text=[change_words(v, "GBP") if 0 < i < len(y) - 1 else number(v, "GBP") for i, v in enumerate(y)],
        textposition="outside",
        customdata=[_change_interval(e) if 0 < i < len(y) - 1 else interval(e, "GBP") for i, e in enumerate(estimates)],
        hovertemplate="%{x}: %{text} (95% CI %{customdata})<extra></extra>",
        increasing=dict(marker=dict(color=OKABE_ITO["vermillion"])),
        decreasing=dict(marker=dict(color=OKABE_ITO["blue"])),
        totals=dict(marker=dict(color=OKABE_ITO["grey"])),
        connector=dict(line=dict(color="#999", width=1)),
    ))
    fig = _base_layout(fig, "From comparator cost to scenario cost, all payers (red: costs more; blue: saves)", 480)
    running = np.cumsum(y[:-1])
    low, high = min(running.min(), y[-1]), max(running.max(), y[-1])
    # The axis starts near the smaller total, not at zero, so the changes are visible; the page says so.
    span = high - low
    fig.update_yaxes(title_text="cost in the period, £", tickprefix="£",
                     range=[low - 0.15 * span - 0.02 * low, high + 0.12 * span + 0.01 * high])
    fig.update_layout(showlegend=False)
    return fig
