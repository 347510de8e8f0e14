"""Build the processed tables of a release: read and clean every sheet, group sheets into
tables, write parquet and the manifest into a staging folder, then swap it into place."""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from . import __version__
from .cache import reader_fingerprint
from .cleaning import ColumnStats, clean_columns, fiscal_years, row_hashes
from .columns import PROVENANCE_COLUMNS
from .errors import InputFileError, ReleaseError
from .ingest import swap_into_place
from .kinds import KIND_BY_NAME, detect_kind, other_table_name, single_fiscal_year
from .manifest import MANIFEST_NAME, table_summary
from .paths import ReleaseLocation, display_path
from .progress import Progress
from .sources import RawSheet, SkippedSheet, open_sheets
from .validation import validate


@dataclass
class TableParts:
    """The cleaned sheets of one table, waiting to be concatenated."""

    parts: list[pa.Table] = field(default_factory=list)
    stats: dict[str, ColumnStats] = field(default_factory=dict)
    fiscal_year_sources: set[str] = field(default_factory=set)
    known_kind: bool = True

    def add(self, table: pa.Table, stats: dict[str, ColumnStats], fy_source: str) -> None:
        self.parts.append(table)
        self.fiscal_year_sources.add(fy_source)
        for name, column_stats in stats.items():
            self.stats.setdefault(name, ColumnStats()).add(column_stats)


def build_tables(
    location: ReleaseLocation, files: list[Path], records: list[dict], out_dir: Path, progress: Progress
) -> dict:
    assert location.raw_dir is not None
    tables: dict[str, TableParts] = {}
    sheets: list[dict] = []
    skipped: list[dict] = []
    warnings: list[str] = []
    for index, path in enumerate(files, start=1):
        name = path.relative_to(location.raw_dir).as_posix()
        with progress.step(f"ingest {location.release_id}: [{index}/{len(files)}] {name}"):
            for item in open_sheets(path, name):
                if isinstance(item, SkippedSheet):
                    skipped.append({"file": item.name, "sheet": item.sheet, "reason": item.reason})
                    continue
                table_name, table, stats, info = read_sheet(item)
                warnings.extend(item.warnings)
                parts = tables.setdefault(table_name, TableParts())
                parts.known_kind = table_name in KIND_BY_NAME
                parts.add(table, stats, info["fiscal_year_source"])
                sheets.append(info)
                if info["rows"] == 0:
                    warnings.append(f"{name}{_sheet_label(item.sheet)}: header row but no records")
    if not tables:
        raise ReleaseError("no sheet of this release holds records", file=display_path(location.raw_dir))
    manifest = {
        "release": location.release_id,
        "reader_fingerprint": reader_fingerprint(),
        "package_version": __version__,
        "source": display_path(location.raw_dir),
        "synthetic": bool(location.config.get("synthetic")) or any(s["synthetic"] for s in sheets),
        "previous_release": location.config.get("previous_release"),
        "foia_numbers": sorted({s["foia_number"] for s in sheets if s["foia_number"]}),
        "as_of": sorted({s["as_of"] for s in sheets if s["as_of"]}),
        "files": records,
        "sheets": sheets,
        "skipped_sheets": skipped,
        "tables": {},
        "warnings": warnings,
    }
    staging = out_dir.with_name(f".{out_dir.name}.staging-{os.getpid()}")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    try:
        for table_name in sorted(tables):
            with progress.step(f"ingest {location.release_id}: writing {table_name}.parquet"):
                table = combine(tables[table_name].parts)
                warnings.extend(validate(table_name, table, sum(s["rows"] for s in sheets if s["table"] == table_name)))
                pq.write_table(table, staging / f"{table_name}.parquet", compression="zstd", row_group_size=1 << 20)
                summary = table_summary(table_name, table, tables[table_name])
                manifest["tables"][table_name] = summary
                warnings.extend(summary.pop("_warnings"))
        (staging / MANIFEST_NAME).write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        swap_into_place(staging, out_dir)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return manifest


def _sheet_label(sheet: str | None) -> str:
    return f" sheet {sheet!r}" if sheet else ""


def read_sheet(sheet: RawSheet) -> tuple[str, pa.Table, dict[str, ColumnStats], dict]:
    """Clean one sheet and decide its table and fiscal years."""
    raw, row_numbers = sheet.read()
    columns, stats = clean_columns(raw, sheet.layout.header)
    keep = _non_blank_rows(columns, raw.num_rows)
    if keep is not None:
        columns = {name: pc.filter(values, keep) for name, values in columns.items()}
        row_numbers = [n for n, k in zip(row_numbers, keep.to_pylist()) if k]
    stem = Path(sheet.name).name.split(".")[0]
    kind_name = detect_kind(sheet.layout.title, stem, sheet.sheet, list(columns))
    table_name = kind_name or other_table_name(stem, sheet.sheet)
    kind = KIND_BY_NAME.get(kind_name or "")
    if kind:
        for required in kind.required:
            if required not in columns:
                raise InputFileError(
                    f"the {kind.name} table needs a column {required!r} (see ALIASES in src/analysis/columns.py "
                    "for the spellings recognised)",
                    file=sheet.name,
                    sheet=sheet.sheet,
                    column=required,
                )
    rows = len(row_numbers)
    fiscal_year = single_fiscal_year(sheet.layout.title, sheet.sheet, stem)
    date_column = kind.date_column if kind else next((c for c in columns if c.endswith("_date")), None)
    if fiscal_year is not None:
        fy_values = pa.array([fiscal_year] * rows, pa.int16())
        fy_source = "sheet title"
    elif date_column and date_column in columns:
        fy_values = fiscal_years(columns[date_column])
        fy_source = f"{date_column}"
    else:
        fy_values = pa.nulls(rows, pa.int16())
        fy_source = "none"
    hashes = row_hashes(columns)
    provenance = {
        "fiscal_year": fy_values,
        "source_file": pa.array([sheet.name] * rows, pa.string()).dictionary_encode(),
        "source_sheet": pa.array([sheet.sheet] * rows, pa.string()).dictionary_encode(),
        "source_row": pa.array(row_numbers, pa.int32()),
        "row_hash": hashes,
    }
    assert tuple(provenance) == PROVENANCE_COLUMNS
    table = pa.table({**columns, **provenance})
    info = {
        "file": sheet.name,
        "sheet": sheet.sheet,
        "table": table_name,
        "header_row": sheet.layout.header_row,
        "delimiter": sheet.delimiter,
        "encoding": sheet.encoding,
        "rows": rows,
        "title": sheet.layout.title,
        "foia_number": sheet.layout.foia_number,
        "as_of": sheet.layout.as_of,
        "synthetic": sheet.layout.is_synthetic,
        "fiscal_year": fiscal_year,
        "fiscal_year_source": fy_source,
        "columns": [h for h in sheet.layout.header if h],
    }
    return table_name, table, stats, info


def _non_blank_rows(columns: dict[str, pa.Array], num_rows: int) -> pa.Array | None:
    """Mask of rows with at least one value, or None when no row is blank."""
    if not columns or num_rows == 0:
        return None
    any_value = None
    for values in columns.values():
        valid = pc.is_valid(values)
        any_value = valid if any_value is None else pc.or_(any_value, valid)
    assert any_value is not None
    return None if pc.all(any_value).as_py() else any_value


def combine(parts: list[pa.Table]) -> pa.Table:
    """One table from sheets whose columns may differ: missing columns become nulls;
    data columns in order of first appearance, provenance last."""
    table = pa.concat_tables(parts, promote_options="default")
    data_columns: list[str] = []
    for part in parts:
        data_columns += [c for c in part.column_names if c not in PROVENANCE_COLUMNS and c not in data_columns]
    table = table.select(data_columns + list(PROVENANCE_COLUMNS))
    return table.combine_chunks()


