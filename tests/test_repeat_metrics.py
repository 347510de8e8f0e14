"""Repeat-detainer metrics on small hand-built records whose answers are counted by hand, linked
in DuckDB from parquet as in a report."""

from __future__ import annotations

import pandas as pd
import pytest

from analysis.metrics import repeats as repeat
from analysis.release import Release
from tests.fakes import fake_release

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


def release(rows: list[tuple], **scope) -> Release:
    """A processed release whose detainers table holds `rows` (see `records`), plus `fiscal_year`
    and `aor` columns when `scope` limits them."""
    frame = records(rows)
    if "aor" in scope:
        frame["aor"] = ["Seattle" if str(p).startswith("S") else "Houston" for p in frame[repeat.PERSON]]
    return fake_release({"detainers": list(frame.columns)}, {"detainers": frame}, **scope)


def follow_ups(rows: list[tuple], definition: str = "strict", **scope) -> pd.DataFrame:
    return repeat.follow_ups(release(rows, **scope), definition).counts


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


def test_dropped_records_count_exact_duplicates_and_unlinkable_rows():
    rows = [*ROWS, ("A", "2021-01-11", DECLINED, 1), (None, "2021-01-05", DECLINED), ("  ", "2021-01-06", BOOKED),
            ("", "2021-01-07", BOOKED), ("E", None, DECLINED), (None, None, DECLINED)]
    linked = repeat.follow_ups(release(rows), "strict")
    assert linked.dropped == {"exact_duplicates": 1, "without_identifier": 4, "without_date": 1, "usable": len(ROWS)}
    assert linked.observed_until == pd.Timestamp("2021-07-01")


def test_duplicates_of_unlinkable_records_are_counted_once_among_them():
    rows = [("A", "2021-01-01", DECLINED, 1), (None, "2021-01-05", DECLINED, 2), (None, "2021-01-05", DECLINED, 2),
            ("B", None, BOOKED, 3), ("B", None, BOOKED, 3), ("B", None, BOOKED, 3)]
    linked = repeat.follow_ups(release(rows), "strict")
    assert linked.dropped == {"exact_duplicates": 3, "without_identifier": 1, "without_date": 1, "usable": 1}


def test_nobody_to_follow():
    linked = repeat.follow_ups(release([(None, "2021-01-05", DECLINED), ("B", None, BOOKED)]), "strict")
    assert linked.dropped["usable"] == 0 and linked.observed_until is None and linked.counts.empty


def test_records_without_an_identifier_are_nobody_and_without_a_date_never_an_index():
    rows = [("A", "2021-01-01", DECLINED), (None, "2021-02-01", DECLINED), (" ", "2021-02-02", DECLINED),
            ("A", None, DECLINED), (None, "2021-03-01", BOOKED)]
    table = repeat.summary(follow_ups(rows)).set_index("group")
    assert table.loc["declined", ["people", "with_later", "later_detainers"]].tolist() == [1, 0, 0]
    assert table.loc["honoured", "people"] == 0


def test_exact_duplicate_of_a_later_detainer_is_not_a_second_repeat():
    rows = [("A", "2021-01-01", DECLINED, 10), ("A", "2021-02-01", BOOKED, 11), ("A", "2021-02-01", BOOKED, 11)]
    assert repeat.summary(follow_ups(rows)).set_index("group").loc["declined", "later_detainers"] == 1


def test_two_records_on_one_day_with_different_hashes_are_two():
    """The same person, day and reason twice is two detainers when the records differ elsewhere
    (another row_hash): both count as later detainers, and neither is later than the other."""
    rows = [("A", "2021-01-01", DECLINED, 10), ("A", "2021-02-01", BOOKED, 11), ("A", "2021-02-01", BOOKED, 12)]
    table = repeat.summary(follow_ups(rows)).set_index("group")
    assert table.loc["declined", ["with_later", "later_detainers", "days_median"]].tolist() == [1, 2, 31]
    assert table.loc["honoured", ["people", "with_later", "later_detainers"]].tolist() == [1, 0, 0]


def test_a_person_declined_and_later_detained_again():
    rows = [("A", "2021-03-01", BOOKED), ("A", "2021-01-01", DECLINED), ("A", "2021-01-21", "Case Closed"),
            ("A", "2021-01-01", BOOKED)]
    counts = follow_ups(rows)
    declined = counts[counts["group"] == "declined"]
    assert declined[["days_to_next", "people", "later_detainers"]].to_numpy().tolist() == [[20, 1, 2]]
    honoured = counts[counts["group"] == "honoured"]  # first honoured: 1 Jan, the same day as the declined one
    assert honoured[["days_to_next", "people", "later_detainers"]].to_numpy().tolist() == [[20, 1, 2]]


def test_group_reasons_apply_the_python_rules_to_the_distinct_reasons():
    distinct = pd.Series([DECLINED, " detainer declined by lea ", BOOKED, EARLY, None])
    strict = repeat.group_reasons(distinct, "strict")
    assert strict["declined"] == repeat.GroupReasons([DECLINED, " detainer declined by lea "], False)
    assert strict["honoured"] == repeat.GroupReasons([BOOKED], False)
    assert EARLY in repeat.group_reasons(distinct, "broad")["declined"].reasons
    spelled = [(p, d, " detainer declined by lea ") for p, d, _ in ROWS[:2]]
    assert repeat.summary(follow_ups(spelled)).set_index("group").loc["declined", "people"] == 1


def test_index_events_are_each_persons_first_detainer_of_the_group():
    def people(definition: str) -> dict[str, int]:
        return repeat.summary(follow_ups(ROWS, definition)).set_index("group")["people"].to_dict()

    assert people("strict") == {"declined": 2, "honoured": 2}  # A and D; A and B
    assert people("broad") == {"declined": 3, "honoured": 2}  # C's early release is declined too


def test_follow_ups_count_only_strictly_later_days():
    table = repeat.summary(follow_ups(ROWS)).set_index("group")
    assert table.loc["declined", ["people", "with_later", "later_detainers"]].tolist() == [2, 1, 2]
    assert table.loc["declined", "share_with_later"] == 0.5 and table.loc["declined", "days_median"] == 10
    # B's same-day record is not later; A's booking has nothing after it
    assert table.loc["honoured", ["people", "with_later", "later_detainers", "days_median"]].tolist() == [2, 1, 1, 181]


def test_quartiles_interpolate_as_on_the_records():
    rows = [(p, "2021-01-01", DECLINED) for p in "ABCD"] + [
        ("A", "2021-01-02", BOOKED), ("B", "2021-01-05", BOOKED), ("C", "2021-01-05", BOOKED), ("D", "2021-02-10", BOOKED)]
    table = repeat.summary(follow_ups(rows)).set_index("group")
    days = pd.Series([1, 4, 4, 40])
    assert table.loc["declined", ["days_p25", "days_median", "days_p75"]].tolist() == \
        [days.quantile(0.25), days.quantile(0.5), days.quantile(0.75)]


def test_a_group_without_people_has_no_share():
    table = repeat.summary(follow_ups([("B", "2021-01-01", BOOKED), ("B", "2021-02-01", BOOKED)])).set_index("group")
    assert table.loc["declined", "people"] == 0 and pd.isna(table.loc["declined", "share_with_later"])
    assert pd.isna(table.loc["declined", "days_median"])
    assert table.loc["honoured", ["people", "with_later"]].tolist() == [1, 1]


def test_days_distribution_bins():
    table = repeat.days_distribution(follow_ups(ROWS)).set_index("days")
    assert table["declined"].tolist() == [1, 0, 0, 0, 0]  # 10 days
    assert table["honoured"].tolist() == [0, 0, 0, 1, 0]  # 181 days


def test_cumulative_shares_count_only_people_followed_long_enough():
    counts = repeat.follow_ups(release(ROWS), "strict", horizons=(30, 180, 365)).counts
    shares = repeat.cumulative_shares(counts, horizons=(30, 180, 365))
    declined = shares[shares["group"] == "declined"].set_index("days")
    # the records end on 1 Jul: A (1 Jan) can be followed 180 days, D (1 Jun) exactly 30; nobody 365.
    assert declined["people_followed"].tolist() == [2, 1, 0]
    assert declined["with_later"].tolist() == [1, 1, 0]
    assert declined.loc[30, "share"] == 0.5 and declined.loc[180, "share"] == 1.0 and pd.isna(declined.loc[365, "share"])
    honoured = shares[shares["group"] == "honoured"].set_index("days")
    # B (1 Jan) and A (1 Mar) followed 30 days; at 180 days only B, whose next detainer came at 181.
    assert honoured["people_followed"].tolist() == [2, 1, 0]
    assert honoured["with_later"].tolist() == [0, 0, 0]


def test_only_records_within_the_scope_are_linked():
    rows = [("S1", "2021-01-01", DECLINED), ("S1", "2021-02-01", BOOKED), ("H1", "2021-01-01", DECLINED)]
    table = repeat.summary(follow_ups(rows, aor="Seattle")).set_index("group")
    assert table.loc["declined", ["people", "with_later"]].tolist() == [1, 1]
    assert repeat.follow_ups(release(rows, aor="Houston"), "strict").dropped["usable"] == 1


def test_hide_small_shares():
    shares = pd.DataFrame({"group": ["declined"] * 3, "days": [30, 90, 180], "people_followed": [10, 2, 10],
                           "with_later": [1, 0, 5], "share": [0.1, 0.0, 0.5]})
    hidden = repeat.hide_small_shares(shares, min_cell=3)
    assert pd.isna(hidden.loc[0, "share"]) and pd.isna(hidden.loc[1, "share"]) and hidden.loc[2, "share"] == 0.5
    assert repeat.hide_small_shares(shares, min_cell=1)["share"].tolist() == [0.1, 0.0, 0.5]


def test_unknown_group_is_an_error():
    with pytest.raises(ValueError):
        repeat.group_mask(records(ROWS), "released", "strict")
