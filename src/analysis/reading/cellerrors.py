"""Excel error cells (`#N/A`, `#REF!`, ...) that python-calamine reads as blanks.

calamine turns an error cell into an empty one, so a column of `#N/A` would look complete but
empty, with no count. For .xlsx/.xlsm workbooks this module finds the error cells in the
sheet's XML (`<c r="B5" t="e"><v>#N/A</v></c>`), and the reader puts their text back, so
cleaning counts them per column like redactions (`cleaning.excel_errors`). A sheet without
error cells costs one pass over its compressed XML looking for `t="e"`.

Not covered: legacy .xls and binary .xlsb workbooks, whose error cells calamine also reads as
blanks and which no fallback reader here can open (see docs/bad-input.md). openpyxl and .ods
workbooks give an error cell's text as it is.
"""

from __future__ import annotations

import posixpath
import re
import zipfile
from pathlib import Path
from xml.etree import ElementTree

Position = tuple[int, int]  # 0-based row and column, from A1

_ERROR_MARKS = (b't="e"', b"t='e'")
_CHUNK = 4 << 20
_CELL_REF = re.compile(r"^([A-Z]{1,3})(\d+)$")
_ERROR_CELL = re.compile(r"<(?:\w+:)?c\b([^>]*\bt=[\"']e[\"'][^>]*)>(.*?)</(?:\w+:)?c>", re.S)
_ANY_CELL_OR_ROW = re.compile(r"<(?:\w+:)?(row|c)\b([^>]*?)(/?)>", re.S)
_ATTRIBUTE = re.compile(r"([\w:]+)=[\"']([^\"']*)[\"']")
_CELL_BODY = re.compile(r"(.*?)</(?:\w+:)?c>", re.S)
_VALUE = re.compile(r"<(?:\w+:)?v>([^<]*)</(?:\w+:)?v>")


def error_cells(path: Path, sheet: str) -> dict[Position, str]:
    """The error cells of one sheet of an .xlsx/.xlsm workbook, by position; empty for other formats."""
    try:
        with zipfile.ZipFile(path) as archive:
            part = _sheet_part(archive, sheet)
            if part is None or not _has_error_cells(archive, part):
                return {}
            xml = archive.read(part).decode("utf-8", errors="replace")
    except (zipfile.BadZipFile, KeyError, OSError, ElementTree.ParseError):
        return {}  # not an .xlsx, or parts the readers would have refused already
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


def _sheet_part(archive: zipfile.ZipFile, sheet: str) -> str | None:
    """The zip member holding `sheet`: workbook.xml names the sheet's relationship id, the
    workbook's relationships name its part."""
    if "xl/workbook.xml" not in archive.namelist():
        return None
    workbook = ElementTree.fromstring(archive.read("xl/workbook.xml"))
    relation = next((value for element in workbook.iter() if _local(element.tag) == "sheet"
                     and element.get("name") == sheet
                     for key, value in element.attrib.items() if _local(key) == "id"), None)
    if relation is None or "xl/_rels/workbook.xml.rels" not in archive.namelist():
        return None
    relations = ElementTree.fromstring(archive.read("xl/_rels/workbook.xml.rels"))
    target = next((element.get("Target") for element in relations.iter()
                   if _local(element.tag) == "Relationship" and element.get("Id") == relation), None)
    if not target:
        return None
    return target.lstrip("/") if target.startswith("/") else posixpath.normpath(posixpath.join("xl", target))


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
