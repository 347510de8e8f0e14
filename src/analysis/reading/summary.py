"""ICE's own Summary sheets: blocks of totals by fiscal year, kept in the manifest as the
release's own totals and compared with the records. The records are never adjusted to match.

A block is a title row (one cell naming the table and period), a header row whose first cell
is `Fiscal Year` followed by one or more count columns (`Total`, or one per kind or sheet),
then one row per fiscal year (`FY2019`, `FY2019 YTD`), optionally a `Total` row; it ends at
the first row that is neither. A Summary sheet may hold any number of blocks.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from analysis.vocab.columns import normalize_header
from analysis.vocab.kinds import kind_from_text

FISCAL_YEAR_HEADER = re.compile(r"(?i)^(?:fiscal\s*years?|fy)$")
FISCAL_YEAR_LABEL = re.compile(r"(?i)^FY\s*'?(\d{4}|\d{2})\b")
TOTAL_LABEL = re.compile(r"(?i)^(?:grand\s+)?totals?$|^all(?:\s+fiscal)?\s+years$")
COUNT_HEADER = re.compile(r"(?i)^(?:grand\s+)?(?:totals?|count|records|number)$")
NUMBER = re.compile(r"^-?\d{1,3}(?:,\d{3})+(?:\.0+)?$|^-?\d+(?:\.0+)?$")
# the period a title names: `FY2012 - FY2019 YTD (01/01/2012 - 07/06/2019)`, `FY2019`
PERIOD = re.compile(
    r"(?i)\bFY\s*'?\d{2,4}(?:\s*YTD)?(?:\s*(?:-|–|to|through|thru)\s*FY\s*'?\d{2,4}(?:\s*YTD)?)?(?:\s*\([^)]*\))?"
)


def _cells(row: list[str | None]) -> list[tuple[int, str]]:
    return [(i, " ".join(c.split())) for i, c in enumerate(row) if c is not None and c.strip()]


def _fiscal_year(label: str) -> int | None:
    match = FISCAL_YEAR_LABEL.match(label)
    if not match:
        return None
    year = int(match.group(1))
    return 2000 + year if year < 100 else year


def _count(text: str | None) -> int | None:
    if text is None or not text.strip():
        return None
    text = text.strip()
    return int(float(text.replace(",", ""))) if NUMBER.match(text) else None


def summary_blocks(rows: list[list[str | None]], *, file: str, sheet: str) -> tuple[list[dict], list[str]]:
    """Every block of totals on a Summary sheet, and warnings (values that are not counts, a
    sheet with no block). Row numbers are the sheet's own (from 1)."""
    blocks: list[dict] = []
    warnings: list[str] = []
    title: str | None = None
    index = 0
    while index < len(rows):
        cells = _cells(rows[index])
        if len(cells) >= 2 and FISCAL_YEAR_HEADER.match(cells[0][1]):
            block, index = _block(rows, index, cells, title or "", file=file, sheet=sheet, warnings=warnings)
            if block["years"]:
                blocks.append(block)
            title = None
            continue
        if len(cells) == 1:
            title = cells[0][1]
        index += 1
    if not blocks:
        warnings.append(f"{file} sheet {sheet!r}: a Summary sheet without a block of totals by fiscal year "
                        "(a 'Fiscal Year' header row followed by rows such as 'FY2019'); its totals are not read")
    return blocks, warnings


def _block(rows: list[list[str | None]], header_index: int, header: list[tuple[int, str]], title: str, *,
           file: str, sheet: str, warnings: list[str]) -> tuple[dict, int]:
    label_at = header[0][0]
    columns = _unique([name for _, name in header[1:]])
    positions = [position for position, _ in header[1:]]
    years: list[dict] = []
    totals: dict[str, int | None] | None = None
    index = header_index + 1
    while index < len(rows):
        row = rows[index]
        label = " ".join((row[label_at] or "").split()) if label_at < len(row) else ""
        fiscal_year = _fiscal_year(label)
        if fiscal_year is None and not TOTAL_LABEL.match(label):
            break
        values: dict[str, int | None] = {}
        for column, position in zip(columns, positions, strict=True):
            text = row[position] if position < len(row) else None
            values[column] = _count(text)
            if values[column] is None and text is not None and text.strip():
                warnings.append(f"{file} sheet {sheet!r} row {index + 1} column {column!r}: {text.strip()[:40]!r} "
                                "is not a count; left out of ICE's totals")
        if fiscal_year is None:
            totals = values
        else:
            years.append({"label": label, "fiscal_year": fiscal_year, "row": index + 1, "values": values})
        index += 1
    block = {
        "file": file,
        "sheet": sheet,
        "title": title,
        "period": (match.group(0) if (match := PERIOD.search(title)) else None),
        "kind": kind_from_text(title) if title else None,
        "header_row": header_index + 1,
        "columns": columns,
        "years": years,
        "totals": totals,
    }
    return block, index


def _unique(names: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for name in names:
        seen[name] = seen.get(name, 0) + 1
        out.append(name if seen[name] == 1 else f"{name} ({seen[name]})")
    return out


# ---------------------------------------------------------------- ICE's totals against the records


def reconcile(blocks: list[dict], sheets: list[dict], tables: dict[str, dict]) -> list[dict]:
    """ICE's totals next to the records they count, per block and count column, by fiscal year.

    A block (or one of its columns) counts one sheet when its title is that sheet's title, or
    names that sheet of the same workbook; else the table of the kind its title or column names.
    `difference` is records minus ICE's total: positive where the records hold more."""
    return [_comparison(block, column, sheets, tables) for block in blocks for column in block["columns"]]


def _comparison(block: dict, column: str, sheets: list[dict], tables: dict[str, dict]) -> dict:
    target = _target(block, column, sheets, tables)
    compared_with, records = target if target else (None, None)
    by_year = dict(records["rows_by_fiscal_year"]) if records else {}
    years = []
    for row in block["years"]:
        count = by_year.pop(str(row["fiscal_year"]), 0) if records else None
        years.append(_difference(row["label"], row["fiscal_year"], row["values"][column], count))
    for key in sorted(by_year):  # records in years ICE's block does not list
        years.append(_difference(f"FY{key}", int(key), None, by_year[key]))
    ice_total = (block["totals"] or {}).get(column)
    listed = [row["values"][column] for row in block["years"]]
    if ice_total is None and None not in listed:  # ICE's own Total row, else the sum of a complete column
        ice_total = sum(listed)
    return {"file": block["file"], "sheet": block["sheet"], "title": block["title"], "column": column,
            "compared_with": compared_with, "years": years,
            "all_years": _difference("all years", None, ice_total, records["rows"] if records else None)}


def _difference(label: str, fiscal_year: int | None, ice: int | None, records: int | None) -> dict:
    """ICE's total and the records of one year; records is None where no records match."""
    return {"label": label, "fiscal_year": fiscal_year, "ice": ice, "records": records,
            "difference": None if ice is None or records is None else records - ice}


def _target(block: dict, column: str, sheets: list[dict], tables: dict[str, dict]) -> tuple[dict, dict] | None:
    """What a block's column counts: ({"table", "file", "sheet"}, the manifest entry with rows)."""
    own = [s for s in sheets if s["file"] == block["file"] and s["sheet"]]
    if match := _one(s for s in own if normalize_header(s["sheet"]) == normalize_header(column)):
        return _sheet_target(match)
    if (kind := kind_from_text(column)) and kind in tables:
        return {"table": kind, "file": None, "sheet": None}, tables[kind]
    if not (COUNT_HEADER.match(column) or len(block["columns"]) == 1):
        return None
    title = normalize_header(block["title"])
    if title and (match := _one(s for s in sheets if normalize_header(s["title"] or "") == title)):
        return _sheet_target(match)
    if title and (match := _one(s for s in own if normalize_header(s["sheet"]) in title)):
        return _sheet_target(match)
    if (kind := block["kind"]) and kind in tables:
        return {"table": kind, "file": None, "sheet": None}, tables[kind]
    return None


def _one(found: Iterable[dict]) -> dict | None:
    matches = list(found)
    return matches[0] if len(matches) == 1 else None


def _sheet_target(sheet: dict) -> tuple[dict, dict]:
    return {"table": sheet["table"], "file": sheet["file"], "sheet": sheet["sheet"]}, sheet


def comparison_warning(entry: dict) -> str | None:
    """One line for a block whose totals differ from the records in some year (or over all years)."""
    where = f"{entry['file']} sheet {entry['sheet']!r}, block {entry['title'] or '(untitled)'!r}"
    if entry["compared_with"] is None:
        return (f"{where}, column {entry['column']!r}: no table or sheet of records matches it, so ICE's totals are "
                "kept but not compared")
    differing = [y for y in entry["years"] if y["difference"] != 0]
    total = entry["all_years"]
    if not differing and total["difference"] == 0:
        return None
    target = entry["compared_with"]
    records = f"sheet {target['sheet']!r}" if target["sheet"] else f"the {target['table']} table"
    listed = [y for y in entry["years"] if y["ice"] is not None]
    years = ", ".join(f"{y['label']} {_signed(y['difference'])}" if y["ice"] is not None
                      else f"{y['label']} {y['records']:,} records, no total from ICE" for y in differing)
    in_years = (f"in {len([y for y in differing if y['ice'] is not None])} of {len(listed)} fiscal years "
                f"(records minus ICE's total: {years})") if differing else "in no fiscal year"
    if total["ice"] is None:
        all_years = f"{total['records']:,} records, no total from ICE"
    elif total["difference"] == 0:
        all_years = f"equal ({total['records']:,})"
    else:
        all_years = f"{total['records']:,} records, ICE {total['ice']:,} ({_signed(total['difference'])})"
    return (f"{where}, column {entry['column']!r}: ICE's totals differ from the records of {records} {in_years}; "
            f"all years: {all_years}; the records are kept as they are")


def _signed(number: int) -> str:
    return f"{number:+,}" if number else "0"
