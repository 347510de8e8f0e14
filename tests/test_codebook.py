"""The codebook: on a small release built here, with counts known by construction, every column
gets its raw header spellings, type, missing and redacted cells, and its values (the 20 most
frequent with counts, then how many others) or range; identifier values never appear; counts
below min-cell read `<N`; text from the release reaches CSV and Markdown as text, never as a
formula or markup."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pypandoc
import pytest
from bs4 import BeautifulSoup

from analysis.paths import locate_release, processed_dir
from analysis.reading.ingest import ingest
from analysis.release import Release
from analysis.report import codebook
from analysis.report.build import Assembly
from analysis.report.context import pipe_table, safe_csv
from analysis.report.outputs import OUTPUT_KEY

MIN_CELL = 10
METHODS = {f"Method {k:02d}": 26 - k for k in range(1, 26)}  # 25 methods, 25 records down to 1
FORMULA = "=HYPERLINK(\"http://x\")"
MARKUP = '*bold* <b>x</b> #read("/etc/passwd") [link](http://x) @cite'
REDACTION, NA = "(b)(6),(b)(7)(c )", "NA"
IDENTIFIERS = [f"EID-{i:05d}" for i in range(12)]  # few distinct values: still never shown
FORMULA_HEADER = "+Note"


def _release(folder: Path) -> dict[str, int]:
    """Two yearly arrest files (the date header spelled differently in each); returns planted counts."""
    folder.mkdir(parents=True)
    methods = [m for m, count in METHODS.items() for _ in range(count)]
    citizenship = [REDACTION] * 12 + [NA] * 3 + [FORMULA] * 2 + [MARKUP] * 2
    citizenship += ["MEXICO"] * (len(methods) - len(citizenship))
    for year, date_header, dates in (
        (2021, "Apprehension Date", ["10/1/2020", "5/5/2021", "9/30/2021"]),
        (2022, "Arrest Date", ["10/1/2021", "3/3/2022", "9/30/2022"]),
    ):
        rows = [i for i in range(len(methods)) if (i % 2 == 0) == (year == 2021)]
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(["Area of Responsibility", date_header, "Apprehension Method", "Citizenship",
                         "EID Subject ID", "Birth Year", FORMULA_HEADER])
        for n, i in enumerate(rows):
            writer.writerow(["Seattle Area of Responsibility", dates[n % 3], methods[i], citizenship[i],
                             IDENTIFIERS[i % len(IDENTIFIERS)], str(1950 + i % 41), "x"])
        (folder / f"EROArrests_FY{year}.csv").write_text(buffer.getvalue(), encoding="utf-8")
    return {"records": len(methods)}


def refuse_whole_columns(monkeypatch: pytest.MonkeyPatch) -> None:
    """The codebook is computed in DuckDB: reading a whole table or column into arrow fails the test."""
    def refused(*args, **kwargs):
        raise AssertionError("the codebook must not read whole columns")

    for name in ("read_table", "read_pandas"):
        monkeypatch.setattr(pq, name, refused)
    monkeypatch.setattr(Release, "arrow", refused)
    monkeypatch.setattr(Release, "load", refused)


@pytest.fixture
def book(project: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[dict[str, dict[str, str]], list[list[str]]]:
    planted = _release(project / "data/raw/cb")
    manifest = ingest(locate_release("cb"))
    assert manifest["tables"]["arrests"]["rows"] == planted["records"]
    refuse_whole_columns(monkeypatch)
    frame = codebook.codebook_frame(codebook.release_codebook(Release("cb")), MIN_CELL)
    assert len(frame) == len(manifest["tables"]["arrests"]["columns"])
    rows = {row["Column"]: row for row in frame.to_dict("records")}
    table = list(csv.reader(io.StringIO(safe_csv(frame))))
    return rows, table


def test_text_columns_list_the_top_20_values_then_the_others(book) -> None:
    rows, _ = book
    shown = [f"{m} ({c if c >= MIN_CELL else f'<{MIN_CELL}'})" for m, c in list(METHODS.items())[:20]]
    others = sum(list(METHODS.values())[20:])
    assert rows["apprehension_method"]["Values"] == f"25 distinct values: {'; '.join(shown)}; 5 others ({others})"
    assert rows["apprehension_method"]["Type"] == "text"
    assert rows["apprehension_method"]["Missing"] == "0"
    assert "Method 17 (<10)" in rows["apprehension_method"]["Values"]  # 9 records, below min-cell


def test_raw_spellings_types_ranges_missing_and_redacted(book) -> None:
    rows, _ = book
    date = rows["apprehension_date"]
    assert date["Raw headers"] == "Apprehension Date; Arrest Date"
    assert (date["Type"], date["Values"]) == ("date", "2020-10-01 to 2022-09-30")
    assert (rows["birth_year"]["Type"], rows["birth_year"]["Values"]) == ("whole number", "1950 to 1990")
    records = sum(METHODS.values())
    citizenship = rows["citizenship"]
    assert citizenship["Missing"] == f"15 ({100 * 15 / records:.1f}%)"  # 12 redacted and 3 `NA`
    assert citizenship["Redacted"] == f"12 ({100 * 12 / records:.1f}%)"
    assert citizenship["Values"].startswith("3 distinct values: MEXICO (")


def test_identifier_columns_show_only_their_count(book) -> None:
    rows, table = book
    assert rows["eid_subject_id"]["Values"] == "12 distinct values, not shown (identifier)"
    assert rows["eid_subject_id"]["Raw headers"] == "EID Subject ID"
    text = "\n".join(",".join(r) for r in table)
    assert not [i for i in IDENTIFIERS if i in text]


def test_small_missing_and_redacted_counts_are_suppressed() -> None:
    entry = codebook.ColumnEntry(table="t", column="c", raw_headers=["C"], kind="text", records=100, missing=3,
                                 redacted=2, distinct=1, top=[("A", 97)])
    row = codebook.codebook_frame([entry], MIN_CELL).iloc[0]
    assert (row["Missing"], row["Redacted"], row["Values"]) == ("<10", "<10", "1 distinct value: A (97)")


def processed_release(project: Path, release_id: str, table: pa.Table, identifiers: tuple[str, ...] = ()) -> Release:
    """A processed release written here: `table` as the `things` table, with a manifest as ingest writes it."""
    folder = processed_dir(release_id)
    folder.mkdir(parents=True)
    pq.write_table(table, folder / "things.parquet", row_group_size=7)  # several row groups
    columns = {name: {"type": str(table.schema.field(name).type), "nulls": table.column(name).null_count,
                      "redacted": 0, "source_names": [name.title()], **({"identifier": "shape"} if name in identifiers else {})}
               for name in table.column_names}
    manifest = {"release": release_id, "tables": {"things": {"rows": table.num_rows, "columns": columns}}}
    (folder / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    return Release(release_id)


def arrow_entry(values: pa.ChunkedArray, entry: codebook.ColumnEntry, identifier: bool) -> codebook.ColumnEntry:
    """What the codebook said of a column when it read the column into arrow (the rule before DuckDB)."""
    if pa.types.is_dictionary(values.type):  # pyarrow counts only plain text
        values = values.cast(pa.string())
    entry.distinct = pc.count_distinct(values).as_py()
    if identifier:
        entry.withheld = "identifier"
        return entry
    if entry.kind in codebook.RANGE_KINDS:
        entry.distinct = 0  # not counted for ranges
        bounds = pc.min_max(values)
        if bounds["min"].is_valid:
            entry.low, entry.high = (codebook._as_text(bounds[end].as_py()) for end in ("min", "max"))
        return entry
    if entry.distinct > codebook.TOP_VALUES and entry.distinct >= codebook.NEARLY_UNIQUE * (entry.records - entry.missing):
        entry.withheld = "nearly every record has its own value"
        return entry
    ranked = sorted(((str(c["values"]), int(c["counts"])) for c in pc.value_counts(values).to_pylist()
                     if c["values"] is not None), key=lambda item: (-item[1], item[0]))
    entry.top, entry.others = ranked[: codebook.TOP_VALUES], sum(n for _, n in ranked[codebook.TOP_VALUES:])
    return entry


def test_duckdb_codebook_matches_reading_each_column(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Ties broken by value, more than 20 values, values that sort differently as text and as
    numbers, Unicode, yes/no, numbers with missing values, an empty column, an identifier by shape."""
    rows = 61
    text = [None if i % 9 == 0 else f"v{(i * 7) % 23:02d}" for i in range(rows)]
    table = pa.table({
        "label": pa.array(text),
        "coded": pa.array(text, pa.string()).dictionary_encode(),
        "accented": pa.array([["Ñ", "é", "z", "A", "É"][i % 5] for i in range(rows)]),
        "flag": pa.array([None if i % 4 == 0 else i % 3 == 0 for i in range(rows)]),
        "amount": pa.array([None if i % 5 == 0 else (i - 30) * 1.5 for i in range(rows)]),
        "count": pa.array([None if i % 6 == 0 else 100 - i * 3 for i in range(rows)], pa.int32()),
        "day": pa.array([dt.date(2021, 1, 1) + dt.timedelta(days=i % 40) for i in range(rows)]),
        "nothing": pa.nulls(rows, pa.string()),
        "case_ref": pa.array([f"C{i % 50}" for i in range(rows)]),
        "notes": pa.array([f"note {i}" for i in range(rows)]),
    })
    release = processed_release(project, "things", table, identifiers=("case_ref",))
    refuse_whole_columns(monkeypatch)
    got = codebook.release_codebook(release)
    monkeypatch.undo()
    expected = [arrow_entry(table.column(e.column), codebook.ColumnEntry(
        table=e.table, column=e.column, raw_headers=e.raw_headers, kind=codebook.kind_of(table.schema.field(e.column).type),
        records=e.records, missing=e.missing, redacted=e.redacted), e.column == "case_ref") for e in got]
    assert got == expected
    shown = {e.column: e for e in got}
    assert shown["label"].others > 0 and len(shown["label"].top) == codebook.TOP_VALUES
    assert [v for v, _ in shown["flag"].top] == ["False", "True"]
    assert (shown["count"].low, shown["count"].high) == ("-77", "97")  # numerically, not as text
    assert shown["nothing"].top == [] and shown["notes"].withheld and shown["case_ref"].withheld == "identifier"


def test_nearly_unique_text_is_not_listed(project: Path) -> None:
    release = processed_release(project, "notes", pa.table({"notes": [f"note {i}" for i in range(30)]}))
    entry = codebook.release_codebook(release)[0]
    assert codebook.values_text(entry, 1) == "30 distinct values, not shown (nearly every record has its own value)"


def test_release_text_is_neither_a_formula_in_the_csv_nor_markup_in_the_report(book, tmp_path: Path) -> None:
    rows, table = book
    assert table[0] == list(codebook.COLUMNS)
    cells = {cell for row in table[1:] for cell in row}
    assert f"'{FORMULA_HEADER}" in cells and FORMULA_HEADER not in cells  # a header spelling, neutralised
    assert any(FORMULA in cell for cell in cells) and MARKUP in rows["citizenship"]["Values"]
    frame = pd.DataFrame(list(rows.values()))
    markdown = pipe_table(frame, set(), literal=True)
    page = BeautifulSoup(pypandoc.convert_text(markdown, "html5", format="markdown"), "html.parser")
    assert page.find("b") is None and page.find("em") is None and page.find("a") is None
    text = page.get_text(" ").replace("\u200b", "")
    assert MARKUP in " ".join(text.split()) and FORMULA in text and "eid_subject_id" in text


def test_the_codebook_is_published_beside_the_report(tmp_path: Path) -> None:
    assembly = Assembly(tmp_path, "-CA")
    assembly.output({"output_type": "display_data", "data": {"text/plain": "codebook.csv"},
                     "metadata": {OUTPUT_KEY: {"kind": "file", "name": "codebook.csv", "csv": "Table\nx\n"}}})
    assert assembly.files == ["codebook-CA.csv"] and assembly.markdown() == "\n"
    assert (tmp_path / "codebook-CA.csv").read_text() == "Table\nx\n"
    with pytest.raises(Exception, match="only plain names.csv"):
        assembly.output({"output_type": "display_data", "data": {},
                         "metadata": {OUTPUT_KEY: {"kind": "file", "name": "../x.csv", "csv": ""}}})
