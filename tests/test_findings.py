"""The key-findings page states numbers computed from the data, each with its definition."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from analysis.report.context import ReportContext
from analysis.report.parameters import ReportParameters
from analysis.sections.key_findings import as_markdown, key_findings, top_state_finding


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
    assert top_state_finding(pd.Series({"TX": 6}), 6, str) == "All declined detainers were recorded in **TX**: 6."
    assert top_state_finding(pd.Series({"TX": 6, "CA": 2}), 8, str) == \
        "**TX** recorded the most declined detainers: 6 (75.0% of all declines)."
