"""Sheets that hold the very same records as another sheet are counted once.

A workbook saved twice under two names, a hidden sheet that repeats a visible one, or ICE's
August 2026 production, which carried identical FY2023 and FY2024 arrest files: each copy's
records are the same, so counting both would double them. A sheet's records are compared by
an order-free digest of their row hashes (`cleaning.row_hashes`, over the cleaned values of
every data column): equal digests mean the same multiset of records, whatever their order.

Which copy is counted: when both copies' titles name the same fiscal year (or none), the first
in file order, and the choice changes nothing but provenance. When they name different fiscal
years, the copy whose year agrees with its records' event dates (the larger share of records
dated inside it); a tie (no dates, or neither agrees) keeps the first, and the warning says the
year is in doubt. The copy not counted is listed in `skipped_sheets`, and a warning names both.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from analysis.reading.arrays import FALSE, literal, values_of
from analysis.reading.cleaning import fiscal_years
from analysis.reading.parts import TableParts
from analysis.vocab.kinds import KIND_BY_NAME

_MASK = np.uint64(0xFFFFFFFFFFFFFFFF)
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)


@dataclass
class SheetRecords:
    """What identifies one sheet's records, gathered batch by batch while it is read."""

    rows: int = 0
    sum_hashes: int = 0
    sum_mixed: int = 0
    dated: int = 0  # records with an event date
    dated_in_label: int = 0  # of those, dated inside the fiscal year the sheet's title names

    def add(self, table: pa.Table, kind_name: str | None, label: int | None) -> None:
        hashes = values_of(table.column("row_hash"))
        with np.errstate(over="ignore"):
            mixed = (hashes ^ (hashes >> np.uint64(31))) * _GOLDEN
            self.sum_hashes = (self.sum_hashes + int(hashes.sum(dtype=np.uint64))) & int(_MASK)
            self.sum_mixed = (self.sum_mixed + int(mixed.sum(dtype=np.uint64))) & int(_MASK)
        self.rows += table.num_rows
        kind = KIND_BY_NAME.get(kind_name or "")
        if label is not None and kind is not None and kind.date_column in table.column_names:
            years = fiscal_years(table.column(kind.date_column))
            self.dated += len(years) - years.null_count
            self.dated_in_label += int(pc.sum(pc.cast(pc.fill_null(pc.equal(years, literal(label, pa.int16())), FALSE), pa.int64())).as_py() or 0)

    def agreement(self) -> float:
        return self.dated_in_label / self.dated if self.dated else 0.0


@dataclass
class Duplicates:
    """The sheets read so far, by table and digest; `admit` each sheet as soon as it is read."""

    tables: dict[str, TableParts]
    sheets: list[dict]
    skipped: list[dict]
    warnings: list[str]
    kept: dict[tuple[str, int, int, int], tuple[dict, SheetRecords]] = field(default_factory=dict)

    def admit(self, info: dict) -> None:
        """Keep the sheet just read (`info`, last in `sheets`), or, when an earlier sheet holds the
        same records, count only one of the two."""
        records: SheetRecords = info.pop("_records")
        if info.get("hidden"):
            self.warnings.append(f"{_label(info)} is hidden in its workbook; its records are read like any sheet's")
        if records.rows == 0:
            return
        key = (info["table"], records.rows, records.sum_hashes, records.sum_mixed)
        if key not in self.kept:
            self.kept[key] = (info, records)
            return
        first, first_records = self.kept[key]
        later_wins = (first["fiscal_year"] != info["fiscal_year"]
                      and records.agreement() > first_records.agreement())
        counted, dropped = ((info, records), (first, first_records)) if later_wins else ((first, first_records),
                                                                                         (info, records))
        self.kept[key] = counted
        self._drop(dropped[0], counted[0])
        self.warnings.append(_message(counted, dropped))

    def _drop(self, info: dict, instead: dict) -> None:
        self.tables[info["table"]].remove_sheet((info["file"], info["sheet"]))
        self.sheets.remove(info)
        self.skipped.append({"file": info["file"], "sheet": info["sheet"],
                             "reason": f"the same {info['rows']:,} records as {_label(instead)}; counted once"})


def _label(info: dict) -> str:
    hidden = " (hidden)" if info.get("hidden") else ""
    return f"{info['file']} sheet {info['sheet']!r}{hidden}" if info["sheet"] else info["file"]


def _year(info: dict) -> str:
    return f"FY{info['fiscal_year']}" if info["fiscal_year"] is not None else "no fiscal year in its title"


def _message(counted: tuple[dict, SheetRecords], dropped: tuple[dict, SheetRecords]) -> str:
    (kept, kept_records), (other, other_records) = counted, dropped
    same = (f"{_label(other)} holds the same {kept['rows']:,} {kept['table']} records as {_label(kept)}; "
            f"counted once, from {_label(kept)}")
    if kept["fiscal_year"] == other["fiscal_year"]:
        return same
    years = f" ({_year(other)} against {_year(kept)})"
    if kept_records.agreement() > other_records.agreement():
        why = (f"whose {_year(kept)} agrees with the records' dates ({kept_records.dated_in_label:,} of "
               f"{kept_records.dated:,} dated in it)")
    else:
        why = ("the first in file order: neither fiscal year agrees better with the records' dates, so their year "
               "is in doubt")
    return f"{same}{years}, {why}"
