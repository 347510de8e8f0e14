"""The declared schema of every processed table, checked before a table is published.

A processed table holds its data columns, typed by name (`*_date` -> date32, the integer
columns of `columns.INTEGER_COLUMNS` -> int32, every other data column -> string), then the
provenance columns with fixed types. A table of a known kind must hold a column that dates
it (one of its kind's `date_columns`). Columns drift between releases, so a data column the
schema does not name is allowed, typed by the same rule.

Hard failures (`ValidationError`, naming table, column and example values): a column of the
wrong type, a required or provenance column missing, provenance values missing, repeated
column names, or a row count that differs from the records counted sheet by sheet.

Warnings (returned, for the manifest): values outside a column's known categories
(reported with counts and examples, never dropped), dates outside a plausible range, and
records whose event date falls outside the fiscal year their sheet's title names.

Types are checked on the written file's schema; values on the counts made of the records as they
were written (`tally.py`), so a table is never read back to be checked. The rules and their
messages are here; `rules()` tells the tally what to count.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc

from analysis.errors import AnalysisError
from analysis.reading.tally import EXAMPLES, Found, Rules, TableTally
from analysis.vocab.columns import (
    INTEGER_COLUMNS,
    NON_DATA_COLUMNS,
    PRODUCTION_COLUMN,
    PROVENANCE_COLUMNS,
    is_date_column,
)
from analysis.vocab.definitions import CRIMINALITY_LABELS, LIFT_REASON_BUCKET
from analysis.vocab.geography import AORS, HQ_AOR, STATES, TERRITORIES, aor_label
from analysis.vocab.kinds import KIND_BY_NAME

CATEGORIES: dict[str, frozenset[str]] = {
    "gender": frozenset({"Male", "Female", "Unknown"}),
    "criminality": frozenset(CRIMINALITY_LABELS),
    "detainer_lift_reason": frozenset(LIFT_REASON_BUCKET),
    "state": frozenset(STATES) | TERRITORIES,
    "aor": frozenset({aor_label(a) for a in (*AORS, HQ_AOR)} | {*AORS, HQ_AOR}),
}
EARLIEST_EVENT = dt.date(1950, 1, 1)
EARLIEST_BIRTH = dt.date(1900, 1, 1)
STRING_TYPES = (pa.string(), pa.large_string())


class ValidationError(AnalysisError):
    """A processed table does not match its declared schema: a bug or a damaged input, never published."""


@dataclass(frozen=True)
class ProvenanceColumn:
    name: str
    types: tuple[pa.DataType, ...]
    nullable: bool


PROVENANCE = (
    ProvenanceColumn("fiscal_year", (pa.int16(),), nullable=True),
    ProvenanceColumn("source_file", (pa.dictionary(pa.int32(), pa.string()), pa.string()), nullable=False),
    ProvenanceColumn("source_sheet", (pa.dictionary(pa.int32(), pa.string()), pa.string()), nullable=True),
    ProvenanceColumn("source_row", (pa.int32(),), nullable=False),
    ProvenanceColumn("row_hash", (pa.uint64(),), nullable=False),
)
assert tuple(p.name for p in PROVENANCE) == PROVENANCE_COLUMNS
PRODUCTION = ProvenanceColumn(PRODUCTION_COLUMN, (pa.dictionary(pa.int32(), pa.string()), pa.string()), nullable=False)


def today() -> dt.date:
    return dt.date.today()


def expected_type(column: str) -> pa.DataType:
    """The type the schema declares for a data column, from its canonical name."""
    if is_date_column(column):
        return pa.date32()
    if column in INTEGER_COLUMNS:
        return pa.int32()
    return pa.string()


def validate(table_name: str, table: pa.Table, sheets_rows: int) -> list[str]:
    """Check a processed table against its declared schema; `sheets_rows` is the sum of the
    records its sheets held (manifest `sheets[].rows`). Returns warnings; raises
    ValidationError on a hard failure."""
    check_structure(table_name, table)
    check_row_count(table_name, table.num_rows, sheets_rows)
    return tally_warnings(table_name, table.column_names, tally_of(table_name, table))


def rules() -> Rules:
    """What a tally counts (`tally.py`): the category columns, and the plausible dates as of today."""
    return Rules(categories=frozenset(CATEGORIES), today=today(), earliest_event=EARLIEST_EVENT,
                 earliest_birth=EARLIEST_BIRTH)


def new_tally(table_name: str) -> TableTally:
    return TableTally(table_name, rules())


def tally_of(table_name: str, table: pa.Table) -> TableTally:
    """The tally of a table (or of one batch of it)."""
    tally = new_tally(table_name)
    tally.add(table)
    return tally


def check_provenance_values(table_name: str, names: list[str], tally: TableTally) -> None:
    """`check_structure`'s checks of values (provenance present in every record, row numbers from
    1), from the tally of the records written."""
    for column in (*PROVENANCE, *((PRODUCTION,) if PRODUCTION_COLUMN in names else ())):
        _check_provenance_values(table_name, column, tally.missing(column.name),
                                 tally.first_null.get(column.name, 0), tally.lowest_source_row)


def tally_warnings(table_name: str, names: list[str], tally: TableTally) -> list[str]:
    """The warnings of `validate`, from the tally of a table whose structure is checked."""
    warnings: list[str] = []
    for column in names:
        if column in CATEGORIES and column in tally.categories:
            warnings += unknown_categories(table_name, column, tally.categories[column])
        if is_date_column(column) and column in tally.outside:
            low, high = tally.rules.date_range(column)
            warnings += _outside(table_name, column, tally.outside[column],
                                 f"date(s) before {low.isoformat()} or after {high.isoformat()}")
    if "birth_year" in names and "birth_year" in tally.outside:
        first, last = tally.rules.birth_years()
        warnings += _outside(table_name, "birth_year", tally.outside["birth_year"],
                             f"year(s) before {first} or after {last}")
    kind = KIND_BY_NAME.get(table_name)
    date_column = kind.dated_by(names) if kind else None
    if date_column is not None and date_column in tally.mismatches:
        warnings += fiscal_year_mismatches(table_name, date_column, tally.mismatches[date_column])
    return warnings


# ---------------------------------------------------------------- hard failures


def _fail(table_name: str, column: str | None, message: str) -> ValidationError:
    where = f"table {table_name!r}" + (f" column {column!r}" if column else "")
    return ValidationError(f"{where}: {message}")


def _examples(values: pa.ChunkedArray | pa.Array) -> list:
    return _shown(pc.unique(pc.drop_null(values)).to_pylist()[:EXAMPLES])


def _shown(examples: list) -> list:
    return [v.isoformat() if isinstance(v, dt.date) else (v[:40] if isinstance(v, str) else v) for v in examples]


def check_structure(table_name: str, table: pa.Table) -> None:
    names = table.column_names
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise _fail(table_name, repeated[0], f"appears {names.count(repeated[0])} times; column names must be unique")
    for column in PROVENANCE:
        _check_provenance(table_name, table, column)
    if PRODUCTION_COLUMN in names:  # a combined release's tables only
        _check_provenance(table_name, table, PRODUCTION)
    kind = KIND_BY_NAME.get(table_name)
    if kind is not None and kind.dated_by(names) is None:
        raise _fail(table_name, kind.date_column, f"missing: a {table_name} table cannot do without "
                    + " or ".join(repr(c) for c in kind.date_columns))
    for column in names:
        if column in NON_DATA_COLUMNS:
            continue
        wanted, found = expected_type(column), table.schema.field(column).type
        if found != wanted and not (wanted == pa.string() and found in STRING_TYPES):
            raise _fail(
                table_name, column, f"is {found}, the schema declares {wanted} (e.g. {_examples(table.column(column))})"
            )


def _check_provenance(table_name: str, table: pa.Table, column: ProvenanceColumn) -> None:
    if column.name not in table.column_names:
        raise _fail(table_name, column.name, "missing: every processed table carries its provenance columns")
    found = table.schema.field(column.name).type
    if found not in column.types:
        raise _fail(table_name, column.name, f"is {found}, the schema declares {column.types[0]}")
    values = table.column(column.name)
    low = pc.min(values).as_py() if column.name == "source_row" and table.num_rows else None
    first_missing = pc.index(pc.is_null(values), True).as_py() if values.null_count else 0
    _check_provenance_values(table_name, column, values.null_count, first_missing, low)


def _check_provenance_values(table_name: str, column: ProvenanceColumn, missing: int, first_missing: int,
                             lowest_row: int | None) -> None:
    """A provenance column without values where it needs them (`first_missing`: the first row
    without one, from 0), or a row number below 1."""
    if not column.nullable and missing:
        raise _fail(table_name, column.name, f"{missing:,} missing value(s), the first in record {first_missing + 1:,}")
    if column.name == "source_row" and lowest_row is not None and lowest_row < 1:
        raise _fail(table_name, column.name, f"holds row number {lowest_row}; rows are numbered from 1")


def check_row_count(table_name: str, rows: int, sheets_rows: int) -> None:
    if rows != sheets_rows:
        raise _fail(
            table_name,
            None,
            f"{rows:,} rows, but its sheets held {sheets_rows:,} records (manifest sheets[].rows); "
            "records were lost or duplicated on the way",
        )


# ---------------------------------------------------------------- warnings


def unknown_categories(table_name: str, column: str, counts: Counter) -> list[str]:
    """Values outside the known categories (compared without case or extra spaces), from the
    rows counted per value: counted and shown, and left in the table."""
    known = {" ".join(v.split()).lower() for v in CATEGORIES[column]}
    unknown = [(value, n) for value, n in counts.items() if " ".join(str(value).split()).lower() not in known]
    if not unknown:
        return []
    unknown.sort(key=lambda pair: (-pair[1], str(pair[0])))
    total = sum(n for _, n in unknown)
    shown = ", ".join(f"{value[:40]!r} ({n:,})" for value, n in unknown[:EXAMPLES])
    more = f" and {len(unknown) - EXAMPLES} more" if len(unknown) > EXAMPLES else ""
    return [f"table {table_name!r} column {column!r}: {total:,} value(s) outside the known categories, kept as they "
            f"are: {shown}{more}"]


def _outside(table_name: str, column: str, found: Found, what: str) -> list[str]:
    """One warning counting the values outside the plausible range (kept, with examples), or none."""
    if not found.rows:
        return []
    return [f"table {table_name!r} column {column!r}: {found.rows:,} {what} (e.g. {_shown(found.examples)}); kept, "
            "check them"]


def fiscal_year_mismatches(table_name: str, date_column: str, found: Found) -> list[str]:
    """Records whose event date lies outside the fiscal year given to them (by their sheet's title)."""
    if not found.rows:
        return []
    return [f"table {table_name!r} column {date_column!r}: {found.rows:,} record(s) dated outside the fiscal year "
            f"their sheet names (e.g. {_shown(found.examples)}); their fiscal year is the sheet's"]
