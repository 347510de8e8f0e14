"""Open the files of a raw release: every sheet of every workbook, every delimited text file.

Each readable sheet becomes a `RawSheet`: its layout (banners, header) and a function that
returns its records as an Arrow table of strings, one column per header cell. Nothing here
interprets values; `cleaning` does.
"""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv

from .errors import InputFileError
from .layout import SCAN_ROWS, Layout, find_layout
from .kinds import NON_RECORD_SHEET

WORKBOOK_SUFFIXES = (".xlsx", ".xlsm", ".xls")
TEXT_SUFFIXES = (".csv", ".txt", ".tsv")
DELIMITERS = ("|", "\t", ",", ";")
SNIFF_BYTES = 256 * 1024
GZIP_MAGIC = b"\x1f\x8b"
ZIP_MAGIC = b"PK\x03\x04"
OLE2_MAGIC = b"\xd0\xcf\x11\xe0"


@dataclass
class RawSheet:
    path: Path
    name: str  # file name relative to the release folder
    sheet: str | None
    layout: Layout
    read: Callable[[], tuple[pa.Table, list[int]]]  # records as strings, and their 1-based row numbers
    delimiter: str | None = None
    encoding: str | None = None


@dataclass
class SkippedSheet:
    name: str
    sheet: str | None
    reason: str


def is_data_file(path: Path) -> bool:
    suffixes = [s.lower() for s in path.suffixes[-2:]]
    if suffixes and suffixes[-1] == ".gz":
        suffixes = suffixes[:-1]
    return bool(suffixes) and suffixes[-1] in WORKBOOK_SUFFIXES + TEXT_SUFFIXES


def list_data_files(raw_dir: Path) -> list[Path]:
    return sorted(p for p in raw_dir.iterdir() if p.is_file() and not p.name.startswith(".") and is_data_file(p))


def open_sheets(path: Path, name: str) -> Iterator[RawSheet | SkippedSheet]:
    head = _head_bytes(path, name)
    if head.startswith(ZIP_MAGIC) or head.startswith(OLE2_MAGIC):
        yield from _workbook_sheets(path, name)
    elif b"\x00" in head[:4096]:
        raise InputFileError("neither a spreadsheet nor delimited text (binary content)", file=name)
    else:
        yield _text_sheet(path, name)


# ---------------------------------------------------------------- delimited text


def _is_gzip(path: Path) -> bool:
    with path.open("rb") as handle:
        return handle.read(2) == GZIP_MAGIC


def _head_bytes(path: Path, name: str) -> bytes:
    if path.stat().st_size == 0:
        raise InputFileError("file is empty", file=name)
    try:
        if _is_gzip(path):
            with gzip.open(path, "rb") as handle:
                head = handle.read(SNIFF_BYTES)
        else:
            with path.open("rb") as handle:
                head = handle.read(SNIFF_BYTES)
    except (OSError, EOFError, zlib.error) as exc:
        raise InputFileError(f"truncated or corrupt gzip file ({exc})", file=name) from None
    if not head.strip():
        raise InputFileError("file is empty (no text after decompression)", file=name)
    return head


def _decode(head: bytes) -> tuple[str, str]:
    try:
        return head.decode("utf-8-sig"), "utf8"
    except UnicodeDecodeError as exc:
        if exc.start > len(head) - 4:  # a multi-byte character cut by the sniff window
            return head[: exc.start].decode("utf-8-sig"), "utf8"
        return head.decode("cp1252", errors="replace"), "cp1252"


def _split_rows(text: str, delimiter: str) -> list[list[str | None]]:
    lines = text.splitlines()[: SCAN_ROWS + 10]
    return [[cell or None for cell in row] for row in csv.reader(lines, delimiter=delimiter)]


def _sniff_layout(text: str, name: str) -> tuple[str, Layout]:
    best: tuple[int, str, Layout] | None = None
    for delimiter in DELIMITERS:
        if delimiter not in text:
            continue
        rows = _split_rows(text, delimiter)
        try:
            layout = find_layout(rows, file=name)
        except InputFileError:
            continue
        width = len([h for h in layout.header if h])
        if best is None or width > best[0]:
            widest = max(len(row) for row in rows[layout.header_index :])
            layout.header += [""] * (widest - len(layout.header))
            best = (width, delimiter, layout)
    if best is None:
        raise InputFileError(
            "no recognisable header row: not a delimited table ('|', tab, ',' or ';') with a row of column names",
            file=name,
        )
    return best[1], best[2]


def _text_sheet(path: Path, name: str) -> RawSheet:
    text, encoding = _decode(_head_bytes(path, name))
    delimiter, layout = _sniff_layout(text, name)

    def read() -> tuple[pa.Table, list[int]]:
        try:
            return _read_text(path, name, layout, delimiter, encoding)
        except _NotUtf8:
            return _read_text(path, name, layout, delimiter, "cp1252")

    return RawSheet(path, name, None, layout, read, delimiter=delimiter, encoding=encoding)


class _NotUtf8(Exception):
    pass


def _read_text(path: Path, name: str, layout: Layout, delimiter: str, encoding: str) -> tuple[pa.Table, list[int]]:
    width = len(layout.header)
    bad_rows: list[tuple[int, int]] = []

    def on_invalid(row: pacsv.InvalidRow) -> str:
        bad_rows.append((row.number if row.number is not None else -1, row.actual_columns))
        return "skip"  # recorded, and reported as an error once the file is read

    column_names = [f"c{i}" for i in range(width)]
    read_options = pacsv.ReadOptions(
        skip_rows=layout.header_index + 1, column_names=column_names, encoding=encoding, block_size=8 << 20
    )
    parse_options = pacsv.ParseOptions(delimiter=delimiter, quote_char='"', invalid_row_handler=on_invalid)
    convert_options = pacsv.ConvertOptions(
        column_types={c: pa.string() for c in column_names},
        null_values=[""],
        strings_can_be_null=True,
        quoted_strings_can_be_null=True,
    )
    try:
        with pa.input_stream(str(path), compression="gzip" if _is_gzip(path) else None) as stream:
            table = pacsv.read_csv(stream, read_options, parse_options, convert_options)
    except pa.ArrowInvalid as exc:
        message = str(exc)
        if "UTF8" in message or "utf8" in message.lower():
            if encoding == "utf8":
                raise _NotUtf8() from None
        raise InputFileError(f"cannot be parsed as {delimiter!r}-delimited text: {message.splitlines()[0]}", file=name) from None
    except (OSError, EOFError, zlib.error) as exc:
        raise InputFileError(f"truncated or corrupt file ({str(exc).splitlines()[0]})", file=name) from None
    if bad_rows:
        number, found = bad_rows[0]
        row = layout.header_row + number if number >= 0 else None
        raise InputFileError(
            f"has {found} fields where the header has {width} ({len(bad_rows)} such row(s))", file=name, row=row
        )
    # pyarrow skips blank lines, so row numbers are exact only for files without them:
    # the usual case for ICE exports, and the numbers are provenance, not keys.
    first = layout.header_row + 1
    return table, list(range(first, first + table.num_rows))


# ---------------------------------------------------------------- workbooks


def _cell_text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value if value.strip() else None
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time(0) else value.isoformat(timespec="seconds")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    return str(value)


class _Workbook:
    """One workbook, read with python-calamine, or openpyxl where calamine cannot."""

    def __init__(self, path: Path, name: str) -> None:
        self.path, self.name = path, name
        self.engine = "calamine"
        try:
            from python_calamine import CalamineWorkbook

            self._calamine = CalamineWorkbook.from_path(str(path))
            self.sheet_names = list(self._calamine.sheet_names)
        except Exception as calamine_error:  # noqa: BLE001 - any calamine failure means: try openpyxl
            self._calamine = None
            self.engine = "openpyxl"
            self._open_openpyxl(calamine_error)

    def _open_openpyxl(self, calamine_error: Exception) -> None:
        import openpyxl

        try:
            self._openpyxl = openpyxl.load_workbook(self.path, read_only=True, data_only=True)
        except Exception as exc:  # noqa: BLE001
            reason = _workbook_failure(calamine_error, exc)
            raise InputFileError(reason, file=self.name) from None
        self.sheet_names = list(self._openpyxl.sheetnames)

    def rows(self, sheet: str, limit: int | None = None) -> list[list[str | None]]:
        try:
            if self._calamine is not None:
                data = self._calamine.get_sheet_by_name(sheet)
                raw = data.iter_rows() if limit else data.to_python(skip_empty_area=False)
            else:
                raw = self._openpyxl[sheet].iter_rows(values_only=True)
            out: list[list[str | None]] = []
            for row in raw:
                out.append([_cell_text(v) for v in row])
                if limit and len(out) >= limit:
                    break
            return out
        except InputFileError:
            raise
        except Exception as exc:  # noqa: BLE001
            raise InputFileError(f"cannot read sheet: {str(exc).splitlines()[0]}", file=self.name, sheet=sheet) from None


def _workbook_failure(calamine_error: Exception, openpyxl_error: Exception) -> str:
    text = f"{type(calamine_error).__name__} {calamine_error} {openpyxl_error}".lower()
    if "password" in text or "encrypt" in text:
        return "workbook is password-protected or encrypted; save an unprotected copy into a new release folder"
    return f"corrupt or unreadable workbook ({str(calamine_error).splitlines()[0] if str(calamine_error) else type(calamine_error).__name__})"


def _workbook_sheets(path: Path, name: str) -> Iterator[RawSheet | SkippedSheet]:
    book = _Workbook(path, name)
    for sheet in book.sheet_names:
        head = book.rows(sheet, limit=SCAN_ROWS + 10)
        if not any(cell for row in head for cell in row):
            yield SkippedSheet(name, sheet, "empty sheet")
            continue
        if NON_RECORD_SHEET.search(sheet):
            yield SkippedSheet(name, sheet, "summary or notes sheet, not records")
            continue
        layout = find_layout(head, file=name, sheet=sheet)
        yield RawSheet(path, name, sheet, layout, _sheet_reader(book, sheet, layout))


def _sheet_reader(book: _Workbook, sheet: str, layout: Layout) -> Callable[[], tuple[pa.Table, list[int]]]:
    def read() -> tuple[pa.Table, list[int]]:
        rows = book.rows(sheet)[layout.header_index + 1 :]
        width = len(layout.header)
        for offset, row in enumerate(rows):
            extra = [cell for cell in row[width:] if cell is not None]
            if extra:
                raise InputFileError(
                    f"has a value beyond the last header column ({extra[0]!r})",
                    file=book.name,
                    sheet=sheet,
                    row=layout.header_row + 1 + offset,
                )
        columns = {f"c{i}": pa.array([row[i] if i < len(row) else None for row in rows], pa.string()) for i in range(width)}
        first = layout.header_row + 1
        return pa.table(columns), list(range(first, first + len(rows)))

    return read
