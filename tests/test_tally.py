"""Counts made batch by batch while a table is filed (`reading/tally.py`) are the counts of the
table as written: joined in file order they equal the counts of the whole table read back, through
columns that drift between batches, sheets taken out again, and the sample of identifier text."""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from analysis.reading import parts as parts_module
from analysis.reading import tally as tally_module
from analysis.reading import validation
from analysis.reading.coded import coded
from analysis.reading.manifest import table_summary
from analysis.reading.parts import TableParts
from analysis.reading.tally import TableTally
from analysis.reading.validation import new_tally, tally_of, tally_warnings, validate

D = dt.date


def assert_same_counts(joined: TableTally, whole: TableTally, names: list[str]) -> None:
    """Every count the manifest and validation use agrees between two tallies of the same rows."""
    assert joined.rows == whole.rows
    assert {n: joined.missing(n) for n in names} == {n: whole.missing(n) for n in names}
    assert joined.first_null == whole.first_null
    assert joined.lowest_source_row == whole.lowest_source_row
    assert {n: dict(c) for n, c in joined.categories.items() if c} == {n: dict(c) for n, c in whole.categories.items() if c}
    for mine, theirs in ((joined.outside, whole.outside), (joined.mismatches, whole.mismatches)):
        assert {n: (f.rows, f.examples) for n, f in mine.items() if f.rows} == \
            {n: (f.rows, f.examples) for n, f in theirs.items() if f.rows}
    assert dict(joined.years) == dict(whole.years)
    assert {n: s for n, s in joined.spans.items() if s} == {n: s for n, s in whole.spans.items() if s}
    for name in names:
        sample = joined.text_sample(name)
        if sample is not None and name in whole.present:
            expected = whole.text_sample(name)
            assert expected is not None
            assert sample.drop_null().to_pylist() == expected.drop_null().to_pylist()


def _batch(file: str, start: int, fiscal_year: int | None, **columns: list) -> pa.Table:
    """A batch as ingest files it: data columns coded, then provenance."""
    rows = len(next(iter(columns.values())))
    data = {}
    for name, values in columns.items():
        kind = pa.date32() if name.endswith("_date") else pa.int32() if name == "birth_year" else pa.string()
        data[name] = coded(pa.array(values, kind))
    return pa.table({
        **data,
        "fiscal_year": pa.array([fiscal_year] * rows, pa.int16()),
        "source_file": pa.array([file] * rows).dictionary_encode(),
        "source_sheet": pa.nulls(rows, pa.string()).dictionary_encode(),
        "source_row": pa.array(range(start, start + rows), pa.int32()),
        "row_hash": pa.array(range(start, start + rows), pa.uint64()),
    })


def _random_batch(rng: random.Random, file: str, rows: int) -> pa.Table:
    """A batch of arrests with some columns missing, odd genders, dates outside their year and range."""
    columns: dict[str, list] = {
        "apprehension_date": [rng.choice([D(2020, 11, 3), D(2021, 2, 1), D(2021, 12, 24), D(1931, 1, 1), None])
                              for _ in range(rows)],
        "gender": [rng.choice(["Male", "Female", "female ", "X", None]) for _ in range(rows)],
        "birth_year": [rng.choice([1980, 1850, None, 2001]) for _ in range(rows)],
        "subject_id": [f"ID-{rng.randrange(10**6):06d}" for _ in range(rows)],
        "state": [rng.choice(["CA", "WA", None]) for _ in range(rows)],
    }
    kept = {name: values for name, values in columns.items() if name == "apprehension_date" or rng.random() < 0.7}
    return _batch(file, 2, rng.choice([2021, 2021, None]), **kept)


@pytest.fixture(autouse=True)
def fixed_today(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(validation, "today", lambda: D(2025, 6, 30))


@pytest.mark.parametrize("seed", range(12))
def test_counts_joined_batch_by_batch_are_those_of_the_table_written(seed: int, tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tally_module, "ID_SAMPLE_ROWS", 40)  # the sample ends inside the second or third batch
    monkeypatch.setattr(parts_module, "ID_SAMPLE_ROWS", 40)
    rng = random.Random(seed)
    table_parts = TableParts(tmp_path / "parts")
    files = [f"{n}.csv" for n in "abcdef"]
    for file in files:
        batch = _random_batch(rng, file, rng.randint(1, 30))
        table_parts.add(batch, {}, "sheet title", tally_of("arrests", batch), sheet=(file, None))
    for file in rng.sample(files, rng.randint(0, 2)):  # duplicates, or sheets read again
        table_parts.remove_sheet((file, None))
    path = tmp_path / "arrests.parquet"
    table_parts.write(path)
    written = pq.read_table(path)
    joined = table_parts.tally_into(new_tally("arrests"))
    assert_same_counts(joined, tally_of("arrests", written), written.column_names)
    assert tally_warnings("arrests", written.column_names, joined) == validate("arrests", written, written.num_rows)


def test_the_warnings_name_counts_and_examples_in_row_order() -> None:
    batches = [
        _batch("a.csv", 2, 2021, apprehension_date=[D(2021, 1, 1), D(1931, 5, 5), D(2021, 11, 2)],
               gender=["Male", "X", "Y"], birth_year=[1850, 1980, None]),
        _batch("b.csv", 2, 2021, apprehension_date=[D(2040, 1, 1), D(1931, 5, 5)], gender=["Z", "X"]),
    ]
    joined = new_tally("arrests")
    for batch in batches:
        joined.extend(tally_of("arrests", batch))
    names = ["apprehension_date", "gender", "birth_year", "fiscal_year", "source_file", "source_sheet", "source_row",
             "row_hash"]
    assert tally_warnings("arrests", names, joined) == [
        "table 'arrests' column 'apprehension_date': 3 date(s) before 1950-01-01 or after 2025-06-30 (e.g. "
        "['1931-05-05', '2040-01-01']); kept, check them",
        "table 'arrests' column 'gender': 4 value(s) outside the known categories, kept as they are: 'X' (2), "
        "'Y' (1), 'Z' (1)",
        "table 'arrests' column 'birth_year': 1 year(s) before 1900 or after 2025 (e.g. [1850]); kept, check them",
        "table 'arrests' column 'apprehension_date': 4 record(s) dated outside the fiscal year their sheet names "
        "(e.g. ['1931-05-05', '2021-11-02', '2040-01-01']); their fiscal year is the sheet's",
    ]


def test_a_sample_let_go_before_a_sheet_is_taken_out_is_read_from_the_file(tmp_path: Path,
                                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tally_module, "ID_SAMPLE_ROWS", 150)
    monkeypatch.setattr(parts_module, "ID_SAMPLE_ROWS", 150)
    table_parts = TableParts(tmp_path / "parts")
    first = _batch("a.csv", 2, 2021, apprehension_date=[D(2021, 1, 1)] * 200, gender=["Male"] * 200)
    second = _batch("b.csv", 2, 2021, apprehension_date=[D(2021, 1, 2)] * 200,
                    subject_code=[f"A{n:07d}" for n in range(200)])
    for batch in (first, second):
        table_parts.add(batch, {}, "sheet title", tally_of("arrests", batch), sheet=(batch["source_file"][0].as_py(), None),
                        dated_by="apprehension_date")
    table_parts.remove_sheet(("a.csv", None))  # the second batch's text was let go: it came after 150 rows
    path = tmp_path / "arrests.parquet"
    table_parts.write(path)
    joined = table_parts.tally_into(new_tally("arrests"))
    assert joined.text_sample("subject_code") is None
    summary = table_summary("arrests", path, table_parts, joined)
    assert summary["columns"]["subject_code"]["identifier"] == "shape"  # judged on the file's first rows
    assert summary["period"] == {"column": "apprehension_date", "first": "2021-01-02", "last": "2021-01-02"}


def test_provenance_without_values_fails_naming_the_first_record() -> None:
    batch = _batch("a.csv", 2, 2021, apprehension_date=[D(2021, 1, 1)] * 3)
    broken = batch.set_column(batch.column_names.index("source_row"), "source_row", pa.array([2, None, 4], pa.int32()))
    joined = new_tally("arrests")
    joined.extend(tally_of("arrests", batch))
    joined.extend(tally_of("arrests", broken))
    with pytest.raises(validation.ValidationError, match=r"column 'source_row': 1 missing value\(s\), the first in "
                       r"record 5$"):
        validation.check_provenance_values("arrests", batch.column_names, joined)
