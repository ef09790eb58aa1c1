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

import hashlib
import math
import textwrap
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from html import escape as html_escape

import pandas as pd
import plotly.graph_objects as go
from plotly.colors import sample_colorscale

from najma.dashboards._i18n import text
from najma.dashboards._map_layout import (
    END,
    FONT_SIZE,
    LABEL_FONT_SIZE,
    LINE_HEIGHT,
    LOOP_REACH,
    START,
    Box,
    Link,
    MapLayout,
    duration_text,
    edge_text,
    map_layout,
    text_width,
)
from najma.errors import InvalidParameterError
from najma.journeys import ProcessMap
from najma.rating import KPIS, format_value
from najma.rating._suppression import MIN_GROUP, merged_bins

__all__ = [
    "process_map_figure", "MEASURES", "TIME_SCALE", "star_distribution_figure", "customer_steps_figure",
    "kpi_scores_figure", "PILLAR_COLOURS", "trend_figure", "pillar_scores_figure", "variant_figure", "VARIANT_MEASURES",
    "sankey_figure", "star_probability_figure", "coverage_figure", "map_elements", "MAP_STYLESHEET",
]

#: What a process map's edges can show.
MEASURES = ("frequency", "performance")
#: The characters per line of a Sankey node's label.
SANKEY_LABEL_WIDTH = 16


#: The colours of an edge by its median time, from the quickest to the slowest (on a log scale).
TIME_SCALE = [[0.0, "#7b8794"], [0.45, "#e3a33b"], [1.0, "#b3261e"]]
#: The colours of an activity's box by its frequency, from the rarest to the most frequent.
_FILL_SCALE = "Blues"
_TERMINAL_EDGE = "#9aa5b1"
_START_FILL, _END_FILL, _BORDER = "#2e7d32", "#37474f", "#1f4e79"
_PAD = 14
_TITLE_SIZE = 16


class _MapLook:
    """The colours and widths of a map's boxes and lines, shared by the Cytoscape map and the picture."""

    def __init__(self, layout: MapLayout, graph: ProcessMap) -> None:
        frequency = dict(zip(graph.activities["activity"], graph.activities["frequency"], strict=True))
        self.most = max(frequency.values(), default=1) or 1
        self.frequency = frequency
        times = [link.median_seconds for link in layout.links if link.median_seconds is not None]
        self.low, self.high = (math.log1p(min(times)), math.log1p(max(times))) if times else (0.0, 1.0)
        self.top_link = max((link.frequency for link in layout.links), default=1) or 1

    def fill(self, activity: str) -> tuple[str, str]:
        """The box's colour, darker for a more frequent activity, and the text's colour on it."""
        share = 0.08 + 0.8 * self.frequency[activity] / self.most
        return sample_colorscale(_FILL_SCALE, [share])[0], "white" if share > 0.55 else "#14213d"

    def time_share(self, seconds: float) -> float:
        return (math.log1p(seconds) - self.low) / ((self.high - self.low) or 1.0)

    def colour(self, link: Link) -> str:
        if link.median_seconds is None:
            return _TERMINAL_EDGE
        return sample_colorscale(TIME_SCALE, [self.time_share(link.median_seconds)])[0]

    def width(self, link: Link) -> float:
        return round(1.2 + 6 * link.frequency / self.top_link, 2)


def _check_measure(measure: str, function: str) -> None:
    if measure not in MEASURES:
        raise InvalidParameterError(
            f"The 'measure' parameter of {function} must be one of {MEASURES}. Got {measure!r} instead.")


def _units(lang: str) -> tuple[str, ...]:
    """The names of a second, a minute, an hour and a day on a map in `lang`."""
    return tuple(text(f"map_{unit}", lang) for unit in ("seconds", "minutes", "hours", "days"))


def _link_hover(link: Link, names: Mapping[str, str], lang: str) -> str:
    ends = [names.get(n, n) if n not in (START, END) else ("▶" if n == START else "■") for n in (link.source, link.target)]
    said = [text("map_edge_hover", lang).format(n=f"{link.frequency:,}")]
    if link.median_seconds is not None:
        said.append(text("map_edge_median", lang).format(time=duration_text(link.median_seconds, _units(lang))))
    return f"{ends[0]} → {ends[1]}<br>" + ("، " if lang == "ar" else ", ").join(said)


def _node_hover(name: str, events: int, cases: int, loop: int | None, lang: str) -> str:
    said = f"{name}<br>{text('map_node_hover', lang).format(events=f'{events:,}', cases=f'{cases:,}')}"
    return said if loop is None else f"{said}<br>{text('map_loop_hover', lang).format(n=f'{loop:,}')}"


def process_map_figure(
    graph: ProcessMap, measure: str = "frequency", *, title: str | None = None, labels: Mapping[str, str] | None = None,
    max_width: int | None = None, max_height: int | None = None, scale_title: str | None = None, lang: str = "en",
) -> go.Figure:
    """Draw a process map as Disco does: boxes in layers from a start ▶ to an end ■, lines between them.

    The layout is :func:`najma.dashboards._map_layout.map_layout`'s, the one of the dashboard's map.
    A box's blue is darker the more frequent its activity; a line is wider the more often it was
    followed and redder the longer its median time; its label (count or time) sits beside it, half way.
    The figure's `width` and `height` are set so every label fits its box: draw it at that size
    (a picture scales; a smaller drawing would crowd the text).

    Parameters
    ----------
    graph : ProcessMap
        From :func:`najma.journeys.process_map` (abstract it first for a readable picture).
    measure : {"frequency", "performance"}
        What the edge labels show: how often an edge was followed, or the median time between its two steps.
    title : str, optional
        The figure's title.
    labels : mapping of str to str, optional
        The name to show for an activity (for example in Arabic); by default its own.
    max_width, max_height : int, optional
        The largest size in pixels to draw at; a larger map is drawn smaller, text and all.
    scale_title : str, optional
        The title of the colour scale of the lines' times; by default "median time" in `lang`.
    lang : {"en", "ar"}, default "en"
        The language of the units of time, the hover texts and the default `scale_title`.
    """
    _check_measure(measure, "process_map_figure")
    names, units = labels or {}, _units(lang)
    layout = map_layout(graph, names, units)
    look = _MapLook(layout, graph)
    bounds = layout.bounds
    scale = _TimeScale(look, text("map_median_time", lang) if scale_title is None else scale_title, units) \
        if any(link.median_seconds is not None for link in layout.links) else None
    top_margin, right_margin = (50 if title else 10), (10 if scale is None else scale.width)
    title_room = text_width(title, _TITLE_SIZE) + 3 * _PAD if title else 0.0  # a narrow map must not cut its title
    natural = (max(bounds.width + 2 * _PAD + 10 + right_margin, title_room),
               bounds.height + 2 * _PAD + top_margin + 10)
    zoom = min([1.0, *(limit / size for limit, size in zip((max_width, max_height), natural, strict=True) if limit)])
    drawn = _Drawing()  # shapes, annotations and traces, handed to plotly once (adding them one by one is slow)
    for link in layout.links:
        _draw_link(drawn, link, look, edge_text(link.frequency, link.median_seconds, measure, units),
                   _link_hover(link, names, lang), zoom)
    for activity, box in layout.nodes.items():
        _draw_node(drawn, activity, box, layout.lines.get(activity, ()), look, zoom)
    activities = [a for a in graph.activities["activity"] if a in layout.nodes]
    loops = {link.source: link.frequency for link in layout.links if link.source == link.target}
    drawn.traces.append(go.Scatter(
        x=[layout.nodes[a].x for a in activities], y=[layout.nodes[a].y for a in activities], mode="markers",
        marker={"size": 1, "opacity": 0}, name="activities", customdata=activities, showlegend=False, hoverinfo="text",
        hovertext=[_node_hover(names.get(a, a), f, c, loops.get(a), lang)
                   for a, f, c in zip(graph.activities["activity"], graph.activities["frequency"],
                                      graph.activities["cases"], strict=True) if a in layout.nodes],
    ))
    if scale is not None:
        drawn.traces.append(scale.trace(zoom))
    figure = go.Figure(data=drawn.traces, layout={"shapes": drawn.shapes, "annotations": drawn.annotations})
    figure.update_layout(
        title={"text": title, "font": {"size": _TITLE_SIZE * zoom}, "x": 0, "xref": "paper", "xanchor": "left",
               "pad": {"l": _PAD * zoom}} if title else None, plot_bgcolor="white",
        paper_bgcolor="white", hovermode="closest", showlegend=False,
        width=math.ceil(natural[0] * zoom), height=math.ceil(natural[1] * zoom),
        margin={"l": 10 * zoom, "r": right_margin * zoom, "t": top_margin * zoom, "b": 10 * zoom, "autoexpand": False},
        xaxis={"visible": False, "range": [bounds.left - _PAD, bounds.right + _PAD], "fixedrange": False},
        yaxis={"visible": False, "range": [bounds.bottom + _PAD, bounds.top - _PAD], "scaleanchor": "x",
               "scaleratio": 1, "constrain": "domain"},
    )
    return figure


def _rounded(box: Box, radius: float = 6.0) -> str:
    """An SVG path of `box` with rounded corners (in data units; y grows downwards on the map's axis)."""
    r = min(radius, box.width / 2, box.height / 2)
    left, right, top, bottom = box.left, box.right, box.top, box.bottom
    return (f"M {left + r},{top} L {right - r},{top} Q {right},{top} {right},{top + r} L {right},{bottom - r} "
            f"Q {right},{bottom} {right - r},{bottom} L {left + r},{bottom} Q {left},{bottom} {left},{bottom - r} "
            f"L {left},{top + r} Q {left},{top} {left + r},{top} Z")


@dataclass
class _Drawing:
    """What a map figure draws, gathered as plain lists."""

    shapes: list[dict[str, object]] = field(default_factory=list)
    annotations: list[dict[str, object]] = field(default_factory=list)
    traces: list[go.Scatter] = field(default_factory=list)


def _draw_node(drawn: _Drawing, node: str, box: Box, lines: Sequence[str], look: _MapLook, zoom: float) -> None:
    if node == START:
        drawn.shapes.append({"type": "circle", "x0": box.left, "x1": box.right, "y0": box.top, "y1": box.bottom,
                             "fillcolor": _START_FILL, "line": {"color": _START_FILL, "width": 1}})
        drawn.annotations.append({"x": box.x, "y": box.y, "text": "▶", "showarrow": False,
                                  "font": {"size": 12 * zoom, "color": "white"}})
        return
    if node == END:
        drawn.shapes.append({"type": "rect", "x0": box.left, "x1": box.right, "y0": box.top, "y1": box.bottom,
                             "fillcolor": _END_FILL, "line": {"color": _END_FILL, "width": 1}})
        return
    fill, ink = look.fill(node)
    drawn.shapes.append({"type": "path", "path": _rounded(box), "fillcolor": fill,
                         "line": {"color": _BORDER, "width": 1 * zoom}})
    drawn.annotations.append({"x": box.x, "y": box.y, "text": "<br>".join(html_escape(line) for line in lines),
                              "showarrow": False, "align": "center", "font": {"size": FONT_SIZE * zoom, "color": ink}})


def _draw_link(drawn: _Drawing, link: Link, look: _MapLook, label: str, hover: str, zoom: float) -> None:
    colour, width = look.colour(link), look.width(link)
    xs, ys = zip(*link.points, strict=True)
    drawn.traces.append(go.Scatter(x=xs, y=ys, mode="lines", line={"color": colour, "width": width * zoom},
                                   opacity=0.85, hoverinfo="text", hovertext=hover, name="edge", showlegend=False))
    (x0, y0), (x1, y1) = link.points[-2], link.points[-1]
    drawn.annotations.append({"x": x1, "y": y1, "ax": x0, "ay": y0, "xref": "x", "yref": "y", "axref": "x",
                              "ayref": "y", "showarrow": True, "text": "", "arrowhead": 2,
                              "arrowsize": max(0.7, 1.4 - width / 10), "arrowwidth": max(1.0, width * 0.8) * zoom,
                              "arrowcolor": colour, "standoff": 0})
    if label:
        drawn.annotations.append({"x": link.label.left, "y": link.label.y, "text": html_escape(label),
                                  "showarrow": False, "xanchor": "left",
                                  "font": {"size": LABEL_FONT_SIZE * zoom, "color": "#333"}})


class _TimeScale:
    """A colour bar of the lines' median times, right of the map, with ticks in minutes, hours or days.

    Its `width` is the room it takes in pixels (at zoom 1), measured from its title and its ticks' texts, so a long
    title (or an Arabic one) never runs off the picture.
    """

    _PAD, _THICKNESS, _TITLE_SIZE, _TICK_SIZE = 10, 12, 11, 10

    def __init__(self, look: _MapLook, title: str, units: Sequence[str]) -> None:
        self.look, self.title = look, title
        self.ticks = [look.low + (look.high - look.low) * i / 4 for i in range(5)]
        self.texts = [duration_text(math.expm1(t), units) for t in self.ticks]
        bar = self._THICKNESS + 4 + max(text_width(t, self._TICK_SIZE) for t in self.texts)
        self.width = math.ceil(2 * self._PAD + max(bar, text_width(title, self._TITLE_SIZE)) + self._PAD)

    def trace(self, zoom: float) -> go.Scatter:
        """The invisible trace that carries the colour bar, at `zoom`."""
        look = self.look
        return go.Scatter(
            x=[None], y=[None], mode="markers", showlegend=False, hoverinfo="skip",
            marker={"colorscale": TIME_SCALE, "cmin": look.low, "cmax": look.high, "color": [look.low],
                    "colorbar": {"title": {"text": self.title, "font": {"size": self._TITLE_SIZE * zoom}},
                                 "x": 1.0, "xanchor": "left", "xref": "paper", "xpad": self._PAD * zoom,
                                 "thickness": self._THICKNESS * zoom, "len": 0.6, "tickvals": self.ticks,
                                 "tickfont": {"size": self._TICK_SIZE * zoom}, "ticktext": self.texts}},
        )

#: The colour of each pillar, in every figure that shows pillars.
PILLAR_COLOURS = {"efficiency": "#1f77b4", "effectiveness": "#2ca02c", "steps": "#ff7f0e"}


def star_distribution_figure(stars: pd.Series, *, lowest: int = 2, title: str | None = None,
                             x_title: str = "stars", y_title: str = "services", lang: str = "en") -> go.Figure:
    """Bars of how many services earned each star, from `lowest` to 7; unrated (NA) rows are left out.

    Examples
    --------
    >>> figure = star_distribution_figure(pd.Series([3, 5, 5, None], dtype="Int64"))
    >>> list(figure.data[0].y)
    [0, 1, 0, 2, 0, 0]
    """
    counts = stars.dropna().astype(int).value_counts().reindex(range(lowest, 8), fill_value=0)
    figure = go.Figure(go.Bar(x=[f"{s}★" for s in counts.index], y=counts.to_list(), marker_color="#c9a227",
                              text=counts.to_list(), textposition="outside", cliponaxis=False))
    figure.update_layout(xaxis_title=x_title, yaxis_title=y_title)
    return _frame_layout(figure, title, 320, lang)


def customer_steps_figure(steps: pd.Series, customers: pd.Series | None = None, *, min_group: int = MIN_GROUP,
                          title: str | None = None, x_title: str = "customer steps", y_title: str = "cases",
                          merged_note: str = "bins of fewer than {n} customers are merged with the next",
                          lang: str = "en") -> go.Figure:
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
    figure.update_layout(xaxis_title=x_title, yaxis_title=y_title, xaxis={"type": "category"}, bargap=0.1)
    _frame_layout(figure, title, 300, lang)
    if merged:  # under the axis title, from the side the reader starts
        start = 1 if lang == "ar" else 0
        figure.add_annotation(text=merged_note.format(n=min_group), xref="paper", yref="paper", x=start, y=0,
                              yshift=-58, showarrow=False, xanchor="right" if start else "left", yanchor="top",
                              font={"size": 10, "color": "#555"})
        figure.update_layout(margin_b=80)
    return figure


def kpi_scores_figure(breakdown: pd.DataFrame, *, title: str | None = None,
                      x_title: str = "score (target = 100)", lang: str = "en") -> go.Figure:
    """Horizontal bars of each KPI's score against its target (100), coloured by pillar.

    The KPIs' names stand beside the axis (on the right in Arabic, the bars then growing to the left),
    broken over lines when long so that they never take more than a third of the width; each value
    stands past its bar's end, so neither is ever drawn over a bar.

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
    labels = [_wrapped(label, KPI_LABEL_WIDTH) for label in shown["label"]]
    figure = go.Figure(go.Bar(
        x=shown["score"], y=labels, orientation="h", text=values, textposition="outside", cliponaxis=False,
        marker_color=[PILLAR_COLOURS.get(p, "#888") for p in shown["pillar"]],
    ))
    figure.add_vline(x=100, line_dash="dot", line_color="#555")
    lines = sum(label.count("<br>") + 1 for label in labels)
    figure.update_layout(xaxis_title=x_title, xaxis={"range": [0, 118]}, yaxis={"type": "category"})
    return _frame_layout(figure, title, _top_margin(title) + 60 + 16 * lines + 8 * len(labels), lang, labels)


#: The characters per line of a KPI's name beside its bar, and of a service's name beside its bars.
KPI_LABEL_WIDTH = 30
SERVICE_LABEL_WIDTH = 24
#: The characters per line of a quarter's name under an axis ("الربع الرابع" over "2025").
QUARTER_LABEL_WIDTH = 13


def _wrapped(label: str, width: int) -> str:
    """`label` broken over lines of at most `width` characters (plotly's line break is ``<br>``)."""
    return "<br>".join(textwrap.wrap(label, width)) or label


def _label_width(labels: Sequence[str], size: int = 12) -> int:
    """The width in pixels that the longest line of `labels` takes at font `size`, generously (so never too little)."""
    return math.ceil(0.62 * size * max((len(line) for label in labels for line in str(label).split("<br>")), default=0))


#: The rows above a titled chart's plot, in pixels: the dashboard's plotly mode bar (its icons, 2 to 29 pixels from the
#: chart's top, at the left in Arabic: assets/charts.css), then the title (23 pixels high), standing 14 pixels above the
#: plot so that the top tick label of a y axis stays clear of it.
_MODEBAR_ROW, _TITLE_ROW, _TITLE_PAD = 30, 38, 14


def _top_margin(title: str | None) -> int:
    """The margin above a chart's plot: with a title, the mode bar's row and the title's row below it."""
    return _MODEBAR_ROW + _TITLE_ROW if title else 20


def _frame_layout(figure: go.Figure, title: str | None, height: int, lang: str = "en",
                  y_labels: Sequence[str] = ()) -> go.Figure:
    """The frame every chart shares: white, with room for the labels of its axes.

    The margin beside the y axis is sized from its longest label, `y_labels` (a number's width when none
    is given), and plotly's automargin may only grow it: so no label is cut off, on screen or on paper.
    The title stands on the plot, below the row of the mode bar, so that neither a long title nor one on the
    mode bar's side (the right, in Arabic) is ever under it.
    In Arabic the chart reads from the right: the title and legend stand on the right, the y axis and its
    labels on the right, and the x axis runs from right to left (categories and quarters start on the
    right; horizontal bars grow leftwards from their names).
    """
    titled = 24 if figure.layout.yaxis.title.text else 0
    beside = max(40, _label_width(y_labels) + 16) + titled
    figure.update_layout(title={"text": title, "yref": "paper", "y": 1, "yanchor": "bottom", "pad": {"b": _TITLE_PAD}},
                         plot_bgcolor="white", height=height,
                         margin={"l": 20 if lang == "ar" else beside, "r": beside if lang == "ar" else 20,
                                 "t": _top_margin(title), "b": 40})
    figure.update_xaxes(automargin=True)
    # A set standoff, with automargin, makes plotly push the margin to hold the y title beyond its tick labels, as
    # wide as plotly measures them: on a right-to-left page they must be measured left to right (assets/charts.css).
    figure.update_yaxes(automargin=True, **({"title_standoff": 12} if titled else {}))
    if lang == "ar":
        figure.update_layout(title_x=1, title_xanchor="right", title_xref="paper", legend_x=1, legend_xanchor="right")
        figure.update_yaxes(side="right")
        shown = figure.layout.xaxis.range
        figure.update_xaxes(range=list(shown)[::-1]) if shown else figure.update_xaxes(autorange="reversed")
    return figure


def trend_figure(trend: pd.DataFrame, *, labels: Mapping[str, str] | None = None, title: str | None = None,
                 y_title: str = "stars", lowest: int = 2, quarter_names: Mapping[str, str] | None = None,
                 lang: str = "en") -> go.Figure:
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
    named = {q: _wrapped(n, QUARTER_LABEL_WIDTH) for q, n in (quarter_names or {}).items()}
    figure = go.Figure()
    for service, rows in trend.sort_values("quarter").groupby("service", sort=True):
        figure.add_trace(go.Scatter(x=[named.get(q, q) for q in rows["quarter"]], y=rows["stars"].astype(float),
                                    mode="lines+markers", name=(labels or {}).get(service, service)))
    order = [named.get(q, q) for q in sorted(trend["quarter"].unique())]  # in time, whatever the quarters' names
    figure.update_layout(yaxis={"range": [lowest - 0.5, 7.5], "dtick": 1, "title": y_title},
                         xaxis={"type": "category", "categoryorder": "array", "categoryarray": order, "tickangle": 0},
                         legend={"orientation": "h", "yanchor": "top", "y": -0.22})
    return _frame_layout(figure, title, 400, lang)


def pillar_scores_figure(rows: pd.DataFrame, *, pillar_names: Mapping[str, str] | None = None,
                         title: str | None = None, lang: str = "en") -> go.Figure:
    """Each service's three pillar scores side by side, coloured as :data:`PILLAR_COLOURS`.

    Parameters
    ----------
    rows : DataFrame
        name (of the service) and a column per pillar, as from ``DashboardData.overview``.
    """
    names = [_wrapped(name, SERVICE_LABEL_WIDTH) for name in rows["name"]]
    figure = go.Figure([
        go.Bar(y=names, x=rows[pillar], name=(pillar_names or {}).get(pillar, pillar), orientation="h",
               marker_color=colour)
        for pillar, colour in PILLAR_COLOURS.items()
    ])
    figure.update_layout(barmode="group", xaxis={"range": [0, 100]}, yaxis={"autorange": "reversed"},
                         legend={"orientation": "h", "yanchor": "top", "y": -0.1})
    return _frame_layout(figure, title, 120 + 60 * len(rows), lang, names)


#: What the variant histogram can show per variant.
VARIANT_MEASURES = {"cases": "cases", "steps": "median_customer_steps", "duration": "median_duration_seconds"}


def variant_figure(variants: pd.DataFrame, measure: str = "cases", *, selected: Sequence[str] = (),
                   title: str | None = None, y_title: str | None = None, lang: str = "en") -> go.Figure:
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
    return _frame_layout(figure, title, 300, lang)


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
                            y_title: str = "probability", lang: str = "en") -> go.Figure:
    """Bars of the probability of each star (from the bootstrap).

    Examples
    --------
    >>> list(star_probability_figure({4: 0.25, 5: 0.75}).data[0].y)
    [0.25, 0.75]
    """
    figure = go.Figure(go.Bar(x=[f"{s}★" for s in probabilities], y=list(probabilities.values()),
                              marker_color="#c9a227"))
    figure.update_layout(yaxis={"range": [0, 1], "tickformat": ".0%", "title": y_title})
    return _frame_layout(figure, title, 240, lang)


def coverage_figure(counts: pd.DataFrame, *, labels: Mapping[str, str] | None = None, title: str | None = None,
                    suppressed: str = "too few", quarter_names: Mapping[str, str] | None = None,
                    lang: str = "en") -> go.Figure:
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
    figure = go.Figure(go.Heatmap(z=values.astype(object).where(values.notna(), None).to_numpy(), x=[_wrapped((quarter_names or {}).get(q, q), QUARTER_LABEL_WIDTH) for q in counts.columns],
                                  y=[(labels or {}).get(s, s) for s in counts.index], colorscale="Blues",
                                  text=shown, texttemplate="%{text}", hovertemplate="%{y} %{x}: %{text}<extra></extra>"))
    figure.update_layout(xaxis={"type": "category", "tickangle": 0})
    if lang == "ar":  # the service names stand on the right: the colour bar goes to the left
        figure.update_traces(colorbar={"x": 0, "xanchor": "right", "xpad": 60})
    return _frame_layout(figure, title, 140 + 36 * len(counts), lang, figure.data[0].y)


def map_elements(graph: ProcessMap, measure: str = "frequency", *, labels: Mapping[str, str] | None = None,
                 lang: str = "en") -> list[dict[str, object]]:
    """The nodes and edges of a process map for an interactive (Cytoscape) graph with preset positions.

    The layout is :func:`process_map_figure`'s: activities in boxes (class ``activity``, darker the more
    frequent), a start (``start``) and an end (``end``) node, and each edge's label as a node of its own
    (``edge-label``) beside the edge's middle. Edges (class ``segments``, or ``loop`` for a self-loop) bend
    through the layout's points, carry their colour by median time, a width by frequency, and their `label`:
    the frequency or the median time, as `measure` says, its time and hover text in `lang` ("en" or "ar").
    Draw them with :data:`MAP_STYLESHEET`.

    Examples
    --------
    >>> from najma.journeys import ProcessMap
    >>> graph = ProcessMap(pd.DataFrame({"activity": ["A", "B"], "frequency": [3, 2], "cases": [3, 2]}),
    ...     pd.DataFrame({"source": ["A"], "target": ["B"], "frequency": [2], "cases": [2], "mean_seconds": [60.0],
    ...                   "median_seconds": [60.0], "p90_seconds": [60.0], "min_seconds": [60.0], "max_seconds": [60.0]}),
    ...     {"A": 3}, {"B": 2, "A": 1})
    >>> [e["data"]["label"] for e in map_elements(graph, "performance") if "activity" in e["data"]]
    ['A\\n3', 'B\\n2']
    >>> [e["data"]["label"] for e in map_elements(graph, "performance") if "source" in e["data"]]
    ['', '1 min', '', '']
    """
    _check_measure(measure, "map_elements")
    names, units = labels or {}, _units(lang)
    layout = map_layout(graph, names, units)
    look = _MapLook(layout, graph)
    ids = {node: ("start" if node == START else "end" if node == END else _element_id("n", node)) for node in layout.nodes}
    elements: list[dict[str, object]] = []
    for node, box in layout.nodes.items():
        position = {"x": box.x, "y": box.y}
        if node in (START, END):
            elements.append({"data": {"id": ids[node]}, "classes": ids[node], "position": position})
            continue
        fill, ink = look.fill(node)
        elements.append({"data": {"id": ids[node], "activity": node, "label": "\n".join(layout.lines[node]),
                                  "width": box.width, "height": box.height, "fill": fill, "ink": ink,
                                  "frequency": int(look.frequency[node])},
                         "classes": "activity", "position": position, "grabbable": False})
    for link in layout.links:
        label = edge_text(link.frequency, link.median_seconds, measure, units)
        pair = f"{ids[link.source]}-{ids[link.target]}"
        data = {"id": f"e-{pair}", "source": ids[link.source], "target": ids[link.target], "label": label,
                "colour": look.colour(link), "width": look.width(link), "frequency": link.frequency,
                "median_seconds": link.median_seconds, "hover": _link_hover(link, names, lang).replace("<br>", "\n")}
        if link.source != link.target:
            data.update(_segments(layout.nodes[link.source], layout.nodes[link.target], link.points[1:-1]))
        elements.append({"data": data, "classes": "segments" if link.source != link.target else "loop"})
        elements.append({"data": {"id": f"l-{pair}", "label": label, "width": link.label.width,
                                  "height": link.label.height},
                         "classes": "edge-label", "position": {"x": link.label.x, "y": link.label.y},
                         "selectable": False, "grabbable": False})
    return elements


def _element_id(kind: str, name: str) -> str:
    """A Cytoscape id of `name` that stays the same from one map to the next: Cytoscape keeps an element of a known id
    and never moves an edge to other ends, so an id must name the same node (or the same two ends) in every map."""
    return f"{kind}{hashlib.blake2s(name.encode('utf-8'), digest_size=6).hexdigest()}"


def _segments(source: Box, target: Box, bends: Sequence[tuple[float, float]]) -> dict[str, str]:
    """Cytoscape's segment weights and distances of `bends`: each bend as a share of the way from the source's centre
    to the target's, and a distance square to that line (positive to the right of the way, y growing downwards)."""
    dx, dy = target.x - source.x, target.y - source.y
    length = math.hypot(dx, dy) or 1.0
    weights, distances = [], []
    for x, y in bends:
        along = ((x - source.x) * dx + (y - source.y) * dy) / length
        weights.append(along / length)
        distances.append(((y - source.y) * dx - (x - source.x) * dy) / length)
    return {"weights": " ".join(f"{w:.4f}" for w in weights), "distances": " ".join(f"{d:.2f}" for d in distances)}


#: The look of :func:`map_elements` in a Cytoscape graph (with a "preset" layout).
MAP_STYLESHEET: list[dict[str, object]] = [
    {"selector": "node.activity", "style": {
        "shape": "round-rectangle", "width": "data(width)", "height": "data(height)", "background-color": "data(fill)",
        "border-width": 1, "border-color": _BORDER, "label": "data(label)", "color": "data(ink)",
        "font-size": FONT_SIZE, "line-height": LINE_HEIGHT, "text-wrap": "wrap", "text-max-width": "1000px",
        "text-valign": "center", "text-halign": "center"}},
    {"selector": "node.start", "style": {
        "shape": "ellipse", "width": 28, "height": 28, "background-color": _START_FILL, "label": "▶", "color": "white",
        "font-size": 12, "text-valign": "center", "text-halign": "center"}},
    {"selector": "node.end", "style": {"shape": "rectangle", "width": 28, "height": 28, "background-color": _END_FILL}},
    {"selector": "node.edge-label", "style": {
        "shape": "rectangle", "width": "data(width)", "height": "data(height)", "background-opacity": 0,
        "border-width": 0, "label": "data(label)", "font-size": LABEL_FONT_SIZE, "color": "#333",
        "text-valign": "center", "text-halign": "center", "events": "no"}},
    {"selector": "edge", "style": {
        "width": "data(width)", "line-color": "data(colour)", "target-arrow-color": "data(colour)",
        "target-arrow-shape": "triangle", "arrow-scale": 0.9, "opacity": 0.85}},
    {"selector": "edge.segments", "style": {
        "curve-style": "segments", "segment-weights": "data(weights)", "segment-distances": "data(distances)",
        "edge-distances": "node-position"}},
    {"selector": "edge.loop", "style": {
        "curve-style": "bezier", "loop-direction": "90deg", "loop-sweep": "-50deg",
        "control-point-step-size": LOOP_REACH * 2}},
]
