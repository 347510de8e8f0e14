"""Charts of the detainer sections, in the house style (`style.py`): a tile-grid map of the
states, a monthly series, bars by fiscal year, stacked shares by fiscal year, ranked bars, and
a box plot of durations. Titles and subtitles are wrapped by measuring the rendered text.

The contract of every chart in `figures/`: it takes aggregates (never records) and the texts
the figure must carry (a title stating the finding, a subtitle, axis labels with units, the
source line) and returns a matplotlib Figure with all of them drawn, ready for
`ReportContext.show_figure`. Counts below the report's `min_cell` are labelled `<min_cell`;
partial fiscal years (`PartialYears`) are hatched and named.
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
from matplotlib.patches import Rectangle
from matplotlib.ticker import FuncFormatter, MaxNLocator

from analysis import words
from analysis.figures import alt
from analysis.figures.style import (
    MUTED,
    MUTED_SERIES,
    NO_DATA,
    OUTLINE,
    PALETTE,
    PARTIAL_HATCH,
    PARTIAL_LABEL,
    STYLE,
    add_source,
    hatch_partial,
    label_axes,
    new_figure,
    partial_handle,
    percent,
    series_colours,
    thousands,
    title_pad,
)
from analysis.metrics.distribution import Distribution
from analysis.release import NO_PARTIAL_YEARS, PartialYears
from analysis.vocab.fiscal import fiscal_year_bounds
from analysis.vocab.geography import STATES

MAP_COLORMAP = "Blues"  # sequential, single hue: readable with colour-vision deficiencies and in grey
MIN_WRAP = 24  # never wrap a title or subtitle narrower than this many characters


def _wrap(label: str, width: int) -> str:
    return "\n".join(textwrap.wrap(str(label), width)) or str(label)


def _figure(title: str, *, height: float, subtitle: str, width: float = 7.0):
    """figures.new_figure; `_finish` later wraps title and subtitle to the space they have."""
    return new_figure(title, width=width, height=height, subtitle=subtitle)


def _fit(artist, raw: str, limit: float, renderer) -> int:
    """Wrap `raw` at fewer characters until the rendered artist ends left of `limit` (pixels);
    returns the number of lines used."""
    width = max(len(raw), 1)
    while True:
        text = _wrap(raw, width)
        artist.set_text(text)
        if artist.get_window_extent(renderer).x1 <= limit or width <= MIN_WRAP:
            return text.count("\n") + 1
        width -= 3


def _finish(fig: Figure, ax, title: str, subtitle: str, source: str, note: str | None) -> Figure:
    """Source line, then title and subtitle wrapped so that neither runs off the figure.
    Titles state findings computed from the data, so their length is not known in advance."""
    add_source(fig, source, note)
    subtitle_artist = ax.texts[0]  # new_figure writes the subtitle as the axes' first text
    renderer = fig.canvas.get_renderer()  # type: ignore[attr-defined]  # an Agg canvas: figures.py selects Agg
    for _ in range(3):  # the layout moves the axes, which moves where the title starts
        fig.canvas.draw()  # applies fixed aspect ratios, so the axes are where they will be drawn
        limit = fig.bbox.x1 * 0.95  # text renders a few percent wider at other resolutions (PNG 150 dpi, SVG)
        lines = _fit(subtitle_artist, subtitle, limit, renderer)
        title_artist = ax.set_title(title, loc="left", pad=title_pad(lines), fontsize=STYLE["axes.titlesize"],
                                    fontweight=STYLE["axes.titleweight"])
        _fit(title_artist, title, limit, renderer)
        fig.tight_layout(rect=(0, 0.05, 1, 1))
    return fig


# ---------------------------------------------------------------- tile-grid map


def tile_map(values: Mapping[str, float], *, title: str, subtitle: str, legend_label: str, source: str,
             labels: Mapping[str, str] | None = None, value_format: str = "count", note: str | None = None) -> Figure:
    """The 50 states and DC as equal tiles on geography.STATES' grid, shaded by `values`
    (states absent from `values` in grey, labelled `–`). `labels` overrides the text under each
    state code (for suppressed small counts)."""
    fig, ax = _figure(title, height=5.0, subtitle=subtitle)
    ax.grid(False)
    ax.set_axis_off()
    shown = [float(v) for code, v in values.items() if code in STATES and not pd.isna(v)]
    norm = Normalize(vmin=0, vmax=max(shown) if shown and max(shown) > 0 else 1)
    cmap = colormaps[MAP_COLORMAP]
    fmt = words.share if value_format == "share" else words.count
    for code, (_name, _aors, col, row) in STATES.items():
        value = values.get(code)
        level = None if value is None or pd.isna(value) else float(norm(float(value)))
        colour = NO_DATA if level is None else cmap(0.08 + 0.92 * level)
        ax.add_patch(Rectangle((col, -row), 0.92, 0.92, facecolor=colour, edgecolor="white", linewidth=1))
        ink = "white" if level is not None and level > 0.55 else "#222222"
        text = labels.get(code) if labels and code in labels else (words.DASH if level is None else fmt(value))
        ax.text(col + 0.46, -row + 0.6, code, ha="center", va="center", fontsize=8, fontweight="bold", color=ink)
        ax.text(col + 0.46, -row + 0.28, text, ha="center", va="center", fontsize=6.5, color=ink)
    columns = max(col for *_, col, _row in STATES.values()) + 1
    rows = max(row for *_, row in STATES.values()) + 1
    ax.set_xlim(-0.1, columns + 0.1)
    ax.set_ylim(-rows + 0.8, 1.05)
    ax.set_aspect("equal")
    bar = fig.colorbar(cmap_mappable(cmap, norm), ax=ax, orientation="horizontal", fraction=0.04, pad=0.02,
                       shrink=0.5, aspect=30, anchor=(0.3, 1.0), panchor=(0.0, 1.0))
    bar.set_label(legend_label, fontsize=8)
    _value_axis(bar.ax.xaxis, value_format)
    bar.ax.tick_params(labelsize=7)
    bar.outline.set_visible(False)
    _tile_map_alt(fig, title, values, legend_label, value_format)
    return _finish(fig, ax, title, subtitle, source, note)


def _tile_map_alt(fig: Figure, title: str, values: Mapping[str, float], legend_label: str, value_format: str) -> None:
    shown = sorted(((float(v), code) for code, v in values.items() if code in STATES and not pd.isna(v)),
                   key=lambda item: (-item[0], item[1]))
    numbers: list[alt.Part] = [words.share(v) if value_format == "share" else v for v, _code in shown]
    grey = len(STATES) - len(shown)
    alt.attach(fig, title, f"Map of the 50 states and DC, one equal tile each, shaded by {alt.noun(legend_label)}: ",
               *alt.ranking([STATES[code][0] for _v, code in shown], numbers),
               f"; {grey} grey without a value." if grey else ".")


def cmap_mappable(cmap, norm: Normalize):
    from matplotlib.cm import ScalarMappable

    mappable = ScalarMappable(norm=norm, cmap=cmap)
    mappable.set_array([])
    return mappable


# ---------------------------------------------------------------- time


def monthly_series(monthly: pd.DataFrame, *, title: str, subtitle: str, y_label: str, source: str,
                   series_label: str, partial: PartialYears = NO_PARTIAL_YEARS, note: str | None = None) -> Figure:
    """Counts per month (`month`, `count` of detainer_metrics.monthly_counts) as a line; months
    in the `partial` fiscal years are shaded and hatched, and the legend says so."""
    fig, ax = _figure(title, height=3.4, subtitle=subtitle)
    months = pd.to_datetime(monthly["month"])
    ax.plot(months, monthly["count"], color=PALETTE[0], linewidth=1.6, marker="o", markersize=2.5,
            label=series_label)
    for fy in sorted(partial):
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
    ax.legend(loc="lower left", fontsize=8, frameon=False)
    hatched = ", ".join(f"FY{fy}" for fy in sorted(partial))
    alt.attach(fig, title, f"Line chart of {alt.noun(series_label)} per calendar month, ",
               *month_extremes(months, monthly["count"]),
               f"; the months of partial fiscal years ({hatched}) are hatched." if hatched else ".")
    return _finish(fig, ax, title, subtitle, source, note)


def month_extremes(months: pd.Series, counts: pd.Series) -> list[alt.Part]:
    """`October 2020 to March 2025: highest 312 in March 2023, lowest 4 in October 2020` (first month on ties)."""
    values = counts.to_numpy(dtype=float)
    if not len(values):
        return ["no months with records"]
    dates = list(pd.to_datetime(months))
    high, low = int(np.argmax(values)), int(np.argmin(values))
    return [f"{dates[0]:%B %Y} to {dates[-1]:%B %Y}: highest ", values[high], f" in {dates[high]:%B %Y}, lowest ",
            values[low], f" in {dates[low]:%B %Y}"]


def fiscal_year_bars(years: Sequence[int], series: Mapping[str, Sequence[float]], partial: PartialYears, *,
                     title: str, subtitle: str, y_label: str, source: str, min_cell: int = 1,
                     note: str | None = None) -> Figure:
    """One bar per fiscal year for each series (side by side), value labels on top, partial years hatched."""
    labels, flags = words.fy_labels(years, partial), partial.flags(years)
    fig, ax = _figure(title, height=3.6, subtitle=subtitle)
    count = max(len(series), 1)
    width = 0.8 / count
    positions = np.arange(len(labels))
    colours = series_colours(list(series))
    for i, (name, values) in enumerate(series.items()):
        offsets = positions + (i - (count - 1) / 2) * width
        bars = ax.bar(offsets, list(values), width=width, color=colours[i], label=name)
        for bar, value in zip(bars, values, strict=True):
            ax.annotate(words.count(value, min_cell), (bar.get_x() + bar.get_width() / 2, bar.get_height()),
                        xytext=(0, 2), textcoords="offset points", ha="center", va="bottom", fontsize=7)
        hatch_partial(bars, flags)
    ax.set_xticks(positions)
    ax.set_xticklabels([label.replace(" (partial)", "\n(partial)") for label in labels])
    tallest = max((float(v) for values in series.values() for v in values if not pd.isna(v)), default=0.0)
    # headroom for the value labels, and for the legend above the bars
    ax.set_ylim(0, max(tallest, 1.0) * (1.15 + 0.12 * (count + any(flags)) if count > 1 or any(flags) else 1.15))
    label_axes(ax, x="Fiscal year (1 October to 30 September)", y=y_label)
    _legend_with_partial(ax, flags, show_series=count > 1)
    parts: list[alt.Part] = [f"Bar chart of {alt.noun(y_label)} per fiscal year"]
    for i, (name, values) in enumerate(series.items()):
        parts += [(f"; {alt.one_line(name)}: " if i else f", {alt.one_line(name)}: ") if count > 1 else ": ",
                  *alt.listing([alt.one_line(label) for label in labels], list(values))]
    alt.attach(fig, title, *parts, ".")
    return _finish(fig, ax, title, subtitle, source, note)


def stacked_shares(shares: pd.DataFrame, partial: PartialYears, *, title: str, subtitle: str, source: str,
                   note: str | None = None, label_width: int = 38) -> Figure:
    """100% stacked bars: one per fiscal year (rows of `shares`, indexed by fiscal year),
    categories as columns in order (`All other` and `Not recorded` in grey; beyond the palette's
    colours, the last categories grouped as `All other`); shares of 5% or more are written on
    the bar; partial years hatched."""
    labels, flags = words.fy_labels(shares.index, partial), partial.flags(shares.index)
    shares = fold_categories(shares)
    fig, ax = _figure(title, height=4.0, subtitle=subtitle)
    positions = np.arange(len(shares))
    bottom = np.zeros(len(shares))
    for column, colour in zip(shares.columns, series_colours(list(shares.columns)), strict=True):
        values = shares[column].to_numpy(dtype=float)
        bars = ax.bar(positions, values, bottom=bottom, width=0.65, color=colour, label=_wrap(column, label_width),
                      edgecolor="white", linewidth=0.5)
        hatch_partial(bars, flags)
        for x, y, value in zip(positions, bottom, values, strict=True):
            if value >= 0.05:
                ink = "white" if colour in (PALETTE[0], PALETTE[3], PALETTE[7], PALETTE[5]) else "#222222"
                ax.text(x, y + value / 2, words.share(value), ha="center", va="center", fontsize=7, color=ink)
        bottom += values
    ax.set_xticks(positions)
    ax.set_xticklabels([label.replace(" (partial)", "\n(partial)") for label in labels])
    ax.set_ylim(0, 1)
    label_axes(ax, x="Fiscal year (1 October to 30 September)", y="Share of the year's records")
    ax.yaxis.set_major_formatter(FuncFormatter(percent))
    handles, names = ax.get_legend_handles_labels()
    handles, names = handles[::-1], names[::-1]  # legend top to bottom as the stack reads
    if any(flags):
        handles.append(partial_handle())
        names.append(PARTIAL_LABEL)
    ax.legend(handles, names, loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=7.5, frameon=False)
    alt.attach(fig, title, *stacked_shares_alt(shares, labels))
    return _finish(fig, ax, title, subtitle, source, note)


def fold_categories(shares: pd.DataFrame, keep: int = len(PALETTE)) -> pd.DataFrame:
    """At most `keep` categories (columns, in order) in colour: any after them are summed into
    `All other`, which comes last but for `Not recorded`. Colour alone never has to tell two apart."""
    named = [c for c in shares.columns if c not in MUTED_SERIES]
    if len(named) <= keep:
        return shares
    grouped = named[keep:] + [c for c in shares.columns if c == "All other"]
    folded = shares[named[:keep]].assign(**{"All other": shares[grouped].sum(axis=1)})
    return folded.join(shares[[c for c in shares.columns if c == "Not recorded"]])


def stacked_shares_alt(shares: pd.DataFrame, labels: Sequence[str]) -> list[alt.Part]:
    """Each category's share in the first and the last fiscal year shown."""
    rows = [0, len(shares) - 1] if len(shares) > 1 else [0]
    years = [f"{alt.one_line(labels[row])}: " + ", ".join(
        f"{alt.one_line(column)} {words.share(shares.iloc[row][column])}" for column in shares.columns) for row in rows]
    span = "first and last fiscal year" if len(rows) > 1 else "fiscal year"
    return [f"Stacked bars of each fiscal year's shares by category ({len(shares)} years); {span}: ", "; ".join(years), "."]


# ---------------------------------------------------------------- rankings and distributions


def ranked_bars(labels: Sequence[str], values: Sequence[float], *, title: str, subtitle: str, x_label: str,
                source: str, value_format: str = "count", min_cell: int = 1, value_labels: Sequence[str] | None = None,
                muted: Sequence[str] = (), note: str | None = None, label_width: int = 44) -> Figure:
    """Horizontal bars, largest at the top, each labelled with its value; bars whose label is in
    `muted` are grey (e.g. `Not recorded`)."""
    wrapped = [_wrap(label, label_width) for label in labels]
    lines = max((label.count("\n") + 1 for label in wrapped), default=1)
    height = max(2.4, 1.4 + len(labels) * 0.16 * (lines + 0.7))
    fig, ax = _figure(title, height=height, subtitle=subtitle)
    positions = np.arange(len(labels))[::-1]
    colours = [MUTED if label in muted else PALETTE[0] for label in labels]
    bars = ax.barh(positions, list(values), color=colours, height=0.7)
    texts = value_labels or [words.share(v, 1) if value_format == "share" else words.count(v, min_cell) for v in values]
    for bar, text in zip(bars, texts, strict=True):
        ax.annotate(text, (bar.get_width(), bar.get_y() + bar.get_height() / 2), xytext=(3, 0),
                    textcoords="offset points", va="center", fontsize=7)
    ax.set_yticks(positions)
    ax.set_yticklabels(wrapped, fontsize=7.5)
    ax.set_ylim(-0.6, len(labels) - 0.4)
    ax.grid(axis="y", visible=False)
    ax.grid(axis="x", visible=True)
    ax.set_xlabel(x_label)
    _value_axis(ax.xaxis, value_format)
    ax.margins(x=0.12)
    numbers: list[alt.Part] = list(value_labels) if value_labels else [
        words.share(v, 1) if value_format == "share" else v for v in values]
    alt.attach(fig, title, f"Horizontal bars of {alt.noun(x_label)}, largest first: ",
               *alt.ranking([alt.one_line(label) for label in labels], numbers), ".")
    return _finish(fig, ax, title, subtitle, source, note)


def _box_stats(days: Distribution) -> dict[str, float]:
    """What matplotlib's boxplot(whis=(5, 95)) draws for these values: quartiles and median, and
    whiskers at the most extreme values within the 5th and 95th percentiles (at the box where
    none lies between it and that percentile); NaN for no values, as matplotlib gives."""
    if not len(days):
        return dict.fromkeys(("q1", "med", "q3", "whislo", "whishi"), float("nan"))
    q1, median, q3, low, high = (float(v) for v in days.percentile([25, 50, 75, 5, 95]))
    lowest, highest = days.lowest_at_least(low), days.highest_at_most(high)
    return {"q1": q1, "med": median, "q3": q3,
            "whislo": q1 if lowest is None or lowest > q1 else lowest,
            "whishi": q3 if highest is None or highest < q3 else highest}


def box_by_group(groups: Mapping[str, Distribution | Sequence[float] | np.ndarray], *, title: str, subtitle: str,
                 x_label: str, source: str, min_cell: int = 1, note: str | None = None, label_width: int = 32) -> Figure:
    """One horizontal box per group (first group at the top): box = quartiles, line = median,
    whiskers = 5th and 95th percentiles, outliers not drawn; n and median written beside each box.
    A group is its values, or their `Distribution` (counted values: drawn from its statistics,
    the same figure as from the values repeated)."""
    names = list(groups)
    height = max(2.6, 1.2 + 0.5 * len(names))
    fig, ax = _figure(title, height=height, subtitle=subtitle)
    data = [group if isinstance(group, Distribution) else Distribution.of(group) for group in groups.values()]
    positions = np.arange(len(names))[::-1]
    # what ax.boxplot(..., patch_artist=True) hands bxp, from statistics instead of values
    ax.bxp([_box_stats(days) for days in data], positions=positions, orientation="horizontal", showfliers=False,
           widths=0.55, patch_artist=True, boxprops={"facecolor": PALETTE[4], "edgecolor": OUTLINE, "linestyle": "solid"},
           medianprops={"color": PALETTE[3], "linewidth": 1.8}, whiskerprops={}, capprops={}, flierprops={},
           meanprops={})
    ax.set_yticks(positions)
    ax.set_yticklabels([_wrap(name, label_width) for name in names], fontsize=7.5)
    for y, days in zip(positions, data, strict=True):
        if len(days):
            right = days.highest_at_most(float(days.percentile(95)))  # where the whisker ends, or the box does
            ax.annotate(f"n = {words.count(len(days), min_cell)}, median {float(days.percentile(50)):,.0f}", (right, y),
                        xytext=(4, 0), textcoords="offset points", va="center", fontsize=7)

    ax.grid(axis="y", visible=False)
    ax.grid(axis="x", visible=True)
    ax.set_xlabel(x_label)
    ax.xaxis.set_major_formatter(FuncFormatter(thousands))
    widest = max((float(days.percentile(95)) for days in data if len(days)), default=1.0)
    ax.set_xlim(0, max(widest, 1.0) * 1.35)
    parts: list[alt.Part] = [f"Box plots of {alt.noun(x_label)} by group"]
    for name, days in zip(names, data, strict=True):
        if len(days):
            q1, median, q3 = days.percentile([25, 50, 75])
            parts += ["; " if len(parts) > 1 else ": ", f"{alt.one_line(name)}: median {median:,.0f}, middle half "
                      f"{q1:,.0f} to {q3:,.0f} (n = ", len(days), ")"]
    alt.attach(fig, title, *parts, ".")
    return _finish(fig, ax, title, subtitle, source, note)


def _value_axis(axis, value_format: str) -> None:
    """Thousands separators for counts; for shares, ticks at whole percentages (no 2.5% ticks
    shown rounded as `2%`)."""
    if value_format == "share":
        axis.set_major_locator(MaxNLocator(nbins=8, steps=[1, 2, 5, 10]))
        axis.set_major_formatter(FuncFormatter(lambda v, _p: f"{v:.0%}" if round(v * 100, 6).is_integer() else f"{v:.1%}"))
    else:
        axis.set_major_locator(MaxNLocator(nbins=8, steps=[1, 2, 2.5, 5, 10], integer=True))
        axis.set_major_formatter(FuncFormatter(thousands))


# ---------------------------------------------------------------- partial-year marking


def _legend_with_partial(ax, partial: Sequence[bool], *, show_series: bool) -> None:
    handles, names = ax.get_legend_handles_labels()
    if not show_series:
        handles, names = [], []
    if any(partial):
        handles.append(partial_handle())
        names.append(PARTIAL_LABEL)
    if handles:
        ax.legend(handles, names, loc="upper left", fontsize=8, frameon=False)
