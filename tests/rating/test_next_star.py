"""Next-star plans: applied exactly as printed they earn their star, they are the smallest, and the
redesigns named for them are rated as the what-if tool rates them."""

from __future__ import annotations

import math
import re
from dataclasses import replace

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from najma.errors import InvalidParameterError
from najma.journeys import MoveToChannel, Store
from najma.rating import KPIS, RATED, default_config, what_if
from najma.rating._config import RatingConfig
from najma.rating._explain import (
    REACH,
    Advice,
    change_text,
    describe_advice,
    describe_plan,
    next_star_advice,
    next_star_plan,
)
from najma.rating._scoring import total_scores
from najma.rating._what_if import redesign_options

CONFIG = default_config()


def _printed(text: str) -> float:
    """The needed value a reader takes from one printed change ("... from X to Y")."""
    value = re.fullmatch(r".* to (\S+?)( \(beyond a quarter's reach\))?", text).group(1)
    return float(value.removesuffix("%")) / 100 if value.endswith("%") else float(value)


def _stars_as_printed(row: pd.Series, plan: list[Advice], config: RatingConfig) -> int:
    """The stars of `row` re-rated with each change of `plan` applied exactly as its sentence prints it."""
    kpis = row[list(config.kpis)].astype(float).to_frame().T.reset_index(drop=True)
    for advice in plan:
        kpis[advice.kpi] = _printed(change_text(advice, config))
    return config.stars_for(float(total_scores(kpis, config).iloc[0]))


def _stars(row: pd.Series, config: RatingConfig) -> int:
    return config.stars_for(float(total_scores(row.astype(float).to_frame().T, config).iloc[0]))


@st.composite
def rows_and_configs(draw: st.DrawFn) -> tuple[pd.Series, RatingConfig]:
    """A KPI row (some KPIs without data, values inside and outside their curves) and a model with drawn bands."""
    row = {}
    for name, curve in CONFIG.kpis.items():
        if draw(st.integers(0, 4)) == 0:  # no data
            row[name] = math.nan
            continue
        low, high = sorted((curve.floor, curve.target))
        span = high - low
        value = draw(st.floats(low - 0.3 * span, high + 0.1 * span, allow_nan=False))
        if KPIS[name].unit == "share":
            value = min(max(value, 0.0), 1.0)
        elif KPIS[name].unit == "steps" and KPIS[name].q is not None:
            value = float(round(max(value, 0.0)))
        row[name] = max(value, 0.0)
    cuts = draw(st.lists(st.floats(5, 97, allow_nan=False), min_size=5, max_size=5, unique=True))
    return pd.Series(row), replace(CONFIG, bands=tuple(sorted(cuts)))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows_and_configs(), st.sampled_from([0.2, REACH, 1.0]))
def test_every_plan_applied_as_printed_earns_the_star_it_promises(drawn: tuple[pd.Series, RatingConfig],
                                                                  reach: float) -> None:
    row, config = drawn
    stars = _stars(row, config)
    plan = next_star_plan(row, config, reach)
    singles = next_star_advice(row, config, reach)
    for advice in singles:  # every single change, too, earns its star as printed
        assert advice.stars > stars and _stars_as_printed(row, [advice], config) >= advice.stars
    if plan:
        assert plan[0].stars > stars and len({a.stars for a in plan}) == 1 and len({a.kpi for a in plan}) == len(plan)
        assert _stars_as_printed(row, plan, config) >= plan[0].stars
        assert describe_plan(plan, config).endswith(f" for {plan[0].stars} stars")
    if plan and singles:
        assert max(a.effort for a in plan) <= singles[0].effort


@settings(max_examples=100, deadline=None)
@given(rows_and_configs())
def test_no_fewer_kpis_within_reach_earn_the_star(drawn: tuple[pd.Series, RatingConfig]) -> None:
    """The oracle re-rates: the KPIs each adding the most points when moved by the reach, moved together."""
    row, config = drawn
    plan = next_star_plan(row, config)
    if not plan or not all(a.within_reach for a in plan):
        return
    band = config.bands[_stars(row, config) - config.lowest_star]

    def moved(names: list[str]) -> float:
        trial = row.copy()
        for name in names:
            curve = config.kpis[name]
            trial[name] += REACH * (curve.target - curve.floor)
        return float(total_scores(trial.astype(float).to_frame().T, config).iloc[0])

    before = moved([])
    gains = sorted(((moved([n]) - before, n) for n in config.kpis if not math.isnan(row[n])), reverse=True)
    assert moved([n for _, n in gains[:len(plan) - 1]]) < band


def test_the_plan_spreads_the_move_rather_than_one_kpi_crossing_its_curve() -> None:
    row = pd.Series({name: math.nan for name in CONFIG.kpis})
    row[["within_sla", "first_time_right", "median_customer_steps"]] = [0.3, 0.45, 9.0]
    # Scores 0, (0.45 - 0.4) / 0.55 = 9.09 and (10 - 9) / 7 = 14.29: a total of 0.30 * 9.09 + 0.35 * 14.29 = 7.73.
    assert _stars(row, CONFIG) == 2
    single = next_star_advice(row, CONFIG)[0]
    assert (single.kpi, single.needed, single.within_reach) == ("median_customer_steps", 3.0, False)
    plan = next_star_plan(row, CONFIG)
    # 27.27 points are missing; steps (weight 0.35) and first time right (0.30) move by e: 65 e >= 27.27, e = 0.42.
    assert [(a.kpi, a.needed) for a in plan] == [("median_customer_steps", 6.0), ("first_time_right", pytest.approx(0.681))]
    assert all(a.within_reach and a.stars == 3 for a in plan)
    assert describe_plan(plan, CONFIG) == (
        "cut median customer steps from 9 to 6 and raise first time right from 45.0% to 68.1% for 3 stars")
    assert describe_advice(plan[0], CONFIG) == "cut median customer steps from 9 to 6 for 3 stars"


def test_a_needed_share_is_rounded_up_not_to_nearest() -> None:
    row = pd.Series({name: math.nan for name in CONFIG.kpis})
    row[["within_sla", "visits"]] = [0.6, 0.0002]  # scores 36.36 and 99.99, weighed 0.5 each: 68.18, 5 stars
    # 6 stars need 74: within SLA must score 148 - 99.99 = 48.01, a share of 0.4 + 0.4801 * 0.55 = 0.664055.
    plan = next_star_plan(row, CONFIG)
    assert [(a.kpi, a.stars) for a in plan] == [("within_sla", 6)]
    assert describe_plan(plan, CONFIG) == "raise share within SLA from 60.0% to 66.5% for 6 stars"
    assert _stars_as_printed(row, plan, CONFIG) == 6
    nearest = row.copy()
    nearest["within_sla"] = 0.664  # rounded to nearest, it would print 66.4% and fall short
    assert _stars(nearest, CONFIG) == 5
    assert plan[0].effort == pytest.approx((0.665 - 0.6) / 0.55)


def test_when_nothing_within_reach_earns_the_star_the_plan_says_so() -> None:
    config = replace(CONFIG, bands=(60.0, 70.0, 80.0, 90.0, 95.0))
    row = pd.Series({name: math.nan for name in config.kpis})
    row["within_sla"] = 0.4  # at its floor: 60 points need 0.6 of its curve
    plan = next_star_plan(row, config)
    assert [(a.kpi, a.needed, a.within_reach) for a in plan] == [("within_sla", 0.73, False)]
    assert describe_plan(plan, config) == "raise share within SLA from 40.0% to 73.0% (beyond a quarter's reach) for 3 stars"
    assert next_star_plan(row, config, reach=1.0)[0].within_reach


def test_no_plan_at_the_highest_star_or_without_data() -> None:
    at_target = pd.Series({name: curve.target for name, curve in CONFIG.kpis.items()})
    assert next_star_plan(at_target, CONFIG) == [] and next_star_advice(at_target, CONFIG) == []
    assert next_star_plan(pd.Series({name: math.nan for name in CONFIG.kpis}), CONFIG) == []
    assert describe_plan([], CONFIG) == ""


@pytest.mark.parametrize("reach", [0.0, -0.1, 1.5])
def test_a_reach_outside_the_curve_is_refused(reach: float) -> None:
    row = pd.Series({name: curve.floor for name, curve in CONFIG.kpis.items()})
    with pytest.raises(InvalidParameterError, match="'reach' parameter"):
        next_star_plan(row, CONFIG, reach)


@pytest.mark.parametrize("service", ["building_permit", "trade_licence"])
def test_each_redesign_option_has_the_stars_what_if_projects(sample_journeys: Store, service: str) -> None:
    quarter = "2025Q4"
    options = redesign_options(sample_journeys, service, quarter, limit=2)
    assert options, "the sample's plans name KPIs that redesigns act on"
    today = what_if(sample_journeys, service, [], quarter=quarter, draws=0).set_index("scenario").loc["today"]
    assert today["status"] == RATED
    plan = [a.kpi for a in next_star_plan(today, CONFIG)]
    digital = set(sample_journeys.backend.table("channel_settings").filter(lambda t: t.digital).channel.to_pandas())
    for option in options:
        projected = what_if(sample_journeys, service, option.transforms, quarter=quarter, draws=0)
        rows = projected.set_index("scenario")
        assert option.stars_today == rows.loc["today", "stars"] == today["stars"]
        assert option.stars == rows.loc["redesign", "stars"] and option.score == pytest.approx(rows.loc["redesign", "score"])
        assert option.earns_next_star == (option.stars > option.stars_today)
        assert option.acts_on and set(option.acts_on) <= set(plan)
        for transform in option.transforms:
            if isinstance(transform, MoveToChannel):
                assert transform.channel in digital
    earning = [o.earns_next_star for o in options]
    assert earning == sorted(earning, reverse=True)  # those that earn the next star first


def test_no_redesign_options_for_a_quarter_the_service_is_not_rated_in(sample_journeys: Store) -> None:
    assert redesign_options(sample_journeys, "trade_licence", "2019Q1") == []
