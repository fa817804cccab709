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

from sim.scenario import labels
from sim import compare
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

# Sankey nodes are the scenario's own services, routes and ends, coloured by what they are.
KIND_COLOURS = {
    "response_team": OKABE_ITO["green"], "beds": OKABE_ITO["orange"], "caseload": OKABE_ITO["green"],
    "visits": OKABE_ITO["green"], "long_term": OKABE_ITO["purple"], "unlimited": OKABE_ITO["grey"],
}
MAIN_COLOUR = OKABE_ITO["vermillion"]   # the main service (sim.compare.main_service)
ROUTE_COLOUR = OKABE_ITO["sky"]
END_COLOURS = {"home": OKABE_ITO["blue"], "died": "#333333", "left": OKABE_ITO["grey"]}
# Where people come from before their first step (sim.pathway.model): crises, and arrivals straight into a service.
SOURCES = {"crises": "Crises", "arrivals": "Arrivals"}
# Where people come from when an `afterwards:` entry happens to them (sim.pathway.afterwards).
AFTERWARDS = "afterwards"
# The first and last columns' x (plotly keeps node centres inside (0.001, 0.999)).
FIRST_X, LAST_X = 0.001, 0.999
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


def pathway_graph(flows: pd.DataFrame, scenario) -> tuple[pd.DataFrame, dict[str, int]]:
    """The flows as the diagram draws them, and each node's column (0 = where people come from).

    A route all of whose people come from one service (its outcome) or one source (crises) is drawn as
    part of it, and one that everybody leaves the same way (a decision nobody was spared) is drawn as
    the step it leads to. A route with a label of its own (a discharge pathway) is always drawn. Flows out
    of long-term services (placements that end, years later, including those of people already in care
    at the start) are left out, with the routes only they lead to (a care home place ending in death);
    so is a flow back to an earlier step (a readmission): the step that sends people back is drawn as an
    end. What `afterwards:` entries do later to people gone home or placed (readmitted, died) is such a
    step back from an end, and is left out too.
    A node's column is its longest path from the sources; ends and nodes with no flow out are in the last.
    """
    services = scenario.services
    flows = flows[~flows["source"].map(lambda n: n == AFTERWARDS or (n in services and services[n].kind == "long_term"))]
    while True:  # a route nobody reaches any more (what follows a placement's end) is not drawn either
        unreached = flows["source"].map(lambda n, fed=set(flows["target"]): n in scenario.routes and n not in fed)
        if not unreached.any():
            break
        flows = flows[~unreached]
    flows = flows.groupby(["source", "target"], as_index=False, sort=False)["people"].sum()
    while True:  # one route at a time, until none is left to fold into its neighbours
        into = flows.groupby("target")["source"].agg(set)
        out_of = flows.groupby("source")["target"].agg(set)
        route = next((r for r in scenario.routes if r in into.index and not scenario.routes[r].label and (
            (len(into[r]) == 1 and next(iter(into[r])) in (*services, *SOURCES))  # one service's outcome
            or (r in out_of.index and len(out_of[r]) == 1))), None)  # a decision everyone leaves one way
        if route is None:
            break
        if len(into[route]) == 1 and next(iter(into[route])) in (*services, *SOURCES):
            owner = next(iter(into[route]))
            flows = flows[flows["target"] != route].assign(
                source=flows["source"].where(flows["source"] != route, owner))
        else:
            onward = next(iter(out_of[route]))
            flows = flows[flows["source"] != route].assign(
                target=flows["target"].where(flows["target"] != route, onward))
        flows = flows.groupby(["source", "target"], as_index=False, sort=False)["people"].sum()
    order = list(dict.fromkeys([*SOURCES, *services, *scenario.routes, *flows["source"], *flows["target"]]))
    out: dict[str, list[str]] = {}
    for source, target in zip(flows["source"], flows["target"]):
        out.setdefault(source, []).append(target)
    # Depth-first from the sources: an edge to a node still on the path is a step back, not drawn.
    back: set[tuple[str, str]] = set()
    state: dict[str, int] = {}  # 1 = on the path, 2 = done
    finished: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        for target in sorted(out.get(node, []), key=order.index):
            if state.get(target) == 1:
                back.add((node, target))
            elif target not in state:
                visit(target)
        state[node] = 2
        finished.append(node)
    for node in sorted(set(flows["source"]) | set(flows["target"]), key=order.index):
        if node not in state:
            visit(node)
    kept = [(s, t) not in back for s, t in zip(flows["source"], flows["target"])]
    flows = flows[np.array(kept, dtype=bool)].reset_index(drop=True)  # an empty list would select columns
    column: dict[str, int] = {}
    for node in reversed(finished):  # topological order of the flows kept
        column.setdefault(node, 0)
        for target in out.get(node, []):
            if (node, target) not in back:
                column[target] = max(column.get(target, 0), column[node] + 1)
    last = max(column.values(), default=0)
    sources = set(flows["source"])
    for node in column:
        if node not in sources and column[node] > 0:
            column[node] = last
    return flows, column


def node_label(name: str, scenario) -> str:
    if name in scenario.services:
        return labels.service(name)
    if name in scenario.routes:
        return scenario.routes[name].label or name.replace("_", " ")
    return SOURCES.get(name) or name.replace("_", " ").capitalize()


def node_colour(name: str, scenario) -> str:
    if name in scenario.services:
        if name == compare.main_service(scenario):
            return MAIN_COLOUR
        return KIND_COLOURS.get(scenario.services[name].kind, OKABE_ITO["grey"])
    if name in scenario.routes:
        return ROUTE_COLOUR
    return END_COLOURS.get(name, OKABE_ITO["grey"])


def _node_positions(names: list[str], flows: pd.DataFrame,
                    columns: dict[str, int]) -> tuple[list[float], list[float], list[float]]:
    """x, y (centre) and height of each node (fractions of the diagram): its column, nodes stacked in order.

    Heights follow plotly's own scale (the fullest column fills the height, with SANKEY_PAD_PX between
    nodes), so the stacks do not overlap and neighbours' labels are a line apart.
    """
    size = {n: max(flows.loc[flows["source"] == n, "people"].sum(), flows.loc[flows["target"] == n, "people"].sum())
            for n in names}
    last = max(columns.get(n, 0) for n in names)
    column = {n: columns.get(n, last) for n in names}
    pad = SANKEY_PAD_PX / SANKEY_PLOT_PX
    members = {c: [n for n in names if column[n] == c] for c in set(column.values())}
    # 0.998: the end nodes' centres stay inside plotly's (0.001, 0.999), so none is moved.
    scale = min((0.998 - pad * (len(m) - 1)) / sum(size[n] for n in m) for m in members.values())
    y: dict[str, float] = {}
    for c, nodes in members.items():
        top = 0.001
        for n in nodes:
            y[n] = top + size[n] * scale / 2
            top += size[n] * scale + pad
    xs = [0.001 + 0.998 * column[n] / last if last else 0.5 for n in names]
    return xs, [min(max(y[n], 0.001), 0.999) for n in names], [size[n] * scale for n in names]


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
        return ["left"] if x[i] >= LAST_X else ["right"] if x[i] <= FIRST_X else ["right", "left"]

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




def _sankey(flows: pd.DataFrame, x_domain: tuple[float, float], scenario) -> tuple[go.Sankey, list[dict]]:
    """The diagram and its node labels, drawn as annotations placed clear of each other and of the nodes."""
    flows, columns = pathway_graph(flows, scenario)
    # Services in the scenario's order, routes by name (P0 above P1), then the ends.
    order = list(dict.fromkeys([*SOURCES, *scenario.services, *sorted(scenario.routes), *END_COLOURS]))
    names = sorted(set(flows["source"]) | set(flows["target"]),
                   key=lambda n: (order.index(n) if n in order else len(order), n))
    index = {n: i for i, n in enumerate(names)}
    colours = [node_colour(n, scenario) for n in names]
    labels = [node_label(n, scenario) for n in names]
    x, y, heights = _node_positions(names, flows, columns)
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
                  hovertemplate="%{customdata}: %{value:,.1f} people<extra></extra>", color=colours,
                  x=x, y=y, pad=SANKEY_PAD_PX, thickness=SANKEY_NODE_PX, line=dict(color="white", width=0.5)),
        link=dict(source=[index[s] for s in flows["source"]], target=[index[t] for t in flows["target"]],
                  value=flows["people"].tolist(),
                  customdata=[f"{html.escape(labels[index[a]])} → {html.escape(labels[index[b]])}"
                              for a, b in zip(flows["source"], flows["target"])],
                  hovertemplate="%{customdata}: %{value:,.1f} people<extra></extra>",
                  color=[_rgba(colours[index[s]], 0.35) for s in flows["source"]]),
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
        drawn = pathway_graph(flows, rs.scenarios[role])[0] if not flows.empty else flows
        if drawn.empty:  # nobody moved in the measured period (no demand, or a very short run)
            text = "nobody moved in the measured period" + ("" if flows.empty else
                                                            " but people leaving the long-term care they were in")
            fig.add_annotation(text=text, x=sum(domain) / 2, y=0.5, xref="paper", yref="paper", showarrow=False)
        else:
            trace, labels = _sankey(flows, domain, rs.scenarios[role])
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
    services = list(dict.fromkeys(bands["service"]))
    if measure == "queue":
        # Only services with a capacity limit can have a queue.
        limited = bands.groupby("service")["capacity"].apply(lambda c: np.isfinite(c).any())
        services = [s for s in services if limited.get(s, False)]
    cols = 2
    rows = math.ceil(len(services) / cols)
    fig = make_subplots(rows=rows, cols=cols, subplot_titles=[labels.service(s) for s in services],
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
    order = list(dict.fromkeys(summary["service"]))
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
    fig.update_yaxes(categoryorder="array", categoryarray=[labels.service(s) for s in reversed(order)])
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


PERSPECTIVE_COLOURS = {"nhs": OKABE_ITO["sky"], "council": OKABE_ITO["green"], "nhs_pss": OKABE_ITO["blue"],
                       "self_funders": OKABE_ITO["purple"]}


def budget_impact(rs: ResultSet, impact: pd.DataFrame) -> go.Figure:
    """Net cash saving a year by perspective (bars, 95% CI whiskers); self-funders apart, hatched: private spending."""
    price_year = rs.scenarios["scenario"].economics.price_year
    scale = compare.money_scale(*impact["mean"].tolist())
    unit = {1e6: "£m", 1e3: "£k"}.get(scale, "£")
    fig = go.Figure()
    nets = impact[impact["kind"] == "net"]
    for perspective in ("nhs", "council", "nhs_pss", "self_funders"):
        rows = nets[nets["perspective"] == perspective].sort_values("year")
        if rows.empty:
            continue
        private = perspective == "self_funders"
        name = {"nhs": "NHS", "council": "Council", "nhs_pss": "NHS + council (NHS+PSS)",
                "self_funders": "Self-funders: private spending, not a system saving"}[perspective]
        fig.add_trace(go.Bar(
            x=[f"Year {y}" for y in rows["year"]], y=rows["mean"] / scale, name=name,
            marker=dict(color=PERSPECTIVE_COLOURS[perspective], pattern=dict(shape="/" if private else "")),
            error_y=dict(type="data", symmetric=False, array=(rows["ci_high"] - rows["mean"]) / scale,
                         arrayminus=(rows["mean"] - rows["ci_low"]) / scale, color="#333", thickness=1),
            customdata=[[number(lo, "GBP"), number(hi, "GBP")] for lo, hi in zip(rows["ci_low"], rows["ci_high"])],
            hovertemplate=f"%{{x}}: %{{y:,.2f}} {unit} (95% CI %{{customdata[0]}} to %{{customdata[1]}})"
                          f"<extra>{html.escape(name)}</extra>",
        ))
    fig = _base_layout(fig, f"Net cash saving by year and payer ({unit}, {price_year} prices, undiscounted): "
                            "savings less what the change costs; above zero = a saving", 440, legend_rows=2)
    fig.update_yaxes(title_text=f"net saving, {unit}", zeroline=True, zerolinecolor="#333")
    fig.update_layout(barmode="group")
    return fig
