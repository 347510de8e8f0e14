"""Charts of records by category, in the house style (`style.py`): bars per fiscal year
stacked by category, lines per month, horizontal bars per category (stacked or paired), and
cumulative shares per group. Titles and subtitles are wrapped by character count, narrower
where long category labels push the plot (which the title aligns with) to the right.

Same contract as `charts.py`: aggregates and texts in, a Figure with its title, subtitle,
source line and alt text out."""

from __future__ import annotations

import textwrap

import pandas as pd
from matplotlib.axes import Axes
from matplotlib.dates import DateFormatter, MonthLocator
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import FuncFormatter, MaxNLocator

from analysis import words
from analysis.figures import alt
from analysis.figures import style as figures
from analysis.release import PartialYears
from analysis.vocab.fiscal import fiscal_year_bounds

TITLE_WIDTH = 68  # characters per title line at the house title size on a 7-inch figure
SUBTITLE_RATIO = 1.3  # the subtitle's smaller, regular type fits this many times more characters
LABEL_WIDTH = 36  # category labels of horizontal bars wrap after this many characters
LABEL_RATIO = 0.8  # a tick-label character takes about this share of a title character's width


def _figure(title: str, subtitle: str, title_width: int = TITLE_WIDTH, **size) -> tuple[Figure, Axes]:
    """`figures.new_figure` with the finding and subtitle wrapped to `title_width` (narrower
    when long category labels push the plot, which the title is aligned with, to the right)."""
    subtitle_text = textwrap.fill(subtitle, int(title_width * SUBTITLE_RATIO))
    return figures.new_figure(textwrap.fill(title, title_width), subtitle=subtitle_text, **size)


def _label_layout(labels: list[str], inches_per_row: float) -> tuple[list[str], int, float]:
    """Category labels wrapped, the title width left beside them, and a figure height that
    gives every row (and every wrapped line) room."""
    wrapped = [textwrap.fill(str(label), LABEL_WIDTH) for label in labels]
    widest = max((len(line) for label in wrapped for line in label.split("\n")), default=0)
    extra_lines = sum(label.count("\n") for label in wrapped)
    height = max(2.6, 1.0 + inches_per_row * len(labels) + 0.14 * extra_lines)
    return wrapped, max(40, TITLE_WIDTH - int(widest * LABEL_RATIO)), height


def _sourced(fig: Figure, source: str, note: str | None = None) -> Figure:
    figures.add_source(fig, source, note)
    return fig


def stacked_year_bars(table: pd.DataFrame, categories: list[str], partial: PartialYears, *, title: str,
                      subtitle: str, y_label: str, source: str) -> Figure:
    """Bars per fiscal year, stacked by category; partial fiscal years hatched and labelled."""
    fig, ax = _figure(title, subtitle)
    years = [int(fy) for fy in table["fiscal_year"]]
    flags = partial.flags(years)
    year_labels = words.fy_labels(years, partial)
    positions = list(range(len(years)))
    bottom = pd.Series(0.0, index=table.index)
    for category, colour in zip(categories, figures.series_colours(categories), strict=True):
        bars = ax.bar(positions, table[category], bottom=bottom, width=0.65, label=category,
                      color=colour, edgecolor="white", linewidth=0.4)
        figures.hatch_partial(bars, flags)
        bottom = bottom + table[category]
    ax.set_xticks(positions, year_labels)
    handles, labels = ax.get_legend_handles_labels()
    if any(flags):
        handles.append(figures.partial_handle())
        labels.append(figures.PARTIAL_LABEL)
    if len(labels) > 1:  # a single series needs no legend
        ax.legend(handles, labels, loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=7.5)
    figures.label_axes(ax, x="Fiscal year (1 October to 30 September)", y=y_label)
    totals = [float(v) for v in table[categories].sum(axis=1)]
    parts: list[alt.Part] = [f"Bar chart of {alt.noun(y_label)} per fiscal year"]
    if len(categories) > 1:
        overall = table[categories].sum()
        largest = str(overall.idxmax())
        parts += [f", stacked by {len(categories)} categories; totals "]
        parts += [*alt.listing(year_labels, totals), f"; the largest category is {alt.one_line(largest)} with ",
                  float(overall[largest]), " in all years shown."]
    else:
        parts += [": ", *alt.listing(year_labels, totals), "."]
    alt.attach(fig, title, *parts)
    return _sourced(fig, source)


def monthly_lines(table: pd.DataFrame, series: list[str], partial: PartialYears, *, title: str,
                  subtitle: str, y_label: str, source: str) -> Figure:
    """One line per series over calendar months, each labelled at its end; the months of the
    `partial` fiscal years shaded."""
    fig, ax = _figure(title, subtitle)
    lines = [ax.plot(table["month"], table[name], color=colour, linewidth=1.6)[0]
             for name, colour in zip(series, figures.series_colours(series), strict=True)]
    for fy in sorted(partial):
        start, end = fiscal_year_bounds(fy)
        shown_end = min(pd.Timestamp(end), table["month"].max() + pd.offsets.MonthEnd(0))
        ax.axvspan(pd.Timestamp(start), shown_end, color=figures.MUTED, alpha=0.15, lw=0,  # type: ignore[arg-type]
                   label=f"FY{fy} (partial fiscal year)")  # (matplotlib converts the dates)
    ax.set_ylim(bottom=0)
    figures.label_line_ends(ax, lines, series)
    if partial:
        ax.legend(loc="upper left", fontsize=7.5, framealpha=0.9)
    ax.xaxis.set_major_locator(MonthLocator(bymonth=(4, 10)))  # fiscal years start in October
    ax.xaxis.set_major_formatter(DateFormatter("%b\n%Y"))
    figures.label_axes(ax, x="Month", y=y_label)
    months = pd.to_datetime(table["month"])
    per_month = "" if "month" in y_label.lower() else " per calendar month"
    parts: list[alt.Part] = [f"Line chart of {alt.noun(y_label)}{per_month}"]
    if len(months):
        parts.append(f", {months.iloc[0]:%B %Y} to {months.iloc[-1]:%B %Y}, one line per series")
    for i, name in enumerate(series):
        values = table[name].to_numpy(dtype=float)
        if len(values):
            peak = int(values.argmax())
            parts += ["; " if i else ": ", f"{alt.one_line(name)} highest ", values[peak],
                      f" in {months.iloc[peak]:%B %Y}"]
    alt.attach(fig, title, *parts, ".")
    return _sourced(fig, source)


def horizontal_bars(labels: list[str], values: dict[str, list[float]], *, title: str, subtitle: str,
                    x_label: str, source: str, height: float | None = None) -> Figure:
    """Horizontal bars, first label on top, stacked when `values` holds several series."""
    labels, title_width, fitted = _label_layout(labels, inches_per_row=0.22)
    fig, ax = _figure(title, subtitle, height=height or fitted, title_width=title_width)
    positions = list(range(len(labels)))[::-1]
    left = [0.0] * len(labels)
    for (name, numbers), colour in zip(values.items(), figures.series_colours(list(values)), strict=True):
        ax.barh(positions, numbers, left=left, height=0.7, label=name, color=colour)
        left = [a + b for a, b in zip(left, numbers, strict=True)]
    ax.set_yticks(positions, labels)
    ax.grid(axis="y", visible=False)
    ax.grid(axis="x", visible=True)
    if len(values) > 1:
        ax.legend(loc="lower right", fontsize=7.5)
    ax.set_xlabel(x_label)
    ax.xaxis.set_major_locator(MaxNLocator(nbins=5 if title_width < TITLE_WIDTH - 20 else 8))  # room for "200,000"
    ax.xaxis.set_major_formatter(FuncFormatter(figures.thousands))
    totals = [sum(float(numbers[i]) for numbers in values.values()) for i in range(len(labels))]
    stacked = f", stacked by {', '.join(alt.one_line(name) for name in values)}" if len(values) > 1 else ""
    alt.attach(fig, title, f"Horizontal bars of {alt.noun(x_label)}{stacked}, from the top: ",
               *alt.ranking([alt.one_line(label) for label in labels], totals), ".")
    return _sourced(fig, source)


def paired_bars(labels: list[str], first: list[float], second: list[float], names: tuple[str, str],
                notes: list[str], *, title: str, subtitle: str, x_label: str, source: str) -> Figure:
    """Two horizontal bars per label (first label on top), and a note at the end of each pair."""
    labels, title_width, height = _label_layout(labels, inches_per_row=0.26)
    fig, ax = _figure(title, subtitle, height=height, title_width=title_width)
    positions = list(range(len(labels)))[::-1]
    ax.barh([p + 0.19 for p in positions], first, height=0.38, label=names[0], color=figures.PALETTE[0])
    ax.barh([p - 0.19 for p in positions], second, height=0.38, label=names[1], color=figures.PALETTE[1])
    for position, a, b, note in zip(positions, first, second, notes, strict=True):
        ax.annotate(note, (max(a, b), position), xytext=(4, 0), textcoords="offset points", va="center", fontsize=7)
    ax.set_yticks(positions, labels)
    ax.set_ylim(-0.7, len(labels) - 0.3)
    ax.set_xlim(0, max([*first, *second, 1]) * 1.12)
    ax.grid(axis="y", visible=False)
    ax.grid(axis="x", visible=True)
    ax.legend(loc="lower right", fontsize=7.5)
    ax.set_xlabel(x_label)
    ax.xaxis.set_major_locator(MaxNLocator(nbins=5 if title_width < TITLE_WIDTH - 20 else 8))  # room for "200,000"
    ax.xaxis.set_major_formatter(FuncFormatter(figures.thousands))
    parts: list[alt.Part] = [f"Pairs of horizontal bars, {alt.one_line(names[0])} and {alt.one_line(names[1])}, "
                             "from the top: "]
    shown = min(len(labels), alt.LISTED)
    for i in range(shown):
        parts += ["; " if i else "", f"{alt.one_line(labels[i])} ", first[i], " and ", second[i],
                  f" (ratio {notes[i]})" if notes[i] else ""]
    alt.attach(fig, title, *parts, f"; {len(labels) - shown} more." if len(labels) > shown else ".")
    return _sourced(fig, source)


def cumulative_share_lines(shares: pd.DataFrame, labels: dict[str, str], *, title: str, subtitle: str,
                           source: str, note: str | None = None) -> Figure:
    """Share of each group with a later detainer within 30, 90, ... days, one line per group,
    labelled at its end."""
    fig, ax = _figure(title, subtitle)
    drawn: list[Line2D] = []
    for i, group in enumerate(labels):
        points = shares[shares["group"] == group].dropna(subset=["share"])
        # every curve starts at day 0, when nobody has had a later detainer yet
        drawn += ax.plot([0, *points["days"]], [0, *points["share"]], marker="o",
                         markevery=list(range(1, len(points) + 1)), color=figures.PALETTE[i])
        above = i % 2 == 0  # labels of the first group above-left of its points, of the second below-right
        for _, row in points.iterrows():
            ax.annotate(f"{row['share']:.0%}", (row["days"], row["share"]), xytext=(-5, 5) if above else (5, -3),
                        textcoords="offset points", ha="right" if above else "left", va="bottom" if above else "top",
                        fontsize=7, color=figures.PALETTE[i])
    ax.set_xticks([0, *sorted(shares["days"].unique())])
    ax.set_xlim(0, shares["days"].max() * 1.08)
    ax.set_ylim(0, max(0.05, (shares["share"].max() if shares["share"].notna().any() else 0) * 1.25))
    figures.label_line_ends(ax, drawn, list(labels.values()))
    figures.label_axes(ax, x="Days after the first declined (or honoured) detainer", y="Share of people",
                       y_format="share")
    groups = []
    for group, label in labels.items():
        points = shares[shares["group"] == group].dropna(subset=["share"])
        groups.append(f"{alt.one_line(label)}: " + ", ".join(
            f"{row['share']:.0%} within {row['days']:,.0f} days" for _, row in points.iterrows()) or "too few people")
    alt.attach(fig, title, "Line chart of the share of each group with a later detainer, by days after the first "
               "declined (or honoured) detainer; ", "; ".join(groups), ".")
    return _sourced(fig, source, note)
