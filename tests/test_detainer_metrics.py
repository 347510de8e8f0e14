"""detainer_metrics: every metric on a small hand-built frame whose answer was worked out by
hand, and the sample's planted aggregates (truth.json) recovered through the same functions."""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import pandas as pd
import pytest

from analysis.metrics import detainers as dm
from analysis.release import PartialYears
from analysis.report.context import ReportContext
from analysis.vocab import convictions
from analysis.vocab.definitions import BUCKETS, ends_in_detainer, lift_bucket
from tests.fakes import fake_release

D = dt.date
DECLINED = "Detainer Declined by LEA"
BOOKED = "Booked into Detention"
NOTICE = "Insufficient Notice to ICE"
EARLY = "Early Release"


def small() -> pd.DataFrame:
    """Eight detainers in FY2021 (5) and FY2022 (3), worked through by hand in the tests below.

    row fy   prepared    state fac  criminality  type    lift reason       lifted      charge / code
    0   2021 2020-10-05  CA    A    1 Convicted  I-247A  Declined by LEA   2020-10-15  Assault / 1399
    1   2021 2020-10-20  CA    A    2 Pending    I-247A  Booked            2020-10-25  -
    2   2021 2020-12-01  TX    B    1 Convicted  I-247N  Insufficient not. 2020-12-31  DUI text / 5404
    3   2021 2020-12-02  TX    B    3 Other      I-247A  (blank)           -           -
    4   2021 2021-01-10  CA    A    1 Convicted  I-247A  Early Release     2021-01-09  Burglary / (none)
    5   2022 2021-10-03  PR    C    1 Convicted  I-247A  Declined by LEA   2021-10-13  Unheard-of / 9999
    6   2022 2021-11-15  TX    B    (missing)    I-247A  Booked            2021-11-18  -
    7   2022 2021-11-16  CA    A    2 Pending    I-247A  Case Closed       2021-12-16  -
    """
    a = "Immigration Detainer - Notice of Action (I-247A)"
    n = "Request for Voluntary Notification of Release (I-247N)"
    return pd.DataFrame({
        "fiscal_year": np.array([2021, 2021, 2021, 2021, 2021, 2022, 2022, 2022], dtype="int16"),
        "detainer_prepare_date": [D(2020, 10, 5), D(2020, 10, 20), D(2020, 12, 1), D(2020, 12, 2), D(2021, 1, 10),
                                  D(2021, 10, 3), D(2021, 11, 15), D(2021, 11, 16)],
        "state": ["CA", "CA", "TX", "TX", "CA", "PR", "TX", "CA"],
        "aor": ["Los Angeles Area of Responsibility", "Los Angeles Area of Responsibility",
                "Houston Area of Responsibility", "Houston Area of Responsibility",
                "Los Angeles Area of Responsibility", "Miami Area of Responsibility",
                "Houston Area of Responsibility", "Los Angeles Area of Responsibility"],
        "facility": ["Jail A", "Jail A", "Jail B", "Jail B", "Jail A", "Jail C", "Jail B", "Jail A"],
        "criminality": ["1 Convicted Criminal", "2 Pending Criminal Charges", "1 Convicted Criminal",
                        "3 Other Immigration Violator", "1 Convicted Criminal", "1 Convicted Criminal", None,
                        "2 Pending Criminal Charges"],
        "detainer_type": [a, a, n, a, a, a, a, a],
        "detainer_lift_reason": [DECLINED, BOOKED, NOTICE, None, EARLY, DECLINED, BOOKED, "Case Closed"],
        "detainer_lift_date": [D(2020, 10, 15), D(2020, 10, 25), D(2020, 12, 31), None, D(2021, 1, 9),
                               D(2021, 10, 13), D(2021, 11, 18), D(2021, 12, 16)],
        "msc_charge": ["Assault", None, "Driving Under Influence Liquor", None, "Burglary", "Unheard-of offense",
                       None, None],
        "msc_charge_code": ["1399", None, "5404", None, None, "9999", None, None],
    })


PARTIAL = PartialYears({2022})


# ---------------------------------------------------------------- issued


def test_monthly_counts_fills_months_without_records():
    monthly = dm.monthly_counts(small().iloc[:5])  # FY2021: Oct 2, Nov 0, Dec 2, Jan 1
    assert list(monthly["month"]) == list(pd.to_datetime(["2020-10-01", "2020-11-01", "2020-12-01", "2021-01-01"]))
    assert list(monthly["count"]) == [2, 0, 2, 1]


def test_monthly_counts_of_no_dates_is_empty():
    frame = small().assign(detainer_prepare_date=None)
    assert dm.monthly_counts(frame).empty


def test_fiscal_year_totals_label_partial_years_and_average_per_month():
    totals = dm.fiscal_year_totals(small(), PARTIAL, "detainer_prepare_date")
    assert list(totals["fiscal_year"]) == [2021, 2022]
    assert list(totals["count"]) == [5, 3]
    assert list(totals["label"]) == ["FY2021", "FY2022 (partial)"]
    assert list(totals["partial"]) == [False, True]
    assert list(totals["months"]) == [4, 2]  # Oct..Jan; Oct..Nov
    assert list(totals["per_month"]) == [1.25, 1.5]


def test_monthly_change_needs_two_windows():
    monthly = pd.DataFrame({"month": pd.date_range("2020-10-01", periods=4, freq="MS"), "count": [1, 3, 5, 7]})
    assert dm.monthly_change(monthly, months=2) == (2.0, 6.0)
    assert dm.monthly_change(monthly, months=3) is None
    assert dm.mean_per_month(monthly, 3, last=True) == 5.0


def test_ranked_counts_breaks_ties_by_name_and_keeps_missing_visible():
    frame = pd.DataFrame({"x": ["b", "a", "b", "a", None, "c"]})
    ranked = dm.ranked_counts(frame, "x")
    assert list(ranked["x"]) == ["a", "b", "Not recorded", "c"]
    assert list(ranked["count"]) == [2, 2, 1, 1]
    assert ranked["share"].iloc[0] == pytest.approx(2 / 6)
    assert list(dm.ranked_counts(frame, "x", top=2)["x"]) == ["a", "b"]


def test_state_counts_cover_every_tile_and_places_off_the_map():
    states = dm.state_counts(small())
    assert len(states) == 52  # 50 states, DC, and Puerto Rico (off the map)
    by_code = states.set_index("state")
    assert by_code.loc["CA", "count"] == 4 and by_code.loc["TX", "count"] == 3
    assert by_code.loc["PR", "count"] == 1 and not by_code.loc["PR", "on_map"]
    assert by_code.loc["ME", "count"] == 0 and by_code.loc["ME", "on_map"]
    assert by_code.loc["CA", "share"] == pytest.approx(0.5)
    assert list(states["state"][:3]) == ["CA", "TX", "PR"]


def test_aor_counts_use_short_names():
    aors = dm.aor_counts(small())
    assert list(aors["aor"]) == ["Los Angeles", "Houston", "Miami"]
    assert list(aors["count"]) == [4, 3, 1]


def test_facility_counts_carry_the_facility_state():
    facilities = dm.facility_counts(small(), top=2)
    assert list(facilities["facility"]) == ["Jail A", "Jail B"]
    assert list(facilities["state"]) == ["CA", "TX"]
    assert list(facilities["count"]) == [4, 3]


def test_a_facility_state_is_its_most_frequent_and_a_tie_goes_to_a_recorded_state_then_the_first_code():
    frame = pd.DataFrame({"facility": ["Jail Z"] * 4 + ["Jail Y"] * 2 + ["Jail X"] * 3 + ["Jail W"] * 3,
                          "state": ["TX", "CA", "TX", "CA", None, "WA", " ", None, "OR", "NV", "AZ", "NV"]})
    expected = {"Jail Z": "CA", "Jail Y": "WA", "Jail X": dm.NOT_RECORDED, "Jail W": "NV"}
    for order in (frame, frame.iloc[::-1]):  # the same whatever order the records come in
        assert dm.usual_states(order).to_dict() == expected
    counts = fake_release({"detainers": ["facility", "state"]}, {"detainers": frame}).counts("detainers",
                                                                                          ["facility", "state"])
    assert dm.usual_states(counts).to_dict() == expected
    assert dm.facility_counts(counts).set_index("facility")["state"].to_dict() == expected


def test_criminality_shares_by_fiscal_year():
    long = dm.criminality_shares(small())
    fy2021 = long[long["fiscal_year"] == 2021].set_index("category")
    assert fy2021.loc["Convicted criminal", "count"] == 3
    assert fy2021.loc["Convicted criminal", "share"] == pytest.approx(3 / 5)
    fy2022 = long[long["fiscal_year"] == 2022].set_index("category")
    assert fy2022.loc["Not recorded", "count"] == 1  # the missing criminality, kept visible
    wide = dm.wide_shares(long)
    assert list(wide.columns) == ["Convicted criminal", "Pending criminal charges", "Other immigration violator",
                                  "Not recorded"]
    assert wide.sum(axis=1).tolist() == pytest.approx([1.0, 1.0])
    counts = dm.wide_shares(long, "count")
    assert counts.loc[2022].tolist() == [1, 1, 0, 1]


def test_form_name():
    assert dm.form_name("Immigration Detainer - Notice of Action (I-247A)") == "I-247A"
    assert dm.form_name("Request for Voluntary Transfer (I-247X)") == "I-247X"
    assert dm.form_name("Other") == "Other"


def test_ending_in_detainer_folds_case_and_spacing():
    encounters = pd.DataFrame({"processing_disposition": ["Detainer", " detainer ", "Other", None, "DETAINER"]})
    assert len(dm.ending_in_detainer(encounters)) == 3


def test_an_encounter_ends_in_a_detainer_whatever_the_case_and_spacing():
    dispositions = pd.Series(["Detainer", "DETAINER", " Detainer ", "detainer\t", "Detainers", "Other", None, ""])
    assert ends_in_detainer(dispositions).tolist() == [True, True, True, True, False, False, False, False]


# ---------------------------------------------------------------- outcomes


def test_lift_reason_counts_keep_blank_and_name_the_bucket():
    reasons = dm.lift_reason_counts(small()).set_index("lift_reason")
    assert reasons.loc[DECLINED, "count"] == 2 and reasons.loc[BOOKED, "count"] == 2
    assert reasons.loc["(blank)", "count"] == 1 and reasons.loc["(blank)", "bucket"] == "still_open"
    assert reasons.loc["Case Closed", "bucket"] == "administrative"
    assert reasons["count"].sum() == 8


def test_bucket_by_fiscal_year():
    buckets = dm.bucket_by_fiscal_year(small())
    fy2021 = buckets[buckets["fiscal_year"] == 2021].set_index("bucket")
    # FY2021: declined, booked, insufficient notice, still open, early release
    assert list(fy2021.index) == ["booked", "declined", "insufficient_notice", "early_release", "administrative",
                                  "still_open"]
    assert fy2021["count"].tolist() == [1, 1, 1, 1, 0, 1]
    assert fy2021.loc["declined", "share"] == pytest.approx(0.2)
    fy2022 = buckets[buckets["fiscal_year"] == 2022].set_index("bucket")
    assert fy2022["count"].tolist() == [1, 1, 0, 0, 1, 0]
    assert fy2022.loc["booked", "label"] == "Booked into ICE custody"


def test_declined_by_fiscal_year_under_both_definitions():
    declines = dm.declined_by_fiscal_year(small()).set_index("fiscal_year")
    assert declines.loc[2021, ["detainers", "declined_strict", "declined_broad"]].tolist() == [5, 1, 3]
    assert declines.loc[2022, ["detainers", "declined_strict", "declined_broad"]].tolist() == [3, 1, 1]
    assert declines.loc[2021, "rate_broad"] == pytest.approx(0.6)


def test_state_decline_shares():
    states = dm.state_decline_shares(small(), "broad").set_index("state")
    # broad declines: CA rows 0 and 4, TX row 2, PR row 5: 4 in all
    assert states.loc["CA", ["detainers", "declined"]].tolist() == [4, 2]
    assert states.loc["CA", "share_of_declines"] == pytest.approx(0.5)
    assert states.loc["TX", "decline_rate"] == pytest.approx(1 / 3)
    assert states.loc["PR", "name"] == "PR" and states.loc["CA", "name"] == "California"
    assert list(states.index) == ["CA", "PR", "TX"]  # 2 declines, then 1 and 1 by code


def test_facility_declines_and_rates_above_a_minimum_volume():
    facilities = dm.facility_declines(small(), "strict")
    assert list(facilities["facility"]) == ["Jail A", "Jail C", "Jail B"]
    assert facilities.set_index("facility").loc["Jail A", ["detainers", "declined"]].tolist() == [4, 1]
    by_rate = dm.facilities_by_decline_rate(facilities, min_detainers=3)
    assert list(by_rate["facility"]) == ["Jail A", "Jail B"]  # Jail C (1 detainer) is below the minimum
    assert by_rate["decline_rate"].tolist() == [0.25, 0.0]
    assert list(dm.facilities_by_decline_rate(facilities, min_detainers=1)["facility"]) == ["Jail C", "Jail A",
                                                                                              "Jail B"]


def test_criminality_of_declined():
    profile = dm.criminality_of_declined(small(), "broad")
    assert profile.set_index("category")["declined"].to_dict() == {"Convicted criminal": 4}
    assert profile["share"].tolist() == [1.0]


def test_convictions_of_declined_use_the_mapping():
    profile = dm.convictions_of_declined(small(), "broad").set_index("category")["declined"].to_dict()
    # Assault (code 1399), DUI (code 5404), Burglary (text only), 9999 + unknown text: not mapped
    assert profile == {"Assault": 1, "Burglary": 1, "DUI": 1, convictions.NOT_MAPPED: 1}


def test_declined_profile_counts_missing_as_not_recorded():
    frame = small()
    categories = pd.Series(["x", None, None, None, None, None, None, None], index=frame.index)
    profile = dm.declined_profile(frame, "strict", categories)  # strict declines: rows 0 and 5
    assert profile.set_index("category")["declined"].to_dict() == {"x": 1, "Not recorded": 1}


def test_days_to_lift():
    days = dm.days_to_lift(small())
    assert days.tolist()[:3] == [10.0, 5.0, 30.0]
    assert np.isnan(days.iloc[3]) and days.iloc[4] == -1.0


def test_days_to_lift_by_bucket_leaves_out_negative_durations():
    timing = dm.days_to_lift_by_bucket(small()).set_index("bucket")
    # booked: 5 and 3 days; declined: 10 and 10; early release: -1 (left out)
    assert timing.loc["booked", ["lifted", "median", "q1", "q3"]].tolist() == [2, 4.0, 3.5, 4.5]
    assert timing.loc["declined", "median"] == 10.0
    assert timing.loc["early_release", "lifted"] == 0 and timing.loc["early_release", "negative"] == 1
    assert "still_open" not in timing.index  # no lift date


def test_days_to_lift_groups_need_a_minimum_of_records():
    groups = dm.days_to_lift_groups(small(), min_records=2)
    assert set(groups) == {"Booked into ICE custody", "Declined by the agency"}
    booked = groups["Booked into ICE custody"]
    assert np.repeat(booked.values, booked.weights).tolist() == [3.0, 5.0] and len(booked) == 2


# ---------------------------------------------------------------- the sample's planted truth


@pytest.fixture
def sample_detainers(sample_project) -> tuple[pd.DataFrame, dict, dict]:
    ctx = ReportContext.from_parameters(release="sample")
    truth = json.loads((sample_project / "data/raw/sample/truth.json").read_text())["detainers"]
    return ctx.load("detainers"), truth, ctx.data.partial_years("detainers")


def test_sample_rows_by_fiscal_year(sample_detainers):
    frame, truth, partial = sample_detainers
    totals = dm.fiscal_year_totals(frame, partial, "detainer_prepare_date")
    assert {str(fy): int(c) for fy, c in zip(totals["fiscal_year"], totals["count"], strict=True)} == \
        truth["rows_by_fiscal_year"]
    assert totals.loc[totals["partial"], "fiscal_year"].tolist() == [2025]


def test_sample_declined_by_fiscal_year_strict_and_broad(sample_detainers):
    frame, truth, _ = sample_detainers
    declines = dm.declined_by_fiscal_year(frame)
    for definition in ("strict", "broad"):
        found = {str(fy): int(c) for fy, c in zip(declines["fiscal_year"], declines[f"declined_{definition}"],
                                                  strict=True)}
        assert found == truth["declined_by_fiscal_year"][definition]


def test_sample_lift_reasons(sample_detainers):
    frame, truth, _ = sample_detainers
    reasons = dm.lift_reason_counts(frame)
    assert dict(zip(reasons["lift_reason"], reasons["count"].astype(int), strict=True)) == truth["lift_reasons"]


def test_sample_top_states_and_facilities(sample_detainers):
    frame, truth, _ = sample_detainers
    states = dm.state_counts(frame).head(5)
    assert [[s, int(c)] for s, c in zip(states["state"], states["count"], strict=True)] == truth["top_states"]
    facilities = dm.facility_counts(frame, top=5)
    assert [[f, int(c)] for f, c in zip(facilities["facility"], facilities["count"], strict=True)] == \
        truth["top_facilities"]


def test_sample_charges_are_all_mapped(sample_detainers):
    frame, _, _ = sample_detainers
    categories = convictions.categorise(frame["msc_charge"], frame["msc_charge_code"])
    assert convictions.NOT_MAPPED not in set(categories)
    assert convictions.unmapped_charges(frame["msc_charge"], frame["msc_charge_code"]).empty


def _counted_in_duckdb(frame: pd.DataFrame, **scope) -> pd.DataFrame:
    """`frame`'s fiscal years, states and lift reasons counted by DuckDB, as the outcomes section counts them."""
    release = fake_release({"detainers": list(frame.columns)}, {"detainers": frame}, **scope)
    return release.counts("detainers", ["fiscal_year", "state", dm.LIFT_REASON])


def test_counts_from_duckdb_give_the_measures_of_the_records():
    records = pd.concat([small(), small().iloc[::2]], ignore_index=True)  # some combinations counted twice
    counts = _counted_in_duckdb(records)
    assert len(counts) < len(records) and counts["records"].sum() == len(records)
    pd.testing.assert_frame_equal(dm.lift_reason_counts(counts), dm.lift_reason_counts(records))
    pd.testing.assert_frame_equal(dm.bucket_by_fiscal_year(counts), dm.bucket_by_fiscal_year(records))
    pd.testing.assert_frame_equal(dm.declined_by_fiscal_year(counts), dm.declined_by_fiscal_year(records))
    for definition in ("strict", "broad"):
        pd.testing.assert_frame_equal(dm.state_decline_shares(counts, definition),
                                      dm.state_decline_shares(records, definition))
    by_criminality = fake_release({"detainers": list(records.columns)}, {"detainers": records}).counts(
        "detainers", [dm.LIFT_REASON, "criminality"])
    for definition in ("strict", "broad"):
        pd.testing.assert_frame_equal(dm.criminality_of_declined(by_criminality, definition),
                                      dm.criminality_of_declined(records, definition))


def test_counts_from_duckdb_hold_only_the_scope():
    records = small()
    counts = _counted_in_duckdb(records, fy_start=2022, state="CA")
    expected = records[(records.fiscal_year >= 2022) & (records.state == "CA")].reset_index(drop=True)
    pd.testing.assert_frame_equal(dm.declined_by_fiscal_year(counts), dm.declined_by_fiscal_year(expected))
    assert dm.lift_reason_counts(counts)["count"].sum() == len(expected) > 0


def test_issued_measures_from_duckdb_counts_match_the_records():
    records = pd.concat([small(), small().iloc[1::2]], ignore_index=True)
    release = fake_release({"detainers": list(records.columns)}, {"detainers": records})
    by_month = dm.DETAINERS_PREPARED.counts(release, ["fiscal_year", dm.PREPARE_DATE], months=[dm.PREPARE_DATE])
    assert (pd.to_datetime(by_month[dm.PREPARE_DATE]).dt.day == 1).all()  # grouped by month, first day
    partial = PartialYears({2022})
    pd.testing.assert_frame_equal(dm.fiscal_year_totals(by_month, partial, dm.PREPARE_DATE),
                                  dm.fiscal_year_totals(records, partial, dm.PREPARE_DATE))
    pd.testing.assert_frame_equal(dm.monthly_counts(by_month), dm.monthly_counts(records))
    by_state = dm.DETAINERS_PREPARED.counts(release, ["fiscal_year", "state"])
    pd.testing.assert_frame_equal(dm.state_counts(by_state), dm.state_counts(records))
    by_criminality = dm.DETAINERS_PREPARED.counts(release, ["fiscal_year", "criminality"])
    pd.testing.assert_frame_equal(dm.criminality_shares(by_criminality), dm.criminality_shares(records))
    by_type = dm.DETAINERS_PREPARED.counts(release, ["fiscal_year", "detainer_type"])
    pd.testing.assert_frame_equal(dm.ranked_counts(by_type, "detainer_type"), dm.ranked_counts(records, "detainer_type"))


def test_encounters_ending_in_a_detainer_are_counted_however_spelled():
    encounters = pd.DataFrame({
        "fiscal_year": pd.array([2016, 2016, 2017, 2017, 2017], dtype="Int16"),
        "aor": ["Seattle Area of Responsibility", "Miami Area of Responsibility", "Seattle Area of Responsibility",
                "Seattle Area of Responsibility", None],
        dm.DISPOSITION: ["Detainer", " DETAINER ", "Notice to Appear", "detainer", "Detainer"],
    })
    release = fake_release({"encounters": list(encounters.columns)}, {"encounters": encounters})
    counts = dm.ENCOUNTERS_ENDING_IN_DETAINER.counts(release, ["fiscal_year", "aor"])
    assert counts["records"].sum() == 4
    assert dm.aor_counts(counts)[["aor", "count"]].values.tolist() == [["Seattle", 2], ["Miami", 1], ["Not recorded", 1]]


def test_days_to_lift_counted_in_duckdb_are_lift_minus_prepare_date():
    release = fake_release({"detainers": list(small().columns)}, {"detainers": small()})
    counts = dm.days_to_lift_counts(release)
    found = {(None if pd.isna(reason) else reason, None if pd.isna(days) else int(days)): int(n)
             for reason, days, n in zip(counts[dm.LIFT_REASON], counts["days"], counts["records"], strict=True)}
    assert found == {(DECLINED, 10): 2, (BOOKED, 5): 1, (NOTICE, 30): 1, (None, None): 1, (EARLY, -1): 1,
                     (BOOKED, 3): 1, ("Case Closed", 30): 1}
    scoped = dm.days_to_lift_counts(fake_release({"detainers": list(small().columns)}, {"detainers": small()},
                                                 state="TX"))
    assert scoped["records"].sum() == 3


def test_outcome_measures_from_duckdb_counts_match_the_records():
    """Facilities, convictions and days to lift of counts (as notebook 03 counts them) equal those of the records."""
    records = pd.concat([small(), small().iloc[::2], small().iloc[[0, 5]]], ignore_index=True)
    release = fake_release({"detainers": list(records.columns)}, {"detainers": records})
    by_facility = release.counts("detainers", ["facility", "state", dm.LIFT_REASON])
    assert len(by_facility) < len(records)
    pd.testing.assert_frame_equal(dm.facility_counts(by_facility), dm.facility_counts(records))
    charges = release.counts("detainers", [dm.LIFT_REASON, "msc_charge", "msc_charge_code"])
    for definition in ("strict", "broad"):
        pd.testing.assert_frame_equal(dm.facility_declines(by_facility, definition),
                                      dm.facility_declines(records, definition))
        pd.testing.assert_frame_equal(dm.convictions_of_declined(charges, definition),
                                      dm.convictions_of_declined(records, definition))
    unmapped = convictions.unmapped_charges(charges["msc_charge"], charges["msc_charge_code"],
                                            records=charges["records"])
    pd.testing.assert_frame_equal(unmapped, convictions.unmapped_charges(records["msc_charge"],
                                                                         records["msc_charge_code"]))
    assert unmapped[["charge", "code", "records"]].values.tolist() == [["Unheard-of offense", "9999", 2]]
    days = dm.days_to_lift_counts(release)
    pd.testing.assert_frame_equal(dm.days_to_lift_by_bucket(days), dm.days_to_lift_by_bucket(records))
    expected = pd.DataFrame({"label": lift_bucket(records[dm.LIFT_REASON]).map(BUCKETS), "days": dm.days_to_lift(records)})
    for label, counted_days in dm.days_to_lift_groups(days).items():
        valid = expected.loc[(expected["label"] == label) & (expected["days"] >= 0), "days"]
        assert np.repeat(counted_days.values, counted_days.weights).tolist() == sorted(valid)
