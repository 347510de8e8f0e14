"""Fiscal years: 1 October to 30 September (FY2023 = 2022-10-01 .. 2023-09-30)."""

from __future__ import annotations

import datetime as dt

# A year whose records start or stop more than this far inside its bounds is partial.
PARTIAL_TOLERANCE_DAYS = 7


def fiscal_year_bounds(fy: int) -> tuple[dt.date, dt.date]:
    return dt.date(fy - 1, 10, 1), dt.date(fy, 9, 30)


def fiscal_year_of(day: dt.date) -> int:
    return day.year + (1 if day.month >= 10 else 0)


def is_partial(fy: int, first: dt.date | str, last: dt.date | str) -> bool:
    """True when the records of `fy` do not reach (within a week) both ends of the year."""
    first_day = dt.date.fromisoformat(first) if isinstance(first, str) else first
    last_day = dt.date.fromisoformat(last) if isinstance(last, str) else last
    start, end = fiscal_year_bounds(fy)
    return (first_day - start).days > PARTIAL_TOLERANCE_DAYS or (end - last_day).days > PARTIAL_TOLERANCE_DAYS


def fy_label(fy: int | str, partial: bool = False) -> str:
    return f"FY{fy}" + (" (partial)" if partial else "")


def year_runs(years: list[int]) -> str:
    """`FY2016, FY2018–FY2020`: fiscal years, consecutive ones as ranges."""
    runs: list[list[int]] = []
    for fy in sorted(years):
        if runs and fy == runs[-1][-1] + 1:
            runs[-1].append(fy)
        else:
            runs.append([fy])
    return ", ".join(f"FY{r[0]}" if len(r) == 1 else f"FY{r[0]}–FY{r[-1]}" for r in runs)
