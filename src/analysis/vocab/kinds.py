"""The kinds of table a release holds, and how each one's fiscal year is found.

A sheet's kind comes from its title banner, else its file name, else its sheet name,
else its columns. A kind needs only its event date (any of the names ICE dates it by) and
what identified it: a sheet without one is kept as its own table, named after its sheet or
file, and reported. Anything unrecognised is kept as its own table too.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from analysis.vocab.columns import normalize_header


@dataclass(frozen=True)
class TableKind:
    name: str
    pattern: re.Pattern[str]
    # the event dates that place a record in a fiscal year, in order of preference: a sheet is
    # dated by the first it has (removals without a removal date are dated by their departure)
    date_columns: tuple[str, ...]
    signature: tuple[str, ...]  # columns that identify the kind when names say nothing

    @property
    def date_column(self) -> str:
        """The kind's own event date, as ICE usually names it."""
        return self.date_columns[0]

    def dated_by(self, columns: Iterable[str]) -> str | None:
        """The column that dates a sheet or table of this kind with these columns, or None."""
        present = set(columns)
        return next((column for column in self.date_columns if column in present), None)


KINDS: tuple[TableKind, ...] = (
    TableKind("book_ins", re.compile(r"book[\s_-]?ins?\b"), ("book_in_date",), ("book_in_date",)),
    TableKind("detainers", re.compile(r"detainer"), ("detainer_prepare_date",), ("detainer_prepare_date",)),
    TableKind("encounters", re.compile(r"encounter"), ("event_date",), ("event_date", "landmark")),
    TableKind("removals", re.compile(r"removal"), ("removal_date", "departed_date"), ("removal_date",)),
    # `Arrest Date` is a spelling of apprehension_date (vocab.columns.ALIASES)
    TableKind("arrests", re.compile(r"arrest|apprehension"), ("apprehension_date",),
              ("apprehension_method", "apprehension_date")),
)
KIND_BY_NAME = {kind.name: kind for kind in KINDS}
KNOWN_TABLES = tuple(kind.name for kind in KINDS)

NON_RECORD_SHEET = re.compile(
    r"summary|footnote|^notes?$|read\s*me|contents|definitions|methodology|cover|about|totals?$", re.IGNORECASE
)
SUMMARY_SHEET = re.compile(r"summary|totals?$", re.IGNORECASE)  # ICE's own totals
FOOTNOTES_SHEET = re.compile(r"footnote|^notes?$", re.IGNORECASE)  # ICE's own caveats


def note_sheet_role(sheet: str) -> str | None:
    """`summary` or `footnotes` for a sheet of ICE's own totals or notes, else None."""
    if FOOTNOTES_SHEET.search(sheet.strip()):
        return "footnotes"
    if SUMMARY_SHEET.search(sheet.strip()):
        return "summary"
    return None


def kind_from_text(text: str) -> str | None:
    """The one kind a title or file name names, or None if it names none or several."""
    folded = normalize_header(text)
    found = [kind.name for kind in KINDS if kind.pattern.search(folded)]
    return found[0] if len(found) == 1 else None


def kind_from_columns(columns: list[str]) -> str | None:
    present = set(columns)
    for kind in KINDS:
        if all(col in present for col in kind.signature):
            return kind.name
    return None


def detect_kind(title: str, file_stem: str, sheet: str | None, columns: list[str]) -> str | None:
    for text in (title, file_stem, sheet or ""):
        if text and (kind := kind_from_text(text)):
            return kind
    return kind_from_columns(columns)


_GENERIC_SHEET = re.compile(r"(?i)^(?:sheet|data|export|table|worksheet|report|records|page)?\s*\d*$")


def other_table_name(file_stem: str, sheet: str | None) -> str:
    """Name for a table of no known kind, in snake_case without fiscal years: its sheet's name (one
    workbook's sheets of different kinds stay apart), or its file's where the sheet's name says
    nothing (`Sheet1`, `FY2019`). Never a known kind's name: a `Removals` sheet that is not a
    removals table becomes `removals_unmatched`."""
    def folded(text: str) -> str:
        return normalize_header(re.sub(r"(?i)fy\s*\d{2,4}", " ", text)).replace(" ", "_").strip("_")

    name = folded(sheet or "")
    if not name or _GENERIC_SHEET.match(name.replace("_", " ")):
        name = folded(file_stem) or name or "table"
    return f"{name}_unmatched" if name in KIND_BY_NAME else name


_FY = re.compile(r"(?i)\bFY\s*'?(\d{4}|\d{2})\b")
_RANGE_WORDS = re.compile(r"(?i)\bFY\s*'?\d{2,4}\s*(?:-|–|to|through|thru)\s*(?:FY)?\s*'?\d{2,4}")


def _full_year(text: str) -> int:
    year = int(text)
    return 2000 + year if year < 100 else year


def single_fiscal_year(*texts: str | None) -> int | None:
    """The fiscal year a title, sheet or file name covers, if it names exactly one.

    `ERO Administrative Arrests for FY2016` -> 2016; `FY2012-FY2019` -> None (a range:
    each record's year then comes from its event date)."""
    for text in texts:
        if not text:
            continue
        if _RANGE_WORDS.search(text):
            return None
        years = {_full_year(m) for m in _FY.findall(text)}
        if len(years) == 1:
            return years.pop()
        if len(years) > 1:
            return None
    return None
