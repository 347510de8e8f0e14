"""One call of every chart function, on small aggregates, for tests that look at every chart
(alt text, palette). Each case returns the finished Figure and the title it was given."""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd
from matplotlib.figure import Figure

from analysis.figures import categories, charts
from analysis.release import PartialYears

SOURCE = "ICE release test, table detainers (SYNTHETIC)"
YEARS = [2021, 2022, 2023]
PARTIAL = PartialYears({2023})
MONTHS = pd.date_range("2021-10-01", periods=8, freq="MS")


def tile_map() -> tuple[Figure, str]:
    title = "Texas received the most detainers"
    return charts.tile_map({"TX": 1234, "CA": 987, "WA": 3}, title=title, subtitle="Detainers by state",
                           legend_label="Detainers (number)", source=SOURCE), title


def monthly_series() -> tuple[Figure, str]:
    title = "Detainers peaked in March 2022"
    monthly = pd.DataFrame({"month": MONTHS, "count": [120, 130, 150, 210, 180, 175, 160, 90]})
    return charts.monthly_series(monthly, title=title, subtitle="Per month", y_label="Detainers per month",
                                 source=SOURCE, series_label="detainers", partial=PartialYears({2022})), title


def fiscal_year_bars() -> tuple[Figure, str]:
    title = "Declines were highest in FY2022"
    return charts.fiscal_year_bars(YEARS, {"strict": [40, 52, 3], "broad": [60, 71, 9]}, PARTIAL, title=title,
                                   subtitle="Declined detainers", y_label="Declined detainers", source=SOURCE,
                                   min_cell=5), title


def stacked_shares() -> tuple[Figure, str]:
    title = "Convicted criminals were half of detainers"
    shares = pd.DataFrame({"Convicted criminal": [0.5, 0.52, 0.49], "Pending charges": [0.3, 0.28, 0.31],
                           "Other immigration violator": [0.2, 0.2, 0.2]}, index=[2021, 2022, 2023])
    return charts.stacked_shares(shares, PARTIAL, title=title, subtitle="Shares", source=SOURCE), title


def ranked_bars() -> tuple[Figure, str]:
    title = "Atlanta had the most detainers"
    return charts.ranked_bars(["Atlanta", "Chicago", "Miami", "Not recorded", "Seattle"], [812, 640, 433, 70, 2],
                              title=title, subtitle="By AOR", x_label="Detainers", source=SOURCE, min_cell=5,
                              muted=["Not recorded"]), title


def box_by_group() -> tuple[Figure, str]:
    title = "Declined detainers were lifted sooner"
    groups = {"Booked": [3.0, 10, 17, 30, 45, 90], "Declined": [1.0, 4, 9, 16, 20]}
    return charts.box_by_group(groups, title=title, subtitle="Days", x_label="Days from prepare date to lift date",
                               source=SOURCE), title


def stacked_year_bars() -> tuple[Figure, str]:
    title = "Arrests rose 11% from FY2021 to FY2022"
    table = pd.DataFrame({"fiscal_year": [2021, 2022, 2023], "CAP Local Incarceration": [500, 560, 90],
                          "Located": [200, 220, 40], "All other": [100, 110, 20]})
    return categories.stacked_year_bars(table, ["CAP Local Incarceration", "Located", "All other"],
                                        PartialYears({2023}), title=title, subtitle="Arrests", y_label="Arrests",
                                        source=SOURCE), title


def monthly_lines() -> tuple[Figure, str]:
    title = "Local jails made half of arrests"
    table = pd.DataFrame({"month": MONTHS, "CAP Local Incarceration": [50, 55, 60, 58, 57, 61, 66, 30],
                          "287(g) Program": [5, 6, 7, 8, 9, 10, 11, 4],
                          "All other methods": [40, 41, 39, 38, 42, 43, 44, 20]})
    return categories.monthly_lines(table, ["CAP Local Incarceration", "287(g) Program", "All other methods"],
                                    PartialYears(), title=title, subtitle="Per month", y_label="Arrests per month",
                                    source=SOURCE), title


def horizontal_bars() -> tuple[Figure, str]:
    title = "Atlanta recorded the most arrests (800)"
    return categories.horizontal_bars(
        ["Atlanta", "Chicago", "Miami", "Seattle"],
        {"In local jails": [450, 300, 200, 100], "Through 287(g)": [50, 40, 30, 20], "All other methods": [300, 360, 420, 9]},
        title=title, subtitle="By AOR", x_label="Arrests", source=SOURCE), title


def paired_bars() -> tuple[Figure, str]:
    title = "Local-jail arrests per detainer ranged from 0.30 to 0.50"
    return categories.paired_bars(["Los Angeles", "San Francisco", "Buffalo", "Seattle"],
                                  [251, 284, 109, 50], [827, 888, 295, 100], ("Arrests", "Detainers"),
                                  ["0.30", "0.32", "0.37", "0.50"], title=title, subtitle="Pairs", x_label="Records",
                                  source=SOURCE), title


def cumulative_share_lines() -> tuple[Figure, str]:
    title = "26% of people with a declined detainer got another within a year"
    shares = pd.DataFrame({"group": ["declined"] * 2 + ["honoured"] * 2, "days": [30, 365, 30, 365],
                           "share": [0.02, 0.26, 0.03, 0.24]})
    return categories.cumulative_share_lines(shares, {"declined": "Declined", "honoured": "Honoured"},
                                             title=title, subtitle="Within days", source=SOURCE), title


CHARTS: dict[str, Callable[[], tuple[Figure, str]]] = {
    case.__name__: case for case in (tile_map, monthly_series, fiscal_year_bars, stacked_shares, ranked_bars,
                                     box_by_group, stacked_year_bars, monthly_lines, horizontal_bars, paired_bars,
                                     cumulative_share_lines)
}
