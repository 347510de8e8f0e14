"""distribution: percentiles and extremes of counted values equal numpy's on the values repeated
as often as they are counted, exactly (the same floats), ties and zero counts included."""

from __future__ import annotations

import numpy as np
import pytest

from analysis.metrics.distribution import Distribution, weighted_percentile

PERCENTILES = [0, 1, 5, 10, 12.5, 25, 33.3, 50, 66.7, 75, 90, 95, 99, 100]


@pytest.mark.parametrize("seed", range(6))
def test_weighted_percentile_is_numpys_percentile_of_the_repeated_values(seed):
    rng = np.random.default_rng(seed)
    for _ in range(300):
        size = int(rng.integers(1, 60))
        whole = seed % 2 == 0  # days are whole numbers; other values get fractions and a wide range
        values = (rng.integers(-20, 40, size=size).astype(float) if whole
                  else rng.normal(size=size).round(int(rng.integers(0, 4))) * rng.choice([1.0, 1e6]))
        weights = rng.integers(0, 7, size=size)  # repeated values (ties) and values counted zero times
        weights[rng.integers(size)] += 1
        repeated = np.repeat(values, weights)
        assert np.array_equal(weighted_percentile(values, weights, PERCENTILES), np.percentile(repeated, PERCENTILES))
        for q in (5, 25, 50, 75, 95):
            assert weighted_percentile(values, weights, q) == np.percentile(repeated, q)


def test_weighted_percentile_of_large_counts_and_of_nothing():
    values, weights = np.array([3.0, 1.0, 2.0]), np.array([4_000_000, 1, 5_999_999])
    repeated = np.repeat(values, weights)
    assert np.array_equal(weighted_percentile(values, weights, PERCENTILES), np.percentile(repeated, PERCENTILES))
    assert np.isnan(weighted_percentile([1.0], [0], 50))
    assert weighted_percentile([7.0], [1], [0, 50, 100]).tolist() == [7.0, 7.0, 7.0]


def test_distribution_counts_equal_values_together():
    days = Distribution.of([5.0, 3, 5, 9, 3, 5])
    assert days.values.tolist() == [3.0, 5.0, 9.0] and days.weights.tolist() == [2, 3, 1] and len(days) == 6
    counted = Distribution.of([9.0, 3, 5, 3], [1, 1, 3, 0])
    assert counted.values.tolist() == [3.0, 5.0, 9.0] and counted.weights.tolist() == [1, 3, 1]
    assert float(counted.percentile(50)) == float(np.percentile([3.0, 5, 5, 5, 9], 50))
    assert len(Distribution.of([])) == 0


def test_distribution_extremes_within_limits():
    days = Distribution.of([1.0, 4, 4, 10])
    assert days.highest_at_most(9.9) == 4.0 and days.highest_at_most(10) == 10.0 and days.highest_at_most(0.5) is None
    assert days.lowest_at_least(1.5) == 4.0 and days.lowest_at_least(1) == 1.0 and days.lowest_at_least(11) is None
