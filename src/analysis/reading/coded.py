"""Columns held as their distinct values and one code per row (Arrow dictionary arrays).

A release's columns repeat a few thousand distinct values over millions of rows, so every rule
about a value (trimming, the redaction pattern, date parsing, the cell-size limit, the row hash)
runs once per distinct value, and only counting and look-ups run per row. Text files are parsed
straight into this form (`pyarrow.csv` builds the dictionaries while it parses); workbook sheets
are encoded once. A code points at its value; a missing value is a missing code, or a code whose
value cleaning set to missing (`missing_rows` counts both).
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from analysis.reading.arrays import FALSE, flags, literal, numbers, values_of, with_missing

CODED_TEXT = pa.dictionary(pa.int32(), pa.string())


def coded(values: pa.Array | pa.ChunkedArray) -> pa.DictionaryArray:
    """One dictionary array with int32 codes: dictionary chunks unified, text encoded."""
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks() if values.num_chunks != 1 else values.chunk(0)
    if not pa.types.is_dictionary(values.type):
        if pa.types.is_null(values.type):
            values = values.cast(pa.string())
        values = pc.dictionary_encode(values)
    if values.type.index_type != pa.int32():
        values = pa.DictionaryArray.from_arrays(pc.cast(values.indices, pa.int32()), values.dictionary)
    return values


def with_values(column: pa.DictionaryArray, values: pa.Array) -> pa.DictionaryArray:
    """The same codes pointing at new values (one new value per old one)."""
    return pa.DictionaryArray.from_arrays(column.indices, values)


def writable(column: pa.DictionaryArray) -> pa.DictionaryArray:
    """The same values with no missing value among the distinct values, which parquet cannot
    write: the codes of a value cleaning set to missing become missing codes."""
    values = column.dictionary
    if not values.null_count:
        return column
    valid = flags(values.is_valid())
    new_codes = with_missing(numbers(np.cumsum(valid, dtype=np.int32) - 1), ~valid)
    return pa.DictionaryArray.from_arrays(pc.take(new_codes, column.indices), values.filter(numbers(valid)))


def decoded(column: pa.DictionaryArray) -> pa.Array:
    """The column as plain values, one per row."""
    return pc.take(column.dictionary, column.indices)


def codes(column: pa.DictionaryArray, *, missing: int = -1) -> np.ndarray:
    """The codes as a numpy int32 array, `missing` where a row has no code."""
    indices = column.indices
    if indices.null_count:
        indices = pc.fill_null(indices, literal(missing, indices.type))
    return values_of(indices)


def weights(column: pa.DictionaryArray) -> np.ndarray:
    """How many rows hold each value (rows without a code are not counted)."""
    found = codes(column, missing=len(column.dictionary))
    return np.bincount(found, minlength=len(column.dictionary) + 1)[: len(column.dictionary)]


def rows_of(value_mask: pa.Array | np.ndarray, column: pa.DictionaryArray) -> np.ndarray:
    """Per row, whether its value is one `value_mask` marks (False for a row without a code)."""
    marks = flags(value_mask) if isinstance(value_mask, pa.Array) else np.asarray(value_mask, bool)
    return np.append(marks, False)[codes(column, missing=len(marks))]


class RowCounts:
    """Counts of the rows of a coded column whose value a mask marks; the rows per value are
    counted the first time a mask marks any value (most masks mark none)."""

    def __init__(self, column: pa.DictionaryArray) -> None:
        self.column = column
        self._weights: np.ndarray | None = None

    def of(self, value_mask: pa.Array) -> int:
        marks = flags(value_mask)
        if not marks.any():
            return 0
        if self._weights is None:
            self._weights = weights(self.column)
        return int(self._weights[marks].sum())


def missing_rows(column: pa.DictionaryArray) -> int:
    """Rows without a value: no code, or a code whose value is missing."""
    missing = column.indices.null_count
    if column.dictionary.null_count:
        missing += RowCounts(column).of(pc.is_null(column.dictionary))
    return missing


def first_seen(column: pa.DictionaryArray, value_mask: pa.Array, limit: int) -> list:
    """Up to `limit` distinct values that `value_mask` marks, in the order of the rows that
    first hold them (what `pc.unique` over the decoded rows would list first)."""
    marks = pc.fill_null(value_mask, FALSE)
    if not pc.any(marks).as_py():
        return []
    row_codes = codes(column)
    rows = np.flatnonzero(rows_of(marks, column))
    found: list = []
    values = column.dictionary
    for start in range(0, len(rows), 4096):  # the first few thousand rows almost always suffice
        chunk = row_codes[rows[start : start + 4096]]
        _, first = np.unique(chunk, return_index=True)
        for code in chunk[np.sort(first)].tolist():
            value = values[code].as_py()
            if value not in found:
                found.append(value)
                if len(found) == limit:
                    return found
    return found
