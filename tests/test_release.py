"""release: partial years as one type, the report's scope, and the one place tables are read."""

from __future__ import annotations

import os
import stat
import tempfile

import duckdb
import numpy as np
import pandas as pd
import pytest

from analysis import release as release_module
from analysis.errors import ReleaseError
from analysis.release import PartialMonths, PartialYears, Release, Scope, partial_months, partial_years
from tests.fakes import fake_release


def test_partial_years_from_the_manifest():
    manifest = {"tables": {"arrests": {"fiscal_year_coverage": {
        "2024": {"first": "2023-10-01", "last": "2024-09-30"}, "2025": {"first": "2024-10-01", "last": "2025-03-31"}}}}}
    partial = partial_years(manifest, "arrests")
    assert partial == PartialYears({2025})
    assert partial.within(pd.Series([2024])) == PartialYears()
    assert partial_years({"tables": {"arrests": {}}}, "arrests") == PartialYears()


def test_partial_years_accept_any_integer_spelling():
    partial = PartialYears({2025})
    assert 2025 in partial and np.int16(2025) in partial and "2025" in partial and 2024 not in partial
    assert partial.flags([2024, 2025]) == [False, True]
    assert partial.any_of([2025]) and not partial.any_of([2023, 2024])
    assert sorted(PartialYears({2025, 2023})) == [2023, 2025]


def test_scope():
    assert Scope().geography_column is None and Scope().is_whole_release
    assert Scope(state="CA").geography_column == "state" and Scope(aor="Seattle").geography_column == "aor"
    assert Scope(fy_end=2023).limits_years and not Scope(state="CA").limits_years
    frame = pd.DataFrame({"state": ["CA", "TX", "CA"], "aor": ["Seattle Area of Responsibility", "Seattle", "Miami"],
                          "fiscal_year": [2022, 2023, 2024]})
    assert Scope(state="CA", fy_end=2023).apply(frame)["fiscal_year"].tolist() == [2022]
    assert Scope(aor="Seattle").apply(frame)["fiscal_year"].tolist() == [2022, 2023]


def test_missing_and_can_scope():
    release = fake_release({"arrests": ["aor"]}, state="WA")
    assert release.missing("detainers") == "This release has no detainers table"
    assert release.missing("arrests", ["aor", "state"]) == "The arrests table of this release has no state column"
    assert release.missing("arrests", ["aor"]) is None
    assert not release.can_scope("arrests") and fake_release({"arrests": ["aor"]}).can_scope("arrests")


def test_load_limits_records_to_the_scope(sample_project):
    whole = Release("sample").load("arrests", ["apprehension_method"])
    seattle = Release("sample", Scope(aor="Seattle", fy_start=2023)).load("arrests", ["apprehension_method"])
    assert 0 < len(seattle) < len(whole)
    assert set(seattle["aor"]) == {"Seattle Area of Responsibility"} and seattle["fiscal_year"].min() >= 2023
    assert list(seattle.index) == list(range(len(seattle)))


def test_a_table_without_the_scope_column_is_refused(sample_project):
    with pytest.raises(ReleaseError, match="no 'state' column, so it cannot be limited to California"):
        Release("sample", Scope(state="CA")).load("arrests")
    with pytest.raises(ReleaseError, match="has no 'removals' table"):
        Release("sample").load("removals")


def coverage_manifest(*spans: tuple[str, str, str]) -> dict:
    return {"tables": {"arrests": {"fiscal_year_coverage": {fy: {"first": first, "last": last}
                                                            for fy, first, last in spans}}}}


def test_partial_months_are_the_first_month_starting_late_and_the_last_ending_early():
    manifest = coverage_manifest(("2018", "2017-10-14", "2018-09-30"), ("2019", "2018-10-01", "2019-09-01"))
    partial = partial_months(manifest, "arrests")
    assert partial.months() == [pd.Timestamp("2017-10-01"), pd.Timestamp("2019-09-01")]
    monthly = pd.DataFrame({"month": pd.date_range("2017-10-01", "2019-09-01", freq="MS"), "count": 1})
    shown, note = partial.leave_out(monthly)
    assert note == ("October 2017 is left out: the records start on 14 October 2017. "
                    "September 2019 is left out: the records end on 1 September 2019.")
    kept = shown["month"]
    assert kept.iloc[0] == pd.Timestamp("2017-11-01") and kept.iloc[-1] == pd.Timestamp("2019-08-01")
    assert len(kept) == len(monthly) - 2


def test_whole_months_and_one_month_of_records_leave_nothing_out():
    whole = coverage_manifest(("2019", "2018-10-01", "2019-02-28"))
    assert partial_months(whole, "arrests") == PartialMonths()
    one_month = coverage_manifest(("2019", "2019-03-05", "2019-03-20"))
    assert partial_months(one_month, "arrests").months() == []
    assert partial_months({"tables": {"arrests": {}}}, "arrests").months() == []


def test_partial_months_follow_the_scope_years():
    manifest = coverage_manifest(("2018", "2017-10-01", "2018-09-30"), ("2019", "2018-10-01", "2019-09-01"))
    assert partial_months(manifest, "arrests", Scope(fy_end=2018)).months() == []
    assert partial_months(manifest, "arrests", Scope(fy_start=2019)).months() == [pd.Timestamp("2019-09-01")]


def test_partial_months_name_only_the_months_a_chart_has_and_never_empty_it():
    partial = PartialMonths(first=pd.Timestamp("2019-03-05"), last=pd.Timestamp("2019-04-20"))
    both = pd.DataFrame({"month": pd.to_datetime(["2019-03-01", "2019-04-01"]), "count": [4, 5]})
    shown, note = partial.leave_out(both)
    assert shown is both and note == ""
    later = pd.DataFrame({"month": pd.to_datetime(["2019-04-01", "2019-05-01"]), "count": [4, 5]})
    shown, note = PartialMonths(first=pd.Timestamp("2019-03-05"), last=pd.Timestamp("2019-05-20")).leave_out(later)
    assert list(shown["month"]) == [pd.Timestamp("2019-04-01")]
    assert note == "May 2019 is left out: the records end on 20 May 2019."


def test_duckdb_views_hold_the_scope_and_the_whole_release(sample_project):
    whole = Release("sample")
    seattle = Release("sample", Scope(aor="Seattle", fy_start=2023))
    loaded = seattle.load("arrests", [])
    counted = seattle.sql("select fiscal_year, count(*) as n from arrests group by 1 order by 1")
    assert counted["n"].tolist() == loaded.groupby("fiscal_year").size().tolist()
    assert counted["fiscal_year"].tolist() == sorted(loaded["fiscal_year"].unique())
    assert seattle.sql("select count(*) as n from arrests_all")["n"][0] == len(whole.load("arrests", []))
    assert seattle.counts("arrests", [])["records"][0] == len(loaded) < len(whole.load("arrests", []))
    settings = dict(seattle.db.execute("select name, value from duckdb_settings() where name = 'threads'").fetchall())
    assert settings["threads"] == "1"


def test_duckdb_refuses_what_load_refuses(sample_project):
    release = Release("sample", Scope(state="CA"))
    with pytest.raises(ReleaseError, match="no 'state' column, so it cannot be limited to California"):
        release.relation("arrests")
    with pytest.raises(ReleaseError, match="has no 'removals' table"):
        release.counts("removals", ["fiscal_year"])
    assert release.sql("select count(*) as n from arrests_all")["n"][0] > 0


def test_scope_values_are_data_in_sql():
    frame = pd.DataFrame({"state": ["O'X", "TX"], "fiscal_year": [2022, 2023]})
    release = fake_release({"detainers": ["state", "fiscal_year"]}, {"detainers": frame}, state="O'X")
    assert release.counts("detainers", ["fiscal_year"])["fiscal_year"].tolist() == [2022]
    assert Scope(aor="Seattle", fy_end=2024).where() == \
        "aor in ('Seattle', 'Seattle Area of Responsibility') and fiscal_year <= 2024"


def test_counts_keep_missing_values():
    frame = pd.DataFrame({"state": ["CA", None, "CA"], "fiscal_year": [2022, 2022, 2023]})
    counts = fake_release({"detainers": ["state", "fiscal_year"]}, {"detainers": frame}).counts("detainers", ["state"])
    assert counts["records"].tolist() == [2, 1] and counts["state"].isna().tolist() == [False, True]


def _setting(release: Release, name: str) -> str:
    return str(release.sql(f"select current_setting('{name}') as value")["value"][0])


def test_a_large_query_gets_more_memory_any_order_and_the_connection_its_settings_back(sample_project):
    release = Release("sample")
    before = _setting(release, "memory_limit"), _setting(release, "preserve_insertion_order")
    with release.large_query():
        inside = _setting(release, "memory_limit"), _setting(release, "preserve_insertion_order")
    assert inside[0] != before[0] and inside[1].lower() == "false" != before[1].lower()
    assert (_setting(release, "memory_limit"), _setting(release, "preserve_insertion_order")) == before
    with pytest.raises(duckdb.Error), release.large_query():
        release.sql("select * from no_such_table")
    assert (_setting(release, "memory_limit"), _setting(release, "preserve_insertion_order")) == before, \
        "restored after a failing query too"


def test_each_process_spills_into_its_own_folder(sample_project):
    spill = str(Release("sample").sql("select current_setting('temp_directory') as d")["d"][0])
    assert spill.endswith(f"ice-detainers-duckdb-{os.getuid()}/{os.getpid()}")


def test_a_query_beyond_the_memory_limit_spills_on_a_fresh_machine(sample_project, tmp_path, monkeypatch):
    """DuckDB makes only the last folder of its temp_directory: on a machine whose temporary folder
    never held ours, the first query to spill failed (the 5M and 10M reports did)."""
    fresh = tmp_path / "fresh-tmp"
    fresh.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(fresh))
    monkeypatch.setattr(release_module, "DUCKDB_MEMORY_LIMIT", "32MB")
    release = Release("sample")
    spilling = "select sum(i * r) from (select i, row_number() over (order by hash(i)) r from range(3000000) t(i))"
    assert release.db.execute(spilling).fetchone()[0] > 0
    (own,) = fresh.iterdir()
    assert own.name == f"ice-detainers-duckdb-{os.getuid()}" and stat.S_IMODE(own.stat().st_mode) == 0o700
    assert [p.name for p in own.iterdir()] == [str(os.getpid())]  # the spill files of this process
