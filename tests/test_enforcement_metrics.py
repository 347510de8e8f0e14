"""Enforcement-context metrics on small hand-built frames whose answers are counted by hand,
and the real release's published totals."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from analysis.metrics import enforcement as em
from analysis.metrics.detainers import ending_in_detainer
from analysis.release import PartialYears
from analysis.sections import enforcement as section

LOCAL, G287 = em.LOCAL_JAIL, em.PROGRAM_287G
REAL_RELEASE_ID = "ice-lesa-2019-ICFO-53623-fy2016-2017"
SEA, LA = "Seattle Area of Responsibility", "Los Angeles Area of Responsibility"

# fy, aor, date, method
ARRESTS = pd.DataFrame(
    [(2016, SEA, "2015-10-03", LOCAL), (2016, SEA, "2015-10-20", LOCAL), (2016, LA, "2015-11-02", G287),
     (2016, LA, "2015-11-05", "Located"), (2017, SEA, "2016-10-01", LOCAL), (2017, LA, "2016-10-09", None),
     (2017, None, "2016-12-24", LOCAL), (2017, "HQ Area of Responsibility", "2016-12-30", LOCAL)],
    columns=["fiscal_year", "aor", "apprehension_date", "apprehension_method"],
)


def test_top_with_other_groups_rare_values_and_names_missing_ones():
    values = pd.Series(["a", "a", "a", "b", "b", "c", None, " ", "d"])
    assert em.top_with_other(values, 2).tolist() == ["a", "a", "a", "b", "b", em.OTHER, em.NOT_RECORDED,
                                                     em.NOT_RECORDED, em.OTHER]
    assert em.ordered_categories(em.top_with_other(values, 2)) == ["a", "b", em.OTHER, em.NOT_RECORDED]


def test_counts_by_year_and_category_table():
    table = em.counts_by_year(ARRESTS, "apprehension_method", top=1)
    assert list(table.columns) == ["fiscal_year", LOCAL, em.OTHER, em.NOT_RECORDED]
    assert table.set_index("fiscal_year").loc[2016].tolist() == [2, 2, 0]
    assert table.set_index("fiscal_year").loc[2017].tolist() == [3, 0, 1]
    long = em.category_table(ARRESTS, "apprehension_method", top=1).set_index("category")
    assert long.loc[LOCAL].tolist() == [2, 3, 5] and list(long.columns) == ["FY2016", "FY2017", "Total"]


def test_method_shares_by_year():
    table = em.method_shares_by_year(ARRESTS).set_index("fiscal_year")
    assert table.loc[2016, ["arrests", "local_jail", "program_287g"]].tolist() == [4, 2, 1]
    assert table.loc[2016, "local_jail_share"] == 0.5 and table.loc[2016, "program_287g_share"] == 0.25
    assert table.loc[2017, ["arrests", "local_jail", "program_287g"]].tolist() == [4, 3, 0]


def test_monthly_counts_by_jail_category():
    table = em.monthly_counts(ARRESTS, "apprehension_date", em.jail_categories(ARRESTS)).set_index("month")
    assert table.loc[pd.Timestamp("2015-10-01"), LOCAL] == 2
    assert table.loc[pd.Timestamp("2015-11-01"), [G287, em.OTHER]].tolist() == [1, 1]
    assert table.loc[pd.Timestamp("2016-12-01"), LOCAL] == 2
    assert table.to_numpy().sum() == len(ARRESTS)


def test_arrests_by_aor_uses_short_names():
    table = em.arrests_by_aor(ARRESTS).set_index("aor")
    assert table.loc["Seattle", ["arrests", "local_jail", "program_287g", "local_jail_share"]].tolist() == [3, 3, 0, 1.0]
    assert table.loc["Los Angeles", ["arrests", "local_jail", "program_287g"]].tolist() == [3, 0, 1]
    assert table.loc[em.NOT_RECORDED, "arrests"] == 1 and table.loc["HQ", "arrests"] == 1
    assert section.busiest_aor_finding(em.arrests_by_aor(ARRESTS)) == "Los Angeles recorded the most arrests (3), 0% of them in local jails"


def test_cooperation_by_aor_sets_local_jail_arrests_beside_detainers():
    encounters = pd.DataFrame({"aor": [SEA, SEA, LA, LA, LA, LA, None, "HQ Area of Responsibility"],
                               "processing_disposition": ["Detainer", "Other", "Detainer", "Detainer", " Detainer ",
                                                          "Detainer", "Detainer", "Detainer"]})
    detainers = ending_in_detainer(encounters)
    assert len(detainers) == 7
    table = em.cooperation_by_aor(ARRESTS, detainers).set_index("aor")
    assert sorted(table.index) == ["Los Angeles", "Seattle"]  # no missing AOR, no HQ
    assert table.loc["Seattle", ["local_jail_arrests", "detainers"]].tolist() == [3, 1]
    assert table.loc["Seattle", "arrests_per_detainer"] == 3.0
    assert table.loc["Los Angeles", ["local_jail_arrests", "detainers"]].tolist() == [0, 4]
    assert em.unplaced(detainers) == 2 and em.unplaced(em.local_jail_arrests(ARRESTS)) == 2
    assert section.ratio_range_finding(table.reset_index(), "detainer") == (
        "Local-jail arrests per detainer ranged from 0.00 (Los Angeles) to 3.00 (Seattle)")


def test_ratio_of_an_area_without_detainers_is_missing_and_small_cells_hidden():
    detainers = pd.DataFrame({"aor": [LA, LA, LA]})
    table = em.cooperation_by_aor(ARRESTS, detainers).set_index("aor")
    assert pd.isna(table.loc["Seattle", "arrests_per_detainer"])
    assert section.ratio_range_finding(table.reset_index(), "detainer") is None
    hidden = em.hide_small_ratios(pd.DataFrame({"aor": ["x", "y"], "local_jail_arrests": [2, 10],
                                                "detainers": [10, 20], "arrests_per_detainer": [0.2, 0.5]}), 3)
    assert pd.isna(hidden.loc[0, "arrests_per_detainer"]) and hidden.loc[1, "arrests_per_detainer"] == 0.5


def test_real_release_reproduces_published_totals(real_project):
    from analysis.report.context import ReportContext

    ctx = ReportContext.from_parameters(release=REAL_RELEASE_ID)
    arrests = em.records_by_year(ctx.load("arrests", ["apprehension_method"])).set_index("fiscal_year")["records"]
    assert arrests.to_dict() == {2016: 110_104, 2017: 143_470}
    removals = em.records_by_year(ctx.load("removals", ["aor"])).set_index("fiscal_year")["records"]
    assert removals.to_dict() == {2016: 240_255, 2017: 226_119}
    encounters = ctx.load("encounters", ["processing_disposition"])
    detainers = em.records_by_year(ending_in_detainer(encounters)).set_index("fiscal_year")["records"]
    assert detainers.to_dict() == {2016: 45_099, 2017: 72_502}
    assert ctx.data.partial_years("arrests") == PartialYears()  # FY2016 and FY2017 both complete


def test_monthly_counts_accept_date_objects_and_skip_missing_dates():
    frame = pd.DataFrame({"apprehension_date": [dt.date(2016, 9, 30), None]})
    table = em.monthly_counts(frame, "apprehension_date", pd.Series(["x", "x"]))
    assert table["x"].tolist() == [1]


def test_monthly_lines_shade_partial_years_lightly():
    """The partial-year band is a light grey wash behind the lines, not a block hiding them."""
    import matplotlib.colors as mcolors

    from analysis.figures import categories
    from analysis.figures import style as figures

    months = pd.date_range("2023-10-01", "2025-03-01", freq="MS")
    table = pd.DataFrame({"month": months, "arrests": range(len(months))})
    fig = categories.monthly_lines(table, ["arrests"], PartialYears({2025}), title="t", subtitle="s",
                                   y_label="Arrests per month", source="ICE release test, table arrests")
    ax = fig.axes[0]
    bands = [p for p in ax.patches if p.get_label() == "FY2025 (partial fiscal year)"]
    assert len(bands) == 1
    assert bands[0].get_alpha() == 0.15
    assert mcolors.to_hex(bands[0].get_facecolor()) == figures.MUTED.lower()
