"""Workbooks as ICE sends them (issue 11): every workbook here is built by the test.

1. a sheet calamine cannot read is read by openpyxl (read-only, defusedxml), and the manifest
   says which reader read each sheet; only a sheet neither can read is an error;
2. kinds need only their event date, under ICE's names for it (removals by `Departed Date`,
   book-ins by `Book In Date`, arrests by `Arrest Date`); a sheet of no kind is its own table;
3. ICE's Summary sheets: every block kept, and compared with the records by fiscal year;
4. ICE's Footnotes: kept word for word and quoted, as data, in the report;
5. the notebooks of a removals-only release run.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import zipfile
from collections.abc import Callable
from pathlib import Path

import pyarrow.parquet as pq
import pytest
import xlsxwriter

from analysis.cli import main
from analysis.paths import locate_release
from analysis.reading.ingest import ingest

OFFICE = "ERO-LESA Statistical Tracking Unit"
CAVEAT = "For Official Use Only (FOUO)/Pre-decisional"
PRODUCTION = "UW v. DHS - ICE Productions"
BANNERS = [OFFICE, CAVEAT, PRODUCTION, "Please review the last tab for footnotes.", None]
PERIOD = "FY2018 - FY2019 YTD (10/01/2017 - 07/06/2019)"
EXPEDITED_TITLE = f"{PERIOD} ICE Expedited Removals for the Seattle Area of Responsibility"
OTHER_TITLE = f"{PERIOD} Other ICE Removals for the Seattle Area of Responsibility"
REMOVAL_HEADER = ["Departed Date", "Date of Birth", "Gender", "Country of Citizenship", "Event Number",
                  "Most Serious Conviction", "Case Category"]
ARREST_HEADER = ["Area of Responsibility", "Apprehension Date", "Apprehension Method", "Citizenship"]
ARREST_ROW = ["Seattle Area of Responsibility", "10/1/2020", "Located", "MEXICO"]
LAG_NOTE = ("FY Data Lag/Case Closure Lag is defined as the physical removal of an alien occurring in a given "
            "month; however, the case is not closed in EARM until a subsequent FY after the data is locked.")

Rows = list[list[object]]


# ---------------------------------------------------------------- building workbooks


def write_book(path: Path, sheets: dict[str, Rows]) -> Path:
    """A workbook as ICE writes one: strings, numbers and date cells; None leaves a cell blank."""
    path.parent.mkdir(parents=True, exist_ok=True)
    book = xlsxwriter.Workbook(str(path), {"strings_to_numbers": False})
    date_format = book.add_format({"num_format": "m/d/yyyy"})
    for name, rows in sheets.items():
        sheet = book.add_worksheet(name)
        for r, row in enumerate(rows):
            for c, value in enumerate(row):
                if isinstance(value, dt.date):
                    sheet.write_datetime(r, c, dt.datetime.combine(value, dt.time()), date_format)
                elif isinstance(value, int | float):
                    sheet.write_number(r, c, value)
                elif value is not None:
                    sheet.write_string(r, c, str(value))
    book.close()
    return path


def rewrite_sheet_xml(path: Path, member: str, change: Callable[[str], str]) -> None:
    """The same workbook with one sheet's XML changed (the damage some exports carry)."""
    with zipfile.ZipFile(path) as source:
        items = [(info, source.read(info)) for info in source.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target:
        for info, data in items:
            target.writestr(info, change(data.decode("utf-8")).encode("utf-8") if info.filename == member else data)


def with_dimension(ref: str) -> Callable[[str], str]:
    return lambda xml: re.sub(r'<dimension ref="[^"]*"', f'<dimension ref="{ref}"', xml, count=1)


def removal(day: dt.date, category: str = "[8F] Expedited Removal", conviction: str | None = None) -> list[object]:
    return [day, "(b)(6),(b)(7)(c )", "Male", "MEXICO", "(b)(7)(E )", conviction, category]


def record_sheet(title: str, header: list[str], rows: Rows) -> Rows:
    """Six banner rows (the last the title), the header at row 7, then the records."""
    return [[b] for b in BANNERS] + [[title], header, *rows]


EXPEDITED = [removal(dt.date(2018, 9, 30)), removal(dt.date(2018, 10, 1)), removal(dt.date(2019, 7, 1))]
OTHER = [removal(dt.date(2017, 10, 2), "[3] Deportable", "Assault"), removal(dt.date(2019, 1, 5), "[16] Reinstated")]
FOOTNOTE_ROWS: Rows = [[OFFICE], [CAVEAT], [PRODUCTION],
                       ["FY2019 YTD ICE Removals data are updated through 07/06/2019."],
                       [LAG_NOTE + "\n"],
                       ["Expedited Removals are defined as having a Case Category of 8F, 8G, 8H or 8I."]]


def summary_sheet(expedited: dict[str, int], other: dict[str, int]) -> Rows:
    """ICE's Summary: banners, then one block per removal kind (title, `Fiscal Year | Total`, years)."""
    rows: Rows = [[OFFICE], [CAVEAT], [PRODUCTION], ["Please review the last tab for footnotes."], []]
    for title, totals in ((EXPEDITED_TITLE, expedited), (OTHER_TITLE, other)):
        rows += [[title], ["Fiscal Year", "Total"], *([label, n] for label, n in totals.items()), []]
    return rows


def seattle_like(folder: Path, *, expedited: dict[str, int] | None = None, other: dict[str, int] | None = None) -> Path:
    """A removals-only workbook in the layout of ICE's Seattle production (see ../shared)."""
    expedited = expedited or {"FY2018": 1, "FY2019 YTD": 3}  # the records: 1 and 2
    other = other or {"FY2018": 1, "FY2019 YTD": 1}  # the records: 1 and 1
    return write_book(folder / "SeattleAORRemovals.xlsx", {
        "Summary": summary_sheet(expedited, other),
        "Expedited Removals": record_sheet(EXPEDITED_TITLE, REMOVAL_HEADER, EXPEDITED),
        "Other Removals": record_sheet(OTHER_TITLE, REMOVAL_HEADER, OTHER),
        "Footnotes": FOOTNOTE_ROWS,
    })


def release(project: Path, name: str = "wb") -> Path:
    folder = project / "data" / "raw" / name
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def ingested(folder: Path) -> dict:
    return ingest(locate_release(str(folder)))


def table(project: Path, manifest: dict, name: str) -> dict[str, list]:
    return pq.read_table(project / "data" / "processed" / manifest["release"] / f"{name}.parquet").to_pydict()


def cli(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(["-q", *argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def sheet_entry(manifest: dict, sheet: str) -> dict:
    return next(s for s in manifest["sheets"] if s["sheet"] == sheet)


# ---------------------------------------------------------------- 1. a sheet calamine cannot read


def arrests_book(path: Path) -> Path:
    return write_book(path, {
        "Arrests FY2021": [[OFFICE], ["ERO Administrative Arrests FY2021"], ARREST_HEADER, ARREST_ROW,
                           ["Seattle Area of Responsibility", "10/2/2020", "CAP Local Incarceration", "INDIA"]],
        "Removals FY2021": [["ICE Removals FY2021"], ["Area of Responsibility", "Removal Date"],
                            ["Seattle Area of Responsibility", "10/5/2020"]],
    })


@pytest.mark.parametrize(("ref", "calamine_says"), [
    ("1:5", "Range is missing the expected column component"),  # the error of the issue's workbook 1
    ("A", "Range is missing the expected row component"),  # openpyxl would cut every row to column A
])
def test_a_sheet_calamine_cannot_read_is_read_by_openpyxl(project: Path, ref: str, calamine_says: str) -> None:
    from python_calamine import CalamineWorkbook

    folder = release(project)
    book = arrests_book(folder / "arrests.xlsx")
    rewrite_sheet_xml(book, "xl/worksheets/sheet1.xml", with_dimension(ref))
    with pytest.raises(Exception, match=calamine_says):  # the damage is real: calamine fails on this sheet
        CalamineWorkbook.from_path(str(book)).get_sheet_by_name("Arrests FY2021").to_python(skip_empty_area=False)
    manifest = ingested(folder)
    assert {s["sheet"]: s["reader"] for s in manifest["sheets"]} == {"Arrests FY2021": "openpyxl",
                                                                     "Removals FY2021": "calamine"}
    arrests = table(project, manifest, "arrests")
    assert arrests["citizenship"] == ["MEXICO", "INDIA"]  # every column, not only the declared dimension's
    assert arrests["apprehension_method"] == ["Located", "CAP Local Incarceration"]
    assert arrests["source_row"] == [4, 5]
    assert manifest["tables"]["removals"]["rows"] == 1


def test_a_calamine_panic_on_one_sheet_falls_back_to_openpyxl(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A panic inside calamine (Rust) reaches Python as pyo3's PanicException, a BaseException:
    it is this sheet's fault, and openpyxl reads the sheet instead."""
    import python_calamine

    class PanicException(BaseException):  # what pyo3 raises for a Rust panic
        pass

    real = python_calamine.CalamineWorkbook

    class PanickingOnArrests:
        def __init__(self, book: object) -> None:
            self.book, self.sheet_names = book, book.sheet_names  # type: ignore[attr-defined]

        @classmethod
        def from_path(cls, path: str) -> PanickingOnArrests:
            return cls(real.from_path(path))

        def get_sheet_by_name(self, name: str) -> object:
            if name.startswith("Arrests"):
                raise PanicException("index out of bounds: the len is 0 but the index is 1")
            return self.book.get_sheet_by_name(name)  # type: ignore[attr-defined]

    folder = release(project)
    arrests_book(folder / "arrests.xlsx")
    monkeypatch.setattr(python_calamine, "CalamineWorkbook", PanickingOnArrests)
    manifest = ingested(folder)
    assert sheet_entry(manifest, "Arrests FY2021")["reader"] == "openpyxl"
    assert sheet_entry(manifest, "Removals FY2021")["reader"] == "calamine"
    assert table(project, manifest, "arrests")["citizenship"] == ["MEXICO", "INDIA"]


def test_a_sheet_neither_reader_can_read_is_one_error_naming_file_and_sheet(project: Path, capsys) -> None:
    folder = release(project)
    book = arrests_book(folder / "arrests.xlsx")
    rewrite_sheet_xml(book, "xl/worksheets/sheet1.xml", with_dimension("A1:B"))  # openpyxl refuses it too
    code, _, err = cli(["ingest", str(folder)], capsys)
    assert code == 2 and len(err.splitlines()) == 1, err
    assert err.startswith("analysis: error: arrests.xlsx, sheet 'Arrests FY2021': cannot read sheet (calamine: "
                          "Range is missing the expected row component.; openpyxl: "), err
    assert not [p for p in (project / "data" / "processed").iterdir() if p.name != ".locks"]


def test_the_sheet_fallback_needs_defusedxml(project: Path, capsys, monkeypatch: pytest.MonkeyPatch) -> None:
    import openpyxl

    folder = release(project)
    book = arrests_book(folder / "arrests.xlsx")
    rewrite_sheet_xml(book, "xl/worksheets/sheet1.xml", with_dimension("1:5"))
    monkeypatch.setattr(openpyxl, "DEFUSEDXML", False)
    code, _, err = cli(["ingest", str(folder)], capsys)
    assert code == 2
    assert err.strip() == ("analysis: error: arrests.xlsx, sheet 'Arrests FY2021': cannot read sheet (Range is "
                           "missing the expected column component.); the fallback reader is disabled because the "
                           "defusedxml package is not installed")


def test_a_sheet_whose_first_column_is_empty_keeps_its_columns_in_place(project: Path) -> None:
    """calamine's row iterator starts at the first column holding a value, its full read at A:
    the header and the records must come from the same read."""
    folder = release(project)
    write_book(folder / "arrests.xlsx", {"Arrests FY2021": [[None, *ARREST_HEADER], [None, *ARREST_ROW]]})
    manifest = ingested(folder)
    assert table(project, manifest, "arrests")["citizenship"] == ["MEXICO"]
    assert manifest["sheets"][0]["reader"] == "calamine"


# ---------------------------------------------------------------- 2. kinds need only what they must


def issue_workbook_2(folder: Path) -> Path:
    """The issue's workbook 2: Summary, Arrests, Book Ins, Expedited Removals, Other Removals, Footnotes."""
    arrests = [["Seattle Area of Responsibility", dt.date(2018, 9, 30), "Located", "MEXICO"],
               ["Seattle Area of Responsibility", dt.date(2018, 10, 1), "CAP Local Incarceration", "INDIA"]]
    book_ins = [[dt.date(2019, 2, 1), "NORTHWEST ICE PROCESSING CENTER", "MEXICO", "Male"]]
    return write_book(folder / "SeattleAOR.xlsx", {
        "Summary": summary_sheet({"FY2018": 1, "FY2019 YTD": 2}, {"FY2018": 1, "FY2019 YTD": 1}),
        "Arrests": record_sheet(f"{PERIOD} ICE Arrests for the Seattle Area of Responsibility",
                                ["Area of Responsibility", "Arrest Date", "Apprehension Method", "Citizenship"], arrests),
        "Book Ins": record_sheet(f"{PERIOD} ICE Initial Book-Ins for the Seattle Area of Responsibility",
                                 ["Book In Date", "Detention Facility", "Country of Citizenship", "Gender"], book_ins),
        "Expedited Removals": record_sheet(EXPEDITED_TITLE, REMOVAL_HEADER, EXPEDITED),
        "Other Removals": record_sheet(OTHER_TITLE, REMOVAL_HEADER, OTHER),
        "Footnotes": FOOTNOTE_ROWS,
    })


def test_issue_workbook_2_reads_every_table_by_ices_own_dates(project: Path) -> None:
    folder = release(project)
    issue_workbook_2(folder)
    manifest = ingested(folder)
    tables = manifest["tables"]
    assert {name: info["rows"] for name, info in tables.items()} == {"arrests": 2, "book_ins": 1, "removals": 5}
    assert {name: info["dated_by"] for name, info in tables.items()} == {
        "arrests": "apprehension_date", "book_ins": "book_in_date", "removals": "departed_date"}
    assert {s["sheet"]: (s["dated_by"], s["dated_by_header"], s["rows"]) for s in manifest["sheets"]} == {
        "Arrests": ("apprehension_date", "Arrest Date", 2),
        "Book Ins": ("book_in_date", "Book In Date", 1),
        "Expedited Removals": ("departed_date", "Departed Date", 3),
        "Other Removals": ("departed_date", "Departed Date", 2),
    }
    # the fiscal year comes from the column that dated each sheet, and is counted per sheet
    assert sheet_entry(manifest, "Expedited Removals")["rows_by_fiscal_year"] == {"2018": 1, "2019": 2}
    assert sheet_entry(manifest, "Other Removals")["rows_by_fiscal_year"] == {"2018": 1, "2019": 1}
    assert tables["removals"]["rows_by_fiscal_year"] == {"2018": 2, "2019": 3}
    assert tables["arrests"]["rows_by_fiscal_year"] == {"2018": 1, "2019": 1}
    assert tables["removals"]["period"] == {"column": "departed_date", "first": "2017-10-02", "last": "2019-07-01"}
    assert tables["book_ins"]["columns"]["facility"]["source_names"] == ["Detention Facility"]
    removals = table(project, manifest, "removals")
    assert removals["source_sheet"] == ["Expedited Removals"] * 3 + ["Other Removals"] * 2  # which sheet, per record
    assert removals["case_category"][3] == "[3] Deportable" and removals["msc_charge"][3] == "Assault"
    assert [s["sheet"] for s in manifest["skipped_sheets"]] == ["Summary", "Footnotes"]


def test_arrests_dated_by_apprehension_date_and_removals_by_removal_date_first(project: Path) -> None:
    folder = release(project)
    write_book(folder / "enforcement.xlsx", {
        "Arrests": [["ICE Arrests FY2019 - FY2020"], ARREST_HEADER, ARREST_ROW],
        "Removals": [["ICE Removals FY2019 - FY2020"], ["Area of Responsibility", "Departed Date", "Removal Date"],
                     ["Seattle Area of Responsibility", "9/29/2019", "10/2/2019"]],
    })
    manifest = ingested(folder)
    assert sheet_entry(manifest, "Arrests")["dated_by_header"] == "Apprehension Date"
    assert manifest["tables"]["removals"]["dated_by"] == "removal_date"
    assert manifest["tables"]["removals"]["rows_by_fiscal_year"] == {"2020": 1}  # removal date, not departure


def test_a_sheet_of_no_kind_is_its_own_table_and_never_aborts_the_release(project: Path, capsys) -> None:
    folder = release(project)
    write_book(folder / "SeattleAOR.xlsx", {
        "Arrests": [["ICE Arrests FY2021"], ARREST_HEADER, ARREST_ROW],
        "Case Events": [["Event Code", "Event Status"], ["E1", "Open"], ["E2", "Closed"]],
        "Removals": [["ICE Removals FY2021"], ["Area of Responsibility", "Citizenship"],
                     ["Seattle Area of Responsibility", "MEXICO"]],
    })
    code, out, err = cli(["ingest", str(folder)], capsys)
    assert code == 0, err
    assert "arrests 1, case_events 2, removals_unmatched 1" in out
    assert "warning: table 'case_events': not a known table kind; kept as its own table" in err
    assert ("warning: SeattleAOR.xlsx sheet 'Removals': reads as removals but has no column 'removal_date' or "
            "'departed_date' to date its records") in err
    manifest = json.loads((project / "data/processed/wb/manifest.json").read_text())
    assert manifest["tables"]["case_events"]["known_kind"] is False
    assert sheet_entry(manifest, "Case Events")["table"] == "case_events"


# ---------------------------------------------------------------- 3. ICE's Summary sheets


def test_summary_blocks_are_parsed_with_titles_periods_and_every_count_column() -> None:
    from analysis.reading.summary import summary_blocks

    rows: list[list[str | None]] = [
        [OFFICE], [CAVEAT], [None],
        [EXPEDITED_TITLE, None], ["Fiscal Year", "Total"], ["FY2018", "801"], ["FY2019 YTD", "1,051"], [None, None],
        ["FY2019 ICE Arrests and Book-Ins", None, None], ["Fiscal Year", "Arrests", "Book Ins"],
        ["FY2019", "12", "n/a"], ["Total", "12", "7"],
    ]
    blocks, warnings = summary_blocks(rows, file="x.xlsx", sheet="Summary")
    assert [(b["title"], b["period"], b["kind"], b["header_row"], b["columns"]) for b in blocks] == [
        (EXPEDITED_TITLE, PERIOD, "removals", 5, ["Total"]),
        ("FY2019 ICE Arrests and Book-Ins", "FY2019", None, 10, ["Arrests", "Book Ins"]),
    ]
    assert blocks[0]["years"] == [
        {"label": "FY2018", "fiscal_year": 2018, "row": 6, "values": {"Total": 801}},
        {"label": "FY2019 YTD", "fiscal_year": 2019, "row": 7, "values": {"Total": 1051}},
    ]
    assert blocks[1]["years"][0]["values"] == {"Arrests": 12, "Book Ins": None}
    assert blocks[1]["totals"] == {"Arrests": 12, "Book Ins": 7}
    assert warnings == ["x.xlsx sheet 'Summary' row 11 column 'Book Ins': 'n/a' is not a count; left out of ICE's totals"]
    assert summary_blocks([["Totals by year"], ["Year", "Count"]], file="x.xlsx", sheet="Summary")[1] == [
        "x.xlsx sheet 'Summary': a Summary sheet without a block of totals by fiscal year (a 'Fiscal Year' header "
        "row followed by rows such as 'FY2019'); its totals are not read"]


def test_summary_blocks_are_matched_to_sheets_by_title_and_to_sheets_or_tables_by_column() -> None:
    from analysis.reading.summary import reconcile, summary_blocks

    sheets = [
        {"file": "x.xlsx", "sheet": "Expedited Removals", "table": "removals", "title": EXPEDITED_TITLE, "rows": 3,
         "rows_by_fiscal_year": {"2018": 1, "2019": 2}},
        {"file": "x.xlsx", "sheet": "Arrests", "table": "arrests", "title": "Arrests", "rows": 4,
         "rows_by_fiscal_year": {"2018": 1, "2019": 3}},
    ]
    tables = {"removals": {"rows": 5, "rows_by_fiscal_year": {"2018": 2, "2019": 3}},
              "arrests": {"rows": 4, "rows_by_fiscal_year": {"2018": 1, "2019": 3}}}
    rows: list[list[str | None]] = [
        [EXPEDITED_TITLE], ["Fiscal Year", "Total"], ["FY2018", "1"], ["FY2019 YTD", "3"], [],
        ["ICE Removals FY2019"], ["Fiscal Year", "Total"], ["FY2019", "3"], [],
        ["ICE enforcement"], ["Fiscal Year", "Arrests", "Removals", "Detainers"], ["FY2019", "3", "3", "9"],
    ]
    blocks, _ = summary_blocks(rows, file="x.xlsx", sheet="Summary")
    found = reconcile(blocks, sheets, tables)
    assert [(c["column"], c["compared_with"]) for c in found] == [
        ("Total", {"table": "removals", "file": "x.xlsx", "sheet": "Expedited Removals"}),  # by its title
        ("Total", {"table": "removals", "file": None, "sheet": None}),  # the kind its title names
        ("Arrests", {"table": "arrests", "file": "x.xlsx", "sheet": "Arrests"}),  # a sheet's name
        ("Removals", {"table": "removals", "file": None, "sheet": None}),  # a kind's name
        ("Detainers", None),  # nothing of the release: kept, not compared
    ]
    assert [(y["label"], y["ice"], y["records"], y["difference"]) for y in found[0]["years"]] == [
        ("FY2018", 1, 1, 0), ("FY2019 YTD", 3, 2, -1)]
    assert found[0]["all_years"] == {"label": "all years", "fiscal_year": None, "ice": 4, "records": 3, "difference": -1}
    assert [(y["label"], y["ice"], y["records"], y["difference"]) for y in found[1]["years"]] == [
        ("FY2019", 3, 3, 0), ("FY2018", None, 2, None)]  # records in a year ICE's block does not list
    assert found[4]["years"] == [{"label": "FY2019", "fiscal_year": 2019, "ice": 9, "records": None, "difference": None}]


def test_a_block_with_a_missing_count_has_no_total_over_all_years() -> None:
    from analysis.reading.summary import comparison_warning, reconcile, summary_blocks
    from analysis.sections import overview as release_notes

    sheets = [{"file": "x.xlsx", "sheet": "Removals", "table": "removals", "title": "ICE Removals", "rows": 3,
               "rows_by_fiscal_year": {"2018": 1, "2019": 2}, "fiscal_year_source": "departed_date"}]
    tables = {"removals": {"rows": 3, "rows_by_fiscal_year": {"2018": 1, "2019": 2}}}
    blocks, _ = summary_blocks([["ICE Removals"], ["Fiscal Year", "Total"], ["FY2018", "1"], ["FY2019", None]],
                               file="x.xlsx", sheet="Summary")
    entry = reconcile(blocks, sheets, tables)[0]
    assert entry["all_years"] == {"label": "all years", "fiscal_year": None, "ice": None, "records": 3, "difference": None}
    assert comparison_warning(entry) == (
        "x.xlsx sheet 'Summary', block 'ICE Removals', column 'Total': ICE's totals differ from the records of sheet "
        "'Removals' in 0 of 1 fiscal years (records minus ICE's total: FY2019 2 records, no total from ICE); all "
        "years: 3 records, no total from ICE; the records are kept as they are")
    manifest = {"sheets": sheets, "tables": tables, "ice_totals_vs_records": [entry]}
    assert "ICE gives no total over all years to compare. They equal the records in every fiscal year (1 of 1)." in (
        release_notes.ice_totals_sentence(manifest) or "")


def test_ices_totals_are_kept_compared_and_differences_printed_never_adjusted(project: Path, capsys) -> None:
    folder = release(project)
    seattle_like(folder)
    code, out, err = cli(["ingest", str(folder)], capsys)
    assert code == 0, err
    assert "removals 5" in out
    warnings = [line for line in err.splitlines() if line.startswith("warning: ")]
    assert warnings == [
        f"warning: SeattleAORRemovals.xlsx sheet 'Summary', block '{EXPEDITED_TITLE}', column 'Total': ICE's totals "
        "differ from the records of sheet 'Expedited Removals' in 1 of 2 fiscal years (records minus ICE's total: "
        "FY2019 YTD -1); all years: 3 records, ICE 4 (-1); the records are kept as they are",
    ]
    manifest = json.loads((project / "data/processed/wb/manifest.json").read_text())
    assert [b["title"] for b in manifest["ice_totals"]] == [EXPEDITED_TITLE, OTHER_TITLE]
    assert manifest["ice_totals"][0]["years"][1] == {"label": "FY2019 YTD", "fiscal_year": 2019, "row": 9,
                                                     "values": {"Total": 3}}
    compared = manifest["ice_totals_vs_records"]
    assert [c["compared_with"]["sheet"] for c in compared] == ["Expedited Removals", "Other Removals"]
    assert [[y["difference"] for y in c["years"]] for c in compared] == [[0, -1], [0, 0]]
    assert manifest["tables"]["removals"]["rows"] == 5  # the records stay as they are


def test_the_overview_table_and_sentence_put_ices_totals_beside_the_records(project: Path) -> None:
    from analysis.sections import overview as release_notes

    folder = release(project)
    seattle_like(folder, expedited={"FY2018": 1, "FY2019 YTD": 3}, other={"FY2018": 2, "FY2019 YTD": 0})
    manifest = ingested(folder)
    frame = release_notes.ice_totals_frame(manifest)
    assert frame is not None
    shown = frame.astype(object).where(frame.notna(), None).values.tolist()
    assert list(frame.columns) == ["Summary block", "Fiscal year", "ICE's total", "Records", "Records minus ICE"]
    assert shown == [
        ["Expedited Removals", "FY2018", 1, 1, 0],
        ["Expedited Removals", "FY2019 YTD", 3, 2, -1],
        ["Expedited Removals", "All years", 4, 3, -1],
        ["Other Removals", "FY2018", 2, 1, -1],
        ["Other Removals", "FY2019 YTD", 0, 1, 1],
        ["Other Removals", "All years", 2, 2, 0],
    ]
    sentence = release_notes.ice_totals_sentence(manifest)
    assert sentence == (
        "ICE's own Summary (SeattleAORRemovals\\.xlsx\\, sheet Summary) gives totals by fiscal year for 2 counts, "
        "shown as ICE published them beside the records of this release. Over all years they differ from the "
        "records (Expedited Removals: 3 records, ICE 4). They differ from the records in 3 of 4 fiscal-year totals, "
        "each by 1 record. The records are counted by the fiscal year of their departed date; the difference is "
        "records minus ICE's total, and neither number is adjusted to match the other. ICE's own notes on its data, "
        "from its Footnotes sheet, are quoted in the data notes of the appendix.")
    small = release_notes.ice_totals_frame(manifest, min_cell=3)
    assert small is not None  # a difference would reveal a small cell beside it: not shown
    assert small["Records minus ICE"].astype(object).where(small["Records minus ICE"].notna(), None).tolist() == [
        None, None, -1, None, None, None]


def test_equal_totals_say_so_and_a_release_without_a_summary_shows_nothing() -> None:
    from analysis.reading.summary import reconcile, summary_blocks
    from analysis.sections import overview as release_notes

    blocks, _ = summary_blocks([["Detainers by fiscal year"], ["Fiscal Year", "Detainers"], ["FY2021", "5"]],
                               file="d.xlsx", sheet="Summary")
    sheets = [{"file": "d.xlsx", "sheet": "FY2021", "table": "detainers", "title": "Detainers FY2021", "rows": 5,
               "rows_by_fiscal_year": {"2021": 5}, "fiscal_year_source": "sheet title"}]
    tables = {"detainers": {"rows": 5, "rows_by_fiscal_year": {"2021": 5}}}
    manifest = {"sheets": sheets, "tables": tables, "ice_totals_vs_records": reconcile(blocks, sheets, tables)}
    assert release_notes.ice_totals_sentence(manifest) == (
        "ICE's own Summary (d\\.xlsx\\, sheet Summary) gives totals by fiscal year for 1 count, shown as ICE published "
        "them beside the records of this release. Over all years they equal the records (5). They equal the records "
        "in every fiscal year (1 of 1). The records are counted by the fiscal year their sheet's title names; the "
        "difference is records minus ICE's total, and neither number is adjusted to match the other.")
    assert release_notes.ice_totals_frame({"ice_totals_vs_records": []}) is None
    assert release_notes.ice_totals_sentence({"tables": {}}) is None


# ---------------------------------------------------------------- 4. ICE's Footnotes


def test_footnotes_are_kept_word_for_word_apart_from_their_banners(project: Path) -> None:
    from analysis.reading.footnotes import footnotes

    folder = release(project)
    seattle_like(folder)
    manifest = ingested(folder)
    assert manifest["ice_footnotes"] == [{
        "file": "SeattleAORRemovals.xlsx", "sheet": "Footnotes", "reader": "calamine",
        "banners": [OFFICE, CAVEAT, PRODUCTION],
        "notes": [{"row": 4, "text": "FY2019 YTD ICE Removals data are updated through 07/06/2019."},
                  {"row": 5, "text": LAG_NOTE},
                  {"row": 6, "text": "Expedited Removals are defined as having a Case Category of 8F, 8G, 8H or 8I."}],
    }]
    # a banner only other sheets carry is recognised; text after the first note is always a note
    assert footnotes([["Custom banner"], ["A note."], [OFFICE]], banners_elsewhere={"Custom banner"}) == {
        "banners": ["Custom banner"], "notes": [{"row": 2, "text": "A note."}, {"row": 3, "text": OFFICE}]}


HOSTILE = ["# Heading", "* item", "1. first", "> quote", "<script>alert(1)</script>", "[link](http://example.invalid)",
           "`code` | pipe | *bold* _it_ ~strike~ ^sup^ $x$ @cite \\back", "=+-!&%\"'"]


@pytest.mark.parametrize("text", HOSTILE)
def test_quoted_release_text_is_data_never_markup(text: str) -> None:
    """Whatever a footnote says, pandoc (which renders the report) reads it back as the same text."""
    import pypandoc

    from analysis.sections import overview as release_notes

    escaped = release_notes.escape_markdown(text)
    for target in ("plain", "html"):
        rendered = pypandoc.convert_text(escaped, target, format="markdown", extra_args=["--wrap=none"])
        if target == "plain":
            assert rendered.strip() == text
        else:
            assert rendered.strip().startswith("<p>") and "<script>" not in rendered and "<a " not in rendered


def test_footnotes_are_quoted_as_ices_attributed_to_the_sheet() -> None:
    from analysis.sections import overview as release_notes

    manifest = {"ice_footnotes": [{"file": "S.xlsx", "sheet": "Footnotes", "banners": [],
                                   "notes": [{"row": 4, "text": "Removals include *Returns*."},
                                             {"row": 5, "text": "Most Serious Conviction was not recorded prior to FY2013."}]}]}
    assert release_notes.footnotes_markdown(manifest) == (
        "**ICE's footnotes** (S\\.xlsx\\, sheet Footnotes), quoted as ICE wrote them:\n\n"
        "> Removals include \\*Returns\\*\\.\n>\n> Most Serious Conviction was not recorded prior to FY2013\\.")
    assert release_notes.footnotes_markdown({"ice_footnotes": []}) is None


# ---------------------------------------------------------------- 5. a removals-only release in the notebooks


@pytest.mark.parametrize("notebook", ["00_key_findings.ipynb", "01_release_overview.ipynb",
                                      "05_enforcement_context.ipynb", "90_appendix.ipynb"])
def test_notebooks_run_on_a_removals_only_workbook(project: Path, tmp_path: Path, notebook: str) -> None:
    from tests.test_notebooks_context import run, tables_of

    folder = release(project)
    seattle_like(folder)
    ingested(folder)
    items, prose = run(project, notebook, tmp_path, release="wb")
    if notebook == "00_key_findings.ipynb":
        assert "**5 removals** (FY2018: 2, FY2019: 3)" in prose
        assert "by departed date (the release has no removal date)" in prose
    elif notebook == "01_release_overview.ipynb":
        assert "## ICE's own totals" in prose
        assert "Expedited Removals,FY2019 YTD,3,2,-1" in tables_of(items)["ice-totals-vs-records"]
    elif notebook == "05_enforcement_context.ipynb":
        assert ("counted by the fiscal year of their departed date (the release has no removal date); the table "
                "records no area of responsibility.") in prose
        assert "removals-by-year" in tables_of(items)
    else:
        assert "quoted as ICE wrote them" in prose and "FY Data Lag\\/Case Closure Lag is defined" in prose


# ---------------------------------------------------------------- the real workbook (../shared)

SEATTLE = "uw-v-dhs-2019-seattle-removals"
EXPEDITED_BY_YEAR = {"2012": 540, "2013": 804, "2014": 766, "2015": 574, "2016": 1052, "2017": 1148, "2018": 820,
                     "2019": 825}
OTHER_BY_YEAR = {"2012": 4456, "2013": 3667, "2014": 1623, "2015": 1148, "2016": 1056, "2017": 2832, "2018": 3290,
                 "2019": 2312}
EXPEDITED_SUMMARY = {"FY2012": 539, "FY2013": 803, "FY2014": 749, "FY2015": 576, "FY2016": 1051, "FY2017": 1159,
                     "FY2018": 801, "FY2019 YTD": 851}
OTHER_SUMMARY = {"FY2012": 4351, "FY2013": 3722, "FY2014": 1592, "FY2015": 1146, "FY2016": 1073, "FY2017": 2836,
                 "FY2018": 3288, "FY2019 YTD": 2376}


@pytest.mark.real
def test_the_real_seattle_workbook_gives_the_counts_of_its_readme(project: Path) -> None:
    from tests.conftest import SHARED_RELEASES

    folder = SHARED_RELEASES / SEATTLE
    if not folder.is_dir():
        pytest.skip(f"real release not available: {folder} is absent (it lives in ../shared beside the repo)")
    manifest = ingested(folder)
    assert {s["sheet"]: (s["rows"], s["rows_by_fiscal_year"], s["dated_by_header"], s["header_row"])
            for s in manifest["sheets"]} == {
        "Expedited Removals": (6_529, EXPEDITED_BY_YEAR, "Departed Date", 7),
        "Other Removals": (20_384, OTHER_BY_YEAR, "Departed Date", 7),
    }
    assert manifest["tables"]["removals"]["rows"] == 6_529 + 20_384
    assert [{y["label"]: y["values"]["Total"] for y in block["years"]} for block in manifest["ice_totals"]] == [
        EXPEDITED_SUMMARY, OTHER_SUMMARY]
    compared = manifest["ice_totals_vs_records"]
    assert [(c["compared_with"]["sheet"], c["all_years"]) for c in compared] == [
        ("Expedited Removals", {"label": "all years", "fiscal_year": None, "ice": 6_529, "records": 6_529, "difference": 0}),
        ("Other Removals", {"label": "all years", "fiscal_year": None, "ice": 20_384, "records": 20_384, "difference": 0}),
    ]
    assert {y["label"]: y["difference"] for y in compared[1]["years"]}["FY2012"] == 4456 - 4351
    notes = manifest["ice_footnotes"][0]["notes"]
    assert len(notes) == 8 and any("FY Data Lag/Case Closure Lag" in n["text"] for n in notes)
    assert manifest["ice_footnotes"][0]["banners"] == [OFFICE, CAVEAT, PRODUCTION]
    assert manifest["tables"]["removals"]["columns"]["birth_date"]["redacted"] == 26_913
