"""What the discover views (``najma discover``, the Discover page, the report's redesign page) say of figures a log
cannot support.

A discovery leaves a figure missing (NaN) where a candidate's services lack what it needs
(:mod:`najma.journeys._discovery`); each view shows it as "no data" and says once, in one line,
what is missing and in which services. One home for those words, so that the views say the same.

Examples
--------
>>> lacking = {"agency": ("permit",), "catalogue": ("permit", "visa")}
>>> needed_by = {"agencies": ("agency",), "visits": ("catalogue",), "visits_saved": ("catalogue",)}
>>> missing_line(lacking, needed_by, {"agencies": "agencies", "visits": "visits", "visits_saved": "visits"}, "en")
'no data for agencies: needs an agency column (permit); no data for visits: needs the service in the catalogue (permit, visa)'
>>> missing_line({}, needed_by, {"visits": "visits"}, "en")
''
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping

from najma.dashboards._i18n import listed, text

__all__ = ["missing_line"]

def missing_line(lacking: Mapping[str, tuple[str, ...]], needed_by: Mapping[str, tuple[str, ...]],
                 labels: Mapping[str, str], lang: str, name: Callable[[str], str] | None = None,
                 among: Collection[str] | None = None) -> str:
    """One line that says, per need a discovery's candidates lack, the figures shown without data and what they need.

    Parameters
    ----------
    lacking : mapping of str to tuple of str
        The services lacking each need (a discovery's ``lacking``).
    needed_by : mapping of str to tuple of str
        The needs of each figure (:data:`najma.journeys._bundles.NEEDED_BY` or
        :data:`najma.journeys._proactive.PROACTIVE_NEEDED_BY`).
    labels : mapping of str to str
        The label in `lang` of each figure the view shows (figures sharing a label are named once).
    lang : str
        "en" or "ar".
    name : callable, optional
        A service's name in `lang` from its key; by default the key.
    among : collection of str, optional
        The services of the candidates shown: only they are named (a service left out by the small-group rule is
        named nowhere); by default every service in `lacking`.

    Returns
    -------
    str
        Empty when every figure shown is measured.
    """
    named = name or str
    parts = []
    for need, lacking_it in lacking.items():
        services = [s for s in lacking_it if among is None or s in among]
        figures = list(dict.fromkeys(label for figure, label in labels.items() if need in needed_by.get(figure, ())))
        if figures and services:
            parts.append(text("dc_no_data", lang).format(
                figures=listed(figures, lang), needs=text(f"dc_need_{need}", lang),
                services=listed((named(s) for s in services), lang)))
    return "؛ ".join(parts) if lang == "ar" else "; ".join(parts)
