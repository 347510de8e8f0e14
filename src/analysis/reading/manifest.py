"""manifest.json: what a processed release holds, where it came from, and what cleaning removed."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from analysis.errors import ReleaseError
from analysis.vocab.columns import ID_MIN_DISTINCT, NON_DATA_COLUMNS, is_identifier, looks_like_identifiers
from analysis.vocab.kinds import KIND_BY_NAME

if TYPE_CHECKING:
    import pyarrow as pa
    import pyarrow.parquet as pq

    from analysis.reading.cleaning import ColumnStats
    from analysis.reading.parts import TableParts
    from analysis.reading.tally import Span, TableTally

MANIFEST_NAME = "manifest.json"


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def file_record(path: Path, raw_dir: Path) -> dict:
    return {"path": path.relative_to(raw_dir).as_posix(), "bytes": path.stat().st_size, "sha256": sha256_of(path)}


def read_manifest(out_dir: Path) -> dict:
    path = out_dir / MANIFEST_NAME
    if not path.is_file():
        raise ReleaseError(f"no processed data; run `analysis ingest {out_dir.name}` first", file=path)
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ReleaseError(f"manifest is not valid JSON ({exc}); re-run ingest with --force", file=path) from None


def identifier_reason(column: str, kind: pa.DataType, sample: Callable[[], pa.Array]) -> str | None:
    """"name" or "shape" when a column holds identifiers (see vocab.columns), else None. The shape
    is judged on the table's first ID_SAMPLE_ROWS values (`sample`), so memory stays bounded at any size."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if is_identifier(column):
        return "name"
    if not pa.types.is_string(kind):
        return None
    values = sample()
    if pc.count_distinct(values).as_py() < ID_MIN_DISTINCT:
        return None  # a category, whatever its values look like: no need to turn them into Python strings
    return "shape" if looks_like_identifiers([v for v in values.to_pylist() if v is not None]) else None


def _first_rows(file: pq.ParquetFile, column: str) -> pa.Array:
    """A column's values in the first ID_SAMPLE_ROWS rows of a written table (read when the tally
    let them go: a sheet among the first rows was taken out again)."""
    import pyarrow as pa

    from analysis.reading.tally import ID_SAMPLE_ROWS

    if file.metadata.num_rows == 0:
        return pa.array([], pa.string())
    return next(file.iter_batches(batch_size=ID_SAMPLE_ROWS, columns=[column])).column(0)


def _sample(tally: TableTally, file: pq.ParquetFile, column: str) -> pa.Array:
    sample = tally.text_sample(column)
    return _first_rows(file, column) if sample is None else sample


def _fiscal_year_coverage(spans: dict[int | None, Span]) -> dict[str, dict[str, str]]:
    """First and last event date within each fiscal year: what tells a partial year."""
    coverage = {str(year): {"first": first.isoformat(), "last": last.isoformat()}
                for year, (first, last) in spans.items() if year is not None}
    return dict(sorted(coverage.items()))


def identifier_columns(table_info: dict) -> set[str]:
    """Columns of a manifest table entry that hold identifiers: recorded at ingest (by name or
    shape), and by name for a manifest written before shapes were recorded."""
    return {name for name, column in table_info["columns"].items() if column.get("identifier") or is_identifier(name)}


def _cleaning_notes(table: str, column: str, stats: ColumnStats | None, entry: dict) -> list[str]:
    """Counts of what cleaning changed besides redactions, put in the column's manifest entry
    (only when there is something to count) and said as warnings."""
    if stats is None:
        return []
    notes = []
    where = f"table {table!r} column {column!r}"
    if stats.excel_errors:
        entry["excel_errors"] = stats.excel_errors
        notes.append(f"{where}: {stats.excel_errors:,} Excel error value(s) (#N/A, #REF!, #VALUE!, ...) set to missing")
    if stats.two_digit_years:
        entry["two_digit_years"] = stats.two_digit_years
        notes.append(f"{where}: {stats.two_digit_years:,} date(s) written with a two-digit year (M/D/YY), read as "
                     "Excel does: 00-29 as 2000-2029, 30-99 as 1930-1999")
    if stats.respelled:
        entry["respelled"] = stats.respelled
        notes.append(f"{where}: {stats.respelled:,} value(s) written in another case or spelling made canonical "
                     f"(e.g. {', '.join(stats.respelled_examples)})")
    return notes


def distinct_hashes(hashes: pa.ChunkedArray) -> int:
    """How many different row hashes there are (they are never missing): a sort, which numpy
    does several times faster than a hash count."""
    import numpy as np

    from analysis.reading.arrays import values_of

    ordered = values_of(hashes)
    ordered = ordered if ordered.flags.writeable else ordered.copy()  # one copy, sorted in place
    ordered.sort()
    return int(np.count_nonzero(ordered[1:] != ordered[:-1])) + 1 if len(ordered) else 0


def table_date_column(name: str, sheet_date_columns: list[str], columns: list[str]) -> str | None:
    """The column that dates a table: of the columns that dated its sheets, the one its kind
    prefers (removal date before departed date), else the first seen."""
    kind = KIND_BY_NAME.get(name)
    preferred = [c for c in kind.date_columns if c in sheet_date_columns] if kind else []
    candidates = [c for c in preferred + sheet_date_columns if c in columns]
    return candidates[0] if candidates else None


def table_summary(name: str, path: Path, parts: TableParts, tally: TableTally) -> dict:
    """The manifest entry of one written table, from its footer and the tally of the records
    written to it (`tally.py`) and its row hashes (the one column read back, for the count of
    likely duplicates); `_warnings` is taken out by the caller."""
    import pyarrow.parquet as pq

    file = pq.ParquetFile(path)
    schema = file.schema_arrow
    total = file.metadata.num_rows
    date_column = table_date_column(name, parts.date_columns, schema.names)
    by_year = dict(sorted((str(year), int(n)) for year, n in tally.years.items() if year is not None))
    without_year = int(tally.years.get(None, 0))
    duplicates = total - distinct_hashes(file.read(columns=["row_hash"]).column("row_hash"))
    warnings: list[str] = []
    if not parts.known_kind:
        warnings.append(f"table {name!r}: not a known table kind; kept as its own table")
    if len(parts.date_columns) > 1:
        warnings.append(
            f"table {name!r}: its sheets are dated by different columns ({', '.join(parts.date_columns)}); each "
            f"record's fiscal year follows its own sheet's, first and last dates are those of {date_column!r}"
        )
    if without_year:
        warnings.append(f"table {name!r}: {without_year:,} records without a fiscal year (event date missing)")
    columns = {}
    for schema_field in schema:
        column = schema_field.name
        if column in NON_DATA_COLUMNS:
            continue
        stats = parts.stats.get(column)
        entry = {
            "type": str(schema_field.type),
            "nulls": tally.missing(column),
            "redacted": stats.redacted if stats else 0,
            "na_literal": stats.na_literal if stats else 0,
            "source_names": stats.source_names if stats else [],
        }
        identifier = identifier_reason(column, schema_field.type, partial(_sample, tally, file, column))
        if identifier:
            entry["identifier"] = identifier
        if stats and (stats.unparsed or stats.out_of_range):
            entry["unparsed"] = stats.unparsed
            entry["out_of_range"] = stats.out_of_range
            entry["unparsed_examples"] = stats.unparsed_examples
            warnings.append(
                f"table {name!r} column {column!r}: {stats.unparsed:,} values not understood and "
                f"{stats.out_of_range:,} out of range; set to missing (e.g. {stats.unparsed_examples[:2]})"
            )
        warnings += _cleaning_notes(name, column, stats, entry)
        columns[column] = entry
    spans = tally.spans.get(date_column, {}) if date_column else {}
    period = None
    if spans:
        period = {"column": date_column, "first": min(f for f, _ in spans.values()).isoformat(),
                  "last": max(last for _, last in spans.values()).isoformat()}
    return {
        "rows": total,
        "rows_by_fiscal_year": by_year,
        "rows_without_fiscal_year": without_year,
        "fiscal_year_source": sorted(parts.fiscal_year_sources),
        "dated_by": date_column,
        "likely_duplicates": duplicates,
        "period": period,
        "fiscal_year_coverage": _fiscal_year_coverage(spans),
        "known_kind": parts.known_kind,
        "columns": columns,
        "_warnings": warnings,
    }
