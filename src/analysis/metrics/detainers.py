"""Counts and shares over detainer records: how many were issued, when, where, to whom, and
what became of them (lift reasons, declines, days to lift).

Every function takes a DataFrame of processed records (canonical column names), or the same
records counted by DuckDB (`Release.counts`, `days_to_lift_counts`: one row per combination of
values, `records` saying how many; see `counted`), and returns a small aggregate DataFrame; none
returns a row-level record. Rankings break ties by name, ascending, so two runs give the same
order. Definitions (outcome buckets, declined, an
encounter that ended in a detainer) come from `definitions.py`; conviction categories from
`convictions.py`.

`detainer_measure` decides, for every section, which records count detainers: the detainers
table, or (a release without one) encounters that ended in a detainer, a different measure
named as such.
"""

from __future__ import annotations

import re
from collections.abc import Container, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import cast

import numpy as np
import pandas as pd

from analysis import words
from analysis.metrics.distribution import Distribution
from analysis.release import Release
from analysis.vocab import convictions
from analysis.vocab.definitions import BUCKETS, CRIMINALITY_LABELS, ends_in_detainer, is_declined, lift_bucket
from analysis.vocab.geography import STATES, short_aor

PREPARE_DATE = "detainer_prepare_date"
LIFT_DATE = "detainer_lift_date"
LIFT_REASON = "detainer_lift_reason"
DISPOSITION = "processing_disposition"
NOT_RECORDED = "Not recorded"
BLANK_REASON = "(blank)"
MIN_FACILITY_DETAINERS = 50  # decline rates of facilities with fewer detainers are too noisy to rank


# ---------------------------------------------------------------- helpers


def _labelled(values: pd.Series, labels: Mapping[str, str] | None = None) -> pd.Series:
    """Values as text, relabelled, with missing shown as `Not recorded` (visible, not dropped)."""
    text = values.astype("string").str.strip()
    text = text.mask(text == "", pd.NA)
    if labels:
        text = text.map(lambda v: labels.get(v, v) if not pd.isna(v) else v)
    return text.fillna(NOT_RECORDED).astype(str)


def _rank(frame: pd.DataFrame, by: str, name: str) -> pd.DataFrame:
    """Largest `by` first, ties by `name` ascending."""
    return frame.sort_values([by, name], ascending=[False, True], kind="stable").reset_index(drop=True)


def _share(part: pd.Series | float, whole: pd.Series | float) -> pd.Series | float:
    """part / whole, NaN where whole is zero."""
    if isinstance(whole, pd.Series):
        return part / whole.where(whole != 0)
    return part / whole if whole else float("nan")


def counted(frame: pd.DataFrame) -> pd.DataFrame:
    """`frame` as counted records: a frame of records gets `records` = 1 per row; a frame from
    `Release.counts` (one row per combination of values, `records` holding how many) is kept."""
    return frame if "records" in frame.columns else frame.assign(records=np.ones(len(frame), dtype="int64"))


# ---------------------------------------------------------------- which records count detainers


def ending_in_detainer(encounters: pd.DataFrame) -> pd.DataFrame:
    """Encounters whose processing disposition is `Detainer` (case and spacing ignored)."""
    return encounters[ends_in_detainer(encounters[DISPOSITION])].reset_index(drop=True)


@dataclass(frozen=True)
class DetainerMeasure:
    """The records that count detainers, and the words every title, caption and sentence uses
    for them. `noun` names them where detainers issued are counted; `plural` and `singular`
    where the context already says what a detainer is."""

    table: str
    date_column: str
    noun: str
    plural: str
    singular: str
    columns: tuple[str, ...] = ()  # what makes a record of `table` count
    outcomes: tuple[str, ...] = ()  # what says how a detainer ended (detainer records only)

    @property
    def from_encounters(self) -> bool:
        return self.table == "encounters"

    def available(self, release: Release, columns: Iterable[str] = (), *, dated: bool = False,
                  scoped: bool = False, outcomes: bool = False) -> bool:
        needed = [*self.columns, *([self.date_column] if dated else []), *(self.outcomes if outcomes else ()), *columns]
        return release.has(self.table, needed) and (not scoped or release.can_scope(self.table))

    def counts(self, release: Release, by: Sequence[str], *, months: Iterable[str] = ()) -> pd.DataFrame:
        """The records (within the release's scope) counted by DuckDB per combination of `by`
        values (see `Release.counts`); a measure's rules then run on this small frame."""
        counts = release.counts(self.table, [*by, *self.columns], months=months)
        return counts[ends_in_detainer(counts[DISPOSITION])].reset_index(drop=True) if self.from_encounters else counts


DETAINERS_PREPARED = DetainerMeasure("detainers", PREPARE_DATE, "detainers prepared", "detainers", "detainer",
                                     outcomes=(LIFT_REASON,))
ENCOUNTERS_ENDING_IN_DETAINER = DetainerMeasure(
    "encounters", "event_date", "encounters ending in a detainer", "encounters ending in a detainer",
    "encounter ending in a detainer", (DISPOSITION,))


def detainer_measure(release: Release, columns: Iterable[str] = (), *, dated: bool = False, scoped: bool = False,
                     outcomes: bool = False) -> DetainerMeasure | None:
    """Which records count detainers, decided the same way for every section: detainer records
    if the release has them, else encounters ending in a detainer; each only if it has
    `columns`, a date (`dated`), outcomes where the measure records them (`outcomes`), and can
    be limited to the release's scope (`scoped`). None if neither qualifies."""
    columns = list(columns)
    for measure in (DETAINERS_PREPARED, ENCOUNTERS_ENDING_IN_DETAINER):
        if measure.available(release, columns, dated=dated, scoped=scoped, outcomes=outcomes):
            return measure
    return None


# ---------------------------------------------------------------- detainers issued


def monthly_counts(frame: pd.DataFrame, date_column: str = PREPARE_DATE) -> pd.DataFrame:
    """Records per calendar month (`month` = first day), months without records shown as 0.
    `frame`: records, or counts (see `counted`)."""
    frame = counted(frame)
    dates = pd.to_datetime(frame[date_column], errors="coerce")
    dated = dates.notna()
    if not dated.any():
        return pd.DataFrame({"month": pd.Series(dtype="datetime64[ns]"), "count": pd.Series(dtype=int)})
    months = dates[dated].dt.to_period("M")
    span = pd.period_range(months.min(), months.max(), freq="M")
    counts = frame.loc[dated, "records"].groupby(months.to_numpy()).sum().reindex(span, fill_value=0)
    return pd.DataFrame({"month": span.to_timestamp(), "count": counts.to_numpy().astype(int)})


def fiscal_year_totals(frame: pd.DataFrame, partial: Container[int], date_column: str | None = None) -> pd.DataFrame:
    """Records per fiscal year, with partial years flagged and labelled; with `date_column`, also
    the calendar months the year's records span and the average per month (what makes a partial
    year comparable with full ones). `frame`: records, or counts (see `counted`)."""
    frame = counted(frame)
    counts = frame.groupby("fiscal_year")["records"].sum().sort_index()
    years = [int(fy) for fy in counts.index]
    out = pd.DataFrame({
        "fiscal_year": years,
        "label": words.fy_labels(years, partial),
        "count": counts.to_numpy().astype(int),
        "partial": [fy in partial for fy in years],
    })
    if date_column is not None:
        months = pd.to_datetime(frame[date_column], errors="coerce").dt.to_period("M")
        span = months.groupby(frame["fiscal_year"]).agg(["min", "max"])
        spanned = {int(cast(int, fy)): (last - first).n + 1
                   for fy, first, last in zip(span.index, span["min"], span["max"], strict=True) if not pd.isna(first)}
        out["months"] = [spanned.get(fy, 0) for fy in years]
        out["per_month"] = _share(out["count"], out["months"])
    return out


def mean_per_month(monthly: pd.DataFrame, months: int, *, last: bool) -> float:
    """Average monthly count over the first or last `months` months of a `monthly_counts` frame."""
    window = monthly.tail(months) if last else monthly.head(months)
    return float(window["count"].mean()) if len(window) else float("nan")


def monthly_change(monthly: pd.DataFrame, months: int = 12) -> tuple[float, float] | None:
    """Average per month over the first and the last `months` months, or None if the series
    is shorter than two such windows."""
    if len(monthly) < 2 * months:
        return None
    return mean_per_month(monthly, months, last=False), mean_per_month(monthly, months, last=True)


def form_name(detainer_type: str) -> str:
    """`Immigration Detainer - Notice of Action (I-247A)` -> `I-247A`; other labels unchanged."""
    found = re.search(r"\((I-\d+[A-Z]?)\)", str(detainer_type))
    return found.group(1) if found else str(detainer_type)


def ranked_counts(frame: pd.DataFrame, column: str, top: int | None = None) -> pd.DataFrame:
    """Records per value of `column` with their share of all records, largest first.
    `frame`: records, or counts (see `counted`)."""
    frame = counted(frame)
    values = _labelled(frame[column])
    counts = frame["records"].groupby(values.to_numpy()).sum().rename_axis(column).reset_index(name="count")
    counts["share"] = _share(counts["count"], int(frame["records"].sum()))
    ranked = _rank(counts, "count", column)
    return ranked.head(top) if top else ranked


def state_counts(frame: pd.DataFrame) -> pd.DataFrame:
    """Records per state for the 50 states and DC (zeros included), then any other codes found
    (territories, blanks) so that nothing is silently left off a map. `frame`: records, or
    counts (see `counted`)."""
    frame = counted(frame)
    counts = ranked_counts(frame, "state")
    found = dict(zip(counts["state"], counts["count"], strict=True))
    rows = [{"state": code, "name": STATES[code][0], "count": int(found.get(code, 0)), "on_map": True}
            for code in STATES]
    rows += [{"state": code, "name": code, "count": int(n), "on_map": False}
             for code, n in found.items() if code not in STATES]
    table = pd.DataFrame(rows)
    table["share"] = _share(table["count"], int(frame["records"].sum()))
    return _rank(table, "count", "state")


def aor_counts(frame: pd.DataFrame, top: int | None = None) -> pd.DataFrame:
    """Records per ICE area of responsibility, named without the `Area of Responsibility` suffix."""
    named = frame.assign(aor=frame["aor"].map(lambda v: short_aor(v) if isinstance(v, str) else v))
    return ranked_counts(named, "aor", top)


def usual_states(frame: pd.DataFrame) -> pd.Series:
    """Each facility's state, both as `_labelled` shows them: the state of most of its records; a
    tie goes to a recorded state before `Not recorded`, then to the first code alphabetically, so
    it depends on the records alone, never on their order. `frame`: records, or counts by
    facility and state (see `counted`)."""
    frame = counted(frame)
    pairs = pd.DataFrame({"facility": _labelled(frame["facility"]).to_numpy(),
                          "state": _labelled(frame["state"]).to_numpy(), "records": frame["records"].to_numpy()})
    summed = pairs.groupby(["facility", "state"])["records"].sum().reset_index()
    summed["unrecorded"] = summed["state"] == NOT_RECORDED
    ranked = summed.sort_values(["facility", "records", "unrecorded", "state"], ascending=[True, False, True, True],
                                kind="stable")
    return ranked.drop_duplicates("facility").set_index("facility")["state"]


def facility_counts(frame: pd.DataFrame, top: int | None = None) -> pd.DataFrame:
    """Records per facility with the facility's state (see `usual_states`), largest first.
    `frame`: records, or counts by facility and state (see `counted`)."""
    ranked = ranked_counts(frame, "facility", top)
    ranked.insert(1, "state", ranked["facility"].map(usual_states(frame)))
    return ranked


def shares_by_fiscal_year(frame: pd.DataFrame, column: str, labels: Mapping[str, str] | None = None,
                          order: Iterable[str] | None = None) -> pd.DataFrame:
    """Long frame of (fiscal_year, category, count, share of that year's records); categories in
    `order` first (those present), then others by overall count; missing values `Not recorded`.
    `frame`: records, or counts (see `counted`)."""
    frame = counted(frame)
    categories = _labelled(frame[column], labels)
    counts = pd.crosstab(frame["fiscal_year"], categories, values=frame["records"], aggfunc="sum").fillna(0)
    counts = counts.astype("int64")
    overall = counts.sum().sort_values(ascending=False, kind="stable")
    preferred = [c for c in (order or []) if c in counts.columns]
    ordered = preferred + [c for c in overall.index if c not in preferred and c != NOT_RECORDED]
    ordered += [NOT_RECORDED] if NOT_RECORDED in counts.columns else []
    counts = counts[ordered]
    long = counts.rename_axis(columns=None).reset_index().melt(id_vars="fiscal_year", var_name="category",
                                                               value_name="count")
    long["share"] = _share(long["count"], long.groupby("fiscal_year")["count"].transform("sum"))
    long["category"] = pd.Categorical(long["category"], categories=ordered, ordered=True)
    return long.sort_values(["fiscal_year", "category"]).reset_index(drop=True)


def criminality_shares(frame: pd.DataFrame) -> pd.DataFrame:
    """Criminality categories (ICE's three, readable labels) by fiscal year."""
    return shares_by_fiscal_year(frame, "criminality", CRIMINALITY_LABELS, CRIMINALITY_LABELS.values())


def wide_shares(long: pd.DataFrame, value: str = "share") -> pd.DataFrame:
    """Fiscal years as rows, categories as columns (in their order), from a `shares_by_fiscal_year` frame."""
    wide = long.pivot(index="fiscal_year", columns="category", values=value)
    wide.columns = [str(c) for c in wide.columns]
    return wide.fillna(0)


# ---------------------------------------------------------------- outcomes


def lift_reason_counts(frame: pd.DataFrame) -> pd.DataFrame:
    """Detainers per lift reason exactly as recorded (a blank reason is `(blank)`), with the
    outcome bucket each reason is grouped into. `frame`: records, or counts (see `counted`)."""
    frame = counted(frame)
    reasons = frame[LIFT_REASON].astype("string").str.strip()
    reasons = reasons.mask(reasons == "", pd.NA).fillna(BLANK_REASON)
    counts = frame["records"].groupby(reasons.to_numpy()).sum().rename_axis("lift_reason").reset_index(name="count")
    counts["bucket"] = lift_bucket(counts["lift_reason"].mask(counts["lift_reason"] == BLANK_REASON)).astype(str)
    return _rank(counts, "count", "lift_reason")[["lift_reason", "bucket", "count"]]


def bucket_by_fiscal_year(frame: pd.DataFrame) -> pd.DataFrame:
    """Long frame of (fiscal_year, bucket, label, count, share) in the order of definitions.BUCKETS;
    every bucket present in any year appears in every year (zero where absent). `frame`:
    records, or counts (see `counted`)."""
    frame = counted(frame)
    buckets = lift_bucket(frame[LIFT_REASON])
    counts = pd.crosstab(frame["fiscal_year"], buckets, values=frame["records"], aggfunc="sum").fillna(0).astype("int64")
    present = [b for b in BUCKETS if b in counts.columns]
    counts = counts.reindex(columns=present, fill_value=0)
    long = counts.rename_axis(columns=None).reset_index().melt(id_vars="fiscal_year", var_name="bucket",
                                                               value_name="count")
    long["label"] = long["bucket"].map(BUCKETS)
    long["share"] = _share(long["count"], long.groupby("fiscal_year")["count"].transform("sum"))
    long["bucket"] = pd.Categorical(long["bucket"], categories=present, ordered=True)
    long = long.sort_values(["fiscal_year", "bucket"]).reset_index(drop=True)
    long["bucket"] = long["bucket"].astype(str)
    return long[["fiscal_year", "bucket", "label", "count", "share"]]


def declined_mask(frame: pd.DataFrame, definition: str) -> np.ndarray:
    """True where the detainer counts as declined under `definition` (positional, like frame's rows)."""
    return is_declined(frame[LIFT_REASON], definition).to_numpy()


def declined_by_fiscal_year(frame: pd.DataFrame) -> pd.DataFrame:
    """Per fiscal year: detainers, declined under each definition, and the share declined.
    `frame`: records, or counts (see `counted`)."""
    frame = counted(frame)
    weights = frame["records"].to_numpy()
    table = pd.DataFrame({"fiscal_year": frame["fiscal_year"].astype(int), "records": weights,
                          "declined_strict": weights * declined_mask(frame, "strict"),
                          "declined_broad": weights * declined_mask(frame, "broad")})
    out = table.groupby("fiscal_year").agg(detainers=("records", "sum"),
                                           declined_strict=("declined_strict", "sum"),
                                           declined_broad=("declined_broad", "sum")).reset_index()
    out[["declined_strict", "declined_broad"]] = out[["declined_strict", "declined_broad"]].astype(int)
    out["rate_strict"] = _share(out["declined_strict"], out["detainers"])
    out["rate_broad"] = _share(out["declined_broad"], out["detainers"])
    return out


def _declines_by(frame: pd.DataFrame, column: str, definition: str) -> pd.DataFrame:
    """Per value of `column`: detainers, declined, decline rate, and share of all declines.
    `frame`: records, or counts (see `counted`)."""
    frame = counted(frame)
    weights = frame["records"].to_numpy()
    table = pd.DataFrame({column: _labelled(frame[column]), "records": weights,
                          "declined": weights * declined_mask(frame, definition)})
    out = table.groupby(column).agg(detainers=("records", "sum"), declined=("declined", "sum")).reset_index()
    out["declined"] = out["declined"].astype(int)
    out["decline_rate"] = _share(out["declined"], out["detainers"])
    out["share_of_declines"] = _share(out["declined"], out["declined"].sum())
    return _rank(out, "declined", column)


def state_decline_shares(frame: pd.DataFrame, definition: str) -> pd.DataFrame:
    """Each state's declines, its share of all declines, its detainers and decline rate."""
    out = _declines_by(frame, "state", definition)
    out.insert(1, "name", out["state"].map(lambda code: STATES[code][0] if code in STATES else code))
    return out


def facility_declines(frame: pd.DataFrame, definition: str) -> pd.DataFrame:
    """Facilities ranked by declines, with their state (see `usual_states`), detainers and decline
    rate. `frame`: records, or counts by facility, state and lift reason (see `counted`)."""
    out = _declines_by(frame, "facility", definition)
    out.insert(1, "state", out["facility"].map(usual_states(frame)))
    return out


def facilities_by_decline_rate(declines: pd.DataFrame, min_detainers: int = MIN_FACILITY_DETAINERS,
                               top: int | None = None) -> pd.DataFrame:
    """Facilities with at least `min_detainers` detainers, highest decline rate first (ties: more
    declines first, then name), from a `facility_declines` frame."""
    eligible = declines[declines["detainers"] >= min_detainers]
    ranked = eligible.sort_values(["decline_rate", "declined", "facility"], ascending=[False, False, True],
                                  kind="stable").reset_index(drop=True)
    return ranked.head(top) if top else ranked


def declined_profile(frame: pd.DataFrame, definition: str, categories: pd.Series) -> pd.DataFrame:
    """Categories (one per row, same index as `frame`) of the declined detainers: count and share.
    `frame`: records, or counts (see `counted`)."""
    frame = counted(frame)
    declined = declined_mask(frame, definition)
    chosen = _labelled(categories[declined])
    weights = frame.loc[declined, "records"]
    counts = weights.groupby(chosen.to_numpy()).sum().rename_axis("category").reset_index(name="declined")
    counts["share"] = _share(counts["declined"], counts["declined"].sum())
    return _rank(counts, "declined", "category")


def criminality_of_declined(frame: pd.DataFrame, definition: str) -> pd.DataFrame:
    labels = frame["criminality"].map(lambda v: CRIMINALITY_LABELS.get(v, v) if isinstance(v, str) else v)
    return declined_profile(frame, definition, labels)


def convictions_of_declined(frame: pd.DataFrame, definition: str,
                            rules: convictions.Rules | None = None) -> pd.DataFrame:
    codes = frame["msc_charge_code"] if "msc_charge_code" in frame else None
    categories = convictions.categorise(frame["msc_charge"], codes, rules)
    return declined_profile(frame, definition, categories)


def days_to_lift(frame: pd.DataFrame) -> pd.Series:
    """Days from prepare date to lift date (NaN where either is missing)."""
    prepared = pd.to_datetime(frame[PREPARE_DATE], errors="coerce")
    lifted = pd.to_datetime(frame[LIFT_DATE], errors="coerce")
    return (lifted - prepared).dt.days.astype(float)


def days_to_lift_counts(release: Release) -> pd.DataFrame:
    """Detainers (within the release's scope) per lift reason and `days` from prepare date to
    lift date, counted in DuckDB: the frame `days_to_lift_by_bucket` and `days_to_lift_groups`
    take instead of records. `days` is what `days_to_lift` gives: lift date minus prepare date
    in days (both are dates in every processed table), NA where either is missing."""
    days = f"{LIFT_DATE} - {PREPARE_DATE}"
    return release.relation("detainers").aggregate(f"{LIFT_REASON}, {days} as days, count(*) as records",
                                                   f"{LIFT_REASON}, {days}").df()


def _days_by_bucket(frame: pd.DataFrame) -> dict[str, tuple[Distribution, int]]:
    """Per outcome bucket present (in the order of definitions.BUCKETS): the days to lift of the
    detainers with both dates and a lift date not before the prepare date, and how many have a
    lift date before it. `frame`: records, or `days_to_lift_counts`."""
    frame = counted(frame)
    days = frame["days"].astype(float) if "days" in frame else days_to_lift(frame)
    table = pd.DataFrame({"bucket": lift_bucket(frame[LIFT_REASON]).astype(str).to_numpy(), "days": days.to_numpy(),
                          "records": frame["records"].to_numpy()})
    found = {}
    for bucket in [b for b in BUCKETS if b in set(table["bucket"])]:
        dated = table[(table["bucket"] == bucket) & table["days"].notna()]
        valid = dated[dated["days"] >= 0]
        negative = int(dated.loc[dated["days"] < 0, "records"].sum())
        found[bucket] = Distribution.of(valid["days"].to_numpy(), valid["records"].to_numpy()), negative
    return found


def days_to_lift_by_bucket(frame: pd.DataFrame) -> pd.DataFrame:
    """Per outcome bucket: detainers with both dates, median and quartiles of days to lift, and
    how many had a lift date before the prepare date (left out of the statistics). `frame`:
    records, or `days_to_lift_counts`."""
    rows = []
    for bucket, (days, negative) in _days_by_bucket(frame).items():
        q1, median, q3 = (float(v) for v in days.percentile([25, 50, 75])) if len(days) else (float("nan"),) * 3
        rows.append({"bucket": bucket, "label": BUCKETS[bucket], "lifted": len(days), "q1": q1, "median": median,
                     "q3": q3, "negative": negative})
    out = pd.DataFrame(rows, columns=["bucket", "label", "lifted", "q1", "median", "q3", "negative"])
    return out[out["lifted"] + out["negative"] > 0].reset_index(drop=True)


def days_to_lift_groups(frame: pd.DataFrame, min_records: int = 1) -> dict[str, Distribution]:
    """Valid days to lift per bucket label (buckets with at least `min_records` values), for a
    figure. `frame`: records, or `days_to_lift_counts`."""
    return {BUCKETS[bucket]: days for bucket, (days, _) in _days_by_bucket(frame).items()
            if len(days) >= max(min_records, 1)}
