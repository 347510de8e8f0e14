"""Build the processed tables of a release: read and clean every sheet, group sheets into
tables, write parquet and the manifest into a staging folder, then swap it into place."""

from __future__ import annotations

import json
import os
import shutil
import threading
from collections import Counter
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, suppress
from dataclasses import dataclass, field
from functools import partial
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
from analysis.reading.ahead import FilesAhead
from analysis.reading.arrays import empty_table, numbers, texts
from analysis.reading.cleaning import SET_MISSING_KEYS, ColumnStats, clean_columns, fiscal_years, row_hashes
from analysis.reading.coded import coded, missing_rows, rows_of
from analysis.reading.duplicates import Duplicates, SheetRecords
from analysis.reading.files import listing_warnings
from analysis.reading.footnotes import footnotes
from analysis.reading.manifest import MANIFEST_NAME, table_summary
from analysis.reading.parts import TableParts
from analysis.reading.records import RowNumbers, where
from analysis.reading.sheets import NoteSheet, RawSheet, Restart, SkippedSheet, open_sheets
from analysis.reading.summary import comparison_warning, reconcile, summary_blocks
from analysis.reading.tally import TableTally
from analysis.reading.validation import (
    ValidationError,
    check_provenance_values,
    check_row_count,
    check_structure,
    new_tally,
    tally_of,
    tally_warnings,
)
from analysis.vocab.columns import PROVENANCE_COLUMNS, canonical_columns, is_date_column
from analysis.vocab.kinds import KIND_BY_NAME, detect_kind, other_table_name, single_fiscal_year


def build_tables(
    location: ReleaseLocation, files: list[Path], records: list[dict], out_dir: Path, progress: Progress
) -> dict:
    assert location.raw_dir is not None
    staging = out_dir.with_name(f".{out_dir.name}.staging-{os.getpid()}")
    clean_leftovers(out_dir.parent)
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    with ExitStack() as stack:
        stack.callback(shutil.rmtree, staging, ignore_errors=True)
        stack.callback(_prepare_meanwhile().join)
        tables: dict[str, TableParts] = {}
        sheets: list[dict] = []
        skipped: list[dict] = []
        note_sheets: list[NoteSheet] = []
        warnings: list[str] = listing_warnings(location.raw_dir)
        stack.callback(_close_all, tables)  # stream files left open by an error
        duplicates = Duplicates(tables, sheets, skipped, warnings)
        names = [path.relative_to(location.raw_dir).as_posix() for path in files]
        files_ahead = FilesAhead([partial(_file_items, path, name) for path, name in zip(files, names, strict=True)])
        stack.callback(files_ahead.close)
        for index, (name, items) in enumerate(zip(names, files_ahead, strict=True), start=1):
            with progress.step(f"ingest {location.release_id}: [{index}/{len(files)}] {name}"):
                for item in items:
                    if isinstance(item, SkippedSheet):
                        skipped.append({"file": item.name, "sheet": item.sheet, "reason": item.reason})
                        continue
                    if isinstance(item, NoteSheet):
                        skipped.append({"file": item.name, "sheet": item.sheet, "reason": NOTE_SHEET_REASONS[item.role]})
                        note_sheets.append(item)
                        continue
                    assert isinstance(item, RawSheet)
                    info = read_sheet(item, tables, staging / "parts", _sheet_batches(items))
                    warnings.extend(item.warnings)
                    sheets.append(info)
                    duplicates.admit(info)
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
            "ice_totals": [],
            "ice_totals_vs_records": [],
            "ice_footnotes": [],
            "warnings": warnings,
        }
        names = sorted(tables)
        with progress.step(f"ingest {location.release_id}: writing {', '.join(f'{n}.parquet' for n in names)}"):
            rows = {name: sum(s["rows"] for s in sheets if s["table"] == name) for name in names}
            with ThreadPoolExecutor(max_workers=WRITERS) as pool:  # pyarrow writes without the GIL
                written = list(pool.map(lambda name: _finish_table(name, tables[name], staging, rows[name]), names))
            for name, (validation_warnings, summary) in zip(names, written, strict=True):
                warnings.extend(validation_warnings)
                manifest["tables"][name] = summary
                warnings.extend(summary.pop("_warnings"))
        _read_note_sheets(note_sheets, manifest)
        shutil.rmtree(staging / "parts", ignore_errors=True)
        (staging / MANIFEST_NAME).write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        swap_into_place(staging, out_dir)
    return manifest


def _prepare_meanwhile() -> threading.Thread:
    """The reader's fingerprint, which the manifest needs at the end, worked out in a thread while
    the first files are parsed (pyarrow parses without holding the GIL). Reading never imports
    pandas (`arrays.py`); a workbook's cells are the one place pyarrow may."""
    thread = threading.Thread(target=reader_fingerprint, name="ingest-prepare")
    thread.start()
    return thread


def _close_all(tables: dict[str, TableParts]) -> None:
    """Stream files left open when reading stopped at an error (they go with the staging folder;
    an error of theirs would only hide the first one)."""
    for parts in tables.values():
        with suppress(Exception):
            parts.close()


_SHEET_END = object()  # after the last batch of a sheet, in the items of a file


def _file_items(path: Path, name: str) -> Iterator[SkippedSheet | NoteSheet | RawSheet | PreparedBatch | Restart | object]:
    """What ingest files from one file, in order: each sheet, and after a sheet of records its
    prepared batches and _SHEET_END. Made in a reader thread (`ahead.FilesAhead`)."""
    for item in open_sheets(path, name):
        yield item
        if isinstance(item, RawSheet):
            yield from prepared_batches(item)
            yield _SHEET_END


def _sheet_batches(items: Iterator[object]) -> Iterator[PreparedBatch | Restart]:
    """The batches of the sheet just met in a file's items."""
    for item in items:
        if item is _SHEET_END:
            return
        assert isinstance(item, PreparedBatch | Restart)
        yield item


NOTE_SHEET_REASONS = {
    "summary": "ICE's own totals, not records: kept in the manifest (ice_totals) and compared with the records",
    "footnotes": "ICE's footnotes, not records: kept in the manifest (ice_footnotes) and quoted in the report",
}


def _read_note_sheets(note_sheets: list[NoteSheet], manifest: dict) -> None:
    """ICE's Summary blocks (compared with the records read) and Footnotes, into the manifest."""
    for note_sheet in note_sheets:
        if note_sheet.role == "summary":
            blocks, notes = summary_blocks(note_sheet.rows, file=note_sheet.name, sheet=note_sheet.sheet)
            manifest["ice_totals"].extend({**block, "reader": note_sheet.reader} for block in blocks)
            manifest["warnings"].extend(notes)
        else:
            banners = {b for s in manifest["sheets"] if s["file"] == note_sheet.name for b in s.get("banners", [])}
            manifest["ice_footnotes"].append({"file": note_sheet.name, "sheet": note_sheet.sheet,
                                              "reader": note_sheet.reader,
                                              **footnotes(note_sheet.rows, banners_elsewhere=banners)})
    comparisons = reconcile(manifest["ice_totals"], manifest["sheets"], manifest["tables"])
    manifest["ice_totals_vs_records"] = comparisons
    manifest["warnings"].extend(w for entry in comparisons if (w := comparison_warning(entry)))


WRITERS = 2  # tables written at once


def _finish_table(name: str, parts: TableParts, staging: Path, sheet_rows: int) -> tuple[list[str], dict]:
    """Write one table's parquet file, validate it, and summarise it for the manifest."""
    path = staging / f"{name}.parquet"
    parts.write(path)
    tally = parts.tally_into(new_tally(name))
    validation_warnings = validate_written(name, path, sheet_rows, tally)
    return validation_warnings, table_summary(name, path, parts, tally)


def validate_written(table_name: str, path: Path, sheet_rows: int, tally: TableTally) -> list[str]:
    """Validate a written table: its types from the file's schema, its values from the tally of
    the records written to it (nothing read back, whatever the table's size)."""
    metadata = pq.read_metadata(path)
    schema = metadata.schema.to_arrow_schema()
    check_structure(table_name, empty_table(schema))
    if tally.rows != metadata.num_rows:
        raise ValidationError(f"table {table_name!r}: {metadata.num_rows:,} rows written but {tally.rows:,} counted "
                              "while writing them; the table is not published")
    check_provenance_values(table_name, schema.names, tally)
    check_row_count(table_name, metadata.num_rows, sheet_rows)
    return tally_warnings(table_name, schema.names, tally)


def _sheet_label(sheet: str | None) -> str:
    return f" sheet {sheet!r}" if sheet else ""


@dataclass
class PreparedBatch:
    """One batch of a sheet, cleaned, with its provenance columns: what the reader thread hands
    to `read_sheet`."""

    table: pa.Table  # data columns coded (`coded.py`), then the provenance columns
    stats: dict[str, ColumnStats]
    fy_source: str
    identity: SheetIdentity
    tally: TableTally  # its counts for validation and the manifest (`tally.py`)


def prepared_batches(sheet: RawSheet) -> Iterator[PreparedBatch | Restart]:
    """The sheet's batches cleaned, blank rows dropped, hashed and given their provenance: the
    work that depends on nothing but the sheet (done ahead, in a reader thread)."""
    identity: SheetIdentity | None = None  # decided on the first batch read, kept if reading restarts
    for item in sheet.batches():
        if isinstance(item, Restart):
            yield item
            continue
        raw, row_numbers = item
        columns, stats = clean_columns(raw, sheet.layout.header)
        keep = _non_blank_rows(columns, raw.num_rows)
        if keep is not None:
            columns = {name: values.filter(numbers(keep)) for name, values in columns.items()}
            row_numbers = row_numbers[keep]
        if identity is None:
            identity = _sheet_identity(sheet, columns)
        table, fy_source = _with_provenance(sheet, columns, row_numbers, identity, row_hashes(columns))
        yield PreparedBatch(table, stats, fy_source, identity, tally_of(identity.table, table))


def read_sheet(sheet: RawSheet, tables: dict[str, TableParts], parts_folder: Path,
               batches: Iterable[PreparedBatch | Restart] | None = None) -> dict:
    """File one sheet's prepared batches (`prepared_batches`, read now unless given) into the parts
    of its table; returns the sheet's manifest entry."""
    rows = 0
    identity: SheetIdentity | None = None
    fy_source = "none"
    by_year: Counter[str] = Counter()
    dates = _DateTally()
    records = SheetRecords()
    sheet_stats: dict[str, ColumnStats] = {}
    for item in prepared_batches(sheet) if batches is None else batches:
        if isinstance(item, Restart):
            if identity is not None:
                tables[identity.table].remove_sheet((sheet.name, sheet.sheet))
            rows = 0
            by_year.clear()
            dates, records = _DateTally(), SheetRecords()
            sheet_stats = {}
            continue
        table, stats, fy_source, identity = item.table, item.stats, item.fy_source, item.identity
        for name, column_stats in stats.items():
            sheet_stats.setdefault(name, ColumnStats()).add(column_stats)
        dates.add(identity, table, stats)
        parts = tables.setdefault(identity.table, TableParts(parts_folder / identity.table))
        parts.known_kind = identity.table in KIND_BY_NAME
        parts.add(table, stats, fy_source, item.tally, sheet=(sheet.name, sheet.sheet), dated_by=identity.dated_by)
        records.add(table, identity.kind, identity.fiscal_year)
        by_year.update({str(year): rows for year, rows in item.tally.years.items() if year is not None})
        rows += table.num_rows
    assert identity is not None, "every sheet yields at least one batch"
    dates.check(sheet)
    return {
        "_records": records,  # taken out by `Duplicates.admit`
        **({"hidden": True} if sheet.hidden else {}),
        "file": sheet.name,
        "sheet": sheet.sheet,
        "table": identity.table,
        "reader": sheet.reader,
        "header_row": sheet.layout.header_row,
        "delimiter": sheet.delimiter,
        "encoding": sheet.encoding,
        "rows": rows,
        "rows_by_fiscal_year": dict(sorted(by_year.items())),
        "title": sheet.layout.title,
        "banners": sheet.layout.banners,
        "foia_number": sheet.layout.foia_number,
        "as_of": sheet.layout.as_of,
        "synthetic": sheet.layout.is_synthetic,
        "fiscal_year": identity.fiscal_year,
        "fiscal_year_source": fy_source,
        "dated_by": identity.dated_by,
        "dated_by_header": identity.dated_by_header,
        "columns": [h for h in sheet.layout.header if h],
        "set_missing": set_missing_counts(sheet_stats),
    }


def set_missing_counts(stats: dict[str, ColumnStats]) -> dict[str, dict[str, int]]:
    """Per column, the values cleaning set to missing in one sheet (non-zero counts only): what lets a
    combined release that uses some of a production's sheets count its redactions exactly."""
    counts = {}
    for name, column_stats in stats.items():
        found = {key: getattr(column_stats, key) for key in SET_MISSING_KEYS if getattr(column_stats, key)}
        if found:
            counts[name] = found
    return counts


@dataclass(frozen=True)
class SheetIdentity:
    kind: str | None  # a known table kind, or None: the sheet is its own table
    table: str
    fiscal_year: int | None  # the one fiscal year the sheet's title (or name) gives, if any
    dated_by: str | None  # the column whose dates give each record's fiscal year otherwise
    dated_by_header: str | None  # that column's header as the sheet spells it


@dataclass
class _DateTally:
    """A sheet's event dates understood and not: a sheet whose every date fails (an unknown format)
    would give no record a date, so it is refused rather than read as records without dates."""

    column: str | None = None
    parsed: int = 0
    failed: int = 0
    examples: list[str] = field(default_factory=list)

    def add(self, identity: SheetIdentity, table: pa.Table, stats: dict[str, ColumnStats]) -> None:
        column = identity.dated_by
        if identity.kind is None or column is None or column not in table.column_names:
            return
        self.column = column
        values, column_stats = coded(table.column(column)), stats[column]
        self.parsed += len(values) - missing_rows(values)
        self.failed += column_stats.unparsed + column_stats.out_of_range
        self.examples = (self.examples + column_stats.unparsed_examples)[:3]

    def check(self, sheet: RawSheet) -> None:
        if self.failed and not self.parsed:
            raise InputFileError(
                f"none of its {self.failed:,} dates could be read (not understood or out of range, e.g. "
                f"{self.examples}); dates are read as M/D/YYYY, M/D/YY, YYYY-MM-DD or Excel serial numbers",
                file=sheet.name, sheet=sheet.sheet, column=self.column,
            )


def _sheet_identity(sheet: RawSheet, columns: dict[str, pa.Array]) -> SheetIdentity:
    """The sheet's kind, table, fiscal year and date column. A sheet named after a kind but without
    any column that dates that kind is kept as its own table and reported, never refused."""
    stem = Path(sheet.name).name.split(".")[0]
    kind = KIND_BY_NAME.get(detect_kind(sheet.layout.title, stem, sheet.sheet, list(columns)) or "")
    dated_by = kind.dated_by(columns) if kind else None
    if kind is not None and dated_by is None:
        table = other_table_name(stem, sheet.sheet)
        sheet.warnings.append(
            f"{where(sheet)}: reads as {kind.name} but has no column {' or '.join(map(repr, kind.date_columns))} to "
            f"date its records (see ALIASES in src/analysis/vocab/columns.py for the spellings recognised); kept as "
            f"its own table {table!r}"
        )
        kind = None
    if kind is None:
        dated_by = next((c for c in columns if is_date_column(c)), None)
    header = dict(zip(canonical_columns(sheet.layout.header), sheet.layout.header, strict=True))
    return SheetIdentity(
        kind=kind.name if kind else None,
        table=kind.name if kind else other_table_name(stem, sheet.sheet),
        fiscal_year=single_fiscal_year(sheet.layout.title, sheet.sheet, stem),
        dated_by=dated_by,
        dated_by_header=header.get(dated_by) if dated_by else None,
    )


def _with_provenance(sheet: RawSheet, columns: dict[str, pa.DictionaryArray], row_numbers: RowNumbers,
                     identity: SheetIdentity, hashes: pa.Array) -> tuple[pa.Table, str]:
    """The batch with its fiscal year, source file, sheet, row and row hash; and where the year came from."""
    rows = len(row_numbers)
    if identity.fiscal_year is not None:
        fy_values, fy_source = numbers(np.full(rows, identity.fiscal_year, np.int16)), "sheet title"
    elif identity.dated_by and identity.dated_by in columns:
        fy_values, fy_source = fiscal_years(columns[identity.dated_by]), identity.dated_by
    else:
        fy_values, fy_source = pa.nulls(rows, pa.int16()), "none"
    provenance = {
        "fiscal_year": fy_values,
        "source_file": _constant(sheet.name, rows),
        "source_sheet": _constant(sheet.sheet, rows),
        "source_row": numbers(row_numbers, pa.int32()),
        "row_hash": hashes,
    }
    assert tuple(provenance) == PROVENANCE_COLUMNS
    return pa.table({**columns, **provenance}), fy_source


def _constant(value: str | None, rows: int) -> pa.DictionaryArray:
    """The same text on every row, as a dictionary column (one value, no per-row strings)."""
    indices = numbers(np.zeros(rows, dtype=np.int32)) if value is not None else pa.nulls(rows, pa.int32())
    return pa.DictionaryArray.from_arrays(indices, texts([value] if value is not None else []))


def _non_blank_rows(columns: dict[str, pa.DictionaryArray], num_rows: int) -> np.ndarray | None:
    """Mask of rows with at least one value, or None when no row is blank."""
    if not columns or num_rows == 0:
        return None
    if any(missing_rows(column) == 0 for column in columns.values()):
        return None  # a column with a value in every row
    any_value = np.zeros(num_rows, bool)
    for column in columns.values():
        any_value |= rows_of(pc.is_valid(column.dictionary), column)
    return None if any_value.all() else any_value
