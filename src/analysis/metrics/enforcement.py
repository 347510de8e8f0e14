"""Enforcement context: arrests by apprehension method and area of responsibility (AOR),
encounters by processing disposition, removals by fiscal year, and local-jail arrests set
beside detainers per AOR.

Method and disposition labels are ICE's own (see ../shared/DOMAIN.md); they were recoded over
time, so a label that appears or vanishes between years may be a relabelling, not a change.
"""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

from analysis.metrics.overview import partial_years
from analysis.report.context import format_count
from analysis.vocab.geography import STATES, short_aor

LOCAL_JAIL = "CAP Local Incarceration"
PROGRAM_287G = "287(g) Program"
DETAINER_DISPOSITION = "Detainer"
NOT_RECORDED = "Not recorded"
OTHER = "All other"
# AOR labels that are ICE units rather than places: left out where AORs are compared as places.
NON_GEOGRAPHIC_AORS = frozenset({"HQ"})


def part_skip_reason(ctx, table: str, what: str) -> str | None:
    """The one sentence saying why a part about `table` is not shown, or None if it can be:
    the table is absent, or it cannot be limited to the report's geography (never shown
    for the whole country instead)."""
    if not ctx.has(table):
        return f"This release has no {table} table, so {what} is not shown."
    if not ctx.can_filter(table):
        column = ctx.geography_filter_column(table)
        return (f"The {table} table has no {column} column, so {what} cannot be limited to "
                f"{ctx.params.geography} and is not shown.")
    return None


def partial_by_year(manifest: dict, table: str, years: Iterable[int] | None = None) -> dict[int, bool]:
    """Fiscal year (of `years`, if given) -> whether the table's records cover only part of it."""
    shown = None if years is None else {int(fy) for fy in years}
    return {int(fy): flag for fy, flag in partial_years(manifest, table).items() if shown is None or int(fy) in shown}


def removals_basis(dated_by: str | None, has_aor: bool) -> str:
    """How the removals are counted, for the sentence after their total: by the fiscal year of
    the removal date, or of the date that stands in for it (`departed_date`), and by AOR."""
    if dated_by in (None, "removal_date"):
        when = "the fiscal year of removal"
    else:
        when = f"the fiscal year of their {dated_by.replace('_', ' ')} (the release has no removal date)"
    if has_aor:
        return f"counted by {when} and the area of responsibility ICE recorded."
    return f"counted by {when}; the table records no area of responsibility."


def place(params) -> str:
    """The report's geography as it reads after "in": `the United States`, `California`,
    `the Seattle area of responsibility`."""
    if params.state:
        return STATES[params.state][0]
    if params.aor:
        return f"the {params.aor} area of responsibility"
    return "the United States"


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


def jail_categories(arrests: pd.DataFrame) -> pd.Series:
    """Each arrest as `CAP Local Incarceration`, `287(g) Program` or `All other`."""
    method = arrests["apprehension_method"].astype("string").str.strip()
    return method.where(method.isin([LOCAL_JAIL, PROGRAM_287G]), OTHER).fillna(OTHER).astype(object)


def records_by_year(frame: pd.DataFrame) -> pd.DataFrame:
    """Records per fiscal year."""
    counts = frame.groupby("fiscal_year").size().rename("records")
    return counts.reset_index()


def method_shares_by_year(arrests: pd.DataFrame) -> pd.DataFrame:
    """Per fiscal year: arrests, those in local jails (CAP Local Incarceration) and through
    287(g), and their shares of all arrests."""
    method = arrests["apprehension_method"].astype("string").str.strip()
    flags = pd.DataFrame({"fiscal_year": arrests["fiscal_year"],
                          "local_jail": method.eq(LOCAL_JAIL).fillna(False).astype(int),
                          "program_287g": method.eq(PROGRAM_287G).fillna(False).astype(int)})
    table = flags.groupby("fiscal_year").agg(arrests=("local_jail", "size"), local_jail=("local_jail", "sum"),
                                             program_287g=("program_287g", "sum")).reset_index()
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
    method = arrests["apprehension_method"].astype("string").str.strip()
    flags = pd.DataFrame({"aor": aor_labels(arrests["aor"]),
                          "local_jail": method.eq(LOCAL_JAIL).fillna(False).astype(int),
                          "program_287g": method.eq(PROGRAM_287G).fillna(False).astype(int)})
    table = flags.groupby("aor").agg(arrests=("local_jail", "size"), local_jail=("local_jail", "sum"),
                                     program_287g=("program_287g", "sum")).reset_index()
    table["local_jail_share"] = table["local_jail"] / table["arrests"]
    return table.sort_values(["arrests", "aor"], ascending=[False, True], kind="stable").reset_index(drop=True)


def detainer_encounters(encounters: pd.DataFrame) -> pd.DataFrame:
    """Encounters whose processing disposition is `Detainer`."""
    disposition = encounters["processing_disposition"].astype("string").str.strip()
    return encounters[disposition.eq(DETAINER_DISPOSITION).fillna(False)]


def detainer_measure(ctx) -> tuple[str, str, str] | None:
    """Which records count detainers per AOR: the detainers table if the release has one with
    an `aor` column, else encounters ending in a detainer. (table, plural label, singular
    label) or None."""
    if ctx.has("detainers", ["aor"]):
        return "detainers", "detainers", "detainer"
    if ctx.has("encounters", ["aor", "processing_disposition"]):
        return "encounters", "encounters ending in a detainer", "encounter ending in a detainer"
    return None


def unplaced(frame: pd.DataFrame) -> int:
    """Records without an AOR, or under a unit that is not a place (HQ)."""
    labels = aor_labels(frame["aor"])
    return int(labels.isin([NOT_RECORDED, *NON_GEOGRAPHIC_AORS]).sum())


def local_jail_arrests(arrests: pd.DataFrame) -> pd.DataFrame:
    return arrests[arrests["apprehension_method"].astype("string").str.strip().eq(LOCAL_JAIL).fillna(False)]


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
    small = lambda n: (n > 0) & (n < min_cell)  # noqa: E731 - local shorthand
    hidden = cooperation.copy()
    hidden.loc[small(hidden["local_jail_arrests"]) | small(hidden["detainers"]), "arrests_per_detainer"] = float("nan")
    return hidden


def complete_years(by_year: pd.DataFrame, partial: dict[int, bool]) -> pd.DataFrame:
    return by_year[~by_year["fiscal_year"].map(lambda fy: partial.get(int(fy), False))]


def change_finding(by_year: pd.DataFrame, count_column: str, noun: str, partial: dict[int, bool],
                   min_cell: int = 1) -> str:
    """A title sentence: the change between the last two complete fiscal years, or the total
    of the one complete year (or of all years, when every year is partial)."""
    complete = complete_years(by_year, partial)
    if len(complete) >= 2:
        (fy0, n0), (fy1, n1) = complete[["fiscal_year", count_column]].tail(2).itertuples(index=False, name=None)
        verb = "rose" if n1 > n0 else ("fell" if n1 < n0 else "held steady")
        amount = f" {abs(n1 - n0) / n0:.0%}" if n1 != n0 and n0 >= min_cell and n1 >= min_cell else ""
        return (f"{noun.capitalize()} {verb}{amount} from FY{fy0} to FY{fy1} "
                f"({format_count(n0, min_cell)} to {format_count(n1, min_cell)})")
    if len(complete) == 1:
        fy, n = (int(v) for v in complete[["fiscal_year", count_column]].iloc[0])
        return f"{format_count(n, min_cell)} {noun} in FY{fy}, the only complete fiscal year shown"
    return f"{format_count(int(by_year[count_column].sum()), min_cell)} {noun} in the partial fiscal years shown"


def jail_share_finding(shares: pd.DataFrame, partial: dict[int, bool]) -> str:
    """The local-jail and 287(g) shares of arrests: first and last complete fiscal years (all
    years together when fewer than two are complete)."""
    complete = complete_years(shares, partial)
    if len(complete) >= 2:
        first, last = complete.iloc[0], complete.iloc[-1]
        g_first, g_last = f"{first['program_287g_share']:.0%}", f"{last['program_287g_share']:.0%}"
        return (f"Local jails made {first['local_jail_share']:.0%} of arrests in FY{int(first['fiscal_year'])} and "
                f"{last['local_jail_share']:.0%} in FY{int(last['fiscal_year'])}; 287(g) "
                + (f"{g_first} in both" if g_first == g_last else f"{g_first} and {g_last}"))
    total = shares["arrests"].sum()
    return (f"Local jails made {shares['local_jail'].sum() / total:.0%} of arrests; "
            f"287(g) {shares['program_287g'].sum() / total:.0%}")


def disposition_finding(dispositions: pd.Series) -> str:
    """The most frequent disposition's share of encounters, and the share ending in a detainer."""
    stripped = dispositions.astype("string").str.strip()
    labels = stripped.mask(stripped == "")
    counts = labels.value_counts()
    top, top_count = sorted(counts.items(), key=lambda kv: (-kv[1], str(kv[0])))[0]
    finding = f"{top_count / len(labels):.0%} of encounters ended in '{top}'"
    if top != DETAINER_DISPOSITION:
        finding += f", {counts.get(DETAINER_DISPOSITION, 0) / len(labels):.0%} in a detainer"
    return finding


def busiest_aor_finding(by_aor: pd.DataFrame, min_cell: int = 1) -> str:
    """`Houston recorded the most arrests (26,461), 30% of them in local jails`."""
    named = by_aor[by_aor["aor"] != NOT_RECORDED]
    top = named.iloc[0]
    return (f"{top['aor']} recorded the most arrests ({format_count(top['arrests'], min_cell)}), "
            f"{top['local_jail_share']:.0%} of them in local jails")


def ratio_range_finding(cooperation: pd.DataFrame, measure: str) -> str | None:
    """`Local-jail arrests per detainer ranged from 0.2 (Miami) to 1.4 (Dallas)`, over AORs
    with at least one detainer; None when fewer than two such AORs."""
    rated = cooperation.dropna(subset=["arrests_per_detainer"]).sort_values(["arrests_per_detainer", "aor"])
    if len(rated) < 2:
        return None
    low, high = rated.iloc[0], rated.iloc[-1]
    return (f"Local-jail arrests per {measure} ranged from {low['arrests_per_detainer']:.2f} ({low['aor']}) "
            f"to {high['arrests_per_detainer']:.2f} ({high['aor']})")
