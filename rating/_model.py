"""The star rating model as a scikit-learn estimator: rate a KPI table, calibrate against experts.

``StarRater(config).fit(kpis)`` adopts the configuration as it is; ``fit(kpis, stars)`` calibrates
it against past expert ratings (an ordinal target): the KPI weights by a least-squares fit with
non-negative coefficients, then each star's cut point on the total score as the point that
misorders the fewest rated groups. With ``cv``, the agreement of the calibrated model with the
experts on groups it was not fitted to is measured by K-fold cross-validation.

Examples
--------
>>> import numpy as np, pandas as pd
>>> from najma.rating._config import default_config
>>> config = default_config()
>>> kpis = pd.DataFrame({name: [curve.target, curve.floor] for name, curve in config.kpis.items()})
>>> StarRater(config).fit(kpis).predict(kpis).tolist()
[7, 2]
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.linear_model import LinearRegression
from sklearn.metrics import cohen_kappa_score
from sklearn.model_selection import KFold
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from najma.errors import InvalidParameterError
from najma.rating._config import RatingConfig, load_config
from najma.rating._scoring import contributions, kpi_scores, pillar_scores, total_scores

__all__ = ["StarRater", "agreement"]


def agreement(expert: np.ndarray, rated: np.ndarray) -> dict[str, float]:
    """Agreement of two ratings: quadratic-weighted kappa, exact and within-one-star accuracy.

    Examples
    --------
    >>> agreement(np.array([2, 3, 4, 5]), np.array([2, 3, 5, 5]))["within_one"]
    1.0
    """
    expert, rated = np.asarray(expert), np.asarray(rated)
    same = len(np.unique(np.concatenate([expert, rated]))) == 1
    return {
        "weighted_kappa": 1.0 if same else float(cohen_kappa_score(expert, rated, weights="quadratic")),
        "exact": float(np.mean(expert == rated)),
        "within_one": float(np.mean(np.abs(expert - rated) <= 1)),
    }


class StarRater(ClassifierMixin, BaseEstimator):
    """Rate services from 2 (or 1) to 7 stars from their KPIs.

    Parameters
    ----------
    config : RatingConfig, str or Path, optional
        The model: a configuration or the path of its TOML file; None is the shipped default.
    cv : int or None, default 5
        Folds of the cross-validation run by a calibrating ``fit``; None skips it.
    random_state : int, default 0
        Seeds the folds.

    Attributes
    ----------
    config_ : RatingConfig
        The model in use: the given one, or its calibrated copy.
    classes_ : ndarray
        The stars it can give.
    cv_agreement_ : dict or None
        Cross-validated ``weighted_kappa``, ``exact`` and ``within_one`` of a calibrating fit.
    feature_names_in_ : ndarray
        The KPI columns read, when fitted on a DataFrame.
    n_features_in_ : int
        The number of KPIs.
    """

    def __init__(self, config: RatingConfig | str | Path | None = None, cv: int | None = 5, random_state: int = 0) -> None:
        self.config = config
        self.cv = cv
        self.random_state = random_state

    def __sklearn_tags__(self):  # noqa: ANN204 - sklearn's Tags type
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        tags.target_tags.required = False
        return tags

    def fit(self, X: pd.DataFrame | np.ndarray, y: np.ndarray | None = None) -> StarRater:  # noqa: N803
        """Adopt the configuration, or with `y` (expert stars) calibrate it; return self."""
        config = self._resolve_config()
        if y is not None:
            check_classification_targets(y)
            if len(np.unique(y)) < 2:
                raise InvalidParameterError("StarRater.fit needs expert ratings of at least 2 classes (different stars) to calibrate.")
        kpis = self._kpis(X, config, fitting=True)
        self.classes_ = np.arange(config.lowest_star, config.highest_star + 1)
        self.cv_agreement_ = None
        if y is None:
            self.config_ = config
            return self
        stars = self._stars(y, config, len(kpis))
        self.config_ = _calibrate(config, kpis, stars)
        if self.cv is not None:
            self.cv_agreement_ = self._cross_validate(kpis, stars)
        return self

    def predict(self, X: pd.DataFrame | np.ndarray) -> np.ndarray:  # noqa: N803
        """The stars of each row of a KPI table."""
        total = self.score_samples(X)
        return self.config_.stars_for(np.nan_to_num(total, nan=0.0))

    def score_samples(self, X: pd.DataFrame | np.ndarray) -> np.ndarray:  # noqa: N803
        """The total score (0 to 100) of each row; NaN where no KPI has data."""
        check_is_fitted(self, "config_")
        return total_scores(self._kpis(X, self.config_), self.config_).to_numpy()

    def pillar_scores(self, X: pd.DataFrame | np.ndarray) -> pd.DataFrame:  # noqa: N803
        """The score of each pillar of each row."""
        check_is_fitted(self, "config_")
        kpis = self._kpis(X, self.config_)
        return pillar_scores(kpi_scores(kpis, self.config_), self.config_)

    def score(self, X: pd.DataFrame | np.ndarray, y: np.ndarray, sample_weight: None = None) -> float:  # noqa: N803
        """Quadratic-weighted kappa of the predicted stars against `y`."""
        return agreement(np.asarray(y), self.predict(X))["weighted_kappa"]

    def _resolve_config(self) -> RatingConfig:
        if isinstance(self.config, RatingConfig):
            return self.config
        if self.config is None or isinstance(self.config, (str, Path)):
            return load_config(self.config)
        raise InvalidParameterError(
            f"The 'config' parameter of StarRater must be a RatingConfig, a path or None. Got {self.config!r} instead."
        )

    def _kpis(self, X: pd.DataFrame | np.ndarray, config: RatingConfig, fitting: bool = False) -> pd.DataFrame:  # noqa: N803
        names = list(config.kpis)
        if isinstance(X, pd.DataFrame):
            missing = [n for n in names if n not in X.columns]
            if missing:
                raise InvalidParameterError(
                    f"The KPI table given to StarRater lacks the KPIs {', '.join(missing)} of model {config.version}; "
                    f"its columns are {', '.join(map(str, X.columns))}."
                )
            if fitting:
                self.feature_names_in_ = np.array(names, dtype=object)
            frame = X[names].astype(float)
        else:
            array = validate_data(self, X, ensure_all_finite="allow-nan", reset=fitting)
            if array.shape[1] != len(names):
                raise InvalidParameterError(
                    f"StarRater expects a 2-d array with one column per KPI of model {config.version} "
                    f"({len(names)}: {', '.join(names)}). Got an array of shape {array.shape} instead."
                )
            frame = pd.DataFrame(array, columns=names)
        if fitting:
            self.n_features_in_ = len(names)
        if not len(frame):
            raise InvalidParameterError("StarRater needs at least one row of KPIs. Got 0 rows instead.")
        if np.isinf(frame.to_numpy()).any():
            raise InvalidParameterError("The KPI table given to StarRater holds infinite values; use NaN for a KPI without data.")
        return frame.reset_index(drop=True)

    @staticmethod
    def _stars(y: np.ndarray, config: RatingConfig, rows: int) -> np.ndarray:
        stars = np.asarray(y)
        valid = (
            stars.ndim == 1 and len(stars) == rows and np.issubdtype(stars.dtype, np.number)
            and np.all(np.isfinite(stars)) and np.all(stars == np.round(stars))
            and np.all((stars >= config.lowest_star) & (stars <= config.highest_star))
        )
        if not valid:
            raise InvalidParameterError(
                f"The expert ratings given to StarRater.fit must be {rows} whole stars from {config.lowest_star} "
                f"to {config.highest_star}. Got {np.unique(stars)[:10]!r} (shape {stars.shape}) instead."
            )
        return stars.astype(int)

    def _cross_validate(self, kpis: pd.DataFrame, stars: np.ndarray) -> dict[str, float]:
        folds = KFold(n_splits=min(self.cv, len(kpis)), shuffle=True, random_state=self.random_state)
        predicted = np.empty_like(stars)
        for train, test in folds.split(kpis):
            model = clone(self).set_params(cv=None).fit(kpis.iloc[train], stars[train])
            predicted[test] = model.predict(kpis.iloc[test])
        return agreement(stars, predicted)


def _calibrate(config: RatingConfig, kpis: pd.DataFrame, stars: np.ndarray) -> RatingConfig:
    """Fit KPI weights and star bands of `config` to expert `stars`."""
    scores = kpi_scores(kpis, config)
    filled = _filled(scores, config)
    usable = [name for name in filled.columns if filled[name].notna().all()]
    regression = LinearRegression(positive=True).fit(filled[usable].to_numpy(), stars)
    coefficients = dict(zip(usable, regression.coef_, strict=True))
    total = sum(coefficients.values())
    if total <= 0:
        raise InvalidParameterError("The expert ratings do not rise with any KPI score; StarRater cannot be calibrated to them.")
    weights = {name: float(coefficients.get(name, 0.0)) / total for name in config.kpis}
    weighted = config.with_weights(weights, config.bands, f"{config.version}+calibrated")
    totals = total_scores(kpis, weighted).fillna(0.0).to_numpy()
    bands = [_cut_point(totals, stars >= star, band) for star, band in
             zip(range(config.lowest_star + 1, config.highest_star + 1), config.bands, strict=True)]
    return replace(weighted, bands=tuple(float(b) for b in np.maximum.accumulate(bands)))


def _filled(scores: pd.DataFrame, config: RatingConfig) -> pd.DataFrame:
    """KPI scores with each missing one replaced by its pillar's score (or the total), as the model weighs them."""
    pillars = pillar_scores(scores, config)
    total = contributions(scores, config).sum(axis=1).where(scores.notna().any(axis=1))
    filled = scores.copy()
    for name, curve in config.kpis.items():
        filled[name] = filled[name].fillna(pillars[curve.pillar]).fillna(total)
    return filled


def _cut_point(totals: np.ndarray, above: np.ndarray, default: float) -> float:
    """The total score that best separates the groups rated at or above a star from those below."""
    if above.all() or not above.any():
        return default
    candidates = np.unique(totals)
    cuts = np.concatenate([[candidates[0]], (candidates[1:] + candidates[:-1]) / 2, [candidates[-1] + 1e-6]])
    errors = [np.sum(above & (totals < c)) + np.sum(~above & (totals >= c)) for c in cuts]
    return float(cuts[int(np.argmin(errors))])
