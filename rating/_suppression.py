"""The small-group rule: no output describes a group of fewer than `min_group` customers.

One rule for every output (the dashboard, the report, the command line and their exports): a
group (a service in a quarter, a channel of it, a variant, an activity or edge of a map, a bin of a
histogram, a flow between services) is shown only when at least `min_group` distinct customers are
in it, :data:`MIN_GROUP` (10) unless the caller says otherwise. Customers are the distinct
``customer_id`` of the group's cases; a log without a customer column gives each case its own
customer (the journeys pipeline does so), so there the rule counts cases. A suppressed group shows
no count, no KPI and no stars: it says that it has fewer than `min_group` customers. The bins of a
histogram below the threshold are merged with their neighbours, never dropped silently.

The rule lives here, between the journeys (which count) and the dashboards (which show): its
functions take the case features of :func:`najma.rating.case_features` or a store's steps and
journeys, and return what may be shown.

Examples
--------
>>> too_few(9, MIN_GROUP), too_few(10, MIN_GROUP)
(True, False)
>>> merged_bins(pd.Series([1, 2, 2, 3, 5]), pd.Series(["a", "b", "c", "d", "e"]), 2)[["low", "high", "cases"]] \\
...     .to_dict("list")
{'low': [1, 3], 'high': [2, 5], 'cases': [3, 2]}
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from najma.errors import InvalidParameterError
from najma.journeys import CaseFilter, ProcessMap, journey_table, previous_quarter
from najma.journeys._process_map import filtered_steps
from najma.journeys._tables import JourneyTables

__all__ = ["MIN_GROUP", "SUPPRESSED", "check_min_group", "too_few", "customers_per_group", "suppress_ratings",
           "suppress_quarter", "shown_ratings", "kept_groups", "merged_bins", "suppress_map", "cases_per_quarter"]

#: The fewest customers an output may describe (groups below it are suppressed).
MIN_GROUP = 10
#: The status of a rating suppressed for having too few customers.
SUPPRESSED = "suppressed"
#: The columns of a ratings frame that name its group, kept when the group is suppressed.
_KEYS = ("service", "quarter", "channel", "first_agency", "status")


def check_min_group(min_group: object, owner: str) -> int:
    """`min_group` if it is a positive integer, else an error naming `owner` (the function or class given it).

    Examples
    --------
    >>> check_min_group(5, "write_report")
    5
    >>> check_min_group(0, "write_report")
    Traceback (most recent call last):
    ...
    najma.errors.InvalidParameterError: The 'min_group' parameter of write_report must be a positive integer. Got 0 instead.
    """
    if isinstance(min_group, bool) or not isinstance(min_group, (int, np.integer)) or min_group < 1:
        raise InvalidParameterError(f"The 'min_group' parameter of {owner} must be a positive integer. "
                                    f"Got {min_group!r} instead.", parameter="min_group")
    return int(min_group)


def too_few(customers: int, min_group: int) -> bool:
    """Whether a group of `customers` customers must be suppressed."""
    return customers < min_group


def customers_per_group(features: pd.DataFrame, keys: Sequence[str]) -> pd.DataFrame:
    """The distinct customers of each group of `keys` of the case features: `keys` and ``customers``."""
    return features.groupby(list(keys), dropna=False)["customer_id"].nunique().rename("customers").reset_index()


def suppress_ratings(ratings: pd.DataFrame, features: pd.DataFrame, min_group: int) -> pd.DataFrame:
    """The ratings with the customers of each group, those of fewer than `min_group` customers suppressed.

    A suppressed row keeps its service, quarter (and channel) and its ``cases`` (which the rating
    card needs; :func:`shown_ratings` blanks it for output); every other value is blanked, its
    status is :data:`SUPPRESSED` and its ``customers`` count is left empty.

    Parameters
    ----------
    ratings : DataFrame
        Rows of :func:`najma.rating.rate_features` (by channel or agency when they have ``channel`` or ``first_agency``).
    features : DataFrame
        The case features they were rated from.
    min_group : int
        The fewest customers a shown group may have.
    """
    keys = ["service", "quarter"] + [c for c in ("channel", "first_agency") if c in ratings.columns]
    customers = customers_per_group(features, keys)
    found = ratings.merge(customers.astype(ratings[keys].dtypes.to_dict()), on=keys, how="left")
    found["customers"] = found["customers"].fillna(0).astype("Int64")
    small = (found["customers"] < min_group).to_numpy(dtype=bool)
    hidden = [c for c in found.columns if c not in (*_KEYS, "cases")]
    for column in hidden:
        found[column] = found[column].mask(small)
    found.loc[small, "status"] = SUPPRESSED
    return found


def suppress_quarter(now: pd.DataFrame, before: pd.DataFrame | None, features: pd.DataFrame,
                     min_group: int) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """Suppress a quarter's ratings and those of the quarter before, as :func:`najma.rating.rate_quarter` returns them.

    The stars before and the change are blanked where the quarter before had fewer than
    `min_group` customers, so that no star of a small group shows through them.
    """
    now = suppress_ratings(now, features, min_group)
    earlier = now.assign(quarter=now["quarter"].map(previous_quarter))[["service", "quarter"]]
    customers = earlier.merge(customers_per_group(features, ["service", "quarter"]), how="left")["customers"]
    gone = (customers.fillna(0) < min_group).to_numpy(dtype=bool)
    for column in ("stars_before", "change"):
        if column in now.columns:
            now[column] = now[column].mask(gone)
    return now, None if before is None else suppress_ratings(before, features, min_group)


def shown_ratings(ratings: pd.DataFrame) -> pd.DataFrame:
    """Ratings as they may be shown or exported: the ``cases`` of suppressed rows blanked too."""
    shown = ratings.copy()
    shown["cases"] = shown["cases"].astype("Int64").mask(shown["status"] == SUPPRESSED)
    return shown


def kept_groups(frame: pd.DataFrame, min_group: int, column: str = "customers") -> tuple[pd.DataFrame, int]:
    """The rows of `frame` whose `column` counts at least `min_group` customers, and how many were left out."""
    kept = frame[frame[column] >= min_group].reset_index(drop=True)
    return kept, len(frame) - len(kept)


def merged_bins(values: pd.Series, customers: pd.Series, min_group: int) -> pd.DataFrame:
    """A histogram of whole-number `values` in bins of at least `min_group` customers each.

    Values are taken from the lowest up; a bin closes once its cases have `min_group` distinct
    customers, and the values left at the top, too few on their own, join the last bin. Each bin
    spans whole numbers from ``low`` to ``high``; with fewer than `min_group` customers in all there
    is no bin.

    Parameters
    ----------
    values : Series
        One whole number per case (missing values are left out).
    customers : Series
        The customer of each case, aligned with `values`.
    min_group : int
        The fewest customers of a bin.

    Returns
    -------
    DataFrame
        low, high, cases, customers; one row per bin, lowest first.
    """
    frame = pd.DataFrame({"value": values, "customer": customers}).dropna(subset=["value"])
    frame["value"] = frame["value"].astype(int)
    bins: list[dict[str, object]] = []
    low, members, cases = None, set(), 0
    for value, rows in frame.groupby("value", sort=True):
        low = value if low is None else low
        members |= set(rows["customer"])
        cases += len(rows)
        if len(members) >= min_group:
            bins.append({"low": low, "high": value, "cases": cases, "customers": members})
            low, members, cases = None, set(), 0
    if cases and bins:  # the top values join the last bin
        last = bins[-1]
        last.update(high=int(frame["value"].max()), cases=last["cases"] + cases, customers=last["customers"] | members)
    found = pd.DataFrame(bins, columns=["low", "high", "cases", "customers"])
    found["customers"] = found["customers"].map(len)
    return found.astype("int64")


def suppress_map(graph: ProcessMap, store: JourneyTables, where: CaseFilter | None, min_group: int) -> ProcessMap:
    """The map `graph` of the cases that pass `where`, without the activities, edges, starts and ends of fewer
    than `min_group` customers (nor the edges of an activity left out)."""
    steps = filtered_steps(store, where)
    owners = journey_table(store, where).select("case_key", "customer_id")
    steps = steps.join(owners, "case_key")
    customer = steps.customer_id
    by_activity = steps.group_by("activity").aggregate(
        customers=customer.nunique(), starts=customer.nunique(where=steps.position == 0),
        ends=customer.nunique(where=steps.next_activity.isnull()),
    ).to_pandas().set_index("activity")
    follows = steps.filter(steps.next_activity.notnull())
    by_edge = follows.group_by([follows.activity.name("source"), follows.next_activity.name("target")]).aggregate(
        customers=follows.customer_id.nunique()).to_pandas()
    kept = set(by_activity.index[by_activity["customers"] >= min_group])
    activities = graph.activities[graph.activities["activity"].isin(kept)]
    edges = graph.edges.merge(by_edge, on=["source", "target"], how="left")
    edges = edges[(edges["customers"] >= min_group) & edges["source"].isin(kept) & edges["target"].isin(kept)]

    def ends(counts: dict[str, int], column: str) -> dict[str, int]:
        return {a: n for a, n in counts.items() if a in kept and by_activity.at[a, column] >= min_group}

    return ProcessMap(activities.reset_index(drop=True), edges.drop(columns="customers").reset_index(drop=True),
                      ends(graph.start_activities, "starts"), ends(graph.end_activities, "ends"))


def cases_per_quarter(features: pd.DataFrame, quarters: Sequence[str] | None = None, *,
                      min_group: int = MIN_GROUP) -> pd.DataFrame:
    """Cases per service (rows) and quarter (columns) of the case features, every quarter of `quarters` (all
    when None); a cell of fewer than `min_group` customers (none included) is missing (``pd.NA``).

    Examples
    --------
    >>> features = pd.DataFrame({"service": ["a", "a", "a", "b"], "quarter": ["2025Q1", "2025Q1", "2025Q2", "2025Q2"],
    ...                          "customer_id": ["x", "y", "z", "x"]})
    >>> cases_per_quarter(features, ["2025Q1", "2025Q2"], min_group=2).loc["a"].to_list()
    [2, <NA>]
    """
    rows = features if quarters is None else features[features["quarter"].isin(list(quarters))]
    grouped = rows.groupby(["service", "quarter"]).agg(cases=("customer_id", "size"), customers=("customer_id", "nunique"))
    grouped["cases"] = grouped["cases"].astype("Int64").mask(grouped["customers"] < min_group)
    counts = grouped["cases"].unstack()
    columns = list(quarters) if quarters is not None else sorted(counts.columns)
    return counts.reindex(columns=columns).astype("Int64")
