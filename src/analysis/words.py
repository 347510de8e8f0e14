"""Every way the package writes a value in words: counts (with `<N` for small cells), shares,
fiscal-year labels and ranges, lists, places, and the small-cell mask of published tables.

A number means the same wherever it appears (a table cell, a figure label, a sentence), so
each is written by one function here. Nothing here reads data or knows about notebooks.
"""

from __future__ import annotations

from collections.abc import Container, Iterable, Sequence

import pandas as pd

from analysis.vocab.geography import STATES

DASH = "–"  # a value that is missing or cannot be computed


def _missing(value: float | None) -> bool:
    return value is None or bool(pd.isna(value))


# ---------------------------------------------------------------- small cells


def is_small(value, min_cell: int):
    """True for a small cell: more than zero and fewer than `min_cell` (a number or a Series)."""
    return (value > 0) & (value < min_cell)


def small_label(min_cell: int) -> str:
    """What a small cell shows instead of its count."""
    return f"<{min_cell:,}"


WITHHELD = "x"  # a cell withheld so that a small cell cannot be recomputed from a total (complementary)


def suppress(frame: pd.DataFrame, count_columns: Iterable[str], min_cell: int,
             withheld: pd.DataFrame | None = None) -> pd.DataFrame:
    """`count_columns` as published text: thousands separators, small cells as `<min_cell`,
    and the cells `withheld` marks True (see `complementary`) as `x`."""
    shown = frame.copy()
    for column in count_columns:
        values = shown[column]
        formatted = values.map(count).astype(object)
        if min_cell > 1:
            small = is_small(values, min_cell).fillna(False).astype(bool)
            if withheld is not None and column in withheld:
                formatted[withheld[column] & ~small] = WITHHELD
            formatted[small] = small_label(min_cell)
        shown[column] = formatted
    return shown


Cell = tuple[object, str]  # (row label, column name)


def complementary(frame: pd.DataFrame, count_columns: Sequence[str], min_cell: int, *,
                  total_column: str | None = None, total_row: object = None) -> pd.DataFrame:
    """Which cells of `count_columns` to withhold (True) so that no small cell can be derived
    from a total shown: `total_column` holds each row's sum of the other count columns,
    `total_row` (an index label) each column's sum of the other rows.

    Each row (and column) with its total is one sum. A sum with exactly one hidden cell gives
    that cell away (total minus the cells shown), so the smallest other non-zero cell shown is
    withheld as well, or the total when there is none; this repeats until every sum hides none
    or at least two cells (a withheld cell can leave a crossing sum with one hidden cell)."""
    values = frame[list(count_columns)].astype(float).fillna(0)
    hidden = is_small(values, min_cell) if min_cell > 1 else pd.DataFrame(False, values.index, values.columns)
    sums: list[tuple[list[Cell], Cell]] = []
    if total_column is not None:
        parts = [c for c in count_columns if c != total_column]
        sums += [([(row, c) for c in parts], (row, total_column)) for row in values.index]
    if total_row is not None:
        rows = [r for r in values.index if r != total_row]
        sums += [([(r, column) for r in rows], (total_row, column)) for column in count_columns]
    changed = True
    while changed:
        changed = False
        for parts_of_sum, total in sums:
            if sum(bool(hidden.at[cell]) for cell in [*parts_of_sum, total]) == 1:
                cell = _complement(values, hidden, parts_of_sum, total)
                if cell is not None:
                    hidden.at[cell] = changed = True
    return hidden


def _complement(values: pd.DataFrame, hidden: pd.DataFrame, parts: list[Cell], total: Cell) -> Cell | None:
    """The cell to withhold beside a sum's one hidden cell: the smallest non-zero part shown (the
    first of a tie), else the total, else the smallest part shown; None when all are hidden."""
    size = {cell: float(values.at[cell]) for cell in parts if not hidden.at[cell]}  # type: ignore[arg-type]  # floats
    non_zero = [cell for cell, value in size.items() if value > 0]
    if non_zero:
        return min(non_zero, key=size.__getitem__)
    if not hidden.at[total]:
        return total
    return min(size, key=size.__getitem__) if size else None


def hide_small(frame: pd.DataFrame, column: str, counts: Iterable[str], min_cell: int) -> pd.DataFrame:
    """`column` (a ratio, share or change) set to missing where any of `counts` is a small
    cell: shown beside a suppressed count, it would give the count away. A missing count
    (a year one release lacks) cannot be shown to be large, so it hides the value too."""
    hidden = frame.copy()
    small = pd.Series(False, index=hidden.index)
    for name in counts:
        small = small | is_small(hidden[name], min_cell)
    hidden[column] = hidden[column].mask(small)
    return hidden


# ---------------------------------------------------------------- numbers


def count(value: float | int | None, min_cell: int = 1) -> str:
    """A count as published: thousands separators, and `<min_cell` for a small cell, in
    tables, figure labels and prose alike."""
    if _missing(value):
        return DASH
    number = int(round(float(value)))  # type: ignore[arg-type]  # not None: checked above
    return small_label(min_cell) if is_small(number, min_cell) else f"{number:,}"


def count_in_prose(value: int | float, min_cell: int = 1) -> str:
    """A count (or the size of a change) for a sentence: `fewer than N` for a small cell."""
    if is_small(abs(value), min_cell):
        return f"fewer than {min_cell}"
    return count(abs(value)) if value < 0 else count(value)


def signed(value: int) -> str:
    """A change with its sign: `+1,204`, `-36`, `0`."""
    return f"{value:+,}" if value else "0"


def number(value: float | None) -> str:
    """A whole number of something that is not a count of records (days): `1,204`."""
    return DASH if _missing(value) else f"{value:,.0f}"


def percent(value: float | None, digits: int = 1) -> str:
    """A share as a percentage, rounded as written: `12.3%`."""
    if _missing(value):
        return DASH
    return f"{100 * value:.{digits}f}%"  # type: ignore[operator]  # not None: checked above


def share(value: float | None, digits: int = 0) -> str:
    """A share as a percentage; one that would round to zero but is not zero is `<1%` (`<0.1%`)."""
    if not _missing(value) and 0 < value and round(100 * value, digits) == 0:  # type: ignore[operator]
        return f"<{10 ** -digits:g}%"
    return percent(value, digits)


def percent_of(part: float, whole: float) -> str:
    """`part` as a percentage of `whole`, one decimal: `4.2%` (`–` when whole is zero)."""
    return f"{100 * part / whole:.1f}%" if whole else DASH


def capital(text: str) -> str:
    """`text` with its first letter capitalised and the rest as written (`Encounters ending in a detainer`)."""
    return text[:1].upper() + text[1:]


def plural(n: int, word: str, many: str | None = None) -> str:
    """`word` or its plural, as `n` asks: `1 file`, `3 files` (the number is not written)."""
    return word if n == 1 else (many or f"{word}s")


# ---------------------------------------------------------------- fiscal years


def fy_label(fy: int | str, partial: bool = False) -> str:
    """`FY2024`, `FY2025 (partial)`: a partial year is named as such wherever a year is shown."""
    return f"FY{fy}" + (" (partial)" if partial else "")


def fy_labels(years: Iterable[int], partial: Container[int]) -> list[str]:
    """`fy_label` of each year, partial where `partial` holds it."""
    return [fy_label(int(fy), int(fy) in partial) for fy in years]


def fy_span(labels: Sequence[str]) -> str:
    """The years a section covers, from its first and last labels: `FY2021 to FY2025 (partial)`."""
    return f"{labels[0]} to {labels[-1]}" if len(labels) > 1 else labels[0]


def fy_range(years: Sequence[int] | Sequence[str], empty: str = DASH) -> str:
    """First and last of sorted `years` for a table cell: `FY2016–FY2017`, `FY2016`."""
    if not years:
        return empty
    return f"FY{years[0]}–FY{years[-1]}" if len(years) > 1 else f"FY{years[0]}"


def fy_bounds(first: int | None, last: int | None) -> str:
    """A fiscal-year filter with open ends: `FY2021 to FY…`."""
    return f"FY{first or '…'} to FY{last or '…'}"


def fy_list(years: Iterable[int]) -> str:
    """`FY2016`, `FY2016 and FY2017`, `FY2016, FY2017 and FY2018`."""
    return and_list([f"FY{fy}" for fy in years])


# ---------------------------------------------------------------- lists


def and_list(items: Sequence[str]) -> str:
    """`a`, `a and b`, `a, b and c`."""
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def limited_list(items: Sequence[str], limit: int = 4) -> str:
    """The first `limit` items and how many more: `a, b, c, d and 3 more`."""
    more = f" and {len(items) - limit} more" if len(items) > limit else ""
    return ", ".join(items[:limit]) + more


def fy_runs(years: Iterable[int]) -> str:
    """`FY2016, FY2018–FY2020`: fiscal years, consecutive ones as ranges."""
    runs: list[list[int]] = []
    for fy in sorted(years):
        if runs and fy == runs[-1][-1] + 1:
            runs[-1].append(fy)
        else:
            runs.append([fy])
    return ", ".join(fy_range(run) for run in runs)


# ---------------------------------------------------------------- places


def partial_months(first: pd.Timestamp | None, last: pd.Timestamp | None) -> str:
    """Why monthly charts leave out the first or last month: `September 2019 is left out: the
    records end on 1 September 2019.` ('' when neither is given)."""
    reasons = [(first, "start"), (last, "end")]
    return " ".join(f"{day:%B %Y} is left out: the records {verb} on {day.day} {day:%B %Y}."
                    for day, verb in reasons if day is not None)


def with_note(caption: str, note: str) -> str:
    """`caption` followed by the sentence `note`, when there is one."""
    return f"{caption}. {note}" if note else caption


def geography(state: str | None, aor: str | None, facility: str | None = None) -> str:
    """What a report covers, as its title page says: `California (CA)`, `Seattle area of
    responsibility`, `United States (all states)`, `facility SCCMJ`."""
    if facility:
        return f"facility {facility}"
    if state:
        return f"{STATES[state][0]} ({state})"
    if aor:
        return f"{aor} area of responsibility"
    return "United States (all states)"


def in_geography(state: str | None, aor: str | None, facility: str | None = None) -> str:
    """`geography` as it reads after "in": `the Seattle area of responsibility`."""
    return f"the {geography(state, aor)}" if aor and not facility else geography(state, aor, facility)


def place(state: str | None, aor: str | None, facility: str | None = None) -> str:
    """The report's geography as a place name after "in": `the United States`, `California`,
    `the Seattle area of responsibility`, `facility SCCMJ`."""
    if facility:
        return geography(state, aor, facility)
    if state:
        return STATES[state][0]
    if aor:
        return f"the {aor} area of responsibility"
    return "the United States"
