"""The key-findings page states numbers computed from the data, each with its definition."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from analysis.report.context import ReportContext
from analysis.report.parameters import ReportParameters
from analysis.sections.key_findings import (
    as_markdown,
    detainer_findings,
    encounter_findings,
    key_findings,
    removal_findings,
    top_state_finding,
)
from tests.fakes import FakeContext


def _truth(root: Path) -> dict:
    return json.loads((root / "data/raw/sample/truth.json").read_text())


def test_sample_findings_recover_the_planted_numbers(sample_project: Path) -> None:
    truth = _truth(sample_project)["detainers"]
    found = key_findings(ReportContext(ReportParameters(release="sample")))
    text = as_markdown(found)
    assert f"**{truth['rows']:,} detainers**" in text
    strict = sum(truth["declined_by_fiscal_year"]["strict"].values())
    broad = sum(truth["declined_by_fiscal_year"]["broad"].values())
    assert f"**{strict:,} detainers (" in text and f"broad definition, {broad:,}" in text
    assert truth["top_states"][0][0] in text or "recorded the most declined" in text
    assert "invented records" in text  # the claims finding says synthetic data cannot agree
    assert all(f.definition for f in found)


def test_broad_definition_leads_when_chosen(sample_project: Path) -> None:
    truth = _truth(sample_project)["detainers"]
    text = as_markdown(key_findings(ReportContext(ReportParameters(release="sample", declined_definition="broad"))))
    broad = sum(truth["declined_by_fiscal_year"]["broad"].values())
    assert f"**{broad:,} detainers (" in text and "(broad definition)" in text


def test_small_counts_are_suppressed(sample_project: Path) -> None:
    text = as_markdown(key_findings(ReportContext(ReportParameters(release="sample", state="VT", min_cell=100_000))))
    assert "<100,000" in text


def test_real_release_findings_use_encounters_and_name_the_measure(real_project: Path) -> None:
    text = as_markdown(key_findings(ReportContext(ReportParameters(release="ice-lesa-2019-ICFO-53623-fy2016-2017"))))
    assert "**117,601 encounters ended in a detainer** (FY2016: 45,099, FY2017: 72,502)" in text
    assert "not the number of detainers prepared" in text
    assert "**143,470 administrative arrests** in FY2017" in text
    assert "**466,374 removals** (FY2016: 240,255, FY2017: 226,119)" in text
    assert "4 reproduced" in text


def test_load_may_ask_for_the_column_its_filter_uses(sample_project: Path) -> None:
    """Asking for `aor` under an AOR filter reads it once (it used to be read twice and fail)."""
    frame = ReportContext(ReportParameters(release="sample", aor="Seattle")).load("arrests", ["aor", "apprehension_method"])
    assert list(frame.columns).count("aor") == 1 and len(frame) > 0
    assert set(frame["aor"]) == {"Seattle Area of Responsibility"}


def test_top_state_finding_with_one_state_states_it_without_comparing() -> None:
    assert top_state_finding("TX", 6, 1, 6, str) == "All declined detainers were recorded in **TX**: 6."
    assert top_state_finding("TX", 6, 2, 8, str) == \
        "**TX** recorded the most declined detainers: 6 (75.0% of all declines)."


def _detainers() -> pd.DataFrame:
    return pd.DataFrame({
        "fiscal_year": pd.array([2023, 2023, 2023, 2024, 2024, 2024, None], dtype="Int16"),
        "state": ["WA", "TX", "TX", "WA", None, "CA", "CA"],
        "detainer_lift_reason": ["Detainer Declined by LEA", " detainer  declined by lea ", "Detainer Declined by LEA",
                                 "Detainer Declined by LEA", "Early Release", "Booked into Detention", None],
    })


def test_detainer_findings_count_in_duckdb_and_apply_the_rules_to_the_counts() -> None:
    ctx = FakeContext({"detainers": list(_detainers().columns)}, {"detainers": _detainers()})
    text = as_markdown(detainer_findings(ctx))
    assert "**7 detainers** were prepared in FY2023–FY2024." in text
    assert "**4 detainers (57.1%)** were recorded as declined" in text and "broad definition, 5" in text
    assert "**14.3%** of detainers ended with the person booked" in text and "**14.3%** had no lift reason" in text
    # WA and TX both hold two strict declines (one spelled with other case and spacing): the first by name wins
    assert "**TX** recorded the most declined detainers: 2 (50.0% of all declines)" in text


def test_detainer_findings_respect_the_scope() -> None:
    ctx = FakeContext({"detainers": list(_detainers().columns)}, {"detainers": _detainers()}, fy_start=2024)
    assert "**3 detainers** were prepared in FY2024" in as_markdown(detainer_findings(ctx))


def test_removal_and_encounter_findings_count_every_record_but_list_placed_years() -> None:
    removals = pd.DataFrame({"fiscal_year": pd.array([2016, 2016, 2017, None], dtype="Int16")})
    encounters = pd.DataFrame({"fiscal_year": pd.array([2016, 2017, 2017, 2017], dtype="Int16"),
                               "processing_disposition": ["Detainer", " DETAINER", "Notice to Appear", None]})
    ctx = FakeContext({"removals": ["fiscal_year"], "encounters": list(encounters.columns)},
                      {"removals": removals, "encounters": encounters})
    assert "**4 removals** (FY2016: 2, FY2017: 1)." in as_markdown(removal_findings(ctx))
    assert "**2 encounters ended in a detainer** (FY2016: 1, FY2017: 1)" in as_markdown(encounter_findings(ctx))
