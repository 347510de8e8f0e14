"""Workbooks (.xlsx, .xls): python-calamine, openpyxl where calamine cannot."""

from __future__ import annotations

import datetime as dt
import os
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pyarrow as pa

from analysis.errors import InputFileError
from analysis.reading.cellerrors import error_cells, put_back
from analysis.reading.layout import SCAN_ROWS, find_layout
from analysis.reading.records import RawSheet, Restart, SkippedSheet, checked_batch
from analysis.reading.safety import PASSWORD_MESSAGE
from analysis.vocab.kinds import NON_RECORD_SHEET


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
                    raw = data.to_python(skip_empty_area=False, nrows=limit)  # from A1, as the whole sheet is read
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


def workbook_sheets(path: Path, name: str) -> Iterator[RawSheet | SkippedSheet]:
    book = _Workbook(path, name)
    hidden = hidden_sheet_names(book)
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
        raw_sheet.hidden = sheet in hidden
        yield raw_sheet


def _sheet_reader(book: _Workbook, raw_sheet: RawSheet) -> Callable[[], Iterator[tuple[pa.Table, list[int]] | Restart]]:
    """A workbook sheet is read whole (calamine reads sheets whole): one batch."""
    sheet, layout = raw_sheet.sheet, raw_sheet.layout
    assert sheet is not None

    def read() -> Iterator[tuple[pa.Table, list[int]] | Restart]:
        rows = with_error_values(book, sheet, book.rows(sheet))[layout.header_index + 1 :]
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
        yield checked_batch(raw_sheet, pa.table(columns), list(range(first, first + len(rows))))

    return read


def hidden_sheet_names(book: _Workbook) -> set[str]:
    """The sheets Excel does not show (hidden or 'very hidden'). They are read like the others:
    hiding is presentation, and a hidden sheet may hold the only copy of its records; one that
    repeats another sheet is counted once (`duplicates`)."""
    if book._calamine is not None:
        from python_calamine import SheetVisibleEnum

        return {meta.name for meta in book._calamine.sheets_metadata if meta.visible != SheetVisibleEnum.Visible}
    return {name for name in book.sheet_names if book._openpyxl[name].sheet_state != "visible"}


def with_error_values(book: _Workbook, sheet: str, rows: list[list[str | None]]) -> list[list[str | None]]:
    """The rows with the text of their Excel error cells put back where calamine read blanks
    (`cellerrors`); openpyxl gives that text itself."""
    if book._calamine is not None:
        put_back(rows, error_cells(book.path, sheet))
    return rows
