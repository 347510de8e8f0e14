"""A combined release: one series built from several productions of the same request.

A folder whose `release.yml` says `combines: [A, B, ...]` holds no data of its own: each entry is a
production (a release id under data/raw/, or a folder path; a relative path is read from the folder
holding the release.yml), listed oldest first. Ingest builds one release from the productions'
processed tables (each production is ingested first if needed), batch by batch with pyarrow:

- columns are unified through the alias map (`canonical_name`); a column a production lacks is
  missing for its records;
- every record keeps its provenance and gains `source_production`; anonymized identifiers link rows
  within one production only, so they are qualified `<production>:<identifier>` and never link
  people across productions;
- for each table and fiscal year that more than one production covers, the records of the newest
  production are used: newest by the latest as-of date in its banners and titles (a production
  without one counts as older than any with one), then by the order given (later is newer). Every
  overlap is listed in the manifest (`overlaps`) with each production's records, the one used, and
  how many of the used records are exact duplicates (same row hash) of the replaced production's;
- records without a fiscal year cannot be assigned to one: they are kept from every production;
- exact duplicates (same row hash) that remain across productions are counted per table
  (`duplicates_across_productions`) and warned about, never dropped;
- the manifest lists every production's raw files (path `<production>/<file>`) with sha256.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from analysis import __version__
from analysis.atomic import swap_into_place
from analysis.errors import ReleaseError
from analysis.fingerprint import digest, reader_fingerprint
from analysis.paths import RELEASE_FILE, ReleaseLocation, display_path, locate_release, processed_dir
from analysis.progress import Progress
from analysis.reading.build import validate_written
from analysis.reading.cleaning import SET_MISSING_KEYS, ColumnStats
from analysis.reading.files import list_data_files
from analysis.reading.manifest import MANIFEST_NAME, read_manifest, sha256_of, table_summary
from analysis.reading.parts import TableParts
from analysis.reading.tally import TableTally
from analysis.reading.validation import new_tally
from analysis.vocab.columns import PRODUCTION_COLUMN, PROVENANCE_COLUMNS, canonical_name
from analysis.vocab.fiscal import is_partial
from analysis.words import fy_runs

COMBINES = "combines"
BATCH_ROWS = 1 << 18
_MONTH_DAY_YEAR = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{2}|\d{4})$")
_combining: list[str] = []  # releases being combined, outermost first: a production cannot contain its own series


@dataclass(frozen=True)
class Production:
    release_id: str
    position: int  # in the `combines:` list
    manifest: dict
    manifest_sha256: str

    @property
    def as_of(self) -> dt.date | None:
        dates = [d for d in (as_of_date(text) for text in self.manifest.get("as_of") or []) if d]
        return max(dates) if dates else None

    @property
    def rank(self) -> tuple[bool, dt.date, int]:
        """Larger is newer: dated before undated, later as-of date, then later in the list."""
        return (self.as_of is not None, self.as_of or dt.date.min, self.position)

    def years(self, table: str) -> dict[int, int]:
        info = self.manifest["tables"].get(table)
        return {int(fy): rows for fy, rows in info["rows_by_fiscal_year"].items()} if info else {}

    def path(self, table: str) -> Path:
        return processed_dir(self.release_id) / f"{table}.parquet"


def as_of_date(text: str) -> dt.date | None:
    """An as-of date as banners write it (`6/30/2025`, `2025-06-30`, `June 30, 2025`); None if unreadable."""
    text = text.strip()
    if match := _MONTH_DAY_YEAR.match(text):
        month, day, year = (int(g) for g in match.groups())
        year += 2000 if year < 100 else 0
        try:
            return dt.date(year, month, day)
        except ValueError:
            return None
    for form in ("%Y-%m-%d", "%B %d, %Y", "%B %d %Y", "%b %d, %Y", "%b %d %Y", "%b. %d, %Y", "%b. %d %Y"):
        try:
            return dt.datetime.strptime(text, form).date()
        except ValueError:
            continue
    return None


def is_combined(location: ReleaseLocation) -> bool:
    return location.raw_dir is not None and COMBINES in location.config


def production_locations(location: ReleaseLocation) -> list[ReleaseLocation]:
    """The productions `combines:` names, resolved; a mistake is one line naming release.yml."""
    assert location.raw_dir is not None
    config_file = display_path(location.raw_dir / RELEASE_FILE)
    entries = location.config.get(COMBINES)
    if not isinstance(entries, list) or len(entries) < 2 or not all(isinstance(e, str) and e.strip() for e in entries):
        raise ReleaseError("`combines:` must list at least two productions (release ids or folder paths)", file=config_file)
    if list_data_files(location.raw_dir):
        raise ReleaseError("a combined release (`combines:`) holds no data files of its own; move them into a "
                           "production's folder and list it", file=config_file)
    found: list[ReleaseLocation] = []
    for entry in entries:
        looks_like_path = os.sep in entry or entry.startswith(".") or Path(entry).is_absolute()
        name = str((location.raw_dir / Path(entry).expanduser()).resolve()) if looks_like_path else entry
        try:
            production = locate_release(name)
        except ReleaseError as error:
            raise ReleaseError(f"production {entry!r}: {error.one_line()}", file=config_file) from None
        if production.release_id == location.release_id or production.release_id in _combining:
            raise ReleaseError(f"production {entry!r} is this combined release itself", file=config_file)
        if any(p.release_id == production.release_id for p in found):
            raise ReleaseError(f"production {production.release_id!r} is listed twice", file=config_file)
        found.append(production)
    return found


def ingest_combined(location: ReleaseLocation, ingest: Callable[..., dict], *, force: bool = False,
                    progress: Progress | None = None) -> dict:
    """Ingest every production if needed (with `ingest`, the entry point in reading/ingest.py), then
    build the combined release unless it is current."""
    from analysis.locking import release_lock

    progress = progress or Progress(quiet=True)
    locations = production_locations(location)
    _combining.append(location.release_id)
    try:
        for production in locations:
            with release_lock(production.release_id, progress):
                ingest(production, progress=progress)
    finally:
        _combining.pop()
    productions = []
    for position, production in enumerate(locations):
        manifest_path = processed_dir(production.release_id) / MANIFEST_NAME
        productions.append(Production(production.release_id, position, read_manifest(manifest_path.parent),
                                      sha256_of(manifest_path)))
    out_dir = processed_dir(location.release_id)
    key = digest(reader_fingerprint(), json.dumps([[p.release_id, p.manifest_sha256] for p in productions]))
    if not force and (out_dir / MANIFEST_NAME).is_file():
        previous = read_manifest(out_dir)
        if previous.get("combination_key") == key:
            progress.say(f"ingest {location.release_id}: up to date ({display_path(out_dir)})")
            return previous
    return build_combined(location, productions, key, out_dir, progress)


# ---------------------------------------------------------------- choosing records


def years_used(table: str, productions: list[Production]) -> dict[int, Production]:
    """Fiscal year -> the newest production holding records of `table` in it."""
    chosen: dict[int, Production] = {}
    for production in productions:
        for fy in production.years(table):
            if fy not in chosen or production.rank > chosen[fy].rank:
                chosen[fy] = production
    return dict(sorted(chosen.items()))


def _hash_counts(production: Production, table: str, fiscal_year: int) -> pa.Table:
    data = pq.read_table(production.path(table), columns=["row_hash"],
                         filters=[("fiscal_year", "=", fiscal_year)])
    return data.group_by("row_hash").aggregate([([], "count_all")])


def identical_records(used: Production, replaced: Production, table: str, fiscal_year: int) -> int:
    """Records of one fiscal year that both productions hold exactly (same row hash), as multisets."""
    joined = _hash_counts(used, table, fiscal_year).join(
        _hash_counts(replaced, table, fiscal_year), "row_hash", join_type="inner", right_suffix="_replaced")
    if joined.num_rows == 0:
        return 0
    return int(pc.sum(pc.min_element_wise(joined["count_all"], joined["count_all_replaced"])).as_py())


def _span(production: Production, table: str, fiscal_year: int) -> tuple[str, str] | None:
    coverage = production.manifest["tables"][table].get("fiscal_year_coverage", {}).get(str(fiscal_year))
    return (coverage["first"], coverage["last"]) if coverage else None


def table_overlaps(table: str, productions: list[Production], used: dict[int, Production]) -> tuple[list[dict], list[str]]:
    """Every fiscal year of `table` that more than one production covers: which was used, and its revision."""
    overlaps, warnings = [], []
    for fy, chosen in used.items():
        covering = sorted((p for p in productions if fy in p.years(table)), key=lambda p: p.rank, reverse=True)
        if len(covering) < 2:
            continue
        replaced = covering[1]
        records, before = chosen.years(table)[fy], replaced.years(table)[fy]
        overlaps.append({
            "table": table,
            "fiscal_year": fy,
            "used": chosen.release_id,
            "productions": [{"release": p.release_id, "records": p.years(table)[fy],
                             "as_of": p.as_of.isoformat() if p.as_of else None} for p in covering],
            "previous": replaced.release_id,
            "previous_records": before,
            "records": records,
            "difference": records - before,
            "identical": identical_records(chosen, replaced, table, fy),
        })
        now, then = _span(chosen, table, fy), _span(replaced, table, fy)
        if now and then and is_partial(fy, *now) and not is_partial(fy, *then):
            warnings.append(f"table {table!r} FY{fy}: the newest production {chosen.release_id!r} (used) covers "
                            f"only {now[0]} to {now[1]}; {replaced.release_id!r} covers the whole year")
    return overlaps, warnings


# ---------------------------------------------------------------- writing


def _data_name(name: str) -> str:
    return name if name in PROVENANCE_COLUMNS or name == PRODUCTION_COLUMN else canonical_name(name)


def combined_schema(table: str, productions: list[Production]) -> pa.Schema:
    """Data columns in order of first appearance (productions in the order given), then provenance."""
    fields: dict[str, pa.Field] = {}
    for production in productions:
        if table not in production.manifest["tables"]:
            continue
        for schema_field in pq.read_schema(production.path(table)):
            name = _data_name(schema_field.name)
            known = fields.setdefault(name, schema_field.with_name(name))
            if known.type != schema_field.type:
                raise ReleaseError(f"column {name!r} of table {table!r} is {schema_field.type} here but {known.type} "
                                   "in an earlier production; run `analysis ingest --force` on each production",
                                   file=display_path(production.path(table)))
    fields[PRODUCTION_COLUMN] = pa.field(PRODUCTION_COLUMN, pa.dictionary(pa.int32(), pa.string()))
    order = [n for n in fields if n not in PROVENANCE_COLUMNS and n != PRODUCTION_COLUMN]
    return pa.schema([fields[n] for n in [*order, *PROVENANCE_COLUMNS, PRODUCTION_COLUMN]])


def _qualified(values: pa.ChunkedArray | pa.Array, production: str) -> pa.Array:
    text = values if pa.types.is_string(values.type) else pc.cast(values, pa.string())
    return pc.binary_join_element_wise(pa.scalar(production), text, ":")


def _constant(value: str, rows: int) -> pa.DictionaryArray:
    return pa.DictionaryArray.from_arrays(pa.array([0] * rows, pa.int32()), pa.array([value]))


def _unified_batch(batch: pa.Table, production: str, schema: pa.Schema) -> pa.Table:
    """One production's batch in the combined schema: canonical names, missing columns as nulls,
    identifiers qualified by the production, its production recorded."""
    batch = batch.rename_columns([_data_name(n) for n in batch.column_names])
    inherited = PRODUCTION_COLUMN in batch.column_names  # a production that is itself a combined release
    columns = []
    for schema_field in schema:
        if schema_field.name not in batch.column_names:
            values = (_constant(production, batch.num_rows) if schema_field.name == PRODUCTION_COLUMN
                      else pa.nulls(batch.num_rows, schema_field.type))
        else:
            values = batch.column(schema_field.name)
            if "identifier" in schema_field.name and not inherited:
                values = _qualified(values, production)
        columns.append(values if values.type == schema_field.type else pc.cast(values, schema_field.type))
    return pa.Table.from_arrays(columns, schema=schema)


def write_combined_table(table: str, productions: list[Production], used: dict[int, Production], path: Path,
                         progress: Progress, label: str) -> tuple[int, Counter, TableTally]:
    """Stream the chosen records of every production into one parquet file. Returns the rows
    written, per (production, file, sheet) the records used and the records held, and the
    tally of the records written (`tally.py`)."""
    schema = combined_schema(table, productions)
    tally = new_tally(table)
    written = 0
    per_sheet: Counter = Counter()
    with pq.ParquetWriter(path, schema, compression="zstd") as writer:
        for production in productions:
            if table not in production.manifest["tables"]:
                continue
            years = pa.array([fy for fy, p in used.items() if p is production], pa.int16())
            with progress.step(f"{label}: {table} from {production.release_id}"):
                for batch in pq.ParquetFile(production.path(table)).iter_batches(batch_size=BATCH_ROWS):
                    data = pa.Table.from_batches([batch])
                    fiscal_year = data.column("fiscal_year")
                    keep = pc.or_(pc.is_in(fiscal_year, value_set=years), pc.is_null(fiscal_year))
                    _count_sheets(per_sheet, production.release_id, data, keep)
                    kept = data.filter(keep)
                    if kept.num_rows:
                        unified = _unified_batch(kept, production.release_id, schema)
                        writer.write_table(unified)
                        tally.add(unified)
                        written += kept.num_rows
    return written, per_sheet, tally


def _count_sheets(per_sheet: Counter, production: str, data: pa.Table, keep: pa.ChunkedArray) -> None:
    grouped = pa.table({
        "file": pc.cast(data.column("source_file"), pa.string()),
        "sheet": pc.cast(data.column("source_sheet"), pa.string()),
        "used": keep,
    }).group_by(["file", "sheet", "used"]).aggregate([([], "count_all")])
    for row in grouped.to_pylist():
        per_sheet[(production, row["file"], row["sheet"], "held")] += row["count_all"]
        if row["used"]:
            per_sheet[(production, row["file"], row["sheet"], "used")] += row["count_all"]


def combined_stats(table: str, productions: list[Production], per_sheet: Counter) -> tuple[TableParts, list[str]]:
    """What cleaning found in the records used: spellings from every production, counts of values set
    to missing from the sheets used (a sheet used in part adds all its counts, with a warning)."""
    parts = TableParts(Path())
    warnings: list[str] = []
    for production in productions:
        info = production.manifest["tables"].get(table)
        if info is None:
            continue
        parts.known_kind = parts.known_kind and info.get("known_kind", True)
        parts.fiscal_year_sources.update(info.get("fiscal_year_source", []))
        for column, entry in info["columns"].items():
            parts.stats.setdefault(_data_name(column), ColumnStats()).add(
                ColumnStats(source_names=list(entry.get("source_names", [])),
                            unparsed_examples=list(entry.get("unparsed_examples", [])),
                            respelled_examples=list(entry.get("respelled_examples", []))))
        for sheet in (s for s in production.manifest["sheets"] if s["table"] == table):
            dated_by = sheet.get("dated_by") or info.get("dated_by")
            if dated_by and _data_name(dated_by) not in parts.date_columns:
                parts.date_columns.append(_data_name(dated_by))
            key = (production.release_id, sheet["file"], sheet["sheet"])
            used, held = per_sheet[(*key, "used")], per_sheet[(*key, "held")]
            if not used:
                continue
            if used < held and sheet.get("set_missing"):
                warnings.append(f"table {table!r}: production {production.release_id!r} file {sheet['file']!r}"
                                + (f" sheet {sheet['sheet']!r}" if sheet["sheet"] else "")
                                + f" is used for {used:,} of its {held:,} records; its counts of redacted and "
                                "unparsed values cover all of them")
            for column, counts in sheet.get("set_missing", {}).items():
                stats = parts.stats.setdefault(_data_name(column), ColumnStats())
                for name in SET_MISSING_KEYS:
                    setattr(stats, name, getattr(stats, name) + counts.get(name, 0))
    return parts, warnings


def duplicates_across_productions(path: Path) -> int:
    """Records that repeat exactly (same row hash) a record of another production: the total of each
    such hash beyond the copies of the production that holds it most often."""
    data = pq.read_table(path, columns=["row_hash", PRODUCTION_COLUMN])
    data = data.set_column(1, PRODUCTION_COLUMN, pc.cast(data.column(PRODUCTION_COLUMN), pa.string()))
    per_production = data.group_by(["row_hash", PRODUCTION_COLUMN]).aggregate([([], "count_all")])
    per_hash = per_production.group_by("row_hash").aggregate(
        [("count_all", "sum"), ("count_all", "max"), (PRODUCTION_COLUMN, "count")])
    shared = per_hash.filter(pc.greater(per_hash[f"{PRODUCTION_COLUMN}_count"], 1))
    if shared.num_rows == 0:
        return 0
    return int(pc.sum(pc.subtract(shared["count_all_sum"], shared["count_all_max"])).as_py())


def _prefixed(entries: list[dict], production: str, key: str) -> list[dict]:
    return [{**entry, key: f"{production}/{entry[key]}", "production": production} for entry in entries]


def build_combined(location: ReleaseLocation, productions: list[Production], key: str, out_dir: Path,
                   progress: Progress) -> dict:
    assert location.raw_dir is not None
    label = f"ingest {location.release_id}"
    staging = out_dir.with_name(f".{out_dir.name}.staging-{os.getpid()}")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    try:
        manifest = _combined_header(location, productions, key)
        for table in sorted({t for p in productions for t in p.manifest["tables"]}):
            summary, overlaps, warnings = _combine_table(table, productions, staging, progress, label)
            manifest["tables"][table] = summary
            manifest["overlaps"] += overlaps
            manifest["warnings"] += warnings
        (staging / MANIFEST_NAME).write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        swap_into_place(staging, out_dir)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return manifest


def _combined_header(location: ReleaseLocation, productions: list[Production], key: str) -> dict[str, Any]:
    assert location.raw_dir is not None
    newest_first = sorted(productions, key=lambda p: p.rank, reverse=True)
    return {
        "release": location.release_id,
        "reader_fingerprint": reader_fingerprint(),
        "package_version": __version__,
        "source": display_path(location.raw_dir),
        "synthetic": bool(location.config.get("synthetic")) or any(p.manifest.get("synthetic") for p in productions),
        "previous_release": location.config.get("previous_release"),
        "foia_numbers": sorted({n for p in productions for n in p.manifest.get("foia_numbers", [])}),
        "as_of": sorted({a for p in productions for a in p.manifest.get("as_of", [])}),
        "combines": [{
            "release": p.release_id,
            "source": p.manifest.get("source"),
            "as_of": p.as_of.isoformat() if p.as_of else None,
            "newest_rank": newest_first.index(p) + 1,
            "foia_numbers": p.manifest.get("foia_numbers", []),
            "rows_by_table_and_fiscal_year": {t: info["rows_by_fiscal_year"] for t, info in p.manifest["tables"].items()},
            "manifest_sha256": p.manifest_sha256,
        } for p in productions],
        "combination_key": key,
        "files": [f for p in productions for f in _prefixed(p.manifest["files"], p.release_id, "path")],
        "sheets": [s for p in productions for s in _prefixed(p.manifest["sheets"], p.release_id, "file")],
        "skipped_sheets": [s for p in productions for s in _prefixed(p.manifest.get("skipped_sheets", []), p.release_id, "file")],
        "tables": {},
        "overlaps": [],
        "warnings": [],
    }


def _combine_table(table: str, productions: list[Production], staging: Path, progress: Progress,
                   label: str) -> tuple[dict, list[dict], list[str]]:
    used = years_used(table, productions)
    overlaps, warnings = table_overlaps(table, productions, used)
    path = staging / f"{table}.parquet"
    written, per_sheet, tally = write_combined_table(table, productions, used, path, progress, label)
    expected = sum(p.years(table)[fy] for fy, p in used.items())
    without_year = {p.release_id: p.manifest["tables"][table].get("rows_without_fiscal_year", 0)
                    for p in productions if table in p.manifest["tables"]}
    expected += sum(without_year.values())
    warnings += validate_written(table, path, expected, tally)
    parts, stats_warnings = combined_stats(table, productions, per_sheet)
    summary = table_summary(table, path, parts, tally)
    warnings += stats_warnings + summary.pop("_warnings")
    if sum(1 for n in without_year.values() if n) > 1:
        warnings.append(f"table {table!r}: records without a fiscal year are kept from every production that has "
                        f"them ({', '.join(f'{p} {n:,}' for p, n in without_year.items() if n)})")
    duplicates = duplicates_across_productions(path)
    if duplicates:
        warnings.append(f"table {table!r}: {duplicates:,} records repeat exactly a record of another production "
                        "(same row hash); kept, and counted in likely_duplicates")
    summary["productions_used"] = {str(fy): p.release_id for fy, p in used.items()}
    summary["duplicates_across_productions"] = duplicates
    assert written == summary["rows"]
    return summary, overlaps, warnings


# ---------------------------------------------------------------- `analysis combine`


def write_combination(new_id: str, entries: list[str]) -> Path:
    """Write data/raw/NEW_ID/release.yml naming the productions (checked to exist), oldest first."""
    import yaml

    from analysis.paths import check_release_id, project_root, raw_root

    folder = raw_root() / check_release_id(new_id)
    if folder.exists():
        raise ReleaseError("already exists; choose another id, or edit its release.yml", file=display_path(folder))
    if len(entries) < 2:
        raise ReleaseError("a combined release needs at least two productions")
    named: list[str] = []
    for entry in entries:
        production = locate_release(entry)
        if production.release_id == new_id:
            raise ReleaseError(f"production {entry!r} has the id of the combined release itself")
        if production.raw_dir is not None and production.raw_dir.resolve() != (raw_root() / production.release_id).resolve():
            inside = production.raw_dir.resolve().is_relative_to(project_root())
            named.append(os.path.relpath(production.raw_dir, folder) if inside else str(production.raw_dir))
        else:
            named.append(production.release_id)
    if len(set(named)) != len(named):
        raise ReleaseError("a production is listed twice")
    text = ("# A combined release: one series from these productions, oldest first (see `analysis combine`).\n"
            + yaml.safe_dump({"release": new_id, COMBINES: named}, sort_keys=False, allow_unicode=True))
    staging = folder.with_name(f".{folder.name}.staging-{os.getpid()}")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    (staging / RELEASE_FILE).write_text(text, encoding="utf-8")
    staging.rename(folder)
    return folder / RELEASE_FILE


def format_overlaps(manifest: dict) -> str:
    """What `analysis combine` prints: where each table's records come from, and every overlap."""
    productions = ", ".join(f"{p['release']} (as of {p['as_of'] or 'not stated'})" for p in manifest["combines"])
    lines = [f"{manifest['release']}: one series from {productions}"]
    for table, info in manifest["tables"].items():
        sources: dict[str, list[int]] = {}
        for fy, production in info["productions_used"].items():
            sources.setdefault(production, []).append(int(fy))
        where = "; ".join(f"{fy_runs(years)} from {production}" for production, years in sources.items())
        lines.append(f"  {table}: {info['rows']:,} records ({where})")
    for overlap in manifest["overlaps"]:
        lines.append(f"  overlap: {overlap['table']} FY{overlap['fiscal_year']} is in "
                     f"{', '.join(p['release'] for p in overlap['productions'])}; used {overlap['used']} "
                     f"({overlap['records']:,} records, {overlap['previous']} had {overlap['previous_records']:,}: "
                     f"{overlap['difference']:+,}; {overlap['identical']:,} identical)")
    if not manifest["overlaps"]:
        lines.append("  no table and fiscal year is in more than one production")
    return "\n".join(lines)
