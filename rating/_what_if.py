"""What-if: a service's KPIs and stars today beside those it would have after a redesign.

The redesign transforms of :mod:`najma.journeys._redesign` give the journey table the service would have;
the same KPI definitions and the same model rate both, so the difference is the redesign's alone.
Each transform's docstring states what it assumes about time.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from najma.journeys import CaseFilter, Store, project_journeys, quarter_name
from najma.journeys._redesign import Transform
from najma.rating._config import RatingConfig, default_config
from najma.rating._kpis import case_features
from najma.rating._ratings import rate_features

__all__ = ["what_if"]


def what_if(
    store: Store, service: str, transforms: Sequence[Transform], *, quarter: str | None = None,
    config: RatingConfig | None = None, draws: int = 200, seed: int = 0,
) -> pd.DataFrame:
    """Rate `service` as observed and as projected by `transforms`, quarter by quarter.

    Parameters
    ----------
    store : Store
        A store whose journeys are built.
    service : str
        The service to redesign.
    transforms : sequence of Transform
        Applied in order (see :func:`najma.journeys.project_journeys`).
    quarter : str, optional
        Only this quarter (e.g. ``"2025Q4"``); by default every quarter.
    config : RatingConfig, optional
        The model; the shipped default by default.
    draws, seed : int
        The bootstrap, as in :func:`najma.rating.rate`.

    Returns
    -------
    DataFrame
        The rows of :func:`najma.rating.rate` for the service, with a first column ``scenario``:
        ``today`` or ``redesign``.

    Examples
    --------
    >>> import os
    >>> from najma.journeys import RemoveActivity, Store
    >>> from najma.sample import load_sample
    >>> os.environ.setdefault("NAJMA_PSEUDONYM_KEY", "example-key")
    '...'
    >>> store = Store(":memory:"); _ = load_sample(store)
    >>> table = what_if(store, "trade_licence", [RemoveActivity("Visit service centre")], quarter="2025Q4", draws=0)
    >>> rows = table.set_index("scenario")
    >>> rows["cases"].to_dict(), rows["visits"].round(2).to_dict()  # visits per case, today and redesigned
    ({'today': 278, 'redesign': 278}, {'today': 0.23, 'redesign': 0.1})
    """
    config = config or default_config()
    where = CaseFilter(service=service)
    observed = case_features(store, where=where, satisfied_at=config.satisfied_at)
    projected = case_features(
        store, satisfied_at=config.satisfied_at, journeys=project_journeys(store, service, transforms)
    )
    frames = []
    for scenario, features in (("today", observed), ("redesign", projected)):
        if quarter is not None:
            features = features[features["quarter"] == quarter_name(quarter)]
        rated = rate_features(features, config=config, draws=draws, seed=seed)
        frames.append(rated.assign(scenario=scenario))
    table = pd.concat(frames, ignore_index=True)
    return table[["scenario", *[c for c in table.columns if c != "scenario"]]]
