"""ICE's Footnotes sheets: its own caveats (data currency, what a count includes, why its totals
differ by year from the records), kept word for word in the manifest for the report to quote.

A Footnotes sheet repeats the workbook's banner rows above its notes; leading rows that are
banners (the office, a handling caveat, a FOIA number, or a banner the workbook's record sheets
carry too) are kept apart from the notes. Every other non-blank row is one note, its cells
joined, its whitespace folded; nothing is reworded.
"""

from __future__ import annotations

import re
from collections.abc import Collection

from analysis.reading.layout import FOIA_NUMBER

BANNER = re.compile(
    r"(?i)statistical tracking unit|for official use only|\bFOUO\b|law enforcement sensitive|pre-?decisional"
)


def _text(row: list[str | None]) -> str:
    return " ".join(" ".join(cell.split()) for cell in row if cell is not None and cell.strip())


def footnotes(rows: list[list[str | None]], *, banners_elsewhere: Collection[str] = ()) -> dict:
    """{"banners": [...], "notes": [{"row": n, "text": ...}]} of a Footnotes sheet's rows."""
    seen = {" ".join(b.split()) for b in banners_elsewhere}
    banners: list[str] = []
    notes: list[dict] = []
    for number, row in enumerate(rows, start=1):
        text = _text(row)
        if not text:
            continue
        if not notes and (BANNER.search(text) or FOIA_NUMBER.fullmatch(text) or text in seen):
            banners.append(text)
        else:
            notes.append({"row": number, "text": text})
    return {"banners": banners, "notes": notes}
