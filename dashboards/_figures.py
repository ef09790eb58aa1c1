"""Pure figure functions: data in, plotly figure out. The dashboard and the reports draw with these.

Examples
--------
>>> import pandas as pd
>>> from najma.journeys import ProcessMap
>>> graph = ProcessMap(
...     pd.DataFrame({"activity": ["Apply", "Pay"], "frequency": [10, 8], "cases": [10, 8]}),
...     pd.DataFrame({"source": ["Apply"], "target": ["Pay"], "frequency": [8], "cases": [8],
...                   "mean_seconds": [60.0], "median_seconds": [60.0], "p90_seconds": [90.0],
...                   "min_seconds": [5.0], "max_seconds": [99.0]}),
...     {"Apply": 10}, {"Pay": 8, "Apply": 2})
>>> figure = process_map_figure(graph)
>>> "activities" in [trace.name for trace in figure.data]
True
"""

from __future__ import annotations

import textwrap
from collections import deque
from collections.abc import Mapping, Sequence

import pandas as pd
import plotly.graph_objects as go
from plotly.colors import sample_colorscale

from najma.errors import InvalidParameterError
from najma.journeys import ProcessMap
from najma.rating import KPIS, format_value
from najma.rating._suppression import MIN_GROUP, merged_bins

__all__ = [
    "process_map_figure", "layered_positions", "MEASURES", "star_distribution_figure", "customer_steps_figure",
    "kpi_scores_figure", "PILLAR_COLOURS", "trend_figure", "pillar_scores_figure", "variant_figure", "VARIANT_MEASURES",
    "sankey_figure", "star_probability_figure", "coverage_figure", "map_elements", "MAP_STYLESHEET",
]

#: What a process map's edges can show.
MEASURES = ("frequency", "performance")
#: The characters per line of a Sankey node's label.
SANKEY_LABEL_WIDTH = 16
_SCALE = "Viridis"


def layered_positions(graph: ProcessMap) -> dict[str, tuple[float, float]]:
    """Place activities in layers: a layer is the fewest steps from a start activity.

    Within a layer, the more frequent activity comes first; ties go by name, so the picture is
    the same every time. Activities no start reaches go in a last layer.

    Returns
    -------
    dict of str to (x, y)
        x across a layer (centred on 0), y down the layers (0, -1, -2, ...).
    """
    following: dict[str, list[str]] = {}
    for source, target in zip(graph.edges.source, graph.edges.target, strict=True):
        following.setdefault(source, []).append(target)
    depth = {activity: 0 for activity in graph.start_activities}
    queue = deque(sorted(depth))
    while queue:
        activity = queue.popleft()
        for target in sorted(following.get(activity, [])):
            if target not in depth:
                depth[target] = depth[activity] + 1
                queue.append(target)
    last = max(depth.values(), default=-1) + 1
    frequency = dict(zip(graph.activities.activity, graph.activities.frequency, strict=True))
    layers: dict[int, list[str]] = {}
    for activity in graph.activities.activity:
        layers.setdefault(depth.get(activity, last), []).append(activity)
    positions = {}
    for layer, members in layers.items():
        members.sort(key=lambda a: (-frequency[a], a))
        for index, activity in enumerate(members):
            positions[activity] = (index - (len(members) - 1) / 2, -float(layer))
    return positions


def _hours(seconds: float) -> str:
    return f"{seconds / 3600:,.1f} h" if seconds >= 3600 else f"{seconds / 60:,.0f} min"


def process_map_figure(
    graph: ProcessMap, measure: str = "frequency", *, title: str | None = None, labels: Mapping[str, str] | None = None,
) -> go.Figure:
    """Draw a process map: activities in layers, arrows for edges coloured by median time.

    Parameters
    ----------
    graph : ProcessMap
        From :func:`najma.journeys.process_map` (abstract it first for a readable picture).
    measure : {"frequency", "performance"}
        What the edge labels and widths show: how often an edge was followed, or the median
        time between its two steps.
    title : str, optional
        The figure's title.
    labels : mapping of str to str, optional
        The name to show for an activity (for example in Arabic); by default its own.
    """
    if measure not in MEASURES:
        raise InvalidParameterError(f"The 'measure' parameter of process_map_figure must be one of {MEASURES}. Got {measure!r} instead.")
    positions = layered_positions(graph)
    edges = graph.edges[graph.edges.source != graph.edges.target]
    medians = edges.median_seconds.astype(float)
    low, high = (medians.min(), medians.max()) if len(edges) else (0.0, 1.0)
    span = (high - low) or 1.0
    colours = sample_colorscale(_SCALE, [(m - low) / span for m in medians]) if len(edges) else []
    top = edges.frequency.max() if len(edges) else 1
    figure = go.Figure()
    for edge, colour in zip(edges.itertuples(index=False), colours, strict=True):
        (x0, y0), (x1, y1) = positions[edge.source], positions[edge.target]
        label = f"{edge.frequency:,}" if measure == "frequency" else _hours(edge.median_seconds)
        figure.add_annotation(
            x=x1, y=y1, ax=x0, ay=y0, xref="x", yref="y", axref="x", ayref="y", showarrow=True,
            arrowhead=2, arrowsize=0.8, arrowwidth=1 + 4 * edge.frequency / top, arrowcolor=colour,
            standoff=14, startstandoff=14, opacity=0.8,
        )
        figure.add_trace(go.Scatter(
            x=[(x0 + x1) / 2], y=[(y0 + y1) / 2], mode="text", text=[label], showlegend=False,
            textfont={"size": 10, "color": "#444"},
            hovertext=[f"{edge.source} → {edge.target}<br>{edge.frequency:,} times in {edge.cases:,} cases<br>"
                       f"median {_hours(edge.median_seconds)}, p90 {_hours(edge.p90_seconds)}"],
            hoverinfo="text", name="edge",
        ))
    activities = graph.activities
    loops = dict(zip(graph.edges.source[graph.edges.source == graph.edges.target],
                     graph.edges.frequency[graph.edges.source == graph.edges.target], strict=True))
    figure.add_trace(go.Scatter(
        x=[positions[a][0] for a in activities.activity], y=[positions[a][1] for a in activities.activity],
        mode="markers+text", text=[(labels or {}).get(a, a) for a in activities.activity], textposition="top center",
        name="activities",
        marker={"size": 18, "color": "#1f4e79", "line": {"width": 1, "color": "white"}},
        customdata=list(activities.activity), showlegend=False, hoverinfo="text",
        hovertext=[f"{a}<br>{f:,} events in {c:,} cases" + (f"<br>repeated at once {loops[a]:,} times" if a in loops else "")
                   for a, f, c in zip(activities.activity, activities.frequency, activities.cases, strict=True)],
    ))
    if len(edges):
        figure.add_trace(go.Scatter(
            x=[None], y=[None], mode="markers", showlegend=False, hoverinfo="skip",
            marker={"colorscale": _SCALE, "cmin": low / 3600, "cmax": high / 3600, "color": [low / 3600],
                    "colorbar": {"title": "median hours", "thickness": 12}},
        ))
    figure.update_layout(
        title=title, plot_bgcolor="white", margin={"l": 20, "r": 20, "t": 50 if title else 20, "b": 20},
        xaxis={"visible": False}, yaxis={"visible": False}, hovermode="closest",
        height=max(400, 110 * (1 - min((y for _, y in positions.values()), default=0))),
    )
    return figure


#: The colour of each pillar, in every figure that shows pillars.
PILLAR_COLOURS = {"efficiency": "#1f77b4", "effectiveness": "#2ca02c", "steps": "#ff7f0e"}


def star_distribution_figure(stars: pd.Series, *, lowest: int = 2, title: str | None = None,
                             x_title: str = "stars", y_title: str = "services") -> go.Figure:
    """Bars of how many services earned each star, from `lowest` to 7; unrated (NA) rows are left out.

    Examples
    --------
    >>> figure = star_distribution_figure(pd.Series([3, 5, 5, None], dtype="Int64"))
    >>> list(figure.data[0].y)
    [0, 1, 0, 2, 0, 0]
    """
    counts = stars.dropna().astype(int).value_counts().reindex(range(lowest, 8), fill_value=0)
    figure = go.Figure(go.Bar(x=[f"{s}★" for s in counts.index], y=counts.to_list(), marker_color="#c9a227",
                              text=counts.to_list(), textposition="outside"))
    figure.update_layout(title=title, xaxis_title=x_title, yaxis_title=y_title, plot_bgcolor="white", height=320,
                         margin={"l": 50, "r": 20, "t": 50 if title else 20, "b": 40})
    return figure


def customer_steps_figure(steps: pd.Series, customers: pd.Series | None = None, *, min_group: int = MIN_GROUP,
                          title: str | None = None, x_title: str = "customer steps", y_title: str = "cases",
                          merged_note: str = "bins of fewer than {n} customers are merged with the next") -> go.Figure:
    """A histogram of the customer steps of cases (one value per case), a bar per whole number of steps.

    A bar of fewer than `min_group` customers is merged with the bars above it (the values at the
    top with the bar below; see :func:`najma.rating._suppression.merged_bins`), its label then
    spans the steps it holds, and `merged_note` (with ``{n}``) says so under the chart.

    Parameters
    ----------
    steps : Series
        The customer steps of each case.
    customers : Series, optional
        The customer of each case, aligned with `steps`; by default each case is its own customer.
    min_group : int, default 10
        The fewest customers a bar may show.

    Examples
    --------
    >>> list(customer_steps_figure(pd.Series([3, 3, 4, 6]), min_group=1).data[0].y)
    [2, 1, 0, 1]
    >>> bars = customer_steps_figure(pd.Series([3, 3, 4, 6]), min_group=2).data[0]
    >>> list(bars.x), list(bars.y)
    (['3', '4–6'], [2, 2])
    """
    customers = pd.Series(range(len(steps)), index=steps.index) if customers is None else customers
    bins = merged_bins(steps, customers, min_group)
    spans = [(int(low), int(high)) for low, high in zip(bins["low"], bins["high"], strict=True)]
    merged = any(low != high for low, high in spans)  # else every whole number gets a bar, empty ones too
    if merged:
        labels, counts = [str(low) if low == high else f"{low}–{high}" for low, high in spans], bins["cases"].to_list()
    else:
        whole = bins.set_index("low")["cases"].reindex(range(spans[0][0], spans[-1][1] + 1), fill_value=0) if spans \
            else bins["cases"]
        labels, counts = [str(v) for v in whole.index], whole.to_list()
    figure = go.Figure(go.Bar(x=labels, y=counts, marker_color="#1f4e79"))
    figure.update_layout(title=title, xaxis_title=x_title, yaxis_title=y_title, plot_bgcolor="white", height=300,
                         xaxis={"type": "category"}, bargap=0.1, margin={"l": 50, "r": 20, "t": 50 if title else 20,
                                                                         "b": 60 if merged else 40})
    if merged:
        figure.add_annotation(text=merged_note.format(n=min_group), xref="paper", yref="paper", x=0, y=-0.28,
                              showarrow=False, xanchor="left", font={"size": 10, "color": "#555"})
    return figure


def kpi_scores_figure(breakdown: pd.DataFrame, *, title: str | None = None,
                      x_title: str = "score (target = 100)") -> go.Figure:
    """Horizontal bars of each KPI's score against its target (100), coloured by pillar.

    Parameters
    ----------
    breakdown : DataFrame
        Columns ``kpi``, ``label``, ``pillar``, ``value`` and ``score`` (NaN for a KPI without
        data), one row per KPI, as from :func:`najma.rating.kpi_breakdown`. Each bar is labelled with
        the KPI's value as people read it.

    Examples
    --------
    >>> breakdown = pd.DataFrame({"kpi": ["within_sla", "visits"], "label": ["Share within SLA", "Visits"],
    ...                           "pillar": ["efficiency", "steps"], "value": [0.5, None], "score": [40.0, None]})
    >>> bars = kpi_scores_figure(breakdown).data[0]
    >>> list(bars.y), list(bars.text)
    (['Share within SLA'], ['50.0%'])
    """
    shown = breakdown[breakdown["score"].notna()].iloc[::-1]
    values = [format_value(v, KPIS[k].unit) for k, v in zip(shown["kpi"], shown["value"], strict=True)]
    figure = go.Figure(go.Bar(
        x=shown["score"], y=shown["label"], orientation="h", text=values, textposition="auto",
        marker_color=[PILLAR_COLOURS.get(p, "#888") for p in shown["pillar"]],
    ))
    figure.add_vline(x=100, line_dash="dot", line_color="#555")
    figure.update_yaxes(automargin=True)
    figure.update_layout(
        title=title, plot_bgcolor="white", height=60 + 24 * len(shown), xaxis_title=x_title,
        xaxis={"range": [0, 105]}, margin={"l": 20, "r": 20, "t": 50 if title else 20, "b": 40},
    )
    return figure


def _frame_layout(figure: go.Figure, title: str | None, height: int) -> go.Figure:
    figure.update_layout(title=title, plot_bgcolor="white", height=height,
                         margin={"l": 50, "r": 20, "t": 50 if title else 20, "b": 40})
    return figure


def trend_figure(trend: pd.DataFrame, *, labels: Mapping[str, str] | None = None, title: str | None = None,
                 y_title: str = "stars", lowest: int = 2) -> go.Figure:
    """Stars over quarters, a line per service.

    Parameters
    ----------
    trend : DataFrame
        service, quarter, stars (NA when not rated), as from ``DashboardData.trend``.

    Examples
    --------
    >>> trend = pd.DataFrame({"service": ["a", "a"], "quarter": ["2025Q1", "2025Q2"], "stars": [4, 5]})
    >>> [[float(y) for y in t.y] for t in trend_figure(trend).data]
    [[4.0, 5.0]]
    """
    figure = go.Figure()
    for service, rows in trend.groupby("service", sort=True):
        figure.add_trace(go.Scatter(x=rows["quarter"], y=rows["stars"].astype(float), mode="lines+markers",
                                    name=(labels or {}).get(service, service)))
    figure.update_layout(yaxis={"range": [lowest - 0.5, 7.5], "dtick": 1, "title": y_title},
                         xaxis={"type": "category", "categoryorder": "category ascending"},
                         legend={"orientation": "h", "y": -0.2})
    return _frame_layout(figure, title, 360)


def pillar_scores_figure(rows: pd.DataFrame, *, pillar_names: Mapping[str, str] | None = None,
                         title: str | None = None) -> go.Figure:
    """Each service's three pillar scores side by side, coloured as :data:`PILLAR_COLOURS`.

    Parameters
    ----------
    rows : DataFrame
        name (of the service) and a column per pillar, as from ``DashboardData.overview``.
    """
    figure = go.Figure([
        go.Bar(y=rows["name"], x=rows[pillar], name=(pillar_names or {}).get(pillar, pillar), orientation="h",
               marker_color=colour)
        for pillar, colour in PILLAR_COLOURS.items()
    ])
    figure.update_layout(barmode="group", xaxis={"range": [0, 100]}, yaxis={"autorange": "reversed"},
                         legend={"orientation": "h", "y": -0.15})
    return _frame_layout(figure, title, 120 + 60 * len(rows))


#: What the variant histogram can show per variant.
VARIANT_MEASURES = {"cases": "cases", "steps": "median_customer_steps", "duration": "median_duration_seconds"}


def variant_figure(variants: pd.DataFrame, measure: str = "cases", *, selected: Sequence[str] = (),
                   title: str | None = None, y_title: str | None = None) -> go.Figure:
    """A bar per variant (most frequent first) of its cases, median customer steps or median duration (days).

    Selected variants are drawn in a darker colour. Each bar's customdata is its variant.

    Examples
    --------
    >>> variants = pd.DataFrame({"variant": ["A → B", "A"], "label": ["V1", "V2"], "cases": [30, 12],
    ...                          "median_customer_steps": [2, 1], "median_duration_seconds": [86400.0, 0.0]})
    >>> list(variant_figure(variants, "duration").data[0].y)
    [1.0, 0.0]
    """
    if measure not in VARIANT_MEASURES:
        raise InvalidParameterError(f"The 'measure' parameter of variant_figure must be one of {list(VARIANT_MEASURES)}. "
                         f"Got {measure!r} instead.")
    values = variants[VARIANT_MEASURES[measure]].astype(float)
    if measure == "duration":
        values = values / 86400
    chosen = set(selected)
    figure = go.Figure(go.Bar(
        x=variants["label"], y=values.to_list(), customdata=variants["variant"], hovertext=variants["variant"],
        marker_color=["#c9a227" if v in chosen else "#1f4e79" for v in variants["variant"]],
    ))
    figure.update_layout(yaxis_title=y_title or measure, xaxis={"type": "category"}, clickmode="event+select")
    return _frame_layout(figure, title, 300)


def sankey_figure(flows: pd.DataFrame, *, labels: Mapping[str, str] | None = None, title: str | None = None) -> go.Figure:
    """A Sankey diagram of flows between agencies and services.

    Parameters
    ----------
    flows : DataFrame
        source, target, journeys; node names carry their kind (``agency:...``, ``service:...``).
    labels : mapping, optional
        The name to show per node.

    Examples
    --------
    >>> flows = pd.DataFrame({"source": ["agency:X", "service:a"], "target": ["service:a", "service:b"],
    ...                       "journeys": [12, 10]})
    >>> sankey_figure(flows).data[0].node.label
    ('X', 'a', 'b')
    >>> sankey_figure(flows, labels={"service:b": "Health insurance for a newborn"}).data[0].node.label[2]
    'Health insurance<br>for a newborn'
    """
    nodes = list(dict.fromkeys([*flows["source"], *flows["target"]]))
    index = {node: i for i, node in enumerate(nodes)}
    # Plotly writes the last column's labels to the left of their nodes, where they meet the labels
    # of the column before: long names are broken over lines so that both fit between the columns.
    names = ["<br>".join(textwrap.wrap((labels or {}).get(n, n.split(":", 1)[1]), SANKEY_LABEL_WIDTH)) for n in nodes]
    figure = go.Figure(go.Sankey(
        node={"label": names, "pad": 18,
              "color": ["#c9a227" if n.startswith("agency:") else "#1f4e79" for n in nodes]},
        link={"source": [index[s] for s in flows["source"]], "target": [index[t] for t in flows["target"]],
              "value": flows["journeys"].to_list()},
    ))
    return _frame_layout(figure, title, 420)


def star_probability_figure(probabilities: Mapping[int, float], *, title: str | None = None,
                            y_title: str = "probability") -> go.Figure:
    """Bars of the probability of each star (from the bootstrap).

    Examples
    --------
    >>> list(star_probability_figure({4: 0.25, 5: 0.75}).data[0].y)
    [0.25, 0.75]
    """
    figure = go.Figure(go.Bar(x=[f"{s}★" for s in probabilities], y=list(probabilities.values()),
                              marker_color="#c9a227"))
    figure.update_layout(yaxis={"range": [0, 1], "tickformat": ".0%", "title": y_title})
    return _frame_layout(figure, title, 240)


def coverage_figure(counts: pd.DataFrame, *, labels: Mapping[str, str] | None = None, title: str | None = None,
                    suppressed: str = "too few") -> go.Figure:
    """A heat map of cases per service (rows) and quarter (columns); a missing count (a suppressed group)
    is left blank and reads `suppressed`.

    Examples
    --------
    >>> counts = pd.DataFrame({"2025Q1": [30, None]}, index=["a", "b"], dtype="Int64")
    >>> heat = coverage_figure(counts, suppressed="fewer than 10").data[0]
    >>> [list(row) for row in heat.z], [list(row) for row in heat.text]
    ([[30.0], [None]], [['30'], ['fewer than 10']])
    """
    values = counts.astype("Float64")
    shown = [[suppressed if pd.isna(v) else f"{int(v):,}" for v in row] for row in values.itertuples(index=False)]
    figure = go.Figure(go.Heatmap(z=values.astype(object).where(values.notna(), None).to_numpy(), x=list(counts.columns),
                                  y=[(labels or {}).get(s, s) for s in counts.index], colorscale="Blues",
                                  text=shown, texttemplate="%{text}", hovertemplate="%{y} %{x}: %{text}<extra></extra>"))
    figure.update_layout(xaxis={"type": "category"})
    return _frame_layout(figure, title, 120 + 36 * len(counts))


def map_elements(graph: ProcessMap, measure: str = "frequency", *, labels: Mapping[str, str] | None = None,
                 ) -> list[dict[str, object]]:
    """The nodes and edges of a process map for an interactive (Cytoscape) graph, in layers from top to bottom.

    Edges carry their colour by median time (the scale of :func:`process_map_figure`), a width by
    frequency, and a label: the frequency or the median time, as `measure` says.

    Examples
    --------
    >>> from najma.journeys import ProcessMap
    >>> graph = ProcessMap(pd.DataFrame({"activity": ["A", "B"], "frequency": [3, 2], "cases": [3, 2]}),
    ...     pd.DataFrame({"source": ["A"], "target": ["B"], "frequency": [2], "cases": [2], "mean_seconds": [60.0],
    ...                   "median_seconds": [60.0], "p90_seconds": [60.0], "min_seconds": [60.0], "max_seconds": [60.0]}),
    ...     {"A": 3}, {"B": 2, "A": 1})
    >>> [e["data"]["label"] for e in map_elements(graph, "performance")]
    ['A (3)', 'B (2)', '1 min']
    """
    if measure not in MEASURES:
        raise InvalidParameterError(f"The 'measure' parameter of map_elements must be one of {MEASURES}. Got {measure!r} instead.")
    positions = layered_positions(graph)
    nodes = [
        {"data": {"id": f"n{i}", "activity": a, "label": f"{(labels or {}).get(a, a)} ({f:,})"},
         "position": {"x": 260 * positions[a][0], "y": -80 * positions[a][1]}}
        for i, (a, f) in enumerate(zip(graph.activities["activity"], graph.activities["frequency"], strict=True))
    ]
    ids = {node["data"]["activity"]: node["data"]["id"] for node in nodes}
    medians = graph.edges["median_seconds"].astype(float)
    low, high = (medians.min(), medians.max()) if len(medians) else (0.0, 1.0)
    colours = sample_colorscale(_SCALE, [(m - low) / ((high - low) or 1.0) for m in medians]) if len(medians) else []
    top = graph.edges["frequency"].max() if len(graph.edges) else 1
    edges = [
        {"data": {"id": f"e{i}", "source": ids[e.source], "target": ids[e.target],
                  "label": f"{e.frequency:,}" if measure == "frequency" else _hours(e.median_seconds),
                  "colour": colour, "width": 1 + 6 * e.frequency / top, "frequency": int(e.frequency),
                  "median_seconds": float(e.median_seconds)}}
        for i, (e, colour) in enumerate(zip(graph.edges.itertuples(index=False), colours, strict=True))
    ]
    return nodes + edges


#: The look of :func:`map_elements` in a Cytoscape graph.
MAP_STYLESHEET: list[dict[str, object]] = [
    {"selector": "node", "style": {"label": "data(label)", "background-color": "#1f4e79", "color": "#222",
                                   "font-size": 11, "text-valign": "center", "text-halign": "right", "text-margin-x": 5,
                                   "text-background-color": "white", "text-background-opacity": 0.85,
                                   "text-background-padding": 2, "width": 18, "height": 18}},
    {"selector": "edge", "style": {"label": "data(label)", "line-color": "data(colour)", "target-arrow-color": "data(colour)",
                                   "target-arrow-shape": "triangle", "curve-style": "bezier", "width": "data(width)",
                                   "font-size": 10, "text-background-color": "white", "text-background-opacity": 0.8}},
]
