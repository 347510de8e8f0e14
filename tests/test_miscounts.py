"""Silent miscounts (issue 12): inputs that used to give a wrong number with no warning. Each is
now read correctly, refused in one line, or counted and warned about (a `warning:` line at
ingest and in manifest.json `warnings`). Every workbook and text file is built here; counts are
exact. docs/bad-input.md lists the same cases with their messages."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import struct
import zipfile
from pathlib import Path
from xml.sax.saxutils import escape

import openpyxl
import pyarrow.parquet as pq
import pytest

from tests.test_bad_input import (
    ARREST_HEADER,
    ARREST_ROW,
    arrests_text,
    ingest_error,
    release_dir,
    run,
    write_workbook,
)
from tests.test_hostile_input import compound_file, ingested

TITLE = "ERO Administrative Arrests FY2021"
HEADER = ARREST_HEADER.split("|")
ROW = ARREST_ROW.split("|")  # Seattle, 10/1/2020 (FY2021), Located, MEXICO


def arrest(day: str = "10/1/2020", country: str = "MEXICO") -> list[str]:
    return ["Seattle Area of Responsibility", day, "Located", country]


def records(count: int, year: int = 2020) -> list[list[str]]:
    """`count` distinct arrests dated in October of `year` (fiscal year `year + 1`)."""
    return [arrest(f"10/{day}/{year}") for day in range(1, count + 1)]


def text_of(rows: list[list[str]], title: str = TITLE) -> str:
    return "\n".join(["ERO-LESA Statistical Tracking Unit", "2022-ICFO-09023", "", title, ARREST_HEADER,
                      *("|".join(row) for row in rows)]) + "\n"


def book(path: Path, sheets: dict[str, list[list[object]]], hidden: tuple[str, ...] = (),
         errors: dict[str, str] | None = None) -> Path:
    """An .xlsx written with openpyxl: `hidden` sheets hidden, `errors` cells (e.g. {"D5": "#N/A"})
    written as Excel error cells in the first sheet."""
    workbook = openpyxl.Workbook()
    workbook.remove(workbook.active)
    for name, rows in sheets.items():
        sheet = workbook.create_sheet(name)
        for row in rows:
            sheet.append(row)
        if name in hidden:
            sheet.sheet_state = "hidden"
    first = workbook[next(iter(sheets))]
    for reference, error in (errors or {}).items():
        first[reference] = error
        first[reference].data_type = "e"
    path.parent.mkdir(parents=True, exist_ok=True)
    workbook.save(path)
    return path


def warnings_of(manifest: dict, fragment: str) -> list[str]:
    return [w for w in manifest["warnings"] if fragment in w]


# ---------------------------------------------------------------- totals under the records


def test_grand_total_row_in_text_is_dropped_and_its_count_checked(project: Path) -> None:
    folder = release_dir(project)
    a_record = ["Total Wine Area", "10/9/2020", "Located", "CUBA"]  # starts with "Total" but is a record
    (folder / "arrests.txt").write_text(text_of([*records(2), a_record, ["Grand Total", "3", "", ""]]))
    manifest, table = ingested(project, folder)
    assert manifest["tables"]["arrests"]["rows"] == 3
    assert table["aor"][-1] == "Total Wine Area"
    assert warnings_of(manifest, "total") == [
        "arrests.txt, row 9: 'Grand Total' (3) is a total, not a record: dropped; it equals the 3 records above it"]


def test_total_row_in_workbook_that_disagrees_is_dropped_and_said(project: Path) -> None:
    folder = release_dir(project)
    book(folder / "arrests.xlsx", {"FY2021": [[TITLE], HEADER, *records(4), [], ["Total", 5]]})
    manifest, table = ingested(project, folder)
    assert manifest["tables"]["arrests"]["rows"] == 4
    assert warnings_of(manifest, "total") == [
        "arrests.xlsx sheet 'FY2021', row 8: 'Total' (5) is a total, not a record: dropped; it says 5 but 4 records "
        "are above it: check the file"]


def test_total_row_with_fewer_fields_in_text_is_dropped(project: Path) -> None:
    folder = release_dir(project)
    (folder / "arrests.txt").write_text(text_of(records(2)) + "Total: 2\n")
    manifest, _ = ingested(project, folder)
    assert manifest["tables"]["arrests"]["rows"] == 2
    assert warnings_of(manifest, "total") == [
        "arrests.txt, a row with fewer fields than the header: 'Total: 2' (2) is a total, not a record: dropped; "
        "it equals the 2 records above it"]


# ---------------------------------------------------------------- the same records twice


def test_hidden_sheet_repeating_a_visible_one_is_counted_once(project: Path) -> None:
    folder = release_dir(project)
    rows = [[TITLE], HEADER, *records(5)]
    book(folder / "arrests.xlsx", {"FY2021": rows, "FY2021 (2)": rows}, hidden=("FY2021 (2)",))
    manifest, table = ingested(project, folder)
    assert manifest["tables"]["arrests"]["rows"] == 5
    assert set(table["source_sheet"]) == {"FY2021"}
    assert manifest["skipped_sheets"] == [{
        "file": "arrests.xlsx", "sheet": "FY2021 (2)",
        "reason": "the same 5 records as arrests.xlsx sheet 'FY2021'; counted once"}]
    assert warnings_of(manifest, "same") == [
        "arrests.xlsx sheet 'FY2021 (2)' (hidden) holds the same 5 arrests records as arrests.xlsx sheet 'FY2021'; "
        "counted once, from arrests.xlsx sheet 'FY2021'"]


def test_hidden_sheets_read_by_the_fallback_reader_are_found_too(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import python_calamine

    def unreadable(*args: object, **kwargs: object) -> None:
        raise ValueError("calamine cannot read this workbook")

    monkeypatch.setattr(python_calamine.CalamineWorkbook, "from_path", unreadable)
    folder = release_dir(project)
    rows = [[TITLE], HEADER, *records(5)]
    book(folder / "arrests.xlsx", {"FY2021": rows, "Copy": rows}, hidden=("Copy",))
    manifest, _ = ingested(project, folder)
    assert manifest["tables"]["arrests"]["rows"] == 5
    assert [s["sheet"] for s in manifest["skipped_sheets"]] == ["Copy"]
    assert warnings_of(manifest, "(hidden) holds the same 5 arrests records")


def test_hidden_sheet_with_records_of_its_own_is_read_and_said(project: Path) -> None:
    folder = release_dir(project)
    book(folder / "arrests.xlsx", {"FY2021": [[TITLE], HEADER, *records(5)],
                                   "FY2022": [["ERO Administrative Arrests FY2022"], HEADER, *records(2, 2021)]},
         hidden=("FY2022",))
    manifest, _ = ingested(project, folder)
    assert manifest["tables"]["arrests"]["rows_by_fiscal_year"] == {"2021": 5, "2022": 2}
    assert [s["sheet"] for s in manifest["sheets"] if s.get("hidden")] == ["FY2022"]
    assert warnings_of(manifest, "hidden") == [
        "arrests.xlsx sheet 'FY2022' (hidden) is hidden in its workbook; its records are read like any sheet's"]


def test_workbook_saved_twice_under_two_names_is_counted_once(project: Path) -> None:
    folder = release_dir(project)
    rows = [[TITLE], HEADER, *records(6)]
    book(folder / "Arrests FY2021.xlsx", {"FY2021": rows})
    shutil.copyfile(folder / "Arrests FY2021.xlsx", folder / "Arrests FY2021 - Copy.xlsx")
    write_workbook(folder / "Arrests FY2021 final.xlsx", {"Sheet1": rows})  # same records, other bytes and sheet name
    write_workbook(folder / "Arrests FY2021 part.xlsx", {"Sheet1": rows[:-1]})  # some of the records: not a copy
    manifest, table = ingested(project, folder)
    assert manifest["tables"]["arrests"]["rows"] == 6 + 5
    assert len(manifest["files"]) == 4
    assert set(table["source_file"]) == {"Arrests FY2021 - Copy.xlsx", "Arrests FY2021 part.xlsx"}
    assert warnings_of(manifest, "same") == [
        "Arrests FY2021 final.xlsx sheet 'Sheet1' holds the same 6 arrests records as Arrests FY2021 - Copy.xlsx "
        "sheet 'FY2021'; counted once, from Arrests FY2021 - Copy.xlsx sheet 'FY2021'",
        "Arrests FY2021.xlsx sheet 'FY2021' holds the same 6 arrests records as Arrests FY2021 - Copy.xlsx "
        "sheet 'FY2021'; counted once, from Arrests FY2021 - Copy.xlsx sheet 'FY2021'",
    ]


def test_identical_records_under_two_fiscal_years_keep_the_year_their_dates_agree_with(project: Path) -> None:
    """ICE's August 2026 production: identical FY2023 and FY2024 arrest files. The FY2024 file is
    listed first; the records are dated in FY2023, so the FY2023 copy is the one counted."""
    folder = release_dir(project)
    rows = records(4, 2022)  # October 2022: FY2023
    (folder / "ARS_FY2024.txt").write_text(text_of(rows, "ERO Administrative Arrests FY2024"))
    (folder / "ARS_FY2023.txt").write_text(text_of(rows, "ERO Administrative Arrests FY2023"))
    manifest, table = ingested(project, folder)
    assert manifest["tables"]["arrests"]["rows_by_fiscal_year"] == {"2023": 4}
    assert set(table["source_file"]) == {"ARS_FY2023.txt"}
    assert [s["file"] for s in manifest["skipped_sheets"]] == ["ARS_FY2024.txt"]
    assert warnings_of(manifest, "same") == [
        "ARS_FY2024.txt holds the same 4 arrests records as ARS_FY2023.txt; counted once, from ARS_FY2023.txt "
        "(FY2024 against FY2023), whose FY2023 agrees with the records' dates (4 of 4 dated in it)"]


def test_identical_records_whose_dates_settle_nothing_keep_the_first_and_say_so(project: Path) -> None:
    folder = release_dir(project)
    rows = records(3, 2018)  # dated in FY2019: neither label
    (folder / "a_FY2023.txt").write_text(text_of(rows, "ERO Administrative Arrests FY2023"))
    (folder / "b_FY2024.txt").write_text(text_of(rows, "ERO Administrative Arrests FY2024"))
    manifest, _ = ingested(project, folder)
    assert manifest["tables"]["arrests"]["rows_by_fiscal_year"] == {"2023": 3}
    assert warnings_of(manifest, "same") == [
        "b_FY2024.txt holds the same 3 arrests records as a_FY2023.txt; counted once, from a_FY2023.txt "
        "(FY2024 against FY2023), the first in file order: neither fiscal year agrees better with the records' "
        "dates, so their year is in doubt"]


# ---------------------------------------------------------------- where files are


def test_files_in_subfolders_are_read_under_their_relative_path(project: Path) -> None:
    folder = release_dir(project)
    (folder / "FY2021").mkdir()
    (folder / "FY2021" / "arrests.txt").write_text(text_of(records(2)))
    (folder / "FY2022" / "part 1").mkdir(parents=True)
    (folder / "FY2022" / "part 1" / "arrests.txt").write_text(
        text_of(records(3, 2021), "ERO Administrative Arrests FY2022"))
    (folder / ".ipynb_checkpoints").mkdir()
    (folder / ".ipynb_checkpoints" / "arrests.txt").write_text(text_of(records(9)))
    manifest, table = ingested(project, folder)
    assert manifest["tables"]["arrests"]["rows_by_fiscal_year"] == {"2021": 2, "2022": 3}
    assert [f["path"] for f in manifest["files"]] == ["FY2021/arrests.txt", "FY2022/part 1/arrests.txt"]
    assert sorted(set(table["source_file"])) == ["FY2021/arrests.txt", "FY2022/part 1/arrests.txt"]


def test_symlink_in_a_subfolder_leading_out_is_refused(project: Path, capsys, tmp_path: Path) -> None:
    outside = tmp_path / "secret.csv"
    outside.write_text(arrests_text())
    folder = release_dir(project)
    (folder / "a.txt").write_text(text_of(records(1)))
    (folder / "sub").mkdir()
    (folder / "sub" / "arrests.csv").symlink_to(outside)
    ingest_error(project, folder, capsys, "sub/arrests.csv: is a symbolic link to", "outside the release folder")


def test_symlinked_folder_leading_out_is_refused(project: Path, capsys, tmp_path: Path) -> None:
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "arrests.csv").write_text(arrests_text())
    folder = release_dir(project)
    (folder / "a.txt").write_text(text_of(records(1)))
    (folder / "more").symlink_to(outside)
    ingest_error(project, folder, capsys, "more: is a symbolic link to", "outside the release folder")


def test_link_to_a_file_of_the_release_is_not_read_twice(project: Path) -> None:
    folder = release_dir(project)
    (folder / "sub").mkdir()
    (folder / "sub" / "arrests.txt").write_text(text_of(records(2)))
    (folder / "arrests.txt").symlink_to(folder / "sub" / "arrests.txt")
    manifest, _ = ingested(project, folder)
    assert manifest["tables"]["arrests"]["rows"] == 2
    assert warnings_of(manifest, "symbolic link") == [
        "arrests.txt: a symbolic link to sub/arrests.txt, which is read under its own name; not read twice"]


def test_excel_lock_file_is_skipped_with_a_warning(project: Path, capsys) -> None:
    folder = release_dir(project)
    book(folder / "arrests.xlsx", {"FY2021": [[TITLE], HEADER, *records(2)]})
    (folder / "~$arrests.xlsx").write_bytes(b"\x07Analyst" + b"\x00" * 40)
    code, _, err = run(["-q", "ingest", str(folder)], capsys)
    assert code == 0, err
    assert err.splitlines() == ["warning: ~$arrests.xlsx: an Excel lock file (left while a workbook is open), not "
                                "data; skipped"]


def test_archive_beside_the_data_is_not_ignored_in_silence(project: Path) -> None:
    folder = release_dir(project)
    (folder / "a.txt").write_text(text_of(records(1)))
    with zipfile.ZipFile(folder / "more arrests.zip", "w") as archive:
        archive.writestr("arrests.txt", text_of(records(5)))
    manifest, _ = ingested(project, folder)
    assert warnings_of(manifest, "more arrests.zip") == [
        "more arrests.zip: not read (only .xlsx, .xlsm, .xls, .xlsb, .ods, .csv, .txt and .tsv files are); if it "
        "holds records, convert or unpack it into the release folder"]


# ---------------------------------------------------------------- other workbook formats


def write_ods(path: Path, sheets: dict[str, list[list[object]]]) -> Path:
    """A minimal OpenDocument spreadsheet (what LibreOffice saves), every cell a string."""
    def cell(value: object) -> str:
        if value is None:
            return "<table:table-cell/>"
        return f'<table:table-cell office:value-type="string"><text:p>{escape(str(value))}</text:p></table:table-cell>'

    tables = "".join(
        f'<table:table table:name="{escape(name)}">'
        + "".join("<table:table-row>" + "".join(cell(v) for v in row) + "</table:table-row>" for row in rows)
        + "</table:table>" for name, rows in sheets.items())
    content = ('<?xml version="1.0" encoding="UTF-8"?><office:document-content '
               'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
               'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
               'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2">'
               f"<office:body><office:spreadsheet>{tables}</office:spreadsheet></office:body></office:document-content>")
    manifest = ('<?xml version="1.0" encoding="UTF-8"?><manifest:manifest '
                'xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2">'
                '<manifest:file-entry manifest:full-path="/" '
                'manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>'
                '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
                "</manifest:manifest>")
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(zipfile.ZipInfo("mimetype"), "application/vnd.oasis.opendocument.spreadsheet")
        archive.writestr("META-INF/manifest.xml", manifest, compress_type=zipfile.ZIP_DEFLATED)
        archive.writestr("content.xml", content, compress_type=zipfile.ZIP_DEFLATED)
    return path


def _record(kind: int, data: bytes = b"") -> bytes:
    """One BIFF12 record: its type and size as 7-bit variable-length numbers, then its data."""
    head = bytes([kind]) if kind < 0x80 else bytes([(kind & 0x7F) | 0x80, kind >> 7])
    size, rest = b"", len(data)
    while True:
        byte, rest = rest & 0x7F, rest >> 7
        size += bytes([byte | (0x80 if rest else 0)])
        if not rest:
            return head + size + data


def _wide(text: str) -> bytes:
    return struct.pack("<I", len(text)) + text.encode("utf-16-le")


XLSB_ERROR_CODES = {"#NULL!": 0x00, "#DIV/0!": 0x07, "#VALUE!": 0x0F, "#REF!": 0x17, "#NAME?": 0x1D, "#NUM!": 0x24,
                    "#N/A": 0x2A}


def _xlsb_cell(column: int, value: object) -> bytes:
    """An inline-string cell (BrtCellSt), or an error cell (BrtCellError) for an Excel error's text."""
    place = struct.pack("<I", column) + b"\0" * 4
    if value in XLSB_ERROR_CODES:
        return _record(0x03, place + bytes([XLSB_ERROR_CODES[str(value)]]))
    return _record(0x06, place + _wide(str(value)))


def write_xlsb(path: Path, sheets: dict[str, list[list[object]]]) -> Path:
    """A minimal binary workbook (.xlsb, MS-XLSB): a workbook part listing the sheets, and each
    sheet's cells as inline-string records (error cells for Excel's error texts)."""
    bundle = b"".join(_record(0x9C, struct.pack("<II", 0, i + 1) + _wide(f"rId{i + 1}") + _wide(name))
                      for i, name in enumerate(sheets))
    relations = "".join(f'<Relationship Id="rId{i + 1}" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
                        f'relationships/worksheet" Target="worksheets/sheet{i + 1}.bin"/>' for i in range(len(sheets)))
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types '
                         'xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>')
        archive.writestr("xl/workbook.bin", bundle + _record(0x90) + _record(0x9D, b"\0" * 8))
        archive.writestr("xl/_rels/workbook.bin.rels", '<?xml version="1.0"?><Relationships xmlns="http://schemas.'
                         f'openxmlformats.org/package/2006/relationships">{relations}</Relationships>')
        for index, rows in enumerate(sheets.values(), start=1):
            width = max(len(row) for row in rows)
            body = _record(0x81) + _record(0x94, struct.pack("<4I", 0, len(rows) - 1, 0, width - 1)) + _record(0x91)
            for number, row in enumerate(rows):
                body += _record(0x00, struct.pack("<I", number) + b"\0" * 13)
                body += b"".join(_xlsb_cell(column, value) for column, value in enumerate(row) if value is not None)
            archive.writestr(f"xl/worksheets/sheet{index}.bin", body + _record(0x92) + _record(0x82))
    return path


def test_ods_and_xlsb_beside_the_workbooks_are_read(project: Path) -> None:
    folder = release_dir(project)
    book(folder / "a.xlsx", {"FY2021": [[TITLE], HEADER, *records(2)]})
    write_ods(folder / "b.ods", {"FY2022": [["ERO Administrative Arrests FY2022"], [], HEADER, *records(3, 2021)]})
    write_xlsb(folder / "c.xlsb", {"FY2023": [["ERO Administrative Arrests FY2023"], HEADER, *records(4, 2022)]})
    manifest, table = ingested(project, folder)
    assert manifest["tables"]["arrests"]["rows_by_fiscal_year"] == {"2021": 2, "2022": 3, "2023": 4}
    assert table["apprehension_date"][-1] == dt.date(2022, 10, 4)
    assert [s["file"] for s in manifest["sheets"]] == ["a.xlsx", "b.ods", "c.xlsb"]


def test_ods_that_is_no_spreadsheet_is_one_line(project: Path, capsys) -> None:
    folder = release_dir(project)
    with zipfile.ZipFile(folder / "arrests.ods", "w") as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.text")
        archive.writestr("content.xml", "<office:document-content/>")
    ingest_error(project, folder, capsys, "arrests.ods: ")


# ---------------------------------------------------------------- columns in place


def test_table_starting_in_column_b_with_a_blank_last_column_keeps_its_columns(project: Path) -> None:
    folder = release_dir(project)
    header = ["Detainer Prepare Date", "Facility State", "Citizenship Country", "Notes"]
    rows = [[None, "ERO Detainers FY2021"], [], [None, *header],
            [None, "10/1/2020", "WA", "MEXICO", None], [None, "10/2/2020", "OR", "CUBA", None]]
    book(folder / "detainers.xlsx", {"FY2021": rows})
    (folder / "detainers.csv").write_text("\n".join(
        [",ERO Detainers FY2021,,,,", ",,,,,", "," + ",".join(header) + ",", ",10/3/2020,CA,PERU,,",
         ",10/4/2020,NV,CHILE,,"]) + "\n")
    table = ingested_table(project, folder, "detainers")
    assert table["state"] == ["CA", "NV", "WA", "OR"]  # detainers.csv is listed before detainers.xlsx
    assert [d.isoformat() for d in table["detainer_prepare_date"]] == [
        "2020-10-03", "2020-10-04", "2020-10-01", "2020-10-02"]
    assert table["citizenship"] == ["PERU", "CHILE", "MEXICO", "CUBA"]


def ingested_table(project: Path, folder: Path, name: str) -> dict[str, list]:
    from analysis.paths import locate_release
    from analysis.reading.ingest import ingest

    manifest = ingest(locate_release(str(folder)))
    return pq.read_table(project / "data" / "processed" / manifest["release"] / f"{name}.parquet").to_pydict()


# ---------------------------------------------------------------- two exports in one file


def test_two_exports_concatenated_in_one_text_file_are_refused_at_the_second(project: Path, capsys) -> None:
    folder = release_dir(project)
    second = ["ERO-LESA Statistical Tracking Unit|||", "2022-ICFO-09023|||", "|||", "ERO Administrative Arrests FY2022|||",
              ARREST_HEADER, *("|".join(row) for row in records(2, 2021))]
    (folder / "arrests.txt").write_text(text_of(records(3)) + "|||\n" + "\n".join(second) + "\n")
    ingest_error(project, folder, capsys, "arrests.txt, row 10: a second export starts here (banner rows and a "
                 "header row among the records)", "split the file")


def test_second_export_whose_banners_have_no_delimiters_is_refused_at_its_first_line(project: Path, capsys) -> None:
    folder = release_dir(project)
    (folder / "arrests.txt").write_text(text_of(records(3)) + text_of(records(2, 2021), "ERO Administrative Arrests FY2022"))
    ingest_error(project, folder, capsys, "arrests.txt, row 9: has 1 fields where the header has 4",
                 "this one is a line of text with no delimiter (a title? a second export pasted below the first "
                 "must be a file of its own)")


def test_two_exports_pasted_in_one_sheet_are_refused_at_the_second(project: Path, capsys) -> None:
    folder = release_dir(project)
    book(folder / "arrests.xlsx", {"All": [[TITLE], HEADER, *records(3), [], ["ERO Administrative Arrests FY2022"],
                                           HEADER, *records(2, 2021)]})
    ingest_error(project, folder, capsys, "arrests.xlsx, sheet 'All', row 7: a second export starts here")


def test_another_tables_header_among_the_records_is_refused(project: Path, capsys) -> None:
    folder = release_dir(project)
    removals = ["Area of Responsibility", "Removal Date", "Departed Date", "Citizenship"]
    (folder / "arrests.txt").write_text(text_of([*records(2), removals, *records(1, 2021)]))
    ingest_error(project, folder, capsys, "arrests.txt, row 8: a second export starts here (a header row with "
                 "other column names among the records)")


# ---------------------------------------------------------------- values spelled another way


def test_state_codes_in_mixed_case_are_one_state(project: Path) -> None:
    folder = release_dir(project)
    states = ["CA", "ca", "Ca", " CA ", "california", "WA"]
    rows = [f"10/{i}/2020|{state}|Seattle Area of Responsibility|MEXICO" for i, state in enumerate(states, start=1)]
    rows.append("10/9/2020|WA|SEATTLE AREA OF RESPONSIBILITY|MEXICO")
    (folder / "detainers.txt").write_text("\n".join(
        ["ERO Detainers FY2021", "Detainer Prepare Date|Facility State|Facility AOR|Citizenship Country", *rows]) + "\n")
    table = ingested_table(project, folder, "detainers")
    assert table["state"].count("CA") == 5
    assert table["aor"].count("Seattle Area of Responsibility") == 7
    manifest = json.loads((project / "data/processed/bad/manifest.json").read_text())
    assert manifest["tables"]["detainers"]["columns"]["state"]["respelled"] == 3  # ' CA ' was only trimmed
    assert warnings_of(manifest, "made canonical") == [
        "table 'detainers' column 'state': 3 value(s) written in another case or spelling made canonical (e.g. "
        "'ca' -> 'CA', 'Ca' -> 'CA', 'california' -> 'CA')",
        "table 'detainers' column 'aor': 1 value(s) written in another case or spelling made canonical (e.g. "
        "'SEATTLE AREA OF RESPONSIBILITY' -> 'Seattle Area of Responsibility')",
    ]


def test_excel_error_cells_in_a_workbook_are_missing_and_counted(project: Path) -> None:
    folder = release_dir(project)
    rows = [[TITLE], HEADER, *records(3)]
    book(folder / "arrests.xlsx", {"FY2021": rows}, errors={"D3": "#N/A", "D4": "#REF!", "C5": "#DIV/0!"})
    manifest, table = ingested(project, folder)
    assert table["citizenship"] == [None, None, "MEXICO"]
    columns = manifest["tables"]["arrests"]["columns"]
    assert (columns["citizenship"]["excel_errors"], columns["apprehension_method"]["excel_errors"]) == (2, 1)
    assert warnings_of(manifest, "Excel error") == [
        "table 'arrests' column 'apprehension_method': 1 Excel error value(s) (#N/A, #REF!, #VALUE!, ...) set to "
        "missing",
        "table 'arrests' column 'citizenship': 2 Excel error value(s) (#N/A, #REF!, #VALUE!, ...) set to missing",
    ]


def test_excel_error_cells_in_a_binary_workbook_are_missing_and_counted(project: Path) -> None:
    folder = release_dir(project)
    rows = [arrest("10/1/2020", "#N/A"), arrest("10/2/2020", "#NUM!"), arrest("10/3/2020")]
    write_xlsb(folder / "arrests.xlsb", {"FY2021": [[TITLE], HEADER, *rows]})
    manifest, table = ingested(project, folder)
    assert table["citizenship"] == [None, None, "MEXICO"]
    assert manifest["tables"]["arrests"]["columns"]["citizenship"]["excel_errors"] == 2


def _biff(kind: int, data: bytes = b"") -> bytes:
    return struct.pack("<HH", kind, len(data)) + data


def write_xls(path: Path, sheets: dict[str, list[list[object]]]) -> Path:
    """A minimal legacy workbook (.xls: BIFF8 records in an OLE2 compound file). Text goes to the
    shared strings; an Excel error text becomes a BoolErr error cell, or, written as ("=", error),
    a formula whose cached result is that error."""
    codes = {"#NULL!": 0x00, "#DIV/0!": 0x07, "#VALUE!": 0x0F, "#REF!": 0x17, "#NAME?": 0x1D, "#NUM!": 0x24, "#N/A": 0x2A}
    strings: list[str] = []

    def cell(row: int, column: int, value: object) -> bytes:
        place = struct.pack("<HHH", row, column, 15)
        if isinstance(value, tuple):  # a formula (=1/0) with its cached error
            cached = bytes([2, 0, codes[value[1]], 0, 0, 0, 0xFF, 0xFF])
            return _biff(0x0006, place + cached + struct.pack("<HI", 0, 0) + struct.pack("<H", 0))
        if value in codes:
            return _biff(0x0205, place + bytes([codes[str(value)], 1]))
        strings.append(str(value))
        return _biff(0x00FD, place + struct.pack("<I", len(strings) - 1))

    def bof(kind: int) -> bytes:
        return _biff(0x0809, struct.pack("<HHHHII", 0x0600, kind, 0x0DBB, 0x07CC, 0, 6))

    bodies = [bof(0x10) + b"".join(cell(r, c, v) for r, row in enumerate(rows) for c, v in enumerate(row)
                                   if v is not None) + _biff(0x000A) for rows in sheets.values()]
    table = _biff(0x00FC, struct.pack("<II", len(strings), len(strings))
                  + b"".join(struct.pack("<HB", len(t), 1) + t.encode("utf-16-le") for t in strings))

    def globals_part(offsets: list[int]) -> bytes:
        bound = b"".join(_biff(0x0085, struct.pack("<IBBBB", offset, 0, 0, len(name), 1) + name.encode("utf-16-le"))
                         for name, offset in zip(sheets, offsets, strict=True))
        return bof(0x05) + _biff(0x0042, struct.pack("<H", 1200)) + bound + table + _biff(0x000A)

    start = len(globals_part([0] * len(sheets)))
    offsets = [start + sum(len(b) for b in bodies[:i]) for i in range(len(bodies))]
    path.write_bytes(compound_file([("Workbook", globals_part(offsets) + b"".join(bodies))]))
    return path


def test_excel_error_cells_in_a_legacy_xls_workbook_are_missing_and_counted(project: Path) -> None:
    folder = release_dir(project)
    rows = [arrest("10/1/2020", "#N/A"), arrest("10/2/2020"), ["Seattle Area of Responsibility", "10/3/2020",
                                                              ("=", "#DIV/0!"), "CUBA"]]
    write_xls(folder / "arrests.xls", {"Notes": [["a note"]], "FY2021": [[TITLE], HEADER, *rows]})
    manifest, table = ingested(project, folder)
    assert table["citizenship"] == [None, "MEXICO", "CUBA"]
    assert table["apprehension_method"] == ["Located", "Located", None]
    columns = manifest["tables"]["arrests"]["columns"]
    assert (columns["citizenship"]["excel_errors"], columns["apprehension_method"]["excel_errors"]) == (1, 1)


def test_error_cells_are_placed_where_a_writer_leaves_out_cell_references() -> None:
    from analysis.reading.cellerrors import _errors_in

    xml = ('<sheetData><row><c t="s"><v>0</v></c><c t="e"><v>#REF!</v></c></row><row r="5"><c/>'
           '<c t="e"><f>A1/0</f><v>#DIV/0!</v></c></row></sheetData>')
    assert _errors_in(xml) == {(0, 1): "#REF!", (4, 1): "#DIV/0!"}


@pytest.mark.parametrize("error", ["#N/A", "#REF!", "#VALUE!", "#DIV/0!", "#NAME?", "#NULL!", "#NUM!"])
def test_excel_error_text_in_a_csv_export_is_missing_and_counted(project: Path, error: str) -> None:
    folder = release_dir(project)
    (folder / "arrests.txt").write_text(text_of([*records(2), arrest("10/7/2020", error)]))
    manifest, table = ingested(project, folder)
    assert table["citizenship"] == ["MEXICO", "MEXICO", None]
    assert manifest["tables"]["arrests"]["columns"]["citizenship"]["excel_errors"] == 1


# ---------------------------------------------------------------- dates


def test_short_dates_from_excels_csv_export_get_fiscal_years(project: Path) -> None:
    folder = release_dir(project)
    dates = ["3/4/23", "10/1/22", "9/30/23", "12/31/99", "1/1/29", "1/1/30"]
    (folder / "arrests.txt").write_text(text_of([arrest(d) for d in dates], "ERO Administrative Arrests"))
    manifest, table = ingested(project, folder)
    assert [d.isoformat() for d in table["apprehension_date"]] == [
        "2023-03-04", "2022-10-01", "2023-09-30", "1999-12-31", "2029-01-01", "1930-01-01"]
    assert manifest["tables"]["arrests"]["rows_by_fiscal_year"] == {"1930": 1, "2000": 1, "2023": 3, "2029": 1}
    assert manifest["tables"]["arrests"]["columns"]["apprehension_date"]["two_digit_years"] == 6


def test_a_file_whose_dates_all_fail_is_refused_in_one_line(project: Path, capsys) -> None:
    folder = release_dir(project)
    (folder / "arrests.txt").write_text(text_of([arrest(d) for d in ["2023.03.04", "2023.03.05"]]))
    ingest_error(project, folder, capsys, "arrests.txt, column 'apprehension_date': none of its 2 dates could be read",
                 "'2023.03.04'")


def test_overview_sentence_without_any_fiscal_year_does_not_fail() -> None:
    from analysis.metrics.overview import summary_sentence

    manifest = {"release": "r", "tables": {"other": {"rows": 2, "rows_by_fiscal_year": {}}}, "files": [{}]}
    assert "covering no fiscal year" in summary_sentence(manifest)
