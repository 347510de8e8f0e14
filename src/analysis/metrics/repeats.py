"""Repeat detainers: people whose detainer was declined (or honoured) and who later received
another detainer, linked by the anonymized identifier.

The identifier links one person's records within ONE release only. The index event of a
person is their first declined (resp. honoured) detainer; a later detainer is one prepared on
a later day. Exact duplicate records (same `row_hash`, a digest of every column) are counted
once.

The linking runs in DuckDB (`follow_up_counts`): identifiers never leave it. What comes back
is people counted per group, how long they can be followed (the longest horizon of
`HORIZONS_DAYS` their index event lies before the end of the records) and days until their
next detainer; the functions below turn those counts into the section's tables.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from analysis import words
from analysis.metrics.distribution import weighted_percentile
from analysis.release import Release
from analysis.vocab.definitions import is_declined, lift_bucket

PERSON = "anonymized_identifier"
DATE = "detainer_prepare_date"
REASON = "detainer_lift_reason"
HORIZONS_DAYS = (30, 90, 180, 365)
DAY_BINS = ((1, 30), (31, 90), (91, 180), (181, 365), (366, None))
GROUP_LABELS = {"declined": "Declined detainer", "honoured": "Honoured detainer"}


def group_mask(records: pd.DataFrame, group: str, definition: str) -> pd.Series:
    """Records (or distinct lift reasons, in `detainer_lift_reason`) that can be a person's
    index event in `group` ('declined' or 'honoured')."""
    reasons = records[REASON]
    if group == "declined":
        return is_declined(reasons, definition)
    if group == "honoured":
        return lift_bucket(reasons).eq("booked").fillna(False).astype(bool)
    raise ValueError(f"unknown group {group!r}: 'declined' or 'honoured'")


@dataclass(frozen=True)
class GroupReasons:
    """The lift reasons found that make a record an index event of a group, and whether a
    missing reason does: the Python rules applied to the distinct values, for SQL."""

    reasons: list[str]
    missing: bool


def group_reasons(distinct: pd.Series, definition: str) -> dict[str, GroupReasons]:
    """Per group, which of the `distinct` lift reasons found select its index events."""
    frame = pd.DataFrame({REASON: distinct.reset_index(drop=True)})
    chosen = {}
    for group in GROUP_LABELS:
        mask = group_mask(frame, group, definition).to_numpy()
        values = frame[REASON][mask]
        chosen[group] = GroupReasons([str(v) for v in values.dropna()], bool(values.isna().any()))
    return chosen


# Records usable for linking, once each: an identifier (not blank) and a prepare date.
_UNIQUE = """select {distinct}{person} as person, {day} as day, cast({reason} as varchar) as reason{row_hash} from detainers"""
_LINKABLE = "not (person is null or regexp_full_match(cast(person as varchar), '\\s*'))"

_DROPPED = """
with unique_records as ({unique}),
flagged as (select {linkable} as linked, day is not null as dated from unique_records)
select (select count(*) from detainers) - count(*) as exact_duplicates,
       count(*) filter (where not linked) as without_identifier,
       count(*) filter (where linked and not dated) as without_date,
       count(*) filter (where linked and dated) as usable
from flagged
"""

_FOLLOW_UPS = """
with unique_records as ({unique}),
usable as (
    select person, day,
           coalesce(list_contains($declined::varchar[], reason), false) or (reason is null and $declined_missing) as declined,
           coalesce(list_contains($honoured::varchar[], reason), false) or (reason is null and $honoured_missing) as honoured
    from unique_records where {linkable} and day is not null
),
people as (
    select person, min(day) filter (where declined) as declined_day, min(day) filter (where honoured) as honoured_day
    from usable group by person having bool_or(declined) or bool_or(honoured)
),
followed as (
    select count(*) filter (where u.day > p.declined_day) as declined_later,
           min(u.day) filter (where u.day > p.declined_day) as declined_next,
           count(*) filter (where u.day > p.honoured_day) as honoured_later,
           min(u.day) filter (where u.day > p.honoured_day) as honoured_next,
           any_value(p.declined_day) as declined_day, any_value(p.honoured_day) as honoured_day
    from people p join usable u using (person) group by p.person
),
events as (
    select 'declined' as "group", declined_day as index_day, declined_later as later, declined_next as next_day
    from followed where declined_day is not null
    union all
    select 'honoured', honoured_day, honoured_later, honoured_next from followed where honoured_day is not null
),
span as (select max(day) as last_day from usable)
select "group",
       coalesce(list_max(list_filter($horizons::integer[], lambda h: h <= date_diff('day', index_day, last_day))), 0) as followed_for,
       date_diff('day', index_day, next_day) as days_to_next,
       count(*) as people, sum(later)::bigint as later_detainers
from events, span
group by all order by all
"""


def _unique(release: Release) -> str:
    """Each record once: records with the same `row_hash` are one (without the column, none is
    taken for a duplicate)."""
    has_hash = release.has("detainers", ["row_hash"])
    return _UNIQUE.format(distinct="distinct " if has_hash else "", person=PERSON, day=DATE, reason=REASON,
                          row_hash=", row_hash" if has_hash else "")


def dropped_records(release: Release) -> dict[str, int]:
    """How many detainer records (within the scope) were exact duplicates, had no identifier
    (missing or blank), or had an identifier but no prepare date; and how many are usable."""
    counts = release.sql(_DROPPED.format(unique=_unique(release), linkable=_LINKABLE)).iloc[0]
    return {name: int(counts[name]) for name in ("exact_duplicates", "without_identifier", "without_date", "usable")}


def observed_until(release: Release) -> pd.Timestamp:
    """The last prepare date among the usable records."""
    query = f"with unique_records as ({_unique(release)}) select max(day) as last_day from unique_records where {_LINKABLE}"
    return pd.Timestamp(release.sql(query)["last_day"].iloc[0])


def follow_up_counts(release: Release, definition: str, horizons: tuple[int, ...] = HORIZONS_DAYS) -> pd.DataFrame:
    """People per group (`declined`, `honoured`), per how long they can be followed
    (`followed_for`: the longest of `horizons` whose days all lie within the records, 0 for
    none) and days until their next detainer (`days_to_next`, missing for none), with the later
    detainers they received in all (`later_detainers`)."""
    distinct = release.sql(f"select distinct cast({REASON} as varchar) as reason from detainers")["reason"]
    chosen = group_reasons(distinct, definition)
    params = {"horizons": list(horizons), "declined": chosen["declined"].reasons,
              "declined_missing": chosen["declined"].missing, "honoured": chosen["honoured"].reasons,
              "honoured_missing": chosen["honoured"].missing}
    counts = release.sql(_FOLLOW_UPS.format(unique=_unique(release), linkable=_LINKABLE), params)
    counts["days_to_next"] = counts["days_to_next"].astype("float64")
    return counts


def _of(counts: pd.DataFrame, group: str) -> pd.DataFrame:
    return counts[counts["group"] == group]


def summary(counts: pd.DataFrame) -> pd.DataFrame:
    """One row per group: people, people with a later detainer and their share, later
    detainers, and the quartiles of days until the next detainer."""
    rows = []
    for group in GROUP_LABELS:
        people = _of(counts, group)
        repeat = people.dropna(subset=["days_to_next"])
        total, repeaters = int(people["people"].sum()), int(repeat["people"].sum())
        quartiles = weighted_percentile(repeat["days_to_next"].to_numpy(), repeat["people"].to_numpy(), [25, 50, 75])
        rows.append({
            "group": group,
            "people": total,
            "with_later": repeaters,
            "share_with_later": repeaters / total if total else float("nan"),
            "later_detainers": int(people["later_detainers"].sum()),
            "days_p25": quartiles[0], "days_median": quartiles[1], "days_p75": quartiles[2],
        })
    return pd.DataFrame(rows)


def days_distribution(counts: pd.DataFrame) -> pd.DataFrame:
    """People with a later detainer by days until the next one (rows: bins; columns: groups)."""
    labels = [f"{low}–{high}" if high else f"{low} or more" for low, high in DAY_BINS]
    table = {}
    for group in GROUP_LABELS:
        people = _of(counts, group)
        days = people["days_to_next"]
        table[group] = [int(people["people"][days.between(low, high or float("inf")).to_numpy()].sum())
                        for low, high in DAY_BINS]
    return pd.DataFrame(table, index=pd.Index(labels, name="days")).reset_index()


def cumulative_shares(counts: pd.DataFrame, horizons: tuple[int, ...] = HORIZONS_DAYS) -> pd.DataFrame:
    """Share of each group with a later detainer within h days, among the people whose index
    date lies at least h days before the end of the records (so everyone counted could be
    seen). `horizons`: those `follow_up_counts` was given, or some of them."""
    rows = []
    for group in GROUP_LABELS:
        people = _of(counts, group)
        for days in horizons:
            followed = people[people["followed_for"].to_numpy() >= days]
            within = int(followed["people"][(followed["days_to_next"] <= days).to_numpy()].sum())
            base = int(followed["people"].sum())
            rows.append({"group": group, "days": days, "people_followed": base, "with_later": within,
                         "share": within / base if base else float("nan")})
    return pd.DataFrame(rows)


def hide_small_shares(shares: pd.DataFrame, min_cell: int) -> pd.DataFrame:
    """Shares whose count or base is a small cell (0 < n < min_cell) set to missing."""
    return words.hide_small(shares, "share", ["with_later", "people_followed"], min_cell)


