"""A distribution held as counted values: each distinct value and how many records hold it (what
a DuckDB `count(*) ... group by value` returns), so percentiles and extremes of millions of
records are computed from a few thousand rows.

`Distribution.percentile` gives exactly what `np.percentile` (its default, linear interpolation)
gives on the values repeated as often as they are counted: the same neighbouring values, the
same interpolation weight and the same arithmetic, so a figure or table drawn from it is the one
the records themselves would give.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


def weighted_percentile(values: np.ndarray | Sequence[float], weights: np.ndarray | Sequence[int],
                        q: float | Sequence[float]) -> np.ndarray:
    """`np.percentile(np.repeat(values, weights), q)` without repeating anything. `values` need
    not be sorted or distinct; `weights` are whole counts (zero allowed). NaN where the weights
    sum to zero."""
    order = np.argsort(values, kind="stable")
    ordered, counts = np.asarray(values, dtype=float)[order], np.asarray(weights, dtype=np.int64)[order]
    n = int(counts.sum())
    quantiles = np.true_divide(q, 100)  # as np.percentile turns percentiles into quantiles
    if n == 0:
        return np.full(np.shape(quantiles), np.nan)
    # numpy's linear method: virtual index (n - 1) * quantile between its floor and the next index,
    # the last index where it reaches the end
    virtual = np.asarray((n - 1) * quantiles, dtype=float)
    floor = np.floor(virtual)
    at_end = virtual >= n - 1
    previous = np.where(at_end, n - 1, floor).astype(np.int64)
    following = np.where(at_end, n - 1, floor + 1).astype(np.int64)
    gamma = virtual - np.where(at_end, -1, floor)
    ends = np.cumsum(counts)  # the sorted position after each value's last repetition
    below, above = ordered[np.searchsorted(ends, previous, side="right")], ordered[np.searchsorted(ends, following, side="right")]
    # numpy's _lerp: from below for gamma < 0.5, from above otherwise
    difference = above - below
    return np.where(gamma >= 0.5, above - difference * (1 - gamma), below + difference * gamma)


@dataclass(frozen=True)
class Distribution:
    """Distinct values (ascending) and how many records hold each (all positive)."""

    values: np.ndarray
    weights: np.ndarray

    @classmethod
    def of(cls, values: np.ndarray | Sequence[float], weights: np.ndarray | Sequence[int] | None = None) -> Distribution:
        """Values (each counted `weights` times, once without weights), equal ones counted together."""
        values = np.asarray(values, dtype=float)
        counts = np.ones(len(values), dtype=np.int64) if weights is None else np.asarray(weights, dtype=np.int64)
        distinct, where = np.unique(values, return_inverse=True)
        summed = np.bincount(where.ravel(), weights=counts, minlength=len(distinct)).astype(np.int64)
        kept = summed > 0
        return cls(distinct[kept], summed[kept])

    def __len__(self) -> int:
        """How many records: the length of the repeated values."""
        return int(self.weights.sum())

    def percentile(self, q: float | Sequence[float]) -> np.ndarray:
        return weighted_percentile(self.values, self.weights, q)

    def highest_at_most(self, limit: float) -> float | None:
        """The largest value not above `limit` (None if every value is above it)."""
        within = self.values[self.values <= limit]
        return float(within[-1]) if len(within) else None

    def lowest_at_least(self, limit: float) -> float | None:
        """The smallest value not below `limit` (None if every value is below it)."""
        within = self.values[self.values >= limit]
        return float(within[0]) if len(within) else None
