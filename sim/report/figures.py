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
SANKEY_PLOT_PX = 520   # height of the drawing area (figure height less margins)
SANKEY_PAD_PX = 14     # gap between nodes of a column
SANKEY_LABEL_PX = 15   # a node label's line height at the diagram's 11px font: neighbours' centres stay this far apart


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
    part of it. Flows out of long-term services (placements that end, years later) are left out, and so
    is a flow back to an earlier step (a readmission): the step that sends people back is drawn as an end.
    A node's column is its longest path from the sources; ends and nodes with no flow out are in the last.
    """
    services = scenario.services
    flows = flows[~flows["source"].map(lambda n: n in services and services[n].kind == "long_term")]
    into = flows.groupby("target")["source"].agg(set)
    merged = {route: next(iter(into[route])) for route in scenario.routes
              if route in into and len(into[route]) == 1 and (next(iter(into[route])) in services
                                                              or next(iter(into[route])) in SOURCES)}

    def owner(node: str) -> str:
        while node in merged:
            node = merged[node]
        return node
    flows = flows[~flows["target"].isin(list(merged))].assign(source=flows["source"].map(owner))
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
    flows = flows[kept].reset_index(drop=True)
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
                    columns: dict[str, int]) -> tuple[list[float], list[float]]:
    """x and y (centre) of each node: its column, nodes stacked in the order given.

    Heights follow plotly's own scale (the fullest column fills the height), so the stacks do not overlap;
    the gap above a node is widened where two thin nodes would put their labels (drawn at their centres)
    closer than a line of text.
    """
    size = {n: max(flows.loc[flows["source"] == n, "people"].sum(), flows.loc[flows["target"] == n, "people"].sum())
            for n in names}
    last = max(columns.get(n, 0) for n in names)
    column = {n: columns.get(n, last) for n in names}
    pad, label = SANKEY_PAD_PX / SANKEY_PLOT_PX, SANKEY_LABEL_PX / SANKEY_PLOT_PX
    members = {c: [n for n in names if column[n] == c] for c in set(column.values())}

    def gaps(nodes: list[str], scale: float) -> list[float]:
        return [max(pad, label - (size[a] + size[b]) * scale / 2) for a, b in zip(nodes, nodes[1:])]

    def fits(scale: float) -> bool:
        # A margin of 0.002 keeps the end nodes' centres inside plotly's (0.001, 0.999), so none is moved.
        return all(sum(size[n] for n in m) * scale + sum(gaps(m, scale)) <= 0.998 for m in members.values())

    # The largest scale at which every column fits: the widened gaps shrink as the scale grows, so bisect.
    low, high = 0.0, 1 / max(max(size[n] for n in m) for m in members.values())
    for _ in range(60):
        middle = (low + high) / 2
        low, high = (middle, high) if fits(middle) else (low, middle)
    scale = low
    y: dict[str, float] = {}
    for c, nodes in members.items():
        between = gaps(nodes, scale)
        top = 0.001
        for i, n in enumerate(nodes):
            y[n] = top + size[n] * scale / 2
            top += size[n] * scale + (between[i] if i < len(between) else 0)
    xs = [0.001 + 0.998 * column[n] / last if last else 0.5 for n in names]
    return xs, [min(max(y[n], 0.001), 0.999) for n in names]


def _sankey_trace(flows: pd.DataFrame, x_domain: tuple[float, float], scenario) -> go.Sankey:
    flows, columns = pathway_graph(flows, scenario)
    # Services in the scenario's order, routes by name (P0 above P1), then the ends.
    order = list(dict.fromkeys([*SOURCES, *scenario.services, *sorted(scenario.routes), *END_COLOURS]))
    names = sorted(set(flows["source"]) | set(flows["target"]),
                   key=lambda n: (order.index(n) if n in order else len(order), n))
    index = {n: i for i, n in enumerate(names)}
    colours = [node_colour(n, scenario) for n in names]
    x, y = _node_positions(names, flows, columns)
    return go.Sankey(
        domain=dict(x=list(x_domain), y=[0, 1]),
        arrangement="snap",
        valueformat=",.1f",
        valuesuffix=" people",
        textfont=dict(size=11, color="#222"),
        node=dict(label=[html.escape(node_label(n, scenario)) for n in names], color=colours,
                  x=x, y=y, pad=SANKEY_PAD_PX, thickness=16, line=dict(color="white", width=0.5)),
        link=dict(source=[index[s] for s in flows["source"]], target=[index[t] for t in flows["target"]],
                  value=flows["people"].tolist(),
                  color=[_rgba(colours[index[s]], 0.35) for s in flows["source"]]),
    )


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
            fig.add_trace(_sankey_trace(flows, domain, rs.scenarios[role]))
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
