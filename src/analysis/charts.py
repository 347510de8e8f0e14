"""Figures shared by notebooks, in the house style of figures.py: a tile-grid map of the states,
a monthly series, bars by fiscal year, stacked shares by fiscal year, ranked bars, and a box
plot of durations.

Each function takes aggregates (never records) and the texts the figure must carry (a title
stating the finding, axis labels with units, the source line) and returns a matplotlib Figure
for `ReportContext.show_figure`. Counts below the report's `min_cell` are labelled `<min_cell`.
"""

from __future__ import annotations

import textwrap
from collections.abc import Mapping, Sequence

import matplotlib.dates as mdates
import numpy as np
import pandas as pd
from matplotlib import colormaps
from matplotlib.colors import Normalize
from matplotlib.figure import Figure
from matplotlib.patches import Patch, Rectangle
from matplotlib.ticker import FuncFormatter

from .figures import MUTED, PALETTE, PARTIAL_HATCH, add_source, label_axes, new_figure, percent, thousands
from .fiscal import fiscal_year_bounds
from .geography import STATES

MAP_COLORMAP = "Blues"  # sequential, single hue: readable with colour-vision deficiencies and in grey
PARTIAL_NOTE = "hatched: partial fiscal year"


def count_text(value: float | int | None, min_cell: int = 1) -> str:
    """A count for a label: thousands separators, `<min_cell` for small non-zero counts."""
    if value is None or pd.isna(value):
        return "–"
    number = int(round(float(value)))
    if 0 < number < min_cell:
        return f"<{min_cell}"
    return f"{number:,}"


def share_text(value: float | None, digits: int = 0) -> str:
    if value is None or pd.isna(value):
        return "–"
    return f"{100 * value:.{digits}f}%"


def _wrap(label: str, width: int) -> str:
    return "\n".join(textwrap.wrap(str(label), width)) or str(label)


# ---------------------------------------------------------------- tile-grid map


def tile_map(values: Mapping[str, float], *, title: str, subtitle: str, legend_label: str, source: str,
             labels: Mapping[str, str] | None = None, value_format: str = "count", note: str | None = None) -> Figure:
    """The 50 states and DC as equal tiles on geography.STATES' grid, shaded by `values`
    (states absent from `values` in grey, labelled `–`). `labels` overrides the text under each
    state code (for suppressed small counts)."""
    fig, ax = new_figure(title, width=7.0, height=5.0, subtitle=subtitle)
    ax.grid(False)
    ax.set_axis_off()
    shown = [float(v) for code, v in values.items() if code in STATES and not pd.isna(v)]
    norm = Normalize(vmin=0, vmax=max(shown) if shown and max(shown) > 0 else 1)
    cmap = colormaps[MAP_COLORMAP]
    fmt = share_text if value_format == "share" else count_text
    for code, (_name, _aors, col, row) in STATES.items():
        value = values.get(code)
        missing = value is None or pd.isna(value)
        colour = "#EEEEEE" if missing else cmap(0.08 + 0.92 * norm(float(value)))
        ax.add_patch(Rectangle((col, -row), 0.92, 0.92, facecolor=colour, edgecolor="white", linewidth=1))
        dark = not missing and norm(float(value)) > 0.55
        ink = "white" if dark else "#222222"
        text = labels.get(code) if labels and code in labels else ("–" if missing else fmt(value))
        ax.text(col + 0.46, -row + 0.6, code, ha="center", va="center", fontsize=8, fontweight="bold", color=ink)
        ax.text(col + 0.46, -row + 0.28, text, ha="center", va="center", fontsize=6.5, color=ink)
    columns = max(col for *_, col, _row in STATES.values()) + 1
    rows = max(row for *_, row in STATES.values()) + 1
    ax.set_xlim(-0.1, columns + 0.1)
    ax.set_ylim(-rows + 0.8, 1.05)
    ax.set_aspect("equal")
    bar = fig.colorbar(cmap_mappable(cmap, norm), ax=ax, orientation="horizontal", fraction=0.04, pad=0.02,
                       shrink=0.5, aspect=30)
    bar.set_label(legend_label, fontsize=8)
    bar.ax.xaxis.set_major_formatter(FuncFormatter(percent if value_format == "share" else thousands))
    bar.ax.tick_params(labelsize=7)
    bar.outline.set_visible(False)
    add_source(fig, source, note)
    return fig


def cmap_mappable(cmap, norm: Normalize):
    from matplotlib.cm import ScalarMappable

    mappable = ScalarMappable(norm=norm, cmap=cmap)
    mappable.set_array([])
    return mappable


# ---------------------------------------------------------------- time


def monthly_series(monthly: pd.DataFrame, *, title: str, subtitle: str, y_label: str, source: str,
                   partial_years: Sequence[int] = (), note: str | None = None) -> Figure:
    """Counts per month (`month`, `count` of detainer_metrics.monthly_counts) as a line; months
    in partial fiscal years are shaded and hatched, and the legend says so."""
    fig, ax = new_figure(title, width=7.0, height=3.4, subtitle=subtitle)
    months = pd.to_datetime(monthly["month"])
    ax.plot(months, monthly["count"], color=PALETTE[0], linewidth=1.6, marker="o", markersize=2.5,
            label="records per month")
    for fy in sorted(set(partial_years)):
        start, end = fiscal_year_bounds(int(fy))
        first = max(pd.Timestamp(start), months.min()) - pd.Timedelta(days=15)
        last = min(pd.Timestamp(end), months.max()) + pd.Timedelta(days=15)
        ax.axvspan(first, last, facecolor="none", edgecolor=MUTED, hatch=PARTIAL_HATCH, linewidth=0, alpha=0.35,
                   label=f"FY{fy} (partial year)")
    ax.set_ylim(bottom=0)
    ax.xaxis.set_major_locator(mdates.MonthLocator(bymonth=10))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _p: f"Oct {mdates.num2date(v).year}"))
    ax.xaxis.set_minor_locator(mdates.MonthLocator())
    label_axes(ax, x="Month (ticks at the start of each fiscal year)", y=y_label)
    ax.legend(loc="lower left", fontsize=8)
    add_source(fig, source, note)
    return fig


def fiscal_year_bars(labels: Sequence[str], series: Mapping[str, Sequence[float]], partial: Sequence[bool], *,
                     title: str, subtitle: str, y_label: str, source: str, min_cell: int = 1,
                     note: str | None = None) -> Figure:
    """One bar per fiscal year for each series (side by side), value labels on top, partial years hatched."""
    fig, ax = new_figure(title, width=7.0, height=3.6, subtitle=subtitle)
    count = max(len(series), 1)
    width = 0.8 / count
    positions = np.arange(len(labels))
    for i, (name, values) in enumerate(series.items()):
        offsets = positions + (i - (count - 1) / 2) * width
        bars = ax.bar(offsets, list(values), width=width, color=PALETTE[i % len(PALETTE)], label=name)
        for bar, value in zip(bars, values):
            ax.annotate(count_text(value, min_cell), (bar.get_x() + bar.get_width() / 2, bar.get_height()),
                        xytext=(0, 2), textcoords="offset points", ha="center", va="bottom", fontsize=7)
        _hatch(bars, partial)
    ax.set_xticks(positions)
    ax.set_xticklabels([label.replace(" (partial)", "\n(partial)") for label in labels])
    ax.margins(y=0.15)
    label_axes(ax, x="Fiscal year (1 October to 30 September)", y=y_label)
    _legend_with_partial(ax, partial, show_series=count > 1)
    add_source(fig, source, note)
    return fig


def stacked_shares(shares: pd.DataFrame, labels: Sequence[str], partial: Sequence[bool], *, title: str,
                   subtitle: str, source: str, note: str | None = None, label_width: int = 38) -> Figure:
    """100% stacked bars: one per fiscal year (rows of `shares`), categories as columns in
    order; shares of 5% or more are written on the bar; partial years hatched."""
    fig, ax = new_figure(title, width=7.0, height=4.0, subtitle=subtitle)
    positions = np.arange(len(shares))
    bottom = np.zeros(len(shares))
    for i, column in enumerate(shares.columns):
        values = shares[column].to_numpy(dtype=float)
        colour = PALETTE[i % len(PALETTE)]
        bars = ax.bar(positions, values, bottom=bottom, width=0.65, color=colour, label=_wrap(column, label_width),
                      edgecolor="white", linewidth=0.5)
        _hatch(bars, partial, legend=False)
        for x, y, value in zip(positions, bottom, values):
            if value >= 0.05:
                ink = "white" if colour in (PALETTE[0], PALETTE[3], PALETTE[7], PALETTE[5]) else "#222222"
                ax.text(x, y + value / 2, share_text(value), ha="center", va="center", fontsize=7, color=ink)
        bottom += values
    ax.set_xticks(positions)
    ax.set_xticklabels([label.replace(" (partial)", "\n(partial)") for label in labels])
    ax.set_ylim(0, 1)
    label_axes(ax, x="Fiscal year (1 October to 30 September)", y="Share of the year's records")
    ax.yaxis.set_major_formatter(FuncFormatter(percent))
    handles, names = ax.get_legend_handles_labels()
    if any(partial):
        handles.append(Patch(facecolor="white", edgecolor=MUTED, hatch=PARTIAL_HATCH))
        names.append("partial fiscal year")
    ax.legend(handles[::-1] if not any(partial) else handles, names[::-1] if not any(partial) else names,
              loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=7.5)
    add_source(fig, source, note)
    return fig


# ---------------------------------------------------------------- rankings and distributions


def ranked_bars(labels: Sequence[str], values: Sequence[float], *, title: str, subtitle: str, x_label: str,
                source: str, value_format: str = "count", min_cell: int = 1, value_labels: Sequence[str] | None = None,
                muted: Sequence[str] = (), note: str | None = None, label_width: int = 34) -> Figure:
    """Horizontal bars, largest at the top, each labelled with its value; bars whose label is in
    `muted` are grey (e.g. `Not recorded`)."""
    height = max(2.4, 0.9 + 0.26 * len(labels))
    fig, ax = new_figure(title, width=7.0, height=height, subtitle=subtitle)
    positions = np.arange(len(labels))[::-1]
    colours = [MUTED if label in muted else PALETTE[0] for label in labels]
    bars = ax.barh(positions, list(values), color=colours, height=0.7)
    texts = value_labels or [share_text(v, 1) if value_format == "share" else count_text(v, min_cell) for v in values]
    for bar, text in zip(bars, texts):
        ax.annotate(text, (bar.get_width(), bar.get_y() + bar.get_height() / 2), xytext=(3, 0),
                    textcoords="offset points", va="center", fontsize=7)
    ax.set_yticks(positions)
    ax.set_yticklabels([_wrap(label, label_width) for label in labels], fontsize=7.5)
    ax.grid(axis="y", visible=False)
    ax.grid(axis="x", visible=True)
    ax.set_xlabel(x_label)
    ax.xaxis.set_major_formatter(FuncFormatter(percent if value_format == "share" else thousands))
    ax.margins(x=0.12)
    add_source(fig, source, note)
    return fig


def box_by_group(groups: Mapping[str, Sequence[float]], *, title: str, subtitle: str, x_label: str, source: str,
                 min_cell: int = 1, note: str | None = None, label_width: int = 30) -> Figure:
    """One horizontal box per group (first group at the top): box = quartiles, line = median,
    whiskers = 5th and 95th percentiles, outliers not drawn; n per group in the label."""
    names = list(groups)
    height = max(2.6, 1.1 + 0.42 * len(names))
    fig, ax = new_figure(title, width=7.0, height=height, subtitle=subtitle)
    data = [np.asarray(groups[name], dtype=float) for name in names]
    positions = np.arange(len(names))[::-1]
    ax.boxplot(data, positions=positions, orientation="horizontal", whis=(5, 95), showfliers=False, widths=0.55,
               patch_artist=True, boxprops={"facecolor": PALETTE[4], "edgecolor": "#333333"},
               medianprops={"color": PALETTE[3], "linewidth": 1.8})
    ax.set_yticks(positions)
    ax.set_yticklabels([f"{_wrap(name, label_width)}\n(n = {count_text(len(values), min_cell)})"
                        for name, values in zip(names, data)], fontsize=7.5)
    ax.grid(axis="y", visible=False)
    ax.grid(axis="x", visible=True)
    ax.set_xlabel(x_label)
    ax.xaxis.set_major_formatter(FuncFormatter(thousands))
    ax.set_xlim(left=0)
    add_source(fig, source, note)
    return fig


# ---------------------------------------------------------------- partial-year marking


def _hatch(bars, partial: Sequence[bool], legend: bool = True) -> None:
    for bar, is_partial in zip(bars, partial):
        if is_partial:
            bar.set_hatch(PARTIAL_HATCH)
            bar.set_alpha(0.6)


def _legend_with_partial(ax, partial: Sequence[bool], *, show_series: bool) -> None:
    handles, names = ax.get_legend_handles_labels()
    if not show_series:
        handles, names = [], []
    if any(partial):
        handles.append(Patch(facecolor="white", edgecolor=MUTED, hatch=PARTIAL_HATCH))
        names.append("partial fiscal year")
    if handles:
        ax.legend(handles, names, loc="upper left", fontsize=8)
