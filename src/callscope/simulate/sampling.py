"""The distributions the simulator draws from, shared by the event engine and the fast path so
both sample "the same" company.

Caller patience follows the shape a cloud-PBX study reports for callers who give up: about 45%
of them hang up within 10 s and about 86% within 60 s. A lognormal through those two quantiles
has median ~12 s and sigma ~1.49; `fit_patience` derives it so a profile can move the points.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np

PATIENCE_POINTS = ((10.0, 0.45), (60.0, 0.86))


@dataclass(frozen=True)
class LogNormal:
    mu: float
    sigma: float

    @classmethod
    def from_median(cls, median: float, sigma: float) -> LogNormal:
        return cls(math.log(median), sigma)

    @property
    def median(self) -> float:
        return math.exp(self.mu)

    def cdf(self, x: float) -> float:
        return NormalDist(self.mu, self.sigma).cdf(math.log(x)) if x > 0 else 0.0

    def draw(self, rng: np.random.Generator) -> float:
        return float(rng.lognormal(self.mu, self.sigma))

    def draw_many(self, rng: np.random.Generator, n: int) -> np.ndarray:
        return rng.lognormal(self.mu, self.sigma, n)


def fit_patience(
    points: tuple[tuple[float, float], tuple[float, float]] = PATIENCE_POINTS,
) -> LogNormal:
    """The lognormal whose CDF passes through both (seconds, share) points exactly."""
    (x1, p1), (x2, p2) = points
    z1, z2 = NormalDist().inv_cdf(p1), NormalDist().inv_cdf(p2)
    sigma = (math.log(x2) - math.log(x1)) / (z2 - z1)
    return LogNormal(math.log(x1) - z1 * sigma, sigma)


PATIENCE = fit_patience()
# Callers who do not give up still hang up eventually; the PBX rarely keeps anyone longer.
PATIENT_CAP_S = 900


def whole(seconds: float, minimum: int = 1) -> int:
    """Durations are whole seconds (see trace.py); never shorter than `minimum`."""
    return max(minimum, round(seconds))
