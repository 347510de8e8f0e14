"""Build the processed tables of a release: read and clean every sheet, group sheets into
tables, write parquet and the manifest into a staging folder, then swap it into place."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from analysis import __version__
from analysis.atomic import clean_leftovers, swap_into_place
from analysis.errors import InputFileError, ReleaseError
from analysis.fingerprint import reader_fingerprint
from analysis.paths import ReleaseLocation, display_path
from analysis.progress import Progress
from analysis.reading.cleaning import clean_columns, fiscal_years, row_hashes
from analysis.reading.manifest import MANIFEST_NAME, table_summary
from analysis.reading.parts import TableParts
from analysis.reading.sheets import RawSheet, Restart, SkippedSheet, open_sheets
from analysis.reading.validation import CATEGORIES, check_structure, validate
from analysis.vocab.columns import PROVENANCE_COLUMNS, is_date_column
from analysis.vocab.kinds import KIND_BY_NAME, detect_kind, other_table_name, single_fiscal_year


def build_tables(
    location: ReleaseLocation, files: list[Path], records: list[dict], out_dir: Path, progress: Progress
) -> dict:
    assert location.raw_dir is not None
    staging = out_dir.with_name(f".{out_dir.name}.staging-{os.getpid()}")
    clean_leftovers(out_dir.parent)
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    try:
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
                    info = read_sheet(item, tables, staging / "parts")
                    warnings.extend(item.warnings)
                    sheets.append(info)
                    if info["rows"] == 0:
                        warnings.append(f"{name}{_sheet_label(item.sheet)}: header row but no records")
        if not tables:
            raise ReleaseError("no sheet of this release holds records", file=display_path(location.raw_dir))
        manifest: dict[str, Any] = {
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
        for table_name in sorted(tables):
            with progress.step(f"ingest {location.release_id}: writing {table_name}.parquet"):
                path = staging / f"{table_name}.parquet"
                tables[table_name].write(path)
                sheet_rows = sum(s["rows"] for s in sheets if s["table"] == table_name)
                warnings.extend(validate_written(table_name, path, sheet_rows))
                summary = table_summary(table_name, path, tables[table_name])
                manifest["tables"][table_name] = summary
                warnings.extend(summary.pop("_warnings"))
        shutil.rmtree(staging / "parts", ignore_errors=True)
        (staging / MANIFEST_NAME).write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        swap_into_place(staging, out_dir)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return manifest


def validate_written(table_name: str, path: Path, sheet_rows: int) -> list[str]:
    """Validate a written table reading only the columns the checks look at (all columns'
    types are checked from the schema alone), so memory stays bounded at any size."""
    schema = pq.read_schema(path)
    check_structure(table_name, schema.empty_table())
    needed = [n for n in schema.names if n in PROVENANCE_COLUMNS or n in CATEGORIES or is_date_column(n) or n == "birth_year"]
    return validate(table_name, pq.read_table(path, columns=needed), sheet_rows)


def _sheet_label(sheet: str | None) -> str:
    return f" sheet {sheet!r}" if sheet else ""


def read_sheet(sheet: RawSheet, tables: dict[str, TableParts], parts_folder: Path) -> dict:
    """Clean one sheet batch by batch into the parts of its table; returns the sheet's manifest entry."""
    rows = 0
    added = 0
    kind_name: str | None = None
    table_name = ""
    fy_source = "none"
    fiscal_year: int | None = None
    for item in sheet.batches():
        if isinstance(item, Restart):
            tables[table_name].drop_last(added)
            rows = added = 0
            continue
        raw, row_numbers = item
        columns, stats = clean_columns(raw, sheet.layout.header)
        keep = _non_blank_rows(columns, raw.num_rows)
        if keep is not None:
            columns = {name: pc.filter(values, keep) for name, values in columns.items()}
            row_numbers = [n for n, k in zip(row_numbers, keep.to_pylist(), strict=True) if k]
        if not table_name:
            kind_name, table_name, fiscal_year = _sheet_identity(sheet, columns)
        table, fy_source = _with_provenance(sheet, columns, row_numbers, kind_name, fiscal_year)
        parts = tables.setdefault(table_name, TableParts(parts_folder / table_name))
        parts.known_kind = table_name in KIND_BY_NAME
        parts.add(table, stats, fy_source)
        rows += table.num_rows
        added += 1
    return {
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


def _sheet_identity(sheet: RawSheet, columns: dict[str, pa.Array]) -> tuple[str | None, str, int | None]:
    """The sheet's kind, table name and (if its title names one) fiscal year; checks required columns."""
    stem = Path(sheet.name).name.split(".")[0]
    kind_name = detect_kind(sheet.layout.title, stem, sheet.sheet, list(columns))
    kind = KIND_BY_NAME.get(kind_name or "")
    for required in kind.required if kind else ():
        if required not in columns:
            assert kind is not None
            raise InputFileError(
                f"the {kind.name} table needs a column {required!r} (see ALIASES in src/analysis/columns.py "
                "for the spellings recognised)",
                file=sheet.name,
                sheet=sheet.sheet,
                column=required,
            )
    return kind_name, kind_name or other_table_name(stem, sheet.sheet), single_fiscal_year(sheet.layout.title, sheet.sheet, stem)


def _with_provenance(sheet: RawSheet, columns: dict[str, pa.Array], row_numbers: list[int], kind_name: str | None,
                     fiscal_year: int | None) -> tuple[pa.Table, str]:
    """The batch with its fiscal year, source file, sheet, row and row hash; and where the year came from."""
    rows = len(row_numbers)
    kind = KIND_BY_NAME.get(kind_name or "")
    date_column = kind.date_column if kind else next((c for c in columns if c.endswith("_date")), None)
    if fiscal_year is not None:
        fy_values, fy_source = pa.array([fiscal_year] * rows, pa.int16()), "sheet title"
    elif date_column and date_column in columns:
        fy_values, fy_source = fiscal_years(columns[date_column]), date_column
    else:
        fy_values, fy_source = pa.nulls(rows, pa.int16()), "none"
    provenance = {
        "fiscal_year": fy_values,
        "source_file": _constant(sheet.name, rows),
        "source_sheet": _constant(sheet.sheet, rows),
        "source_row": pa.array(row_numbers, pa.int32()),
        "row_hash": row_hashes(columns),
    }
    assert tuple(provenance) == PROVENANCE_COLUMNS
    return pa.table({**columns, **provenance}), fy_source


def _constant(value: str | None, rows: int) -> pa.DictionaryArray:
    """The same text on every row, as a dictionary column (one value, no per-row strings)."""
    indices = pa.array(np.zeros(rows, dtype=np.int32)) if value is not None else pa.nulls(rows, pa.int32())
    return pa.DictionaryArray.from_arrays(indices, pa.array([value] if value is not None else [], pa.string()))


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
