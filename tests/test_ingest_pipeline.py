"""The machinery that makes ingest fast (issue 13) changes when work is done, never what is read:
columns held as distinct values and codes, the row hash without pandas, each table streamed to its
parquet file as batches come (rebuilt when a batch does not fit or a sheet is taken out again), and
files read ahead in background threads with everything reaching ingest in file order."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from analysis.errors import InputFileError
from analysis.paths import locate_release
from analysis.reading import parts as parts_module
from analysis.reading.ahead import FilesAhead, ReadAhead
from analysis.reading.coded import coded, decoded, first_seen, missing_rows, with_values
from analysis.reading.hashing import hash_strings
from analysis.reading.ingest import ingest
from analysis.reading.parts import STREAM_NAME, TableParts
from analysis.reading.validation import new_tally, tally_of

from .conftest import make_project
from .test_bad_input import ARREST_HEADER, ARREST_ROW, arrests_text
from .test_tally import assert_same_counts

# ---------------------------------------------------------------- the row hash's text hash


def test_hash_strings_is_pandas_hash_array() -> None:
    rng = random.Random(13)
    alphabet = "abcXYZ019 ;()/-é€😀\t"
    values = ["", "a", "CA", "2021-01-01", "None", "x" * 8, "y" * 16, "z" * 40_000]
    values += ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 70))) for _ in range(3000)]
    expected = pd.util.hash_array(np.array(values, dtype=object))
    assert (hash_strings(pa.array(values)) == expected).all()
    assert (hash_strings(pa.array(values, pa.large_string())) == expected).all()
    assert (hash_strings(pa.array(values).slice(5, 100)) == expected[5:105]).all()
    assert len(hash_strings(pa.array([], pa.string()))) == 0


# ---------------------------------------------------------------- coded columns


def test_first_seen_lists_values_in_the_order_rows_show_them() -> None:
    # the dictionary's order is not the rows' order, and it holds a value no row uses any more
    column = pa.DictionaryArray.from_arrays(pa.array([2, None, 1, 2, 0, 1], pa.int32()),
                                            pa.array(["b", "a", "c", "unused"]))
    every = pa.array([True, True, True, True])
    assert first_seen(column, every, 3) == pc.unique(decoded(column)).drop_null().to_pylist() == ["c", "a", "b"]
    assert first_seen(column, pa.array([True, False, True, True]), 5) == ["c", "b"]
    assert first_seen(column, pa.array([False, False, False, True]), 3) == []


def test_missing_rows_counts_missing_codes_and_values_set_missing() -> None:
    column = coded(pa.array(["x", None, "(b)(6)", "x", "(b)(6)"]))
    cleaned = with_values(column, pc.if_else(pc.equal(column.dictionary, "x"), column.dictionary, None))
    assert missing_rows(column) == 1
    assert missing_rows(cleaned) == 3 == decoded(cleaned).null_count


# ---------------------------------------------------------------- one table's parts, streamed


def _part(sheet: str, start: int, **columns: list) -> pa.Table:
    rows = len(next(iter(columns.values())))
    data = {name: coded(pa.array(values, pa.string())) for name, values in columns.items()}
    return pa.table({
        **data,
        "fiscal_year": pa.array([2021] * rows, pa.int16()),
        "source_file": pa.array([sheet] * rows).dictionary_encode(),
        "source_sheet": pa.nulls(rows, pa.string()).dictionary_encode(),
        "source_row": pa.array(range(start, start + rows), pa.int32()),
        "row_hash": pa.array(range(start, start + rows), pa.uint64()),
    })


def _rows(parts: list[pa.Table], names: list[str]) -> list[dict]:
    """What the table must hold: the parts' rows in order, every column (missing ones empty)."""
    found = []
    for part in parts:
        plain = {n: (decoded(coded(part.column(n))) if pa.types.is_dictionary(part.schema.field(n).type)
                     and n not in ("source_file", "source_sheet") else part.column(n)).to_pylist()
                 for n in part.column_names}
        found += [{n: plain[n][i] if n in plain else None for n in names} for i in range(part.num_rows)]
    return found


def _add(parts: TableParts, batch: pa.Table, sheet: tuple[str, None]) -> None:
    parts.add(batch, {}, "sheet title", tally_of("t", batch), sheet=sheet)


def _written(tmp_path: Path, parts: TableParts) -> pa.Table:
    """The table written, checked against the counts made while its batches were filed."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    path = tmp_path / "table.parquet"
    parts.write(path)
    assert not (parts.folder / STREAM_NAME).exists()
    table = pq.read_table(path)
    assert_same_counts(parts.tally_into(new_tally("t")), tally_of("t", table), table.column_names)
    return table


PROVENANCE = ["fiscal_year", "source_file", "source_sheet", "source_row", "row_hash"]


def test_batches_with_the_same_columns_stream_into_the_table(tmp_path: Path) -> None:
    parts = TableParts(tmp_path / "parts")
    batches = [_part("a.csv", 1, state=["CA", None], city=["X", "Y"]), _part("b.csv", 1, city=["Z"], state=["WA"])]
    for batch in batches:
        _add(parts, batch, (batch["source_file"][0].as_py(), None))
    assert (tmp_path / "parts" / STREAM_NAME).exists()  # written as they came
    table = _written(tmp_path, parts)
    assert table.column_names == ["state", "city", *PROVENANCE]
    assert table.schema.field("state").type == pa.string()
    assert table.schema.field("source_file").type == pa.string()  # the file declares plain values
    encodings = pq.ParquetFile(tmp_path / "table.parquet").metadata.row_group(0).column(0).encodings
    assert "RLE_DICTIONARY" in encodings  # written coded, each distinct value once
    assert table.to_pylist() == _rows(batches, table.column_names)


def test_a_batch_with_a_new_column_is_held_back_and_the_table_rebuilt(tmp_path: Path) -> None:
    parts = TableParts(tmp_path / "parts")
    batches = [_part("a.csv", 1, state=["CA"]), _part("b.csv", 1, state=["WA"], gender=["Male"]),
               _part("c.csv", 1, state=["OR", "ID"])]
    for batch in batches:
        _add(parts, batch, (batch["source_file"][0].as_py(), None))
    table = _written(tmp_path, parts)
    assert table.column_names == ["state", "gender", *PROVENANCE]
    assert table.to_pylist() == _rows(batches, table.column_names)
    assert table.column("gender").to_pylist() == [None, "Male", None, None]


def test_batches_held_back_past_the_spill_limit_go_to_part_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parts_module, "SPILL_ROWS", 2)
    parts = TableParts(tmp_path / "parts")
    redacted = _part("b.csv", 1, state=["WA", "(b)(6)", "OR"], gender=["Male", None, "Male"])
    state = coded(redacted.column("state"))
    cleaned = with_values(state, pc.if_else(pc.equal(state.dictionary, "(b)(6)"), pa.scalar(None, pa.string()),
                                            state.dictionary))  # a value cleaning set to missing
    batches = [_part("a.csv", 1, state=["CA"]), redacted.set_column(0, "state", cleaned),
               _part("c.csv", 1, state=["ID"], gender=["Female"])]
    for batch in batches:
        _add(parts, batch, (batch["source_file"][0].as_py(), None))
    assert parts.spilled  # held back (a new column), then written to part files
    table = _written(tmp_path, parts)
    assert table.column("state").to_pylist() == ["CA", "WA", None, "OR", "ID"]
    assert table.column("gender").to_pylist() == [None, "Male", None, "Male", "Female"]


def _first_dictionary_page(path: Path, column: str) -> int:
    """Bytes of the first row group's dictionary page of a column."""
    meta = pq.ParquetFile(path).metadata
    chunk = meta.row_group(0).column(meta.schema.names.index(column))
    return chunk.data_page_offset - chunk.dictionary_page_offset


def test_a_column_of_many_distinct_values_is_written_plain(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Parquet writes a coded column's whole dictionary with every row group: a column of
    identifiers would be written once per row group, so it is decoded first."""
    monkeypatch.setattr(parts_module, "ROW_GROUP_ROWS", 2)
    sizes = {}
    for many in (3, 1000):  # the column has 5 distinct values: plain, then coded
        monkeypatch.setattr(parts_module, "MANY_VALUES", many)
        parts = TableParts(tmp_path / f"parts-{many}")
        batches = [_part("a.csv", 1, state=["CA", "CA", "WA", "WA", "CA"], subject=[f"person-{n:04d}" for n in range(5)]),
                   _part("b.csv", 1, state=["OR"], subject=["person-0005"])]
        for batch in batches:
            _add(parts, batch, (batch["source_file"][0].as_py(), None))
        assert parts.plain == ({"subject"} if many == 3 else set())
        table = _written(tmp_path / f"out-{many}", parts)
        assert table.to_pylist() == _rows(batches, table.column_names)
        sizes[many] = _first_dictionary_page(tmp_path / f"out-{many}" / "table.parquet", "subject")
    assert sizes[3] < sizes[1000]  # two values in the first row group's dictionary, not five


def test_a_streamed_sheet_taken_out_leaves_the_others_in_order(tmp_path: Path) -> None:
    parts = TableParts(tmp_path / "parts")
    first, second, third = (_part(f"{n}.csv", 1, state=[n.upper()] * 70_000) for n in "abc")
    for batch in (first, second, third):
        _add(parts, batch, (batch["source_file"][0].as_py(), None))
    parts.remove_sheet(("b.csv", None))  # a duplicate of another sheet
    table = _written(tmp_path, parts)
    assert table.num_rows == 140_000
    assert table.to_pylist() == _rows([first, third], table.column_names)


def test_a_sheet_read_again_keeps_only_its_second_reading(tmp_path: Path) -> None:
    parts = TableParts(tmp_path / "parts")
    before = _part("a.csv", 1, state=["C?"])
    again = _part("a.csv", 1, state=["CÀ"])
    other = _part("b.csv", 1, state=["WA"])
    _add(parts, other, ("b.csv", None))
    _add(parts, before, ("a.csv", None))
    parts.remove_sheet(("a.csv", None))  # its encoding turned out to be another: read again
    _add(parts, again, ("a.csv", None))
    table = _written(tmp_path, parts)
    assert table.to_pylist() == _rows([other, again], table.column_names)


# ---------------------------------------------------------------- reading ahead


def test_read_ahead_gives_every_item_in_order_and_raises_where_the_error_was() -> None:
    def items():
        yield from range(5)
        raise InputFileError("broken", file="x.csv")

    reader = ReadAhead(items)
    assert [next(reader) for _ in range(5)] == [0, 1, 2, 3, 4]
    with pytest.raises(InputFileError, match="broken"):
        next(reader)


def test_closing_a_read_ahead_stops_its_thread() -> None:
    finished = threading.Event()

    def endless():
        try:
            n = 0
            while True:
                yield n
                n += 1
        finally:
            finished.set()

    reader = ReadAhead(endless)
    assert next(reader) == 0
    reader.close()
    assert finished.wait(5), "the producer saw the stop and closed its generator"


def test_files_ahead_reads_files_in_order() -> None:
    def file_items(name: str):
        return lambda: iter([f"{name}:1", f"{name}:2"])

    ahead = FilesAhead([file_items(name) for name in "abcd"])
    assert [list(items) for items in ahead] == [[f"{n}:1", f"{n}:2"] for n in "abcd"]


def _release(folder: Path, files: dict[str, str]) -> Path:
    folder.mkdir(parents=True)
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def test_the_first_bad_file_in_order_is_the_one_reported(project: Path) -> None:
    good, bad = arrests_text(), arrests_text(["Seattle|10/1/2020|Located"])  # a row with too few fields
    release = _release(project / "data/raw/two-bad", {"a_arrests.csv": good, "b_arrests.csv": bad,
                                                       "c_arrests.csv": bad.replace("Seattle", "Tacoma")})
    with pytest.raises(InputFileError) as raised:
        ingest(locate_release(str(release)))
    assert "b_arrests.csv" in str(raised.value) and "c_arrests.csv" not in str(raised.value)
    assert not (project / "data/processed/two-bad").exists()


def test_many_files_read_ahead_are_filed_in_file_order(project: Path) -> None:
    states = ["Seattle", "Atlanta", "Miami", "Denver", "Boston", "Dallas"]
    files = {f"{i}_arrests.csv": arrests_text([ARREST_ROW.replace("Seattle", state)] * (i + 1))
             for i, state in enumerate(states)}
    files["6_arrests.csv"] = arrests_text([ARREST_ROW + "|F"], header=ARREST_HEADER + "|Gender")  # a column more
    manifest = ingest(locate_release(str(_release(project / "data/raw/many", files))))
    assert [s["file"] for s in manifest["sheets"]] == sorted(files)
    table = pq.read_table(project / "data/processed/many/arrests.parquet")
    assert table.column("source_file").to_pylist() == [name for name in sorted(files)
                                                       for _ in range(manifest["sheets"][sorted(files).index(name)]["rows"])]
    assert table.column("gender").to_pylist() == [None] * 21 + ["F"]


def test_a_record_longer_than_a_read_block_is_read_again_in_large_blocks(project: Path,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    import analysis.reading.text as text

    monkeypatch.setattr(text, "READ_BLOCK_BYTES", 64 << 10)  # 64 KiB blocks, batches of 500 rows
    monkeypatch.setattr(text, "BATCH_ROWS", 500)
    rows = [ARREST_ROW.replace("Located", f"Located {i}") for i in range(3000)]
    # 192 KB of UTF-8 in cells within Excel's limit: pyarrow reads a record over one block boundary, not two
    long_row = ARREST_ROW.replace("Located", "é" * 32_000).replace("MEXICO", "ü" * 32_000)
    rows.insert(2500, long_row.replace("Seattle", "ß" * 32_000))
    release = _release(project / "data/raw/long", {"arrests.csv": arrests_text(rows)})
    blocks: list[int] = []
    read = text._text_batches

    def spy(*args, **kwargs):
        blocks.append(kwargs["block_bytes"])
        return read(*args, **kwargs)

    monkeypatch.setattr(text, "_text_batches", spy)
    manifest = ingest(locate_release(str(release)))
    assert blocks == [64 << 10, text.TEXT_BLOCK_BYTES]
    table = pq.read_table(project / "data/processed/long/arrests.parquet")
    assert manifest["sheets"][0]["rows"] == table.num_rows == 3001  # batches before the long record read once
    assert table.column("source_row").to_pylist() == list(range(6, 6 + 3001))
    assert len(table.column("citizenship")[2500].as_py()) == 32_000


# ---------------------------------------------------------------- what reading imports


def test_reading_a_text_release_never_imports_pandas(tmp_path: Path) -> None:
    """pyarrow imports pandas whenever it is handed Python values (a fifth of a second): the reading
    code makes its Arrow values itself (`reading/arrays.py`). A release with the quirks that reach
    most of the reading code: banner rows, redactions, NA literals, Excel errors, two-digit years,
    serial dates, respelled states, a repeated header, a total row, a column that drifts."""
    root = make_project(tmp_path / "project", notebooks=False)
    raw = root / "data/raw/quirks"
    raw.mkdir(parents=True)
    rows = [ARREST_ROW, "(b)(6)|10/2/20|N/A|#N/A", "seattle area of responsibility|44105|Located|CANADA",
            ARREST_HEADER, "Seattle Area of Responsibility|1/1/1931|Located|MEXICO", "Total|4||"]
    (raw / "arrests_fy2021.csv").write_text(arrests_text(rows), encoding="utf-8")
    (raw / "arrests_fy2022.txt").write_text(arrests_text(
        ["Seattle Area of Responsibility|10/1/2021|Located|MEXICO|Male"], header=ARREST_HEADER + "|Gender"),
        encoding="utf-8")
    script = ("import sys\nfrom analysis.cli import main\n"
              "assert main(['-q', 'ingest', 'quirks']) == 0\nprint('pandas' in sys.modules)\n")
    done = subprocess.run([sys.executable, "-c", script], env={**os.environ, "ANALYSIS_ROOT": str(root)},
                          capture_output=True, text=True, check=True)
    manifest = json.loads((root / "data/processed/quirks/manifest.json").read_text(encoding="utf-8"))
    assert manifest["tables"]["arrests"]["rows"] == 5  # the repeated header and the total row dropped
    assert manifest["warnings"], "the quirks were noticed"
    assert done.stdout.split()[-1] == "False", "pandas was imported"
