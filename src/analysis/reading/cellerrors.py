"""Excel error cells (`#N/A`, `#REF!`, ...) that python-calamine reads as blanks.

calamine turns an error cell into an empty one, so a column of `#N/A` would look empty, with
no count. This module finds the error cells of .xlsx/.xlsm sheets in their XML
(`<c r="B5" t="e"><v>#N/A</v></c>`) and of .xlsb sheets in their records (BrtCellError,
BrtFmlaError), and the reader puts their text back, so cleaning counts them per column like
redactions (`cleaning.excel_errors`). An .xlsx sheet without error cells costs one pass over its
XML looking for `t="e"`; an .xlsb sheet, one walk over its records.

Legacy .xls workbooks: the workbook stream is taken out of its OLE2 container and its BoolErr
and FORMULA records (cached error results) are read. openpyxl and .ods workbooks give an error
cell's text as it is.
"""

from __future__ import annotations

import posixpath
import re
import struct
import zipfile
from collections.abc import Callable, Iterator
from functools import lru_cache, partial
from pathlib import Path
from xml.etree import ElementTree

from analysis.reading.safety import OLE2_MAGIC

Position = tuple[int, int]  # 0-based row and column, from A1

_ERROR_MARKS = (b't="e"', b"t='e'")
_CHUNK = 4 << 20
_CELL_REF = re.compile(r"^([A-Z]{1,3})(\d+)$")
_ERROR_CELL = re.compile(r"<(?:\w+:)?c\b([^>]*\bt=[\"']e[\"'][^>]*)>(.*?)</(?:\w+:)?c>", re.S)
_ANY_CELL_OR_ROW = re.compile(r"<(?:\w+:)?(row|c)\b([^>]*?)(/?)>", re.S)
_ATTRIBUTE = re.compile(r"([\w:]+)=[\"']([^\"']*)[\"']")
_CELL_BODY = re.compile(r"(.*?)</(?:\w+:)?c>", re.S)
_VALUE = re.compile(r"<(?:\w+:)?v>([^<]*)</(?:\w+:)?v>")
# BIFF12 record types (MS-XLSB 2.3) and error codes (2.5.97.2)
_ROW_HEADER, _END_SHEET_DATA, _BUNDLE_SHEET, _END_BUNDLE_SHEETS = 0x0000, 0x0092, 0x009C, 0x0090
_ERROR_RECORDS = (0x0003, 0x000B)  # BrtCellError, BrtFmlaError
_BINARY_ERROR_CODES = {0x00: "#NULL!", 0x07: "#DIV/0!", 0x0F: "#VALUE!", 0x17: "#REF!", 0x1D: "#NAME?", 0x24: "#NUM!",
                       0x2A: "#N/A", 0x2B: "#GETTING_DATA"}


def error_cells(path: Path, sheet: str) -> dict[Position, str]:
    """The error cells of one sheet of an .xlsx/.xlsm/.xlsb/.xls workbook, by position; empty for other formats."""
    with path.open("rb") as handle:
        legacy = handle.read(len(OLE2_MAGIC)) == OLE2_MAGIC
    if legacy:
        try:
            status = path.stat()
            return _legacy_errors(_legacy_stream(path, status.st_size, status.st_mtime_ns), sheet)
        except (struct.error, IndexError, ValueError, KeyError):
            return {}  # a damaged container calamine read anyway: nothing to add
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
            if "xl/workbook.bin" in names:
                part = _sheet_part(archive, sheet, "xl/workbook.bin")
                return _binary_errors(archive.read(part)) if part in names else {}
            part = _sheet_part(archive, sheet, "xl/workbook.xml")
            if part is None or not _has_error_cells(archive, part):
                return {}
            xml = archive.read(part).decode("utf-8", errors="replace")
    except (zipfile.BadZipFile, KeyError, OSError, ElementTree.ParseError, struct.error, UnicodeDecodeError):
        return {}  # not such a workbook, or parts the readers would have refused already
    return _errors_in(xml)


def put_back(rows: list[list[str | None]], errors: dict[Position, str]) -> None:
    """Write each error's text into the rows calamine read (from A1), where it read a blank."""
    for (row, column), text in errors.items():
        while len(rows) <= row:
            rows.append([])
        cells = rows[row]
        cells.extend([None] * (column + 1 - len(cells)))
        if cells[column] is None:
            cells[column] = text


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _sheet_part(archive: zipfile.ZipFile, sheet: str, workbook_part: str) -> str | None:
    """The zip member holding `sheet`: the workbook part names the sheet's relationship id, the
    workbook's relationships name its part."""
    names = archive.namelist()
    if workbook_part not in names:
        return None
    relation = (_binary_relation(archive.read(workbook_part), sheet) if workbook_part.endswith(".bin")
                else _xml_relation(archive.read(workbook_part), sheet))
    rels_part = f"xl/_rels/{workbook_part.rsplit('/', 1)[-1]}.rels"
    if relation is None or rels_part not in names:
        return None
    relations = ElementTree.fromstring(archive.read(rels_part))
    target = next((element.get("Target") for element in relations.iter()
                   if _local(element.tag) == "Relationship" and element.get("Id") == relation), None)
    if not target:
        return None
    return target.lstrip("/") if target.startswith("/") else posixpath.normpath(posixpath.join("xl", target))


def _xml_relation(workbook: bytes, sheet: str) -> str | None:
    root = ElementTree.fromstring(workbook)
    return next((value for element in root.iter() if _local(element.tag) == "sheet" and element.get("name") == sheet
                 for key, value in element.attrib.items() if _local(key) == "id"), None)


def _records(data: bytes) -> Iterator[tuple[int, int, int]]:
    """BIFF12 records (MS-XLSB 2.1.4): (type, start of data, size); type and size are 7-bit
    variable-length numbers."""
    at, end = 0, len(data)
    while at < end:
        kind = data[at]
        at += 1
        if kind & 0x80:
            kind = (kind & 0x7F) | ((data[at] & 0x7F) << 7)
            at += 1
        size = shift = 0
        for _ in range(4):
            byte = data[at]
            at += 1
            size |= (byte & 0x7F) << shift
            shift += 7
            if not byte & 0x80:
                break
        yield kind, at, size
        at += size


def _wide_string(data: bytes, at: int) -> tuple[str, int]:
    length = struct.unpack_from("<I", data, at)[0]
    return data[at + 4 : at + 4 + 2 * length].decode("utf-16-le"), at + 4 + 2 * length


def _binary_relation(workbook: bytes, sheet: str) -> str | None:
    """The relationship id of `sheet` from its BrtBundleSh record (state, tab id, relation id, name)."""
    for kind, at, _ in _records(workbook):
        if kind == _BUNDLE_SHEET:
            relation, after = _wide_string(workbook, at + 8)
            if _wide_string(workbook, after)[0] == sheet:
                return relation
        elif kind == _END_BUNDLE_SHEETS:
            break
    return None


def _binary_errors(data: bytes) -> dict[Position, str]:
    """Error cells of a binary sheet: BrtCellError and BrtFmlaError records (column, style, then
    the error code), each in the row of the BrtRowHdr before it."""
    errors: dict[Position, str] = {}
    row = 0
    for kind, at, _ in _records(data):
        if kind == _ROW_HEADER:
            row = struct.unpack_from("<I", data, at)[0]
        elif kind in _ERROR_RECORDS:
            column = struct.unpack_from("<I", data, at)[0]
            errors[(row, column)] = _BINARY_ERROR_CODES.get(data[at + 8], "#N/A")
        elif kind == _END_SHEET_DATA:
            break
    return errors


def _has_error_cells(archive: zipfile.ZipFile, part: str) -> bool:
    tail = b""
    with archive.open(part) as handle:
        while chunk := handle.read(_CHUNK):
            window = tail + chunk
            if any(mark in window for mark in _ERROR_MARKS):
                return True
            tail = chunk[-8:]
    return False


def _column_index(letters: str) -> int:
    number = 0
    for letter in letters:
        number = number * 26 + ord(letter) - ord("A") + 1
    return number - 1


def _errors_in(xml: str) -> dict[Position, str]:
    errors: dict[Position, str] = {}
    for attributes, body in _ERROR_CELL.findall(xml):
        reference = dict(_ATTRIBUTE.findall(attributes)).get("r", "")
        value = _VALUE.search(body)
        match = _CELL_REF.match(reference)
        if match is None:
            return _errors_by_order(xml)  # a writer that leaves out cell references: count cells instead
        errors[(int(match.group(2)) - 1, _column_index(match.group(1)))] = value.group(1) if value else "#N/A"
    return errors


def _errors_by_order(xml: str) -> dict[Position, str]:
    """Error cells placed by counting rows and cells where references are missing."""
    errors: dict[Position, str] = {}
    row, column = -1, -1
    for match in _ANY_CELL_OR_ROW.finditer(xml):
        kind, attributes = match.group(1), dict(_ATTRIBUTE.findall(match.group(2)))
        if kind == "row":
            row = int(attributes["r"]) - 1 if attributes.get("r", "").isdigit() else row + 1
            column = -1
            continue
        reference = _CELL_REF.match(attributes.get("r", ""))
        column = _column_index(reference.group(1)) if reference else column + 1
        if attributes.get("t") == "e" and not match.group(3):
            body = _CELL_BODY.match(xml, match.end())
            value = _VALUE.search(body.group(1)) if body else None
            errors[(row, column)] = value.group(1) if value else "#N/A"
    return errors


# ---------------------------------------------------------------- legacy .xls (BIFF8 in an OLE2 compound file)

_END_OF_CHAIN = 0xFFFFFFFE
_BOUND_SHEET, _BIFF_EOF, _BOOL_ERR, _FORMULA = 0x0085, 0x000A, 0x0205, 0x0006
_BIFF_ERROR_CODES = {0x00: "#NULL!", 0x07: "#DIV/0!", 0x0F: "#VALUE!", 0x17: "#REF!", 0x1D: "#NAME?", 0x24: "#NUM!",
                     0x2A: "#N/A"}


@lru_cache(maxsize=1)
def _legacy_stream(path: Path, size: int, modified: int) -> bytes:
    """The workbook stream of an .xls, kept while its sheets are read one after another."""
    return _ole2_stream(path.read_bytes(), ("Workbook", "Book"))


def _ole2_stream(data: bytes, names: tuple[str, ...]) -> bytes:
    """One stream of an OLE2 compound file (MS-CFB): the sector allocation table from the header's
    DIFAT (and DIFAT sectors), the directory, then the stream's chain (in the mini stream if small)."""
    sector = 1 << struct.unpack_from("<H", data, 30)[0]
    mini_sector = 1 << struct.unpack_from("<H", data, 32)[0]
    fat_count, first_directory = struct.unpack_from("<II", data, 44)
    mini_cutoff, first_mini_fat, _, first_difat, _ = struct.unpack_from("<5I", data, 56)
    fat_sectors = [n for n in struct.unpack_from("<109I", data, 76) if n < _END_OF_CHAIN]
    difat, per_sector = first_difat, sector // 4 - 1
    while difat < _END_OF_CHAIN and len(fat_sectors) < fat_count:
        difat_entries = struct.unpack_from(f"<{per_sector + 1}I", data, (difat + 1) * sector)
        fat_sectors += [n for n in difat_entries[:per_sector] if n < _END_OF_CHAIN]
        difat = difat_entries[per_sector]
    fat = [n for s in fat_sectors[:fat_count] for n in struct.unpack_from(f"<{sector // 4}I", data, (s + 1) * sector)]

    def chain(start: int, table: list[int], read: Callable[[int], bytes]) -> bytes:
        parts, seen = [], set()
        while start < _END_OF_CHAIN and start not in seen and start < len(table):
            seen.add(start)
            parts.append(read(start))
            start = table[start]
        return b"".join(parts)

    def big(n: int) -> bytes:
        return data[(n + 1) * sector : (n + 2) * sector]

    directory = chain(first_directory, fat, big)
    entries = [directory[i : i + 128] for i in range(0, len(directory) - 127, 128)]
    root_start, root_size = struct.unpack_from("<IQ", entries[0], 116)
    for entry in entries:
        length = struct.unpack_from("<H", entry, 64)[0]
        name = entry[: max(length - 2, 0)].decode("utf-16-le", errors="replace")
        if name in names and entry[66] == 2:  # a stream
            start, size = struct.unpack_from("<IQ", entry, 116)
            if size >= mini_cutoff:
                return chain(start, fat, big)[:size]
            mini_stream = chain(root_start, fat, big)[:root_size]
            mini_fat_bytes = chain(first_mini_fat, fat, big)
            mini_fat = list(struct.unpack_from(f"<{len(mini_fat_bytes) // 4}I", mini_fat_bytes))
            return chain(start, mini_fat, partial(_piece, mini_stream, mini_sector))[:size]
    raise KeyError("no workbook stream")


def _piece(data: bytes, size: int, number: int) -> bytes:
    return data[number * size : (number + 1) * size]


def _biff_records(stream: bytes, at: int = 0) -> Iterator[tuple[int, int, int]]:
    while at + 4 <= len(stream):
        kind, size = struct.unpack_from("<HH", stream, at)
        yield kind, at + 4, size
        at += 4 + size


def _legacy_errors(stream: bytes, sheet: str) -> dict[Position, str]:
    """Error cells of one sheet of a BIFF8 workbook stream: BoolErr records flagged as errors, and
    formulas whose cached result is an error. BoundSheet8 records give each sheet's offset."""
    offset = None
    for kind, at, _size in _biff_records(stream):
        if kind == _BOUND_SHEET:
            length, wide = stream[at + 6], stream[at + 7] & 1
            raw = stream[at + 8 : at + 8 + length * (2 if wide else 1)]
            if raw.decode("utf-16-le" if wide else "latin-1") == sheet:
                offset = struct.unpack_from("<I", stream, at)[0]
        elif kind == _BIFF_EOF:
            break
    if offset is None:
        return {}
    errors: dict[Position, str] = {}
    for kind, at, size in _biff_records(stream, offset):
        if kind == _BOOL_ERR and size >= 8 and stream[at + 7] == 1:
            row, column = struct.unpack_from("<HH", stream, at)
            errors[(row, column)] = _BIFF_ERROR_CODES.get(stream[at + 6], "#N/A")
        elif kind == _FORMULA and size >= 14 and stream[at + 6] == 2 and stream[at + 12 : at + 14] == b"\xff\xff":
            row, column = struct.unpack_from("<HH", stream, at)
            errors[(row, column)] = _BIFF_ERROR_CODES.get(stream[at + 8], "#N/A")
        elif kind == _BIFF_EOF:
            break
    return errors
