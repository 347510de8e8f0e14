"""The cleaned batches of one table while a release is read, before they become one parquet file."""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from analysis.reading.arrays import empty_table
from analysis.reading.cleaning import ColumnStats
from analysis.reading.coded import coded, decoded, writable
from analysis.reading.tally import ID_SAMPLE_ROWS, TableTally
from analysis.vocab.columns import PROVENANCE_COLUMNS

SPILL_ROWS = 2_000_000  # batches held back from the stream stay in memory up to this many rows, then go to part files
ROW_GROUP_ROWS = 1 << 18  # rows of a parquet row group
NOT_DICTIONARY_ENCODED = ("source_row", "row_hash")  # (almost) one value per row: parquet's dictionary cannot help
MANY_VALUES = ROW_GROUP_ROWS // 8  # a column first met with more distinct values than this is written plain
STREAM_NAME = "stream.parquet"
WRITES_AHEAD = 1  # batches waiting for a table's writer thread (each is memory held)


@dataclass(frozen=True)
class Streamed:
    """A batch written to the table's stream file: its rows `start` to `start + rows`."""

    start: int
    rows: int


@dataclass
class TableParts:
    """The cleaned batches of one table, merged into one parquet file. Each batch is written, as it
    comes, to the table's stream file in its final form, so encoding and compressing it overlap the
    reading of the next batches, and memory holds about one batch at any size; when nothing changes
    (the usual case) the stream file is the table's file. A batch with a column the stream lacks
    (columns drift between a release's files) is held back: in memory, past SPILL_ROWS in part files.
    Then, or when a sheet already streamed is taken out again (a sheet read again, a duplicate), the
    file is rebuilt at the end from what is left, in the same order. Each part's counts (`tally.py`)
    are kept beside it, so the table's counts are those of the rows it is written with."""

    folder: Path
    parts: list[Streamed | Path | pa.Table] = field(default_factory=list)
    schemas: list[pa.Schema] = field(default_factory=list)
    stats: dict[str, ColumnStats] = field(default_factory=dict)
    fiscal_year_sources: set[str] = field(default_factory=set)
    date_columns: list[str] = field(default_factory=list)  # the columns that dated its sheets, first seen first
    known_kind: bool = True
    # which sheet each part came from, and each sheet's own stats: a sheet can be taken out again
    owners: list[object] = field(default_factory=list)
    tallies: list[TableTally] = field(default_factory=list)  # each part's counts (`tally.py`)
    plain: set[str] = field(default_factory=set)  # data columns written as plain values (`open_writer`)
    _met: set[str] = field(default_factory=set)  # data columns seen so far
    sheet_stats: dict[object, tuple[dict[str, ColumnStats], set[str]]] = field(default_factory=dict)
    spilled: int = 0
    _writer: StreamWriter | None = None
    _stream_schema: pa.Schema | None = None
    _streamed_rows: int = 0
    _held_back: bool = False  # a batch did not fit the stream: later batches are held back too
    _stream_cut: bool = False  # a streamed batch was taken out

    @property
    def stream_path(self) -> Path:
        return self.folder / STREAM_NAME

    def add(self, table: pa.Table, stats: dict[str, ColumnStats], fy_source: str, tally: TableTally,
            sheet: object = None, dated_by: str | None = None) -> None:
        if sum(t.rows for t in self.tallies) >= ID_SAMPLE_ROWS:
            tally.drop_sample()
        self._note_columns(table)
        self.parts.append(self._streamed(table))
        self.schemas.append(table.schema)
        self.owners.append(sheet)
        self.tallies.append(tally)
        if sum(p.num_rows for p in self.parts if isinstance(p, pa.Table)) > SPILL_ROWS:
            self._spill()
        if dated_by and dated_by not in self.date_columns:
            self.date_columns.append(dated_by)
        own_stats, own_sources = self.sheet_stats.setdefault(sheet, ({}, set()))
        for target, sources in ((self.stats, self.fiscal_year_sources), (own_stats, own_sources)):
            sources.add(fy_source)
            for name, column_stats in stats.items():
                target.setdefault(name, ColumnStats()).add(column_stats)

    def _note_columns(self, table: pa.Table) -> None:
        """Decide, for each data column met for the first time, whether it is written plain: when its
        first batch holds more than MANY_VALUES distinct values (identifiers, free text)."""
        for name in table.column_names:
            if name not in PROVENANCE_COLUMNS and name not in self._met:
                self._met.add(name)
                column = table.column(name)
                if pa.types.is_dictionary(column.type) and sum(len(c.dictionary) for c in column.chunks) > MANY_VALUES:
                    self.plain.add(name)

    def _streamed(self, table: pa.Table) -> Streamed | pa.Table:
        """The batch written to the stream file, or the batch itself when it is held back."""
        if self._held_back:
            return table
        if self._writer is None:
            self._stream_schema = output_schema([table.schema], self.plain)
            self.folder.mkdir(parents=True, exist_ok=True)
            self._writer = StreamWriter(self.stream_path, self._stream_schema)
        elif not set(table.column_names) <= set(self._stream_schema.names):  # type: ignore[union-attr]
            self._held_back = True
            return table
        assert self._stream_schema is not None
        self._writer.write(table)
        part = Streamed(self._streamed_rows, table.num_rows)
        self._streamed_rows += table.num_rows
        return part

    def remove_sheet(self, sheet: object) -> None:
        """Take out every part and the stats of one sheet (a sheet read again, or a duplicate)."""
        for index in reversed([i for i, owner in enumerate(self.owners) if owner == sheet]):
            part = self.parts.pop(index)
            if isinstance(part, Path):
                part.unlink()
            elif isinstance(part, Streamed):
                self._stream_cut = True
            self.schemas.pop(index)
            self.owners.pop(index)
            self.tallies.pop(index)
        self.sheet_stats.pop(sheet, None)
        self.stats, self.fiscal_year_sources = {}, set()
        for own_stats, own_sources in self.sheet_stats.values():
            self.fiscal_year_sources |= own_sources
            for name, column_stats in own_stats.items():
                self.stats.setdefault(name, ColumnStats()).add(column_stats)

    def tally_into(self, joined: TableTally) -> TableTally:
        """`joined` (a new tally) given the counts of the table's rows as written: its parts' tallies, in order."""
        for tally in self.tallies:
            joined.extend(tally)
        return joined

    def _spill(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        for index, part in enumerate(self.parts):
            if isinstance(part, pa.Table):
                path = self.folder / f"part-{self.spilled:05d}.parquet"
                self.spilled += 1
                pq.write_table(conformed(part, output_schema([part.schema])), path, compression="lz4")
                self.parts[index] = path

    def close(self) -> None:
        writer, self._writer = self._writer, None
        if writer is not None:
            writer.close()

    def write(self, path: Path) -> None:
        """The parts as one parquet file: columns missing from a part become nulls; data columns in
        order of first appearance, provenance last (`open_writer` says how they are written)."""
        self.close()
        schema = output_schema(self.schemas, self.plain)
        if (self._stream_schema is not None and schema.equals(self._stream_schema) and not self._stream_cut
                and all(isinstance(part, Streamed) for part in self.parts)):
            self.stream_path.replace(path)
            return
        stream = _StreamReader(self.stream_path) if self._stream_schema is not None else None
        with open_writer(path, schema) as writer:
            for index, part in enumerate(self.parts):
                if isinstance(part, Streamed):
                    assert stream is not None
                    table = stream.rows(part.start, part.rows)
                else:
                    table = pq.read_table(part) if isinstance(part, Path) else part
                write_part(writer, table, schema)
                if isinstance(part, Path):
                    part.unlink()
                self.parts[index] = Path()  # written: let the batch go
        if stream is not None:
            stream.close()
            self.stream_path.unlink()


def output_schema(schemas: list[pa.Schema], plain: set[str] | frozenset[str] = frozenset()) -> pa.Schema:
    """The schema a table with parts of these schemas is written in: every column in order of
    first appearance, provenance last; data columns coded (`coded.py`), as they are held, but for
    those written `plain`."""
    fields: dict[str, pa.Field] = {}
    for schema in schemas:
        for schema_field in schema:
            if schema_field.name not in PROVENANCE_COLUMNS:
                value_type = schema_field.type.value_type if pa.types.is_dictionary(schema_field.type) else schema_field.type
                value_type = pa.string() if pa.types.is_null(value_type) else value_type
                coded_type = pa.dictionary(pa.int32(), value_type)
                schema_field = schema_field.with_type(value_type if schema_field.name in plain else coded_type)
            fields.setdefault(schema_field.name, schema_field)
    order = [n for n in fields if n not in PROVENANCE_COLUMNS] + list(PROVENANCE_COLUMNS)
    return pa.schema([fields[n] for n in order])


def conformed(table: pa.Table, schema: pa.Schema) -> pa.Table:
    """A part in the table's schema, as parquet writes it: missing columns as nulls, in order,
    coded data columns with no missing value among their distinct values (`coded.writable`), the
    plain ones decoded."""
    columns = []
    for schema_field in schema:
        if schema_field.name not in table.column_names:
            columns.append(pa.nulls(table.num_rows, schema_field.type))
        elif schema_field.name in PROVENANCE_COLUMNS:
            columns.append(table.column(schema_field.name).cast(schema_field.type))
        elif pa.types.is_dictionary(schema_field.type):
            columns.append(writable(coded(table.column(schema_field.name))).cast(schema_field.type))
        else:
            columns.append(decoded(coded(table.column(schema_field.name))).cast(schema_field.type))
    return pa.Table.from_arrays(columns, schema=schema)


def write_part(writer: pq.ParquetWriter, table: pa.Table, schema: pa.Schema) -> None:
    """A part, in row groups of ROW_GROUP_ROWS."""
    writer.write_table(conformed(table, schema), row_group_size=ROW_GROUP_ROWS)


class StreamWriter:
    """A table's stream file, written by a thread of its own in the order batches are given, so
    that encoding and compressing them (pyarrow does it without the GIL) runs beside the reading
    and cleaning of the next ones. An error is raised by the next `write` or by `close`."""

    def __init__(self, path: Path, schema: pa.Schema) -> None:
        self._schema = schema
        self._file = open_writer(path, schema)
        self._queue: queue.Queue[pa.Table | None] = queue.Queue(maxsize=WRITES_AHEAD)
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="ingest-write", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while (table := self._queue.get()) is not None:
            if self._error is None:
                try:
                    self._file.write_table(table, row_group_size=ROW_GROUP_ROWS)
                except BaseException as exc:  # noqa: BLE001 - raised to the thread that gives the batches
                    self._error = exc
        try:
            self._file.close()
        except BaseException as exc:  # noqa: BLE001
            self._error = self._error or exc

    def write(self, table: pa.Table) -> None:
        self._raise()
        self._queue.put(conformed(table, self._schema))

    def close(self) -> None:
        self._queue.put(None)
        self._thread.join()
        self._raise()

    def _raise(self) -> None:
        if self._error is not None:
            raise self._error


def open_writer(path: Path, schema: pa.Schema) -> pq.ParquetWriter:
    """The table's parquet writer. Coded columns are written as they are held, each distinct value
    once (nothing decoded and encoded again; a column of many distinct values is decoded, since a
    batch's whole dictionary would be written with every row group), but the file declares the
    types of their values: no
    Arrow schema is stored, so every reader (pyarrow, pandas, DuckDB) reads plain text, dates and
    numbers. Text columns get no min/max statistics: rows are in file order, so those would span
    nearly every value and let no reader skip a row group, and they cost a fifth of the writing
    (counts of missing values are in the manifest, from `tally.py`)."""
    return pq.ParquetWriter(path, schema, compression="zstd", store_schema=False,
                            use_dictionary=[n for n in schema.names if n not in NOT_DICTIONARY_ENCODED],
                            write_statistics=[f.name for f in schema if not _is_text(f.type)])


def _is_text(kind: pa.DataType) -> bool:
    return pa.types.is_string(kind.value_type if pa.types.is_dictionary(kind) else kind)


class _StreamReader:
    """The rows of a stream file, asked for in order (each part's rows after the last one's)."""

    def __init__(self, path: Path) -> None:
        schema = pq.read_schema(path)
        self._file = pq.ParquetFile(path, read_dictionary=[f.name for f in schema if pa.types.is_string(f.type)])
        self._batches: Iterator[pa.RecordBatch] = self._file.iter_batches(batch_size=1 << 16)
        self._position = 0  # row number of the first row in `_held`
        self._held = empty_table(self._file.schema_arrow)

    def rows(self, start: int, count: int) -> pa.Table:
        while self._position < start:  # the rows of parts taken out
            self._fill()
            skipped = min(start - self._position, self._held.num_rows)
            self._held, self._position = self._held.slice(skipped), self._position + skipped
        pieces = []
        while count:
            self._fill()
            taken = self._held.slice(0, min(count, self._held.num_rows))
            pieces.append(taken)
            self._held, self._position, count = self._held.slice(taken.num_rows), self._position + taken.num_rows, \
                count - taken.num_rows
        return pa.concat_tables(pieces) if pieces else empty_table(self._file.schema_arrow)

    def _fill(self) -> None:
        while self._held.num_rows == 0:
            self._held = pa.Table.from_batches([next(self._batches)])

    def close(self) -> None:
        self._file.close()
