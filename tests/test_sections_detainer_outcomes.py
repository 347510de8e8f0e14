"""The detainer-outcomes section's rules: the sentences and titles on declines under both
definitions, outcome shares, states, and days to lift, with small cells hidden."""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis import words
from analysis.metrics import detainers as dm
from analysis.release import PartialYears
from analysis.sections import detainer_outcomes as outcomes
from analysis.vocab.definitions import BUCKETS
from tests.fakes import FakeContext
from tests.test_detainer_metrics import small


def test_introduction_gives_both_definitions():
    text = outcomes.introduction(8, 2, 4, "strict", "California (CA)", "FY2021 to FY2022")
    assert text.startswith("**8 detainers** prepared in California (CA), FY2021 to FY2022. ")
    assert "headline definition of a declined detainer is **strict**: lift reason 'Detainer Declined by LEA' only" in text
    assert "Under it, 2 detainers (25.0%) were declined; the broad definition (" in text
    assert text.endswith("gives 4 (50.0%).")
    assert "Under it, <5 detainers" in outcomes.introduction(8, 2, 4, "strict", "x", "y", min_cell=5)
    assert outcomes.other_definition("broad") == "strict"


def test_outcomes_title():
    overall = pd.Series({BUCKETS["booked"]: 0.5, BUCKETS["declined"]: 0.125})
    assert outcomes.outcomes_title(overall) == ("50% of detainers ended with ICE taking custody; 12% were declined by "
                                                "the agency holding the person")
    assert outcomes.outcomes_title(pd.Series({BUCKETS["booked"]: 1.0})).endswith("; 0% were declined by the agency "
                                                                                 "holding the person")


def test_peak_and_trend_of_declines_count_complete_years_only():
    declines = dm.declined_by_fiscal_year(small())  # FY2021: 1 strict of 5; FY2022: 1 of 3
    basis = outcomes.complete_or_all(declines, PartialYears({2022}))
    assert list(basis.fiscal_year) == [2021]
    assert outcomes.peak_declines_title(basis, "strict") == \
        "Strict definition: FY2021, 1 declined (20.0% of its detainers)"
    assert outcomes.declines_trend(basis, len(declines), "strict") is None  # one year: no trend
    every = outcomes.complete_or_all(declines, PartialYears({2021, 2022}))
    assert len(every) == 2
    assert outcomes.declines_trend(every, len(declines), "broad", min_cell=2) == (
        "Under the broad definition, declines went from 3 in FY2021 (60.0% of detainers) to <2 in FY2022 (33.3%).")
    assert outcomes.declines_trend(every, 3, "strict").endswith(", counting complete fiscal years only.")


def test_state_share_labels_hide_small_cells():
    states = pd.DataFrame({"state": ["CA", "TX"], "share_of_declines": [0.9, 0.1], "declined": [90, 10]})
    assert outcomes.state_share_labels(states, 1) == {"CA": "90%", "TX": "10%"}
    assert outcomes.state_share_labels(states, 11) == {"CA": "90%", "TX": "<11"}


def test_days_title():
    both = {BUCKETS["booked"]: 3.0, BUCKETS["declined"]: 10.0, BUCKETS["early_release"]: 40.0}
    assert outcomes.days_title(both) == ("Declined detainers were lifted after a median of 10 days; detainers ending in "
                                         "ICE custody after 3")
    one = {BUCKETS["booked"]: float("nan"), BUCKETS["early_release"]: 40.0, BUCKETS["declined"]: 1234.0}
    one[BUCKETS["booked"]] = np.nan
    assert outcomes.days_title(one) == "Declined by the agency took longest to lift: a median of 1,234 days"


def test_hide_small_timing():
    timing = dm.days_to_lift_by_bucket(small())
    hidden = outcomes.hide_small_timing(timing, min_cell=2)
    booked = hidden.set_index("bucket").loc["booked"]
    assert booked["lifted"] == 2 and booked["median"] == 4.0
    declined = hidden.set_index("bucket").loc["declined"]
    assert declined["lifted"] == 2 and declined["median"] == 10.0
    single = hidden.set_index("bucket").loc["insufficient_notice"]
    assert single["lifted"] == 1 and pd.isna(single["median"]) and pd.isna(single["q1"])


def test_title_rules_with_one_item_state_it_without_comparing():
    n = str
    declines = dm.declined_by_fiscal_year(small())
    assert outcomes.peak_declines_title(declines, "strict") == \
        "Strict definition: declines were highest in FY2021 at 1 (20.0% of that year's detainers)"
    one_jail = small()[small().facility == "Jail A"]
    declining = dm.facility_declines(one_jail, "strict")
    assert outcomes.top_facility_title(declining, n) == "All declined detainers were recorded at Jail A: 1"
    two = dm.facility_declines(small(), "strict")
    assert outcomes.top_facility_title(two[two.declined > 0], n).endswith("(50% of all declines)")
    lead = declining.iloc[0]
    assert outcomes.top_rate_title(lead, 1, 4, n).endswith("the only facility with at least 4")
    assert outcomes.top_rate_title(lead, 3, 4, n).endswith("the highest rate among facilities with at least 4")
    single = pd.DataFrame({"category": ["Assault"], "declined": [7]})
    assert outcomes.conviction_title(single, n) == \
        "All 7 declined detainers with a conviction recorded had Assault as the most serious"
    assert outcomes.days_title({BUCKETS["declined"]: 12.0, BUCKETS["booked"]: np.nan}) == \
        "Declined by the agency: lifted after a median of 12 days"


# ---------------------------------------------------------------- the section over DuckDB


class RecordingContext(FakeContext):
    """A context over `frames` written to parquet that keeps the tables and figure names it is
    shown, and fails if a part loads records instead of counting them in DuckDB."""

    def __init__(self, frames: dict[str, pd.DataFrame], **params) -> None:
        super().__init__({name: list(frame.columns) for name, frame in frames.items()}, frames, **params)
        self.tables: dict[str, pd.DataFrame] = {}
        self.figures: list[str] = []

        def refuse(table, columns=None):
            raise AssertionError(f"records of {table} loaded: {columns}")
        self.data.load = refuse  # type: ignore[method-assign]

    def show_table(self, frame: pd.DataFrame, *, name: str, **_) -> None:
        self.tables[name] = frame

    def show_figure(self, fig, *, name: str, **_) -> None:
        self.figures.append(name)


OUTCOME_PARTS = ("introduction", "outcomes", "lift_reasons", "declines_by_year", "declines_by_state",
                 "facilities_with_most_declines", "facility_decline_rates", "criminality_of_declined",
                 "convictions_of_declined", "days_to_lift")


def run_outcomes(records: pd.DataFrame, **params) -> RecordingContext:
    ctx = RecordingContext({"detainers": records}, **params)
    section = outcomes.DetainerOutcomes(ctx)
    for part in OUTCOME_PARTS:
        getattr(section, part)()
    return ctx


def test_the_section_counts_facilities_convictions_and_days_to_lift_in_duckdb():
    records = pd.concat([small(), small().iloc[::2]], ignore_index=True)
    ctx = run_outcomes(records, declined_definition="broad")
    assert {"declines-top-facilities", "declined-convictions", "days-to-lift"} <= set(ctx.figures)
    facilities = dm.facility_declines(records, "broad")
    shown = ctx.tables["declines-top-facilities"]
    assert shown[["Facility", "State", "Declined", "Detainers"]].values.tolist() == \
        facilities[facilities.declined > 0][["facility", "state", "declined", "detainers"]].values.tolist()
    convicted = dm.convictions_of_declined(records, "broad")
    assert ctx.tables["declined-convictions"]["Declined detainers"].tolist() == convicted["declined"].tolist()
    timing = dm.days_to_lift_by_bucket(records)  # days from the records' own dates
    days = ctx.tables["days-to-lift"]
    assert days["Detainers with both dates"].tolist() == timing["lifted"].tolist()
    assert days["Median (days)"].tolist() == [words.number(v) for v in timing["median"]]
    assert "1 distinct charge (text and code) in these detainer records match no rule" in " ".join(ctx.said)
    assert "2 detainers have a lift date before their prepare date" in ctx.said[-1]  # row 4, counted twice


def test_the_section_without_facility_charge_or_lift_date_says_so_and_goes_on():
    records = small().drop(columns=["facility", "msc_charge", "msc_charge_code", dm.LIFT_DATE])
    ctx = run_outcomes(records)
    said = " ".join(ctx.said)
    assert "The detainers table of this release has no facility column, so declines and decline rates by facility " \
           "are not shown." in said
    assert "has no msc_charge column, so the most serious convictions of declined detainers are not shown." in said
    assert "has no detainer_lift_date column, so days from detainer to lift are not shown." in said
    assert "declined-criminality" in ctx.tables  # the parts between them are shown
    shown = {*ctx.figures, *ctx.tables}
    assert not {"declines-top-facilities", "declines-facility-rates", "declined-convictions", "days-to-lift"} & shown
