"""Claim files and their evaluation: the shipped claims on the real release and the sample,
hand-built records whose answers are known, and claim files with mistakes."""

from __future__ import annotations

import json
import re
import textwrap
from pathlib import Path

import pandas as pd
import pytest

from analysis.checks.claims import (
    CANNOT,
    DIFFERENT_MEASURE,
    DIFFERS,
    REPRODUCED,
    ClaimError,
    ReleaseData,
    check_claims,
    claims_dir,
    evaluate,
    load_claims,
    parse_claim,
    read_claim_file,
    results_frame,
    verdict_text,
)
from tests.fakes import detainers_release

REAL = "ice-lesa-2019-ICFO-53623-fy2016-2017"
SOURCE = {"publisher": "Test", "date": "2020-01-01", "title": "A report", "url": "https://example.org"}


def claim(**fields):
    entry = {"id": "test-claim", "claim": "A figure.", "published": 0, "comparison": "exact", **fields}
    return parse_claim(entry, SOURCE, "claims.yml", 1)


# ---------------------------------------------------------------- the shipped claim files


def test_shipped_claims_cover_every_source_and_parse() -> None:
    claims = load_claims()
    files = {Path(c.file).name for c in claims}
    assert files == {"1-ice-ero-annual-reports.yml", "2-trac.yml", "3-cis.yml", "4-ice-declined-detainer-outcome-reports-2017.yml"}
    ids = {c.id for c in claims}
    for expected in ("ice-ero-fy2018-removals", "trac-fy2012-detainers", "trac-2017-2018-refusing-agencies",
                     "cis-fy2023-declined", "cis-2014-rearrested-people", "ddor-2017-02-04-declined"):
        assert expected in ids
    assert all(c.reason for c in claims if c.measure is None)


def test_a_project_without_claims_uses_the_shipped_ones(project: Path) -> None:
    assert not (project / "data" / "claims").exists()
    assert (claims_dir() / "2-trac.yml").is_file()


@pytest.mark.real
def test_real_release_reproduces_ice_annual_figures(real_project: Path) -> None:
    results = {r.claim.id: r for r in check_claims(REAL)}
    for claim_id, value in [("ice-ero-fy2016-arrests", 110_104), ("ice-ero-fy2017-arrests", 143_470),
                            ("ice-ero-fy2016-removals", 240_255), ("ice-ero-fy2017-removals", 226_119)]:
        assert (results[claim_id].verdict, results[claim_id].value) == (REPRODUCED, value)
    for claim_id, table in [("ice-ero-fy2018-arrests", "arrests"), ("ice-ero-fy2018-removals", "removals")]:
        assert results[claim_id].verdict == CANNOT
        assert results[claim_id].reason == f"the {table} table covers FY2016–FY2017, not FY2018"
    assert not [r.claim.id for r in results.values() if r.verdict == DIFFERS]


@pytest.mark.real
def test_real_release_compares_trac_through_encounters_as_a_different_measure(real_project: Path) -> None:
    results = {r.claim.id: r for r in check_claims(REAL)}
    for claim_id, value in [("trac-fy2016-detainers", 45_099), ("trac-fy2017-detainers", 72_502)]:
        result = results[claim_id]
        assert (result.verdict, result.value) == (DIFFERENT_MEASURE, value)
        assert "encounters with a Detainer processing disposition" in result.definition
        assert verdict_text(result).endswith("than published (this release has no detainers table)")
    for year in (2012, 2013, 2014, 2015):
        assert results[f"trac-fy{year}-detainers"].verdict == CANNOT
    assert results["trac-2017-2018-monthly-detainers"].verdict == CANNOT  # encounters end in September 2017


@pytest.mark.real
def test_claims_command_prints_one_line_per_claim(real_project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from analysis.cli import main

    assert main(["-q", "claims", REAL]) == 0
    out = capsys.readouterr().out
    lines = [line for line in out.splitlines() if line.startswith(("ice-", "trac-", "cis-", "ddor-"))]
    assert len(lines) == len(load_claims())
    assert any(line.split() == ["ice-ero-fy2017-arrests", "143,470", "143,470", "reproduced", "exactly"] for line in lines)
    assert "4 reproduced, 0 differs" in out


def test_sample_declined_counts_match_the_generator(sample_project: Path) -> None:
    truth = json.loads((sample_project / "data" / "raw" / "sample" / "truth.json").read_text())
    results = {r.claim.id: r for r in check_claims("sample")}
    for claim_id, year in [("cis-fy2022-declined", "2022"), ("cis-fy2023-declined", "2023")]:
        assert results[claim_id].value == truth["detainers"]["declined_by_fiscal_year"]["broad"][year]
        assert results[claim_id].verdict in (REPRODUCED, DIFFERS)


def test_partial_fiscal_year_cannot_be_checked(sample_project: Path) -> None:
    partial = claim(measure={"table": "detainers", "filters": {"fiscal_year": 2025}}, published=10)
    result = evaluate(partial, ReleaseData("sample"))
    assert result.verdict == CANNOT
    assert result.reason.startswith("FY2025 is only partly covered by the detainers table (records to 2025-03-")


# ---------------------------------------------------------------- hand-built records


def processed(frame: pd.DataFrame, *, partial: bool = False) -> ReleaseData:
    """`frame` as the detainers table of a processed release (parquet read by DuckDB, as in a report)."""
    return ReleaseData(detainers_release(frame, "2022-10-01", "2024-09-30", partial=partial))


@pytest.fixture
def frame() -> pd.DataFrame:
    rows = [  # state, aor, lift reason, prepare date
        ("CA", "San Francisco Area of Responsibility", "Detainer Declined by LEA", "2023-01-05"),
        ("CA", "Los Angeles Area of Responsibility", "Detainer Declined by LEA", "2023-01-20"),
        ("CA", "Los Angeles Area of Responsibility", "Early Release", "2023-02-10"),
        ("TX", "Houston Area of Responsibility", "Insufficient Notice to ICE", "2023-02-11"),
        ("TX", "Houston Area of Responsibility", "Booked into Detention", "2023-03-01"),
        ("IL", "Chicago Area of Responsibility", "detainer  declined by lea", "2023-11-02"),
        ("IL", "Chicago Area of Responsibility", None, "2024-01-15"),
    ]
    frame = pd.DataFrame(rows, columns=["state", "aor", "detainer_lift_reason", "detainer_prepare_date"])
    frame["detainer_prepare_date"] = pd.to_datetime(frame["detainer_prepare_date"])
    frame["fiscal_year"] = [2023] * 5 + [2024] * 2
    return frame


@pytest.fixture
def records(frame: pd.DataFrame) -> ReleaseData:
    return processed(frame)


def detainers(filters: dict, **measure) -> dict:
    return {"table": "detainers", "filters": filters, **measure}


@pytest.mark.parametrize(("filters", "expected"), [
    ({"fiscal_year": 2023}, 5),
    ({"fiscal_year": [2023, 2024], "declined": "strict"}, 3),  # spacing and case of a lift reason do not matter
    ({"fiscal_year": 2023, "declined": "broad"}, 4),
    ({"fiscal_year": 2023, "state": "ca"}, 3),
    ({"fiscal_year": 2023, "aor": "Los Angeles"}, 2),
    ({"fiscal_year": [2023, 2024], "lift_reason_bucket": ["still_open", "booked"]}, 2),
    ({"date_range": ["2023-01-20", "2023-02-11"]}, 3),
])
def test_filters_count_the_records_they_describe(records: ReleaseData, filters: dict, expected: int) -> None:
    result = evaluate(claim(measure=detainers(filters), published=expected), records)
    assert (result.verdict, result.value) == (REPRODUCED, expected)


def test_differs_says_by_how_much_and_which_way(records: ReleaseData) -> None:
    low = evaluate(claim(measure=detainers({"fiscal_year": 2023}), published=4), records)
    assert (low.verdict, verdict_text(low)) == (DIFFERS, "differs: 1 more (+25.0%) than published")
    high = evaluate(claim(measure=detainers({"fiscal_year": 2023}), published=10, comparison="at_least"), records)
    assert verdict_text(high) == "differs: 5 fewer (-50.0%) than the published minimum"


def test_share_and_per_month(records: ReleaseData) -> None:
    share = claim(measure=detainers({"fiscal_year": [2023, 2024], "declined": "strict"}, statistic="share",
                                    numerator={"state": "CA"}), published=0.6, comparison="approximately", tolerance=0.1)
    result = evaluate(share, records)
    assert result.value == pytest.approx(2 / 3) and result.verdict == REPRODUCED
    monthly = claim(measure=detainers({"date_range": ["2023-01-01", "2023-02-28"]}, statistic="per_month"),
                    published=1, comparison="approximately", tolerance="10%")
    result = evaluate(monthly, records)
    assert result.value == 2.0 and result.verdict == DIFFERS
    assert verdict_text(result) == "differs: 1 a month more (+100.0%), outside the stated tolerance of ±10%"


def test_missing_years_and_columns_cannot_be_checked(frame: pd.DataFrame, records: ReleaseData) -> None:
    later = evaluate(claim(measure=detainers({"fiscal_year": 2025}), published=1), records)
    assert (later.verdict, later.reason) == (CANNOT, "the detainers table covers FY2023–FY2024, not FY2025")
    outside = evaluate(claim(measure=detainers({"date_range": ["2024-07-01", "2024-12-31"]}), published=1), records)
    assert outside.reason == "the detainers table covers 2022-10-01 to 2024-09-30, not 2024-07-01 to 2024-12-31"
    no_column = evaluate(claim(measure=detainers({"fiscal_year": 2023, "method": "Located"}), published=1), records)
    assert no_column.reason == "the detainers table of this release has no apprehension_method column"
    partial = evaluate(claim(measure=detainers({"fiscal_year": 2023}), published=5), processed(frame, partial=True))
    assert partial.verdict == CANNOT and "only partly covered" in partial.reason


def test_related_measure_is_reported_as_a_different_measure(records: ReleaseData) -> None:
    related = {"table": "detainers", "filters": {"fiscal_year": 2023, "state": "TX"},
               "label": "Texas detainers", "note": "Texas is not the country."}
    result = evaluate(claim(measure={"table": "encounters", "filters": {"fiscal_year": 2023}}, published=10,
                            related_measure=related), records)
    assert (result.verdict, result.value) == (DIFFERENT_MEASURE, 2)
    assert verdict_text(result) == "different measure: 8 fewer (-80.0%) than published (this release has no encounters table)"


def test_not_computable_claims_cannot_be_checked(records: ReleaseData) -> None:
    result = evaluate(claim(measure="not computable", reason="re-arrests are not recorded", published=1867), records)
    assert result.verdict == CANNOT
    assert verdict_text(result) == "cannot be checked: not computable from record-level data; re-arrests are not recorded"


def test_small_computed_counts_are_suppressed_in_tables(records: ReleaseData) -> None:
    result = evaluate(claim(measure=detainers({"fiscal_year": 2024}), published=2), records)
    shown = results_frame([result], min_cell=5).iloc[0]
    assert (shown["Published"], shown["This release"]) == ("2", "<5")


# ---------------------------------------------------------------- claim files with mistakes


GOOD = """
source: {publisher: ICE, date: 2017-12-13, title: Annual report, url: "https://example.org"}
claims:
  - id: good-claim
    claim: Arrests in FY2017.
    measure: {table: arrests, filters: {fiscal_year: 2017}}
    published: 143470
    comparison: exact
"""


@pytest.mark.parametrize(("change", "message"), [
    (("table: arrests", "table: arests"), "unknown table 'arests' in `measure`"),
    (("filters: {fiscal_year: 2017}", "filters: {fiscal_year: 2017, county: Cook}"), "unknown filter 'county'"),
    (("published: 143470", "published: 143,470"), "`published` must be a number without separators"),
    (("published: 143470", "published: lots"), "`published` must be a number without separators"),
    (("fiscal_year: 2017", "fiscal_year: FY2017"), "fiscal_year must be a year such as 2017"),
    (("fiscal_year: 2017}", "fiscal_year: 2017, declined: loose}"), "declined must be one of strict, broad"),
    (("    published: 143470\n", ""), "missing field `published`"),
    (('url: "https://example.org"', "url: null"), "missing source field `url`"),
    (("comparison: exact", "comparison: approximately"), "approximately needs a `tolerance`"),
    (("filters: {fiscal_year: 2017}", "filters: {state: CA}"), "needs a `fiscal_year` or `date_range` filter"),
])
def test_claim_file_mistakes_are_one_line_errors(tmp_path: Path, change: tuple[str, str], message: str) -> None:
    path = tmp_path / "broken.yml"
    path.write_text(GOOD.replace(*change))
    with pytest.raises(ClaimError) as caught:
        read_claim_file(path)
    text = caught.value.one_line()
    assert "\n" not in text and "broken.yml" in text and "claim 'good-claim'" in text and message in text


def test_a_claim_file_that_is_not_a_claim_list_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "list.yml"
    path.write_text("- just\n- a list\n")
    with pytest.raises(ClaimError, match="list.yml: must be a mapping with a `claims:` list"):
        read_claim_file(path)


def test_invalid_yaml_names_the_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "colon.yml"
    path.write_text(GOOD.replace("claim: Arrests in FY2017.", "claim: Arrests: FY2017: all of them"))
    with pytest.raises(ClaimError, match=r"colon.yml, row 5: not valid YAML: mapping values are not allowed here"):
        read_claim_file(path)


def test_duplicate_ids_across_files_are_refused(tmp_path: Path) -> None:
    (tmp_path / "a.yml").write_text(GOOD)
    (tmp_path / "b.yml").write_text(GOOD)
    with pytest.raises(ClaimError, match=r"b.yml: claim 'good-claim': id already used in .*a.yml"):
        load_claims(tmp_path)


def test_claims_command_reports_a_broken_file_in_one_line(sample_project: Path, tmp_path: Path,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    from analysis.cli import main

    (tmp_path / "bad.yml").write_text(GOOD.replace("table: arrests", "table: jails"))
    assert main(["-q", "claims", "sample", "--claims", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "bad.yml" in err and "claim 'good-claim': unknown table 'jails'" in err


def test_readme_documents_every_filter() -> None:
    from analysis.checks.claims import FILTERS

    readme = (claims_dir() / "README.md").read_text()
    assert all(f"`{name}`" in readme for name in FILTERS)
    assert textwrap.dedent(readme).count("not computable") >= 1


@pytest.mark.real
def test_claims_section_on_the_real_release(real_project: Path, tmp_path: Path) -> None:
    from analysis.report.build import ensure_kernel, execute
    from analysis.report.context import OUTPUT_KEY
    from analysis.report.parameters import ReportParameters

    ensure_kernel()
    name = "07_claims_check.ipynb"
    nb = execute(real_project / "notebooks" / name, tmp_path / name, ReportParameters(release=REAL), tmp_path / "failed")
    outputs = [o for cell in nb.cells for o in cell.get("outputs", [])]
    assert not [o for o in outputs if o.get("output_type") == "error"]
    tables = {o["metadata"][OUTPUT_KEY]["name"]: o["metadata"][OUTPUT_KEY]["csv"] for o in outputs
              if OUTPUT_KEY in o.get("metadata", {})}
    prose = "\n".join(o["data"]["text/markdown"] for o in outputs
                      if "text/markdown" in o.get("data", {}) and OUTPUT_KEY not in o.get("metadata", {}))
    prose = re.sub(r"\\(.)", r"\1", prose)  # the claims' text is escaped Markdown (escaping.md_text)
    assert "110,104,110,104,reproduced exactly" in tables["claims-1-ice-ero-annual-reports"].replace('"', "")
    assert "85,720,45,099,different measure" in tables["claims-2-trac"].replace('"', "")
    assert "compared through a different measure" in prose and "not the same event as a detainer prepared" in prose
    assert "The arrests table covers FY2016–FY2017, not FY2018:" in prose
