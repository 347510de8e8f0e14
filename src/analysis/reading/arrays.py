"""Arrow arrays and scalars made from numpy and Python values, for the reading code.

pyarrow's own constructors (`pa.array`, `pa.scalar`, and compute functions given a Python value)
first ask whether the value is a pandas object, and asking imports pandas: a fifth of a second of
CPU, about a tenth of what an ingest of a text release spends. Values built here from Arrow
buffers never ask, so reading a text release never imports pandas (a test checks it)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import numpy as np
import pyarrow as pa

_EPOCH = dt.date(1970, 1, 1)


def numbers(values: np.ndarray, kind: pa.DataType | None = None) -> pa.Array:
    """A numpy array (booleans or numbers, none missing) as an Arrow array of `kind` (by default
    the array's own type)."""
    values = np.ascontiguousarray(values)
    if values.dtype == np.bool_:
        bits = np.packbits(values, bitorder="little")
        return pa.Array.from_buffers(pa.bool_(), len(values), [None, pa.py_buffer(bits)])
    kind = kind or pa.from_numpy_dtype(values.dtype)
    values = np.ascontiguousarray(values, dtype=_held_as(kind))
    return pa.Array.from_buffers(kind, len(values), [None, pa.py_buffer(values)])


def _held_as(kind: pa.DataType) -> np.dtype:
    """The numpy type of an Arrow type's values in memory."""
    if pa.types.is_date32(kind):
        return np.dtype(np.int32)
    if pa.types.is_floating(kind):
        return np.dtype(f"f{kind.bit_width // 8}")
    if pa.types.is_integer(kind):
        return np.dtype(f"{'u' if pa.types.is_unsigned_integer(kind) else 'i'}{kind.bit_width // 8}")
    raise TypeError(f"no numpy type holds {kind}")


def with_missing(values: pa.Array, missing: np.ndarray) -> pa.Array:
    """`values` (an array just made here, not a slice) missing where the boolean array `missing` is true."""
    assert values.offset == 0 and values.null_count == 0
    if not missing.any():
        return values
    validity = pa.py_buffer(np.packbits(~missing, bitorder="little"))
    return pa.Array.from_buffers(values.type, len(values), [validity, *values.buffers()[1:]])


def texts(values: Iterable[str | None]) -> pa.Array:
    """Python strings (or None) as an Arrow string array."""
    items = list(values)
    encoded = [b"" if v is None else v.encode("utf-8") for v in items]
    offsets = np.zeros(len(encoded) + 1, np.int32)
    np.cumsum([len(e) for e in encoded], out=offsets[1:])
    array = pa.Array.from_buffers(pa.string(), len(encoded), [None, pa.py_buffer(offsets),
                                                              pa.py_buffer(b"".join(encoded))])
    return with_missing(array, np.array([v is None for v in items], bool))


def literal(value: bool | int | str | dt.date | None, kind: pa.DataType) -> pa.Scalar:
    """One value of `kind` as an Arrow scalar (None: a missing value of that type)."""
    if value is None:
        return pa.nulls(1, kind)[0]
    if pa.types.is_string(kind):
        return texts([str(value)])[0]
    if pa.types.is_date32(kind):
        assert isinstance(value, dt.date)
        return numbers(np.array([(value - _EPOCH).days], np.int32), pa.date32())[0]
    if pa.types.is_boolean(kind):
        return numbers(np.array([bool(value)]))[0]
    return numbers(np.array([value]), kind)[0]


def date_of(days: int) -> dt.date:
    """The date a date32 value (days since 1970-01-01) stands for."""
    return _EPOCH + dt.timedelta(days=days)


TRUE = literal(True, pa.bool_())
FALSE = literal(False, pa.bool_())


def flags(mask: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """A boolean Arrow array as numpy booleans, a missing value as False."""
    if isinstance(mask, pa.ChunkedArray):
        return np.concatenate([flags(chunk) for chunk in mask.chunks]) if mask.num_chunks else np.zeros(0, bool)
    if len(mask) == 0:
        return np.zeros(0, bool)
    validity, data = mask.buffers()[:2]
    found = _bits(data, mask.offset, len(mask))
    if validity is not None and mask.null_count:
        found &= _bits(validity, mask.offset, len(mask))
    return found


def values_of(array: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """The numbers of an Arrow array with none missing, as a numpy array (a view where it can be)."""
    if isinstance(array, pa.ChunkedArray):
        parts = [values_of(chunk) for chunk in array.chunks]
        return np.concatenate(parts) if parts else np.zeros(0, _held_as(array.type))
    assert not array.null_count, "fill the missing values first"
    if len(array) == 0:
        return np.zeros(0, _held_as(array.type))
    return np.frombuffer(array.buffers()[1], _held_as(array.type))[array.offset: array.offset + len(array)]


def _bits(buffer: pa.Buffer, offset: int, length: int) -> np.ndarray:
    return np.unpackbits(np.frombuffer(buffer, np.uint8), bitorder="little")[offset: offset + length].astype(bool)


def empty_table(schema: pa.Schema) -> pa.Table:
    """A table of this schema without rows (`Schema.empty_table` makes pyarrow import pandas)."""
    return pa.Table.from_arrays([pa.nulls(0, f.type) for f in schema], schema=schema)
