"""Delimited text files: encoding, delimiter and layout sniffed, records streamed in batches."""

from __future__ import annotations

import csv
import gzip
import zlib
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

from analysis.errors import InputFileError
from analysis.reading.coded import CODED_TEXT
from analysis.reading.layout import SCAN_ROWS, Layout, find_layout
from analysis.reading.records import (
    MAX_CELL_CHARS,
    RawSheet,
    Restart,
    RowNumbers,
    checked_batch,
    total_row,
    total_row_note,
)
from analysis.reading.safety import is_gzip

DELIMITERS = ("|", "\t", ",", ";")
SNIFF_BYTES = 256 * 1024
SNIFF_LINE_CHARS = 100_000  # below the csv module's field limit; header rows are far shorter
TEXT_BLOCK_BYTES = 8 << 20  # pyarrow parses in blocks: no record may be longer than one block
BATCH_ROWS = 1_000_000  # text is cleaned and written in batches of about this many records
UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")



def head_bytes(path: Path, name: str) -> bytes:
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


def text_sheet(path: Path, name: str, head: bytes) -> RawSheet:
    text, encoding = _decode(head)
    delimiter, layout = _sniff_layout(text, name)
    sheet = RawSheet(path, name, None, layout, lambda: iter(()), delimiter=delimiter, encoding=encoding,
                     reader="pyarrow")

    def batches() -> Iterator[tuple[pa.Table, RowNumbers] | Restart]:
        for attempt in _encodings_from(encoding):
            yielded = False
            totals: list[tuple[int | None, str, list[str]]] = []
            try:
                for table, rows in _text_batches(path, name, layout, delimiter, attempt, totals=totals):
                    yield checked_batch(sheet, table, rows, first=not yielded)
                    yielded = True
            except _WrongEncoding:
                sheet.warnings.clear()
                if yielded:
                    yield Restart(attempt)
                continue
            sheet.warnings.extend(total_row_note(sheet, *total, sheet.records_seen) for total in totals)
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


def _short_total_row(text: str, delimiter: str) -> tuple[str, list[str]] | None:
    try:
        cells = next(csv.reader([text[:SNIFF_LINE_CHARS]], delimiter=delimiter), [])
    except csv.Error:
        return None
    return total_row([cell or None for cell in cells])


def _text_batches(
    path: Path, name: str, layout: Layout, delimiter: str, encoding: str, *, threads: bool = True,
    totals: list[tuple[int | None, str, list[str]]] | None = None,
) -> Iterator[tuple[pa.Table, RowNumbers]]:
    """The records of a delimited text file, streamed in batches of about BATCH_ROWS rows, so a
    file of millions of rows is never in memory at once. Always yields at least one batch."""
    width = len(layout.header)
    bad_rows: list[tuple[int, int, bool]] = []  # row, fields, whether the line holds no delimiter at all

    def on_invalid(row: pacsv.InvalidRow) -> str:
        if totals is not None and (total := _short_total_row(row.text, delimiter)):
            totals.append((row.number, *total))
            return "skip"  # a total row typed with fewer fields: said as a warning by the caller
        plain = not any(d in row.text for d in DELIMITERS)
        bad_rows.append((row.number if row.number is not None else -1, row.actual_columns, plain))
        return "skip"  # recorded, and reported as an error below

    column_names = [f"c{i}" for i in range(width)]
    read_options = pacsv.ReadOptions(
        skip_rows=layout.header_index + 1, column_names=column_names, encoding=encoding, block_size=TEXT_BLOCK_BYTES,
        use_threads=threads,
    )
    parse_options = pacsv.ParseOptions(delimiter=delimiter, quote_char='"', invalid_row_handler=on_invalid)
    convert_options = pacsv.ConvertOptions(
        column_types={c: CODED_TEXT for c in column_names},  # the parser builds each column's distinct values
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
                    yield table, np.arange(next_row, next_row + table.num_rows, dtype=np.int64)
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
        number, found, plain = min(bad_rows)
        if number < 0 and threads:  # only a single-threaded parse knows row numbers: read again for the message
            for _ in _text_batches(path, name, layout, delimiter, encoding, threads=False):
                pass
        raise InputFileError(
            f"has {found} fields where the header has {width} ({len(bad_rows)} such row(s)); "
            f"the rows do not all use the delimiter {delimiter!r} of the header row"
            + ("; this one is a line of text with no delimiter (a title? a second export pasted below the first "
               "must be a file of its own)" if plain else ""),
            file=name,
            row=number if number >= 0 else None,  # pyarrow counts physical lines from 1, skipped ones included
        )
    if pending or next_row == layout.header_row + 1:
        table = pa.Table.from_batches(pending, schema)
        yield table, np.arange(next_row, next_row + table.num_rows, dtype=np.int64)
