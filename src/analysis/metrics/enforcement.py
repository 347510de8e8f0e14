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
from analysis.vocab.geography import short_aor

LOCAL_JAIL = "CAP Local Incarceration"
PROGRAM_287G = "287(g) Program"
NOT_RECORDED = "Not recorded"
OTHER = "All other"
# AOR labels that are ICE units rather than places: left out where AORs are compared as places.
NON_GEOGRAPHIC_AORS = frozenset({"HQ"})


def top_with_other(values: pd.Series, top: int) -> pd.Series:
    """Each value, or `All other` if it is not among the `top` most frequent; missing values
    become `Not recorded` (and never count as a top value)."""
    stripped = values.astype("string").str.strip()
    labels = stripped.mask(stripped == "")
    counts = labels.value_counts()
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    kept = {name for name, _ in ranked[:top]}
    return labels.map(lambda v: NOT_RECORDED if pd.isna(v) else (v if v in kept else OTHER)).astype(object)


def ordered_categories(categories: pd.Series) -> list[str]:
    """Categories by descending count (ties by name), `All other` and `Not recorded` last."""
    counts = categories.value_counts()
    named = sorted((c for c in counts.index if c not in (OTHER, NOT_RECORDED)), key=lambda c: (-counts[c], c))
    return named + [c for c in (OTHER, NOT_RECORDED) if c in counts.index]


def counts_by_year(frame: pd.DataFrame, column: str, top: int) -> pd.DataFrame:
    """Records per fiscal year (rows) and category of `column` (top categories + other)."""
    categories = top_with_other(frame[column], top)
    table = pd.crosstab(frame["fiscal_year"], categories)
    table = table.reindex(columns=ordered_categories(categories), fill_value=0)
    table.columns.name = None
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
    """Per value of `key`: arrests, local-jail arrests and 287(g) arrests."""
    flags = pd.DataFrame({name: key, "local_jail": is_method(arrests, LOCAL_JAIL).astype(int),
                          "program_287g": is_method(arrests, PROGRAM_287G).astype(int)})
    return flags.groupby(name).agg(arrests=("local_jail", "size"), local_jail=("local_jail", "sum"),
                                   program_287g=("program_287g", "sum")).reset_index()


def records_by_year(frame: pd.DataFrame) -> pd.DataFrame:
    """Records per fiscal year."""
    counts = frame.groupby("fiscal_year").size().rename("records")
    return counts.reset_index()


def year_counts(counts: pd.DataFrame) -> pd.DataFrame:
    """Records per fiscal year from a `Release.counts` frame that has `fiscal_year` among its
    columns (records without a fiscal year left out, as `records_by_year` does)."""
    placed = counts.dropna(subset=["fiscal_year"])
    summed = placed.groupby("fiscal_year")["records"].sum()
    return pd.DataFrame({"fiscal_year": summed.index.astype(int), "records": summed.to_numpy().astype("int64")})


def method_shares_by_year(arrests: pd.DataFrame) -> pd.DataFrame:
    """Per fiscal year: arrests, those in local jails (CAP Local Incarceration) and through
    287(g), and their shares of all arrests."""
    table = _by_method(arrests, arrests["fiscal_year"], "fiscal_year")
    table["local_jail_share"] = table["local_jail"] / table["arrests"]
    table["program_287g_share"] = table["program_287g"] / table["arrests"]
    return table


def monthly_counts(frame: pd.DataFrame, date_column: str, categories: pd.Series) -> pd.DataFrame:
    """Records per calendar month (rows, first day of the month) and category (columns);
    records without a date are left out."""
    dates = pd.to_datetime(frame[date_column])
    months = dates.dt.to_period("M").dt.to_timestamp()
    table = pd.crosstab(months[dates.notna()], categories[dates.notna()])  # type: ignore[call-overload]  # stubs lack bool masks
    table = table.reindex(columns=ordered_categories(categories[dates.notna()]), fill_value=0)
    table.index.name = "month"
    table.columns.name = None
    return table.reset_index()


def aor_labels(values: pd.Series) -> pd.Series:
    """Short AOR names for labels (`Seattle`), `Not recorded` for missing values."""
    return values.map(lambda v: NOT_RECORDED if pd.isna(v) or not str(v).strip() else short_aor(v)).astype(object)


def arrests_by_aor(arrests: pd.DataFrame) -> pd.DataFrame:
    """Per AOR: arrests, local-jail arrests, 287(g) arrests, local-jail share; by arrests, descending."""
    table = _by_method(arrests, aor_labels(arrests["aor"]), "aor")
    table["local_jail_share"] = table["local_jail"] / table["arrests"]
    return table.sort_values(["arrests", "aor"], ascending=[False, True], kind="stable").reset_index(drop=True)


def unplaced(frame: pd.DataFrame) -> int:
    """Records without an AOR, or under a unit that is not a place (HQ)."""
    labels = aor_labels(frame["aor"])
    return int(labels.isin([NOT_RECORDED, *NON_GEOGRAPHIC_AORS]).sum())


def local_jail_arrests(arrests: pd.DataFrame) -> pd.DataFrame:
    return arrests[is_method(arrests, LOCAL_JAIL)]


def cooperation_by_aor(arrests: pd.DataFrame, detainers: pd.DataFrame) -> pd.DataFrame:
    """Per named AOR: local-jail arrests, detainers (any table with an `aor` column: detainer
    records, or encounters ending in a detainer), and local-jail arrests per detainer.
    Records without an AOR, or under a unit that is not a place (HQ), are left out."""
    jail_counts = aor_labels(local_jail_arrests(arrests)["aor"]).value_counts().rename("local_jail_arrests")
    detainer_counts = aor_labels(detainers["aor"]).value_counts().rename("detainers")
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
