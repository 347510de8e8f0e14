"""A sheet's records as read (text, with their row numbers), and the checks every sheet passes:
oversized cells, header rows repeated among the records, unnamed columns with values."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from analysis.errors import InputFileError
from analysis.reading.arrays import FALSE, flags, literal, numbers, texts
from analysis.reading.coded import RowCounts, coded, decoded, rows_of, with_values
from analysis.reading.layout import Layout, header_notes
from analysis.vocab.columns import ALIASES, canonical_columns

MAX_CELL_CHARS = 32_767  # Excel's own limit for one cell: a longer value is not a table cell
TOTAL_LABEL = re.compile(r"(?i)^\s*(?:grand\s+)?totals?\b[\s:=-]*(?P<rest>.*)$")
_NUMBER = re.compile(r"^\s*\d{1,3}(?:,\d{3})+\s*$|^\s*\d+(?:\.\d+)?\s*$")
RowNumbers = np.ndarray  # 1-based row numbers of a batch's records, int64
_HEADER_SPELLINGS = [form for spellings in ALIASES.values() for spelling in spellings
                     for form in (spelling, spelling.upper(), spelling.lower(), spelling.title())]


@dataclass
class RawSheet:
    path: Path
    name: str  # file name relative to the release folder
    sheet: str | None
    layout: Layout
    # records as text in batches, with their 1-based row numbers; a Restart means "start over"
    batches: Callable[[], Iterator[tuple[pa.Table, RowNumbers] | Restart]]
    delimiter: str | None = None
    encoding: str | None = None
    warnings: list[str] = field(default_factory=list)  # filled in while reading: what was tolerated, for the manifest
    records_seen: int = 0  # records passed on so far (what a total row's count is checked against)
    hidden: bool = False  # a workbook sheet Excel does not show
    reader: str | None = None  # what read it: calamine or openpyxl (workbooks), pyarrow (text)

    def read(self) -> tuple[pa.Table, RowNumbers]:
        """The whole sheet at once (ingest streams `batches` instead)."""
        tables: list[pa.Table] = []
        rows: list[RowNumbers] = []
        for item in self.batches():
            if isinstance(item, Restart):
                tables, rows = [], []
                continue
            tables.append(item[0])
            rows.append(item[1])
        return pa.concat_tables(tables), np.concatenate(rows) if rows else np.empty(0, np.int64)


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





def checked_batch(sheet: RawSheet, table: pa.Table, rows: RowNumbers, *, first: bool = True
                  ) -> tuple[pa.Table, RowNumbers]:
    """Refuse oversized cells; drop header rows repeated among the records; note odd header names
    (once per sheet: `first` is the sheet's first batch). The batch comes back coded (`coded.py`:
    each column its distinct values and a code per row), with its row numbers as an array."""
    if first:
        sheet.records_seen = 0
    table = pa.table([coded(column) for column in table.columns], names=table.column_names)
    rows = np.asarray(rows, dtype=np.int64)
    _refuse_second_export(sheet, table, rows)
    table, rows = _drop_repeated_headers(sheet, table, rows)
    blank = 0
    if _some_row_may_be_short(table):
        filled = _cells_filled(table)
        blank = _count_true(pc.equal(filled, literal(0, pa.int64())))
        table, rows = _drop_total_rows(sheet, table, rows, filled)
    _check_cell_sizes(sheet, table, rows)
    if first:
        sheet.warnings.extend(f"{where(sheet)}: {note}" for note in header_notes(sheet.layout.header))
    sheet.warnings.extend(_unnamed_columns_with_values(sheet, table))
    sheet.records_seen += table.num_rows - blank  # blank rows are not records (total rows are never blank)
    return table, rows


def where(sheet: RawSheet) -> str:
    return f"{sheet.name} sheet {sheet.sheet!r}" if sheet.sheet else sheet.name


def _rows_where(table: pa.Table, index: int, value_mask: pa.Array) -> np.ndarray:
    return rows_of(value_mask, coded(table.column(index)))


def _values(table: pa.Table, index: int) -> pa.Array:
    """The distinct values of a coded column."""
    return coded(table.column(index)).dictionary


def _filtered(table: pa.Table, rows: RowNumbers, keep: np.ndarray) -> tuple[pa.Table, RowNumbers]:
    return table.filter(numbers(keep)), rows[keep]


def _drop_repeated_headers(sheet: RawSheet, table: pa.Table, rows: RowNumbers) -> tuple[pa.Table, RowNumbers]:
    """Rows equal to the header row in every named column (a sheet pasted below another, or an
    export that repeats the header per page) are not records: drop them and say how many."""
    named = [(i, h) for i, h in enumerate(sheet.layout.header) if h and i < table.num_columns]
    if len(named) < 2 or table.num_rows == 0:
        return table, rows
    same = [pc.fill_null(pc.equal(pc.utf8_trim_whitespace(_values(table, index)), literal(header, pa.string())), FALSE)
            for index, header in named]
    if not all(pc.any(mask).as_py() for mask in same):  # some column never holds its header name
        return table, rows
    repeated = np.logical_and.reduce([_rows_where(table, index, mask) for (index, _), mask in zip(named, same,
                                                                                               strict=True)])
    count = int(repeated.sum())
    if count == 0:
        return table, rows
    sheet.warnings.append(
        f"{where(sheet)}: {count:,} repeated header row(s) among the records dropped (first at row "
        f"{int(rows[repeated][0])})"
    )
    return _filtered(table, rows, ~repeated)


def _check_cell_sizes(sheet: RawSheet, table: pa.Table, rows: RowNumbers) -> None:
    for index in range(table.num_columns):
        column = coded(table.column(index))
        if not pc.any(pc.greater(pc.utf8_length(column.dictionary), literal(MAX_CELL_CHARS, pa.int32()))).as_py():
            continue  # no value is too long (a value of a dropped row may be, and does not count)
        lengths = decoded(with_values(column, pc.utf8_length(column.dictionary)))
        longest = pc.max(lengths).as_py()
        if longest is None or longest <= MAX_CELL_CHARS:
            continue
        position = pc.index(lengths, literal(longest, lengths.type)).as_py()
        header = sheet.layout.header[index] if index < len(sheet.layout.header) else ""
        raise InputFileError(
            f"has a cell of {longest:,} characters (Excel's limit is {MAX_CELL_CHARS:,}); the file is damaged "
            "or not a table export",
            file=sheet.name,
            sheet=sheet.sheet,
            row=int(rows[position]) if 0 <= position < len(rows) else None,
            column=header or f"column {index + 1}",
        )


def _unnamed_columns_with_values(sheet: RawSheet, table: pa.Table) -> list[str]:
    names = canonical_columns(sheet.layout.header)
    notes = []
    for index, header in enumerate(sheet.layout.header):
        if header or index >= table.num_columns:
            continue
        column = coded(table.column(index))
        non_blank = pc.fill_null(pc.not_equal(pc.utf8_trim_whitespace(column.dictionary), literal("", pa.string())), FALSE)
        filled = RowCounts(column).of(non_blank)
        if filled:
            notes.append(
                f"{where(sheet)}: column {index + 1} has no header name but holds {filled:,} value(s); "
                f"kept as {names[index]!r}"
            )
    return notes


def _count_true(mask: pa.Array | pa.ChunkedArray) -> int:
    return int(pc.sum(pc.cast(pc.fill_null(mask, FALSE), pa.int64())).as_py() or 0)


def _some_row_may_be_short(table: pa.Table) -> bool:
    """Whether a row may be blank or hold as few values as a total row: not when more columns than
    a total row can fill hold a value in every row."""
    full = sum(1 for column in table.columns if column.null_count == 0)
    return table.num_rows > 0 and full <= max(2, table.num_columns // 2)


def _cells_filled(table: pa.Table) -> pa.Array:
    """How many cells of each row hold a value."""
    filled = np.zeros(table.num_rows, np.int64)
    for column in table.columns:
        if column.null_count == 0:
            filled += 1
        elif column.null_count < len(column):
            filled += flags(pc.is_valid(column))
    return numbers(filled)


def _row_cells(table: pa.Table, position: int) -> list[str | None]:
    return [table.column(index)[position].as_py() for index in range(table.num_columns)]


def _refuse_second_export(sheet: RawSheet, table: pa.Table, rows: RowNumbers) -> None:
    """A header row among the records below banner rows (a title, a FOIA number) is a second export
    pasted below the first: its records would get the first one's title and fiscal year, so the file
    is refused, naming the row where the second export starts. A header row that differs from the
    sheet's (another table's columns) is refused too. A bare copy of the header row is not refused
    (exports repeat it per page); `_drop_repeated_headers` drops it."""
    named = [i for i, h in enumerate(sheet.layout.header) if h and i < table.num_columns][:2]
    if len(named) < 2 or table.num_rows == 0:
        return
    spellings = texts(sorted({*_HEADER_SPELLINGS, *sheet.layout.header} - {""}))
    known = [pc.fill_null(pc.is_in(pc.utf8_trim_whitespace(_values(table, index)), value_set=spellings), FALSE)
             for index in named]
    if not all(pc.any(mask).as_py() for mask in known):
        return
    looks = np.logical_and.reduce([_rows_where(table, index, mask) for index, mask in zip(named, known, strict=True)])
    if not looks.any():
        return
    filled = _cells_filled(table).to_pylist()
    header = [(i, h.strip().lower()) for i, h in enumerate(sheet.layout.header) if h and i < table.num_columns]
    for position in np.flatnonzero(looks).tolist():
        cells = [("" if c is None else str(c).strip().lower()) for c in _row_cells(table, position)]
        same_header = all(cells[i] == name for i, name in header)
        start = position
        while start > 0 and filled[start - 1] <= 1:
            start -= 1
        banner_rows = [i for i in range(start, position) if filled[i] == 1]
        banners = bool(banner_rows)
        start = banner_rows[0] if banners else position
        if banners or not same_header:
            what = "banner rows and a header row" if banners else "a header row with other column names"
            raise InputFileError(
                f"a second export starts here ({what} among the records): its records would be counted under "
                "this sheet's title and fiscal year; split the file so that each export is a file of its own",
                file=sheet.name, sheet=sheet.sheet, row=int(rows[start]),
            )


def _drop_total_rows(sheet: RawSheet, table: pa.Table, rows: RowNumbers, filled: pa.Array
                     ) -> tuple[pa.Table, RowNumbers]:
    """A row whose first value is `Total` or `Grand Total` (a spreadsheet's sum under the records) is
    not a record: dropped, and said with its value; a single count in it is checked against the
    records above it."""
    if table.num_rows == 0 or table.num_columns == 0:
        return table, rows
    few = pc.less_equal(filled, literal(max(2, table.num_columns // 2), pa.int64()))
    if not _count_true(few):
        return table, rows
    candidates = pc.indices_nonzero(few).to_pylist()
    picked = numbers(np.asarray(candidates, np.int64))
    first = pc.coalesce(*[decoded(coded(pc.take(column, picked))) for column in table.columns])
    labelled = pc.fill_null(pc.match_substring_regex(first, TOTAL_LABEL.pattern), FALSE).to_pylist()
    dropped: list[int] = []
    filled_list = filled.to_pylist()
    for position, label in zip(candidates, labelled, strict=True):
        total = total_row(_row_cells(table, position)) if label else None
        if total is None:
            continue
        blank_above = sum(1 for i in range(position) if filled_list[i] == 0)
        above = sheet.records_seen + position - len(dropped) - blank_above
        sheet.warnings.append(total_row_note(sheet, int(rows[position]), *total, above))
        dropped.append(position)
    if not dropped:
        return table, rows
    keep = np.ones(table.num_rows, bool)
    keep[dropped] = False
    return _filtered(table, rows, keep)


def total_row(cells: list[str | None]) -> tuple[str, list[str]] | None:
    """(label, numbers) when a row is a total: its first value `Total`/`Grand Total` (a number may
    follow in the same cell), every other value a number; else None."""
    values = [str(c) for c in cells if c is not None and str(c).strip()]
    match = TOTAL_LABEL.match(values[0]) if values else None
    if match is None:
        return None
    numbers = [v.strip() for v in [match.group("rest"), *values[1:]] if v.strip()]
    return (values[0], numbers) if all(_NUMBER.match(v) for v in numbers) else None


def total_row_note(sheet: RawSheet, row: int | None, label: str, numbers: list[str], records_above: int) -> str:
    """The warning for a dropped total row: its values, and whether its count equals the records."""
    place = f"row {row}" if row is not None else "a row with fewer fields than the header"
    said = f"{where(sheet)}, {place}: {label.strip()!r}"
    if len(numbers) != 1:
        shown = f" ({', '.join(numbers)})" if numbers else ""
        return f"{said}{shown} is a total, not a record: dropped (no single count in it to check)"
    count = int(float(numbers[0].replace(",", "")))
    records = f"{records_above:,} record{'' if records_above == 1 else 's'}"
    check = (f"it equals the {records} above it" if count == records_above
             else f"it says {count:,} but {records} {'is' if records_above == 1 else 'are'} above it: check the file")
    return f"{said} ({count:,}) is a total, not a record: dropped; {check}"
