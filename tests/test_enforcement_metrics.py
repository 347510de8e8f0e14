"""Enforcement-context metrics on small hand-built frames whose answers are counted by hand,
and the real release's published totals."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import pandas as pd

from analysis.metrics import enforcement as em
from analysis.report.context import format_count
from analysis.report.parameters import ReportParameters

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
    assert em.busiest_aor_finding(em.arrests_by_aor(ARRESTS)) == "Los Angeles recorded the most arrests (3), 0% of them in local jails"


def test_cooperation_by_aor_sets_local_jail_arrests_beside_detainers():
    encounters = pd.DataFrame({"aor": [SEA, SEA, LA, LA, LA, LA, None, "HQ Area of Responsibility"],
                               "processing_disposition": ["Detainer", "Other", "Detainer", "Detainer", " Detainer ",
                                                          "Detainer", "Detainer", "Detainer"]})
    detainers = em.detainer_encounters(encounters)
    assert len(detainers) == 7
    table = em.cooperation_by_aor(ARRESTS, detainers).set_index("aor")
    assert sorted(table.index) == ["Los Angeles", "Seattle"]  # no missing AOR, no HQ
    assert table.loc["Seattle", ["local_jail_arrests", "detainers"]].tolist() == [3, 1]
    assert table.loc["Seattle", "arrests_per_detainer"] == 3.0
    assert table.loc["Los Angeles", ["local_jail_arrests", "detainers"]].tolist() == [0, 4]
    assert em.unplaced(detainers) == 2 and em.unplaced(em.local_jail_arrests(ARRESTS)) == 2
    assert em.ratio_range_finding(table.reset_index(), "detainer") == (
        "Local-jail arrests per detainer ranged from 0.00 (Los Angeles) to 3.00 (Seattle)")


def test_ratio_of_an_area_without_detainers_is_missing_and_small_cells_hidden():
    detainers = pd.DataFrame({"aor": [LA, LA, LA]})
    table = em.cooperation_by_aor(ARRESTS, detainers).set_index("aor")
    assert pd.isna(table.loc["Seattle", "arrests_per_detainer"])
    assert em.ratio_range_finding(table.reset_index(), "detainer") is None
    hidden = em.hide_small_ratios(pd.DataFrame({"aor": ["x", "y"], "local_jail_arrests": [2, 10],
                                                "detainers": [10, 20], "arrests_per_detainer": [0.2, 0.5]}), 3)
    assert pd.isna(hidden.loc[0, "arrests_per_detainer"]) and hidden.loc[1, "arrests_per_detainer"] == 0.5


def test_change_finding_compares_the_last_two_complete_years():
    by_year = pd.DataFrame({"fiscal_year": [2015, 2016, 2017, 2018], "records": [50, 100, 130, 20]})
    partial = {2018: True}
    assert em.change_finding(by_year, "records", "arrests", partial) == "Arrests rose 30% from FY2016 to FY2017 (100 to 130)"
    falling = by_year.assign(records=[50, 200, 150, 20])
    assert em.change_finding(falling, "records", "removals", partial) == "Removals fell 25% from FY2016 to FY2017 (200 to 150)"
    one = by_year.iloc[2:]
    assert em.change_finding(one, "records", "arrests", partial) == "130 arrests in FY2017, the only complete fiscal year shown"
    assert em.change_finding(by_year.iloc[3:], "records", "arrests", partial, min_cell=25) == \
        "<25 arrests in the partial fiscal years shown"


def test_jail_share_and_disposition_findings():
    shares = em.method_shares_by_year(ARRESTS)
    assert em.jail_share_finding(shares, {}) == "Local jails made 50% of arrests in FY2016 and 75% in FY2017; 287(g) 25% and 0%"
    assert em.jail_share_finding(shares, {2017: True}) == "Local jails made 62% of arrests; 287(g) 12%"
    dispositions = pd.Series(["Other", "Other", "Detainer", "Other", None])
    assert em.disposition_finding(dispositions) == "60% of encounters ended in 'Other', 20% in a detainer"
    assert em.disposition_finding(pd.Series(["Detainer", "Detainer", "Other"])) == "67% of encounters ended in 'Detainer'"


def test_jail_share_finding_when_287g_share_is_unchanged():
    shares = pd.DataFrame({"fiscal_year": [2016, 2017], "arrests": [100, 100], "local_jail": [40, 50],
                           "program_287g": [8, 8], "local_jail_share": [0.4, 0.5], "program_287g_share": [0.08, 0.08]})
    assert em.jail_share_finding(shares, {}) == "Local jails made 40% of arrests in FY2016 and 50% in FY2017; 287(g) 8% in both"


def test_place():
    assert em.place(ReportParameters(release="sample")) == "the United States"
    assert em.place(ReportParameters(release="sample", state="ca")) == "California"
    assert em.place(ReportParameters(release="sample", aor="seattle")) == "the Seattle area of responsibility"


def test_small_counts_are_suppressed_in_labels():
    assert format_count(0, 5) == "0" and format_count(3, 5) == "<5" and format_count(12345, 5) == "12,345"


def fake_context(tables: dict[str, list[str]], **params) -> SimpleNamespace:
    parameters = ReportParameters(release="sample", **params)
    ctx = SimpleNamespace(params=parameters)
    ctx.has = lambda table, columns=(): table in tables and all(c in tables[table] for c in columns)
    ctx.geography_filter_column = lambda table: "state" if parameters.state else ("aor" if parameters.aor else None)
    ctx.can_filter = lambda table: ctx.geography_filter_column(table) in (None, *tables.get(table, []))
    return ctx


def test_part_skip_reason_and_detainer_measure():
    release = {"arrests": ["aor"], "encounters": ["aor", "processing_disposition"]}
    assert em.part_skip_reason(fake_context(release), "arrests", "the arrests part") is None
    assert em.part_skip_reason(fake_context(release), "removals", "the removals part") == \
        "This release has no removals table, so the removals part is not shown."
    assert em.part_skip_reason(fake_context(release, state="CA"), "arrests", "the arrests part") == \
        "The arrests table has no state column, so the arrests part cannot be limited to California (CA) and is not shown."
    assert em.part_skip_reason(fake_context(release, aor="Seattle"), "arrests", "the arrests part") is None
    assert em.detainer_measure(fake_context(release))[0] == "encounters"
    assert em.detainer_measure(fake_context({**release, "detainers": ["aor", "state"]}))[0] == "detainers"
    assert em.detainer_measure(fake_context({"arrests": ["aor"]})) is None


def test_partial_by_year():
    manifest = {"tables": {"arrests": {"fiscal_year_coverage": {
        "2024": {"first": "2023-10-01", "last": "2024-09-30"}, "2025": {"first": "2024-10-01", "last": "2025-03-31"}}}}}
    assert em.partial_by_year(manifest, "arrests") == {2024: False, 2025: True}
    assert em.partial_by_year(manifest, "arrests", years=pd.Series([2024])) == {2024: False}


def test_real_release_reproduces_published_totals(real_project):
    from analysis.report.context import ReportContext

    ctx = ReportContext.from_parameters(release=REAL_RELEASE_ID)
    arrests = em.records_by_year(ctx.load("arrests", ["apprehension_method"])).set_index("fiscal_year")["records"]
    assert arrests.to_dict() == {2016: 110_104, 2017: 143_470}
    removals = em.records_by_year(ctx.load("removals", ["aor"])).set_index("fiscal_year")["records"]
    assert removals.to_dict() == {2016: 240_255, 2017: 226_119}
    encounters = ctx.load("encounters", ["processing_disposition"])
    detainers = em.records_by_year(em.detainer_encounters(encounters)).set_index("fiscal_year")["records"]
    assert detainers.to_dict() == {2016: 45_099, 2017: 72_502}
    assert em.partial_by_year(ctx.manifest, "arrests") == {2016: False, 2017: False}


def test_monthly_counts_accept_date_objects_and_skip_missing_dates():
    frame = pd.DataFrame({"apprehension_date": [dt.date(2016, 9, 30), None]})
    table = em.monthly_counts(frame, "apprehension_date", pd.Series(["x", "x"]))
    assert table["x"].tolist() == [1]


def test_monthly_lines_shade_partial_years_lightly():
    """The partial-year band is a light grey wash behind the lines, not a block hiding them."""
    import matplotlib.colors as mcolors

    from analysis.figures import enforcement as enforcement_charts
    from analysis.figures import style as figures

    months = pd.date_range("2023-10-01", "2025-03-01", freq="MS")
    table = pd.DataFrame({"month": months, "arrests": range(len(months))})
    fig, ax = enforcement_charts.monthly_lines(table, ["arrests"], {2024: False, 2025: True}, title="t",
                                              subtitle="s", y_label="Arrests per month")
    bands = [p for p in ax.patches if p.get_label() == "FY2025 (partial fiscal year)"]
    assert len(bands) == 1
    assert bands[0].get_alpha() == 0.15
    assert mcolors.to_hex(bands[0].get_facecolor()) == figures.MUTED.lower()
