"""A sheet's records as read (strings, with their row numbers), and the checks every sheet passes:
oversized cells, header rows repeated among the records, unnamed columns with values."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from analysis.errors import InputFileError
from analysis.reading.layout import Layout, header_notes
from analysis.vocab.columns import ALIASES, canonical_columns

MAX_CELL_CHARS = 32_767  # Excel's own limit for one cell: a longer value is not a table cell
TOTAL_LABEL = re.compile(r"(?i)^\s*(?:grand\s+)?totals?\b[\s:=-]*(?P<rest>.*)$")
_NUMBER = re.compile(r"^\s*\d{1,3}(?:,\d{3})+\s*$|^\s*\d+(?:\.\d+)?\s*$")
_HEADER_SPELLINGS = [form for spellings in ALIASES.values() for spelling in spellings
                     for form in (spelling, spelling.upper(), spelling.lower(), spelling.title())]


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
    records_seen: int = 0  # records passed on so far (what a total row's count is checked against)
    hidden: bool = False  # a workbook sheet Excel does not show
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
    if first:
        sheet.records_seen = 0
    _refuse_second_export(sheet, table, rows)
    table, rows = _drop_repeated_headers(sheet, table, rows)
    filled = _cells_filled(table)
    blank = _count_true(pc.equal(filled, 0))
    table, rows = _drop_total_rows(sheet, table, rows, filled)
    _check_cell_sizes(sheet, table, rows)
    if first:
        sheet.warnings.extend(f"{where(sheet)}: {note}" for note in header_notes(sheet.layout.header))
    sheet.warnings.extend(_unnamed_columns_with_values(sheet, table))
    sheet.records_seen += table.num_rows - blank  # blank rows are not records (total rows are never blank)
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


def _count_true(mask: pa.Array | pa.ChunkedArray) -> int:
    return int(pc.sum(pc.cast(pc.fill_null(mask, False), pa.int64())).as_py() or 0)


def _cells_filled(table: pa.Table) -> pa.Array:
    """How many cells of each row hold a value."""
    filled = pa.array([0] * table.num_rows, pa.int64())
    for index in range(table.num_columns):
        filled = pc.add(filled, pc.cast(pc.is_valid(table.column(index)), pa.int64()))
    return filled


def _row_cells(table: pa.Table, position: int) -> list[str | None]:
    return [table.column(index)[position].as_py() for index in range(table.num_columns)]


def _refuse_second_export(sheet: RawSheet, table: pa.Table, rows: list[int]) -> None:
    """A header row among the records below banner rows (a title, a FOIA number) is a second export
    pasted below the first: its records would get the first one's title and fiscal year, so the file
    is refused, naming the row where the second export starts. A header row that differs from the
    sheet's (another table's columns) is refused too. A bare copy of the header row is not refused
    (exports repeat it per page); `_drop_repeated_headers` drops it."""
    named = [i for i, h in enumerate(sheet.layout.header) if h and i < table.num_columns][:2]
    if len(named) < 2 or table.num_rows == 0:
        return
    spellings = pa.array(sorted({*_HEADER_SPELLINGS, *sheet.layout.header} - {""}))
    looks = None
    for index in named:
        known = pc.fill_null(pc.is_in(pc.utf8_trim_whitespace(table.column(index)), value_set=spellings), False)
        looks = known if looks is None else pc.and_(looks, known)
    if not _count_true(looks):
        return
    filled = _cells_filled(table).to_pylist()
    header = [(i, h.strip().lower()) for i, h in enumerate(sheet.layout.header) if h and i < table.num_columns]
    for position in pc.indices_nonzero(looks).to_pylist():
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
                file=sheet.name, sheet=sheet.sheet, row=rows[start],
            )


def _drop_total_rows(sheet: RawSheet, table: pa.Table, rows: list[int], filled: pa.Array) -> tuple[pa.Table, list[int]]:
    """A row whose first value is `Total` or `Grand Total` (a spreadsheet's sum under the records) is
    not a record: dropped, and said with its value; a single count in it is checked against the
    records above it."""
    if table.num_rows == 0 or table.num_columns == 0:
        return table, rows
    few = pc.less_equal(filled, max(2, table.num_columns // 2))
    if not _count_true(few):
        return table, rows
    candidates = pc.indices_nonzero(few).to_pylist()
    first = pc.coalesce(*[pc.take(table.column(i), pa.array(candidates, pa.int64())) for i in range(table.num_columns)])
    labelled = pc.fill_null(pc.match_substring_regex(first, TOTAL_LABEL.pattern), False).to_pylist()
    dropped: list[int] = []
    filled_list = filled.to_pylist()
    for position, label in zip(candidates, labelled, strict=True):
        total = total_row(_row_cells(table, position)) if label else None
        if total is None:
            continue
        blank_above = sum(1 for i in range(position) if filled_list[i] == 0)
        above = sheet.records_seen + position - len(dropped) - blank_above
        sheet.warnings.append(total_row_note(sheet, rows[position], *total, above))
        dropped.append(position)
    if not dropped:
        return table, rows
    gone = set(dropped)
    keep = pa.array([i not in gone for i in range(table.num_rows)])
    return table.filter(keep), [row for row, kept in zip(rows, keep.to_pylist(), strict=True) if kept]


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
