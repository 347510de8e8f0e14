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


def suppress(frame: pd.DataFrame, count_columns: Iterable[str], min_cell: int) -> pd.DataFrame:
    """`count_columns` as published text: thousands separators, small cells as `<min_cell`."""
    shown = frame.copy()
    for column in count_columns:
        values = shown[column]
        formatted = values.map(count).astype(object)
        if min_cell > 1:
            formatted[is_small(values, min_cell)] = small_label(min_cell)
        shown[column] = formatted
    return shown


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
