"""Turn one sheet's raw strings into typed, canonical columns, counting what was removed.

All column work is vectorised with pyarrow.compute, so a sheet of a million rows cleans
in about a second.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from analysis.vocab.columns import INTEGER_COLUMNS, canonical_columns, is_date_column
from analysis.vocab.geography import AOR_SPELLINGS, STATE_SPELLINGS

# FOIA exemption markers: `(B)(6);(B)(7)(C) `, `(b)(6),(b)(7)(c )`, `(b)(7)(E )`, `b(6), b(7)c` ...
_EXEMPTION = r"\(?\s*b\s*\)?\s*\(\s*\d\s*\)\s*(?:\(\s*[a-f]\s*\)|[a-f](?:\b|$))?"
REDACTION_PATTERN = (
    rf"(?i)^(?:(?:{_EXEMPTION})(?:\s*[;,&/]?\s*(?:and\s+)?{_EXEMPTION})*|\[?\s*(?:redacted|withheld)\s*\]?)$"
)
NA_LITERALS = ["NA", "N/A", "n/a"]
# what Excel shows in a cell whose formula failed (and writes as text when it saves a CSV)
EXCEL_ERRORS = ("#N/A", "#REF!", "#VALUE!", "#DIV/0!", "#NAME?", "#NULL!", "#NUM!", "#GETTING_DATA", "#SPILL!", "#CALC!")
# A two-digit year is read as Excel reads it back (its default cutoff, 2029): 00-29 -> 2000s, 30-99 -> 1900s.
# A fixed rule, so a release reads the same in every year; ICE's event dates all fall in 2000-2029.
TWO_DIGIT_YEAR_CUTOFF = 29
EXCEL_EPOCH_OFFSET = 25569  # days from 1899-12-30 (Excel's day 0) to 1970-01-01
PLAUSIBLE_DATES = (dt.date(1900, 1, 1), dt.date(2100, 12, 31))


SET_MISSING_KEYS = ("redacted", "na_literal", "excel_errors", "unparsed", "out_of_range", "two_digit_years", "respelled")  # counted per column


@dataclass
class ColumnStats:
    """What cleaning found in one column; summed over sheets into the manifest.
    `unparsed_examples` holds raw values set to missing, whether not understood or out of range."""

    source_names: list[str] = field(default_factory=list)
    redacted: int = 0
    na_literal: int = 0
    excel_errors: int = 0
    unparsed: int = 0
    out_of_range: int = 0
    two_digit_years: int = 0
    respelled: int = 0  # values written in another case or spelling of a known code, made canonical
    unparsed_examples: list[str] = field(default_factory=list)
    respelled_examples: list[str] = field(default_factory=list)

    def add(self, other: ColumnStats) -> None:
        for name in other.source_names:
            if name not in self.source_names:
                self.source_names.append(name)
        self.redacted += other.redacted
        self.na_literal += other.na_literal
        self.excel_errors += other.excel_errors
        self.unparsed += other.unparsed
        self.out_of_range += other.out_of_range
        self.two_digit_years += other.two_digit_years
        self.respelled += other.respelled
        for examples, more in ((self.unparsed_examples, other.unparsed_examples),
                               (self.respelled_examples, other.respelled_examples)):
            for example in more:
                if len(examples) < 3 and example not in examples:
                    examples.append(example)


def _count(mask: pa.Array) -> int:
    return int(pc.sum(mask.cast(pa.int64())).as_py() or 0)


def clean_strings(values: pa.Array) -> tuple[pa.Array, int, int]:
    """Strip whitespace; blanks, redaction markers and literal NA become missing.
    Returns the values, the redaction count and the NA count."""
    values = pc.utf8_trim_whitespace(values)
    values = pc.if_else(pc.equal(values, ""), pa.scalar(None, pa.string()), values)
    redacted = pc.fill_null(pc.match_substring_regex(values, REDACTION_PATTERN), False)
    na = pc.fill_null(pc.is_in(values, value_set=pa.array(NA_LITERALS)), False)
    missing = pc.or_(redacted, na)
    values = pc.if_else(missing, pa.scalar(None, pa.string()), values)
    return values, _count(redacted), _count(na)


def excel_errors(values: pa.Array) -> tuple[pa.Array, int]:
    """Excel error values (`#N/A`, `#REF!`, ...) become missing; returns the values and their count."""
    errors = pc.fill_null(pc.is_in(values, value_set=pa.array(EXCEL_ERRORS)), False)
    count = _count(errors)
    return (pc.if_else(errors, pa.scalar(None, pa.string()), values) if count else values), count


def canonical_spellings(column: str, values: pa.Array) -> tuple[pa.Array, int, list[str]]:
    """State codes and AOR names written in another case or spacing (`ca`, `Ca`, `seattle area of
    responsibility`), or a state written as its name, in their one canonical spelling, so a filter on
    `CA` finds them all. Returns the values, how many changed, and a few `'ca' -> 'CA'` examples.
    Works on the distinct values only."""
    lookup = STATE_SPELLINGS if column == "state" else AOR_SPELLINGS if column == "aor" else None
    if lookup is None or values.null_count == len(values):
        return values, 0, []
    encoded = pc.dictionary_encode(values)
    distinct = encoded.dictionary
    keys = pc.utf8_lower(pc.replace_substring_regex(distinct, r"\s+", " "))
    found = pc.index_in(keys, value_set=pa.array(list(lookup)))
    canonical = pc.if_else(pc.is_valid(found), pc.take(pa.array(list(lookup.values())), found), distinct)
    changed = pc.not_equal(canonical, distinct)
    if not pc.any(changed).as_py():
        return values, 0, []
    examples = [f"{a!r} -> {b!r}" for a, b in zip(pc.filter(distinct, changed).to_pylist(),
                                                    pc.filter(canonical, changed).to_pylist(), strict=True)][:3]
    count = _count(pc.fill_null(pc.take(changed, encoded.indices), False))
    return pc.take(canonical, encoded.indices), count, examples


def _strict_strptime(text: pa.Array, format: str, day_pattern: str) -> pa.Array:
    """Dates parsed with `format`, where the day written equals the day parsed: Arrow's strptime
    rolls impossible days over (2/30/2021 -> 2021-03-02); those become missing instead."""
    dates = pc.cast(pc.strptime(text, format=format, unit="s", error_is_null=True), pa.date32())
    written_day = pc.cast(pc.struct_field(pc.extract_regex(text, day_pattern), [0]), pa.int64())
    same_day = pc.fill_null(pc.equal(pc.day(dates), written_day), False)
    return pc.if_else(same_day, dates, pa.scalar(None, pa.date32()))


def parse_dates(values: pa.Array) -> tuple[pa.Array, int, int]:
    """Dates from M/D/YYYY or M/D/YY text (time part ignored), ISO text, or Excel serial numbers.
    Returns date32 values, the unparsed count and the out-of-range count (`examples_set_missing`
    names a few of the values either turned into missing)."""
    parsed, unparsed, out_of_range, _ = parse_dates_counted(values)
    return parsed, unparsed, out_of_range


def parse_dates_counted(values: pa.Array) -> tuple[pa.Array, int, int, int]:
    """`parse_dates`, also counting the dates written with a two-digit year (last in the tuple)."""
    day_part = pc.replace_substring_regex(values, r"[ T].*$", "")
    us_style = _strict_strptime(day_part, "%m/%d/%Y", r"^\d{1,2}/(?P<day>\d{1,2})/")
    iso_style = _strict_strptime(day_part, "%Y-%m-%d", r"^\d{4}-\d{1,2}-(?P<day>\d{1,2})$")
    is_serial = pc.fill_null(pc.match_substring_regex(values, r"^\d{1,6}(\.\d+)?$"), False)
    serial_text = pc.if_else(is_serial, values, pa.scalar(None, pa.string()))
    serial_days = pc.subtract(pc.floor(pc.cast(serial_text, pa.float64())), EXCEL_EPOCH_OFFSET)
    serial = pc.cast(pc.cast(serial_days, pa.int32()), pa.date32())
    parsed = pc.coalesce(us_style, iso_style, serial)
    parsed, two_digit = _with_two_digit_years(day_part, parsed)
    unparsed_mask = pc.and_(pc.is_valid(values), pc.is_null(parsed))
    low, high = (pa.scalar(d, pa.date32()) for d in PLAUSIBLE_DATES)
    out_of_range = pc.fill_null(pc.or_(pc.less(parsed, low), pc.greater(parsed, high)), False)
    parsed = pc.if_else(out_of_range, pa.scalar(None, pa.date32()), parsed)
    return parsed, _count(unparsed_mask), _count(out_of_range), two_digit


def _with_two_digit_years(day_part: pa.Array, parsed: pa.Array) -> tuple[pa.Array, int]:
    """Dates not yet understood that are M/D/YY (Excel's CSV export of a short date), read with
    TWO_DIGIT_YEAR_CUTOFF; only the values still missing are looked at."""
    # Arrow's %Y takes "23" as the year 23 (later out of range): such dates are looked at again
    before_year_100 = pc.fill_null(pc.less(parsed, pa.scalar(dt.date(100, 1, 1), pa.date32())), True)
    pending = pc.and_(pc.is_valid(day_part), before_year_100)
    if not pc.any(pending).as_py():
        return parsed, 0
    short = pc.if_else(pending, day_part, pa.scalar(None, pa.string()))
    cutoff = f"{TWO_DIGIT_YEAR_CUTOFF:02d}"
    pattern = r"^(\d{1,2}/\d{1,2}/)(\d\d)$"
    recent = pc.fill_null(pc.less_equal(pc.struct_field(pc.extract_regex(short, r"^\d{1,2}/\d{1,2}/(?P<yy>\d\d)$"), [0]),
                                        cutoff), False)
    century = pc.if_else(recent, pa.scalar("20"), pa.scalar("19"))
    full = pc.binary_join_element_wise(pc.replace_substring_regex(short, pattern, r"\1"), century,
                                       pc.replace_substring_regex(short, pattern, r"\2"), "")
    full = pc.if_else(pc.fill_null(pc.match_substring_regex(short, pattern), False), full, pa.scalar(None, pa.string()))
    two_digit = _strict_strptime(full, "%m/%d/%Y", r"^\d{1,2}/(?P<day>\d{1,2})/")
    return pc.if_else(pc.is_valid(two_digit), two_digit, parsed), _count(pc.is_valid(two_digit))


def parse_integers(values: pa.Array) -> tuple[pa.Array, int, list[str]]:
    numeric = pc.fill_null(pc.match_substring_regex(values, r"^-?\d{1,9}(\.0+)?$"), False)
    text = pc.if_else(numeric, values, pa.scalar(None, pa.string()))
    parsed = pc.cast(pc.cast(text, pa.float64()), pa.int32())
    unparsed_mask = pc.and_(pc.is_valid(values), pc.invert(numeric))
    examples = pc.unique(pc.filter(values, unparsed_mask)).to_pylist()[:3]
    return parsed, _count(unparsed_mask), examples


def examples_set_missing(text: pa.Array, parsed: pa.Array, limit: int = 3) -> list[str]:
    """A few distinct raw values that parsing turned into missing (not understood, or out of range)."""
    lost = pc.and_(pc.is_valid(text), pc.is_null(parsed))
    return [str(v)[:40] for v in pc.unique(pc.filter(text, lost)).to_pylist()[:limit]]


def clean_columns(raw: pa.Table, header: list[str]) -> tuple[dict[str, pa.Array], dict[str, ColumnStats]]:
    """Canonical names and typed values for a sheet's columns; all-empty unnamed columns are dropped."""
    names = canonical_columns(header)
    columns: dict[str, pa.Array] = {}
    stats: dict[str, ColumnStats] = {}
    for position, name in enumerate(names):
        values = raw.column(position).combine_chunks()
        values, redacted, na = clean_strings(values)
        if name.startswith("unnamed_") and values.null_count == len(values):
            continue
        values, errors = excel_errors(values)
        column_stats = ColumnStats(source_names=[header[position]], redacted=redacted, na_literal=na, excel_errors=errors)
        if is_date_column(name):
            text = values
            values, column_stats.unparsed, column_stats.out_of_range, column_stats.two_digit_years = (
                parse_dates_counted(text))
            column_stats.unparsed_examples = examples_set_missing(text, values)
        elif name in INTEGER_COLUMNS:
            values, column_stats.unparsed, column_stats.unparsed_examples = parse_integers(values)
        else:
            values, column_stats.respelled, column_stats.respelled_examples = canonical_spellings(name, values)
        columns[name] = values
        stats[name] = column_stats
    return columns, stats


def fiscal_years(dates: pa.Array) -> pa.Array:
    """Federal fiscal year of each date: FY2023 = 2022-10-01 .. 2023-09-30."""
    year = pc.year(dates)
    later = pc.cast(pc.greater_equal(pc.month(dates), 10), pa.int64())
    return pc.cast(pc.add(year, later), pa.int16())


_NULL_HASH = np.uint64(0x9E3779B97F4A7C15)
_MIX = np.uint64(0x100000001B3)


def _column_hashes(values: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """One 64-bit hash per value: each distinct value is hashed once (keyed SipHash from pandas'
    `hash_array`) and gathered by its dictionary index, so no per-row Python objects are made."""
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    if pa.types.is_dictionary(values.type):
        values = values.dictionary_decode()
    if not pa.types.is_string(values.type) and not pa.types.is_large_string(values.type):
        values = pc.cast(values, pa.string())
    encoded = values.dictionary_encode()
    distinct = np.asarray(encoded.dictionary.to_numpy(zero_copy_only=False), dtype=object)
    distinct_hashes = pd.util.hash_array(distinct) if len(distinct) else np.empty(0, np.uint64)
    indices = encoded.indices.to_numpy(zero_copy_only=False)
    valid = ~pd.isna(indices) if indices.dtype.kind == "f" else np.ones(len(indices), bool)
    hashes = np.full(len(indices), _NULL_HASH, dtype=np.uint64)
    positions = np.where(valid, np.nan_to_num(indices, nan=0), 0).astype(np.int64) if indices.dtype.kind == "f" else indices
    hashes[valid] = distinct_hashes[positions[valid]]
    return hashes


def row_hashes(columns: dict[str, pa.Array]) -> pa.Array:
    """A stable 64-bit hash of each row's values (column order does not matter; nulls differ
    from every text). Equal rows hash equally in every run and on every machine; the hash
    identifies likely duplicates, not people."""
    if not columns:
        return pa.array([], pa.uint64())
    length = len(next(iter(columns.values())))
    combined = np.zeros(length, dtype=np.uint64)
    with np.errstate(over="ignore"):
        for name in sorted(columns):
            name_hash = pd.util.hash_array(np.array([name], dtype=object))[0]
            combined = (combined * _MIX) ^ (_column_hashes(columns[name]) + name_hash)
    return pa.array(combined, pa.uint64())
