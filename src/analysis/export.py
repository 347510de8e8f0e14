"""`analysis export`: a release's processed tables as CSV, Parquet or Stata files, for
colleagues who work in other tools.

What an export holds, and why. The report publishes aggregates only. An export is the
other thing a researcher asks for: the cleaned records themselves, to analyse elsewhere.
So an export is record-level by nature, and is treated as working data, not as a
publication:
- identifiers (recognised by name in every spelling ICE uses, or by their shape at ingest:
  `manifest.identifier_columns`) and `row_hash` (a hash of the whole record, so a linkage key
  too) are left out, always, and the export's README.txt says so: the processed parquet keeps
  them for analysis inside the project;
- exports go to data/exports/<release>/ by default, beside the other record-level data,
  and never into reports/ (what is published) or data/raw/ and data/processed/ (what
  ingest owns);
- every CSV cell, header cells included, that a spreadsheet would run as a formula is
  neutralised with a `'`;
- the export folder must not hold raw data files, a release.yml or a manifest (a release
  folder, raw or processed), nor lie inside a release folder this project has ingested.
Every file is written to a temporary name and renamed into place. CSV and Parquet are written
one batch of records at a time (memory stays bounded at any size); Stata's .dta is written by
pandas from the whole table, so it needs the table's columns in memory at once.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from analysis import __version__
from analysis.errors import AnalysisError
from analysis.escaping import csv_header, csv_strings
from analysis.paths import RELEASE_FILE, check_release_id, display_path, project_root
from analysis.reading.files import is_data_file
from analysis.reading.manifest import MANIFEST_NAME, identifier_columns
from analysis.release import BATCH_ROWS, Release

FORMATS = ("csv", "parquet", "dta")
LINKAGE_COLUMNS = frozenset({"row_hash"})
STATA_NAME_CHARS = 32
STATA_LABEL_CHARS = 80
STATA_STR_BYTES = 2045  # longer strings are written as strL
STATA_RESERVED = frozenset(
    "aggregate array boolean break byte case catch class colvector complex const continue default delegate delete do "
    "double else eltypedef end enum explicit export external float for friend function global goto if inline int "
    "local long NULL pragma protected quad rowvector short typedef typename virtual _all _N _skip _b _pi str# in "
    "_pred strL _coef _rc using _cons _se with _n".split()
)


class ExportError(AnalysisError):
    """An export that cannot be written where or as asked."""


@dataclass
class ExportResult:
    out_dir: Path
    files: list[Path] = field(default_factory=list)
    left_out: dict[str, list[str]] = field(default_factory=dict)
    renamed: dict[str, dict[str, str]] = field(default_factory=dict)


def default_export_dir(release_id: str) -> Path:
    return project_root() / "data" / "exports" / check_release_id(release_id)


def export_release(release_id: str, fmt: str, out_dir: Path | None = None, tables: list[str] | None = None, *,
                   batch_rows: int = BATCH_ROWS) -> ExportResult:
    """Write the processed tables of `release_id` (already ingested) in format `fmt`; CSV and
    Parquet `batch_rows` records at a time."""
    if fmt not in FORMATS:
        raise ExportError(f"unknown export format {fmt!r}: one of {', '.join(FORMATS)}")
    release = Release(release_id)
    manifest = release.manifest
    chosen = _chosen_tables(manifest, tables)
    out = check_export_dir(out_dir or default_export_dir(release_id))
    out.mkdir(parents=True, exist_ok=True)
    result = ExportResult(out)
    for name in chosen:
        stored = release.schema(name).names
        hidden = identifier_columns(manifest["tables"][name]) | LINKAGE_COLUMNS
        kept = [c for c in stored if c not in hidden]
        result.left_out[name] = [c for c in stored if c in hidden]
        target = out / f"{name}.{fmt}"
        WRITERS[fmt](Columns(release, name, kept, batch_rows), target, f"{release_id} {name}", result)
        result.files.append(target)
    readme = out / "README.txt"
    _atomic_write(readme, lambda tmp: tmp.write_text(readme_text(manifest, fmt, chosen, result), encoding="utf-8"))
    result.files.append(readme)
    return result


def _chosen_tables(manifest: dict, tables: list[str] | None) -> list[str]:
    available = sorted(manifest["tables"])
    if not tables:
        return available
    unknown = [t for t in tables if t not in available]
    if unknown:
        raise ExportError(f"release {manifest['release']!r} has no table {unknown[0]!r} (it has {', '.join(available)})")
    return list(dict.fromkeys(tables))


def check_export_dir(out: Path) -> Path:
    """Exports are record-level: never into reports/ (published) or data/raw, data/processed (ingest's)."""
    resolved = out.expanduser().resolve()
    root = project_root()
    forbidden = {
        root / "reports": "reports/ holds what is published, and exports are record-level",
        root / "data" / "raw": "data/raw/ holds the raw releases, which are never modified",
        root / "data" / "processed": "data/processed/ is written by ingest only",
    }
    for folder, why in forbidden.items():
        if resolved.is_relative_to(folder.resolve()):
            raise ExportError(f"cannot export into {display_path(resolved)}: {why}; choose another --out folder")
    if resolved.exists() and not resolved.is_dir():
        raise ExportError("export folder is a file, not a folder", file=display_path(resolved))
    if resolved.is_dir():
        found = _release_file(resolved)
        if found is not None:
            raise ExportError(f"cannot export into {display_path(resolved)}: it holds {found.name}, so it is a release "
                              "folder (raw or processed) and an export would change what ingest reads; choose another "
                              "--out folder")
    for folder in ingested_release_folders():
        if resolved.is_relative_to(folder):
            raise ExportError(f"cannot export into {display_path(resolved)}: it is inside the raw folder of an ingested "
                              f"release ({display_path(folder)}), whose files are never modified; choose another --out folder")
    return resolved


EXPORT_README_START = "Export of release "


def _release_file(folder: Path) -> Path | None:
    """A file that makes `folder` a release folder: a data file, release.yml or manifest.json,
    other than the files an earlier export wrote there (its README.txt says so)."""
    readme = folder / "README.txt"
    earlier_export = readme.is_file() and readme.read_text(encoding="utf-8", errors="replace").startswith(EXPORT_README_START)
    exported = {f"{name}.{fmt}" for name in _table_names_in(folder) for fmt in FORMATS} | {"README.txt"}
    for path in sorted(folder.iterdir()):
        if path.name in (MANIFEST_NAME, RELEASE_FILE):
            return path
        if is_data_file(path) and not (earlier_export and path.name in exported):
            return path
    return None


def _table_names_in(folder: Path) -> set[str]:
    return {path.name.split(".")[0] for path in folder.iterdir()}


def ingested_release_folders() -> list[Path]:
    """The raw folders of the releases ingested in this project (from their manifests)."""
    folders = []
    for manifest_path in sorted((project_root() / "data" / "processed").glob(f"*/{MANIFEST_NAME}")):
        try:
            source = json.loads(manifest_path.read_text(encoding="utf-8")).get("source")
        except (OSError, ValueError):
            continue
        if source:
            path = Path(source)
            folders.append((path if path.is_absolute() else project_root() / path).resolve())
    return folders


def _atomic_write(target: Path, write: Callable[[Path], object]) -> None:
    tmp = target.with_name(f".{target.name}.tmp-{os.getpid()}")
    try:
        write(tmp)
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


@dataclass(frozen=True)
class Columns:
    """The columns of one table an export writes, read through the `Release`."""

    release: Release
    table: str
    names: list[str]
    batch_rows: int = BATCH_ROWS

    def schema(self) -> pa.Schema:
        stored = self.release.schema(self.table)
        return pa.schema([stored.field(name) for name in self.names])

    def batches(self) -> Iterator[pa.RecordBatch]:
        """The records in file order, `batch_rows` at a time: memory stays bounded at any size."""
        return self.release.batches(self.table, self.names, rows=self.batch_rows)

    def whole(self) -> pa.Table:
        return self.release.arrow(self.table, self.names)


def _plain_type(data_type: pa.DataType) -> pa.DataType:
    """Dictionary-encoded columns (source_file, source_sheet) as plain strings."""
    return data_type.value_type if pa.types.is_dictionary(data_type) else data_type


def _plain_strings(table: pa.Table) -> pa.Table:
    columns = [c.cast(_plain_type(c.type)) for c in table.columns]
    return pa.table(columns, names=table.column_names)


# ---------------------------------------------------------------- writers


def _csv_cells(batch: pa.RecordBatch, schema: pa.Schema) -> pa.RecordBatch:
    """One batch as CSV cells: plain strings, formula-like text neutralised, under `schema`'s names."""
    columns = [column.cast(_plain_type(column.type)) for column in batch.columns]
    columns = [csv_strings(c) if pa.types.is_string(c.type) else c for c in columns]
    return pa.RecordBatch.from_arrays(columns, schema=schema)


def write_csv(columns: Columns, target: Path, title: str, result: ExportResult) -> None:
    """One batch at a time: the header once, then each batch's rows."""
    stored = columns.schema()
    schema = pa.schema([pa.field(name, _plain_type(f.type)) for name, f in zip(csv_header(stored.names), stored, strict=True)])

    def write(tmp: Path) -> None:
        with pacsv.CSVWriter(str(tmp), schema) as writer:
            for batch in columns.batches():
                writer.write_batch(_csv_cells(batch, schema))

    _atomic_write(target, write)


def write_parquet(columns: Columns, target: Path, title: str, result: ExportResult) -> None:
    """One batch at a time, each a row group; types as stored (dictionaries stay dictionaries)."""
    def write(tmp: Path) -> None:
        with pq.ParquetWriter(str(tmp), columns.schema(), compression="zstd") as writer:
            for batch in columns.batches():
                writer.write_batch(batch)

    _atomic_write(target, write)


def stata_names(columns: list[str]) -> dict[str, str]:
    """Stata variable names: letters, digits and `_`, not starting with a digit, at most 32
    characters, not a reserved word, unique. Returns only the names that change."""
    taken: set[str] = set()
    renamed: dict[str, str] = {}
    for column in columns:
        name = re.sub(r"[^A-Za-z0-9_]", "_", column) or "v"
        if name[0].isdigit() or name in STATA_RESERVED:
            name = f"v_{name}"
        name = name[:STATA_NAME_CHARS]
        number = 2
        while name in taken:
            suffix = f"_{number}"
            name = name[: STATA_NAME_CHARS - len(suffix)] + suffix
            number += 1
        taken.add(name)
        if name != column:
            renamed[column] = name
    return renamed


def write_dta(columns: Columns, target: Path, title: str, result: ExportResult) -> None:
    """Stata 14+ (format 118, Unicode): dates as %td, long strings as strL, names shortened
    to Stata's rules with the original name kept as the variable label. pandas writes a .dta
    from one whole frame (its writer takes no batches), so this format holds the table's kept
    columns in memory at once: for a very large release, export csv or parquet."""
    table = _plain_strings(columns.whole())
    # Stata has no missing string: a missing text value is the empty string
    table = pa.table([pc.fill_null(c, "") if pa.types.is_string(c.type) else c for c in table.columns],
                     names=table.column_names)
    renamed = stata_names(table.column_names)
    if renamed:
        result.renamed[title.split(" ", 1)[1]] = renamed
    frame = table.to_pandas(date_as_object=False)
    frame.columns = [renamed.get(c, c) for c in table.column_names]
    dates = {renamed.get(c, c): "td" for c in table.column_names if pa.types.is_date(table.schema.field(c).type)}
    long_strings = [renamed.get(c, c) for c in table.column_names if _longest_bytes(table.column(c)) > STATA_STR_BYTES]
    labels = {renamed.get(c, c): c[:STATA_LABEL_CHARS] for c in table.column_names}
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    stamp = dt.datetime.fromtimestamp(int(epoch), dt.UTC).replace(tzinfo=None) if epoch else dt.datetime.now()
    _atomic_write(target, lambda tmp: frame.to_stata(
        tmp, write_index=False, version=118, convert_dates=dates, convert_strl=long_strings,
        variable_labels=labels, data_label=title[:STATA_LABEL_CHARS], time_stamp=stamp,
    ))


def _longest_bytes(values: pa.ChunkedArray) -> int:
    if not pa.types.is_string(values.type) or len(values) == 0:
        return 0
    return int(pc.max(pc.binary_length(values)).as_py() or 0)


WRITERS = {"csv": write_csv, "parquet": write_parquet, "dta": write_dta}


# ---------------------------------------------------------------- README


def readme_text(manifest: dict, fmt: str, tables: list[str], result: ExportResult) -> str:
    left_out = sorted({c for columns in result.left_out.values() for c in columns})
    lines = [
        f"{EXPORT_README_START}{manifest['release']} as {fmt} (analysis export, package {__version__}).",
        "",
        "RECORD-LEVEL DATA: one row per record of the release, not aggregates. For analysis only;",
        "do not publish rows from these files. Published tables belong in a report (aggregates, small cells suppressed).",
        "",
        f"Left out of every table: {', '.join(left_out) if left_out else 'nothing (no identifier columns)'}"
        " (identifiers and row hashes link records; the processed data keeps them inside the project).",
        f"Source: {manifest.get('source')}; FOIA number(s): {', '.join(manifest.get('foia_numbers') or []) or 'not stated'}.",
    ]
    if manifest.get("synthetic"):
        lines.append("SYNTHETIC: every record was invented by the package's sample generator.")
    lines += ["", "Tables:"]
    for name in tables:
        info = manifest["tables"][name]
        lines.append(f"  {name}.{fmt}: {info['rows']:,} rows")
    if fmt == "csv":
        lines += ["", "CSV: UTF-8, comma-separated, dates as YYYY-MM-DD. Text cells and header cells starting with",
                  "= + - @ (or tab, carriage return) are prefixed with ' so that spreadsheets do not run them as formulas."]
    if fmt == "dta":
        lines += ["", "Stata: format 118 (Stata 14 or later), dates as %td, strings longer than 2,045 bytes as strL.",
                  "Each variable's label is its column name in the processed data."]
        for name, renamed in result.renamed.items():
            pairs = ", ".join(f"{old} -> {new}" for old, new in renamed.items())
            lines.append(f"  {name}: renamed to fit Stata's rules: {pairs}")
    return "\n".join(lines) + "\n"
