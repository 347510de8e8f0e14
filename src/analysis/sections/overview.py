"""What the release overview and the data notes say about ICE's own Summary and Footnotes sheets.

ICE's totals are shown as ICE published them, beside the records counted by the fiscal year of
their event date; the difference is records minus ICE's total. Neither is adjusted. ICE's notes
are quoted word for word, attributed to ICE and the sheet. Text from a release is data: every
piece of it goes through `escaping.md_literal` (as `escape_markdown`) before it reaches the report.
"""

from __future__ import annotations

import pandas as pd

from analysis import words
from analysis.escaping import md_literal as escape_markdown

BLOCK = "Summary block"
FISCAL_YEAR = "Fiscal year"
ICE = "ICE's total"
RECORDS = "Records"
DIFFERENCE = "Records minus ICE"
ALL_YEARS = "All years"
COUNT_COLUMNS = [ICE, RECORDS]


def _label(entry: dict) -> str:
    """What a comparison counts, in a column heading: the sheet's name, else the table's."""
    target = entry["compared_with"]
    if target is None:
        return entry["column"] if entry["column"] not in ("Total", "") else (entry["title"] or "ICE's totals")
    return target["sheet"] or target["table"]


def _labels(comparisons: list[dict]) -> list[str]:
    labels: list[str] = []
    for entry in comparisons:
        label = _label(entry)
        labels.append(label if label not in labels else f"{label} ({entry['column']})")
    return labels


def _shown_difference(difference: int | None, *counts: int | None, min_cell: int) -> int | None:
    """The difference, or None where a count beside it is a small cell (it would reveal it)."""
    if difference is None or any(c is not None and 0 < c < min_cell for c in counts):
        return None
    return difference


def ice_totals_frame(manifest: dict, min_cell: int = 1) -> pd.DataFrame | None:
    """ICE's totals beside the records: per block (or count column) of ICE's Summary sheets, one
    row per fiscal year and one for all years, with ICE's total, the records and records minus
    ICE (missing where a small cell would be revealed). None when the release has no Summary
    totals. One row per block and year, so any number of blocks fits the page."""
    comparisons = manifest.get("ice_totals_vs_records") or []
    if not comparisons:
        return None
    rows = []
    for entry, label in zip(comparisons, _labels(comparisons), strict=True):
        for found in [*entry["years"], entry["all_years"]]:
            rows.append({
                BLOCK: label,
                FISCAL_YEAR: ALL_YEARS if found["fiscal_year"] is None else found["label"],
                ICE: found["ice"],
                RECORDS: found["records"],
                DIFFERENCE: _shown_difference(found["difference"], found["ice"], found["records"], min_cell=min_cell),
            })
    frame = pd.DataFrame(rows)
    for column in (ICE, RECORDS, DIFFERENCE):
        frame[column] = frame[column].astype("Int64")
    return frame


def ice_totals_sentence(manifest: dict, min_cell: int = 1) -> str | None:
    """What the table of ICE's totals shows, in a few sentences (Markdown), or None."""
    comparisons = manifest.get("ice_totals_vs_records") or []
    if not comparisons:
        return None
    compared = [e for e in comparisons if e["compared_with"] is not None]
    labels = dict(zip(map(id, comparisons), _labels(comparisons), strict=True))
    sheets = sorted({f"{e['file']}, sheet {e['sheet']}" for e in comparisons})
    count = len(comparisons)
    parts = [f"ICE's own Summary ({escape_markdown('; '.join(sheets))}) gives totals by fiscal year for {count} "
             f"{words.plural(count, 'count')}, shown as ICE published them beside the records of this release."]
    uncompared = [escape_markdown(labels[id(e)]) for e in comparisons if e["compared_with"] is None]
    if uncompared:
        parts.append(f"No sheet or table of records matches {', '.join(uncompared)}, so {'it is' if len(uncompared) == 1 else 'they are'} "
                     "shown without records.")
    if compared:
        parts.append(_all_years_sentence(compared, labels, min_cell))
        parts.append(_years_sentence(compared, min_cell))
        parts.append(f"The records are counted by {_basis([_dated_by(manifest, e) for e in compared])}; the "
                     "difference is records minus ICE's total, and neither number is adjusted to match the other.")
    if manifest.get("ice_footnotes"):
        parts.append("ICE's own notes on its data, from its Footnotes sheet, are quoted in the data notes of the "
                     "appendix.")
    return " ".join(parts)


def _all_years_sentence(compared: list[dict], labels: dict[int, str], min_cell: int) -> str:
    compared = [e for e in compared if e["all_years"]["difference"] is not None]
    if not compared:
        return "ICE gives no total over all years to compare."
    totals = [e["all_years"] for e in compared]
    if all(t["difference"] == 0 for t in totals):
        shown = " and ".join(words.count(t["records"], min_cell) for t in totals)
        return f"Over all years they equal the records ({shown})."
    differing = [f"{escape_markdown(labels[id(e)])}: {words.count(e['all_years']['records'], min_cell)} records, "
                 f"ICE {words.count(e['all_years']['ice'], min_cell)}" for e in compared if e["all_years"]["difference"]]
    return f"Over all years they differ from the records ({'; '.join(differing)})."


def _years_sentence(compared: list[dict], min_cell: int) -> str:
    years = [y for e in compared for y in e["years"] if y["ice"] is not None]
    differing = [y for y in years if y["difference"]]
    if not differing:
        return f"They equal the records in every fiscal year ({len(years)} of {len(years)})."
    sizes = sorted(abs(y["difference"]) for y in differing)
    if any(0 < v < min_cell for y in differing for v in (y["ice"], y["records"])):
        spread = ""
    elif sizes[0] == sizes[-1]:
        spread = f", each by {words.count(sizes[0])} {words.plural(sizes[0], 'record')}"
    else:
        spread = f", by {words.count(sizes[0])} to {words.count(sizes[-1])} records"
    return f"They differ from the records in {len(differing)} of {len(years)} fiscal-year totals{spread}."


def _dated_by(manifest: dict, entry: dict) -> str | None:
    """The date column that gave the compared records their fiscal year; None where their sheets'
    titles did."""
    target = entry["compared_with"]
    if target["sheet"]:
        sheets = [s for s in manifest["sheets"] if s["file"] == target["file"] and s["sheet"] == target["sheet"]]
    else:
        sheets = [s for s in manifest["sheets"] if s["table"] == target["table"]]
    sources = [s.get("fiscal_year_source") for s in sheets]
    return next((source for source in sources if source not in (None, "none", "sheet title")), None)


def _basis(dated_by: list[str | None]) -> str:
    columns = sorted({d.replace("_", " ") for d in dated_by if d})
    by_date = f"the fiscal year of their {' or '.join(columns)}" if columns else ""
    if None not in dated_by:
        return by_date
    by_title = "the fiscal year their sheet's title names"
    return f"{by_date}, or {by_title}" if by_date else by_title


def footnotes_markdown(manifest: dict) -> str | None:
    """ICE's Footnotes sheets quoted word for word (Markdown block quotes), or None."""
    quoted = []
    for sheet in manifest.get("ice_footnotes") or []:
        if not sheet["notes"]:
            continue
        source = escape_markdown(f"{sheet['file']}, sheet {sheet['sheet']}")
        lines = "\n>\n".join(f"> {escape_markdown(note['text'])}" for note in sheet["notes"])
        quoted.append(f"**ICE's footnotes** ({source}), quoted as ICE wrote them:\n\n{lines}")
    return "\n\n".join(quoted) or None
