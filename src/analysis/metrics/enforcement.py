"""Enforcement context: arrests by apprehension method and area of responsibility (AOR),
encounters by processing disposition, removals by fiscal year, and local-jail arrests set
beside detainers per AOR (detainers counted as `detainers.detainer_measure` decides).

Method and disposition labels are ICE's own (see ../shared/DOMAIN.md); they were recoded over
time, so a label that appears or vanishes between years may be a relabelling, not a change.
"""

from __future__ import annotations

from collections.abc import Container

import pandas as pd

from analysis import words
from analysis.metrics.detainers import counted
from analysis.vocab.geography import short_aor

LOCAL_JAIL = "CAP Local Incarceration"
PROGRAM_287G = "287(g) Program"
NOT_RECORDED = "Not recorded"
OTHER = "All other"
# AOR labels that are ICE units rather than places: left out where AORs are compared as places.
NON_GEOGRAPHIC_AORS = frozenset({"HQ"})


def _tally(labels: pd.Series, records: pd.Series | None = None) -> pd.Series:
    """Records per label (missing labels left out), largest first, ties by label: `records`
    says how many records each value stands for (one each by default)."""
    weights = pd.Series(1, index=labels.index, dtype="int64") if records is None else records
    summed = weights.groupby(labels.to_numpy()).sum().astype("int64")
    ranked = sorted(summed.items(), key=lambda kv: (-kv[1], kv[0]))
    return pd.Series({name: n for name, n in ranked}, dtype="int64")


def _text(values: pd.Series) -> pd.Series:
    """Values as text without surrounding spaces, blank as missing."""
    stripped = values.astype("string").str.strip()
    return stripped.mask(stripped == "")


def top_with_other(values: pd.Series, top: int, records: pd.Series | None = None) -> pd.Series:
    """Each value, or `All other` if it is not among the `top` most frequent; missing values
    become `Not recorded` (and never count as a top value). `records`: how many records each
    value stands for (see `metrics.detainers.counted`)."""
    labels = _text(values)
    kept = set(_tally(labels, records).index[:top])
    return labels.map(lambda v: NOT_RECORDED if pd.isna(v) else (v if v in kept else OTHER)).astype(object)


def ordered_categories(categories: pd.Series, records: pd.Series | None = None) -> list[str]:
    """Categories by descending count (ties by name), `All other` and `Not recorded` last."""
    counts = _tally(categories, records)
    named = [c for c in counts.index if c not in (OTHER, NOT_RECORDED)]
    return named + [c for c in (OTHER, NOT_RECORDED) if c in counts.index]


def _crosstab(rows: pd.Series, categories: pd.Series, records: pd.Series) -> pd.DataFrame:
    """Records per value of `rows` (missing left out, sorted) and category (ordered as
    `ordered_categories` orders those counted)."""
    placed = rows.notna().to_numpy()
    table = records[placed].groupby([rows[placed].to_numpy(), categories[placed].to_numpy()]).sum().unstack(fill_value=0)
    table = table.reindex(columns=ordered_categories(categories[placed], records[placed]), fill_value=0)
    table.columns.name = None
    return table.astype("int64")


def counts_by_year(frame: pd.DataFrame, column: str, top: int) -> pd.DataFrame:
    """Records per fiscal year (rows) and category of `column` (top categories + other).
    `frame`: records, or counts (see `metrics.detainers.counted`)."""
    frame = counted(frame)
    categories = top_with_other(frame[column], top, frame["records"])
    table = _crosstab(frame["fiscal_year"], categories, frame["records"])
    table.index = pd.Index(table.index.astype(int), name="fiscal_year")
    return table.reset_index()


def category_table(frame: pd.DataFrame, column: str, top: int) -> pd.DataFrame:
    """Records per category of `column` (rows: top categories, then other and not recorded)
    and fiscal year (columns `FY2016`, ...), with a `Total` column."""
    by_year = counts_by_year(frame, column, top).set_index("fiscal_year")
    table = by_year.T
    table.columns = [f"FY{fy}" for fy in table.columns]
    table["Total"] = table.sum(axis=1)
    table.index.name = "category"
    return table.reset_index()


def methods(arrests: pd.DataFrame) -> pd.Series:
    """Each arrest's apprehension method, as text without surrounding spaces."""
    return arrests["apprehension_method"].astype("string").str.strip()


def is_method(arrests: pd.DataFrame, method: str) -> pd.Series:
    """True where an arrest was made by `method` (`CAP Local Incarceration`, `287(g) Program`)."""
    return methods(arrests).eq(method).fillna(False).astype(bool)


def jail_categories(arrests: pd.DataFrame) -> pd.Series:
    """Each arrest as `CAP Local Incarceration`, `287(g) Program` or `All other`."""
    method = methods(arrests)
    return method.where(method.isin([LOCAL_JAIL, PROGRAM_287G]), OTHER).fillna(OTHER).astype(object)


def _by_method(arrests: pd.DataFrame, key: pd.Series, name: str) -> pd.DataFrame:
    """Per value of `key`: arrests, local-jail arrests and 287(g) arrests. `arrests`: counted."""
    records = arrests["records"].to_numpy()
    flags = pd.DataFrame({name: key, "arrests": records,
                          "local_jail": records * is_method(arrests, LOCAL_JAIL).to_numpy(),
                          "program_287g": records * is_method(arrests, PROGRAM_287G).to_numpy()})
    return flags.groupby(name)[["arrests", "local_jail", "program_287g"]].sum().astype("int64").reset_index()


def records_by_year(frame: pd.DataFrame) -> pd.DataFrame:
    """Records per fiscal year (records without one left out). `frame`: records, or counts
    with `fiscal_year` among their columns (see `metrics.detainers.counted`)."""
    return year_counts(counted(frame))


def year_counts(counts: pd.DataFrame) -> pd.DataFrame:
    """Records per fiscal year from a `Release.counts` frame that has `fiscal_year` among its
    columns (records without a fiscal year left out)."""
    placed = counts.dropna(subset=["fiscal_year"])
    summed = placed.groupby("fiscal_year")["records"].sum()
    return pd.DataFrame({"fiscal_year": summed.index.astype(int), "records": summed.to_numpy().astype("int64")})


def method_shares_by_year(arrests: pd.DataFrame) -> pd.DataFrame:
    """Per fiscal year: arrests, those in local jails (CAP Local Incarceration) and through
    287(g), and their shares of all arrests. `arrests`: records, or counts."""
    arrests = counted(arrests)
    table = _by_method(arrests, arrests["fiscal_year"], "fiscal_year")
    table["fiscal_year"] = table["fiscal_year"].astype(int)
    table["local_jail_share"] = table["local_jail"] / table["arrests"]
    table["program_287g_share"] = table["program_287g"] / table["arrests"]
    return table


def monthly_counts(frame: pd.DataFrame, date_column: str, categories: pd.Series) -> pd.DataFrame:
    """Records per calendar month (rows, first day of the month) and category (columns);
    records without a date are left out. `frame`: records, or counts (dates may be months)."""
    frame = counted(frame)
    months = pd.Series(pd.to_datetime(frame[date_column]).dt.to_period("M").dt.to_timestamp(), index=frame.index)
    table = _crosstab(months, pd.Series(categories.to_numpy(), index=frame.index), frame["records"])
    table.index = pd.DatetimeIndex(table.index, name="month")
    return table.reset_index()


def aor_labels(values: pd.Series) -> pd.Series:
    """Short AOR names for labels (`Seattle`), `Not recorded` for missing values."""
    return values.map(lambda v: NOT_RECORDED if pd.isna(v) or not str(v).strip() else short_aor(v)).astype(object)


def arrests_by_aor(arrests: pd.DataFrame) -> pd.DataFrame:
    """Per AOR: arrests, local-jail arrests, 287(g) arrests, local-jail share; by arrests, descending."""
    arrests = counted(arrests)
    table = _by_method(arrests, aor_labels(arrests["aor"]), "aor")
    table["local_jail_share"] = table["local_jail"] / table["arrests"]
    return table.sort_values(["arrests", "aor"], ascending=[False, True], kind="stable").reset_index(drop=True)


def unplaced(frame: pd.DataFrame) -> int:
    """Records without an AOR, or under a unit that is not a place (HQ). `frame`: records, or counts."""
    frame = counted(frame)
    labels = aor_labels(frame["aor"])
    return int(frame["records"][labels.isin([NOT_RECORDED, *NON_GEOGRAPHIC_AORS]).to_numpy()].sum())


def local_jail_arrests(arrests: pd.DataFrame) -> pd.DataFrame:
    return arrests[is_method(arrests, LOCAL_JAIL)]


def _per_aor(frame: pd.DataFrame) -> pd.Series:
    frame = counted(frame)
    return _tally(aor_labels(frame["aor"]), frame["records"])


def cooperation_by_aor(arrests: pd.DataFrame, detainers: pd.DataFrame) -> pd.DataFrame:
    """Per named AOR: local-jail arrests, detainers (any table with an `aor` column: detainer
    records, or encounters ending in a detainer), and local-jail arrests per detainer.
    Records without an AOR, or under a unit that is not a place (HQ), are left out. Each
    frame: records, or counts. Ties are ordered by AOR name."""
    jail_counts = _per_aor(local_jail_arrests(arrests)).rename("local_jail_arrests")
    detainer_counts = _per_aor(detainers).rename("detainers")
    table = pd.concat([jail_counts, detainer_counts], axis=1).fillna(0).astype(int)
    table = table.drop(index=[NOT_RECORDED, *NON_GEOGRAPHIC_AORS], errors="ignore")
    table.index.name = "aor"
    table["arrests_per_detainer"] = (table["local_jail_arrests"] / table["detainers"].where(table["detainers"] > 0))
    return table.sort_values(["detainers", "local_jail_arrests"], ascending=False, kind="stable").reset_index()


def hide_small_ratios(cooperation: pd.DataFrame, min_cell: int) -> pd.DataFrame:
    """Ratios computed from a small cell (0 < count < min_cell) set to missing: they would reveal it."""
    return words.hide_small(cooperation, "arrests_per_detainer", ["local_jail_arrests", "detainers"], min_cell)


def complete_years(by_year: pd.DataFrame, partial: Container[int]) -> pd.DataFrame:
    return by_year[~by_year["fiscal_year"].map(lambda fy: int(fy) in partial)]
