"""Bad input (issue 2): every case fails through the CLI with exit status 2, one line on stderr
naming the file (and sheet, row, column where they apply), no traceback, and no processed
output or staging folder left behind. docs/bad-input.md lists the same cases."""

from __future__ import annotations

import gzip
import hashlib
from pathlib import Path

import pytest
import xlsxwriter

from analysis.cli import main

ARREST_HEADER = "Area of Responsibility|Apprehension Date|Apprehension Method|Citizenship"
ARREST_ROW = "Seattle Area of Responsibility|10/1/2020|Located|MEXICO"
BANNERS = ["ERO-LESA Statistical Tracking Unit", "2022-ICFO-09023", "", "ERO Administrative Arrests FY2021"]


# ---------------------------------------------------------------- helpers shared with the other hostile-input tests


def arrests_text(rows: list[str] | None = None, header: str = ARREST_HEADER) -> str:
    return "\n".join([*BANNERS, header, *(rows if rows is not None else [ARREST_ROW])]) + "\n"


def write_workbook(path: Path, sheets: dict[str, list[list[object]]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    book = xlsxwriter.Workbook(str(path))
    for name, rows in sheets.items():
        sheet = book.add_worksheet(name)
        for r, row in enumerate(rows):
            for c, value in enumerate(row):
                if value is not None:
                    sheet.write(r, c, value)
    book.close()
    return path


def release_dir(project: Path, release: str = "bad") -> Path:
    folder = project / "data" / "raw" / release
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def digests(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir()) if p.is_file()}


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(argv)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def error_line(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    """Run quietly; assert exit status 2 and exactly one `analysis: error:` line without traceback."""
    code, _, err = run(["-q", *argv], capsys)
    lines = err.splitlines()
    assert code == 2, err
    assert len(lines) == 1, err
    assert lines[0].startswith("analysis: error: "), err
    assert "Traceback" not in err
    return lines[0]


def nothing_processed(project: Path) -> None:
    """No processed release and no staging folder (the folder of run locks is not output)."""
    left = [p.name for p in (project / "data" / "processed").iterdir() if p.name != ".locks"]
    assert left == [], f"left behind: {left}"


def ingest_error(project: Path, folder: Path, capsys: pytest.CaptureFixture[str], *fragments: str) -> str:
    """Ingest `folder`, expect the one-line error holding every fragment; raw files unchanged, nothing written."""
    before = digests(folder) if folder.is_dir() else {}
    line = error_line(["ingest", str(folder)], capsys)
    for fragment in fragments:
        assert fragment in line, line
    nothing_processed(project)
    if folder.is_dir():
        assert digests(folder) == before
    return line


# ---------------------------------------------------------------- the cases


def test_release_directory_missing(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = project / "data" / "raw" / "nowhere"
    ingest_error(project, missing, capsys, str(missing), "release directory not found")


def test_release_id_not_found(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    line = error_line(["ingest", "nowhere"], capsys)
    assert "release 'nowhere' not found under" in line
    nothing_processed(project)


def test_release_directory_empty(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = release_dir(project)
    (folder / "README.md").write_text("notes, not data\n")
    ingest_error(project, folder, capsys, "data/raw/bad", "holds no data files")


def test_empty_file(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = release_dir(project)
    (folder / "arrests.csv").write_bytes(b"")
    ingest_error(project, folder, capsys, "arrests.csv: file is empty")


def test_blank_file(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = release_dir(project)
    (folder / "arrests.csv.gz").write_bytes(gzip.compress(b"\n\n  \n"))
    ingest_error(project, folder, capsys, "arrests.csv.gz: file is empty (no text after decompression)")


@pytest.mark.parametrize(
    ("content", "says"),
    [
        (b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4, "is a PNG image, neither a spreadsheet nor delimited text"),
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n", "is a PDF document, neither a spreadsheet nor delimited text"),
        (b"<html><body><table><tr><td>x</td></tr></table></body></html>", "is an HTML page"),
        (bytes(range(256)) * 8, "neither a spreadsheet nor delimited text (binary content)"),
        (b"just some words\nwithout any columns at all\n", "no recognisable header row"),
    ],
)
def test_neither_spreadsheet_nor_delimited_text(project: Path, capsys, content: bytes, says: str) -> None:
    folder = release_dir(project)
    (folder / "arrests.csv").write_bytes(content)
    ingest_error(project, folder, capsys, "arrests.csv", says)


def test_truncated_gzip_small(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = release_dir(project)
    whole = gzip.compress(arrests_text([ARREST_ROW] * 50).encode())
    (folder / "arrests.csv.gz").write_bytes(whole[: len(whole) // 2])
    ingest_error(project, folder, capsys, "arrests.csv.gz: truncated or corrupt gzip file")


def test_truncated_gzip_beyond_the_sniffed_start(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = release_dir(project)
    rows = [f"Seattle Area of Responsibility|10/1/2020|Located|COUNTRY {i}" for i in range(60_000)]
    whole = gzip.compress(arrests_text(rows).encode())
    (folder / "arrests.csv.gz").write_bytes(whole[: int(len(whole) * 0.8)])
    ingest_error(project, folder, capsys, "arrests.csv.gz: truncated or corrupt")


def test_corrupt_xlsx(project: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    good = write_workbook(tmp_path / "good.xlsx", {"Arrests FY2021": [BANNERS[:1], ARREST_HEADER.split("|"), ARREST_ROW.split("|")]})
    folder = release_dir(project)
    data = good.read_bytes()
    (folder / "arrests.xlsx").write_bytes(data[: len(data) // 2])
    ingest_error(project, folder, capsys, "arrests.xlsx: corrupt or truncated workbook")


def test_xlsx_with_damaged_sheet_xml(project: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    import zipfile

    good = write_workbook(tmp_path / "good.xlsx", {"Arrests FY2021": [ARREST_HEADER.split("|"), ARREST_ROW.split("|")]})
    folder = release_dir(project)
    with zipfile.ZipFile(good) as source, zipfile.ZipFile(folder / "arrests.xlsx", "w") as damaged:
        for info in source.infolist():
            data = source.read(info)
            if info.filename == "xl/worksheets/sheet1.xml":
                data = data[: len(data) // 2]
            damaged.writestr(info, data)
    line = ingest_error(project, folder, capsys, "arrests.xlsx")
    assert "sheet 'Arrests FY2021'" in line or "workbook" in line


def test_sheet_without_header_row(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = release_dir(project)
    numbers = [[1, 2, 3], [4, 5, 6], [7, 8, 9]]
    write_workbook(folder / "arrests.xlsx", {"FY2021": [["ERO Administrative Arrests"], *numbers]})
    ingest_error(project, folder, capsys, "arrests.xlsx, sheet 'FY2021': no recognisable header row")


def test_table_missing_its_date_column_is_kept_as_its_own_table(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Issue 11: a sheet named as a kind but without the column that dates that kind no longer
    aborts the release; it becomes its own table, and a warning says why."""
    folder = release_dir(project)
    (folder / "Detainers_FY2023.csv").write_text("Facility State,Facility AOR,Gender\nWA,Seattle,Male\n")
    (folder / "arrests.txt").write_text(arrests_text())
    code, out, err = run(["-q", "ingest", str(folder)], capsys)
    assert code == 0, err
    assert "arrests 1, detainers_unmatched 1" in out
    assert ("warning: Detainers_FY2023.csv: reads as detainers but has no column 'detainer_prepare_date' to date its "
            "records") in err and "kept as its own table 'detainers_unmatched'" in err


def test_rows_with_the_wrong_number_of_fields(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = release_dir(project)
    (folder / "arrests.txt").write_text(arrests_text([ARREST_ROW, "Seattle Area of Responsibility|10/2/2020|Located"]))
    ingest_error(project, folder, capsys, "arrests.txt, row 7: has 3 fields where the header has 4")


@pytest.mark.parametrize(
    ("release", "says"),
    [
        ("bad id!", "invalid release id 'bad id!'"),
        ("rel@x", "invalid release id 'rel@x'"),
        ("a..b", "invalid release id 'a..b'"),
        ("../x", "../x: release directory not found"),
    ],
)
def test_invalid_release_id(project: Path, capsys, monkeypatch: pytest.MonkeyPatch, release: str, says: str) -> None:
    monkeypatch.chdir(project)
    assert says in error_line(["ingest", release], capsys)
    nothing_processed(project)
    assert not (project.parent / "x").exists()


def test_release_yml_naming_a_path_is_refused(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = release_dir(project, "honest")
    (folder / "arrests.txt").write_text(arrests_text())
    for bad in ("../../escape", "/etc/evil", "a/b"):
        (folder / "release.yml").write_text(f"release: {bad}\n")
        ingest_error(project, folder, capsys, f"invalid release id {bad!r}")
        assert "escape" not in {p.name for p in project.parent.rglob("*")}
    (folder / "release.yml").write_text("release: [not, a, name]\n")
    ingest_error(project, folder, capsys, "invalid release id")


def test_release_yml_not_yaml(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = release_dir(project)
    (folder / "arrests.txt").write_text(arrests_text())
    (folder / "release.yml").write_text("release: [unclosed\n")
    ingest_error(project, folder, capsys, "release.yml: not valid YAML")


def test_progress_lines_then_one_error_line(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Without -q, progress lines come first; the error is still one line, the last, without traceback."""
    folder = release_dir(project)
    (folder / "a.csv").write_text(arrests_text())
    (folder / "b.csv").write_bytes(b"")
    code, _, err = run(["ingest", str(folder)], capsys)
    lines = err.splitlines()
    assert code == 2 and "Traceback" not in err
    assert [line for line in lines if line.startswith("analysis: error: ")] == [lines[-1]]
    assert lines[-1] == "analysis: error: b.csv: file is empty"
    assert all(line.endswith(" ...") or " done in " in line for line in lines[:-1])
    nothing_processed(project)


@pytest.mark.parametrize("argv", [["-q", "ingest", "{folder}"], ["ingest", "{folder}", "-q"]])
def test_quiet_before_or_after_the_command(project: Path, capsys: pytest.CaptureFixture[str], argv: list[str]) -> None:
    """`-q` works on either side of the command: no progress lines, the error alone."""
    folder = release_dir(project)
    (folder / "b.csv").write_bytes(b"")
    code, _, err = run([a.format(folder=folder) for a in argv], capsys)
    assert code == 2 and err.splitlines() == ["analysis: error: b.csv: file is empty"]


def test_unknown_option_after_the_command_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stopped:
        main(["report", "sample", "--bogus"])
    err = capsys.readouterr().err
    assert stopped.value.code == 2 and len(err.splitlines()) == 1 and "unrecognized arguments: --bogus" in err
