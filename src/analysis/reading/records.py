"""A sheet's records as read (strings, with their row numbers), and the checks every sheet passes:
oversized cells, header rows repeated among the records, unnamed columns with values."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from analysis.errors import InputFileError
from analysis.reading.layout import Layout, header_notes
from analysis.vocab.columns import canonical_columns

MAX_CELL_CHARS = 32_767  # Excel's own limit for one cell: a longer value is not a table cell


@dataclass
class RawSheet:
    path: Path
    name: str  # file name relative to the release folder
    sheet: str | None
    layout: Layout
    # records as strings in batches, with their 1-based row numbers; a Restart means "start over"
    batches: Callable[[], Iterator[tuple[pa.Table, list[int]] | Restart]]
    delimiter: str | None = None
    encoding: str | None = None
    warnings: list[str] = field(default_factory=list)  # filled in while reading: what was tolerated, for the manifest
    reader: str | None = None  # what read it: calamine or openpyxl (workbooks), pyarrow (text)

    def read(self) -> tuple[pa.Table, list[int]]:
        """The whole sheet at once (ingest streams `batches` instead)."""
        tables: list[pa.Table] = []
        rows: list[int] = []
        for item in self.batches():
            if isinstance(item, Restart):
                tables, rows = [], []
                continue
            tables.append(item[0])
            rows += item[1]
        return pa.concat_tables(tables), rows


@dataclass
class Restart:
    """Yielded by `RawSheet.batches` when a text file turned out not to be in the encoding it was
    being read in: the batches yielded so far are void, and reading starts again from the top."""

    encoding: str


@dataclass
class SkippedSheet:
    name: str
    sheet: str | None
    reason: str


@dataclass
class NoteSheet:
    """A sheet of ICE's own: its totals (`summary`) or its notes (`footnotes`); not records,
    kept as the text of its rows (every row from A1) for the manifest."""

    name: str
    sheet: str
    role: str  # "summary" or "footnotes"
    rows: list[list[str | None]]
    reader: str





def checked_batch(sheet: RawSheet, table: pa.Table, rows: list[int], *, first: bool = True) -> tuple[pa.Table, list[int]]:
    """Refuse oversized cells; drop header rows repeated among the records; note odd header names
    (once per sheet: `first` is the sheet's first batch)."""
    table, rows = _drop_repeated_headers(sheet, table, rows)
    _check_cell_sizes(sheet, table, rows)
    if first:
        sheet.warnings.extend(f"{where(sheet)}: {note}" for note in header_notes(sheet.layout.header))
    sheet.warnings.extend(_unnamed_columns_with_values(sheet, table))
    return table, rows


def where(sheet: RawSheet) -> str:
    return f"{sheet.name} sheet {sheet.sheet!r}" if sheet.sheet else sheet.name


def _drop_repeated_headers(sheet: RawSheet, table: pa.Table, rows: list[int]) -> tuple[pa.Table, list[int]]:
    """Rows equal to the header row in every named column (a sheet pasted below another, or an
    export that repeats the header per page) are not records: drop them and say how many."""
    named = [(i, h) for i, h in enumerate(sheet.layout.header) if h and i < table.num_columns]
    if len(named) < 2 or table.num_rows == 0:
        return table, rows
    repeated = None
    for index, header in named:
        same = pc.fill_null(pc.equal(pc.utf8_trim_whitespace(table.column(index)), header), False)
        repeated = same if repeated is None else pc.and_(repeated, same)
    assert repeated is not None
    count = int(pc.sum(pc.cast(repeated, pa.int64())).as_py() or 0)
    if count == 0:
        return table, rows
    flags = repeated.to_pylist()
    dropped_rows = [row for row, flag in zip(rows, flags, strict=True) if flag]
    sheet.warnings.append(
        f"{where(sheet)}: {count:,} repeated header row(s) among the records dropped (first at row {dropped_rows[0]})"
    )
    keep = pc.invert(repeated)
    return table.filter(keep), [row for row, flag in zip(rows, flags, strict=True) if not flag]


def _check_cell_sizes(sheet: RawSheet, table: pa.Table, rows: list[int]) -> None:
    for index in range(table.num_columns):
        values = table.column(index)
        lengths = pc.utf8_length(values)
        longest = pc.max(lengths).as_py()
        if longest is None or longest <= MAX_CELL_CHARS:
            continue
        position = pc.index(lengths, longest).as_py()
        header = sheet.layout.header[index] if index < len(sheet.layout.header) else ""
        raise InputFileError(
            f"has a cell of {longest:,} characters (Excel's limit is {MAX_CELL_CHARS:,}); the file is damaged "
            "or not a table export",
            file=sheet.name,
            sheet=sheet.sheet,
            row=rows[position] if 0 <= position < len(rows) else None,
            column=header or f"column {index + 1}",
        )


def _unnamed_columns_with_values(sheet: RawSheet, table: pa.Table) -> list[str]:
    names = canonical_columns(sheet.layout.header)
    notes = []
    for index, header in enumerate(sheet.layout.header):
        if header or index >= table.num_columns:
            continue
        values = pc.utf8_trim_whitespace(table.column(index))
        filled = int(pc.sum(pc.cast(pc.fill_null(pc.not_equal(values, ""), False), pa.int64())).as_py() or 0)
        if filled:
            notes.append(
                f"{where(sheet)}: column {index + 1} has no header name but holds {filled:,} value(s); "
                f"kept as {names[index]!r}"
            )
    return notes
