"""Repeat-detainer metrics on small hand-built records whose answers are counted by hand."""

from __future__ import annotations

import pandas as pd
import pytest

from analysis.metrics import repeats as repeat

DECLINED = "Detainer Declined by LEA"
BOOKED = "Booked into Detention"
EARLY = "Early Release"


def records(rows: list[tuple]) -> pd.DataFrame:
    """(identifier, prepare date, lift reason[, row_hash]) -> detainer records; the hash
    defaults to the row number, so rows differ unless a test says otherwise."""
    frame = pd.DataFrame(
        [(*row, i) if len(row) == 3 else row for i, row in enumerate(rows)],
        columns=[repeat.PERSON, repeat.DATE, "detainer_lift_reason", "row_hash"],
    )
    frame[repeat.DATE] = [None if d is None else pd.Timestamp(d).date() for d in frame[repeat.DATE]]
    return frame


# A: declined 1 Jan, declined again 11 Jan (10 days), booked 1 Mar (59 days after 1 Jan).
# B: booked 1 Jan, then a same-day record (not later), then one 1 Jul 2021 (181 days).
# C: early release 1 Feb (declined only under the broad definition), nothing later.
# D: declined 1 Jun 2021, nothing later.
ROWS = [
    ("A", "2021-01-01", DECLINED), ("A", "2021-01-11", DECLINED), ("A", "2021-03-01", BOOKED),
    ("B", "2021-01-01", BOOKED), ("B", "2021-01-01", None), ("B", "2021-07-01", "Case Closed"),
    ("C", "2021-02-01", EARLY),
    ("D", "2021-06-01", DECLINED),
]


@pytest.fixture
def usable() -> pd.DataFrame:
    return repeat.prepare_records(records(ROWS))[0]


def test_prepare_records_drops_exact_duplicates_and_unlinkable_rows():
    frame = records([*ROWS, ("A", "2021-01-11", DECLINED, 1), (None, "2021-01-05", DECLINED), ("  ", "2021-01-06", BOOKED),
                     ("E", None, DECLINED)])
    usable, dropped = repeat.prepare_records(frame)
    assert dropped == {"exact_duplicates": 1, "without_identifier": 2, "without_date": 1}
    assert len(usable) == len(ROWS)
    assert pd.api.types.is_datetime64_any_dtype(usable[repeat.DATE])


def test_exact_duplicate_of_a_later_detainer_is_not_a_second_repeat():
    frame = records([("A", "2021-01-01", DECLINED, 10), ("A", "2021-02-01", BOOKED, 11), ("A", "2021-02-01", BOOKED, 11)])
    usable, _ = repeat.prepare_records(frame)
    groups = repeat.group_follow_ups(usable, "strict")
    assert groups["declined"].loc["A", "later_detainers"] == 1


def test_index_dates_are_each_persons_first_detainer_of_the_group(usable):
    declined = repeat.index_dates(usable, repeat.group_mask(usable, "declined", "strict"))
    assert declined.to_dict() == {"A": pd.Timestamp("2021-01-01"), "D": pd.Timestamp("2021-06-01")}
    broad = repeat.index_dates(usable, repeat.group_mask(usable, "declined", "broad"))
    assert sorted(broad.index) == ["A", "C", "D"]
    honoured = repeat.index_dates(usable, repeat.group_mask(usable, "honoured", "strict"))
    assert honoured.to_dict() == {"A": pd.Timestamp("2021-03-01"), "B": pd.Timestamp("2021-01-01")}


def test_follow_ups_count_only_strictly_later_days(usable):
    groups = repeat.group_follow_ups(usable, "strict")
    declined = groups["declined"]
    assert declined.loc["A", "later_detainers"] == 2 and declined.loc["A", "days_to_next"] == 10
    assert declined.loc["D", "later_detainers"] == 0 and pd.isna(declined.loc["D", "days_to_next"])
    honoured = groups["honoured"]
    assert honoured.loc["B", "later_detainers"] == 1 and honoured.loc["B", "days_to_next"] == 181  # same-day row ignored
    assert honoured.loc["A", "later_detainers"] == 0


def test_summary_counts_people_repeats_and_days(usable):
    table = repeat.summary(repeat.group_follow_ups(usable, "strict")).set_index("group")
    assert table.loc["declined", ["people", "with_later", "later_detainers"]].tolist() == [2, 1, 2]
    assert table.loc["declined", "share_with_later"] == 0.5
    assert table.loc["declined", "days_median"] == 10
    assert table.loc["honoured", ["people", "with_later", "later_detainers", "days_median"]].tolist() == [2, 1, 1, 181]


def test_a_group_without_people_has_no_share():
    usable, _ = repeat.prepare_records(records([("B", "2021-01-01", BOOKED), ("B", "2021-02-01", BOOKED)]))
    table = repeat.summary(repeat.group_follow_ups(usable, "strict")).set_index("group")
    assert table.loc["declined", "people"] == 0 and pd.isna(table.loc["declined", "share_with_later"])
    assert table.loc["honoured", ["people", "with_later"]].tolist() == [1, 1]


def test_days_distribution_bins(usable):
    table = repeat.days_distribution(repeat.group_follow_ups(usable, "strict")).set_index("days")
    assert table["declined"].tolist() == [1, 0, 0, 0, 0]  # 10 days
    assert table["honoured"].tolist() == [0, 0, 0, 1, 0]  # 181 days


def test_cumulative_shares_count_only_people_followed_long_enough(usable):
    groups = repeat.group_follow_ups(usable, "strict")
    shares = repeat.cumulative_shares(groups, pd.Timestamp("2021-07-15"), horizons=(30, 180, 365))
    declined = shares[shares["group"] == "declined"].set_index("days")
    # A (1 Jan) can be followed 180 days (to 30 Jun), D (1 Jun) only 30 (to 1 Jul); nobody 365.
    assert declined["people_followed"].tolist() == [2, 1, 0]
    assert declined["with_later"].tolist() == [1, 1, 0]
    assert declined.loc[30, "share"] == 0.5 and declined.loc[180, "share"] == 1.0 and pd.isna(declined.loc[365, "share"])
    honoured = shares[shares["group"] == "honoured"].set_index("days")
    # B (1 Jan) and A (1 Mar) followed 30 days; at 180 days only B, whose next detainer came at 181.
    assert honoured["people_followed"].tolist() == [2, 1, 0]
    assert honoured["with_later"].tolist() == [0, 0, 0]


def test_hide_small_shares():
    shares = pd.DataFrame({"group": ["declined"] * 3, "days": [30, 90, 180], "people_followed": [10, 2, 10],
                           "with_later": [1, 0, 5], "share": [0.1, 0.0, 0.5]})
    hidden = repeat.hide_small_shares(shares, min_cell=3)
    assert pd.isna(hidden.loc[0, "share"]) and pd.isna(hidden.loc[1, "share"]) and hidden.loc[2, "share"] == 0.5
    assert repeat.hide_small_shares(shares, min_cell=1)["share"].tolist() == [0.1, 0.0, 0.5]


def test_unknown_group_is_an_error(usable):
    with pytest.raises(ValueError):
        repeat.group_mask(usable, "released", "strict")
