"""Find where a sheet's records start: banner rows, the header row, and what the banners say."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from analysis.errors import InputFileError
from analysis.vocab.columns import canonical_columns, canonical_name, is_known_header

SCAN_ROWS = 40  # the header has been seen at rows 6 and 7; leave generous room
FOIA_NUMBER = re.compile(r"\b(\d{4}-IC[A-Z]{2}-\d{4,6})\b")
AS_OF = re.compile(r"(?i)\bas of\s+(\d{1,2}/\d{1,2}/\d{2,4}|\d{4}-\d{2}-\d{2}|[A-Z][a-z]+\.? \d{1,2},? \d{4})")
_NUMBER_OR_DATE = re.compile(r"^[\d\s.,/:$%-]+$")


@dataclass
class Layout:
    header_index: int  # 0-based position of the header row among the rows read
    header: list[str]
    banners: list[str] = field(default_factory=list)

    @property
    def header_row(self) -> int:
        """1-based row number of the header, as a spreadsheet shows it."""
        return self.header_index + 1

    def _first(self, pattern: re.Pattern[str]) -> str | None:
        """The first group of the first banner `pattern` finds, or None."""
        for text in self.banners:
            if match := pattern.search(text):
                return match.group(1)
        return None

    @property
    def foia_number(self) -> str | None:
        return self._first(FOIA_NUMBER)

    @property
    def title(self) -> str:
        """The banner naming the table and period (the last banner in every release seen)."""
        for text in reversed(self.banners):
            if re.search(r"(?i)\bFY\s*\d{2}|detainer|encounter|arrest|removal|book", text) and not FOIA_NUMBER.fullmatch(
                text.strip()
            ):
                return text
        return self.banners[-1] if self.banners else ""

    @property
    def as_of(self) -> str | None:
        return self._first(AS_OF)

    @property
    def is_synthetic(self) -> bool:
        return any("SYNTHETIC" in text.upper() for text in self.banners)


def _cells(row: list[str | None]) -> list[str]:
    return [str(cell).strip() for cell in row if cell is not None and str(cell).strip()]


def _looks_like_header(cells: list[str]) -> bool:
    return len(cells) >= 2 and len(set(cells)) == len(cells) and not any(_NUMBER_OR_DATE.match(c) for c in cells)


def find_header(rows: list[list[str | None]]) -> int | None:
    """Index of the header row among the first rows, or None.

    Preferred: the first row with at least two cells that are known column names.
    Otherwise: the first all-text row of at least two distinct cells that is as wide as
    the rows below it (banners are one cell wide)."""
    scan = rows[:SCAN_ROWS]
    for index, row in enumerate(scan):
        cells = _cells(row)
        if sum(is_known_header(c) for c in cells) >= 2:
            return index
    for index, row in enumerate(scan[:-1]):
        cells = _cells(row)
        if not _looks_like_header(cells):
            continue
        below = [len(_cells(r)) for r in scan[index + 1 : index + 6]]
        if below and max(below) >= 2 and len(cells) >= 0.8 * max(below):
            return index
    return None


def find_layout(rows: list[list[str | None]], *, file: str, sheet: str | None = None) -> Layout:
    index = find_header(rows)
    if index is None:
        raise InputFileError(
            f"no recognisable header row in the first {min(len(rows), SCAN_ROWS)} rows "
            "(expected a row of column names such as 'Detainer Prepare Date' or 'Apprehension Date')",
            file=file,
            sheet=sheet,
        )
    header = ["" if cell is None else str(cell).strip() for cell in rows[index]]
    while header and not header[-1]:
        header.pop()
    banners = [" ".join(_cells(row)) for row in rows[:index] if _cells(row)]
    return Layout(index, header, banners)


def header_notes(header: list[str]) -> list[str]:
    """What the reader had to change in a header row: names that repeat an earlier column
    (after folding spellings and aliases) are kept under a numbered name, and said so."""
    notes = []
    for raw, name in zip(header, canonical_columns(header), strict=True):
        if raw.strip() and name != canonical_name(raw):
            notes.append(f"header {raw!r} names the same column as an earlier header; kept as {name!r}")
    return notes
