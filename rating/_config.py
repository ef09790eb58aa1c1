"""The rating model's configuration: a curve per KPI, pillar weights and star bands, versioned in TOML.

The shipped default is ``rating/default_rating.toml``; its comments document the format. A
configuration is read, checked as a whole (every problem is reported at once) and hashed, so a
rating can always say which model, and which exact numbers, made it.

Examples
--------
>>> config = default_config()
>>> config.stars_for(config.bands[0])
3
>>> config.kpis["median_customer_steps"].score(6.5)
50.0
"""

from __future__ import annotations

import hashlib
import json
import tomllib
from dataclasses import dataclass, replace
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import tomli_w

from najma.errors import RatingConfigError

__all__ = [
    "Curve", "RatingConfig", "PILLARS", "curve_scores", "default_config", "load_config", "parse_config",
]

#: The three pillars of a rating, in the order they are shown.
PILLARS: tuple[str, ...] = ("efficiency", "effectiveness", "steps")
_TOP_KEYS = {"version", "min_cases", "min_answers", "min_evidence", "lowest_star", "bands", "satisfied_at", "pillars", "kpis"}
_CURVE_KEYS = {"pillar", "direction", "floor", "target", "weight"}


@dataclass(frozen=True)
class Curve:
    """How one KPI maps to a score: a line from `floor` (score 0) to `target` (score 100), clipped.

    Parameters
    ----------
    pillar : str
        One of :data:`PILLARS`.
    direction : {"lower", "higher"}
        Which values are better; the target lies on that side of the floor.
    floor, target : float
        The values that score 0 and 100.
    weight : float, default 1.0
        The KPI's weight within its pillar.
    """

    pillar: str
    direction: str
    floor: float
    target: float
    weight: float = 1.0

    def score(self, value: float | np.ndarray) -> float | np.ndarray:
        """The score (0 to 100) of a KPI value; NaN stays NaN."""
        scored = curve_scores(np.asarray(value, dtype=float), self.floor, self.target)
        return float(scored) if np.ndim(scored) == 0 else scored

    def value_for(self, score: float) -> float:
        """The KPI value that earns `score` (the inverse of :meth:`score` inside the curve)."""
        return self.floor + score / 100 * (self.target - self.floor)


def curve_scores(values: np.ndarray, floor: float | np.ndarray, target: float | np.ndarray) -> np.ndarray:
    """Scores of `values` on straight lines from `floor` (0) to `target` (100), clipped; NaN stays NaN (broadcasts)."""
    return np.clip((values - floor) / (target - floor), 0.0, 1.0) * 100


@dataclass(frozen=True)
class RatingConfig:
    """A validated rating model configuration (see the module docstring).

    ``min_answers`` is the fewest survey answers a group needs for its satisfaction KPIs to have
    data; ``min_evidence`` the share of each pillar's applicable weight that must have data for a
    group to be rated (see :mod:`najma.rating._ratings`).
    """

    version: str
    min_cases: int
    lowest_star: int
    bands: tuple[float, ...]
    satisfied_at: float
    pillars: dict[str, float]
    kpis: dict[str, Curve]
    min_answers: int = 30
    min_evidence: float = 0.5

    @property
    def highest_star(self) -> int:
        """The best rating the bands allow."""
        return self.lowest_star + len(self.bands)

    @property
    def config_hash(self) -> str:
        """The first 12 hex digits of the SHA-256 of the configuration's content."""
        return hashlib.sha256(json.dumps(self.as_dict(), sort_keys=True).encode()).hexdigest()[:12]

    def stars_for(self, total: float | np.ndarray) -> int | np.ndarray:
        """The stars a total score earns: the lowest star plus the number of bands reached."""
        earned = self.lowest_star + np.searchsorted(np.asarray(self.bands), np.asarray(total, dtype=float), side="right")
        return int(earned) if np.ndim(earned) == 0 else earned

    def kpis_of(self, pillar: str) -> list[str]:
        """The KPIs of `pillar`, in the configuration's order."""
        return [name for name, curve in self.kpis.items() if curve.pillar == pillar]

    def with_weights(self, kpi_weights: dict[str, float], bands: tuple[float, ...], version: str) -> RatingConfig:
        """A copy with new effective KPI weights (summing to 1 over all KPIs) and bands.

        The pillar weights become the sums of their KPIs' weights.
        """
        pillars = {p: float(sum(kpi_weights[k] for k in self.kpis_of(p))) for p in self.pillars}
        kpis = {
            name: replace(curve, weight=kpi_weights[name] / pillars[curve.pillar] if pillars[curve.pillar] else 0.0)
            for name, curve in self.kpis.items()
        }
        return replace(self, pillars=pillars, kpis=kpis, bands=tuple(float(b) for b in bands), version=version)

    def as_dict(self) -> dict[str, Any]:
        """The configuration as plain data, in the layout of the TOML file."""
        return {
            "version": self.version, "min_cases": self.min_cases, "min_answers": self.min_answers,
            "min_evidence": self.min_evidence, "lowest_star": self.lowest_star,
            "bands": list(self.bands), "satisfied_at": self.satisfied_at, "pillars": dict(self.pillars),
            "kpis": {name: {"pillar": c.pillar, "direction": c.direction, "floor": c.floor, "target": c.target,
                            "weight": c.weight} for name, c in self.kpis.items()},
        }

    def to_toml(self) -> str:
        """The configuration as TOML text that :func:`parse_config` reads back."""
        return tomli_w.dumps(self.as_dict())


def default_config() -> RatingConfig:
    """The documented default model shipped with najma."""
    text = resources.files("najma.rating").joinpath("default_rating.toml").read_text(encoding="utf-8")
    return parse_config(text, "rating/default_rating.toml")


def load_config(path: str | Path | None = None) -> RatingConfig:
    """Read a rating configuration file; None gives :func:`default_config`."""
    if path is None:
        return default_config()
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise RatingConfigError(f"{path}: cannot read the rating configuration ({error}).") from None
    return parse_config(text, str(path))


def parse_config(text: str, source: str = "<rating config>") -> RatingConfig:
    """Parse and check a rating configuration.

    Raises
    ------
    RatingConfigError
        Naming `source` and listing every problem found.
    """
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise RatingConfigError(f"{source}: not valid TOML ({error}).") from None
    problems: list[str] = [f"unknown key {key!r}" for key in sorted(set(raw) - _TOP_KEYS)]
    version = raw.get("version")
    if not isinstance(version, str) or not version:
        problems.append(f"'version' must be a non-empty string, got {version!r}")
    min_cases, min_answers = (_whole_count(raw, key, problems) for key in ("min_cases", "min_answers"))
    min_evidence = raw.get("min_evidence", 0.5)
    if not _is_number(min_evidence) or not 0 <= min_evidence <= 1:
        problems.append(f"'min_evidence' must be a share from 0 to 1, got {min_evidence!r}")
    lowest = raw.get("lowest_star", 2)
    if lowest not in (1, 2):
        problems.append(f"'lowest_star' must be 1 or 2, got {lowest!r}")
    bands = raw.get("bands")
    if not isinstance(bands, list) or not bands or not all(_is_number(b) for b in bands) or sorted(bands) != bands:
        problems.append(f"'bands' must be a rising list of scores between 0 and 100, got {bands!r}")
    elif isinstance(lowest, int) and lowest + len(bands) != 7:
        problems.append(f"'bands' must give {7 - lowest} cut points for stars {lowest} to 7, got {len(bands)}")
    satisfied_at = raw.get("satisfied_at", 4)
    if not _is_number(satisfied_at):
        problems.append(f"'satisfied_at' must be a number, got {satisfied_at!r}")
    pillars = raw.get("pillars")
    if not isinstance(pillars, dict) or set(pillars) != set(PILLARS) or not all(
        _is_number(w) and w >= 0 for w in pillars.values()
    ) or not sum(pillars.values()):
        problems.append(f"'pillars' must give a weight (>= 0, not all 0) to each of {', '.join(PILLARS)}, got {pillars!r}")
    kpis = _curves(raw.get("kpis"), problems)
    if problems:
        raise RatingConfigError(f"{source}: " + "; ".join(problems) + ".")
    return RatingConfig(
        version=version, min_cases=int(min_cases), lowest_star=lowest, bands=tuple(float(b) for b in bands),
        satisfied_at=float(satisfied_at), pillars={p: float(pillars[p]) for p in PILLARS}, kpis=kpis,
        min_answers=int(min_answers), min_evidence=float(min_evidence),
    )


def _whole_count(raw: dict[str, Any], key: str, problems: list[str]) -> int | float:
    """The positive whole number `raw` gives for `key` (30 when absent); a problem is noted otherwise."""
    value = raw.get(key, 30)
    if not _is_number(value) or value < 1 or int(value) != value:
        problems.append(f"'{key}' must be a positive whole number, got {value!r}")
    return value


def _curves(raw: object, problems: list[str]) -> dict[str, Curve]:
    from najma.rating._kpis import KPIS  # the KPI definitions name the curves a configuration may give

    if not isinstance(raw, dict) or not raw:
        problems.append("'kpis' must be a table of KPI curves")
        return {}
    curves = {}
    for name, spec in raw.items():
        where = f"kpis.{name}"
        if name not in KPIS:
            problems.append(f"{where}: unknown KPI; the KPIs are {', '.join(KPIS)}")
            continue
        if not isinstance(spec, dict):
            problems.append(f"{where} must be a table")
            continue
        problems.extend(f"{where}: unknown key {key!r}" for key in sorted(set(spec) - _CURVE_KEYS))
        pillar, direction = spec.get("pillar"), spec.get("direction")
        floor, target, weight = spec.get("floor"), spec.get("target"), spec.get("weight", 1.0)
        if pillar not in PILLARS:
            problems.append(f"{where}: 'pillar' must be one of {', '.join(PILLARS)}, got {pillar!r}")
        if not (_is_number(floor) and _is_number(target)) or floor == target:
            problems.append(f"{where}: 'floor' and 'target' must be two different numbers, got {floor!r} and {target!r}")
        elif direction not in ("lower", "higher") or (direction == "lower") != (target < floor):
            problems.append(
                f"{where}: 'direction' must be 'lower' (target below floor) or 'higher' (target above floor), "
                f"got {direction!r} with floor {floor} and target {target}"
            )
        if not _is_number(weight) or weight < 0:
            problems.append(f"{where}: 'weight' must be a number >= 0, got {weight!r}")
        if not problems or not any(p.startswith(where) for p in problems):
            curves[name] = Curve(pillar, direction, float(floor), float(target), float(weight))
    return curves


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)
