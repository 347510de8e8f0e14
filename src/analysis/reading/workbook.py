"""Workbooks (.xlsx, .xls): every sheet read with python-calamine, or with openpyxl where calamine
cannot read that sheet (an error or a panic); only a sheet neither can read is an error."""

from __future__ import annotations

import datetime as dt
import os
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from analysis.errors import InputFileError
from analysis.reading.cellerrors import error_cells, put_back
from analysis.reading.layout import SCAN_ROWS, find_layout
from analysis.reading.records import NoteSheet, RawSheet, Restart, RowNumbers, SkippedSheet, checked_batch
from analysis.reading.safety import PASSWORD_MESSAGE
from analysis.vocab.kinds import NON_RECORD_SHEET, note_sheet_role


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
    """One workbook, each sheet read with python-calamine, or with openpyxl where calamine cannot
    read that sheet (or open the file at all). `readers` says which reader read each sheet.

    Both read the value Excel cached for a formula cell; no formula is ever evaluated."""

    def __init__(self, path: Path, name: str) -> None:
        self.path, self.name = path, name
        self.readers: dict[str, str] = {}
        self._calamine: Any = None
        self._openpyxl: Any = None
        self._calamine_errors: dict[str, BaseException] = {}
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
            self.sheet_names = list(self._open_openpyxl(calamine_error, sheet=None).sheetnames)

    def _open_openpyxl(self, calamine_error: BaseException, sheet: str | None) -> Any:
        """The workbook opened by openpyxl (once), for the sheets calamine cannot read."""
        if self._openpyxl is not None:
            return self._openpyxl
        import openpyxl

        what = f"cannot read sheet ({_first_line(calamine_error)})" if sheet else (
            f"corrupt or unreadable workbook ({_first_line(calamine_error)})")
        if not openpyxl.DEFUSEDXML:  # without defusedxml, openpyxl's XML parser would expand entities
            raise InputFileError(
                f"{what}; the fallback reader is disabled because the defusedxml package is not installed",
                file=self.name, sheet=sheet,
            )
        try:
            self._openpyxl = openpyxl.load_workbook(self.path, read_only=True, data_only=True)
        except Exception as exc:  # noqa: BLE001
            if sheet is None:
                raise InputFileError(_workbook_failure(calamine_error, exc), file=self.name) from None
            raise InputFileError(_sheet_failure(calamine_error, exc), file=self.name, sheet=sheet) from None
        return self._openpyxl

    def rows(self, sheet: str) -> list[list[str | None]]:
        """Every row of `sheet` from A1 (blank rows and leading blank columns included), as text."""
        if self._calamine is not None and sheet not in self._calamine_errors:
            try:
                with native_stderr_silenced():
                    raw = self._calamine.get_sheet_by_name(sheet).to_python(skip_empty_area=False)
                    out = [[_cell_text(v) for v in row] for row in raw]
                self.readers[sheet] = "calamine"
                return out
            except BaseException as exc:  # noqa: BLE001 - a calamine error or panic on this sheet: try openpyxl
                _reraise_interrupts(exc)
                self._calamine_errors[sheet] = exc
        calamine_error = self._calamine_errors.get(sheet)
        if calamine_error is not None:
            self._open_openpyxl(calamine_error, sheet)
        try:
            out = self._openpyxl_rows(sheet)
        except BaseException as exc:  # noqa: BLE001
            _reraise_interrupts(exc)
            raise InputFileError(_sheet_failure(calamine_error, exc), file=self.name, sheet=sheet) from None
        self.readers[sheet] = "openpyxl"
        return out

    def _openpyxl_rows(self, sheet: str) -> list[list[str | None]]:
        worksheet = self._openpyxl[sheet]
        # the <dimension> a sheet declares is what calamine may have failed on; openpyxl's read-only
        # mode would cut every row to it, so rows are read as the sheet's XML holds them
        worksheet.reset_dimensions()
        return [[_cell_text(v) for v in row] for row in worksheet.iter_rows(values_only=True)]


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


def _sheet_failure(calamine_error: BaseException | None, openpyxl_error: BaseException) -> str:
    """Neither reader could read a sheet: what each said."""
    errors = [e for e in (calamine_error, openpyxl_error) if e is not None]
    reason = "XML that is not plain spreadsheet XML" if any("entity" in str(e).lower() for e in errors) else (
        "cannot read sheet")
    said = f"calamine: {_first_line(calamine_error)}; openpyxl: {_first_line(openpyxl_error)}" if calamine_error else (
        _first_line(openpyxl_error))
    return f"{reason} ({said})"


def workbook_sheets(path: Path, name: str) -> Iterator[RawSheet | SkippedSheet | NoteSheet]:
    book = _Workbook(path, name)
    hidden = hidden_sheet_names(book)
    for sheet in book.sheet_names:
        rows = book.rows(sheet)
        head = rows[: SCAN_ROWS + 10]
        if not any(cell for row in rows for cell in row):
            yield SkippedSheet(name, sheet, "empty sheet")
            continue
        if role := note_sheet_role(sheet):
            yield NoteSheet(name, sheet, role, rows, book.readers[sheet])
            continue
        if NON_RECORD_SHEET.search(sheet):
            yield SkippedSheet(name, sheet, "summary or notes sheet, not records")
            continue
        layout = find_layout(head, file=name, sheet=sheet)
        raw_sheet = RawSheet(path, name, sheet, layout, lambda: iter(()), reader=book.readers[sheet])
        raw_sheet.batches = _sheet_reader(book, raw_sheet, [rows])
        raw_sheet.hidden = sheet in hidden
        del rows, head  # the reader holds the rows until it has read them, then lets them go
        yield raw_sheet


def _sheet_reader(book: _Workbook, raw_sheet: RawSheet, held: list[list[list[str | None]]]
                  ) -> Callable[[], Iterator[tuple[pa.Table, RowNumbers] | Restart]]:
    """A workbook sheet is read whole (calamine reads sheets whole): one batch. `held` holds the
    rows already read; a second read reads the sheet again."""
    sheet, layout = raw_sheet.sheet, raw_sheet.layout
    assert sheet is not None

    def read() -> Iterator[tuple[pa.Table, RowNumbers] | Restart]:
        rows = with_error_values(book, sheet, held.pop() if held else book.rows(sheet))[layout.header_index + 1 :]
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
        yield checked_batch(raw_sheet, pa.table(columns), np.arange(first, first + len(rows), dtype=np.int64))

    return read


def hidden_sheet_names(book: _Workbook) -> set[str]:
    """The sheets Excel does not show (hidden or 'very hidden'). They are read like the others:
    hiding is presentation, and a hidden sheet may hold the only copy of its records; one that
    repeats another sheet is counted once (`duplicates`)."""
    if book._calamine is not None:
        from python_calamine import SheetVisibleEnum

        try:
            return {meta.name for meta in book._calamine.sheets_metadata if meta.visible != SheetVisibleEnum.Visible}
        except BaseException as exc:  # noqa: BLE001 - calamine cannot say: ask openpyxl
            _reraise_interrupts(exc)
            opened = book._open_openpyxl(exc, sheet=None)
    else:
        opened = book._openpyxl
    return {name for name in book.sheet_names if opened[name].sheet_state != "visible"}


def with_error_values(book: _Workbook, sheet: str, rows: list[list[str | None]]) -> list[list[str | None]]:
    """The rows with the text of their Excel error cells put back where calamine read blanks
    (`cellerrors`); openpyxl gives that text itself."""
    if book.readers.get(sheet) == "calamine":
        put_back(rows, error_cells(book.path, sheet))
    return rows
