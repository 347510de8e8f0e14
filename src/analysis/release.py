"""One processed release: its manifest, the fiscal years each table covers only in part, and
the one place its parquet tables are read.

A `Release` may carry a `Scope` (a state or an area of responsibility, and a range of fiscal
years): `load` then returns only the records within it. Everything else that reads records
(metrics, sections, claims, the release comparison, exports) goes through this object,
so how tables are stored and filtered is decided here alone.

Aggregations run in DuckDB: each `Release` opens one in-process connection (on first use) with
every table as a view of its parquet file (`<table>_all`, the whole release) and, for each table
that can be limited to the scope, a view under the table's own name holding only the records
within it. `sql("select ...")` returns a small pandas frame; `relation(table)` hands a measure
the scoped view as a DuckDB relation.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from analysis import words
from analysis.errors import ReleaseError
from analysis.paths import processed_dir
from analysis.reading.manifest import read_manifest
from analysis.vocab.fiscal import is_partial
from analysis.vocab.geography import aor_label
from analysis.vocab.kinds import KIND_BY_NAME

# Per kernel: one thread (kernels run one per core; more threads only contend for the cores) and
# 384 MB, DuckDB spilling to disk beyond it (`spill_folder`).
DUCKDB_THREADS = 1
DUCKDB_MEMORY_LIMIT = "384MB"
# One query may take more: following people from detainer to detainer (`metrics.repeats`) groups
# and joins millions of records by a text identifier, and part of that work cannot spill. On 10M
# synthetic detainers it failed, now and then, at 256, 320 and 352 MB (done in any order) and
# passed at 384 MB: too near the edge for a limit every release must stay under.
DUCKDB_LARGE_QUERY_LIMIT = "600MB"
BATCH_ROWS = 65_536  # records per batch of `Release.batches`: tens of MB of a wide table at most


def spill_folder() -> Path:
    """Where a query beyond the memory limit spills: the system's temporary folder, never the
    project. A folder of this user's own, made here (DuckDB makes only the last level of its
    temp_directory, so on a fresh machine the first spill failed), and one folder per process in
    it, since kernels running side by side name their files alike; DuckDB makes that one."""
    user = os.getuid() if hasattr(os, "getuid") else 0
    own = Path(tempfile.gettempdir()) / f"ice-detainers-duckdb-{user}"
    own.mkdir(mode=0o700, exist_ok=True)
    if own.is_symlink() or (hasattr(os, "getuid") and own.stat().st_uid != user):
        raise ReleaseError("is not a folder of this user's own: DuckDB would spill query data there; remove it",
                           file=str(own))
    return own / str(os.getpid())


def _literal(value: str | int) -> str:
    """A value as a SQL literal (text quoted, its quotes doubled: release text is data)."""
    return str(int(value)) if isinstance(value, int) else "'" + str(value).replace("'", "''") + "'"


def sql_name(name: str) -> str:
    """A table or column name as a SQL identifier (quoted, its quotes doubled), for queries of `Release.sql`."""
    return '"' + name.replace('"', '""') + '"'


class PartialYears(frozenset[int]):
    """The fiscal years a table's records cover only in part (they start or stop more than a
    week inside the year). `fy in partial` accepts an int, a numpy integer or a string."""

    def __contains__(self, fy: object) -> bool:
        return super().__contains__(int(fy))  # type: ignore[call-overload]  # any integer-like value

    def flags(self, years: Iterable[int]) -> list[bool]:
        """One flag per year of `years`, in order."""
        return [fy in self for fy in years]

    def within(self, years: Iterable[int]) -> PartialYears:
        """The partial years among `years`."""
        return PartialYears(int(fy) for fy in years if fy in self)

    def any_of(self, years: Iterable[int]) -> bool:
        return any(fy in self for fy in years)


NO_PARTIAL_YEARS = PartialYears()


def partial_years(manifest: dict, table: str) -> PartialYears:
    """The partial years of `table`, from the first and last record date of each year."""
    coverage = manifest["tables"][table].get("fiscal_year_coverage", {})
    return PartialYears(int(fy) for fy, span in coverage.items() if is_partial(int(fy), span["first"], span["last"]))


@dataclass(frozen=True)
class PartialMonths:
    """The calendar months at the ends of a table's records that the records cover only in part:
    the first month when they start after its 1st day (`first`, the first record date), the last
    when they end before its last day (`last`). Monthly charts leave these months out, because
    a few days of records drawn as a month read as a collapse that did not happen."""

    first: pd.Timestamp | None = None
    last: pd.Timestamp | None = None

    def months(self) -> list[pd.Timestamp]:
        """The first day of each partial month."""
        return [day.to_period("M").to_timestamp() for day in (self.first, self.last) if day is not None]

    def leave_out(self, frame: pd.DataFrame, column: str = "month") -> tuple[pd.DataFrame, str]:
        """`frame` without the rows of the partial months, and the sentence naming the months
        left out ('' when none is). Months are never all left out: the frame is then kept whole."""
        months = pd.to_datetime(frame[column])
        dropped = months.isin(self.months())
        if not dropped.any() or dropped.all():
            return frame, ""
        first = self.first if (months == self.months()[0]).any() and self.first is not None else None
        last = self.last if self.last is not None and (months == self.months()[-1]).any() else None
        return frame[~dropped].reset_index(drop=True), words.partial_months(first, last)


def partial_months(manifest: dict, table: str, years: Scope | None = None) -> PartialMonths:
    """The partial months of `table`, from the first and last record dates of the fiscal years
    within `years` (all years by default). One month of records is never left out: it is all
    the chart has."""
    coverage = manifest["tables"][table].get("fiscal_year_coverage", {})
    spans = [span for fy, span in coverage.items() if years is None or years.holds_year(int(fy))]
    if not spans:
        return PartialMonths()
    first = min(pd.Timestamp(span["first"]) for span in spans)
    last = max(pd.Timestamp(span["last"]) for span in spans)
    if first.to_period("M") == last.to_period("M"):
        return PartialMonths()
    return PartialMonths(first=first if first.day != 1 else None,
                         last=last if not last.is_month_end else None)


@dataclass(frozen=True)
class Scope:
    """Which records a report covers: one state or one area of responsibility (or the whole
    country), and the fiscal years from `fy_start` to `fy_end` (either end open)."""

    state: str | None = None
    aor: str | None = None
    fy_start: int | None = None
    fy_end: int | None = None
    facility: str | None = None  # a facility code (`facility_code`), for one jail's report

    @property
    def geography_column(self) -> str | None:
        """The column the geography is read from: `facility_code`, `state`, `aor`, or None for the whole country."""
        if self.facility:
            return "facility_code"
        if self.state:
            return "state"
        if self.aor:
            return "aor"
        return None

    @property
    def geography(self) -> str:
        return words.geography(self.state, self.aor, self.facility)

    @property
    def limits_years(self) -> bool:
        return bool(self.fy_start or self.fy_end)

    def holds_year(self, fy: int) -> bool:
        return (self.fy_start is None or fy >= self.fy_start) and (self.fy_end is None or fy <= self.fy_end)

    @property
    def is_whole_release(self) -> bool:
        return not (self.state or self.aor or self.facility or self.limits_years)

    def apply(self, frame: pd.DataFrame) -> pd.DataFrame:
        if self.state:
            frame = frame[frame["state"] == self.state]
        if self.aor:
            frame = frame[frame["aor"].isin([self.aor, aor_label(self.aor)])]
        if self.facility:
            frame = frame[frame["facility_code"] == self.facility]
        if self.fy_start:
            frame = frame[frame["fiscal_year"] >= self.fy_start]
        if self.fy_end:
            frame = frame[frame["fiscal_year"] <= self.fy_end]
        return frame.reset_index(drop=True)

    def where(self) -> str:
        """The same limits as `apply`, as a SQL condition (`true` for the whole release)."""
        limits = []
        if self.state:
            limits.append(f"state = {_literal(self.state)}")
        if self.aor:
            limits.append(f"aor in ({_literal(self.aor)}, {_literal(aor_label(self.aor))})")
        if self.facility:
            limits.append(f"facility_code = {_literal(self.facility)}")
        if self.fy_start:
            limits.append(f"fiscal_year >= {_literal(int(self.fy_start))}")
        if self.fy_end:
            limits.append(f"fiscal_year <= {_literal(int(self.fy_end))}")
        return " and ".join(limits) or "true"


@dataclass
class Release:
    """An ingested release, seen through `scope` (the whole release by default)."""

    id: str
    scope: Scope = field(default_factory=Scope)
    manifest: dict = field(init=False, repr=False)
    _db: duckdb.DuckDBPyConnection | None = field(init=False, repr=False, default=None)

    def __post_init__(self) -> None:
        self.manifest = read_manifest(processed_dir(self.id))

    @property
    def synthetic(self) -> bool:
        return bool(self.manifest.get("synthetic"))

    def tables(self) -> list[str]:
        return sorted(self.manifest["tables"])

    def has(self, table: str, columns: Iterable[str] = ()) -> bool:
        info = self.manifest["tables"].get(table)
        return info is not None and all(c in info["columns"] for c in columns)

    def missing(self, table: str, columns: Iterable[str] = ()) -> str | None:
        """What is absent, as the start of a sentence (`This release has no arrests table`), or None."""
        info = self.manifest["tables"].get(table)
        if info is None:
            return f"This release has no {table} table"
        absent = [c for c in columns if c not in info["columns"]]
        return f"The {table} table of this release has no {', '.join(absent)} column" if absent else None

    def can_scope(self, table: str) -> bool:
        """Whether `table` can be limited to the scope's geography (it has the column needed)."""
        column = self.scope.geography_column
        return column is None or self.has(table, [column])

    def partial_years(self, table: str) -> PartialYears:
        return partial_years(self.manifest, table)

    def partial_months(self, table: str) -> PartialMonths:
        return partial_months(self.manifest, table, self.scope)

    def date_column(self, table: str) -> str | None:
        """The column whose dates place `table`'s records in fiscal years (manifest `dated_by`):
        `departed_date` for removals that have no removal date."""
        info = self.manifest["tables"].get(table) or {}
        kind = KIND_BY_NAME.get(table)
        return info.get("dated_by") or (kind.date_column if kind else None)

    def path(self, table: str) -> Path:
        return processed_dir(self.id) / f"{table}.parquet"

    def arrow(self, table: str, columns: Iterable[str] | None = None, *,
              dictionary: Iterable[str] | None = None) -> pa.Table:
        """Columns of `table` for the whole release, as stored; `dictionary` columns read as
        dictionaries (categoricals in pandas)."""
        wanted = None if columns is None else list(dict.fromkeys(columns))
        return pq.read_table(self.path(table), columns=wanted,
                             read_dictionary=None if dictionary is None else list(dictionary))

    def schema(self, table: str) -> pa.Schema:
        """The column types of `table` as stored (dictionary columns as dictionaries), read from
        the file's footer only."""
        return pq.read_schema(self.path(table))

    def batches(self, table: str, columns: Iterable[str] | None = None, *,
                rows: int = BATCH_ROWS) -> Iterator[pa.RecordBatch]:
        """Columns of `table` for the whole release, as stored, `rows` records at a time (in file
        order): for writing a whole table out without holding it in memory."""
        wanted = None if columns is None else list(dict.fromkeys(columns))
        with pq.ParquetFile(self.path(table)) as file:
            yield from file.iter_batches(batch_size=rows, columns=wanted)

    def load(self, table: str, columns: Iterable[str] | None = None) -> pd.DataFrame:
        """Records of `table` within the scope (with `fiscal_year`, and the scope's geography
        column). A table without the column the scope's geography needs is never shown for the
        whole country instead: ReleaseError."""
        info = self.manifest["tables"].get(table)
        if info is None:
            raise ReleaseError(f"release {self.id!r} has no {table!r} table")
        wanted = None if columns is None else list(dict.fromkeys([*columns, "fiscal_year"]))
        geo = self.scope.geography_column
        if geo and geo not in info["columns"]:
            raise ReleaseError(f"the {table} table has no {geo!r} column, so it cannot be limited to {self.scope.geography}")
        if wanted is not None and geo and geo not in wanted:
            wanted.append(geo)
        return self.scope.apply(self.arrow(table, wanted).to_pandas())

    # ---------------------------------------------------------------- DuckDB

    @property
    def db(self) -> duckdb.DuckDBPyConnection:
        """This release's DuckDB connection (created on first use), its views in place."""
        if self._db is None:
            self._db = self._connect()
        return self._db

    def _connect(self) -> duckdb.DuckDBPyConnection:
        db = duckdb.connect(":memory:", config={"threads": DUCKDB_THREADS, "memory_limit": DUCKDB_MEMORY_LIMIT,
                                                "temp_directory": str(spill_folder())})
        condition = self.scope.where()
        for table in self.tables():
            whole = sql_name(f"{table}_all")
            db.execute(f"create view {whole} as select * from read_parquet({_literal(str(self.path(table)))})")
            if self.can_scope(table):
                db.execute(f"create view {sql_name(table)} as select * from {whole} where {condition}")
        return db

    def attach(self, schema: str, other: Release | None = None) -> None:
        """Views `<schema>.<table>` on this connection of every table of `other` (this release by
        default), whole release, each record with its position in its file (`file_row_number`):
        for queries that compare two releases record by record in one DuckDB."""
        source = other or self
        self.db.execute(f"create schema if not exists {sql_name(schema)}")
        for table in source.tables():
            self.db.execute(f"create or replace view {sql_name(schema)}.{sql_name(table)} as select * from "
                            f"read_parquet({_literal(str(source.path(table)))}, file_row_number = true)")

    def relation(self, table: str) -> duckdb.DuckDBPyRelation:
        """The records of `table` within the scope, as a DuckDB relation; refused like `load`."""
        if table not in self.manifest["tables"]:
            raise ReleaseError(f"release {self.id!r} has no {table!r} table")
        if not self.can_scope(table):
            raise ReleaseError(f"the {table} table has no {self.scope.geography_column!r} column, "
                               f"so it cannot be limited to {self.scope.geography}")
        return self.db.table(table)

    def counts(self, table: str, by: Iterable[str], *, months: Iterable[str] = ()) -> pd.DataFrame:
        """Records of `table` within the scope per combination of `by` values (missing values
        kept, as NA), in column `records`, ordered by `by`: the small frame a measure applies
        its Python rules to instead of loading every record. `months`: date columns of `by`
        grouped by calendar month (the month's first day, under the column's own name)."""
        by, months = list(by), set(months)
        relation = self.relation(table)
        if not by:
            return relation.aggregate("count(*) as records").df()
        keys = [f"date_trunc('month', {sql_name(c)})" if c in months else sql_name(c) for c in by]
        named = ", ".join(f"{key} as {sql_name(c)}" for key, c in zip(keys, by, strict=True))
        ordered = ", ".join(sql_name(c) for c in by)
        return relation.aggregate(f"{named}, count(*) as records", ", ".join(keys)).order(ordered).df()

    @contextmanager
    def large_query(self) -> Iterator[None]:
        """Inside, one query may use DUCKDB_LARGE_QUERY_LIMIT, and DuckDB need not keep rows in
        the order they were read, which lets it spill more of the query's work to disk: for a query
        whose result is sorted anyway."""
        self.db.execute(f"set memory_limit = {_literal(DUCKDB_LARGE_QUERY_LIMIT)}")
        self.db.execute("set preserve_insertion_order = false")
        try:
            yield
        finally:
            self.db.execute("set preserve_insertion_order = true")
            self.db.execute(f"set memory_limit = {_literal(DUCKDB_MEMORY_LIMIT)}")

    def sql(self, query: str, params: list | dict | None = None) -> pd.DataFrame:
        """The result of `query` over this release's views, as a pandas frame (keep it small:
        aggregate in the query). Each table is a view of its records within the scope; a table
        the scope cannot be applied to is only there as `<table>_all`, the whole release."""
        return self.db.execute(query, params).df()

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None
