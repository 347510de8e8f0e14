"""charts: each figure carries its title, axis labels, source line and partial-year marking,
draws what it is given, and keeps long titles on the figure."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from matplotlib import cbook
from matplotlib.patches import Rectangle

from analysis.figures import charts
from analysis.figures.alt import alt_of
from analysis.figures.style import PARTIAL_HATCH, render
from analysis.metrics.distribution import Distribution
from analysis.release import PartialMonths, PartialYears
from analysis.vocab.geography import STATES
from analysis.words import count as format_count
from analysis.words import share as share_text

SOURCE = "ICE release test, table detainers (SYNTHETIC)"
LONG_TITLE = ("Synthetic County Facility CA-01 received the most detainers prepared: 1,234; the top 15 of 162 "
              "facilities received 43%")


def texts(fig) -> str:
    found = [t.get_text() for t in fig.texts]
    for ax in fig.axes:
        found += [t.get_text() for t in ax.texts]
        found += [ax.get_title(loc="left"), ax.get_xlabel(), ax.get_ylabel()]
        found += [label.get_text() for label in ax.get_xticklabels() + ax.get_yticklabels()]
        legend = ax.get_legend()
        if legend:
            found += [t.get_text() for t in legend.get_texts()]
    return "\n".join(found)


def title_of(fig) -> str:
    return fig.axes[0].get_title(loc="left").replace("\n", " ")


def assert_inside(fig) -> None:
    """Title and subtitle end inside the figure (rendered at the figure's resolution)."""
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    ax = fig.axes[0]
    for artist in (ax._left_title, ax.texts[0]):
        assert artist.get_window_extent(renderer).x1 <= fig.bbox.x1


def test_count_and_share_text():
    assert format_count(12345) == "12,345"
    assert format_count(3, min_cell=11) == "<11"
    assert format_count(0, min_cell=11) == "0"
    assert format_count(float("nan")) == "–"
    assert share_text(0.4567) == "46%"
    assert share_text(0.4567, 1) == "45.7%"
    assert share_text(0.004) == "<1%"
    assert share_text(0.0004, 1) == "<0.1%"
    assert share_text(0.0) == "0%"


def test_tile_map_draws_every_state_once_with_labels_and_source():
    values = {"CA": 100, "TX": 50, "PR": 7}  # PR is not a tile: ignored on the map
    fig = charts.tile_map(values, labels={"TX": "<60"}, title=LONG_TITLE, subtitle="Detainers by state",
                          legend_label="Detainers (number)", source=SOURCE)
    tiles = [p for p in fig.axes[0].patches if isinstance(p, Rectangle)]
    assert len(tiles) == len(STATES) == 51
    shown = texts(fig)
    assert "CA\n" in shown + "\n" and "100" in shown and "<60" in shown and SOURCE in shown
    assert shown.count("–") == 49  # the states without a value
    greys = [t for t in tiles if t.get_facecolor()[:3] == pytest.approx((0.933, 0.933, 0.933), abs=0.01)]
    assert len(greys) == 49
    assert_inside(fig)
    render(fig)


def test_monthly_series_marks_partial_years_and_labels_axes():
    monthly = pd.DataFrame({"month": pd.date_range("2022-10-01", periods=18, freq="MS"), "count": np.arange(18) * 100})
    fig = charts.monthly_series(monthly, title="Detainers rose", subtitle="per month", y_label="Detainers per month",
                                series_label="detainers prepared", source=SOURCE, partial=PartialYears({2024}))
    ax = fig.axes[0]
    assert ax.get_ylabel() == "Detainers per month" and ax.get_xlabel().startswith("Month")
    assert list(ax.lines[0].get_ydata()) == list(monthly["count"])
    assert "FY2024 (partial year)" in texts(fig)
    assert any(p.get_hatch() == PARTIAL_HATCH for p in ax.patches)
    assert ax.yaxis.get_major_formatter()(1500, 0) == "1,500"
    render(fig)


def test_monthly_series_leaves_out_a_partial_last_month():
    monthly = pd.DataFrame({"month": pd.date_range("2019-01-01", periods=9, freq="MS"), "count": [90] * 8 + [3]})
    shown, note = PartialMonths(last=pd.Timestamp("2019-09-01")).leave_out(monthly)
    assert note == "September 2019 is left out: the records end on 1 September 2019."
    fig = charts.monthly_series(shown, title="Detainers", subtitle="per month", y_label="Detainers per month",
                                series_label="detainers", source=SOURCE)
    drawn = pd.to_datetime(fig.axes[0].lines[0].get_xdata())
    assert drawn.max() == pd.Timestamp("2019-08-01") and min(fig.axes[0].lines[0].get_ydata()) == 90
    assert "January 2019 to August 2019: highest " in alt_of(fig).parts
    render(fig)


def test_fiscal_year_bars_hatch_partial_years_and_write_values():
    fig = charts.fiscal_year_bars([2024, 2025], {"strict": [1200, 3], "broad": [1500, 5]},
                                  PartialYears({2025}), title="Declines rose", subtitle="by year", y_label="Declined",
                                  source=SOURCE, min_cell=5)
    ax = fig.axes[0]
    bars = [p for p in ax.patches if isinstance(p, Rectangle) and p.get_height() > 0]
    assert sorted(b.get_height() for b in bars) == [3, 5, 1200, 1500]
    assert [b.get_hatch() for b in bars] == [None, PARTIAL_HATCH, None, PARTIAL_HATCH]
    shown = texts(fig)
    assert "1,200" in shown and "<5" in shown and "partial fiscal year" in shown and "strict" in shown
    assert "FY2025\n(partial)" in shown
    assert ax.get_ylim()[1] > 1500  # room for labels and legend
    render(fig)


def test_stacked_shares_stack_to_one_and_read_top_down_in_the_legend():
    shares = pd.DataFrame({"Booked": [0.6, 0.5], "Declined": [0.3, 0.4], "Open": [0.1, 0.1]}, index=[2024, 2025])
    fig = charts.stacked_shares(shares, PartialYears({2025}), title=LONG_TITLE,
                                subtitle="Outcomes", source=SOURCE)
    ax = fig.axes[0]
    tops = {}
    for bar in ax.patches:
        x = round(bar.get_x() + bar.get_width() / 2)
        tops[x] = max(tops.get(x, 0), bar.get_y() + bar.get_height())
    assert tops == {0: pytest.approx(1.0), 1: pytest.approx(1.0)}
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend == ["Open", "Declined", "Booked", "partial fiscal year"]
    assert "60%" in texts(fig) and ax.get_ylabel() == "Share of the year's records"
    assert_inside(fig)
    render(fig)


def test_ranked_bars_largest_on_top_with_value_labels():
    fig = charts.ranked_bars(["Jail A (CA)", "Jail B (TX)", "Not recorded"], [300, 120, 4], title="Jail A led",
                             subtitle="by facility", x_label="Detainers", source=SOURCE, min_cell=5,
                             muted=["Not recorded"])
    ax = fig.axes[0]
    bars = sorted(ax.patches, key=lambda b: -b.get_y())  # top first
    assert [b.get_width() for b in bars] == [300, 120, 4]
    assert bars[2].get_facecolor() != bars[0].get_facecolor()
    ticks = sorted(zip(ax.get_yticks(), [t.get_text() for t in ax.get_yticklabels()], strict=True), reverse=True)
    assert [label for _y, label in ticks] == ["Jail A (CA)", "Jail B (TX)", "Not recorded"]  # top to bottom
    shown = texts(fig)
    assert "300" in shown and "<5" in shown and ax.get_xlabel() == "Detainers"
    render(fig)


def test_ranked_bars_share_format():
    fig = charts.ranked_bars(["A", "B"], [0.25, 0.1], value_format="share", title="A declined most",
                             subtitle="rates", x_label="Share declined", source=SOURCE,
                             value_labels=["25.0% of 80", "10.0% of 90"])
    assert "25.0% of 80" in texts(fig)
    assert fig.axes[0].xaxis.get_major_formatter()(0.25, 0) == "25%"
    render(fig)


def test_box_by_group_writes_n_and_median():
    groups = {"Booked into ICE custody": np.array([1, 2, 3, 4, 100.0]), "Declined by the agency": np.array([5.0, 7])}
    fig = charts.box_by_group(groups, title="Declines took longer", subtitle="days", x_label="Days",
                              source=SOURCE, min_cell=3)
    shown = texts(fig)
    assert "n = 5, median 3" in shown and "n = <3, median 6" in shown and "Days" in shown
    assert_inside(fig)
    render(fig)


@pytest.mark.parametrize("seed", range(4))
def test_box_statistics_of_counted_values_are_matplotlibs_of_the_values(seed):
    """Quartiles, median and whisker ends as matplotlib's boxplot(whis=(5, 95)) computes them from
    the values, exactly: so a box plot drawn from counts is the one drawn from the records."""
    rng = np.random.default_rng(seed)
    cases = [[0.0, 10.0], [3.0], [5.0, 5, 5], [0.0, 0, 0, 1, 200]]
    cases += [rng.integers(0, int(rng.integers(1, 500)), size=int(rng.integers(1, 400))).astype(float) for _ in range(50)]
    for values in cases:
        expected = cbook.boxplot_stats(np.asarray(values), whis=(5, 95))[0]
        values_as_counts = np.unique(values, return_counts=True)
        found = charts._box_stats(Distribution(*values_as_counts))
        assert found == {key: expected[key] for key in ("q1", "med", "q3", "whislo", "whishi")}


def test_box_by_group_draws_the_same_figure_from_values_and_from_their_counts():
    values = {"Booked into ICE custody": [1.0, 2, 2, 3, 4, 100], "Declined by the agency": [5.0, 7, 7, 7]}
    counted = {name: Distribution.of(np.unique(v), np.unique(v, return_counts=True)[1]) for name, v in values.items()}
    drawn = [charts.box_by_group(groups, title="Declines took longer", subtitle="days", x_label="Days", source=SOURCE)
             for groups in (values, counted)]
    texts = [alt_of(fig).text(format_count) for fig in drawn]
    assert texts[0] == texts[1] and "Declined by the agency: median 7, middle half 6 to 7 (n = 4)" in texts[1]
    assert render(drawn[0]) == render(drawn[1])


def test_long_titles_wrap_to_stay_on_the_figure():
    fig = charts.ranked_bars([f"A facility with a rather long name number {i}" for i in range(3)], [3, 2, 1],
                             title=LONG_TITLE, subtitle="A subtitle that is also long enough to need wrapping on a "
                             "figure whose bars start far to the right, after long labels",
                             x_label="Detainers", source=SOURCE)
    assert "\n" in fig.axes[0].get_title(loc="left")
    assert title_of(fig) == LONG_TITLE
    assert_inside(fig)


def test_multi_line_charts_label_each_line_at_its_end_in_its_colour():
    from analysis.figures.style import label_line_ends
    from tests.chart_cases import monthly_lines

    fig, _title = monthly_lines()
    ax = fig.axes[0]
    names = ["CAP Local Incarceration", "287(g) Program", "All other methods"]
    labels = {t.get_text().replace("\n", " "): t for t in ax.texts if t.get_text().replace("\n", " ") in names}
    for line, name in zip(ax.lines, names, strict=True):
        assert name in labels and labels[name].get_color() == line.get_color()
    ys = sorted(t.xy[1] for t in labels.values())  # type: ignore[attr-defined]  # annotations
    bottom, top = ax.get_ylim()
    assert all(b - a >= (top - bottom) * 0.09 - 1e-9 for a, b in zip(ys, ys[1:], strict=False))  # never overlapping
    assert ax.get_legend() is None  # no partial years: the labels say all a legend would
    label_line_ends(ax, [], [])
    render(fig)
