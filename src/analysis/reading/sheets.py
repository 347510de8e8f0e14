"""Open the files of a raw release: every sheet of every workbook, every delimited text file.

Each readable sheet becomes a `RawSheet`: its layout (banners, header) and a function that
returns its records as an Arrow table of strings, one column per header cell. Nothing here
interprets values; `cleaning` does.

Raw files are hostile until proven otherwise: `safety` checks a workbook's container
(encryption, zip bombs, XML entity declarations) before any parser sees it, and every
sheet read here is checked for oversized cells and repeated header rows. See docs/bad-input.md.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from analysis.errors import InputFileError
from analysis.reading.files import check_inside, list_data_files
from analysis.reading.records import NoteSheet, RawSheet, Restart, SkippedSheet  # noqa: F401 - the types callers meet
from analysis.reading.safety import (
    OLE2_MAGIC,
    ZIP_MAGIC,
    check_ole2_workbook,
    check_zip_workbook,
    foreign_format,
)
from analysis.reading.text import UTF16_BOMS, head_bytes, text_sheet
from analysis.reading.workbook import workbook_sheets

__all__ = ["NoteSheet", "RawSheet", "Restart", "SkippedSheet", "list_data_files", "open_sheets"]


def _release_folder(path: Path, name: str) -> Path:
    """The release folder `path` was listed from: `name` is the path relative to it."""
    return path.parents[len(Path(name).parts) - 1]


def open_sheets(path: Path, name: str) -> Iterator[RawSheet | SkippedSheet | NoteSheet]:
    check_inside(path, _release_folder(path, name), name)
    head = head_bytes(path, name)
    if head.startswith(ZIP_MAGIC):
        check_zip_workbook(path, name)
        yield from workbook_sheets(path, name)
    elif head.startswith(OLE2_MAGIC):
        check_ole2_workbook(path, name)
        yield from workbook_sheets(path, name)
    elif head.startswith(UTF16_BOMS):
        yield text_sheet(path, name, head)
    elif other := foreign_format(head):
        raise InputFileError(f"is {other}, neither a spreadsheet nor delimited text", file=name)
    elif b"\x00" in head[:4096]:
        raise InputFileError("neither a spreadsheet nor delimited text (binary content)", file=name)
    else:
        yield text_sheet(path, name, head)
