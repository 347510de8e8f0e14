"""Unit tests of the reading layer: column names, layout detection, table kinds, cleaning."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pytest

from analysis.errors import InputFileError
from analysis.reading.cleaning import (
    clean_strings,
    examples_set_missing,
    fiscal_years,
    parse_dates,
    parse_integers,
    row_hashes,
)
from analysis.reading.layout import find_layout
from analysis.vocab.columns import canonical_columns, canonical_name
from analysis.vocab.kinds import detect_kind, other_table_name, single_fiscal_year


@pytest.mark.parametrize(
    ("header", "canonical"),
    [
        ("Detainer Prepare Date", "detainer_prepare_date"),
        ("Detainer Prepared Date", "detainer_prepare_date"),
        ("Prepare Date", "detainer_prepare_date"),
        ("Area Of Responsibility", "aor"),
        ("Detainer AOR", "aor"),
        ("Facility AOR", "aor"),
        ("Event Area of Responsibility", "aor"),
        ("Facility State", "state"),
        ("Detention Facility Code", "facility_code"),
        ("Detainer Prepared Criminality", "criminality"),
        ("Anonymized Unique Identifier", "anonymized_identifier"),
        ("Order to Show Cause Served Yes No", "osc_served"),
        ("TOD Final Program", "current_program"),
        ("  Some New  Column (Yes/No) ", "some_new_column_yes_no"),
    ],
)
def test_alias_map_folds_known_renames(header: str, canonical: str) -> None:
    assert canonical_name(header) == canonical


def test_blank_and_repeated_headers_get_distinct_names() -> None:
    assert canonical_columns(["Gender", "", "Gender", "Sex"]) == ["gender", "unnamed_2", "gender_2", "gender_3"]


REAL_LIKE = [
    ["ERO-LESA Statistical Tracking Unit", None, None],
    ["For Official Use Only (FOUO)/Pre-decisional", None, None],
    ["2019-ICFO-53623", None, None],
    [None, None, None],
    ["ERO Administrative Arrests for FY2016 (as of 10/5/2018)", None, None],
    ["Area of Responsibility", "Apprehension Date", "Apprehension Method"],
    ["Chicago Area of Responsibility", "10/1/2015", "Located"],
]


def test_layout_finds_header_banners_foia_title_and_as_of() -> None:
    layout = find_layout(REAL_LIKE, file="x.csv")
    assert layout.header_row == 6
    assert layout.header == ["Area of Responsibility", "Apprehension Date", "Apprehension Method"]
    assert layout.foia_number == "2019-ICFO-53623"
    assert layout.title.startswith("ERO Administrative Arrests for FY2016")
    assert layout.as_of == "10/5/2018"
    assert not layout.is_synthetic


def test_layout_header_position_varies() -> None:
    rows = [["Office"], ["Caveat"], [None], ["FOIA 2022-ICFO-09023"], ["Note"], [None], ["Detainers FY2020"], *REAL_LIKE[5:]]
    assert find_layout(rows, file="x.csv").header_row == 8


def test_layout_of_unknown_columns_uses_shape() -> None:
    rows = [["Some banner", None, None], ["Alpha", "Beta", "Gamma"], ["1", "2", "3"], ["4", "5", "6"]]
    assert find_layout(rows, file="x.csv").header == ["Alpha", "Beta", "Gamma"]


def test_layout_without_header_is_an_error_naming_file_and_sheet() -> None:
    rows = [["just a note"], ["12", "13"], ["14", "15"]]
    with pytest.raises(InputFileError) as caught:
        find_layout(rows, file="book.xlsx", sheet="FY2020")
    assert "book.xlsx, sheet 'FY2020'" in str(caught.value)
    assert "no recognisable header row" in str(caught.value)


@pytest.mark.parametrize(
    ("title", "stem", "sheet", "columns", "kind"),
    [
        ("ERO Encounters for FY2016", "EROEncounters_FY2016", None, [], "encounters"),
        ("ICE Removals for FY2017", "x", None, [], "removals"),
        ("", "EROArrests_FY2017", None, [], "arrests"),
        ("", "export", "Detainers FY2021", [], "detainers"),
        ("", "export", "Sheet1", ["detainer_prepare_date", "state"], "detainers"),
        ("Initial Book-Ins FY2020", "x", None, [], "book_ins"),
        ("", "mystery", None, ["a", "b"], None),
    ],
)
def test_table_kind_detection(title, stem, sheet, columns, kind) -> None:
    assert detect_kind(title, stem, sheet, columns) == kind


def test_other_tables_are_named_after_their_file() -> None:
    assert other_table_name("Detention_Stays_FY2019", None) == "detention_stays"


@pytest.mark.parametrize(
    ("texts", "year"),
    [
        (("ERO Administrative Arrests for FY2016",), 2016),
        (("Detainers FY12-FY19",), None),
        (("Detainers FY2012 through FY2019",), None),
        (("no year here", "FY21"), 2021),
        (("",), None),
    ],
)
def test_single_fiscal_year_from_titles(texts, year) -> None:
    assert single_fiscal_year(*texts) == year


REDACTIONS = ["(B)(6);(B)(7)(C) ", "(b)(6),(b)(7)(c )", "(b)(7)(E )", "b(6), b(7)c", "b(6), b(7)C", "(B)(7)(E) ", "[REDACTED]"]


def test_every_redaction_spelling_becomes_missing_and_is_counted() -> None:
    values = pa.array([*REDACTIONS, " MEXICO ", "NA", "", "212a9Aii", "B6 Street", None])
    cleaned, redacted, na = clean_strings(values)
    assert redacted == len(REDACTIONS)
    assert na == 1
    assert cleaned.to_pylist() == [None] * len(REDACTIONS) + ["MEXICO", None, None, "212a9Aii", "B6 Street", None]


def test_dates_from_text_iso_and_excel_serials() -> None:
    values = pa.array(["10/1/2015", "2016-03-04", "42005", "9/30/2017 0:00", "2021-01-01T10:00:00", "13/45/2020", "1/2/1850", None])
    parsed, unparsed, out_of_range = parse_dates(values)
    assert parsed.to_pylist() == [
        dt.date(2015, 10, 1), dt.date(2016, 3, 4), dt.date(2015, 1, 1), dt.date(2017, 9, 30), dt.date(2021, 1, 1),
        None, None, None,
    ]
    assert (unparsed, out_of_range) == (1, 1)
    assert examples_set_missing(values, parsed) == ["13/45/2020", "1/2/1850"]  # not understood, and out of range


def test_integers_parse_and_count_failures() -> None:
    parsed, unparsed, examples = parse_integers(pa.array(["1980", "1975.0", "abc", None]))
    assert parsed.to_pylist() == [1980, 1975, None, None]
    assert (unparsed, examples) == (1, ["abc"])


def test_fiscal_year_starts_in_october() -> None:
    dates = pa.array([dt.date(2022, 9, 30), dt.date(2022, 10, 1), None], pa.date32())
    assert fiscal_years(dates).to_pylist() == [2022, 2023, None]


GOLDEN_HASH = 13114524555593890996


def test_row_hash_is_stable_and_ignores_column_order() -> None:
    a = {"x": pa.array(["1", "2"]), "y": pa.array([None, "b"])}
    b = {"y": pa.array([None, "b"]), "x": pa.array(["1", "2"])}
    assert row_hashes(a).to_pylist() == row_hashes(b).to_pylist()
    # a fixed value: the hash must not change between runs, machines or versions of this package
    golden = {"state": pa.array(["CA"]), "detainer_prepare_date": pa.array(["2021-01-01"])}
    assert row_hashes(golden).to_pylist() == [GOLDEN_HASH]
    assert row_hashes(a).to_pylist()[0] != row_hashes(a).to_pylist()[1]
    # a null and the text "None" are different values
    assert row_hashes({"x": pa.array([None])}) != row_hashes({"x": pa.array(["None"])})
