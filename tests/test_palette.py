"""Colour: every chart draws its data in the Okabe-Ito palette of figures.style (grey for what is
not a category to compare, the single-hue sequential scale on the map), and never asks colour
alone to tell two series apart: no two series share a colour, however many categories come."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from matplotlib import colormaps
from matplotlib.colors import to_hex, to_rgb
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from analysis.figures import categories, charts
from analysis.figures.style import MUTED, NO_DATA, OUTLINE, PALETTE, series_colours
from analysis.release import PartialYears

from .chart_cases import CHARTS

NEUTRALS = {MUTED, NO_DATA, OUTLINE, "#FFFFFF"}
ALLOWED = {c.lower() for c in (*PALETTE, *NEUTRALS)}
MAP_RAMP = colormaps[charts.MAP_COLORMAP](np.linspace(0, 1, 256))[:, :3]


def data_colours(fig: Figure) -> set[str]:
    """The colours of what the chart draws: bar, tile, box and band fills and edges, lines and
    markers, collections (not text, grid lines or spines)."""
    found: set[str] = set()
    for ax in fig.axes:
        legend = ax.get_legend()
        handles = [h for h in legend.legend_handles if h is not None] if legend else []
        for artist in [*ax.patches, *ax.lines, *ax.collections, *handles]:
            if isinstance(artist, Patch):
                if artist.get_fill() and artist.get_facecolor()[3] > 0:
                    found.add(to_hex(artist.get_facecolor(), keep_alpha=False))
                if artist.get_linewidth() > 0 and artist.get_edgecolor()[3] > 0:
                    found.add(to_hex(artist.get_edgecolor(), keep_alpha=False))
            elif isinstance(artist, Line2D):
                found.add(to_hex(artist.get_color()))
                if artist.get_marker() not in (None, "None", ""):
                    found.add(to_hex(artist.get_markerfacecolor()))
            else:
                found |= {to_hex(c, keep_alpha=False) for c in artist.get_facecolor()}
    return found


def on_map_ramp(colour: str) -> bool:
    return bool(np.abs(MAP_RAMP - np.array(to_rgb(colour))).max(axis=1).min() < 0.01)


@pytest.mark.parametrize("case", sorted(CHARTS))
def test_every_chart_draws_in_the_house_palette(case: str) -> None:
    fig, _title = CHARTS[case]()
    colours = data_colours(fig)
    stray = {c for c in colours if c not in ALLOWED and not (case == "tile_map" and on_map_ramp(c))}
    assert not stray, f"{case} draws in colours outside the palette: {sorted(stray)}"
    assert colours & {c.lower() for c in PALETTE} or case == "tile_map"


def _fill_by_label(fig: Figure) -> dict[str, str]:
    ax = fig.axes[0]
    return {str(c.get_label()).replace("\n", " "): to_hex(c.patches[0].get_facecolor(), keep_alpha=False)
            for c in ax.containers}


def test_many_categories_never_share_a_colour_and_not_recorded_is_grey() -> None:
    names = [f"Form {i}" for i in range(10)] + ["Not recorded"]
    shares = pd.DataFrame([np.full(len(names), 1 / len(names))] * 3, columns=names, index=[2021, 2022, 2023])
    fig = charts.stacked_shares(shares, PartialYears({2023}), title="Form 0 made up 9%", subtitle="Types",
                                source="test")
    fills = _fill_by_label(fig)
    assert list(fills) == [*names[:len(PALETTE)], "All other", "Not recorded"]  # the rest grouped, not recoloured
    coloured = [fills[n] for n in names[:len(PALETTE)]]
    assert coloured == [c.lower() for c in PALETTE]
    assert fills["All other"] == fills["Not recorded"] == MUTED.lower()
    heights = [c.patches[0].get_height() for c in fig.axes[0].containers]
    assert sum(heights) == pytest.approx(1.0)  # grouping keeps each year's whole


def test_stacked_year_bars_grey_what_is_not_a_category() -> None:
    table = pd.DataFrame({"fiscal_year": [2021, 2022], "Not recorded": [5, 6], "Located": [10, 12], "All other": [3, 4]})
    fig = categories.stacked_year_bars(table, ["Not recorded", "Located", "All other"], PartialYears(), title="t",
                                       subtitle="s", y_label="Arrests", source="test")
    assert _fill_by_label(fig) == {"Not recorded": MUTED.lower(), "Located": PALETTE[0].lower(),
                                   "All other": MUTED.lower()}


def test_more_series_than_the_palette_tells_apart_is_refused() -> None:
    assert series_colours(["A", "Not recorded", "B"]) == [PALETTE[0], MUTED, PALETTE[1]]
    with pytest.raises(ValueError, match="tells only 8 apart"):
        series_colours([f"S{i}" for i in range(len(PALETTE) + 1)])
