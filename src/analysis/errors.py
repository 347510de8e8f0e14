"""Errors the user sees as one line: what went wrong and where (file, sheet, row, column)."""

from __future__ import annotations

from pathlib import Path


class AnalysisError(Exception):
    """An error caused by input or configuration, reported to the user without a traceback."""

    def __init__(
        self,
        message: str,
        *,
        file: str | Path | None = None,
        sheet: str | None = None,
        row: int | None = None,
        column: str | None = None,
    ) -> None:
        self.message = message
        self.file = str(file) if file is not None else None
        self.sheet = sheet
        self.row = row
        self.column = column
        super().__init__(self.one_line())

    def where(self) -> str:
        parts = []
        if self.file:
            parts.append(self.file)
        if self.sheet:
            parts.append(f"sheet {self.sheet!r}")
        if self.row is not None:
            parts.append(f"row {self.row}")
        if self.column:
            parts.append(f"column {self.column!r}")
        return ", ".join(parts)

    def one_line(self) -> str:
        where = self.where()
        text = f"{where}: {self.message}" if where else self.message
        return " ".join(text.split())


class ReleaseError(AnalysisError):
    """The release itself is missing, empty, or named badly."""


class InputFileError(AnalysisError):
    """A raw file cannot be read as a release table."""


class ReportError(AnalysisError):
    """A notebook or the rendering of the report failed."""
