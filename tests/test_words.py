"""words: every number, share, year, list and place is written one way, with small cells
suppressed the same way in tables, labels and sentences."""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis import words


def test_counts_with_small_cells():
    assert words.count(12345) == "12,345"
    assert words.count(3, min_cell=11) == "<11"
    assert words.count(0, min_cell=11) == "0"
    assert words.count(2.6) == "3"
    assert words.count(3, min_cell=1000) == "<1,000"
    assert words.count(None) == words.count(float("nan")) == words.count(pd.NA) == "–"


def test_counts_in_prose():
    assert words.count_in_prose(3, min_cell=5) == "fewer than 5"
    assert words.count_in_prose(-3, min_cell=5) == "fewer than 5"
    assert words.count_in_prose(-1204) == "1,204" and words.count_in_prose(0, 5) == "0"
    assert words.signed(1204) == "+1,204" and words.signed(-36) == "-36" and words.signed(0) == "0"


def test_shares_and_percentages():
    assert words.percent(0.1234) == "12.3%" and words.percent(0.0004) == "0.0%" and words.percent(None) == "–"
    assert words.share(0.4567) == "46%" and words.share(0.004) == "<1%" and words.share(0.0004, 1) == "<0.1%"
    assert words.share(0.0) == "0%" and words.share(float("nan")) == "–"
    assert words.percent_of(42, 1000) == "4.2%" and words.percent_of(1, 0) == "–"
    assert words.number(1204.4) == "1,204" and words.number(float("nan")) == "–"


def test_suppress_writes_small_cells_as_the_same_mark():
    frame = pd.DataFrame({"n": [0, 3, 12345], "rate": [0.1, 0.2, 0.3]})
    shown = words.suppress(frame, ["n"], min_cell=5)
    assert shown["n"].tolist() == ["0", "<5", "12,345"] and shown["rate"].tolist() == [0.1, 0.2, 0.3]
    assert words.suppress(frame, ["n"], min_cell=1)["n"].tolist() == ["0", "3", "12,345"]


def test_hide_small_blanks_values_beside_small_or_missing_counts():
    frame = pd.DataFrame({"a": [2, 10, 10], "b": [10, 10, 0], "ratio": [0.2, 1.0, float("inf")]})
    hidden = words.hide_small(frame, "ratio", ["a", "b"], 3)
    assert pd.isna(hidden.loc[0, "ratio"]) and hidden["ratio"].tolist()[1:] == [1.0, float("inf")]
    assert frame.loc[0, "ratio"] == 0.2  # the input is not changed
    changes = pd.DataFrame({"before": pd.array([None, 10], dtype="Int64"), "after": pd.array([5, 12], dtype="Int64"),
                            "change": pd.array([5.0, 2.0], dtype="Float64")})
    assert words.hide_small(changes, "change", ["before", "after"], 1)["change"].isna().tolist() == [True, False]


def test_fiscal_years():
    assert words.fy_label(2024) == "FY2024" and words.fy_label(2025, True) == "FY2025 (partial)"
    assert words.fy_labels([2024, 2025], {2025}) == ["FY2024", "FY2025 (partial)"]
    assert words.fy_span(["FY2021", "FY2025 (partial)"]) == "FY2021 to FY2025 (partial)"
    assert words.fy_span(["FY2021"]) == "FY2021"
    assert words.fy_range([2016, 2017]) == "FY2016–FY2017" and words.fy_range([2016]) == "FY2016"
    assert words.fy_range([]) == "–" and words.fy_range([], empty="no fiscal year") == "no fiscal year"
    assert words.fy_bounds(2021, None) == "FY2021 to FY…"
    assert words.fy_list([2016, 2017, 2018]) == "FY2016, FY2017 and FY2018"
    assert words.fy_runs([2020, 2016, 2018, 2019]) == "FY2016, FY2018–FY2020" and words.fy_runs([]) == ""


def test_lists_and_words():
    assert words.and_list(["a"]) == "a" and words.and_list(["a", "b"]) == "a and b"
    assert words.and_list(["a", "b", "c"]) == "a, b and c"
    assert words.limited_list(list("abcdef")) == "a, b, c, d and 2 more" and words.limited_list(["a"]) == "a"
    assert words.plural(1, "file") == "file" and words.plural(3, "file") == "files"
    assert words.capital("encounters ending in a detainer") == "Encounters ending in a detainer"
    assert words.capital("ICE arrests") == "ICE arrests"


def test_places():
    assert words.geography(None, None) == "United States (all states)"
    assert words.geography("CA", None) == "California (CA)"
    assert words.geography(None, "Seattle") == "Seattle area of responsibility"
    assert words.in_geography(None, "Seattle") == "the Seattle area of responsibility"
    assert words.in_geography("CA", None) == "California (CA)"
    assert words.place("CA", None) == "California" and words.place(None, None) == "the United States"


def derivable(values: pd.DataFrame, hidden: pd.DataFrame, parts: list, total) -> list[float]:
    """The hidden parts of one sum that equal its total (shown) minus the parts shown."""
    if hidden.at[total]:
        return []
    rest = values.at[total] - sum(values.at[c] for c in parts if not hidden.at[c])
    return [values.at[c] for c in parts if hidden.at[c] and values.at[c] == rest]


def test_complementary_suppression_leaves_no_small_cell_derivable_from_a_total():
    rng = np.random.default_rng(7)
    for _ in range(200):
        values = pd.DataFrame(rng.choice([0, 1, 3, 8, 20, 45, 300], size=(4, 3)), columns=["a", "b", "c"])
        values["Total"] = values.sum(axis=1)
        values.loc["Total"] = values.sum()
        for total_row in (None, "Total"):
            frame = values if total_row else values.drop(index="Total")
            hidden = words.complementary(frame, list(frame.columns), 10, total_column="Total", total_row=total_row)
            assert (hidden | ~words.is_small(frame, 10)).all().all()  # every small cell stays hidden
            for row in frame.index:
                assert not derivable(frame, hidden, [(row, c) for c in "abc"], (row, "Total"))
            if total_row:
                for column in frame.columns:
                    parts = [(r, column) for r in frame.index if r != "Total"]
                    assert not derivable(frame, hidden, parts, ("Total", column))


def test_complementary_withholds_the_smallest_other_cell_and_nothing_without_a_small_cell():
    frame = pd.DataFrame({"FY2016": [3, 500, 40], "FY2017": [120, 600, 50], "FY2018": [90, 0, 7]})
    frame["Total"] = frame.sum(axis=1)
    hidden = words.complementary(frame, list(frame.columns), 10, total_column="Total")
    assert hidden.loc[0].tolist() == [True, False, True, False]  # 3 small, 90 the next smallest
    assert not hidden.loc[1].any()
    assert hidden.loc[2].tolist() == [True, False, True, False]  # 7 small, 40 next smallest
    shown = words.suppress(frame, frame.columns, 10, hidden)
    assert shown.loc[0].tolist() == ["<10", "120", "x", "213"]
    assert not words.complementary(frame, list(frame.columns), 1, total_column="Total").any().any()
