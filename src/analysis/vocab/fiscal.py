"""Fiscal years: 1 October to 30 September (FY2023 = 2022-10-01 .. 2023-09-30)."""

from __future__ import annotations

import datetime as dt

# A year whose records start or stop more than this far inside its bounds is partial.
PARTIAL_TOLERANCE_DAYS = 7


def fiscal_year_bounds(fy: int) -> tuple[dt.date, dt.date]:
    return dt.date(fy - 1, 10, 1), dt.date(fy, 9, 30)


def is_partial(fy: int, first: dt.date | str, last: dt.date | str) -> bool:
    """True when the records of `fy` do not reach (within a week) both ends of the year."""
    first_day = dt.date.fromisoformat(first) if isinstance(first, str) else first
    last_day = dt.date.fromisoformat(last) if isinstance(last, str) else last
    start, end = fiscal_year_bounds(fy)
    return (first_day - start).days > PARTIAL_TOLERANCE_DAYS or (end - last_day).days > PARTIAL_TOLERANCE_DAYS
