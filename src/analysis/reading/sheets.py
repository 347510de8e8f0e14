"""Open the files of a raw release: every sheet of every workbook, every delimited text file.

Each readable sheet becomes a `RawSheet`: its layout (banners, header) and a function that
returns its records as an Arrow table of strings, one column per header cell. Nothing here
interprets values; `cleaning` does.

Raw files are hostile until proven otherwise: `safety` checks a workbook's container
(encryption, zip bombs, XML entity declarations) before any parser sees it, and every
sheet read here is checked for oversized cells and repeated header rows. See docs/bad-input.md.
"""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import os
import sys
import tempfile
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from analysis.errors import InputFileError
from analysis.reading.files import check_inside, list_data_files  # noqa: F401 - list_data_files re-exported
from analysis.reading.layout import SCAN_ROWS, Layout, find_layout, header_notes
from analysis.reading.safety import (
    OLE2_MAGIC,
    PASSWORD_MESSAGE,
    ZIP_MAGIC,
    check_ole2_workbook,
    check_zip_workbook,
    foreign_format,
    is_gzip,
)
from analysis.vocab.columns import canonical_columns
from analysis.vocab.kinds import NON_RECORD_SHEET

DELIMITERS = ("|", "\t", ",", ";")
SNIFF_BYTES = 256 * 1024
SNIFF_LINE_CHARS = 100_000  # below the csv module's field limit; header rows are far shorter
TEXT_BLOCK_BYTES = 8 << 20  # pyarrow parses in blocks: no record may be longer than one block
BATCH_ROWS = 1_000_000  # text is cleaned and written in batches of about this many records
MAX_CELL_CHARS = 32_767  # Excel's own limit for one cell: a longer value is not a table cell
UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")


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


def _release_folder(path: Path, name: str) -> Path:
    """The release folder `path` was listed from: `name` is the path relative to it."""
    return path.parents[len(Path(name).parts) - 1]


def open_sheets(path: Path, name: str) -> Iterator[RawSheet | SkippedSheet]:
    check_inside(path, _release_folder(path, name), name)
    head = _head_bytes(path, name)
    if head.startswith(ZIP_MAGIC):
        check_zip_workbook(path, name)
        yield from _workbook_sheets(path, name)
    elif head.startswith(OLE2_MAGIC):
        check_ole2_workbook(path, name)
        yield from _workbook_sheets(path, name)
    elif head.startswith(UTF16_BOMS):
        yield _text_sheet(path, name, head)
    elif other := foreign_format(head):
        raise InputFileError(f"is {other}, neither a spreadsheet nor delimited text", file=name)
    elif b"\x00" in head[:4096]:
        raise InputFileError("neither a spreadsheet nor delimited text (binary content)", file=name)
    else:
        yield _text_sheet(path, name, head)


# ---------------------------------------------------------------- delimited text


def _head_bytes(path: Path, name: str) -> bytes:
    if path.stat().st_size == 0:
        raise InputFileError("file is empty", file=name)
    try:
        if is_gzip(path):
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
    """The sniffed text and the encoding to read the file with: UTF-16 (by its byte-order mark),
    UTF-8, else Windows-1252 (what Excel writes for 'CSV' on US Windows), else Latin-1."""
    if head.startswith(UTF16_BOMS):
        even = head[: len(head) // 2 * 2]
        return even.decode("utf-16", errors="ignore"), "utf-16"
    try:
        return head.decode("utf-8-sig"), "utf8"
    except UnicodeDecodeError as exc:
        if exc.start > len(head) - 4:  # a multi-byte character cut by the sniff window
            return head[: exc.start].decode("utf-8-sig"), "utf8"
    try:
        return head.decode("cp1252"), "cp1252"
    except UnicodeDecodeError:
        return head.decode("latin-1"), "latin-1"


def _split_rows(text: str, delimiter: str) -> list[list[str | None]]:
    lines = [line[:SNIFF_LINE_CHARS] for line in text.splitlines()[: SCAN_ROWS + 10]]
    try:
        return [[cell or None for cell in row] for row in csv.reader(lines, delimiter=delimiter)]
    except csv.Error:
        return []


def _sniff_layout(text: str, name: str) -> tuple[str, Layout]:
    """The delimiter whose split gives a recognised header row with the most named columns."""
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


def _text_sheet(path: Path, name: str, head: bytes) -> RawSheet:
    text, encoding = _decode(head)
    delimiter, layout = _sniff_layout(text, name)
    sheet = RawSheet(path, name, None, layout, lambda: iter(()), delimiter=delimiter, encoding=encoding)

    def batches() -> Iterator[tuple[pa.Table, list[int]] | Restart]:
        for attempt in _encodings_from(encoding):
            yielded = False
            try:
                for table, rows in _text_batches(path, name, layout, delimiter, attempt):
                    yield _checked(sheet, table, rows, first=not yielded)
                    yielded = True
            except _WrongEncoding:
                sheet.warnings.clear()
                if yielded:
                    yield Restart(attempt)
                continue
            if attempt != encoding:
                sheet.encoding = attempt
            if attempt not in ("utf8", "utf-16"):
                sheet.warnings.append(f"{name}: not UTF-8; read as {_ENCODING_NAMES[attempt]}")
            return
        raise AssertionError("latin-1 decodes every byte")  # pragma: no cover

    sheet.batches = batches
    return sheet


_ENCODING_NAMES = {"cp1252": "Windows-1252", "latin-1": "Latin-1 (it holds bytes Windows-1252 leaves undefined)"}


def _encodings_from(first: str) -> list[str]:
    if first == "utf-16":
        return ["utf-16"]
    order = ["utf8", "cp1252", "latin-1"]
    return order[order.index(first) :]


class _WrongEncoding(Exception):
    pass


def _text_batches(
    path: Path, name: str, layout: Layout, delimiter: str, encoding: str, *, threads: bool = True
) -> Iterator[tuple[pa.Table, list[int]]]:
    """The records of a delimited text file, streamed in batches of about BATCH_ROWS rows, so a
    file of millions of rows is never in memory at once. Always yields at least one batch."""
    width = len(layout.header)
    bad_rows: list[tuple[int, int]] = []

    def on_invalid(row: pacsv.InvalidRow) -> str:
        bad_rows.append((row.number if row.number is not None else -1, row.actual_columns))
        return "skip"  # recorded, and reported as an error below

    column_names = [f"c{i}" for i in range(width)]
    read_options = pacsv.ReadOptions(
        skip_rows=layout.header_index + 1, column_names=column_names, encoding=encoding, block_size=TEXT_BLOCK_BYTES,
        use_threads=threads,
    )
    parse_options = pacsv.ParseOptions(delimiter=delimiter, quote_char='"', invalid_row_handler=on_invalid)
    convert_options = pacsv.ConvertOptions(
        column_types={c: pa.string() for c in column_names},
        null_values=[""],
        strings_can_be_null=True,
        quoted_strings_can_be_null=True,
    )
    next_row = layout.header_row + 1  # pyarrow skips blank lines: row numbers are provenance, not keys
    pending: list[pa.RecordBatch] = []
    try:
        with pa.input_stream(str(path), compression="gzip" if is_gzip(path) else None) as stream:
            reader = pacsv.open_csv(stream, read_options, parse_options, convert_options)
            schema = reader.schema
            for batch in reader:
                pending.append(batch)
                if bad_rows:
                    break
                if sum(b.num_rows for b in pending) >= BATCH_ROWS:
                    table = pa.Table.from_batches(pending, schema)
                    pending = []
                    yield table, list(range(next_row, next_row + table.num_rows))
                    next_row += table.num_rows
    except UnicodeError:  # raised by the transcoder of a non-UTF-8 encoding
        raise _WrongEncoding() from None
    except pa.ArrowInvalid as exc:
        message = str(exc).splitlines()[0]
        if "utf8" in message.lower() and encoding == "utf8":
            raise _WrongEncoding() from None
        if "straddl" in message:
            raise InputFileError(
                f"has a record longer than {TEXT_BLOCK_BYTES >> 20} MiB (no table cell is that long: Excel's "
                f"limit is {MAX_CELL_CHARS:,} characters); the file is damaged or not a table export",
                file=name,
            ) from None
        raise InputFileError(f"cannot be parsed as {delimiter!r}-delimited text: {message}", file=name) from None
    except (OSError, EOFError, zlib.error) as exc:
        raise InputFileError(f"truncated or corrupt file ({str(exc).splitlines()[0]})", file=name) from None
    if bad_rows:
        number, found = min(bad_rows)
        if number < 0 and threads:  # only a single-threaded parse knows row numbers: read again for the message
            for _ in _text_batches(path, name, layout, delimiter, encoding, threads=False):
                pass
        raise InputFileError(
            f"has {found} fields where the header has {width} ({len(bad_rows)} such row(s)); "
            f"the rows do not all use the delimiter {delimiter!r} of the header row",
            file=name,
            row=number if number >= 0 else None,  # pyarrow counts physical lines from 1, skipped ones included
        )
    if pending or next_row == layout.header_row + 1:
        table = pa.Table.from_batches(pending, schema)
        yield table, list(range(next_row, next_row + table.num_rows))


# ---------------------------------------------------------------- checks on every sheet read


def _checked(sheet: RawSheet, table: pa.Table, rows: list[int], *, first: bool = True) -> tuple[pa.Table, list[int]]:
    """Refuse oversized cells; drop header rows repeated among the records; note odd header names
    (once per sheet: `first` is the sheet's first batch)."""
    table, rows = _drop_repeated_headers(sheet, table, rows)
    _check_cell_sizes(sheet, table, rows)
    if first:
        sheet.warnings.extend(f"{_where(sheet)}: {note}" for note in header_notes(sheet.layout.header))
    sheet.warnings.extend(_unnamed_columns_with_values(sheet, table))
    return table, rows


def _where(sheet: RawSheet) -> str:
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
        f"{_where(sheet)}: {count:,} repeated header row(s) among the records dropped (first at row {dropped_rows[0]})"
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
                f"{_where(sheet)}: column {index + 1} has no header name but holds {filled:,} value(s); "
                f"kept as {names[index]!r}"
            )
    return notes


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
    if isinstance(value, dt.timedelta):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    return str(value)


class _Workbook:
    """One workbook, read with python-calamine, or openpyxl where calamine cannot.

    Both read the value Excel cached for a formula cell; no formula is ever evaluated."""

    def __init__(self, path: Path, name: str) -> None:
        self.path, self.name = path, name
        self.engine = "calamine"
        self._calamine: Any = None
        try:
            from python_calamine import CalamineWorkbook

            with native_stderr_silenced():
                self._calamine = CalamineWorkbook.from_path(str(path))
                self.sheet_names = list(self._calamine.sheet_names)
        except BaseException as calamine_error:  # noqa: BLE001 - any calamine failure means: try openpyxl
            _reraise_interrupts(calamine_error)
            if _is_password_error(calamine_error):
                raise InputFileError(PASSWORD_MESSAGE, file=name) from None
            self._calamine = None
            self.engine = "openpyxl"
            self._open_openpyxl(calamine_error)

    def _open_openpyxl(self, calamine_error: BaseException) -> None:
        import openpyxl

        if not openpyxl.DEFUSEDXML:  # without defusedxml, openpyxl's XML parser would expand entities
            raise InputFileError(
                f"corrupt or unreadable workbook ({_first_line(calamine_error)}); the fallback reader is "
                "disabled because the defusedxml package is not installed",
                file=self.name,
            )
        try:
            self._openpyxl = openpyxl.load_workbook(self.path, read_only=True, data_only=True)
        except Exception as exc:  # noqa: BLE001
            raise InputFileError(_workbook_failure(calamine_error, exc), file=self.name) from None
        self.sheet_names = list(self._openpyxl.sheetnames)

    def rows(self, sheet: str, limit: int | None = None) -> list[list[str | None]]:
        try:
            with native_stderr_silenced():
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
        except BaseException as exc:  # noqa: BLE001
            _reraise_interrupts(exc)
            reason = "XML that is not plain spreadsheet XML" if "entity" in str(exc).lower() else "cannot read sheet"
            raise InputFileError(f"{reason}: {_first_line(exc)}", file=self.name, sheet=sheet) from None


@contextmanager
def native_stderr_silenced() -> Iterator[None]:
    """Discard what native code writes to file descriptor 2 meanwhile: a panic inside calamine
    (Rust) prints its message and backtrace there, before Python turns it into an exception
    that becomes our one-line error."""
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with tempfile.TemporaryFile() as sink:
            os.dup2(sink.fileno(), 2)
            try:
                yield
            finally:
                os.dup2(saved, 2)
    finally:
        os.close(saved)


def _reraise_interrupts(error: BaseException) -> None:
    """Readers' failures are the file's fault, including a panic inside calamine (Rust), which
    pyo3 raises as a BaseException; interrupts and exits are not, and go on."""
    if isinstance(error, KeyboardInterrupt | SystemExit | GeneratorExit):
        raise error


def _first_line(error: BaseException) -> str:
    text = str(error)
    return text.splitlines()[0] if text else type(error).__name__


def _is_password_error(error: BaseException) -> bool:
    text = f"{type(error).__name__} {error}".lower()
    return "password" in text or "encrypt" in text


def _workbook_failure(calamine_error: BaseException, openpyxl_error: BaseException) -> str:
    if _is_password_error(calamine_error) or _is_password_error(openpyxl_error):
        return PASSWORD_MESSAGE
    return f"corrupt or unreadable workbook ({_first_line(calamine_error)})"


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
        raw_sheet = RawSheet(path, name, sheet, layout, lambda: iter(()))
        raw_sheet.batches = _sheet_reader(book, raw_sheet)
        yield raw_sheet


def _sheet_reader(book: _Workbook, raw_sheet: RawSheet) -> Callable[[], Iterator[tuple[pa.Table, list[int]] | Restart]]:
    """A workbook sheet is read whole (calamine reads sheets whole): one batch."""
    sheet, layout = raw_sheet.sheet, raw_sheet.layout
    assert sheet is not None

    def read() -> Iterator[tuple[pa.Table, list[int]] | Restart]:
        rows = book.rows(sheet)[layout.header_index + 1 :]
        width = len(layout.header)
        for offset, row in enumerate(rows):
            extra = [cell for cell in row[width:] if cell is not None]
            if extra:
                raise InputFileError(
                    f"has a value beyond the last header column ({extra[0][:40]!r})",
                    file=book.name,
                    sheet=sheet,
                    row=layout.header_row + 1 + offset,
                )
        columns = {f"c{i}": pa.array([row[i] if i < len(row) else None for row in rows], pa.string()) for i in range(width)}
        first = layout.header_row + 1
        yield _checked(raw_sheet, pa.table(columns), list(range(first, first + len(rows))))

    return read
