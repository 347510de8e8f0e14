"""The repeat-detainer section's rules: the sentences on who is followed and what was left
out, each group's line, the figure's title, and the tables with small cells left blank."""

from __future__ import annotations

import pandas as pd

from analysis.metrics import repeats as repeat
from analysis.release import Scope
from analysis.sections import repeats as section

DROPPED = {"exact_duplicates": 2, "without_identifier": 3, "without_date": 0}


def test_comparison_finding_uses_longest_horizon_both_groups_reach():
    shares = pd.DataFrame({"group": ["declined", "declined", "honoured", "honoured"], "days": [30, 365, 30, 365],
                           "share": [0.10, 0.40, 0.05, float("nan")]})
    assert section.comparison_finding(shares) == (
        "10% of people with a declined detainer got another within 30 days, more often than people whose detainer "
        "was honoured (5%)")
    shares.loc[3, "share"] = 0.404
    assert "within a year, about as often as" in section.comparison_finding(shares)
    assert section.comparison_finding(shares.assign(share=float("nan"))) is None


def test_summary_table_blanks_shares_of_small_cells():
    overview = pd.DataFrame({"group": ["declined", "honoured"], "people": [10, 50], "with_later": [2, 20],
                             "share_with_later": [0.2, 0.4], "later_detainers": [3, 30], "days_p25": [5.0, 10.0],
                             "days_median": [7.0, 20.0], "days_p75": [9.0, 40.0]})
    table = section.summary_table(overview, min_cell=3)
    assert table["Share"].tolist() == ["", "40.0%"] and table["median"].tolist() == ["", "20"]
    assert table["Index event"].tolist() == list(repeat.GROUP_LABELS.values())


def test_group_line_hides_share_and_wait_of_a_small_cell():
    row = pd.Series({"group": "declined", "people": 50, "with_later": 3, "share_with_later": 0.06,
                     "later_detainers": 4, "days_median": 61.0})
    assert section.group_line(row, min_cell=1) == (
        "- Of **50 people with a declined detainer**, 3 (6%) received at least one later detainer, 4 later detainers "
        "in all; the median wait for the next one was 61 days.")
    assert section.group_line(row, min_cell=5) == (
        "- Of **50 people with a declined detainer**, <5 received at least one later detainer, <5 later detainers "
        "in all.")
    nobody_later = row.copy()
    nobody_later[["with_later", "later_detainers", "share_with_later"]] = 0
    assert "0 (0%) received" in section.group_line(nobody_later, min_cell=5)
    assert section.group_line(pd.Series({"group": "honoured", "people": 0})) == \
        "- No people whose detainer was honoured in these records."


def test_unlinked_sentence_and_scope_limits():
    assert section.unlinked_sentence(DROPPED) == ("3 records without an identifier (redacted or blank) were left out: "
                                                  "they cannot be linked to a person.")
    assert section.unlinked_sentence({**DROPPED, "without_identifier": 0}) == \
        "Every record carries an identifier, so none was left out for lack of one."
    assert section.scope_limits(Scope()) == []
    assert section.scope_limits(Scope(aor="Seattle", fy_end=2023)) == [
        "Only detainers in the Seattle area of responsibility are counted, so a later detainer elsewhere is not seen.",
        "Only detainers in the selected fiscal years are counted."]


def test_records_paragraph_leaves_out_what_did_not_happen():
    text = section.records_paragraph(DROPPED, pd.Timestamp("2025-03-31"), Scope(state="CA"), min_cell=5)
    assert text == ("<5 exact duplicate records (identical in every column) were counted once. <5 records without an "
                    "identifier (redacted or blank) were left out: they cannot be linked to a person. The records end on "
                    "31 March 2025. Only detainers in California are counted, so a later detainer elsewhere is not seen.")


def test_method_names_the_definition_and_the_caveat_names_what_was_left_out():
    assert "(broad definition: lift reason 'Detainer Declined by LEA', 'Insufficient Notice" in section.method("broad")
    assert "**within this release only**" in section.method("strict")
    assert section.identifiers_caveat(DROPPED).startswith("- **Identifiers are anonymized per release**")
    assert section.identifiers_caveat(DROPPED).endswith("they cannot be linked to a person.")


def test_shares_table_blanks_hidden_shares():
    shares = pd.DataFrame({"group": ["declined", "honoured"], "days": [30, 30], "people_followed": [10, 20],
                           "with_later": [1, 4], "share": [float("nan"), 0.2]})
    table = section.shares_table(shares)
    assert table["Share"].tolist() == ["", "20.0%"] and table["Within"].tolist() == ["30 days", "30 days"]
    assert table["Index event"].tolist() == list(repeat.GROUP_LABELS.values())
