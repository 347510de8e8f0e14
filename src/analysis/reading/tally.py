"""What validation and the manifest count about a table's values, gathered batch by batch as
the batches are filed, so that a written table is not read back to be checked or summarised.

A tally is made of each batch where the batch is prepared (in a reader thread) and kept beside
it in its table's parts (`parts.py`); the tallies of the batches a table keeps are joined in
file order at the end (`TableTally.extend`), so a sheet taken out again takes its counts with it.
Counts are of rows; checks on values run once per distinct value (`coded.py`); examples are the
first distinct values in row order, as `pc.unique` over the written column would list them. The
rules and their messages are validation's (`validation.py`), which says what to count.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from analysis.reading.arrays import FALSE, TRUE, date_of, flags, literal, values_of
from analysis.reading.cleaning import fiscal_years
from analysis.reading.coded import RowCounts, coded, codes, decoded, first_seen, missing_rows, weights
from analysis.vocab.columns import NON_DATA_COLUMNS, is_date_column
from analysis.vocab.kinds import KIND_BY_NAME

EXAMPLES = 3  # example values kept for a warning
ID_SAMPLE_ROWS = 50_000  # the first rows of a table whose text is examined for the shape of identifiers

Span = tuple[dt.date, dt.date]  # first and last date


@dataclass(frozen=True)
class Rules:
    """What to count, set by validation: the columns whose values are counted, and the range of
    values a date column (or `birth_year`) may plausibly hold."""

    categories: frozenset[str]
    today: dt.date
    earliest_event: dt.date
    earliest_birth: dt.date

    def date_range(self, column: str) -> tuple[dt.date, dt.date]:
        return (self.earliest_birth if column.startswith("birth") else self.earliest_event), self.today

    def birth_years(self) -> tuple[int, int]:
        return self.earliest_birth.year, self.today.year


@dataclass
class Found:
    """Rows a check marks, and the first few distinct values they hold, in row order."""

    rows: int = 0
    examples: list = field(default_factory=list)

    def extend(self, other: Found) -> None:
        self.rows += other.rows
        for value in other.examples:
            if len(self.examples) < EXAMPLES and value not in self.examples:
                self.examples.append(value)


@dataclass
class TableTally:
    """The counts of a table, or of the batch it was made of, that validation and the manifest use."""

    table: str
    rules: Rules
    rows: int = 0
    present: Counter[str] = field(default_factory=Counter)  # rows of the batches that hold each column
    nulls: Counter[str] = field(default_factory=Counter)  # rows without a value, of those batches
    first_null: dict[str, int] = field(default_factory=dict)  # provenance columns: first row without a value
    lowest_source_row: int | None = None
    categories: dict[str, Counter] = field(default_factory=dict)  # column -> value -> rows
    outside: dict[str, Found] = field(default_factory=dict)  # column -> values outside their plausible range
    mismatches: dict[str, Found] = field(default_factory=dict)  # date column -> records dated outside their year
    years: Counter = field(default_factory=Counter)  # fiscal year (None: without one) -> rows
    spans: dict[str, dict[int | None, Span]] = field(default_factory=dict)  # date column -> fiscal year -> span
    # text of the table's first ID_SAMPLE_ROWS rows, as (first row, values) pieces; None: not known
    sample: dict[str, list[tuple[int, pa.Array]]] | None = field(default_factory=dict)

    # ------------------------------------------------------------ one batch

    def add(self, table: pa.Table) -> None:
        """Count one batch: the next rows of the table."""
        kind = KIND_BY_NAME.get(self.table)
        fiscal_year = table.column("fiscal_year").combine_chunks() if "fiscal_year" in table.column_names else None
        for name in table.column_names:
            column = table.column(name)
            values = column.combine_chunks() if name in NON_DATA_COLUMNS else coded(column)
            self._count_missing(name, values)
            if name in NON_DATA_COLUMNS:
                continue
            if name in self.rules.categories:
                self._count_categories(name, values)
            if is_date_column(name) or name == "birth_year":
                self._count_outside(name, values)
            if is_date_column(name) and fiscal_year is not None and (kind is None or name in kind.date_columns):
                self._count_spans(name, values, fiscal_year)
                if kind is not None:
                    self._count_mismatches(name, values, fiscal_year)
            if pa.types.is_string(values.type.value_type):
                self._keep_sample(name, values)
        if fiscal_year is not None:
            self.years.update({c["values"]: c["counts"] for c in pc.value_counts(fiscal_year).to_pylist()})
        if "source_row" in table.column_names and table.num_rows:
            self.lowest_source_row = _lowest(self.lowest_source_row, pc.min(table.column("source_row")).as_py())
        self.rows += table.num_rows

    def _count_missing(self, name: str, values: pa.Array) -> None:
        missing = missing_rows(values) if pa.types.is_dictionary(values.type) else values.null_count
        self.present[name] += len(values)
        self.nulls[name] += missing
        if missing and name in NON_DATA_COLUMNS and name not in self.first_null:
            plain = decoded(values) if pa.types.is_dictionary(values.type) else values
            self.first_null[name] = self.rows + pc.index(pc.is_null(plain), TRUE).as_py()

    def _count_categories(self, name: str, values: pa.DictionaryArray) -> None:
        found = self.categories.setdefault(name, Counter())
        for value, rows in zip(values.dictionary.to_pylist(), weights(values).tolist(), strict=True):
            if value is not None and rows:
                found[value] += rows

    def _count_outside(self, name: str, values: pa.DictionaryArray) -> None:
        low, high = self.rules.birth_years() if name == "birth_year" else self.rules.date_range(name)
        value_type = values.type.value_type
        outside = pc.fill_null(pc.or_(pc.less(values.dictionary, literal(low, value_type)),
                                      pc.greater(values.dictionary, literal(high, value_type))), FALSE)
        rows = RowCounts(values).of(outside)
        self.outside.setdefault(name, Found()).extend(Found(rows, first_seen(values, outside, EXAMPLES) if rows else []))

    def _count_mismatches(self, name: str, values: pa.DictionaryArray, fiscal_year: pa.Array) -> None:
        differs = pc.fill_null(pc.not_equal(fiscal_years(values), fiscal_year), FALSE)
        rows = int(pc.sum(pc.cast(differs, pa.int64())).as_py() or 0)
        examples = pc.unique(pc.drop_null(pc.filter(decoded(values), differs))).to_pylist()[:EXAMPLES] if rows else []
        self.mismatches.setdefault(name, Found()).extend(Found(rows, examples))

    def _count_spans(self, name: str, values: pa.DictionaryArray, fiscal_year: pa.Array) -> None:
        """First and last date of each fiscal year's rows, from the distinct dates the year's rows hold."""
        years = coded(fiscal_year)
        year_codes = codes(years, missing=len(years.dictionary))  # the last code: no fiscal year
        date_codes = codes(values, missing=len(values.dictionary))  # the last code: no date
        days = pc.cast(values.dictionary, pa.int32())
        day_values = values_of(pc.fill_null(days, literal(0, pa.int32())))
        has_day = np.append(flags(pc.is_valid(days)), False)
        spans = self.spans.setdefault(name, {})
        for code, year in enumerate([*years.dictionary.to_pylist(), None]):
            held = np.bincount(date_codes[year_codes == code], minlength=len(has_day)) > 0
            found = day_values[(held & has_day)[:-1]]
            if len(found):
                _widen(spans, year, (date_of(int(found.min())), date_of(int(found.max()))))

    def _keep_sample(self, name: str, values: pa.DictionaryArray) -> None:
        wanted = ID_SAMPLE_ROWS - self.rows
        if wanted > 0 and self.sample is not None:
            self.sample.setdefault(name, []).append((self.rows, decoded(values.slice(0, wanted))))

    # ------------------------------------------------------------ joined

    def extend(self, other: TableTally) -> None:
        """Add the tally of the rows that follow this tally's rows in the table."""
        for name, row in other.first_null.items():
            self.first_null.setdefault(name, self.rows + row)
        self._extend_sample(other)
        self.rows += other.rows
        self.present.update(other.present)
        self.nulls.update(other.nulls)
        self.lowest_source_row = _lowest(self.lowest_source_row, other.lowest_source_row)
        for name, counts in other.categories.items():
            self.categories.setdefault(name, Counter()).update(counts)
        for mine, theirs in ((self.outside, other.outside), (self.mismatches, other.mismatches)):
            for name, found in theirs.items():
                mine.setdefault(name, Found()).extend(found)
        self.years.update(other.years)
        for name, spans in other.spans.items():
            held = self.spans.setdefault(name, {})
            for year, span in spans.items():
                _widen(held, year, span)

    def _extend_sample(self, other: TableTally) -> None:
        if self.sample is None or self.rows >= ID_SAMPLE_ROWS or not other.rows:
            return
        if other.sample is None:
            self.sample = None  # rows among the first ID_SAMPLE_ROWS whose text was let go
            return
        for name, pieces in other.sample.items():
            for start, values in pieces:
                at = self.rows + start
                if at < ID_SAMPLE_ROWS:
                    self.sample.setdefault(name, []).append((at, values.slice(0, ID_SAMPLE_ROWS - at)))

    def drop_sample(self) -> None:
        """Let the sampled text go: for a batch that comes after its table's first ID_SAMPLE_ROWS rows."""
        self.sample = None

    def text_sample(self, name: str) -> pa.Array | None:
        """The column's text in the table's first ID_SAMPLE_ROWS rows (rows of batches without the
        column left out), or None when that text is not known."""
        if self.sample is None:
            return None
        pieces = [values for _, values in self.sample.get(name, [])]
        return pa.concat_arrays(pieces) if pieces else pa.nulls(0, pa.string())

    def missing(self, name: str) -> int:
        """Rows of the table without a value in this column (every row of a batch without it)."""
        return self.nulls[name] + self.rows - self.present[name]


def _widen(spans: dict[int | None, Span], year: int | None, span: Span) -> None:
    before = spans.get(year)
    spans[year] = (min(span[0], before[0]), max(span[1], before[1])) if before else span


def _lowest(a: int | None, b: int | None) -> int | None:
    return b if a is None else a if b is None else min(a, b)
