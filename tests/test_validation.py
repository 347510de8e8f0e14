"""The declared schema of processed tables: hard failures name table, column and example
values; unknown categories and implausible dates are reported, never dropped."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from analysis.reading import validation
from analysis.reading.validation import ValidationError, validate

D = dt.date


def processed(columns: dict[str, pa.Array], *, fiscal_year: list[int | None] | None = None) -> pa.Table:
    """A table as ingest writes it: the given data columns, then provenance."""
    rows = len(next(iter(columns.values())))
    provenance = {
        "fiscal_year": pa.array(fiscal_year or [2021] * rows, pa.int16()),
        "source_file": pa.array(["a.xlsx"] * rows).dictionary_encode(),
        "source_sheet": pa.array(["FY2021"] * rows).dictionary_encode(),
        "source_row": pa.array(range(7, 7 + rows), pa.int32()),
        "row_hash": pa.array(range(rows), pa.uint64()),
    }
    return pa.table({**columns, **provenance})


def detainers(**overrides: pa.Array) -> pa.Table:
    columns = {
        "detainer_prepare_date": pa.array([D(2020, 10, 1), D(2021, 9, 30), D(2021, 1, 5)], pa.date32()),
        "state": pa.array(["WA", "CA", "PR"]),
        "aor": pa.array(["Seattle Area of Responsibility", "San Francisco Area of Responsibility", "HQ Area of Responsibility"]),
        "gender": pa.array(["Male", "female", None]),
        "criminality": pa.array(["1 Convicted Criminal", "3 Other Immigration Violator", None]),
        "detainer_lift_reason": pa.array(["Detainer Declined by LEA", None, "booked into detention"]),
        "birth_year": pa.array([1980, None, 1999], pa.int32()),
        "anonymized_identifier": pa.array(["SYN-1", "SYN-2", "SYN-1"]),
        "some_new_flag": pa.array(["Y", "N", None]),
    }
    columns.update(overrides)
    return processed(columns)


@pytest.fixture(autouse=True)
def fixed_today(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(validation, "today", lambda: D(2025, 6, 30))


def test_a_table_that_matches_its_schema_gives_no_warnings() -> None:
    assert validate("detainers", detainers(), 3) == []


def test_row_count_must_equal_the_records_of_its_sheets() -> None:
    with pytest.raises(ValidationError) as failed:
        validate("detainers", detainers(), 4)
    assert str(failed.value) == (
        "table 'detainers': 3 rows, but its sheets held 4 records (manifest sheets[].rows); records were lost or "
        "duplicated on the way"
    )


def test_wrong_type_names_table_column_and_examples() -> None:
    table = detainers(detainer_prepare_date=pa.array(["10/1/2020", "soon", None]))
    with pytest.raises(ValidationError, match=r"^table 'detainers' column 'detainer_prepare_date': is string, the "
                       r"schema declares date32\[day\] \(e.g. \['10/1/2020', 'soon'\]\)$"):
        validate("detainers", table, 3)


def test_new_columns_are_allowed_but_typed_by_their_name() -> None:
    assert validate("detainers", detainers(extra_count=pa.array(["1", "2", "3"])), 3) == []
    with pytest.raises(ValidationError, match="column 'hearing_date': is string"):
        validate("detainers", detainers(hearing_date=pa.array(["x", "y", "z"])), 3)
    with pytest.raises(ValidationError, match="column 'birth_year': is string, the schema declares int32"):
        validate("detainers", detainers(birth_year=pa.array(["1980", None, "1999"])), 3)


def test_required_column_of_a_known_kind() -> None:
    table = detainers().drop_columns(["detainer_prepare_date"])
    with pytest.raises(ValidationError, match="^table 'detainers' column 'detainer_prepare_date': missing: a detainers"):
        validate("detainers", table, 3)
    assert validate("mystery_table", table, 3) == []  # unknown kinds have no required columns


@pytest.mark.parametrize("column", ["fiscal_year", "source_file", "source_sheet", "source_row", "row_hash"])
def test_every_provenance_column_is_required(column: str) -> None:
    with pytest.raises(ValidationError, match=f"column '{column}': missing: every processed table"):
        validate("detainers", detainers().drop_columns([column]), 3)


def test_provenance_types_and_missing_values() -> None:
    table = detainers()
    wrong_type = table.set_column(table.schema.get_field_index("source_row"), "source_row", pa.array(["7", "8", "9"]))
    with pytest.raises(ValidationError, match="column 'source_row': is string, the schema declares int32"):
        validate("detainers", wrong_type, 3)
    hashes = table.schema.get_field_index("row_hash")
    missing = table.set_column(hashes, "row_hash", pa.array([1, None, None], pa.uint64()))
    with pytest.raises(ValidationError, match=r"column 'row_hash': 2 missing value\(s\), the first in record 2"):
        validate("detainers", missing, 3)
    rows = table.schema.get_field_index("source_row")
    zero = table.set_column(rows, "source_row", pa.array([0, 1, 2], pa.int32()))
    with pytest.raises(ValidationError, match="holds row number 0; rows are numbered from 1"):
        validate("detainers", zero, 3)


def test_repeated_column_names_fail() -> None:
    table = detainers()
    doubled = pa.Table.from_arrays([*table.columns, table.column("gender")], names=[*table.column_names, "gender"])
    with pytest.raises(ValidationError, match="column 'gender': appears 2 times"):
        validate("detainers", doubled, 3)


def test_unknown_categories_are_reported_with_counts_and_kept() -> None:
    table = detainers(gender=pa.array(["M", "M", "Female"]), state=pa.array(["WA", "XX", "Calif."]))
    warnings = validate("detainers", table, 3)
    assert warnings == [
        "table 'detainers' column 'state': 2 value(s) outside the known categories, kept as they are: "
        "'Calif.' (1), 'XX' (1)",
        "table 'detainers' column 'gender': 2 value(s) outside the known categories, kept as they are: 'M' (2)",
    ]
    assert table.column("gender").to_pylist() == ["M", "M", "Female"]


def test_many_unknown_categories_are_summarised() -> None:
    reasons = pa.array(["Moved", "Moved", "Lost", "Gone", "Away", "Detainer Declined by LEA"])
    table = processed({"detainer_prepare_date": pa.array([D(2021, 1, 1)] * 6, pa.date32()), "detainer_lift_reason": reasons})
    assert validate("detainers", table, 6) == [
        "table 'detainers' column 'detainer_lift_reason': 5 value(s) outside the known categories, kept as they are: "
        "'Moved' (2), 'Away' (1), 'Gone' (1) and 1 more"
    ]


def test_implausible_dates_are_reported_with_examples() -> None:
    table = processed({
        "apprehension_date": pa.array([D(1940, 5, 1), D(2030, 1, 1), D(2021, 3, 1)], pa.date32()),
        "birth_date": pa.array([D(1899, 1, 1), D(1970, 1, 1), D(2026, 1, 1)], pa.date32()),
    }, fiscal_year=[1940, 2030, 2021])
    assert validate("arrests", table, 3) == [
        "table 'arrests' column 'apprehension_date': 2 date(s) before 1950-01-01 or after 2025-06-30 "
        "(e.g. ['1940-05-01', '2030-01-01']); kept, check them",
        "table 'arrests' column 'birth_date': 2 date(s) before 1900-01-01 or after 2025-06-30 "
        "(e.g. ['1899-01-01', '2026-01-01']); kept, check them",
    ]


def test_implausible_birth_years() -> None:
    warnings = validate("detainers", detainers(birth_year=pa.array([1850, 2030, 1990], pa.int32())), 3)
    assert warnings == ["table 'detainers' column 'birth_year': 2 year(s) before 1900 or after 2025 "
                        "(e.g. [1850, 2030]); kept, check them"]


def test_records_dated_outside_their_sheets_fiscal_year() -> None:
    dates = pa.array([D(2020, 9, 30), D(2020, 10, 1), D(2021, 10, 1)], pa.date32())
    table = processed({"apprehension_date": dates}, fiscal_year=[2021, 2021, 2021])
    assert validate("arrests", table, 3) == [
        "table 'arrests' column 'apprehension_date': 2 record(s) dated outside the fiscal year their sheet names "
        "(e.g. ['2020-09-30', '2021-10-01']); their fiscal year is the sheet's"
    ]


def test_validation_does_not_change_the_table() -> None:
    table = detainers(gender=pa.array(["M", "x", None]))
    before = table.to_pydict()
    validate("detainers", table, 3)
    assert table.to_pydict() == before


def _check_release(root: Path, release: str) -> dict[str, list[str]]:
    folder = root / "data" / "processed" / release
    manifest = json.loads((folder / "manifest.json").read_text())
    found = {}
    for name in manifest["tables"]:
        rows = sum(s["rows"] for s in manifest["sheets"] if s["table"] == name)
        found[name] = validate(name, pq.read_table(folder / f"{name}.parquet"), rows)
    return found


def test_the_sample_passes_without_warnings(sample_project: Path) -> None:
    assert _check_release(sample_project, "sample") == {"arrests": [], "detainers": []}


@pytest.mark.real
def test_the_real_release_passes_without_warnings(real_project: Path) -> None:
    from tests.conftest import REAL_RELEASE_ID

    assert _check_release(real_project, REAL_RELEASE_ID) == {"arrests": [], "encounters": [], "removals": []}
