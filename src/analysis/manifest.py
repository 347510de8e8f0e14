"""manifest.json: what a processed release holds, where it came from, and what cleaning removed."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import TYPE_CHECKING

from .columns import PROVENANCE_COLUMNS
from .errors import ReleaseError
from .kinds import KIND_BY_NAME

if TYPE_CHECKING:
    import pyarrow as pa

    from .ingest import TableParts

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


def _count_by_fiscal_year(table: pa.Table) -> tuple[dict[str, int], int]:
    import pyarrow.compute as pc

    counts = pc.value_counts(table.column("fiscal_year").combine_chunks()).to_pylist()
    by_year = {str(c["values"]): int(c["counts"]) for c in counts if c["values"] is not None}
    missing = sum(int(c["counts"]) for c in counts if c["values"] is None)
    return dict(sorted(by_year.items())), missing


def _fiscal_year_coverage(table: pa.Table, date_column: str | None) -> dict[str, dict[str, str]]:
    """First and last event date within each fiscal year: what tells a partial year."""
    if not date_column or date_column not in table.column_names:
        return {}
    grouped = table.select(["fiscal_year", date_column]).group_by("fiscal_year").aggregate(
        [(date_column, "min"), (date_column, "max")]
    )
    coverage = {}
    for row in grouped.to_pylist():
        first, last = row[f"{date_column}_min"], row[f"{date_column}_max"]
        if row["fiscal_year"] is not None and first is not None:
            coverage[str(row["fiscal_year"])] = {"first": first.isoformat(), "last": last.isoformat()}
    return dict(sorted(coverage.items()))


def table_summary(name: str, table: pa.Table, parts: TableParts) -> dict:
    """The manifest entry of one table; `_warnings` is taken out by the caller."""
    import pyarrow.compute as pc

    by_year, without_year = _count_by_fiscal_year(table)
    hashes = table.column("row_hash")
    duplicates = table.num_rows - pc.count_distinct(hashes).as_py()
    kind = KIND_BY_NAME.get(name)
    warnings: list[str] = []
    if not parts.known_kind:
        warnings.append(f"table {name!r}: not a known table kind; kept as its own table")
    if without_year:
        warnings.append(f"table {name!r}: {without_year:,} records without a fiscal year (event date missing)")
    columns = {}
    for column in table.column_names:
        if column in PROVENANCE_COLUMNS:
            continue
        values = table.column(column)
        stats = parts.stats.get(column)
        entry = {
            "type": str(values.type),
            "nulls": values.null_count,
            "redacted": stats.redacted if stats else 0,
            "na_literal": stats.na_literal if stats else 0,
            "source_names": stats.source_names if stats else [],
        }
        if stats and (stats.unparsed or stats.out_of_range):
            entry["unparsed"] = stats.unparsed
            entry["out_of_range"] = stats.out_of_range
            entry["unparsed_examples"] = stats.unparsed_examples
            warnings.append(
                f"table {name!r} column {column!r}: {stats.unparsed:,} values not understood and "
                f"{stats.out_of_range:,} out of range; set to missing (e.g. {stats.unparsed_examples[:2]})"
            )
        columns[column] = entry
    date_column = kind.date_column if kind else None
    period = None
    if date_column and date_column in table.column_names:
        bounds = pc.min_max(table.column(date_column))
        if bounds["min"].is_valid:
            period = {"column": date_column, "first": bounds["min"].as_py().isoformat(), "last": bounds["max"].as_py().isoformat()}
    coverage = _fiscal_year_coverage(table, date_column)
    return {
        "rows": table.num_rows,
        "rows_by_fiscal_year": by_year,
        "rows_without_fiscal_year": without_year,
        "fiscal_year_source": sorted(parts.fiscal_year_sources),
        "likely_duplicates": duplicates,
        "period": period,
        "fiscal_year_coverage": coverage,
        "known_kind": parts.known_kind,
        "columns": columns,
        "_warnings": warnings,
    }
