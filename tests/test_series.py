"""One series across productions: `analysis diff` of any two releases, and combined releases.

Every production here is built by the test as ICE sends text exports: five banner rows (office,
caveat, FOIA number, blank, a title naming table, years and as-of date), a header row, then one
record per row, pipe-delimited. Records get distinct dates within their fiscal year, so that record
matching and exact-duplicate counts have one right answer the tests can state.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import shutil
from collections import Counter
from pathlib import Path

import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from analysis.checks.compare import compare_releases, format_comparison, reader_notes
from analysis.cli import main
from analysis.errors import ReleaseError
from analysis.paths import locate_release
from analysis.reading.combine import as_of_date
from analysis.reading.ingest import ingest
from analysis.reading.manifest import read_manifest
from analysis.vocab.columns import PRODUCTION_COLUMN

from .conftest import REAL_RELEASE_ID, make_project, project_env

HEADER = ["Area of Responsibility", "Apprehension Date", "Apprehension Method", "Citizenship", "Gender",
          "Anonymized Identifier"]
METHODS = ["Located", "CAP Local Incarceration", "287(g) Program", "Non-Custodial Arrest", "CAP State Incarceration"]
AORS = ["Seattle Area of Responsibility", "Miami Area of Responsibility", "Dallas Area of Responsibility"]


def arrests(fy: int, count: int, *, first_day: int = 0) -> list[dict[str, str]]:
    """`count` arrest records of fiscal year `fy`, one per day from its `first_day`-th day."""
    start = dt.date(fy - 1, 10, 1)
    records = []
    for i in range(first_day, first_day + count):
        day = start + dt.timedelta(days=i)
        records.append({
            "Area of Responsibility": AORS[i % 3],
            "Apprehension Date": f"{day.month}/{day.day}/{day.year}",
            "Apprehension Method": METHODS[i % 5],
            "Citizenship": ["MEXICO", "GUATEMALA", "HONDURAS"][(i // 2) % 3],
            "Gender": "Female" if i % 4 == 0 else "Male",
            "Anonymized Identifier": f"P{i:04d}",
        })
    return records


def write_sheet(folder: Path, name: str, title: str, records: list[dict[str, str]], header: list[str] | None = None,
                foia: str = "2019-ICFO-53623") -> Path:
    header = header or list(records[0])
    folder.mkdir(parents=True, exist_ok=True)
    lines = ["ERO-LESA Statistical Tracking Unit", "Law Enforcement Sensitive", foia, "", title, "|".join(header)]
    lines += ["|".join(record.get(column, "") for column in header) for record in records]
    path = folder / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def production(root: Path, release_id: str, years: dict[int, list[dict[str, str]]], as_of: str | None) -> Path:
    """A production with one arrests file per fiscal year; `as_of` (M/D/YYYY) goes into every title."""
    folder = root / "data" / "raw" / release_id
    for fy, records in years.items():
        title = f"ERO Administrative Arrests FY{fy}" + (f", data as of {as_of}" if as_of else "")
        write_sheet(folder, f"EROArrests_FY{fy}.txt", title, records)
    return folder


def combine(root: Path, release_id: str, productions: list[str]) -> dict:
    folder = root / "data" / "raw" / release_id
    folder.mkdir(parents=True)
    (folder / "release.yml").write_text("combines:\n" + "".join(f"  - {p}\n" for p in productions), encoding="utf-8")
    return ingest(locate_release(release_id))


def used_rows(root: Path, release_id: str, table: str = "arrests") -> Counter:
    """(fiscal year, production) -> records in the combined table."""
    data = pq.read_table(root / "data/processed" / release_id / f"{table}.parquet", columns=["fiscal_year", PRODUCTION_COLUMN])
    return Counter(zip(data.column("fiscal_year").to_pylist(), data.column(PRODUCTION_COLUMN).to_pylist(), strict=True))


# ---------------------------------------------------------------- disjoint years


def test_disjoint_productions_diff_and_combine(project: Path) -> None:
    production(project, "fy16-17", {2016: arrests(2016, 30), 2017: arrests(2017, 40)}, "10/15/2017")
    production(project, "fy18-19", {2018: arrests(2018, 20), 2019: arrests(2019, 25)}, "10/20/2019")
    for release_id in ("fy16-17", "fy18-19"):
        ingest(locate_release(release_id))

    comparison = compare_releases("fy18-19", "fy16-17")  # was: KeyError 'column' (no fiscal year in common)
    text = format_comparison(comparison)
    assert "  fy18-19 holds: arrests FY2018–FY2019" in text
    assert "  fy16-17 holds: arrests FY2016–FY2017" in text
    assert "  compared record by record: nothing (no table and fiscal year is in both)" in text
    notes = reader_notes(comparison)
    assert notes[0] == ("No table and fiscal year is in both releases (this release: arrests FY2018–FY2019; the previous "
                        "one: arrests FY2016–FY2017), so only the coverage and columns are compared, not records.")
    assert "FY2016 arrests are no longer in this release (the previous one had 30)." in notes
    assert "FY2019 arrests are new in this release (25 records, a partial year)." in notes
    assert comparison.tables["arrests"].records is None and comparison.tables["arrests"].categories.empty

    manifest = combine(project, "series", ["fy16-17", "fy18-19"])
    arrests_info = manifest["tables"]["arrests"]
    assert arrests_info["rows_by_fiscal_year"] == {"2016": 30, "2017": 40, "2018": 20, "2019": 25}
    assert arrests_info["rows"] == 115 and arrests_info["duplicates_across_productions"] == 0
    assert arrests_info["productions_used"] == {"2016": "fy16-17", "2017": "fy16-17", "2018": "fy18-19", "2019": "fy18-19"}
    assert manifest["overlaps"] == []
    assert used_rows(project, "series") == {(2016, "fy16-17"): 30, (2017, "fy16-17"): 40,
                                            (2018, "fy18-19"): 20, (2019, "fy18-19"): 25}
    files = {f["path"]: f["sha256"] for f in manifest["files"]}
    assert set(files) == {f"fy16-17/EROArrests_FY{fy}.txt" for fy in (2016, 2017)} | {
        f"fy18-19/EROArrests_FY{fy}.txt" for fy in (2018, 2019)}
    for path, sha in files.items():
        assert hashlib.sha256((project / "data/raw" / path).read_bytes()).hexdigest() == sha
    assert [p["release"] for p in manifest["combines"]] == ["fy16-17", "fy18-19"]
    assert [p["as_of"] for p in manifest["combines"]] == ["2017-10-15", "2019-10-20"]

    compared = compare_releases("series", "fy16-17")  # a combined release compares like any other
    assert compared.tables["arrests"].shared_years == [2016, 2017]
    assert compared.tables["arrests"].records.total("unchanged") == 70  # identifiers are not matched on


# ---------------------------------------------------------------- overlapping years, revised


@pytest.fixture
def revised(project: Path) -> dict:
    """`early` (as of 10/15/2017): FY2016 30, FY2017 40 records. `late` (as of 10/20/2018): FY2017
    revised (3 records dropped, 2 added) and FY2018 25 records."""
    fy2017 = arrests(2017, 40)
    revised_fy2017 = [r for i, r in enumerate(fy2017) if i not in (5, 17, 33)] + arrests(2017, 2, first_day=200)
    production(project, "early", {2016: arrests(2016, 30), 2017: fy2017}, "10/15/2017")
    production(project, "late", {2017: revised_fy2017, 2018: arrests(2018, 25)}, "10/20/2018")
    return {"root": project, "fy2017": fy2017, "revised": revised_fy2017}


def test_overlap_uses_the_newest_production_by_as_of_date(revised: dict) -> None:
    root = revised["root"]
    manifest = combine(root, "series", ["late", "early"])  # listed newest first: the as-of dates decide
    info = manifest["tables"]["arrests"]
    assert info["rows_by_fiscal_year"] == {"2016": 30, "2017": 39, "2018": 25}
    assert info["productions_used"] == {"2016": "early", "2017": "late", "2018": "late"}
    assert used_rows(root, "series") == {(2016, "early"): 30, (2017, "late"): 39, (2018, "late"): 25}
    assert manifest["overlaps"] == [{
        "table": "arrests", "fiscal_year": 2017, "used": "late",
        "productions": [{"release": "late", "records": 39, "as_of": "2018-10-20"},
                        {"release": "early", "records": 40, "as_of": "2017-10-15"}],
        "previous": "early", "previous_records": 40, "records": 39, "difference": -1, "identical": 37,
    }]
    assert info["duplicates_across_productions"] == 0 and info["likely_duplicates"] == 0


def test_revision_is_listed_in_the_report_section(revised: dict) -> None:
    from analysis.sections.combination import combination_paragraph, overlaps_frame, productions_frame

    manifest = combine(revised["root"], "series", ["early", "late"])
    text = combination_paragraph(manifest)
    assert ("FY2017 arrests are in `early` and `late`: the newer `late` is used, 39 records, revising its 40 down by 1; "
            "37 of them are exact duplicates of its records.") in text
    assert "No record used repeats exactly a record of another production." in text
    assert overlaps_frame(manifest).to_dict("records") == [{
        "Table": "arrests", "Fiscal year": "FY2017", "Used": "late", "Records used": 39, "Replaced": "early",
        "Records replaced": 40, "Change": -1, "Identical records": 37}]
    rows = productions_frame(manifest).set_index("Production")
    assert rows.loc["early", "Used for"] == "arrests FY2016" and rows.loc["late", "Used for"] == "arrests FY2017–FY2018"
    assert rows.loc["early", "Holds"] == "arrests FY2016–FY2017" and rows.loc["late", "As of"] == "2018-10-20"


def test_order_given_decides_without_as_of_dates(project: Path) -> None:
    production(project, "first", {2017: arrests(2017, 10)}, None)
    production(project, "second", {2017: arrests(2017, 12)}, None)
    production(project, "dated", {2017: arrests(2017, 7)}, "1/5/2018")
    assert combine(project, "by-order", ["first", "second"])["tables"]["arrests"]["productions_used"] == {"2017": "second"}
    assert combine(project, "reversed", ["second", "first"])["tables"]["arrests"]["productions_used"] == {"2017": "first"}
    dated = combine(project, "dated-wins", ["first", "dated", "second"])  # a dated production is newer than undated ones
    assert dated["tables"]["arrests"]["productions_used"] == {"2017": "dated"}
    assert [p["release"] for p in dated["overlaps"][0]["productions"]] == ["dated", "second", "first"]
    assert dated["overlaps"][0]["identical"] == 7


def test_identifiers_never_link_people_across_productions(revised: dict) -> None:
    root = revised["root"]
    combine(root, "series", ["early", "late"])
    data = pq.read_table(root / "data/processed/series/arrests.parquet", columns=["anonymized_identifier", PRODUCTION_COLUMN])
    ids = data.column("anonymized_identifier").to_pylist()
    producers = data.column(PRODUCTION_COLUMN).to_pylist()
    assert all(i.startswith(f"{p}:") for i, p in zip(ids, producers, strict=True))
    assert "early:P0000" in ids and "late:P0000" in ids  # the same raw identifier, two people


def test_combined_release_is_current_until_a_production_changes(revised: dict) -> None:
    root = revised["root"]
    combine(root, "series", ["early", "late"])
    parquet = root / "data/processed/series/arrests.parquet"
    written = parquet.stat().st_mtime_ns
    assert ingest(locate_release("series"))["tables"]["arrests"]["rows"] == 94
    assert parquet.stat().st_mtime_ns == written  # up to date: not rebuilt
    ingest(locate_release("series"), force=True)
    assert parquet.stat().st_mtime_ns != written


# ---------------------------------------------------------------- columns


def test_renamed_and_new_columns_are_unified(project: Path) -> None:
    renamed = [{("Arrest Method" if k == "Apprehension Method" else k): v for k, v in r.items()} | {"Operation": "OP"}
               for r in arrests(2018, 15)]
    production(project, "old", {2017: arrests(2017, 10)}, "10/15/2017")
    write_sheet(project / "data/raw/new", "EROArrests_FY2018.txt", "ERO Administrative Arrests FY2018 as of 10/15/2018",
                renamed)
    manifest = combine(project, "series", ["old", "new"])
    columns = manifest["tables"]["arrests"]["columns"]
    assert columns["apprehension_method"]["source_names"] == ["Apprehension Method", "Arrest Method"]
    assert columns["apprehension_method"]["nulls"] == 0
    assert columns["operation"]["nulls"] == 10  # the old production has no such column
    data = pq.read_table(project / "data/processed/series/arrests.parquet")
    assert data.column_names[-6:] == ["fiscal_year", "source_file", "source_sheet", "source_row", "row_hash",
                                      PRODUCTION_COLUMN]
    methods = Counter(data.column("apprehension_method").to_pylist())
    assert methods == Counter(r["Apprehension Method"] for r in arrests(2017, 10) + arrests(2018, 15))


# ---------------------------------------------------------------- duplicates


def test_exact_duplicates_across_productions_are_counted_not_dropped(project: Path) -> None:
    undated = [dict(r, **{"Apprehension Date": ""}) for r in arrests(2017, 4, first_day=300)]
    production(project, "a", {2016: arrests(2016, 10)}, "10/15/2016")
    production(project, "b", {2017: arrests(2017, 8)}, "10/15/2017")
    write_sheet(project / "data/raw/a", "EROArrests_undated.txt", "ERO Administrative Arrests, date missing", undated)
    write_sheet(project / "data/raw/b", "EROArrests_undated.txt", "ERO Administrative Arrests, date missing",
                undated[:3], header=HEADER)
    manifest = combine(project, "series", ["a", "b"])
    info = manifest["tables"]["arrests"]
    assert info["rows"] == 10 + 8 + 4 + 3 and info["rows_without_fiscal_year"] == 7  # nothing dropped
    assert info["duplicates_across_productions"] == 3 and info["likely_duplicates"] == 3
    assert any("3 records repeat exactly a record of another production" in w for w in manifest["warnings"])
    assert any("records without a fiscal year are kept from every production that has them (a 4, b 3)" in w for w in manifest["warnings"])
    assert used_rows(project, "series")[(None, "a")] == 4


# ---------------------------------------------------------------- the planted revision


@pytest.fixture
def planted(project: Path) -> dict:
    """`before`: FY2016 and FY2017 arrests. `after`: FY2016 unchanged; FY2017 with 5 records dropped,
    `Apprehension Method` headed `Arrest Method`, and `Located` recoded `Located Alien`."""
    fy2016, fy2017 = arrests(2016, 60), arrests(2017, 80)
    production(project, "before", {2016: fy2016, 2017: fy2017}, "10/15/2017")
    dropped = {3, 11, 29, 47, 71}
    kept = [r for i, r in enumerate(fy2017) if i not in dropped]
    recoded = [{("Arrest Method" if k == "Apprehension Method" else k):
                ("Located Alien" if k == "Apprehension Method" and v == "Located" else v) for k, v in r.items()}
               for r in kept]
    folder = project / "data/raw/after"
    write_sheet(folder, "EROArrests_FY2016.txt", "ERO Administrative Arrests FY2016 as of 1/15/2018", fy2016)
    write_sheet(folder, "EROArrests_FY2017.txt", "ERO Administrative Arrests FY2017 as of 1/15/2018", recoded)
    for release_id in ("before", "after"):
        ingest(locate_release(release_id))
    return {"root": project, "located": sum(r["Apprehension Method"] == "Located" for r in kept),
            "dropped": len(dropped)}


def test_planted_revision_is_found_and_worded(planted: dict) -> None:
    located = planted["located"]
    assert located == 16  # every fifth record, none of them dropped
    comparison = compare_releases("after", "before")
    arrests_table = comparison.tables["arrests"]
    by_year = arrests_table.records.by_year.set_index("fiscal_year")
    assert by_year.loc[2016, ["unchanged", "changed", "dropped", "added"]].tolist() == [60, 0, 0, 0]
    assert by_year.loc[2017, ["unchanged", "changed", "dropped", "added"]].tolist() == [80 - 5 - located, located, 5, 0]
    assert [(r.previous, r.current, r.records, r.years) for r in arrests_table.records.recodes] == [
        ("Located", "Located Alien", located, (2017,))]
    notes = reader_notes(comparison)
    assert notes == [
        "FY2017 arrests were revised down by 5 (6.2%), from 80 to 75.",
        "In the arrests table, `Apprehension Method` is also called `Arrest Method` in the new release (FY2017); "
        "both are read as `apprehension_method`, so its figures stay comparable.",
        "In arrests.apprehension_method, records that match on every other column carry new values in FY2017: "
        f"`Located` → `Located Alien` ({located} records).",
        notes[3],  # the largest revision by area of responsibility
        f"Matching arrests records of FY2016 and FY2017 on their content: 5 dropped, 0 added, {located} changed "
        f"(changed in apprehension_method {located}).",
    ]
    assert notes[3].startswith("The largest arrests revision by area of responsibility")
    text = format_comparison(comparison)
    assert 'columns renamed: apprehension_method: header "Apprehension Method" is also "Arrest Method" (FY2017)' in text
    assert f"recoded (records matching on every other column): apprehension_method `Located` → `Located Alien` ({located} records)" in text
    assert "renamed Apprehension Method" not in text and " / " not in "\n".join(notes)


def test_planted_revision_combined_with_its_predecessor(planted: dict) -> None:
    manifest = combine(planted["root"], "series", ["before", "after"])
    assert manifest["tables"]["arrests"]["rows_by_fiscal_year"] == {"2016": 60, "2017": 75}
    overlaps = {o["fiscal_year"]: (o["used"], o["previous_records"], o["records"], o["identical"]) for o in manifest["overlaps"]}
    # FY2016 is the same in both; FY2017's recoded records differ from the old ones in one value
    assert overlaps == {2016: ("after", 60, 60, 60), 2017: ("after", 80, 75, 75 - planted["located"])}


# ---------------------------------------------------------------- the command and its mistakes


def test_combine_command_writes_release_yml_and_ingests(revised: dict, capsys: pytest.CaptureFixture[str]) -> None:
    root = revised["root"]
    outside = root.parent / "elsewhere" / "late-copy"
    shutil.copytree(root / "data/raw/late", outside)
    assert main(["-q", "combine", "series", "early", str(outside)]) == 0
    out = capsys.readouterr().out
    config = (root / "data/raw/series/release.yml").read_text()
    assert f"combines:\n- early\n- {outside}\n" in config and "release: series" in config
    assert "arrests: 94 records (FY2016 from early; FY2017–FY2018 from late-copy)" in out
    assert "overlap: arrests FY2017 is in late-copy, early; used late-copy (39 records, early had 40: -1; 37 identical)" in out
    assert main(["-q", "combine", "series", "early", "late"]) == 2
    assert "data/raw/series: already exists" in capsys.readouterr().err


@pytest.mark.parametrize(("config", "message"), [
    ("combines: early\n", "`combines:` must list at least two productions"),
    ("combines: [early]\n", "`combines:` must list at least two productions"),
    ("combines: [early, nowhere]\n", "production 'nowhere': release 'nowhere' not found"),
    ("combines: [early, early]\n", "production 'early' is listed twice"),
    ("combines: [early, bad]\n", "production 'bad' is this combined release itself"),
])
def test_a_wrong_combination_is_one_line(revised: dict, capsys: pytest.CaptureFixture[str], config: str, message: str) -> None:
    folder = revised["root"] / "data/raw/bad"
    folder.mkdir()
    (folder / "release.yml").write_text(config)
    assert main(["-q", "ingest", "bad"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("analysis: error: data/raw/bad/release.yml") and message in err and err.count("\n") == 1
    assert not (revised["root"] / "data/processed/bad").exists()


def test_a_combined_release_with_data_files_is_refused(revised: dict) -> None:
    folder = revised["root"] / "data/raw/mixed"
    write_sheet(folder, "extra.txt", "ERO Administrative Arrests FY2019", arrests(2019, 3))
    (folder / "release.yml").write_text("combines: [early, late]\n")
    with pytest.raises(ReleaseError, match="holds no data files of its own"):
        ingest(locate_release("mixed"))


def test_as_of_dates_as_banners_write_them() -> None:
    assert as_of_date("6/30/2025") == dt.date(2025, 6, 30)
    assert as_of_date("6/30/25") == dt.date(2025, 6, 30)
    assert as_of_date("2025-06-30") == dt.date(2025, 6, 30)
    assert as_of_date("June 30, 2025") == dt.date(2025, 6, 30)
    assert as_of_date("2/30/2025") is None and as_of_date("soon") is None


# ---------------------------------------------------------------- exports and claims


def test_export_of_a_combined_release_keeps_the_production(revised: dict) -> None:
    from analysis.export import export_release

    combine(revised["root"], "series", ["early", "late"])
    result = export_release("series", "parquet", revised["root"] / "exports", None)
    exported = pq.read_table(result.out_dir / "arrests.parquet")
    assert "anonymized_identifier" not in exported.column_names and "row_hash" not in exported.column_names
    assert Counter(exported.column(PRODUCTION_COLUMN).to_pylist()) == {"early": 30, "late": 64}


# ---------------------------------------------------------------- the real release, split in two


@pytest.mark.real
def test_real_release_split_by_fiscal_year_combines_to_its_published_totals(
        real_release_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = make_project(tmp_path / "project", notebooks=False)
    for fy in (2016, 2017):
        folder = tmp_path / "productions" / f"lesa-fy{fy}"
        folder.mkdir(parents=True)
        for path in real_release_dir.glob(f"*_FY{fy}.csv.gz"):
            shutil.copy2(path, folder / path.name)
    with project_env(root):
        assert main(["-q", "combine", "lesa-series", str(tmp_path / "productions/lesa-fy2016"),
                     str(tmp_path / "productions/lesa-fy2017")]) == 0
        manifest = ingest(locate_release("lesa-series"))
        tables = manifest["tables"]
        assert tables["arrests"]["rows_by_fiscal_year"] == {"2016": 110_104, "2017": 143_470}
        assert tables["removals"]["rows_by_fiscal_year"] == {"2016": 240_255, "2017": 226_119}
        assert tables["encounters"]["rows_by_fiscal_year"] == {"2016": 368_645, "2017": 439_903}
        assert sum(t["rows"] for t in tables.values()) == 1_528_496
        assert manifest["overlaps"] == [] and manifest["foia_numbers"] == ["2019-ICFO-53623"]
        assert all(t["duplicates_across_productions"] == 0 for t in tables.values())
        readme = (real_release_dir / "README.md").read_text()
        assert len(manifest["files"]) == 6 and all(f["sha256"] in readme for f in manifest["files"])
        assert tables["removals"]["columns"]["birth_date"]["redacted"] == 466_374  # as in the single release
        arrests_used = pq.read_table(root / "data/processed/lesa-series/arrests.parquet", columns=[PRODUCTION_COLUMN])
        assert pc.value_counts(arrests_used.column(PRODUCTION_COLUMN).combine_chunks()).to_pylist() == [
            {"values": "lesa-fy2016", "counts": 110_104}, {"values": "lesa-fy2017", "counts": 143_470}]
        capsys.readouterr()
        assert main(["-q", "claims", "lesa-series"]) == 0
        out = capsys.readouterr().out
        assert "ice-ero-fy2016-arrests" in out and "4 reproduced, 0 differs" in out
        comparison = compare_releases("lesa-series", "lesa-fy2016")
        assert comparison.tables["arrests"].records.total("unchanged") == 110_104
    assert REAL_RELEASE_ID not in [p["release"] for p in manifest["combines"]]


# ---------------------------------------------------------------- a report on a combined sample


@pytest.mark.e2e
def test_report_renders_on_a_combined_sample_release(sample_project: Path, tmp_path: Path) -> None:
    """The SYNTHETIC sample plus a later production revising its FY2025 arrests, combined, reported."""
    from analysis.report.build import build_report
    from analysis.report.parameters import ReportParameters

    root = make_project(tmp_path / "project")
    shutil.copytree(sample_project / "data/raw/sample", root / "data/raw/sample")
    with project_env(root), pytest.MonkeyPatch.context() as patch:
        patch.setenv("SOURCE_DATE_EPOCH", "1767225600")
        ingest(locate_release("sample"))
        sample_arrests = pq.read_table(root / "data/processed/sample/arrests.parquet")
        fy2025 = sample_arrests.filter(pc.equal(sample_arrests.column("fiscal_year"), 2025)).to_pylist()
        kept = fy2025[:-4]  # the update drops four FY2025 arrests
        names = {"aor": "Area of Responsibility", "apprehension_date": "Apprehension Date",
                 "apprehension_method": "Apprehension Method", "citizenship": "Citizenship", "gender": "Gender"}
        records = [{names[k]: (f"{v.month}/{v.day}/{v.year}" if isinstance(v, dt.date) else (v or ""))
                    for k, v in r.items() if k in names} for r in kept]
        write_sheet(root / "data/raw/sample-update", "SYNTHETIC_Arrests_FY2025.txt",
                    "SYNTHETIC ERO Administrative Arrests FY2025 as of 12/31/2099", records, foia="2026-ICFO-99999")
        (root / "data/raw/combined").mkdir()
        (root / "data/raw/combined/release.yml").write_text("combines: [sample, sample-update]\n")
        pdf = build_report(locate_release("combined"), ReportParameters(release="combined"))
    manifest = read_manifest(root / "data/processed/combined")
    assert manifest["synthetic"] is True
    assert manifest["tables"]["arrests"]["rows_by_fiscal_year"]["2025"] == len(kept)
    assert manifest["tables"]["detainers"]["productions_used"] == {
        fy: "sample" for fy in manifest["tables"]["detainers"]["rows_by_fiscal_year"]}
    html = pdf.with_suffix(".html").read_text()
    assert "Productions combined" in html and "SYNTHETIC DATA" in html
    assert (f"FY2025 arrests are in <code>sample</code> and <code>sample-update</code>: the newer "
            f"<code>sample-update</code> is used, {len(kept):,} records, revising its {len(fy2025):,} down by 4") in html
    tables = sorted(p.name for p in (pdf.parent / "tables").iterdir())
    assert any(n.endswith("productions-combined.csv") for n in tables)
    assert any(n.endswith("production-overlaps.csv") for n in tables)
    assert any(n.endswith("raw-files.csv") for n in tables)
    raw_files = next(p for p in (pdf.parent / "tables").iterdir() if p.name.endswith("raw-files.csv")).read_text()
    assert "sample/SYNTHETIC_Detainers_FY2021-FY2025.xlsx" in raw_files and "sample-update/SYNTHETIC_Arrests_FY2025.txt" in raw_files
