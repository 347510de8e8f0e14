"""Figures of the enforcement-context and repeat-detainer sections, in the house style of
`figures.py`. Each function takes prepared aggregates and a title that states the finding,
and returns the figure; the notebook adds the source line and shows it."""

from __future__ import annotations

import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter

from . import figures
from .fiscal import fiscal_year_bounds


def _colour(position: int, name: str) -> str:
    return figures.MUTED if name in ("All other", "Not recorded") else figures.PALETTE[position % len(figures.PALETTE)]


def stacked_year_bars(table: pd.DataFrame, categories: list[str], partial: dict[int, bool], *, title: str,
                      subtitle: str, y_label: str) -> tuple[Figure, Axes]:
    """Bars per fiscal year, stacked by category; partial fiscal years hatched and labelled."""
    fig, ax = figures.new_figure(title, subtitle=subtitle)
    years = [int(fy) for fy in table["fiscal_year"]]
    flags = [partial.get(fy, False) for fy in years]
    positions = list(range(len(years)))
    bottom = pd.Series(0.0, index=table.index)
    for i, category in enumerate(categories):
        bars = ax.bar(positions, table[category], bottom=bottom, width=0.65, label=category,
                      color=_colour(i, category), edgecolor="white", linewidth=0.4)
        for bar, is_partial in zip(bars, flags, strict=True):
            if is_partial:
                bar.set_hatch(figures.PARTIAL_HATCH)
                bar.set_alpha(0.6)
        bottom = bottom + table[category]
    ax.set_xticks(positions, [f"FY{fy}" + (" (partial)" if p else "") for fy, p in zip(years, flags, strict=True)])
    handles, labels = ax.get_legend_handles_labels()
    if any(flags):
        handles.append(Patch(facecolor="white", edgecolor=figures.MUTED, hatch=figures.PARTIAL_HATCH))
        labels.append("partial fiscal year")
    ax.legend(handles, labels, loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=7.5)
    figures.label_axes(ax, x="Fiscal year (1 October to 30 September)", y=y_label)
    return fig, ax


def monthly_lines(table: pd.DataFrame, series: list[str], partial: dict[int, bool], *, title: str,
                  subtitle: str, y_label: str) -> tuple[Figure, Axes]:
    """One line per series over calendar months; the months of partial fiscal years shaded."""
    fig, ax = figures.new_figure(title, subtitle=subtitle)
    for i, name in enumerate(series):
        ax.plot(table["month"], table[name], label=name, color=_colour(i, name), linewidth=1.6)
    for fy, is_partial in sorted(partial.items()):
        if is_partial:
            start, end = fiscal_year_bounds(fy)
            shown_end = min(pd.Timestamp(end), table["month"].max() + pd.offsets.MonthEnd(0))
            ax.axvspan(pd.Timestamp(start), shown_end, color=figures.MUTED, alpha=0.15, lw=0,
                       label=f"FY{fy} (partial fiscal year)")
    ax.set_ylim(bottom=0)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=7.5)
    figures.label_axes(ax, x="Month", y=y_label)
    return fig, ax


def horizontal_bars(labels: list[str], values: dict[str, list[float]], *, title: str, subtitle: str,
                    x_label: str, height: float | None = None) -> tuple[Figure, Axes]:
    """Horizontal bars, first label on top, stacked when `values` holds several series."""
    fig, ax = figures.new_figure(title, subtitle=subtitle, height=height or max(2.6, 0.6 + 0.24 * len(labels)))
    positions = list(range(len(labels)))[::-1]
    left = [0.0] * len(labels)
    for i, (name, numbers) in enumerate(values.items()):
        ax.barh(positions, numbers, left=left, height=0.7, label=name, color=_colour(i, name))
        left = [a + b for a, b in zip(left, numbers, strict=True)]
    ax.set_yticks(positions, labels)
    ax.grid(axis="y", visible=False)
    ax.grid(axis="x", visible=True)
    if len(values) > 1:
        ax.legend(loc="lower right", fontsize=7.5)
    ax.set_xlabel(x_label)
    ax.xaxis.set_major_formatter(FuncFormatter(figures.thousands))
    return fig, ax


def ratio_scatter(table: pd.DataFrame, *, x: str, y: str, label: str, title: str, subtitle: str,
                  x_label: str, y_label: str) -> tuple[Figure, Axes]:
    """One labelled point per row; the dashed line is the ratio y/x of all rows together."""
    fig, ax = figures.new_figure(title, subtitle=subtitle, height=4.6)
    ax.scatter(table[x], table[y], s=22, color=figures.PALETTE[0], zorder=3)
    for _, row in table.iterrows():
        ax.annotate(row[label], (row[x], row[y]), xytext=(3, 3), textcoords="offset points", fontsize=6.5)
    overall = table[y].sum() / table[x].sum() if table[x].sum() else None
    if overall:
        top = max(table[x].max(), 1) * 1.05
        ax.plot([0, top], [0, overall * top], ls="--", lw=1, color=figures.MUTED,
                label=f"all areas together: {overall:.2f} per detainer")
        ax.legend(loc="upper left", fontsize=7.5)
    ax.set_xlim(left=0)
    ax.set_ylim(bottom=0)
    ax.grid(axis="x", visible=True)
    figures.label_axes(ax, x=x_label, y=y_label)
    ax.xaxis.set_major_formatter(FuncFormatter(figures.thousands))
    return fig, ax


def cumulative_share_lines(shares: pd.DataFrame, labels: dict[str, str], *, title: str,
                           subtitle: str) -> tuple[Figure, Axes]:
    """Share of each group with a later detainer within 30, 90, ... days, one line per group."""
    fig, ax = figures.new_figure(title, subtitle=subtitle)
    for i, (group, label) in enumerate(labels.items()):
        points = shares[shares["group"] == group].dropna(subset=["share"])
        ax.plot(points["days"], points["share"], marker="o", label=label, color=figures.PALETTE[i])
        for _, row in points.iterrows():
            ax.annotate(f"{row['share']:.0%}", (row["days"], row["share"]), xytext=(0, 6),
                        textcoords="offset points", ha="center", fontsize=7, color=figures.PALETTE[i])
    ax.set_xticks(sorted(shares["days"].unique()))
    ax.set_xlim(0, shares["days"].max() * 1.05)
    ax.set_ylim(0, max(0.05, (shares["share"].max() if shares["share"].notna().any() else 0) * 1.25))
    ax.legend(loc="upper left", fontsize=7.5)
    figures.label_axes(ax, x="Days after the first declined (or honoured) detainer", y="Share of people",
                       y_format="share")
    return fig, ax
