"""The enforcement-context section's rules: which part is shown, and the titles and sentences
it writes, on hand-built frames and releases."""

from __future__ import annotations

import pandas as pd

from analysis import words
from analysis.metrics import detainers as dm
from analysis.metrics import enforcement as em
from analysis.release import PartialYears
from analysis.report.parameters import ReportParameters
from analysis.sections import enforcement as section
from tests.fakes import FakeContext, fake_release
from tests.test_enforcement_metrics import ARRESTS, LA, LOCAL, SEA

RELEASE = {"arrests": ["aor"], "encounters": ["aor", "processing_disposition"]}


def test_change_finding_compares_the_last_two_complete_years():
    by_year = pd.DataFrame({"fiscal_year": [2015, 2016, 2017, 2018], "records": [50, 100, 130, 20]})
    partial = PartialYears({2018})
    assert section.change_finding(by_year, "records", "arrests", partial) == \
        "Arrests rose 30% from FY2016 to FY2017 (100 to 130)"
    falling = by_year.assign(records=[50, 200, 150, 20])
    assert section.change_finding(falling, "records", "removals", partial) == \
        "Removals fell 25% from FY2016 to FY2017 (200 to 150)"
    steady = by_year.assign(records=[50, 150, 150, 20])
    assert section.change_finding(steady, "records", "arrests", partial) == \
        "Arrests held steady from FY2016 to FY2017 (150 to 150)"
    one = by_year.iloc[2:]
    assert section.change_finding(one, "records", "arrests", partial) == \
        "130 arrests in FY2017, the only complete fiscal year shown"
    assert section.change_finding(by_year.iloc[3:], "records", "arrests", partial, min_cell=25) == \
        "<25 arrests in the partial fiscal years shown"


def test_change_finding_gives_no_percentage_beside_a_small_cell():
    by_year = pd.DataFrame({"fiscal_year": [2016, 2017], "records": [4, 40]})
    assert section.change_finding(by_year, "records", "arrests", PartialYears(), min_cell=5) == \
        "Arrests rose from FY2016 to FY2017 (<5 to 40)"


def test_jail_share_and_disposition_findings():
    shares = em.method_shares_by_year(ARRESTS)
    assert section.jail_share_finding(shares, PartialYears()) == \
        "Local jails made 50% of arrests in FY2016 and 75% in FY2017; 287(g) 25% and 0%"
    assert section.jail_share_finding(shares, PartialYears({2017})) == "Local jails made 62% of arrests; 287(g) 12%"
    dispositions = pd.Series(["Other", "Other", "Detainer", "Other", None])
    assert section.disposition_finding(dispositions) == "60% of encounters ended in 'Other', 20% in a detainer"
    assert section.disposition_finding(pd.Series(["Detainer", "Detainer", "Other"])) == \
        "67% of encounters ended in 'Detainer'"


def test_disposition_finding_counts_every_spelling_of_detainer():
    dispositions = pd.Series(["Other", "Other", "DETAINER", "Other", " Detainer "])
    assert section.disposition_finding(dispositions) == "60% of encounters ended in 'Other', 40% in a detainer"


def test_jail_share_finding_when_287g_share_is_unchanged():
    shares = pd.DataFrame({"fiscal_year": [2016, 2017], "arrests": [100, 100], "local_jail": [40, 50],
                           "program_287g": [8, 8], "local_jail_share": [0.4, 0.5], "program_287g_share": [0.08, 0.08]})
    assert section.jail_share_finding(shares, PartialYears()) == \
        "Local jails made 40% of arrests in FY2016 and 50% in FY2017; 287(g) 8% in both"


def test_place():
    def place(**params) -> str:
        parameters = ReportParameters(release="sample", **params)
        return words.place(parameters.state, parameters.aor)

    assert place() == "the United States"
    assert place(state="ca") == "California"
    assert place(aor="seattle") == "the Seattle area of responsibility"


def test_part_skip_reason_and_detainer_measure():
    assert section.part_skip_reason(fake_release(RELEASE), "arrests", "the arrests part") is None
    assert section.part_skip_reason(fake_release(RELEASE), "removals", "the removals part") == \
        "This release has no removals table, so the removals part is not shown."
    assert section.part_skip_reason(fake_release(RELEASE, state="CA"), "arrests", "the arrests part") == \
        "The arrests table has no state column, so the arrests part cannot be limited to California (CA) and is not shown."
    assert section.part_skip_reason(fake_release(RELEASE, aor="Seattle"), "arrests", "the arrests part") is None
    assert dm.detainer_measure(fake_release(RELEASE), ["aor"]).table == "encounters"
    assert dm.detainer_measure(fake_release({**RELEASE, "detainers": ["aor", "state"]}), ["aor"]).table == "detainers"
    assert dm.detainer_measure(fake_release({"arrests": ["aor"]}), ["aor"]) is None


def test_comparison_skip_reason():
    release = fake_release(RELEASE)
    assert section.comparison_skip_reason(release, dm.detainer_measure(release, ["aor"])) is None
    assert section.comparison_skip_reason(fake_release({"arrests": ["aor"]}), None) == (
        "This release has neither a detainers table nor encounters with a processing disposition, so this "
        "comparison is not shown.")
    assert section.comparison_skip_reason(fake_release({"encounters": ["aor"]}), None) == \
        "This release has no arrests table, so this comparison is not shown."
    scoped = fake_release({"arrests": ["aor", "state"], "encounters": ["aor", "processing_disposition"]}, state="WA")
    assert section.comparison_skip_reason(scoped, dm.ENCOUNTERS_ENDING_IN_DETAINER) == (
        "The encounters table has no state column, so this comparison cannot be limited to Washington (WA) and is "
        "not shown.")


def test_years_list_suppresses_small_cells():
    by_year = pd.DataFrame({"fiscal_year": [2016, 2017], "records": [110_104, 3]})
    assert section.years_list(by_year) == "110,104 in FY2016, 3 in FY2017"
    assert section.years_list(by_year, min_cell=5) == "110,104 in FY2016, <5 in FY2017"


def test_arrests_introduction_names_the_methods_and_their_relabelling():
    text = section.arrests_introduction("1,204", "California", "1,204 in FY2016", 12)
    assert text.startswith("ICE ERO recorded **1,204 administrative arrests** in California (1,204 in FY2016).")
    assert "(12 different labels appear here)" in text and "relabelling" in text


def test_unplaced_sentence():
    assert section.unplaced_sentence(0, 0, "detainers") == \
        "Every local-jail arrest and every one of the detainers names an area of responsibility."
    assert section.unplaced_sentence(3, 1200, "detainers", min_cell=5).startswith(
        "<5 local-jail arrests and 1,200 detainers recorded without an area of responsibility")


def test_ratio_notes_name_encounters_only_when_they_count_detainers():
    assert "not detainers prepared" not in section.ratio_notes(dm.DETAINERS_PREPARED)
    notes = section.ratio_notes(dm.ENCOUNTERS_ENDING_IN_DETAINER)
    assert notes.count("\n\n- ") == 2 and notes.startswith("- **What the ratio can say.**")
    assert notes.endswith("should not be expected to agree.")


def test_removals_basis_names_the_date_that_stands_in_for_the_removal_date():
    assert section.removals_basis("removal_date", True) == \
        "counted by the fiscal year of removal and the area of responsibility ICE recorded."
    assert section.removals_basis("departed_date", False) == (
        "counted by the fiscal year of their departed date (the release has no removal date); the table records no "
        "area of responsibility.")


def _section_tables(frames: dict[str, pd.DataFrame], **params) -> tuple[dict[str, pd.DataFrame], list[str]]:
    """Every table and sentence notebook 05 shows over `frames` (counted in DuckDB from parquet)."""
    tables = {name: list(frame.columns) for name, frame in frames.items()}
    ctx = FakeContext(tables, frames, **params)
    shown: dict[str, pd.DataFrame] = {}
    ctx.show_table = lambda frame, *, name, **_: shown.__setitem__(name, frame)  # type: ignore[method-assign]
    ctx.show_figure = lambda fig, **_: None  # type: ignore[method-assign]
    context = section.EnforcementContext(ctx)
    for part in ("arrests_introduction", "arrests_by_method", "local_jails_and_287g", "arrests_by_aor", "encounters",
                 "cooperation_introduction", "cooperation_by_aor"):
        getattr(context, part)()
    return shown, ctx.said


DATED_ARRESTS = ARRESTS.assign(apprehension_date=pd.to_datetime(ARRESTS["apprehension_date"]),
                               apprehension_method=ARRESTS["apprehension_method"].where(ARRESTS.index != 3, " Located "))
ENCOUNTERS = pd.DataFrame({
    "fiscal_year": [2016, 2016, 2016, 2017, 2017, 2017, 2017],
    "aor": [SEA, SEA, LA, LA, LA, "HQ Area of Responsibility", None],
    "processing_disposition": ["Detainer", " DETAINER", "Notice to Appear", "Detainer", "Notice to Appear",
                               "Detainer", None],
})


def test_the_section_counts_in_duckdb_what_the_rules_count_on_records():
    shown, said = _section_tables({"arrests": DATED_ARRESTS, "encounters": ENCOUNTERS})
    methods = shown["arrests-by-method"].set_index("Apprehension method")
    assert methods.loc[LOCAL].tolist() == [2, 3, 5] and methods.loc["Located"].tolist() == [1, 0, 1]
    assert methods.loc[em.NOT_RECORDED].tolist() == [0, 1, 1] and methods["Total"].sum() == len(ARRESTS)
    jail = shown["arrests-local-jail-287g"].set_index("Fiscal year")
    assert jail[["Arrests", "In local jails", "Through 287(g)"]].to_numpy().tolist() == [[4, 2, 1], [4, 3, 0]]
    by_aor = shown["arrests-by-aor"].set_index("Area of responsibility")
    assert by_aor.loc["Seattle", ["Arrests", "In local jails"]].tolist() == [3, 3]
    assert by_aor.loc["Los Angeles", ["Arrests", "Through 287(g)"]].tolist() == [3, 1]
    assert "ICE ERO recorded **8 administrative arrests**" in said[0] and "(3 different labels appear here)" in said[0]
    assert "**7 encounters**" in said[1] and "(2 in FY2016, 2 in FY2017)" in said[1]
    dispositions = shown["encounters-by-disposition"].set_index("Processing disposition")
    assert dispositions.loc["Detainer"].tolist() == [1, 2, 3] and dispositions.loc["DETAINER"].tolist() == [1, 0, 1]
    cooperation = shown["local-jail-arrests-vs-detainers"].set_index("Area of responsibility")
    assert cooperation.loc["Seattle"].tolist() == [3, 2, "1.50"] and cooperation.loc["Los Angeles"].tolist() == [0, 1, "0.00"]
    unplaced = next(text for text in said if text.startswith("Each area of responsibility's arrests in local jails"))
    assert "HQ" not in cooperation.index and "2 local-jail arrests and 1 encounters ending in a detainer recorded without" in unplaced


def test_the_section_counts_only_the_scope_in_duckdb():
    shown, said = _section_tables({"arrests": DATED_ARRESTS, "encounters": ENCOUNTERS}, aor="Seattle", fy_start=2017)
    assert "ICE ERO recorded **1 administrative arrests**" in said[0]
    assert shown["arrests-by-aor"]["Arrests"].tolist() == [1]
    assert "*The encounters table has no record in the Seattle area of responsibility in these years" in said[1]
