"""The house style every figure uses: colour-blind-safe palette, a title that states the
finding, labelled axes with units, thousands separators, a source line, partial years marked.

Figures are rendered to SVG and PNG bytes with fixed metadata, so two runs give identical files.
"""

from __future__ import annotations

import io
import textwrap
from collections.abc import Sequence
from typing import Any

import matplotlib
from cycler import cycler

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.axes import Axes  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.patches import Patch  # noqa: E402
from matplotlib.ticker import FuncFormatter  # noqa: E402
from matplotlib.transforms import offset_copy  # noqa: E402

# Okabe & Ito (2008), "Color Universal Design": distinguishable with the common colour-vision deficiencies.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#56B4E9", "#CC79A7", "#F0E442", "#000000")
MUTED = "#8C8C8C"  # what is not a category to compare: `All other`, `Not recorded`, partial-year marks
NO_DATA = "#EEEEEE"  # a map's places without a value
OUTLINE = "#333333"  # outlines of boxes
PARTIAL_HATCH = "////"
MUTED_SERIES = ("All other", "Not recorded")  # series drawn in MUTED, whatever their position


def series_colours(names: Sequence[str]) -> list[str]:
    """The colour of each series: the palette in order, grey for `MUTED_SERIES`. A chart never
    draws more series than the palette tells apart (`charts.fold_categories` groups the rest)."""
    colours, position = [], 0
    for name in names:
        if name in MUTED_SERIES:
            colours.append(MUTED)
            continue
        if position >= len(PALETTE):
            raise ValueError(f"{len(names)} series: the palette tells only {len(PALETTE)} apart (group the rest)")
        colours.append(PALETTE[position])
        position += 1
    return colours


STYLE: dict[Any, Any] = {
    "font.family": "DejaVu Sans",
    "font.size": 9,
    "axes.titlesize": 11,
    "axes.titleweight": "bold",
    "axes.titlelocation": "left",
    "axes.labelsize": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.prop_cycle": cycler(color=PALETTE),
    "axes.grid": True,
    "axes.grid.axis": "y",
    "grid.color": "#DDDDDD",
    "grid.linewidth": 0.6,
    "legend.frameon": False,
    "svg.hashsalt": "ice-detainer-analysis",
    "svg.fonttype": "path",
    "text.parse_math": False,  # a `$` in a facility name is a dollar sign, not mathtext
    "figure.dpi": 100,
    "savefig.dpi": 150,
}


# Also the defaults, so parts drawn outside `rc_context` (a legend added later) share the style.
matplotlib.rcParams.update(STYLE)


def thousands(value: float, _position: int | None = None) -> str:
    return f"{value:,.0f}"


def percent(value: float, _position: int | None = None) -> str:
    return f"{value:.0%}"


SUBTITLE_SIZE = 8.5
SUBTITLE_GAP = 4  # points between the plot and the subtitle, whatever the figure's height


def title_pad(subtitle_lines: int) -> float:
    """Points between the plot and the title when `subtitle_lines` lines of subtitle sit between them."""
    return SUBTITLE_GAP + subtitle_lines * 1.25 * SUBTITLE_SIZE + 3 if subtitle_lines else 8


def new_figure(title: str, *, width: float = 7.0, height: float = 3.6, subtitle: str | None = None) -> tuple[Figure, Axes]:
    """A figure in the house style. `title` states the finding, not the chart type. The subtitle
    (the axes' first text) sits a fixed distance above the plot, and the title above it."""
    with plt.rc_context(STYLE):
        fig, ax = plt.subplots(figsize=(width, height))
        lines = subtitle.count("\n") + 1 if subtitle else 0
        ax.set_title(title, pad=title_pad(lines))
        if subtitle:
            ax.text(0, 1, subtitle, transform=offset_copy(ax.transAxes, fig=fig, y=SUBTITLE_GAP, units="points"),
                    fontsize=SUBTITLE_SIZE, color="#444444", va="bottom")
    return fig, ax


def label_axes(ax: Axes, *, x: str | None, y: str | None, y_format: str = "count") -> None:
    """Axis labels with units; counts get thousands separators, shares get percentages."""
    if x is not None:
        ax.set_xlabel(x)
    if y is not None:
        ax.set_ylabel(y)
    ax.yaxis.set_major_formatter(FuncFormatter(percent if y_format == "share" else thousands))


def label_line_ends(ax: Axes, lines: Sequence, labels: Sequence[str], *, width: int = 18) -> None:
    """Each line's label at its last point, right of the plot in the line's colour, so that colour
    is not the only way to tell the series apart; labels are moved apart to never overlap
    (call after the axis limits are set)."""
    ends = sorted(((float(line.get_ydata()[-1]), line, label) for line, label in zip(lines, labels, strict=True)
                   if len(line.get_ydata())), key=lambda end: end[0])
    bottom, top = ax.get_ylim()
    gap, placed = (top - bottom) * 0.09, list[float]()
    for y, line, label in ends:
        placed.append(max(y, placed[-1] + gap) if placed else y)
        ax.annotate(textwrap.fill(label, width), xy=(1.0, placed[-1]), xycoords=("axes fraction", "data"),
                    xytext=(6, 0), textcoords="offset points", ha="left", va="center", fontsize=7.5,
                    color=line.get_color(), annotation_clip=False)


def add_source(fig: Figure, source: str, note: str | None = None) -> None:
    """The source line under the plot (and a note, e.g. on partial years)."""
    text = f"Source: {source}" + (f"  ·  {note}" if note else "")
    fig.text(0.01, 0.01, text, fontsize=7, color="#555555", ha="left", va="bottom")
    fig.tight_layout(rect=(0, 0.05, 1, 1))


def hatch_partial(bars, partial: Sequence[bool]) -> bool:
    """Hatch the bars of partial fiscal years (one flag per bar); True if any was hatched.
    Every chart marks partial years this way."""
    for bar, is_partial in zip(bars, partial, strict=True):
        if is_partial:
            bar.set_hatch(PARTIAL_HATCH)
            bar.set_alpha(0.6)
    return any(partial)


def partial_handle() -> Patch:
    """The legend entry of a hatched bar (labelled `partial fiscal year`)."""
    return Patch(facecolor="white", edgecolor=MUTED, hatch=PARTIAL_HATCH)


PARTIAL_LABEL = "partial fiscal year"


def mark_partial_bars(ax: Axes, bars, partial: Sequence[bool]) -> None:
    """Hatch the bars of partial fiscal years, and say so in the legend."""
    if hatch_partial(bars, partial):
        handles, labels = ax.get_legend_handles_labels()
        ax.legend([*handles, partial_handle()], [*labels, PARTIAL_LABEL], loc="upper left", fontsize=8)


def render(fig: Figure) -> tuple[bytes, bytes]:
    """SVG and PNG bytes of a figure, free of dates and software versions."""
    with plt.rc_context(STYLE):
        svg, png = io.BytesIO(), io.BytesIO()
        fig.savefig(svg, format="svg", metadata={"Date": None, "Creator": None})
        fig.savefig(png, format="png", metadata={"Software": None})
    plt.close(fig)
    return svg.getvalue(), png.getvalue()
