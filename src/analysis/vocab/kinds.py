"""The kinds of table a release holds, and how each one's fiscal year is found.

A sheet's kind comes from its title banner, else its file name, else its sheet name,
else its columns. Anything unrecognised is kept as its own table, named after its file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from analysis.vocab.columns import normalize_header


@dataclass(frozen=True)
class TableKind:
    name: str
    pattern: re.Pattern[str]
    date_column: str  # the event date that places a record in a fiscal year
    required: tuple[str, ...]  # columns a sheet of this kind cannot do without
    signature: tuple[str, ...]  # columns that identify the kind when names say nothing


def _dated(name: str, pattern: str, date_column: str, signature: tuple[str, ...] = ()) -> TableKind:
    """A kind whose records need their event date; identified by `signature` columns (the date alone by default)."""
    return TableKind(name, re.compile(pattern), date_column, (date_column,), signature or (date_column,))


KINDS: tuple[TableKind, ...] = (
    _dated("book_ins", r"book[\s_-]?ins?\b", "book_in_date"),
    _dated("detainers", r"detainer", "detainer_prepare_date"),
    _dated("encounters", r"encounter", "event_date", ("event_date", "landmark")),
    _dated("removals", r"removal", "removal_date"),
    _dated("arrests", r"arrest|apprehension", "apprehension_date", ("apprehension_method", "apprehension_date")),
)
KIND_BY_NAME = {kind.name: kind for kind in KINDS}
KNOWN_TABLES = tuple(kind.name for kind in KINDS)

NON_RECORD_SHEET = re.compile(
    r"summary|footnote|^notes?$|read\s*me|contents|definitions|methodology|cover|about|totals?$", re.IGNORECASE
)


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


def other_table_name(file_stem: str, sheet: str | None) -> str:
    """Name for a table of an unknown kind: its file name without fiscal years, in snake_case."""
    base = re.sub(r"(?i)fy\s*\d{2,4}", " ", file_stem)
    name = normalize_header(base).replace(" ", "_").strip("_")
    return name or normalize_header(sheet or "table").replace(" ", "_") or "table"


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
