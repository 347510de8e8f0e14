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


# Exact duplicates (records with the same `row_hash`, a digest of every column) are found once,
# into a small table that never leaves DuckDB; a query counts each record once by giving every
# record a weight of 1 and each duplicated one a row of weight -(copies - 1).
_DUPLICATES = """
create or replace temp table repeat_duplicates as
select any_value({person}) as person, any_value({day}) as day, count(*) - 1 as extra
from detainers group by row_hash having count(*) > 1
"""
_NO_DUPLICATES = f"create or replace temp table repeat_duplicates as select {PERSON} as person, {DATE} as day, " \
                 "0::bigint as extra from detainers limit 0"
_WEIGHTED = """
select {person} as person, {day} as day, cast({reason} as varchar) as reason, 1::bigint as weight from detainers
union all
select person, day, null, -extra from repeat_duplicates
"""
_LINKABLE = "not (person is null or regexp_full_match(cast(person as varchar), '\\s*'))"

_DROPPED = """
with records as not materialized ({weighted}),
flagged as (select {linkable} as linked, day is not null as dated, weight, day from records)
select coalesce((select sum(extra) from repeat_duplicates), 0) as exact_duplicates,
       coalesce(sum(weight) filter (where not linked), 0) as without_identifier,
       coalesce(sum(weight) filter (where linked and not dated), 0) as without_date,
       coalesce(sum(weight) filter (where linked and dated), 0) as usable,
       max(day) filter (where linked) as last_day
from flagged
"""

_FOLLOW_UPS = """
with records as not materialized ({weighted}),
usable as not materialized (
    select person, day, weight,
           coalesce(list_contains($declined::varchar[], reason), false) or (reason is null and weight > 0 and $declined_missing) as declined,
           coalesce(list_contains($honoured::varchar[], reason), false) or (reason is null and weight > 0 and $honoured_missing) as honoured
    from records where {linkable} and day is not null
),
people as (
    select person, min(day) filter (where declined) as declined_day, min(day) filter (where honoured) as honoured_day,
           max(day) as last_day
    from usable group by person having bool_or(declined) or bool_or(honoured)
),
-- only people with a record after an index event need their records again
followed as (
    select sum(u.weight) filter (where u.day > p.declined_day) as declined_later,
           min(u.day) filter (where u.day > p.declined_day) as declined_next,
           sum(u.weight) filter (where u.day > p.honoured_day) as honoured_later,
           min(u.day) filter (where u.day > p.honoured_day) as honoured_next,
           any_value(p.declined_day) as declined_day, any_value(p.honoured_day) as honoured_day
    from people p join usable u using (person) where p.last_day > least(p.declined_day, p.honoured_day)
    group by p.person
    union all
    select 0, null, 0, null, declined_day, honoured_day from people
    where not last_day > least(declined_day, honoured_day)
),
events as (
    select 'declined' as "group", declined_day as index_day, coalesce(declined_later, 0) as later,
           declined_next as next_day
    from followed where declined_day is not null
    union all
    select 'honoured', honoured_day, coalesce(honoured_later, 0), honoured_next from followed where honoured_day is not null
)
select "group",
       coalesce(list_max(list_filter($horizons::integer[], lambda h: h <= date_diff('day', index_day, $last_day))), 0)
           as followed_for,
       date_diff('day', index_day, next_day) as days_to_next,
       count(*) as people, sum(later)::bigint as later_detainers
from events
group by all order by all
"""


@dataclass(frozen=True)
class FollowUps:
    """What `follow_ups` found: people counted (see `follow_up_counts`), the records left out
    (`exact_duplicates`, `without_identifier`, `without_date`) and kept (`usable`), and the last
    prepare date of the usable records (None without any)."""

    counts: pd.DataFrame
    dropped: dict[str, int]
    observed_until: pd.Timestamp | None


def _find_duplicates(release: Release) -> None:
    """The exact duplicates among the detainer records within the scope, in DuckDB (without a
    `row_hash` column, none is taken for a duplicate)."""
    has_hash = "row_hash" in release.schema("detainers").names  # stored beside the columns, not in the manifest
    template = _DUPLICATES if has_hash else _NO_DUPLICATES
    release.db.execute(template.format(person=PERSON, day=DATE))


def _weighted() -> str:
    return _WEIGHTED.format(person=PERSON, day=DATE, reason=REASON)


def dropped_records(release: Release) -> tuple[dict[str, int], pd.Timestamp | None]:
    """How many detainer records (within the scope) were exact duplicates, had no identifier
    (missing or blank), or had an identifier but no prepare date; how many are usable; and the
    last prepare date among the records with an identifier."""
    row = release.sql(_DROPPED.format(weighted=_weighted(), linkable=_LINKABLE)).iloc[0]
    dropped = {name: int(row[name]) for name in ("exact_duplicates", "without_identifier", "without_date", "usable")}
    return dropped, None if pd.isna(row["last_day"]) else pd.Timestamp(row["last_day"])


def follow_up_counts(release: Release, definition: str, last_day: pd.Timestamp,
                     horizons: tuple[int, ...] = HORIZONS_DAYS) -> pd.DataFrame:
    """People per group (`declined`, `honoured`), per how long they can be followed until
    `last_day` (`followed_for`: the longest of `horizons` whose days all lie within the
    records, 0 for none) and days until their next detainer (`days_to_next`, missing for
    none), with the later detainers they received in all (`later_detainers`)."""
    distinct = release.sql(f"select distinct cast({REASON} as varchar) as reason from detainers")["reason"]
    chosen = group_reasons(distinct, definition)
    params = {"horizons": list(horizons), "last_day": last_day.date(), "declined": chosen["declined"].reasons,
              "declined_missing": chosen["declined"].missing, "honoured": chosen["honoured"].reasons,
              "honoured_missing": chosen["honoured"].missing}
    with release.large_query():  # the result is sorted (`order by all`); at 10M records the query spills
        counts = release.sql(_FOLLOW_UPS.format(weighted=_weighted(), linkable=_LINKABLE), params)
    counts["days_to_next"] = counts["days_to_next"].astype("float64")
    return counts


def follow_ups(release: Release, definition: str, horizons: tuple[int, ...] = HORIZONS_DAYS) -> FollowUps:
    """The detainer records within the scope linked by identifier (see the module's docstring)."""
    _find_duplicates(release)
    dropped, last_day = dropped_records(release)
    empty = pd.DataFrame(columns=["group", "followed_for", "days_to_next", "people", "later_detainers"])
    counts = empty if last_day is None or not dropped["usable"] else follow_up_counts(release, definition, last_day, horizons)
    return FollowUps(counts, dropped, last_day)


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


