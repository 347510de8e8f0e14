"""The cleaned batches of one table while a release is read, before they become one parquet file."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from analysis.reading.cleaning import ColumnStats
from analysis.vocab.columns import PROVENANCE_COLUMNS

SPILL_ROWS = 2_000_000  # a table's batches stay in memory up to this many rows, then go to part files


@dataclass
class TableParts:
    """The cleaned batches of one table, merged into one parquet file at the end. Batches stay
    in memory while the table is small; past SPILL_ROWS each is written to a part file in the
    staging folder, so memory holds about one batch, never a whole large release."""

    folder: Path
    parts: list[Path | pa.Table] = field(default_factory=list)
    schemas: list[pa.Schema] = field(default_factory=list)
    stats: dict[str, ColumnStats] = field(default_factory=dict)
    fiscal_year_sources: set[str] = field(default_factory=set)
    date_columns: list[str] = field(default_factory=list)  # the columns that dated its sheets, first seen first
    known_kind: bool = True
    # which sheet each part came from, and each sheet's own stats: a sheet can be taken out again
    owners: list[object] = field(default_factory=list)
    sheet_stats: dict[object, tuple[dict[str, ColumnStats], set[str]]] = field(default_factory=dict)
    spilled: int = 0

    def add(self, table: pa.Table, stats: dict[str, ColumnStats], fy_source: str, sheet: object = None,
            dated_by: str | None = None) -> None:
        self.parts.append(table)
        self.schemas.append(table.schema)
        self.owners.append(sheet)
        if sum(p.num_rows for p in self.parts if isinstance(p, pa.Table)) > SPILL_ROWS:
            self._spill()
        if dated_by and dated_by not in self.date_columns:
            self.date_columns.append(dated_by)
        own_stats, own_sources = self.sheet_stats.setdefault(sheet, ({}, set()))
        for target, sources in ((self.stats, self.fiscal_year_sources), (own_stats, own_sources)):
            sources.add(fy_source)
            for name, column_stats in stats.items():
                target.setdefault(name, ColumnStats()).add(column_stats)

    def remove_sheet(self, sheet: object) -> None:
        """Take out every part and the stats of one sheet (a sheet read again, or a duplicate)."""
        for index in reversed([i for i, owner in enumerate(self.owners) if owner == sheet]):
            part = self.parts.pop(index)
            if isinstance(part, Path):
                part.unlink()
            self.schemas.pop(index)
            self.owners.pop(index)
        self.sheet_stats.pop(sheet, None)
        self.stats, self.fiscal_year_sources = {}, set()
        for own_stats, own_sources in self.sheet_stats.values():
            self.fiscal_year_sources |= own_sources
            for name, column_stats in own_stats.items():
                self.stats.setdefault(name, ColumnStats()).add(column_stats)

    def _spill(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        for index, part in enumerate(self.parts):
            if isinstance(part, pa.Table):
                path = self.folder / f"part-{self.spilled:05d}.parquet"
                self.spilled += 1
                pq.write_table(part, path, compression="lz4")
                self.parts[index] = path

    def drop_last(self, count: int) -> None:
        """Forget the last `count` parts (a sheet that must be read again)."""
        for _ in range(count):
            part = self.parts.pop()
            if isinstance(part, Path):
                part.unlink()
            self.schemas.pop()
            self.owners.pop()

    def write(self, path: Path) -> None:
        """Merge the parts into one parquet file: columns missing from a part become nulls; data
        columns in order of first appearance, provenance last."""
        fields: dict[str, pa.Field] = {}
        for schema in self.schemas:
            for schema_field in schema:
                fields.setdefault(schema_field.name, schema_field)
        order = [n for n in fields if n not in PROVENANCE_COLUMNS] + list(PROVENANCE_COLUMNS)
        schema = pa.schema([fields[n] for n in order])
        with pq.ParquetWriter(path, schema, compression="zstd") as writer:
            for index, part in enumerate(self.parts):
                table = pq.read_table(part) if isinstance(part, Path) else part
                for missing in (n for n in order if n not in table.column_names):
                    table = table.append_column(fields[missing], pa.nulls(table.num_rows, fields[missing].type))
                writer.write_table(table.select(order).cast(schema), row_group_size=1 << 20)
                if isinstance(part, Path):
                    part.unlink()
                self.parts[index] = Path()  # written: let the batch go
