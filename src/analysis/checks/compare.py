"""What a new release changed: `analysis diff RELEASE PREVIOUS` and the release-changes section.

Both releases must be ingested. Per table the comparison reports:

- records per fiscal year in each release and the difference, with partial years marked;
- columns added, dropped and renamed. A rename is read from the alias map: ingest records every raw
  header spelling behind a canonical column (`source_names` in the manifest), so a canonical column
  present in both releases under different raw spellings was renamed ("respelled" when the
  spellings differ only in case or punctuation). A dropped and an added column whose sets of
  distinct values largely overlap (Jaccard index >= POSSIBLE_RENAME_OVERLAP) are flagged as a
  *possible* rename: only the values suggest it;
- categories that appeared or vanished in coded columns (text columns with at most CODED_MAX_DISTINCT
  distinct values), counted over the fiscal years both releases cover, so that a year added or
  dropped is not mistaken for a recoding;
- for the fiscal years both cover, revised counts by state (or, without a state column, by area of
  responsibility), largest revisions first;
- record-level changes, see `record_changes`.

Record matching. ICE releases carry no identifier that is stable across releases (the anonymized
identifier links rows within one release only) and redact many fields, so records are matched on
their content: the fiscal year plus every data column the two releases share (identifiers only
where both releases number people alike, see `same_numbering`). Identical rows are
paired as a multiset (two identical rows in one release and three in the other leave one added).
Among the rest, a dropped and an added record that agree on every shared column but one are
paired as one *changed* record, trying the shared columns in order. What remains is dropped or
added. Limits: records that coincide on every non-redacted field cannot be told apart, so the
counts are the smallest set of changes that explains the difference, not a trace of individual
records; a record changed in two columns counts as one dropped and one added; columns present in
only one release (and so renamed columns the alias map does not know) are left out of the match;
records without a fiscal year (event date missing) are not compared.

Everything runs in DuckDB: both releases' tables are attached to the current release's connection
(`Release.attach`) and only counts, and the values of coded columns, come back to Python, so
comparing two releases of ten million records holds neither in memory.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import reduce

import duckdb
import pandas as pd
import pyarrow as pa

from analysis import words
from analysis.errors import ReleaseError
from analysis.escaping import md_code as code
from analysis.figures import alt
from analysis.figures.style import MUTED, add_source, label_axes, mark_partial_bars, new_figure, series_colours
from analysis.paths import processed_dir
from analysis.reading.manifest import MANIFEST_NAME, identifier_columns
from analysis.release import Release, partial_years, sql_name
from analysis.vocab.columns import IDENTIFIER_COLUMNS, is_identifier, normalize_header
from analysis.vocab.geography import short_aor

CODED_MAX_DISTINCT = 250  # countries of citizenship (~200 seen) are coded; jail names (thousands) are not
POSSIBLE_RENAME_OVERLAP = 0.5
SAME_NUMBERING_SHARE = 0.5
NEVER_SHOWN = IDENTIFIER_COLUMNS  # values never listed, whatever their cardinality (with those found by shape)
NOT_RECORDED = "(not recorded)"
MISSING_VALUE = "(missing)"
CATEGORY_COLUMNS = ["column", "value", "change", "previous", "current"]


@dataclass(frozen=True)
class Rename:
    column: str
    previous: tuple[str, ...]
    current: tuple[str, ...]
    years: tuple[int, ...] = ()  # fiscal years of the current release's sheets that use a new spelling, if known

    @property
    def kind(self) -> str:
        same = {normalize_header(n) for n in self.previous} == {normalize_header(n) for n in self.current}
        return "respelled" if same else "renamed"

    @property
    def new_spellings(self) -> list[str]:
        return [n for n in self.current if n not in self.previous]

    @property
    def gone_spellings(self) -> list[str]:
        return [n for n in self.previous if n not in self.current]

    def _where(self) -> str:
        return f" ({', '.join(f'FY{fy}' for fy in self.years)})" if self.years else ""

    def describe(self) -> str:
        """For the terminal: header spellings, quoted."""
        def quoted(names: list[str] | tuple[str, ...]) -> str:
            return ", ".join(f'"{n}"' for n in names)

        if self.gone_spellings and self.new_spellings:
            text = f"header {quoted(self.gone_spellings)} is now {quoted(self.new_spellings)}"
        elif self.new_spellings:
            text = f"header {quoted(self.previous)} is also {quoted(self.new_spellings)}{self._where()}"
        else:
            text = f"header {quoted(self.gone_spellings)} is no longer used, only {quoted(self.current)}"
        return f"{self.column}: {text}" + (" (spelling only)" if self.kind == "respelled" else "")

    def sentence(self, table: str) -> str:
        """For a reader: which header the new release uses, and that the figures stay comparable."""
        called = "spelled" if self.kind == "respelled" else "called"
        if self.gone_spellings and self.new_spellings:
            text = f"{_code_list(self.gone_spellings)} is {called} {_code_list(self.new_spellings)} in the new release{self._where()}"
        elif self.new_spellings:
            text = (f"{_code_list(self.previous)} is also {called} {_code_list(self.new_spellings)} in the new "
                    f"release{self._where()}")
        else:
            text = f"the new release no longer uses the header {_code_list(self.gone_spellings)}, only {_code_list(self.current)}"
        return f"In the {table} table, {text}; both are read as {code(self.column)}, so its figures stay comparable."


@dataclass(frozen=True)
class Recode:
    """Records that match on every other shared column and differ in one coded column's value."""

    column: str
    previous: str | None  # None: missing (blank or redacted)
    current: str | None
    records: int
    years: tuple[int, ...]

    def text(self, min_cell: int = 1) -> str:
        return f"{_value(self.previous)} → {_value(self.current)} ({words.count_in_prose(self.records, min_cell)} records)"


@dataclass(frozen=True)
class PossibleRename:
    dropped: str
    added: str
    overlap: float  # Jaccard index of the two columns' distinct values


@dataclass
class RecordChanges:
    """Record-level changes over the fiscal years both releases cover."""

    columns: list[str]
    by_year: pd.DataFrame  # fiscal_year, previous, current, unchanged, changed, dropped, added
    changed_by_column: dict[str, int]
    recodes: list[Recode] = field(default_factory=list)  # changed records of coded columns, by value pair

    def total(self, kind: str) -> int:
        return int(self.by_year[kind].sum()) if len(self.by_year) else 0


@dataclass
class TableComparison:
    name: str
    years: pd.DataFrame  # fiscal_year, previous, current, difference, previous_partial, current_partial
    columns_added: list[str] = field(default_factory=list)
    columns_dropped: list[str] = field(default_factory=list)
    renamed: list[Rename] = field(default_factory=list)
    possible_renames: list[PossibleRename] = field(default_factory=list)
    categories: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=CATEGORY_COLUMNS))
    geography: str | None = None  # "state" or "aor"
    revisions: pd.DataFrame = field(default_factory=pd.DataFrame)  # fiscal_year, area, previous, current, difference
    records: RecordChanges | None = None

    @property
    def shared_years(self) -> list[int]:
        both = self.years.dropna(subset=["previous", "current"])
        return [int(fy) for fy in both["fiscal_year"]]

    @property
    def years_added(self) -> list[int]:
        return [int(fy) for fy in self.years.loc[self.years["previous"].isna(), "fiscal_year"]]

    @property
    def years_dropped(self) -> list[int]:
        return [int(fy) for fy in self.years.loc[self.years["current"].isna(), "fiscal_year"]]

    @property
    def revised_years(self) -> pd.DataFrame:
        both = self.years.dropna(subset=["previous", "current"])
        return both[both["difference"] != 0]

    @property
    def unchanged(self) -> bool:
        records_same = self.records is None or not (
            self.records.total("changed") or self.records.total("dropped") or self.records.total("added")
        )
        return (not self.years_added and not self.years_dropped and self.revised_years.empty
                and not self.columns_added and not self.columns_dropped and not self.renamed
                and self.categories.empty and records_same)


@dataclass
class ReleaseComparison:
    current: str
    previous: str
    tables_added: list[str]
    tables_dropped: list[str]
    tables: dict[str, TableComparison]
    current_years: dict[str, list[int]] = field(default_factory=dict)  # table -> fiscal years it holds
    previous_years: dict[str, list[int]] = field(default_factory=dict)

    @property
    def shared_years(self) -> dict[str, list[int]]:
        """Table -> fiscal years both releases hold: all that is compared record by record."""
        return {name: t.shared_years for name, t in self.tables.items() if t.shared_years}

    @property
    def unchanged(self) -> bool:
        return not self.tables_added and not self.tables_dropped and all(t.unchanged for t in self.tables.values())


# ---------------------------------------------------------------- reading, in DuckDB

# Both releases are compared on the current release's DuckDB connection: its tables as
# `current_release.<table>`, the previous release's as `previous_release.<table>` (Release.attach).
CURRENT, PREVIOUS = "current_release", "previous_release"


def is_ingested(release_id: str) -> bool:
    return (processed_dir(release_id) / MANIFEST_NAME).is_file()


def _source(schema: str, table: str, years: list[int] | None = None) -> str:
    """A table of one release as a SQL relation, limited to `years` when given."""
    scan = f"{sql_name(schema)}.{sql_name(table)}"
    if years is None:
        return scan
    return f"(select * from {scan} where fiscal_year in ({', '.join(str(int(fy)) for fy in years)}))"


def _text(column: str) -> str:
    """A column's values as text: how values of differently typed columns are compared."""
    return f"cast({sql_name(column)} as varchar)"


def _one_row(db: duckdb.DuckDBPyConnection, query: str) -> tuple:
    return db.execute(query).fetchone() or ()


def _distinct_counts(db: duckdb.DuckDBPyConnection, source: str, columns: list[str]) -> dict[str, int]:
    """Distinct values of each column (missing values not counted), in one scan."""
    if not columns:
        return {}
    counts = _one_row(db, f"select {', '.join(f'count(distinct {_text(c)})' for c in columns)} from {source}")
    return dict(zip(columns, (int(n) for n in counts), strict=True))


def _shared_values(db: duckdb.DuckDBPyConnection, old: tuple[str, str], new: tuple[str, str]) -> int:
    """How many distinct values (as text) two columns, (source, column) each, have in common."""
    def values(source: str, column: str) -> str:
        return f"(select distinct {_text(column)} as value from {source})"

    return int(_one_row(db, f"select count(*) from {values(*old)} join {values(*new)} using (value)")[0])


def _value_counts(db: duckdb.DuckDBPyConnection, source: str, columns: list[str]) -> dict[str, dict[str, int]]:
    """Records per value of each column (missing values left out), one grouping set per column: one scan."""
    found: dict[str, dict[str, int]] = {c: {} for c in columns}
    if not columns:
        return found
    names = [f"v{i}" for i in range(len(columns))]
    projected = ", ".join(f"{_text(c)} as {n}" for c, n in zip(columns, names, strict=True))
    which = " ".join(f"when grouping({n}) = 0 then {i}" for i, n in enumerate(names))
    value = " ".join(f"when grouping({n}) = 0 then {n}" for n in names)
    rows = db.execute(f"""
        select * from (
            select case {which} end as position, case {value} end as value, count(*) as records
            from (select {projected} from {source}) group by grouping sets ({', '.join(f'({n})' for n in names)})
        ) where value is not null""").fetchall()
    for position, text, records in rows:
        found[columns[position]][text] = int(records)
    return found


# ---------------------------------------------------------------- comparison


def compare_releases(current: str, previous: str) -> ReleaseComparison:
    """Compare two ingested releases; `previous` is the one a reader already knows."""
    for release_id in (current, previous):
        if not is_ingested(release_id):
            raise ReleaseError(f"release {release_id!r} is not ingested; run `analysis ingest {release_id}` first")
    new, old = Release(current), Release(previous)
    new.attach(CURRENT)
    new.attach(PREVIOUS, old)
    shared = sorted(set(new.tables()) & set(old.tables()))
    try:
        tables = {name: compare_table(name, new, old) for name in shared}
    finally:
        new.close()
    return ReleaseComparison(
        current=current,
        previous=previous,
        tables_added=sorted(set(new.tables()) - set(old.tables())),
        tables_dropped=sorted(set(old.tables()) - set(new.tables())),
        tables=tables,
        current_years=coverage(new.manifest),
        previous_years=coverage(old.manifest),
    )


def coverage(manifest: dict) -> dict[str, list[int]]:
    return {name: sorted(int(fy) for fy in info["rows_by_fiscal_year"]) for name, info in sorted(manifest["tables"].items())}


def compare_table(name: str, current: Release, previous: Release) -> TableComparison:
    """One table of both releases (attached to `current`'s DuckDB by `compare_releases`); only
    counts and the values of coded columns leave DuckDB."""
    new, old, db = current.manifest, previous.manifest, current.db
    new_info, old_info = new["tables"][name], old["tables"][name]
    comparison = TableComparison(name, years_table(old, new, name))
    new_columns, old_columns = new_info["columns"], old_info["columns"]
    shared = [c for c in new_columns if c in old_columns]
    comparison.columns_added = [c for c in new_columns if c not in old_columns]
    comparison.columns_dropped = [c for c in old_columns if c not in new_columns]
    comparison.renamed = renames(old_columns, new_columns, new.get("sheets", []), name)
    if comparison.columns_added and comparison.columns_dropped:
        comparison.possible_renames = possible_renames(value_overlaps(
            db, (_source(PREVIOUS, name), comparison.columns_dropped), (_source(CURRENT, name), comparison.columns_added)))
    years = comparison.shared_years
    if not years:
        return comparison
    old_data, new_data = _source(PREVIOUS, name, years), _source(CURRENT, name, years)
    old_types, new_types = previous.schema(name), current.schema(name)
    hidden = NEVER_SHOWN | identifier_columns(new_info) | identifier_columns(old_info)
    coded = coded_columns(db, (old_data, new_data), [c for c in shared if c not in hidden
                                                     and pa.types.is_string(old_types.field(c).type)
                                                     and pa.types.is_string(new_types.field(c).type)])
    comparison.categories = category_changes(_value_counts(db, old_data, coded), _value_counts(db, new_data, coded))
    comparison.geography = next((g for g in ("state", "aor") if g in shared), None)
    if comparison.geography:
        comparison.revisions = revisions_by_area(_area_counts(db, old_data, comparison.geography),
                                                 _area_counts(db, new_data, comparison.geography))
    matched = [c for c in shared if not is_identifier(c) or same_numbering(db, (old_data, new_data), c)]
    as_text = [c for c in matched if old_types.field(c).type != new_types.field(c).type]
    comparison.records = record_changes(db, old_data, new_data, matched, coded, as_text=as_text)
    return comparison


def coded_columns(db: duckdb.DuckDBPyConnection, sources: tuple[str, str], columns: list[str]) -> list[str]:
    """The text columns with at most CODED_MAX_DISTINCT distinct values in each release."""
    old, new = (_distinct_counts(db, source, columns) for source in sources)
    return [c for c in columns if old[c] <= CODED_MAX_DISTINCT and new[c] <= CODED_MAX_DISTINCT]


def same_numbering(db: duckdb.DuckDBPyConnection, sources: tuple[str, str], column: str) -> bool:
    """Whether two releases' identifiers come from one numbering (most values of the smaller set in the
    other, as when a production is sent again). Anonymized identifiers are assigned afresh in each
    production (and qualified by production in a combined release): then they are no basis to match
    records on."""
    old, new = sources
    before, after = (_distinct_counts(db, source, [column])[column] for source in sources)
    return bool(before and after) and _shared_values(db, (old, column), (new, column)) >= SAME_NUMBERING_SHARE * min(before, after)


def years_table(old: dict, new: dict, table: str) -> pd.DataFrame:
    """Records per fiscal year in each release (missing where the release lacks the year)."""
    old_years = {int(k): v for k, v in old["tables"][table]["rows_by_fiscal_year"].items()}
    new_years = {int(k): v for k, v in new["tables"][table]["rows_by_fiscal_year"].items()}
    old_partial, new_partial = partial_years(old, table), partial_years(new, table)
    rows = []
    for fy in sorted(set(old_years) | set(new_years)):
        before, after = old_years.get(fy), new_years.get(fy)
        rows.append({
            "fiscal_year": fy,
            "previous": before,
            "current": after,
            "difference": (after or 0) - (before or 0),
            "previous_partial": fy in old_partial,
            "current_partial": fy in new_partial,
        })
    frame = pd.DataFrame(rows, columns=["fiscal_year", "previous", "current", "difference",
                                        "previous_partial", "current_partial"])
    for column in ("previous", "current"):
        frame[column] = frame[column].astype("Int64")
    return frame


def renames(old_columns: dict, new_columns: dict, new_sheets: list[dict] | None = None, table: str = "") -> list[Rename]:
    """Canonical columns present in both whose raw header spellings differ; with the fiscal years of
    the current sheets that use a new spelling, when every such sheet names one."""
    found = []
    for column, info in new_columns.items():
        if column not in old_columns:
            continue
        before = tuple(old_columns[column].get("source_names", []))
        after = tuple(info.get("source_names", []))
        if before and after and set(before) != set(after):
            rename = Rename(column, before, after)
            years = _spelling_years(new_sheets or [], table, rename.new_spellings)
            found.append(Rename(column, before, after, years) if years and not rename.gone_spellings else rename)
    return found


def _spelling_years(sheets: list[dict], table: str, spellings: list[str]) -> tuple[int, ...]:
    using = [s for s in sheets if s.get("table") == table and set(spellings) & set(s.get("columns", []))]
    if not using or any(s.get("fiscal_year") is None for s in using):
        return ()
    return tuple(sorted({int(s["fiscal_year"]) for s in using}))


def value_overlaps(db: duckdb.DuckDBPyConnection, dropped: tuple[str, list[str]],
                   added: tuple[str, list[str]]) -> dict[tuple[str, str], float]:
    """Jaccard index of the distinct values (as text) of each dropped and each added column, (source,
    columns) each; pairs where either column has no value are left out."""
    (old, old_columns), (new, new_columns) = dropped, added
    before, after = _distinct_counts(db, old, old_columns), _distinct_counts(db, new, new_columns)
    overlaps = {}
    for gone in old_columns:
        for came in new_columns:
            if before[gone] and after[came]:
                shared = _shared_values(db, (old, gone), (new, came))
                overlaps[(gone, came)] = shared / (before[gone] + after[came] - shared)
    return overlaps


def possible_renames(overlaps: dict[tuple[str, str], float],
                     threshold: float = POSSIBLE_RENAME_OVERLAP) -> list[PossibleRename]:
    """Dropped and added columns whose distinct values largely overlap (`value_overlaps`), best match
    first, each used once."""
    pairs = [PossibleRename(dropped, added, overlap) for (dropped, added), overlap in overlaps.items()
             if overlap >= threshold]
    chosen: list[PossibleRename] = []
    for pair in sorted(pairs, key=lambda p: (-p.overlap, p.dropped, p.added)):
        if all(pair.dropped != c.dropped and pair.added != c.added for c in chosen):
            chosen.append(pair)
    return chosen


def category_changes(old: dict[str, dict[str, int]], new: dict[str, dict[str, int]]) -> pd.DataFrame:
    """Values of each column (records per value, `_value_counts`) that appear in only one of the two releases."""
    rows = []
    for column, before in old.items():
        after = new[column]
        for value in sorted(set(after) - set(before)):
            rows.append({"column": column, "value": value, "change": "appeared", "previous": 0, "current": after[value]})
        for value in sorted(set(before) - set(after)):
            rows.append({"column": column, "value": value, "change": "vanished", "previous": before[value], "current": 0})
    return pd.DataFrame(rows, columns=["column", "value", "change", "previous", "current"])


def _area_counts(db: duckdb.DuckDBPyConnection, source: str, geography: str) -> pd.DataFrame:
    """Records per fiscal year and area (areas of responsibility by their short name, missing ones
    as NOT_RECORDED): fiscal_year, area, records."""
    counts = db.execute(f"select fiscal_year, {_text(geography)} as area, count(*) as records from {source} "
                        "group by all").df()
    area = counts["area"].astype("string")
    if geography == "aor":
        area = area.map(lambda v: short_aor(v) if isinstance(v, str) else v).astype("string")
    return pd.DataFrame({"fiscal_year": counts["fiscal_year"].astype(int), "area": area.fillna(NOT_RECORDED),
                         "records": counts["records"].astype(int)})


def revisions_by_area(old: pd.DataFrame, new: pd.DataFrame) -> pd.DataFrame:
    """Records per (fiscal_year, area) that differ between the releases, largest revisions first;
    `old` and `new` hold fiscal_year, area and records."""
    before = old.groupby(["fiscal_year", "area"])["records"].sum().rename("previous")
    after = new.groupby(["fiscal_year", "area"])["records"].sum().rename("current")
    both = pd.concat([before, after], axis=1).fillna(0).astype(int).reset_index()
    both["difference"] = both["current"] - both["previous"]
    both = both[both["difference"] != 0]
    order = both["difference"].abs().sort_values(ascending=False, kind="stable").index
    return both.loc[order].reset_index(drop=True)


# ---------------------------------------------------------------- record matching


class _Scratch:
    """Temporary DuckDB tables of one record matching, dropped at the end."""

    def __init__(self, db: duckdb.DuckDBPyConnection) -> None:
        self.db, self.made = db, set[str]()

    def __enter__(self) -> _Scratch:
        return self

    def make(self, name: str, query: str) -> str:
        self.db.execute(f"create or replace temp table {name} as {query}")
        self.made.add(name)
        return name

    def rows(self, name: str) -> int:
        return int(_one_row(self.db, f"select count(*) from {name}")[0])

    def __exit__(self, *exc: object) -> None:
        for name in self.made:
            self.db.execute(f"drop table if exists {name}")


def _column_hash(position: int, value: str) -> str:
    """The hash of a value in the column at `position`. DuckDB's `hash(a, b)` is `hash(a) * c XOR
    hash(b)`, so a XOR of such hashes would lose the positions (a record whose two date columns
    swap values would match the original): the value's hash, salted by position, is hashed again."""
    return f"hash(xor(hash({value}), hash({position})))"


def _xor(parts: list[str]) -> str:
    return reduce(lambda left, right: f"xor({left}, {right})", parts)


def record_changes(db: duckdb.DuckDBPyConnection, old: str, new: str, columns: list[str],
                   coded: list[str] | None = None, *, as_text: Iterable[str] = ()) -> RecordChanges:
    """Pair records of two releases by content (see the module docstring), in DuckDB. `old` and
    `new` are relations holding `file_row_number`, `fiscal_year` and `columns`, restricted to the
    fiscal years both releases cover; `as_text` columns (typed differently in the two) are compared
    as text. Changed records of the `coded` columns (default: all) are also counted by value pair,
    as recodes.

    A record's key is the XOR of one hash per column (of its position and value), so the key of
    "every column but one" is the record's key XOR that column's hash, and equal keys are equal
    content (up to 64-bit hash collisions, as any hash join). Pairing follows the file order:
    among equal keys the k-th record of one release pairs with the k-th of the other, the records
    left over being the last ones."""
    coded = list(columns) if coded is None else coded
    text = set(as_text)
    values = {c: _text(c) if c in text else sql_name(c) for c in columns}
    column_hashes = [_column_hash(0, "fiscal_year::integer")] + [_column_hash(i, values[c]) for i, c in enumerate(columns, 1)]
    with _Scratch(db) as scratch:
        keyed = {side: scratch.make(f"_match_{side}", f"select file_row_number as rn, fiscal_year::integer as fy, "
                                                      f"{_xor(column_hashes)} as h from {source}")
                 for side, source in (("old", old), ("new", new))}
        left = {side: scratch.make(f"_left_{side}", _leftover(keyed[side], keyed[other]))
                for side, other in (("old", "new"), ("new", "old"))}
        changed_by_column: dict[str, int] = {}
        changed_years: Counter[int] = Counter()
        recodes: list[Recode] = []
        one_column_apart = list(enumerate(columns, 1)) if len(columns) > 1 else []
        for position, column in one_column_apart:
            if not scratch.rows(left["old"]) or not scratch.rows(left["new"]):
                break
            steps = {side: scratch.make(f"_step_{side}", f"""
                select l.rn, l.fy, v.value, xor(l.h, {_column_hash(position, 'v.value')}) as rest
                from {left[side]} l join (select file_row_number as rn, {values[column]} as value from {source}) v
                using (rn)""") for side, source in (("old", old), ("new", new))}
            pairs = scratch.make("_pairs", _pairs(steps["old"], steps["new"]))
            found = scratch.rows(pairs)
            if not found:
                continue
            changed_by_column[column] = found
            changed_years.update(dict(db.execute(f"select fy, count(*) from {pairs} group by fy").fetchall()))
            for side in ("old", "new"):
                db.execute(f"delete from {left[side]} where rn in (select {side}_rn from {pairs})")
            if column in coded:
                recodes += value_pairs(db, column, pairs)
        by_year = _by_year(db, keyed, left, changed_years)
    return RecordChanges(list(columns), by_year, changed_by_column, recodes)


def _leftover(mine: str, theirs: str) -> str:
    """The records of `mine` left over after pairing equal keys with `theirs` as multisets: of each
    key, the last records (in file order) beyond the number `theirs` has."""
    return f"""
        with own as (select h, count(*) as n from {mine} group by h),
             other as (select h, count(*) as n from {theirs} group by h),
             surplus as (select h, own.n - coalesce(other.n, 0) as extra from own left join other using (h)
                         where own.n > coalesce(other.n, 0))
        select rn, fy, h from (
            select r.rn, r.fy, r.h, s.extra, row_number() over (partition by r.h order by r.rn desc) as back
            from {mine} r join surplus s using (h)
        ) where back <= extra"""


def _pairs(old: str, new: str) -> str:
    """Records of equal `rest` paired one to one: within a key, the commonest values of the column
    first (records of a recode stay together when a dropped record looks like one of them in every
    other column), then in file order. Commonness is counted over each release's leftover records."""
    def numbered(mine: str, theirs: str) -> str:
        return f"""(
            select m.rn, m.fy, m.value, m.rest,
                   row_number() over (partition by m.rest order by c.rarity, m.rn) as k
            from {mine} m join (select value, -count(*) as rarity from {mine} group by value) c
                 on m.value is not distinct from c.value
            where m.rest in (select rest from {theirs}))"""

    return f"""
        select o.rn as old_rn, n.rn as new_rn, o.fy, o.value as previous, n.value as current
        from {numbered(old, new)} o join {numbered(new, old)} n using (rest, k)"""


def value_pairs(db: duckdb.DuckDBPyConnection, column: str, pairs: str) -> list[Recode]:
    """Paired records' (previous value, current value) of one column with their counts, largest first."""
    rows = db.execute(f"select previous, current, count(*), list(distinct fy) from {pairs} group by all").fetchall()
    found = [Recode(column, None if before is None else str(before), None if after is None else str(after),
                    int(records), tuple(sorted(int(fy) for fy in years))) for before, after, records, years in rows]
    return sorted(found, key=lambda r: (-r.records, str(r.previous), str(r.current)))


def _by_year(db: duckdb.DuckDBPyConnection, keyed: dict[str, str], left: dict[str, str],
             changed: Counter[int]) -> pd.DataFrame:
    def per_year(name: str) -> dict[int, int]:
        return {int(fy): int(n) for fy, n in db.execute(f"select fy, count(*) from {name} group by fy").fetchall()}

    previous, current = per_year(keyed["old"]), per_year(keyed["new"])
    dropped, added = per_year(left["old"]), per_year(left["new"])
    rows = []
    for fy in sorted(set(previous) | set(current)):
        before, change, gone = previous.get(fy, 0), changed.get(fy, 0), dropped.get(fy, 0)
        rows.append({"fiscal_year": fy, "previous": before, "current": current.get(fy, 0),
                     "unchanged": before - change - gone, "changed": change, "dropped": gone, "added": added.get(fy, 0)})
    return pd.DataFrame(rows, columns=["fiscal_year", "previous", "current", "unchanged", "changed", "dropped", "added"])


# ---------------------------------------------------------------- words




def _value(value: str | None) -> str:
    return MISSING_VALUE if value is None else code(value)


def _code_list(names: list[str] | tuple[str, ...]) -> str:
    return words.and_list([code(n) for n in names])


def recodings(categories: pd.DataFrame) -> list[tuple[str, str, str, int]]:
    """(column, old value, new value, records) where a vanished and an appeared value of one column
    have the same number of records: most likely the same category relabelled."""
    found: list[tuple[str, str, str, int]] = []
    if categories.empty:
        return found
    for column, group in categories.groupby("column", sort=False):
        gone = group[group["change"] == "vanished"]
        new = group[group["change"] == "appeared"]
        used: set[str] = set()
        for _, old_row in gone.iterrows():
            match = new[(new["current"] == old_row["previous"]) & ~new["value"].isin(used)]
            if len(match) == 1:
                used.add(match.iloc[0]["value"])
                found.append((str(column), str(old_row["value"]), str(match.iloc[0]["value"]), int(old_row["previous"])))
    return found


def _largest_revision(table: TableComparison, min_cell: int) -> str:
    """The largest revision by area, naming every area that ties for it."""
    revisions = table.revisions
    size = revisions["difference"].abs().iloc[0]
    top = revisions[revisions["difference"].abs() == size]
    names = [f"{r.area} (FY{r.fiscal_year}, {'+' if r.difference > 0 else '−'}{words.count_in_prose(size, min_cell)})"
             for r in top.itertuples()]
    if len(names) > 3:
        shown = ", ".join(names[:3]) + f" and {len(names) - 3} more"
    else:
        shown = words.and_list(names)
    area = "state" if table.geography == "state" else "area of responsibility"
    verb = "is" if len(names) == 1 else f"is shared by {len(names)} areas:"
    return f"The largest {table.name} revision by {area} {verb} {shown}."


def table_notes(table: TableComparison, min_cell: int = 1) -> list[str]:
    """Sentences a reader of the previous report needs about one table."""
    notes: list[str] = []
    name = table.name
    for _, row in table.years.iterrows():
        fy, before, after, diff = int(row["fiscal_year"]), row["previous"], row["current"], int(row["difference"])
        if pd.isna(before):
            notes.append(f"FY{fy} {name} are new in this release ({words.count_in_prose(int(after), min_cell)} records"
                         + (", a partial year)." if row["current_partial"] else ")."))
        elif pd.isna(after):
            notes.append(f"FY{fy} {name} are no longer in this release (the previous one had {words.count_in_prose(int(before), min_cell)}).")
        elif diff:
            direction = "up" if diff > 0 else "down"
            partial = " (the previous release had only part of the year)" if row["previous_partial"] and not row["current_partial"] else ""
            notes.append(f"FY{fy} {name} were revised {direction} by {words.count_in_prose(abs(diff), min_cell)} "
                         f"({words.percent_of(abs(diff), int(before))}), from {words.count_in_prose(int(before), min_cell)} to "
                         f"{words.count_in_prose(int(after), min_cell)}{partial}.")
    notes += [rename.sentence(name) for rename in table.renamed]
    if table.columns_added:
        notes.append(f"The {name} table has new columns: {', '.join(table.columns_added)}.")
    if table.columns_dropped:
        notes.append(f"The {name} table no longer has: {', '.join(table.columns_dropped)}.")
    for pair in table.possible_renames:
        notes.append(f"In the {name} table, {pair.added} may be {pair.dropped} under a new name: "
                     f"{pair.overlap:.0%} of their distinct values are shared.")
    recodes = table.records.recodes if table.records else []
    notes += recode_notes(name, recodes, min_cell)
    explained = {(r.column, v) for r in recodes for v in (r.previous, r.current) if v is not None}
    unexplained = table.categories[[(c, v) not in explained for c, v in table.categories[["column", "value"]].itertuples(index=False)]]
    relabelled = recodings(unexplained)
    for column, old_value, new_value, records in relabelled:
        notes.append(f"In {name}.{column}, {code(old_value)} no longer appears and {code(new_value)} appears with the "
                     f"same number of records ({words.count_in_prose(records, min_cell)}): most likely a relabelling.")
    explained |= {(c, v) for c, old_value, new_value, _ in relabelled for v in (old_value, new_value)}
    rest = table.categories
    if not rest.empty:
        rest = rest[[(c, v) not in explained for c, v in rest[["column", "value"]].itertuples(index=False)]]
    for (coded, change), group in rest.groupby(["column", "change"], sort=False):
        values = sorted(group["value"].astype(str))
        verb = "appear for the first time" if change == "appeared" else "no longer appear"
        notes.append(f"In {name}.{coded}, {len(values)} {words.plural(len(values), 'value')} {verb} in "
                     f"{words.fy_list(table.shared_years)}: {words.limited_list([code(v) for v in values])}.")
    if not table.revisions.empty:
        notes.append(_largest_revision(table, min_cell))
    matched = table.records
    if matched is not None and (matched.total("changed") or matched.total("dropped") or matched.total("added")):
        parts = [f"{words.count_in_prose(matched.total(k), min_cell)} {k}" for k in ("dropped", "added", "changed")]
        by_column = ", ".join(f"{c} {words.count_in_prose(n, min_cell)}" for c, n in matched.changed_by_column.items())
        notes.append(f"Matching {name} records of {words.fy_list(table.shared_years)} on their content: {', '.join(parts)}"
                     + (f" (changed in {by_column})." if by_column else "."))
    return notes


def recode_notes(table: str, recodes: list[Recode], min_cell: int = 1, limit: int = 4) -> list[str]:
    """One sentence per column: its value pairs among records that match on every other column."""
    notes = []
    by_column: dict[str, list[Recode]] = {}
    for recode in recodes:
        by_column.setdefault(recode.column, []).append(recode)
    for column, found in by_column.items():
        shown = "; ".join(r.text(min_cell) for r in found[:limit])
        more = f"; and {len(found) - limit} more value pairs" if len(found) > limit else ""
        years = words.fy_list(sorted({fy for r in found for fy in r.years}))
        notes.append(f"In {table}.{column}, records that match on every other column carry new values in {years}: "
                     f"{shown}{more}.")
    return notes


def coverage_text(years: dict[str, list[int]]) -> str:
    """`arrests FY2016–FY2017, removals FY2016`: the tables and fiscal years a release holds."""
    return "; ".join(f"{name} {words.fy_runs(fys) or 'no fiscal year'}" for name, fys in years.items()) or "no table"


def reader_notes(comparison: ReleaseComparison, min_cell: int = 1) -> list[str]:
    """What a reader of the previous release's report needs to know, one sentence each."""
    notes: list[str] = []
    if comparison.tables_added:
        notes.append(f"New tables: {', '.join(comparison.tables_added)}.")
    if comparison.tables_dropped:
        notes.append(f"Tables no longer in the release: {', '.join(comparison.tables_dropped)}.")
    if comparison.tables and not comparison.shared_years:
        notes.append(f"No table and fiscal year is in both releases (this release: {coverage_text(comparison.current_years)}; "
                     f"the previous one: {coverage_text(comparison.previous_years)}), so only the coverage and "
                     "columns are compared, not records.")
    for table in comparison.tables.values():
        notes.extend(table_notes(table, min_cell))
    if not notes:
        notes.append(f"Release {comparison.current} holds the same tables, columns and records as "
                     f"{comparison.previous}: nothing in the previous report needs revising.")
    return notes


def summary_paragraph(comparison: ReleaseComparison, min_cell: int = 1) -> str:
    """The reader notes as Markdown (values from the release in code spans: `code`, escaping.md_code)."""
    return " ".join(reader_notes(comparison, min_cell))


def headline(comparison: ReleaseComparison) -> str:
    """A one-line finding: what changed most."""
    added = sorted({fy for t in comparison.tables.values() for fy in t.years_added})
    revisions = [(abs(int(r["difference"])), name, r) for name, t in comparison.tables.items()
                 for _, r in t.revised_years.iterrows()]
    parts = []
    if added:
        parts.append(f"adds {words.fy_list(added)}")
    if revisions:
        _, name, row = max(revisions, key=lambda item: item[0])
        direction = "up" if row["difference"] > 0 else "down"
        parts.append(f"revises FY{int(row['fiscal_year'])} {name} {direction} by {words.count(abs(row['difference']))}")
    if not parts:
        return (f"Release {comparison.current} keeps the record counts of {comparison.previous}"
                if not comparison.unchanged else f"Release {comparison.current} is unchanged from {comparison.previous}")
    return f"Release {comparison.current} " + " and ".join(parts)


# ---------------------------------------------------------------- report section


def unavailable(previous: str | None) -> str | None:
    """Why the release-changes section cannot compare (one sentence), or None when it can."""
    if previous is None:
        return ("No previous release was named (`--previous-release`, or `previous_release` in the release's "
                "release.yml), so the comparison with an earlier release is skipped.")
    if not is_ingested(previous):
        return (f"The previous release {previous!r} is not ingested in this project (run `analysis ingest "
                f"{previous}`), so the comparison with it is skipped.")
    return None


def _hide_small_changes(frame: pd.DataFrame, pairs: list[tuple[str, str, str]], min_cell: int) -> pd.DataFrame:
    """Blank a change where either count is a small cell: it would give the suppressed count away."""
    for before, after, change in pairs:
        frame = words.hide_small(frame.astype({change: "Float64"}), change, [before, after], min_cell)
    return frame


def years_frame(comparison: ReleaseComparison, min_cell: int = 1) -> pd.DataFrame:
    rows = []
    for name, table in comparison.tables.items():
        for r in table.years.itertuples():
            partial = " (partial)" if r.current_partial or r.previous_partial else ""
            rows.append({"Table": name, "Fiscal year": f"FY{r.fiscal_year}{partial}", "Previous": r.previous,
                         "Current": r.current, "Change": r.difference})
    frame = pd.DataFrame(rows, columns=["Table", "Fiscal year", "Previous", "Current", "Change"])
    return _hide_small_changes(frame, [("Previous", "Current", "Change")], min_cell)


def columns_frame(comparison: ReleaseComparison) -> pd.DataFrame:
    """Every column added, dropped, renamed or possibly renamed, with the header spellings behind it."""
    rows = []
    for name, table in comparison.tables.items():
        for rename in table.renamed:
            rows.append({"Table": name, "Column": rename.column, "Change": rename.kind,
                         "Previous header": " / ".join(rename.previous), "Current header": " / ".join(rename.current)})
        rows += [{"Table": name, "Column": c, "Change": "added", "Previous header": "", "Current header": ""}
                 for c in table.columns_added]
        rows += [{"Table": name, "Column": c, "Change": "dropped", "Previous header": "", "Current header": ""}
                 for c in table.columns_dropped]
        rows += [{"Table": name, "Column": f"{p.dropped} → {p.added}", "Change": f"possible rename ({p.overlap:.0%} of values shared)",
                  "Previous header": p.dropped, "Current header": p.added} for p in table.possible_renames]
    return pd.DataFrame(rows, columns=["Table", "Column", "Change", "Previous header", "Current header"])


def categories_frame(comparison: ReleaseComparison) -> pd.DataFrame:
    frames = [t.categories.assign(table=name) for name, t in comparison.tables.items() if not t.categories.empty]
    if not frames:
        return pd.DataFrame(columns=["Table", "Column", "Value", "Change", "Records"])
    both = pd.concat(frames, ignore_index=True)
    both["Records"] = both[["previous", "current"]].max(axis=1)
    return both.rename(columns={"table": "Table", "column": "Column", "value": "Value", "change": "Change"})[
        ["Table", "Column", "Value", "Change", "Records"]]


def recodes_frame(comparison: ReleaseComparison) -> pd.DataFrame:
    """Value pairs of coded columns among records that match on every other column, largest first."""
    rows = [{"Table": name, "Column": r.column, "Previous value": MISSING_VALUE if r.previous is None else r.previous,
             "Current value": MISSING_VALUE if r.current is None else r.current, "Records": r.records,
             "Fiscal years": words.fy_runs(list(r.years))}
            for name, table in comparison.tables.items() if table.records for r in table.records.recodes]
    return pd.DataFrame(rows, columns=["Table", "Column", "Previous value", "Current value", "Records", "Fiscal years"])


def revisions_frame(comparison: ReleaseComparison, limit: int = 15, min_cell: int = 1) -> pd.DataFrame:
    frames = []
    for name, table in comparison.tables.items():
        if not table.revisions.empty:
            frames.append(table.revisions.head(limit).assign(Table=name))
    if not frames:
        return pd.DataFrame(columns=["Table", "Fiscal year", "Area", "Previous", "Current", "Change"])
    both = pd.concat(frames, ignore_index=True)
    both["Fiscal year"] = "FY" + both["fiscal_year"].astype(str)
    both = both.rename(columns={"area": "Area", "previous": "Previous", "current": "Current", "difference": "Change"})
    both = both[["Table", "Fiscal year", "Area", "Previous", "Current", "Change"]]
    return _hide_small_changes(both, [("Previous", "Current", "Change")], min_cell)


def records_frame(comparison: ReleaseComparison) -> pd.DataFrame:
    rows = []
    for name, table in comparison.tables.items():
        if table.records is None:
            continue
        for r in table.records.by_year.itertuples():
            rows.append({"Table": name, "Fiscal year": f"FY{r.fiscal_year}", "Unchanged": r.unchanged,
                         "Changed": r.changed, "Dropped": r.dropped, "Added": r.added})
    return pd.DataFrame(rows, columns=["Table", "Fiscal year", "Unchanged", "Changed", "Dropped", "Added"])


def revision_figure(comparison: ReleaseComparison, source: str):
    """Bars of the change in records per table and fiscal year both releases cover; None if nothing changed."""
    revised = [(name, t) for name, t in comparison.tables.items() if not t.revised_years.empty]
    if not revised:
        return None
    years = sorted({fy for _, t in revised for fy in t.shared_years})
    title = headline(comparison)
    fig, ax = new_figure(title, subtitle=f"Change in records from release {comparison.previous}, "
                         "fiscal years both releases cover")
    width = min(0.8 / len(revised), 0.4)
    drawn = []
    colours = series_colours([name for name, _ in revised])
    for i, (name, table) in enumerate(revised):
        shared = table.years.set_index("fiscal_year").reindex(years)
        positions = [x + i * width for x in range(len(years))]
        bars = ax.bar(positions, shared["difference"].fillna(0), width=width, label=name, color=colours[i])
        is_partial = shared["previous_partial"].fillna(False) | shared["current_partial"].fillna(False)
        drawn.append((bars, [bool(p) for p in is_partial]))
    ax.legend(loc="upper left", fontsize=8)  # replaced by mark_partial_bars' legend when a year is partial
    for bars, partial in drawn:
        mark_partial_bars(ax, bars, partial)
    legend = ax.get_legend()  # outside the plot: revisions fill it from the zero line up or down
    if legend is not None:
        handles = [h for h in legend.legend_handles if h is not None]
        ax.legend(handles, [t.get_text() for t in legend.get_texts()], loc="upper left",
                  bbox_to_anchor=(1.01, 1.0), fontsize=8)
    ax.axhline(0, color=MUTED, linewidth=0.8)
    centres = [x + width * (len(revised) - 1) / 2 for x in range(len(years))]
    ax.set_xticks(centres)
    ax.set_xticklabels([f"FY{fy}" for fy in years])
    ax.set_xlim(centres[0] - 0.7, centres[-1] + 0.7)
    label_axes(ax, x="Fiscal year (1 October to 30 September)", y="Change in records (current − previous)")
    add_source(fig, source)
    parts: list[alt.Part] = [f"Bar chart of the change in records from release {comparison.previous} per table and "
                             "fiscal year both releases cover"]
    for i, (name, table) in enumerate(revised):
        shared = table.years.set_index("fiscal_year").reindex(years)
        parts += ["; " if i else ": ", f"{name}: ",
                  *alt.listing([f"FY{fy}" for fy in years], [float(v) for v in shared["difference"].fillna(0)])]
    return alt.attach(fig, title, *parts, ".")


# ---------------------------------------------------------------- terminal


def format_comparison(comparison: ReleaseComparison) -> str:
    """The readable summary `analysis diff` prints."""
    lines = [f"Release {comparison.current} (current) compared with {comparison.previous} (previous)",
             f"  {comparison.current} holds: {coverage_text(comparison.current_years)}",
             f"  {comparison.previous} holds: {coverage_text(comparison.previous_years)}",
             "  compared record by record: " + (coverage_text(comparison.shared_years) if comparison.shared_years
                                                else "nothing (no table and fiscal year is in both)")]
    if comparison.tables_added:
        lines.append(f"Tables added: {', '.join(comparison.tables_added)}")
    if comparison.tables_dropped:
        lines.append(f"Tables dropped: {', '.join(comparison.tables_dropped)}")
    for table in comparison.tables.values():
        lines += _table_lines(table, comparison)
    lines += ["", "What a reader of the previous report needs to know:"]
    lines += [f"  - {note}" for note in reader_notes(comparison)]
    return "\n".join(lines)


def _table_lines(table: TableComparison, comparison: ReleaseComparison) -> list[str]:
    lines = ["", f"{table.name}", f"  {'fiscal year':<18}{'previous':>15}{'current':>15}{'change':>22}"]
    for _, row in table.years.iterrows():
        label = f"FY{int(row['fiscal_year'])}" + (" (partial)" if row["current_partial"] or row["previous_partial"] else "")
        change = words.signed(int(row["difference"]))
        if not pd.isna(row["previous"]) and not pd.isna(row["current"]) and row["difference"]:
            change += f" ({100 * row['difference'] / row['previous']:+.1f}%)" if row["previous"] else ""
        lines.append(f"  {label:<18}{words.count(row['previous']):>15}{words.count(row['current']):>15}{change:>22}")
    lines.append("  columns renamed: " + ("; ".join(r.describe() for r in table.renamed) or "none"))
    lines.append(f"  columns added: {', '.join(table.columns_added) or 'none'}; dropped: {', '.join(table.columns_dropped) or 'none'}")
    if table.possible_renames:
        lines.append("  possible renames (by values): " + "; ".join(
            f"{p.dropped} -> {p.added} ({p.overlap:.0%} of values shared)" for p in table.possible_renames))
    if not table.shared_years:
        lines.append("  no fiscal year in both releases: nothing to match record by record")
        return lines
    shown = [f"{column} {change} '{value}' ({max(before, after):,})" for column, value, change, before, after
             in table.categories[["column", "value", "change", "previous", "current"]].itertuples(index=False)]
    lines.append(f"  categories ({words.fy_list(table.shared_years)}): " + (", ".join(shown) or "no value appeared or vanished"))
    if table.records is not None and table.records.recodes:
        lines.append("  recoded (records matching on every other column): " + "; ".join(
            f"{r.column} {r.text()}" for r in table.records.recodes[:10])
            + (f"; and {len(table.records.recodes) - 10} more" if len(table.records.recodes) > 10 else ""))
    if table.geography:
        area = "state" if table.geography == "state" else "area of responsibility"
        if table.revisions.empty:
            lines.append(f"  revisions by {area}: none")
        else:
            lines.append(f"  revisions by {area}, largest first:")
            for r in table.revisions.head(10).itertuples():
                lines.append(f"    FY{r.fiscal_year} {r.area:<30}{r.previous:>10,}{r.current:>10,}{r.difference:>+10,}")
            if len(table.revisions) > 10:
                lines.append(f"    ... and {len(table.revisions) - 10} more")
    if table.records is not None:
        records = table.records
        detail = ", ".join(f"{c} {n:,}" for c, n in records.changed_by_column.items())
        lines.append(f"  records matched on fiscal year + {len(records.columns)} shared columns: "
                     f"{records.total('unchanged'):,} unchanged, {records.total('changed'):,} changed"
                     + (f" ({detail})" if detail else "")
                     + f", {records.total('dropped'):,} dropped, {records.total('added'):,} added")
    return lines

