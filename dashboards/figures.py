"""Pure figure functions: data in, plotly figure out. The dashboard and the reports draw with these.

Examples
--------
>>> import pandas as pd
>>> from journeys import ProcessMap
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

from collections import deque
from collections.abc import Mapping

import pandas as pd
import plotly.graph_objects as go
from plotly.colors import sample_colorscale

from journeys import ProcessMap

__all__ = [
    "process_map_figure", "layered_positions", "MEASURES", "star_distribution_figure", "customer_steps_figure",
    "kpi_scores_figure", "PILLAR_COLOURS",
]

#: What a process map's edges can show.
MEASURES = ("frequency", "performance")
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
        From :func:`journeys.process_map` (abstract it first for a readable picture).
    measure : {"frequency", "performance"}
        What the edge labels and widths show: how often an edge was followed, or the median
        time between its two steps.
    title : str, optional
        The figure's title.
    labels : mapping of str to str, optional
        The name to show for an activity (for example in Arabic); by default its own.
    """
    if measure not in MEASURES:
        raise ValueError(f"The 'measure' parameter of process_map_figure must be one of {MEASURES}. Got {measure!r} instead.")
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


def customer_steps_figure(steps: pd.Series, *, title: str | None = None, x_title: str = "customer steps",
                          y_title: str = "cases") -> go.Figure:
    """A histogram of the customer steps of cases (one value per case), a bar per whole number of steps.

    Examples
    --------
    >>> list(customer_steps_figure(pd.Series([3, 3, 4, 6])).data[0].y)
    [2, 1, 0, 1]
    """
    counts = steps.dropna().astype(int).value_counts()
    counts = counts.reindex(range(int(counts.index.min()), int(counts.index.max()) + 1), fill_value=0) if len(counts) \
        else counts
    figure = go.Figure(go.Bar(x=counts.index.to_list(), y=counts.to_list(), marker_color="#1f4e79"))
    figure.update_layout(title=title, xaxis_title=x_title, yaxis_title=y_title, plot_bgcolor="white", height=300,
                         xaxis={"dtick": 1}, bargap=0.1, margin={"l": 50, "r": 20, "t": 50 if title else 20, "b": 40})
    return figure


def kpi_scores_figure(breakdown: pd.DataFrame, *, title: str | None = None,
                      x_title: str = "score (target = 100)") -> go.Figure:
    """Horizontal bars of each KPI's score against its target (100), coloured by pillar.

    Parameters
    ----------
    breakdown : DataFrame
        Columns ``label``, ``pillar``, ``score`` (NaN for a KPI without data) and ``text`` (the
        value as people read it), one row per KPI, as from :func:`rating.kpi_breakdown`.
    """
    shown = breakdown[breakdown["score"].notna()].iloc[::-1]
    figure = go.Figure(go.Bar(
        x=shown["score"], y=shown["label"], orientation="h", text=shown["text"], textposition="auto",
        marker_color=[PILLAR_COLOURS.get(p, "#888") for p in shown["pillar"]],
    ))
    figure.add_vline(x=100, line_dash="dot", line_color="#555")
    figure.update_layout(
        title=title, plot_bgcolor="white", height=60 + 24 * len(shown), xaxis_title=x_title,
        xaxis={"range": [0, 105]}, margin={"l": 20, "r": 20, "t": 50 if title else 20, "b": 40},
    )
    return figure
