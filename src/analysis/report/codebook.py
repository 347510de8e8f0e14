"""The codebook of a release: for every column of every processed table, the header spellings
the raw files used, its type, how much of it is missing and redacted, and what it holds: for text,
the distinct values with their counts (the `TOP_VALUES` most frequent, then how many others);
for dates and numbers, the range.

It describes the whole release as processed (the report's geography and years do not apply).
Identifier columns (by name, `vocab.columns.is_identifier`, or by shape as ingest found them), and text columns in which nearly every record
has a value of its own, show only how many distinct values they hold, never a value. Counts below
`min_cell` read `<min_cell`. Columns are read from the parquet files one at a time, so memory
stays bounded at any size.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from analysis import words
from analysis.vocab.columns import is_identifier

TOP_VALUES = 20
VALUE_WIDTH = 60  # characters of a value shown; longer values end in `…`
NEARLY_UNIQUE = 0.9  # a text column with at least this many distinct values per record is not listed
COLUMNS = ("Table", "Column", "Raw headers", "Type", "Missing", "Redacted", "Values")


@dataclass
class ColumnEntry:
    """What the codebook says about one column, as numbers (formatted by `codebook_frame`)."""

    table: str
    column: str
    raw_headers: list[str]
    kind: str  # text, date, whole number, number, yes/no (or the parquet type)
    records: int
    missing: int
    redacted: int
    distinct: int = 0
    top: list[tuple[str, int]] = field(default_factory=list)  # the most frequent values, with counts
    others: int = 0  # records holding any other value
    low: str | None = None  # range of dates and numbers
    high: str | None = None
    withheld: str | None = None  # why values are not listed (identifier, nearly unique)


def kind_of(data_type: pa.DataType) -> str:
    if pa.types.is_string(data_type) or pa.types.is_large_string(data_type) or pa.types.is_dictionary(data_type):
        return "text"
    if pa.types.is_date(data_type) or pa.types.is_timestamp(data_type):
        return "date"
    if pa.types.is_integer(data_type):
        return "whole number"
    if pa.types.is_floating(data_type) or pa.types.is_decimal(data_type):
        return "number"
    if pa.types.is_boolean(data_type):
        return "yes/no"
    return str(data_type)


def release_codebook(folder: Path, manifest: dict) -> list[ColumnEntry]:
    """Every column of every table of the processed release in `folder`, in the manifest's order."""
    entries = []
    for table, info in sorted(manifest["tables"].items()):
        schema = pq.read_schema(folder / f"{table}.parquet")
        for column, stats in info["columns"].items():
            entry = ColumnEntry(table=table, column=column, raw_headers=list(stats.get("source_names", [])),
                                kind=kind_of(schema.field(column).type), records=info["rows"],
                                missing=stats["nulls"], redacted=stats["redacted"])
            describe_values(entry, pq.read_table(folder / f"{table}.parquet", columns=[column]).column(0),
                            identifier=is_identifier(column) or bool(stats.get("identifier")))
            entries.append(entry)
    return entries


def describe_values(entry: ColumnEntry, values: pa.ChunkedArray, *, identifier: bool | None = None) -> None:
    """Fill in the distinct values (or the range) of one column's values. `identifier`: by name
    (the default) or as ingest found it (by shape, `manifest.identifier_columns`)."""
    entry.distinct = pc.count_distinct(values).as_py()
    if is_identifier(entry.column) if identifier is None else identifier:  # even a range would show two
        entry.withheld = "identifier"
        return
    if entry.kind in ("date", "whole number", "number"):
        bounds = pc.min_max(values)
        if bounds["min"].is_valid:
            entry.low, entry.high = (_as_text(bounds[end].as_py()) for end in ("min", "max"))
        return
    present = entry.records - entry.missing
    if entry.distinct > TOP_VALUES and entry.distinct >= NEARLY_UNIQUE * present:
        entry.withheld = "nearly every record has its own value"
        return
    counts = pc.value_counts(values).to_pylist()
    ranked = sorted(((str(c["values"]), int(c["counts"])) for c in counts if c["values"] is not None),
                    key=lambda item: (-item[1], item[0]))
    entry.top = ranked[:TOP_VALUES]
    entry.others = sum(count for _value, count in ranked[TOP_VALUES:])


def _as_text(value: object) -> str:
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


# ---------------------------------------------------------------- as published


def _count_and_share(count: int, total: int, min_cell: int) -> str:
    if count == 0:
        return "0"
    if words.is_small(count, min_cell):
        return words.small_label(min_cell)
    return f"{count:,} ({100 * count / max(total, 1):.1f}%)"


def _value(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= VALUE_WIDTH else text[: VALUE_WIDTH - 1] + "…"


def values_text(entry: ColumnEntry, min_cell: int) -> str:
    """What the column holds, as published: values with counts, a range, or why values are withheld."""
    if entry.records == entry.missing:
        return "no values"
    if entry.low is not None:
        return f"{entry.low} to {entry.high}"
    distinct = f"{entry.distinct:,} distinct {words.plural(entry.distinct, 'value')}"
    if entry.withheld:
        return f"{distinct}, not shown ({entry.withheld})"
    listed = [f"{_value(value)} ({words.count(count, min_cell)})" for value, count in entry.top]
    rest = entry.distinct - len(entry.top)
    if rest > 0:
        listed.append(f"{rest:,} {words.plural(rest, 'other')} ({words.count(entry.others, min_cell)})")
    return f"{distinct}: " + "; ".join(listed)


def codebook_frame(entries: list[ColumnEntry], min_cell: int = 1) -> pd.DataFrame:
    """One row per column, every cell text as published (CSV and appendix alike)."""
    rows = [{
        "Table": entry.table,
        "Column": entry.column,
        "Raw headers": "; ".join(entry.raw_headers),
        "Type": entry.kind,
        "Missing": _count_and_share(entry.missing, entry.records, min_cell),
        "Redacted": _count_and_share(entry.redacted, entry.records, min_cell),
        "Values": values_text(entry, min_cell),
    } for entry in entries]
    return pd.DataFrame(rows, columns=list(COLUMNS))
