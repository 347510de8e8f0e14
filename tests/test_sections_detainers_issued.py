"""The detainers-issued section's rules: what it counts, when it stops, and the titles and
sentences it writes."""

from __future__ import annotations

import pandas as pd
import pytest

from analysis.metrics import detainers as dm
from analysis.release import PartialYears
from analysis.report.context import SectionSkipped
from analysis.sections import detainers_issued as issued
from analysis.sections.common import stop_if_empty
from tests.fakes import FakeContext
from tests.test_detainer_metrics import small
from tests.test_sections_detainer_outcomes import RecordingContext

ENCOUNTERS = ["aor", "event_date", "processing_disposition"]


# ---------------------------------------------------------------- what is counted, and when the section stops


def test_issued_measure_prefers_detainers():
    ctx = FakeContext({"detainers": ["detainer_prepare_date", "state"], "encounters": ENCOUNTERS})
    assert issued.issued_measure(ctx) is dm.DETAINERS_PREPARED


def test_issued_measure_falls_back_to_encounters_and_names_them():
    ctx = FakeContext({"encounters": ENCOUNTERS})
    measure = issued.issued_measure(ctx)
    assert measure.from_encounters and measure.noun == "encounters ending in a detainer"


def test_issued_measure_with_a_state_filter_skips_rather_than_show_national_numbers():
    ctx = FakeContext({"encounters": ENCOUNTERS}, state="CA")
    with pytest.raises(SectionSkipped, match="no state column.*rather than show national numbers"):
        issued.issued_measure(ctx)
    assert len(ctx.said) == 1


def test_issued_measure_without_either_table_skips_in_one_sentence():
    ctx = FakeContext({"arrests": ["aor"]})
    with pytest.raises(SectionSkipped, match="This release has no detainers table"):
        issued.issued_measure(ctx)


def test_stop_if_empty():
    stop_if_empty(FakeContext({}), small(), "detainers")  # records: carries on
    ctx = FakeContext({}, state="CA")
    with pytest.raises(SectionSkipped, match="no detainers for California"):
        stop_if_empty(ctx, small().iloc[:0], "detainers")
    assert len(ctx.said) == 1


def test_stop_if_empty_names_the_fiscal_years_of_the_report():
    ctx = FakeContext({}, fy_start=2022)
    with pytest.raises(SectionSkipped) as stopped:
        stop_if_empty(ctx, small().iloc[:0], "detainers")
    assert str(stopped.value) == ("The release has no detainers for United States (all states) in FY2022 to FY…, "
                                  "so this section is skipped.")
    assert ctx.said == [f"*{stopped.value}*"]


# ---------------------------------------------------------------- titles and sentences


def monthly(first: float, last: float) -> tuple[tuple[float, float], pd.Series]:
    return (first, last), pd.Series({"month": pd.Timestamp("2023-03-01"), "count": 1500})


@pytest.mark.parametrize(("first", "last", "start"), [
    (1000, 1051, "Detainers prepared rose from 1,000 a month"),
    (1000, 1050, "Detainers prepared held steady at about 1,050 a month (1,000 in the first 12 months)"),
    (1000, 950, "Detainers prepared held steady at about 950 a month"),
    (1000, 949, "Detainers prepared fell from 1,000 a month in the first 12 months to 949 a month in the last 12"),
])
def test_monthly_title_verb_changes_beyond_five_percent(first, last, start):
    change, busiest = monthly(first, last)
    assert issued.monthly_title("detainers prepared", change, busiest).startswith(start)


def test_monthly_title_without_two_windows_names_the_busiest_month_and_hides_small_cells():
    _, busiest = monthly(0, 0)
    assert issued.monthly_title("encounters ending in a detainer", None, busiest) == \
        "Encounters ending in a detainer peaked in March 2023 at 1,500"
    change, _ = monthly(3, 40)
    assert issued.monthly_title("detainers prepared", change, busiest, min_cell=5) == \
        "Detainers prepared rose from <5 a month in the first 12 months to 40 a month in the last 12"


def test_busiest_month_is_the_earliest_of_a_tie():
    frame = pd.DataFrame({"month": pd.to_datetime(["2023-01-01", "2023-02-01", "2023-03-01"]), "count": [5, 9, 9]})
    assert issued.busiest_month(frame).month == pd.Timestamp("2023-02-01")


def test_peak_year_title_prefers_complete_years():
    totals = dm.fiscal_year_totals(small(), PartialYears({2022}))
    assert issued.peak_year_title(totals, "detainers prepared") == \
        "FY2021 had the most detainers prepared of any complete fiscal year: 5"
    every_year_partial = totals.assign(partial=True)
    assert issued.peak_year_title(every_year_partial, "detainers prepared", min_cell=10) == \
        "FY2021 had the most detainers prepared: <10"


def test_states_and_facilities_titles():
    states = dm.state_counts(small())
    on_map = states[states.on_map & (states["count"] > 0)]
    assert issued.states_title(on_map, "detainers prepared") == "California and Texas received 88% of detainers prepared"
    assert issued.states_title(on_map.head(1), "detainers prepared") == "All detainers prepared on the map were in California"
    facilities = dm.facility_counts(small())
    assert issued.facilities_title(facilities, facilities.head(2), "detainers prepared") == \
        "Jail A received the most detainers prepared: 4; the top 2 of 3 facilities received 88%"
    assert issued.facilities_title(facilities, facilities, "detainers prepared", min_cell=5) == \
        "Jail A received the most detainers prepared: <5 (50% of the total; 3 facilities in all)"


def test_criminality_title():
    shares = dm.wide_shares(dm.criminality_shares(small()))
    assert issued.criminality_title(shares, ["FY2021", "FY2022 (partial)"], "detainers prepared") == \
        "Convicted criminals were 60% of detainers prepared in FY2021 and 33% in FY2022 (partial)"
    one_year = shares.head(1).drop(columns="Convicted criminal")
    assert issued.criminality_title(one_year, ["FY2021"], "detainers prepared") == \
        "Pending criminal charges were 20% of detainers prepared in FY2021"


def test_form_legend_names_only_abbreviated_forms():
    assert issued.form_legend(["Immigration Detainer - Notice of Action (I-247A)", "Other"]) == \
        "I-247A = Immigration Detainer - Notice of Action (I-247A)"


def test_introduction_names_the_measure():
    assert issued.introduction(dm.DETAINERS_PREPARED, "8", "California (CA)", "FY2021 to FY2022 (partial)") == (
        "The release holds **8 detainers prepared** in California (CA), FY2021 to FY2022 (partial). Each is counted "
        "in the month and fiscal year of its prepare date and at the facility it was sent to.")
    text = issued.introduction(dm.ENCOUNTERS_ENDING_IN_DETAINER, "117,601", "United States (all states)", "FY2016")
    assert text.startswith("**This release has no detainers table.**")
    assert "117,601 of them in United States (all states), FY2016" in text
    assert "different measure from detainers prepared" in text


def test_partial_note():
    coverage = {"2025": {"first": "2024-10-01", "last": "2025-03-31"}}
    assert issued.partial_note([], coverage) is None
    assert issued.partial_note([2025], coverage) == (
        "FY2025 is a partial year (records from 2024-10-01 to 2025-03-31): its totals are not comparable with full "
        "years, so tables label it and figures hatch it.")


def test_encounters_out_of_scope():
    ctx = FakeContext({}, aor="Seattle")
    assert issued.encounters_out_of_scope(ctx.params.scope) == (
        "This release has no detainers table, and its encounters table has no aor column, so encounters ending in a "
        "detainer cannot be limited to Seattle area of responsibility and this section is skipped rather than show "
        "national numbers.")


def test_title_rules_with_one_item_state_it_without_comparing():
    one_year = dm.fiscal_year_totals(small()[small().fiscal_year == 2022], PartialYears({2022}))
    assert issued.peak_year_title(one_year, "detainers prepared") == "FY2022 (partial): 3 detainers prepared"
    one_jail = small()[small().facility == "Jail B"]
    facilities = dm.facility_counts(one_jail)
    assert issued.facilities_title(facilities, facilities, "detainers prepared") == \
        "All detainers prepared went to Jail B: 3"
    assert issued.aor_title(dm.aor_counts(one_jail), "detainers prepared") == \
        "All detainers prepared were in the Houston area of responsibility: 3"
    assert issued.aor_title(dm.aor_counts(small()), "detainers prepared") == \
        "The Los Angeles area of responsibility had the most detainers prepared: 4 (50%)"
    monthly = dm.monthly_counts(one_jail.head(1), "detainer_prepare_date")
    assert issued.monthly_title("detainers prepared", None, issued.busiest_month(monthly), months=len(monthly)) == \
        "Detainers prepared: 1 in December 2020"


def test_top_facilities_are_counted_in_duckdb():
    records = pd.concat([small(), small().iloc[1::2]], ignore_index=True)
    ctx = RecordingContext({"detainers": records})  # refuses to load records
    issued.DetainersIssued(ctx).top_facilities()
    expected = dm.facility_counts(records)
    shown = ctx.tables["issued-top-facilities"]
    assert shown[["Facility", "State", "Detainers prepared"]].values.tolist() == \
        expected[["facility", "state", "count"]].values.tolist()
    assert ctx.figures == ["issued-top-facilities"]


def test_top_facilities_without_a_facility_column_say_so():
    ctx = RecordingContext({"detainers": small().drop(columns=["facility"])})
    issued.DetainersIssued(ctx).top_facilities()
    assert ctx.said[-1] == "The detainers table of this release has no facility column, so detainers prepared by " \
                           "facility are not shown."
    assert ctx.figures == [] and ctx.tables == {}
