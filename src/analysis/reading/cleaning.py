"""Turn one sheet's raw strings into typed, canonical columns, counting what was removed.

All column work is vectorised with pyarrow.compute and runs once per distinct value of a
column (`coded.py`); per row there are only counts and look-ups.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from analysis.reading.arrays import FALSE, TRUE, flags, literal, numbers, texts
from analysis.reading.coded import RowCounts, coded, codes, decoded, first_seen, with_values
from analysis.reading.hashing import hash_strings
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


# values put in or compared with, made in `arrays.py` (pa.scalar would make pyarrow import pandas)
_NO_TEXT = literal(None, pa.string())
_NO_DATE = literal(None, pa.date32())
_EMPTY = literal("", pa.string())
_NA_LITERALS = texts(NA_LITERALS)
_EXCEL_ERRORS = texts(EXCEL_ERRORS)
_PLAUSIBLE = tuple(literal(d, pa.date32()) for d in PLAUSIBLE_DATES)
_YEAR_100 = literal(dt.date(100, 1, 1), pa.date32())
_CENTURIES = literal("20", pa.string()), literal("19", pa.string())
_CUTOFF = literal(f"{TWO_DIGIT_YEAR_CUTOFF:02d}", pa.string())
_EPOCH_OFFSET = literal(EXCEL_EPOCH_OFFSET, pa.float64())
_OCTOBER = literal(10, pa.int64())


def _clean_text(values: pa.Array) -> tuple[pa.Array, pa.Array, pa.Array]:
    """Whitespace stripped; blanks, redaction markers and literal NA missing. Returns the values and
    the masks of the redaction markers and of the NAs."""
    values = pc.utf8_trim_whitespace(values)
    values = pc.if_else(pc.equal(values, _EMPTY), _NO_TEXT, values)
    redacted = pc.fill_null(pc.match_substring_regex(values, REDACTION_PATTERN), FALSE)
    na = pc.fill_null(pc.is_in(values, value_set=_NA_LITERALS), FALSE)
    return pc.if_else(pc.or_(redacted, na), _NO_TEXT, values), redacted, na


def clean_strings(values: pa.Array) -> tuple[pa.Array, int, int]:
    """Strip whitespace; blanks, redaction markers and literal NA become missing.
    Returns the values, the redaction count and the NA count."""
    values, redacted, na = _clean_text(values)
    return values, _count(redacted), _count(na)


def _excel_error_mask(values: pa.Array) -> pa.Array:
    return pc.fill_null(pc.is_in(values, value_set=_EXCEL_ERRORS), FALSE)


def _canonical_values(column: str, values: pa.Array) -> tuple[pa.Array, pa.Array] | None:
    """State codes and AOR names in their one canonical spelling, and the mask of the values that
    changed; None for a column without canonical spellings."""
    lookup = STATE_SPELLINGS if column == "state" else AOR_SPELLINGS if column == "aor" else None
    if lookup is None or values.null_count == len(values):
        return None
    keys = pc.utf8_lower(pc.replace_substring_regex(values, r"\s+", " "))
    found = pc.index_in(keys, value_set=texts(lookup))
    canonical = pc.if_else(pc.is_valid(found), pc.take(texts(lookup.values()), found), values)
    return canonical, pc.fill_null(pc.not_equal(canonical, values), FALSE)


def _respelled(column: str, values: pa.DictionaryArray, rows: RowCounts
               ) -> tuple[pa.DictionaryArray, int, list[str]] | None:
    """State codes and AOR names written in another case or spacing (`ca`, `Ca`, `seattle area of
    responsibility`), or a state written as its name, in their one canonical spelling, so a filter on
    `CA` finds them all (None when nothing changes). Returns the values, how many rows changed, and a
    few `'ca' -> 'CA'` examples in the order the rows first show them."""
    found = _canonical_values(column, values.dictionary)
    if found is None:
        return None
    canonical, changed = found
    count = rows.of(changed)
    if not count:
        return None
    spelled = dict(zip(pc.filter(values.dictionary, changed).to_pylist(), pc.filter(canonical, changed).to_pylist(),
                       strict=True))
    examples = [f"{a!r} -> {spelled[a]!r}" for a in first_seen(values, changed, 3)]
    return with_values(values, canonical), count, examples


def _strict_strptime(text: pa.Array, format: str, day_pattern: str) -> pa.Array:
    """Dates parsed with `format`, where the day written equals the day parsed: Arrow's strptime
    rolls impossible days over (2/30/2021 -> 2021-03-02); those become missing instead."""
    dates = pc.cast(pc.strptime(text, format=format, unit="s", error_is_null=True), pa.date32())
    written_day = pc.cast(pc.struct_field(pc.extract_regex(text, day_pattern), [0]), pa.int64())
    same_day = pc.fill_null(pc.equal(pc.day(dates), written_day), FALSE)
    return pc.if_else(same_day, dates, _NO_DATE)


def parse_dates(values: pa.Array) -> tuple[pa.Array, int, int]:
    """Dates from M/D/YYYY or M/D/YY text (time part ignored), ISO text, or Excel serial numbers.
    Returns date32 values, the unparsed count and the out-of-range count (`examples_set_missing`
    names a few of the values either turned into missing)."""
    parsed, unparsed, out_of_range, _ = parse_dates_counted(values)
    return parsed, unparsed, out_of_range


def parse_dates_counted(values: pa.Array) -> tuple[pa.Array, int, int, int]:
    """`parse_dates`, also counting the dates written with a two-digit year (last in the tuple)."""
    parsed, unparsed, out_of_range, two_digit = _date_values(values)
    return parsed, _count(unparsed), _count(out_of_range), _count(two_digit)


def _date_values(values: pa.Array) -> tuple[pa.Array, pa.Array, pa.Array, pa.Array]:
    """The dates of text values, and the masks of the values not understood, out of range, and
    written with a two-digit year."""
    day_part = pc.replace_substring_regex(values, r"[ T].*$", "")
    us_style = _strict_strptime(day_part, "%m/%d/%Y", r"^\d{1,2}/(?P<day>\d{1,2})/")
    iso_style = _strict_strptime(day_part, "%Y-%m-%d", r"^\d{4}-\d{1,2}-(?P<day>\d{1,2})$")
    is_serial = pc.fill_null(pc.match_substring_regex(values, r"^\d{1,6}(\.\d+)?$"), FALSE)
    serial_text = pc.if_else(is_serial, values, _NO_TEXT)
    serial_days = pc.subtract(pc.floor(pc.cast(serial_text, pa.float64())), _EPOCH_OFFSET)
    serial = pc.cast(pc.cast(serial_days, pa.int32()), pa.date32())
    parsed = pc.coalesce(us_style, iso_style, serial)
    parsed, two_digit = _with_two_digit_years(day_part, parsed)
    unparsed = pc.and_(pc.is_valid(values), pc.is_null(parsed))
    low, high = _PLAUSIBLE
    out_of_range = pc.fill_null(pc.or_(pc.less(parsed, low), pc.greater(parsed, high)), FALSE)
    return pc.if_else(out_of_range, _NO_DATE, parsed), unparsed, out_of_range, two_digit


def _with_two_digit_years(day_part: pa.Array, parsed: pa.Array) -> tuple[pa.Array, pa.Array]:
    """Dates not yet understood that are M/D/YY (Excel's CSV export of a short date), read with
    TWO_DIGIT_YEAR_CUTOFF; only the values still missing are looked at. Returns the dates and the
    mask of those read so."""
    # Arrow's %Y takes "23" as the year 23 (later out of range): such dates are looked at again
    before_year_100 = pc.fill_null(pc.less(parsed, _YEAR_100), TRUE)
    pending = pc.and_(pc.is_valid(day_part), before_year_100)
    if not pc.any(pending).as_py():
        return parsed, numbers(np.zeros(len(parsed), bool))
    short = pc.if_else(pending, day_part, _NO_TEXT)
    pattern = r"^(\d{1,2}/\d{1,2}/)(\d\d)$"
    recent = pc.fill_null(pc.less_equal(pc.struct_field(pc.extract_regex(short, r"^\d{1,2}/\d{1,2}/(?P<yy>\d\d)$"), [0]),
                                        _CUTOFF), FALSE)
    century = pc.if_else(recent, *_CENTURIES)
    full = pc.binary_join_element_wise(pc.replace_substring_regex(short, pattern, r"\1"), century,
                                       pc.replace_substring_regex(short, pattern, r"\2"), _EMPTY)
    full = pc.if_else(pc.fill_null(pc.match_substring_regex(short, pattern), FALSE), full, _NO_TEXT)
    two_digit = _strict_strptime(full, "%m/%d/%Y", r"^\d{1,2}/(?P<day>\d{1,2})/")
    return pc.if_else(pc.is_valid(two_digit), two_digit, parsed), pc.is_valid(two_digit)


def _integer_values(values: pa.Array) -> tuple[pa.Array, pa.Array]:
    """The integers of text values, and the mask of the values that are not integers."""
    numeric = pc.fill_null(pc.match_substring_regex(values, r"^-?\d{1,9}(\.0+)?$"), FALSE)
    text = pc.if_else(numeric, values, _NO_TEXT)
    parsed = pc.cast(pc.cast(text, pa.float64()), pa.int32())
    return parsed, pc.and_(pc.is_valid(values), pc.invert(numeric))


def parse_integers(values: pa.Array) -> tuple[pa.Array, int, list[str]]:
    parsed, unparsed = _integer_values(values)
    examples = pc.unique(pc.filter(values, unparsed)).to_pylist()[:3]
    return parsed, _count(unparsed), examples


def examples_set_missing(text: pa.Array, parsed: pa.Array, limit: int = 3) -> list[str]:
    """A few distinct raw values that parsing turned into missing (not understood, or out of range)."""
    lost = pc.and_(pc.is_valid(text), pc.is_null(parsed))
    return [str(v)[:40] for v in pc.unique(pc.filter(text, lost)).to_pylist()[:limit]]


def clean_columns(raw: pa.Table, header: list[str]) -> tuple[dict[str, pa.DictionaryArray], dict[str, ColumnStats]]:
    """Canonical names and typed values for a sheet's columns; all-empty unnamed columns are dropped.
    The columns come back coded (`coded.py`): each rule runs once per distinct value, and every
    count is of rows."""
    names = canonical_columns(header)
    columns: dict[str, pa.DictionaryArray] = {}
    stats: dict[str, ColumnStats] = {}
    for position, name in enumerate(names):
        column = coded(raw.column(position))
        rows = RowCounts(column)
        text, redacted, na = _clean_text(column.dictionary)
        if name.startswith("unnamed_") and not rows.of(pc.is_valid(text)):
            continue
        errors = _excel_error_mask(text)
        column_stats = ColumnStats(source_names=[header[position]], redacted=rows.of(redacted),
                                   na_literal=rows.of(na), excel_errors=rows.of(errors))
        if column_stats.excel_errors:
            text = pc.if_else(errors, _NO_TEXT, text)
        cleaned = with_values(column, text)
        if is_date_column(name):
            dates, unparsed, out_of_range, two_digit = _date_values(text)
            column_stats.unparsed = rows.of(unparsed)
            column_stats.out_of_range = rows.of(out_of_range)
            column_stats.two_digit_years = rows.of(two_digit)
            lost = pc.and_(pc.is_valid(text), pc.is_null(dates))
            column_stats.unparsed_examples = [str(v)[:40] for v in first_seen(cleaned, lost, 3)]
            cleaned = with_values(column, dates)
        elif name in INTEGER_COLUMNS:
            integers, unparsed = _integer_values(text)
            column_stats.unparsed = rows.of(unparsed)
            column_stats.unparsed_examples = first_seen(cleaned, unparsed, 3)
            cleaned = with_values(column, integers)
        elif respelled := _respelled(name, cleaned, rows):
            cleaned, column_stats.respelled, column_stats.respelled_examples = respelled
        columns[name] = cleaned
        stats[name] = column_stats
    return columns, stats


_FEW_DATES = 1 << 16


def fiscal_years(dates: pa.Array | pa.ChunkedArray) -> pa.Array:
    """Federal fiscal year of each date: FY2023 = 2022-10-01 .. 2023-09-30 (of a coded column,
    worked out once per distinct date)."""
    if pa.types.is_dictionary(dates.type) or len(dates) > _FEW_DATES:  # a long column holds few distinct dates
        column = coded(dates)
        return decoded(with_values(column, fiscal_years(column.dictionary)))
    year = pc.year(dates)
    later = pc.cast(pc.greater_equal(pc.month(dates), _OCTOBER), pa.int64())
    return pc.cast(pc.add(year, later), pa.int16())


_NULL_HASH = np.uint64(0x9E3779B97F4A7C15)
_MIX = np.uint64(0x100000001B3)


def _value_hashes(values: pa.Array) -> np.ndarray:
    """One 64-bit hash per value (of its text: dates as YYYY-MM-DD, integers in digits), and
    _NULL_HASH for a missing value (`hashing.hash_strings`, keyed SipHash)."""
    if not pa.types.is_string(values.type) and not pa.types.is_large_string(values.type):
        values = pc.cast(values, pa.string())
    hashes = np.full(len(values), _NULL_HASH, dtype=np.uint64)
    if values.null_count:
        valid = pc.is_valid(values)
        hashes[flags(valid)] = hash_strings(values.filter(valid))
    else:
        hashes[:] = hash_strings(values)
    return hashes


def row_hashes(columns: dict[str, pa.Array]) -> pa.Array:
    """A stable 64-bit hash of each row's values (column order does not matter; nulls differ
    from every text). Equal rows hash equally in every run and on every machine; the hash
    identifies likely duplicates, not people. Each distinct value of a column is hashed once."""
    if not columns:
        return pa.nulls(0, pa.uint64())
    combined: np.ndarray | None = None
    with np.errstate(over="ignore"):
        for name in sorted(columns):
            column = coded(columns[name])
            name_hash = hash_strings(texts([name]))[0]
            by_value = np.append(_value_hashes(column.dictionary), _NULL_HASH) + name_hash
            hashes = by_value[codes(column, missing=len(column.dictionary))]
            if combined is None:
                combined = hashes  # 0 * _MIX ^ hashes
            else:
                combined *= _MIX
                combined ^= hashes
    assert combined is not None
    return numbers(combined, pa.uint64())
