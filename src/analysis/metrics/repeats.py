"""Repeat detainers: people whose detainer was declined (or honoured) and who later received
another detainer, linked by the anonymized identifier.

The identifier links one person's records within ONE release only. The index event of a
person is their first declined (resp. honoured) detainer; a later detainer is one prepared on
a later day. Exact duplicate records (same `row_hash`) are counted once.
"""

from __future__ import annotations

import pandas as pd

from analysis import words
from analysis.vocab.definitions import is_declined, lift_bucket

PERSON = "anonymized_identifier"
DATE = "detainer_prepare_date"
HORIZONS_DAYS = (30, 90, 180, 365)
DAY_BINS = ((1, 30), (31, 90), (91, 180), (181, 365), (366, None))
GROUP_LABELS = {"declined": "Declined detainer", "honoured": "Honoured detainer"}


def prepare_records(detainers: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, int]]:
    """Records usable for linking: exact duplicates dropped, records without an identifier or
    a prepare date set aside. Returns the records and how many were dropped for each reason."""
    unique = detainers.drop_duplicates(subset="row_hash") if "row_hash" in detainers else detainers
    no_person = unique[PERSON].isna() | (unique[PERSON].astype("string").str.strip() == "")
    no_date = unique[DATE].isna()
    usable = unique[~no_person & ~no_date].copy()
    usable[DATE] = pd.to_datetime(usable[DATE])
    dropped = {
        "exact_duplicates": len(detainers) - len(unique),
        "without_identifier": int(no_person.sum()),
        "without_date": int((no_date & ~no_person).sum()),
    }
    return usable.reset_index(drop=True), dropped


def group_mask(records: pd.DataFrame, group: str, definition: str) -> pd.Series:
    """Records that can be a person's index event in `group` ('declined' or 'honoured')."""
    reasons = records["detainer_lift_reason"]
    if group == "declined":
        return is_declined(reasons, definition)
    if group == "honoured":
        return lift_bucket(reasons).eq("booked").astype(bool)
    raise ValueError(f"unknown group {group!r}: 'declined' or 'honoured'")


def index_dates(records: pd.DataFrame, mask: pd.Series) -> pd.Series:
    """Each person's first date with a detainer selected by `mask` (index: identifier)."""
    return records.loc[mask].groupby(PERSON)[DATE].min()


def follow_ups(records: pd.DataFrame, index: pd.Series) -> pd.DataFrame:
    """Per person of `index`: index date, number of later detainers, days until the next one
    (missing when there is none)."""
    joined = records[[PERSON, DATE]].merge(index.rename("index_date"), left_on=PERSON, right_index=True)
    later = joined[joined[DATE] > joined["index_date"]]
    per_person = later.groupby(PERSON).agg(later_detainers=(DATE, "size"), next_date=(DATE, "min"))
    result = index.rename("index_date").to_frame().join(per_person)
    result["later_detainers"] = result["later_detainers"].fillna(0).astype(int)
    result["days_to_next"] = (result["next_date"] - result["index_date"]).dt.days
    return result.drop(columns="next_date")


def group_follow_ups(records: pd.DataFrame, definition: str) -> dict[str, pd.DataFrame]:
    """`follow_ups` of the declined and the honoured group."""
    return {group: follow_ups(records, index_dates(records, group_mask(records, group, definition)))
            for group in GROUP_LABELS}


def summary(groups: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """One row per group: people, people with a later detainer and their share, later
    detainers, and the quartiles of days until the next detainer."""
    rows = []
    for group, people in groups.items():
        days = people["days_to_next"].dropna()
        repeaters = len(days)
        rows.append({
            "group": group,
            "people": len(people),
            "with_later": repeaters,
            "share_with_later": repeaters / len(people) if len(people) else float("nan"),
            "later_detainers": int(people["later_detainers"].sum()),
            "days_p25": days.quantile(0.25) if repeaters else float("nan"),
            "days_median": days.median() if repeaters else float("nan"),
            "days_p75": days.quantile(0.75) if repeaters else float("nan"),
        })
    return pd.DataFrame(rows)


def days_distribution(groups: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """People with a later detainer by days until the next one (rows: bins; columns: groups)."""
    labels = [f"{low}–{high}" if high else f"{low} or more" for low, high in DAY_BINS]
    table = {}
    for group, people in groups.items():
        days = people["days_to_next"].dropna()
        table[group] = [int(days.between(low, high or float("inf")).sum()) for low, high in DAY_BINS]
    return pd.DataFrame(table, index=pd.Index(labels, name="days")).reset_index()


def cumulative_shares(groups: dict[str, pd.DataFrame], observed_until: pd.Timestamp,
                      horizons: tuple[int, ...] = HORIZONS_DAYS) -> pd.DataFrame:
    """Share of each group with a later detainer within h days, among the people whose index
    date lies at least h days before the end of the data (so everyone counted could be seen)."""
    rows = []
    for group, people in groups.items():
        for days in horizons:
            followed = people[people["index_date"] + pd.Timedelta(days=days) <= observed_until]
            within = int((followed["days_to_next"] <= days).sum())
            rows.append({"group": group, "days": days, "people_followed": len(followed), "with_later": within,
                         "share": within / len(followed) if len(followed) else float("nan")})
    return pd.DataFrame(rows)


def hide_small_shares(shares: pd.DataFrame, min_cell: int) -> pd.DataFrame:
    """Shares whose count or base is a small cell (0 < n < min_cell) set to missing."""
    return words.hide_small(shares, "share", ["with_later", "people_followed"], min_cell)
