"""Release comparison: planted changes built from the real release must be reported exactly.

Derived releases are the first rows of the real files, written back as pipe-delimited gzip text
with the same banner rows, into a throw-away project:
- `base`: FY2016 arrests (3,000 rows), encounters and removals (2,000 rows each);
- `subset`: the first 2,000 arrests and 1,500 encounters and removals of `base` (a strict subset);
- `unaliased`: `base` with the encounters header "Processing Disposition" renamed to "Disposition
  Outcome", a spelling the alias map does not know;
- `planted`: `base` with arrests rows removed, the header "Apprehension Date" renamed to its alias
  "Arrest Date", the method "Located" recoded "Located Alien", and FY2017 arrests added.
"""

from __future__ import annotations

import csv
import gzip
import random
from collections import Counter
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from analysis.checks.compare import (
    NOT_RECORDED,
    RecordChanges,
    Rename,
    compare_releases,
    format_comparison,
    possible_renames,
    reader_notes,
    record_changes,
    revisions_by_area,
)
from analysis.vocab.columns import canonical_name
from analysis.vocab.geography import short_aor
from tests.conftest import make_project, project_env

BASE_ROWS = {"EROArrests_FY2016.csv.gz": 3000, "EROEncounters_FY2016.csv.gz": 2000, "ICERemovals_FY2016.csv.gz": 2000}
SUBSET_ROWS = {"EROArrests_FY2016.csv.gz": 2000, "EROEncounters_FY2016.csv.gz": 1500, "ICERemovals_FY2016.csv.gz": 1500}
ADDED_YEAR_ROWS = 1000
CODED = ["Area of Responsibility", "Apprehension Method", "Processing Disposition", "Citizenship", "Gender"]


def read_real(path: Path, rows: int) -> tuple[list[str], pd.DataFrame]:
    """The five banner lines, exactly as written, and the first `rows` records as text."""
    with gzip.open(path, "rt", encoding="utf-8", newline="") as handle:
        banners = [next(handle) for _ in range(5)]
    frame = pd.read_csv(path, sep="|", skiprows=5, nrows=rows, dtype=str, keep_default_na=False)
    return banners, frame


def write_release(folder: Path, files: dict[str, tuple[list[str], pd.DataFrame]]) -> None:
    folder.mkdir(parents=True)
    for name, (banners, frame) in files.items():
        with gzip.open(folder / name, "wt", encoding="utf-8", newline="") as handle:
            handle.writelines(banners)
            frame.to_csv(handle, sep="|", index=False, quoting=csv.QUOTE_MINIMAL, lineterminator="\n")


def rows_to_remove(arrests: pd.DataFrame) -> pd.Index:
    """About 100 rows whose coded values all stay present elsewhere, none of them 'Located'."""
    common = arrests["Apprehension Method"] != "Located"
    for column in CODED:
        common &= arrests[column].map(arrests[column].value_counts()) >= 20
    chosen = arrests.index[common][::15][:100]
    kept = arrests.drop(index=chosen)
    assert all(set(kept[c]) == set(arrests[c]) for c in CODED), "planted removal must not make a category vanish"
    return chosen


def planted_arrests(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.rename(columns={"Apprehension Date": "Arrest Date"})
    out["Apprehension Method"] = out["Apprehension Method"].replace({"Located": "Located Alien"})
    return out


@pytest.fixture(scope="module")
def planted(real_release_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> dict:
    from analysis.paths import locate_release
    from analysis.reading.ingest import ingest

    root = make_project(tmp_path_factory.mktemp("compare-project"))
    base = {name: read_real(real_release_dir / name, rows) for name, rows in BASE_ROWS.items()}
    arrests_banners, arrests = base["EROArrests_FY2016.csv.gz"]
    removed = rows_to_remove(arrests)
    fy2017_banners, fy2017 = read_real(real_release_dir / "EROArrests_FY2017.csv.gz", ADDED_YEAR_ROWS)
    releases = {
        "base": base,
        "subset": {name: (banners, frame.head(SUBSET_ROWS[name])) for name, (banners, frame) in base.items()},
        "unaliased": {**base, "EROEncounters_FY2016.csv.gz": (
            base["EROEncounters_FY2016.csv.gz"][0],
            base["EROEncounters_FY2016.csv.gz"][1].rename(columns={"Processing Disposition": "Disposition Outcome"}))},
        "planted": {
            **base,
            "EROArrests_FY2016.csv.gz": (arrests_banners, planted_arrests(arrests.drop(index=removed))),
            "EROArrests_FY2017.csv.gz": (fy2017_banners, planted_arrests(fy2017)),
        },
    }
    with project_env(root):
        for release_id, files in releases.items():
            write_release(root / "data" / "raw" / release_id, files)
            ingest(locate_release(release_id))
    located = int((arrests.drop(index=removed)["Apprehension Method"] == "Located").sum())
    assert located > 0, "the first rows of FY2016 must hold 'Located' arrests to recode"
    return {"root": root, "base": base, "removed": arrests.loc[removed], "located": located}


@pytest.fixture
def in_planted(planted: dict, monkeypatch: pytest.MonkeyPatch) -> dict:
    monkeypatch.setenv("ANALYSIS_ROOT", str(planted["root"]))
    return planted


@pytest.mark.real
def test_planted_changes_are_reported_exactly(in_planted: dict) -> None:
    removed, located = len(in_planted["removed"]), in_planted["located"]
    comparison = compare_releases("planted", "base")
    assert comparison.tables_added == [] and comparison.tables_dropped == []
    assert comparison.tables["encounters"].unchanged and comparison.tables["removals"].unchanged
    arrests = comparison.tables["arrests"]

    years = arrests.years.set_index("fiscal_year")
    assert (years.loc[2016, "previous"], years.loc[2016, "current"], years.loc[2016, "difference"]) == (3000, 3000 - removed, -removed)
    assert pd.isna(years.loc[2017, "previous"]) and years.loc[2017, "current"] == ADDED_YEAR_ROWS
    assert arrests.years_added == [2017] and arrests.years_dropped == [] and arrests.shared_years == [2016]

    assert arrests.renamed == [Rename("apprehension_date", ("Apprehension Date",), ("Arrest Date",))]
    assert arrests.renamed[0].kind == "renamed"
    assert arrests.columns_added == [] and arrests.columns_dropped == [] and arrests.possible_renames == []

    categories = {(r.column, r.value, r.change, r.previous, r.current) for r in arrests.categories.itertuples()}
    assert categories == {("apprehension_method", "Located", "vanished", located, 0),
                          ("apprehension_method", "Located Alien", "appeared", 0, located)}

    expected = Counter(short_aor(a) for a in in_planted["removed"]["Area of Responsibility"])
    assert arrests.geography == "aor"
    got = {(int(r.fiscal_year), r.area): int(r.difference) for r in arrests.revisions.itertuples()}
    assert got == {(2016, area): -n for area, n in expected.items()}
    assert list(arrests.revisions["difference"].abs()) == sorted(expected.values(), reverse=True)

    records = arrests.records
    row = records.by_year.set_index("fiscal_year").loc[2016]
    assert (row["dropped"], row["added"], row["changed"]) == (removed, 0, located)
    assert row["unchanged"] == 3000 - removed - located
    assert records.changed_by_column == {"apprehension_method": located}


@pytest.mark.real
def test_reader_paragraph_names_each_planted_change_and_nothing_else(in_planted: dict) -> None:
    removed, located = len(in_planted["removed"]), in_planted["located"]
    notes = reader_notes(compare_releases("planted", "base"))
    text = " ".join(notes)
    assert f"FY2016 arrests were revised down by {removed} ({100 * removed / 3000:.1f}%)" in text
    assert f"FY2017 arrests are new in this release ({ADDED_YEAR_ROWS:,} records" in text
    assert ("In the arrests table, `Apprehension Date` is called `Arrest Date` in the new release; both are read as "
            "`apprehension_date`, so its figures stay comparable.") in text
    assert (f"In arrests.apprehension_method, records that match on every other column carry new values in FY2016: "
            f"`Located` → `Located Alien` ({located} records).") in text
    assert "renamed" not in text and "appear for the first time" not in text
    assert f"{removed} dropped, 0 added, {located} changed (changed in apprehension_method {located})" in text
    assert "encounters" not in text and "removals" not in text
    per_area = Counter(short_aor(a) for a in in_planted["removed"]["Area of Responsibility"])
    largest = sorted(area for area, n in per_area.items() if n == max(per_area.values()))
    largest_note = next(n for n in notes if n.startswith("The largest arrests revision by area of responsibility"))
    assert all(f"{area} (FY2016, −{max(per_area.values())})" in largest_note for area in largest[:3])
    assert len(notes) == 6  # revision, new year, rename, recoding, largest area revision, record matching
    recodes = compare_releases("planted", "base").tables["arrests"].records.recodes
    assert [(r.column, r.previous, r.current, r.records, r.years) for r in recodes] == [
        ("apprehension_method", "Located", "Located Alien", located, (2016,))]


def clean(values: pd.Series) -> set[str]:
    """Values as ingest keeps them: trimmed, without blanks or FOIA redaction markers."""
    stripped = values.str.strip()
    return set(stripped[(stripped != "") & ~stripped.str.startswith("(B)")])


@pytest.mark.real
def test_strict_subset_reports_only_added_records(in_planted: dict) -> None:
    comparison = compare_releases("base", "subset")
    for name, table in comparison.tables.items():
        file = next(f for f in BASE_ROWS if name in f.lower())
        _, full = in_planted["base"][file]
        old, new = full.head(SUBSET_ROWS[file]), full.iloc[SUBSET_ROWS[file]:]
        extra = BASE_ROWS[file] - SUBSET_ROWS[file]
        assert table.years[["fiscal_year", "previous", "current", "difference"]].values.tolist() == [
            [2016, SUBSET_ROWS[file], BASE_ROWS[file], extra]]
        assert table.renamed == [] and table.columns_added == [] and table.columns_dropped == []
        assert (table.records.total("added"), table.records.total("dropped"), table.records.total("changed")) == (extra, 0, 0)
        assert set(table.categories["change"]) <= {"appeared"}
        coded = [c for c in old.columns if not c.endswith("Date") and "Landmark" not in c]  # jail names: thousands
        for raw_column in coded:
            column = canonical_name(raw_column)
            appeared = set(table.categories.loc[table.categories["column"] == column, "value"])
            assert appeared == clean(new[raw_column]) - clean(old[raw_column]), column
        assert set(table.categories["column"]) <= {canonical_name(c) for c in coded}
        aor_column = next(c for c in full.columns if "Area of Responsibility" in c)
        expected = Counter(short_aor(a) if a.strip() else NOT_RECORDED for a in new[aor_column])
        assert {r.area: int(r.difference) for r in table.revisions.itertuples()} == dict(expected)


@pytest.mark.real
def test_unknown_header_is_a_possible_rename_found_by_values(in_planted: dict) -> None:
    comparison = compare_releases("unaliased", "base")
    assert comparison.tables["arrests"].unchanged and comparison.tables["removals"].unchanged
    encounters = comparison.tables["encounters"]
    assert (encounters.columns_added, encounters.columns_dropped) == (["disposition_outcome"], ["processing_disposition"])
    assert [(p.dropped, p.added, p.overlap) for p in encounters.possible_renames] == [
        ("processing_disposition", "disposition_outcome", 1.0)]
    assert encounters.renamed == [] and encounters.categories.empty and encounters.revisions.empty
    assert encounters.records.total("unchanged") == BASE_ROWS["EROEncounters_FY2016.csv.gz"]
    assert "processing_disposition" not in encounters.records.columns
    notes = reader_notes(comparison)
    assert notes == ["The encounters table has new columns: disposition_outcome.",
                     "The encounters table no longer has: processing_disposition.",
                     "In the encounters table, disposition_outcome may be processing_disposition under a new name: "
                     "100% of their distinct values are shared."]


@pytest.mark.real
def test_citizenship_counts_as_coded(in_planted: dict) -> None:
    comparison = compare_releases("base", "subset")
    _, arrests = in_planted["base"]["EROArrests_FY2016.csv.gz"]
    new_countries = clean(arrests["Citizenship"].iloc[2000:]) - clean(arrests["Citizenship"].iloc[:2000])
    assert new_countries, "the planted subset should leave out some countries"
    shown = comparison.tables["arrests"].categories
    assert set(shown.loc[shown["column"] == "citizenship", "value"]) == new_countries
    assert "apprehension_landmark" not in set(shown["column"])  # thousands of jail names: not a coded column


@pytest.mark.real
def test_identical_releases_compare_as_unchanged(in_planted: dict) -> None:
    comparison = compare_releases("base", "base")
    assert comparison.unchanged
    assert reader_notes(comparison) == [
        "Release base holds the same tables, columns and records as base: nothing in the previous report needs revising."]


@pytest.mark.real
def test_diff_command_prints_the_summary(in_planted: dict, capsys: pytest.CaptureFixture[str]) -> None:
    from analysis.cli import main

    assert main(["-q", "diff", "planted", "base"]) == 0
    out = capsys.readouterr().out
    assert 'columns renamed: apprehension_date: header "Apprehension Date" is now "Arrest Date"' in out
    removed = len(in_planted["removed"])
    assert f"{'FY2016 (partial)':<18}{3000:>15,}{3000 - removed:>15,}{f'{-removed:+,} ({-100 * removed / 3000:+.1f}%)':>22}" in out
    assert "What a reader of the previous report needs to know:" in out


@pytest.mark.real
def test_diff_command_names_a_missing_release(in_planted: dict, capsys: pytest.CaptureFixture[str]) -> None:
    from analysis.cli import main

    assert main(["-q", "diff", "planted", "nowhere"]) == 2
    assert "release 'nowhere' not found" in capsys.readouterr().err


# ---------------------------------------------------------------- small hand-built cases


def frames(*rows: tuple) -> pd.DataFrame:
    """Records as a release's table holds them for the comparison: with their position in the file."""
    frame = pd.DataFrame(rows, columns=["fiscal_year", "x", "y"])
    return frame.assign(file_row_number=range(len(frame)))


def matched(old: pd.DataFrame, new: pd.DataFrame, columns: list[str], **options) -> RecordChanges:
    """`record_changes` through DuckDB, on the two frames as tables."""
    db = duckdb.connect()
    db.register("old_records", old)
    db.register("new_records", new)
    return record_changes(db, "old_records", "new_records", columns, **options)


def test_record_changes_pairs_identical_rows_as_multisets() -> None:
    old = frames((2016, "a", "1"), (2016, "a", "1"), (2016, "b", "2"))
    new = frames((2016, "a", "1"), (2016, "b", "2"), (2016, "b", "2"))
    changes = matched(old, new, ["x", "y"])
    assert changes.by_year.to_dict("records") == [
        {"fiscal_year": 2016, "previous": 3, "current": 3, "unchanged": 2, "changed": 0, "dropped": 1, "added": 1}]


def test_record_changes_pairs_rows_differing_in_one_column_as_changed() -> None:
    old = frames((2016, "a", "1"), (2016, "b", "2"), (2017, "c", "3"))
    new = frames((2016, "a", "9"), (2016, "b", "2"), (2016, "c", "3"))
    changes = matched(old, new, ["x", "y"])
    assert changes.changed_by_column == {"y": 1}
    by_year = changes.by_year.set_index("fiscal_year")
    assert by_year.loc[2016, ["changed", "dropped", "added"]].tolist() == [1, 0, 1]  # moved years: not a change
    assert by_year.loc[2017, ["changed", "dropped", "added"]].tolist() == [0, 1, 0]


def test_values_swapped_between_columns_are_a_different_record() -> None:
    old = frames((2016, "a", "b"), (2016, "c", "c"), (2016, None, None))
    new = frames((2016, "b", "a"), (2016, "c", "c"), (2016, None, None))
    changes = matched(old, new, ["x", "y"])
    assert changes.by_year.to_dict("records") == [
        {"fiscal_year": 2016, "previous": 3, "current": 3, "unchanged": 2, "changed": 0, "dropped": 1, "added": 1}]


def test_possible_renames_need_overlapping_values() -> None:
    old = {"processing_disposition": {"Detainer", "Bag and Baggage", "Other"}, "birth_date": {"2000-01-01"}}
    new = {"disposition": {"Detainer", "Bag and Baggage", "Released"}, "event_landmark": {"JAIL A"}}
    overlaps = {(gone, came): len(before & after) / len(before | after)
                for gone, before in old.items() for came, after in new.items()}
    found = possible_renames(overlaps)
    assert [(p.dropped, p.added, round(p.overlap, 2)) for p in found] == [("processing_disposition", "disposition", 0.5)]
    assert possible_renames(overlaps, threshold=0.6) == []


def test_spelling_drift_is_told_apart_from_a_rename() -> None:
    assert Rename("aor", ("Area of Responsibility",), ("Area Of Responsibility",)).kind == "respelled"
    assert Rename("aor", ("Area of Responsibility",), ("Detainer AOR",)).kind == "renamed"


def test_revisions_by_area_put_the_largest_first() -> None:
    old = pd.DataFrame({"fiscal_year": [2016] * 3, "area": ["Miami", "Dallas", "Miami"], "records": [2, 2, 1]})
    new = pd.DataFrame({"fiscal_year": [2016] * 2, "area": ["Miami", "Dallas"], "records": [1, 3]})
    revisions = revisions_by_area(old, new)
    assert revisions.to_dict("records") == [
        {"fiscal_year": 2016, "area": "Miami", "previous": 3, "current": 1, "difference": -2},
        {"fiscal_year": 2016, "area": "Dallas", "previous": 2, "current": 3, "difference": 1},
    ]


@pytest.mark.real
def test_format_comparison_is_readable_for_a_new_year(in_planted: dict) -> None:
    text = format_comparison(compare_releases("planted", "base"))
    assert f"{'FY2017 (partial)':<18}{'–':>15}{ADDED_YEAR_ROWS:>15,}{ADDED_YEAR_ROWS:>+22,}" in text


# ---------------------------------------------------------------- the report section


def run_notebook(root: Path, tmp_path: Path, **params) -> tuple[dict[str, dict], str]:
    """Execute notebook 06 as the report does; its tables and figures by name, and its prose."""
    from analysis.report.build import ensure_kernel, execute
    from analysis.report.context import OUTPUT_KEY
    from analysis.report.parameters import ReportParameters

    ensure_kernel()
    name = "06_release_changes.ipynb"
    nb = execute(root / "notebooks" / name, tmp_path / name, ReportParameters(**params), tmp_path / "failed")
    outputs = [o for cell in nb.cells for o in cell.get("outputs", [])]
    assert not [o for o in outputs if o.get("output_type") == "error" and o.get("ename") != "SectionSkipped"]
    items = {o["metadata"][OUTPUT_KEY]["name"]: o["metadata"][OUTPUT_KEY] for o in outputs if OUTPUT_KEY in o.get("metadata", {})}
    prose = "\n".join(o["data"]["text/markdown"] for o in outputs
                      if "text/markdown" in o.get("data", {}) and OUTPUT_KEY not in o.get("metadata", {}))
    return items, prose


@pytest.mark.real
def test_release_changes_section_on_the_planted_pair(in_planted: dict, tmp_path: Path) -> None:
    items, prose = run_notebook(in_planted["root"], tmp_path, release="planted", previous_release="base")
    assert set(items) == {"revisions-by-fiscal-year", "records-by-release", "column-changes", "category-changes",
                          "recoded-values", "revisions-by-area", "record-changes"}
    assert "Located,Located Alien" in items["recoded-values"]["csv"]
    assert items["revisions-by-fiscal-year"]["kind"] == "figure"
    assert "arrests: FY2016 -" in items["revisions-by-fiscal-year"]["alt"]  # the revision, in its alt text
    assert f"FY2016 arrests were revised down by {len(in_planted['removed'])}" in prose
    assert "Located Alien" in items["category-changes"]["csv"]
    assert "Arrest Date" in items["column-changes"]["csv"]


@pytest.mark.real
@pytest.mark.parametrize(("previous", "sentence"), [
    (None, "No previous release was named"),
    ("never-ingested", "The previous release 'never-ingested' is not ingested in this project"),
])
def test_release_changes_section_skips_in_one_sentence(in_planted: dict, tmp_path: Path, previous, sentence) -> None:
    items, prose = run_notebook(in_planted["root"], tmp_path, release="planted", previous_release=previous)
    assert items == {}
    assert prose.startswith(f"*{sentence}") and prose.count("\n") == 0


def by_rest(records: list[tuple], rows: list[int], position: int) -> dict[tuple, list[int]]:
    """`rows` grouped by every value but the one at `position`, each group ordered by how common
    its value at `position` is among `rows` (commonest first), then in file order."""
    common = Counter(records[r][position] for r in rows)
    groups: dict[tuple, list[int]] = {}
    for r in sorted(rows, key=lambda r: (-common[records[r][position]], r)):
        groups.setdefault(records[r][:position] + records[r][position + 1:], []).append(r)
    return groups


def reference_matching(old: list[tuple], new: list[tuple], columns: list[str]) -> tuple[dict, dict, Counter]:
    """The matching rules of the module docstring, record by record in plain Python: (fiscal year,
    values...) tuples in file order -> (dropped and added per year, changed per column, recodes)."""
    def leftover(mine: list[tuple], theirs: list[tuple]) -> list[int]:
        available, seen = Counter(theirs), Counter()
        kept = []
        for row, record in enumerate(mine):
            seen[record] += 1
            if seen[record] > available[record]:
                kept.append(row)
        return kept

    left_old, left_new = leftover(old, new), leftover(new, old)
    changed, recodes = {}, Counter()
    for position, column in enumerate(columns, 1) if len(columns) > 1 else []:
        if not left_old or not left_new:
            break

        old_groups, new_groups = by_rest(old, left_old, position), by_rest(new, left_new, position)
        pairs = [pair for rest, rows in old_groups.items() for pair in zip(rows, new_groups.get(rest, []), strict=False)]
        if pairs:
            changed[column] = len(pairs)
            recodes.update((column, old[o][position], new[n][position], old[o][0]) for o, n in pairs)
            left_old = [r for r in left_old if r not in {o for o, _ in pairs}]
            left_new = [r for r in left_new if r not in {n for _, n in pairs}]
    per_year = {"dropped": Counter(old[r][0] for r in left_old), "added": Counter(new[r][0] for r in left_new)}
    return per_year, changed, recodes


@pytest.mark.parametrize("seed", range(40))
def test_record_matching_in_duckdb_follows_the_rules_record_by_record(seed: int) -> None:
    """Random releases with few values (many ties, values shared between columns, missing values):
    the counts, the columns changed and the recoded value pairs are those of `reference_matching`."""
    rng = random.Random(seed)
    columns = [f"c{i}" for i in range(rng.randint(1, 4))]
    alphabet = [f"v{j}" for j in range(rng.randint(1, 4))] + [None]

    def records(n: int) -> list[tuple]:
        return [(rng.choice([2016, 2017]), *(rng.choice(alphabet) for _ in columns)) for _ in range(n)]

    old = records(rng.randint(0, 40))
    new = [r for r in old if rng.random() < 0.7] + records(rng.randint(0, 12))
    new = [tuple(rng.choice(alphabet) if i and rng.random() < 0.15 else v for i, v in enumerate(r)) for r in new]
    as_frame = [pd.DataFrame(rows, columns=["fiscal_year", *columns], dtype=object).astype({"fiscal_year": int})
                .assign(file_row_number=range(len(rows))) for rows in (old, new)]
    got = matched(*as_frame, columns)
    per_year, changed, recodes = reference_matching(old, new, columns)
    years = got.by_year.set_index("fiscal_year")
    assert {fy: int(n) for fy, n in years["dropped"].items() if n} == dict(per_year["dropped"])
    assert {fy: int(n) for fy, n in years["added"].items() if n} == dict(per_year["added"])
    assert got.changed_by_column == changed
    assert {(r.column, r.previous, r.current, fy) for r in got.recodes for fy in r.years} == set(recodes)
    by_pair: Counter[tuple] = Counter()
    for (column, before, after, _fy), n in recodes.items():
        by_pair[(column, before, after)] += n
    assert {(r.column, r.previous, r.current): r.records for r in got.recodes} == dict(by_pair)
