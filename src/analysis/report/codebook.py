"""The codebook of a release: for every column of every processed table, the header spellings
the raw files used, its type, how much of it is missing and redacted, and what it holds: for text,
the distinct values with their counts (the `TOP_VALUES` most frequent, then how many others);
for dates and numbers, the range.

It describes the whole release as processed (the report's geography and years do not apply).
Identifier columns (by name, `vocab.columns.is_identifier`, or by shape as ingest found them), and text columns in which nearly every record
has a value of its own, show only how many distinct values they hold, never a value. Counts below
`min_cell` read `<min_cell`. It is computed in DuckDB through the `Release` (its `<table>_all`
views), two scans a table, so memory stays bounded at any size and only counts leave DuckDB.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd
import pyarrow as pa

from analysis import words
from analysis.release import Release, sql_name
from analysis.vocab.columns import is_identifier

TOP_VALUES = 20
VALUE_WIDTH = 60  # characters of a value shown; longer values end in `…`
NEARLY_UNIQUE = 0.9  # a text column with at least this many distinct values per record is not listed
RANGE_KINDS = ("date", "whole number", "number")
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
    distinct: int = 0  # distinct values of a listed column or an identifier (not counted for ranges)
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


def release_codebook(release: Release) -> list[ColumnEntry]:
    """Every column of every table of `release` (the whole release, whatever its scope), in the
    manifest's order."""
    entries = []
    for table, info in sorted(release.manifest["tables"].items()):
        schema = release.schema(table)
        table_entries = [ColumnEntry(table=table, column=column, raw_headers=list(stats.get("source_names", [])),
                                     kind=kind_of(schema.field(column).type), records=info["rows"],
                                     missing=stats["nulls"], redacted=stats["redacted"])
                         for column, stats in info["columns"].items()]
        identifiers = {column for column, stats in info["columns"].items()
                       if is_identifier(column) or stats.get("identifier")}
        describe_table(release, table, table_entries, identifiers, schema)
        entries += table_entries
    return entries


def describe_table(release: Release, table: str, entries: list[ColumnEntry], identifiers: set[str],
                   schema: pa.Schema) -> None:
    """Fill in every entry's distinct values (or range) in two scans of the table in DuckDB: one for
    the counts and ranges of identifiers, dates and numbers, one for the values of the rest."""
    ranged = [e for e in entries if e.column in identifiers or e.kind in RANGE_KINDS]
    listed = [e for e in entries if e not in ranged]
    if ranged:
        _fill_ranges(release, table, ranged, identifiers)
    if listed:
        ranked = _ranked_values(release, table, [_as_text_sql(e.column, schema.field(e.column).type) for e in listed])
        for position, entry in enumerate(listed):
            describe_values(entry, ranked.get(position, ([], 0, 0)))


def _fill_ranges(release: Release, table: str, entries: list[ColumnEntry], identifiers: set[str]) -> None:
    """Identifiers: how many distinct values (even a range would show two of them); dates and
    numbers: their range (their number of distinct values is not shown, so not counted)."""
    parts = []
    for entry in entries:
        name = sql_name(entry.column)
        parts += [f"count(distinct {name})"] if entry.column in identifiers else [f"min({name})", f"max({name})"]
    found = iter(release.db.execute(f"select {', '.join(parts)} from {sql_name(table + '_all')}").fetchone() or ())
    for entry in entries:
        if entry.column in identifiers:
            entry.distinct, entry.withheld = int(next(found)), "identifier"
            continue
        low, high = next(found), next(found)
        if low is not None:
            entry.low, entry.high = _as_text(low), _as_text(high)


def _as_text_sql(column: str, data_type: pa.DataType) -> str:
    """A column's values as the text the codebook shows (Python's `str` of the value)."""
    name = sql_name(column)
    if kind_of(data_type) == "text":
        return name
    if pa.types.is_boolean(data_type):
        return f"case when {name} then 'True' when not {name} then 'False' end"
    return f"cast({name} as varchar)"


def _ranked_values(release: Release, table: str, values: list[str]) -> dict[int, tuple[list[tuple[str, int]], int, int]]:
    """Per position of `values` (SQL expressions): its TOP_VALUES most frequent values with their
    records (most records first, then by value), the records of all other values, and the number of
    distinct values, missing values left out. One scan: a grouping set per expression."""
    names = [f"v{i}" for i in range(len(values))]
    projected = ", ".join(f"{value} as {name}" for value, name in zip(values, names, strict=True))
    which = " ".join(f"when grouping({name}) = 0 then {i}" for i, name in enumerate(names))
    value = " ".join(f"when grouping({name}) = 0 then {name}" for name in names)
    sets = ", ".join(f"({name})" for name in names)
    rows = release.db.execute(f"""
        with grouped as (
            select case {which} end as position, case {value} end as value, count(*) as records
            from (select {projected} from {sql_name(table + '_all')})
            group by grouping sets ({sets})
        ), ranked as (
            select position, value, records,
                   row_number() over (partition by position order by records desc, value) as place
            from grouped where value is not null
        )
        select position, least(place, {TOP_VALUES + 1}) as place, any_value(value) as value,
               sum(records)::bigint as records, count(*) as distinct_values
        from ranked group by all order by position, place
    """).fetchall()
    found: dict[int, tuple[list[tuple[str, int]], int, int]] = {}
    for position, place, text, records, count in rows:
        top, others, distinct = found.get(position, ([], 0, 0))
        if place <= TOP_VALUES:
            top.append((text, int(records)))
        else:
            others = int(records)
        found[position] = (top, others, distinct + int(count))
    return found


def describe_values(entry: ColumnEntry, ranked: tuple[list[tuple[str, int]], int, int]) -> None:
    """Fill in a listed column's distinct values from `ranked` (its top values with counts, the
    records of the others, the number of distinct values), unless nearly every record has its own."""
    top, others, entry.distinct = ranked
    present = entry.records - entry.missing
    if entry.distinct > TOP_VALUES and entry.distinct >= NEARLY_UNIQUE * present:
        entry.withheld = "nearly every record has its own value"
        return
    entry.top, entry.others = list(top), others


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
