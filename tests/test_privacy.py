"""Privacy of published outputs: a full report on the sample holds no anonymized identifier
and no row-level record anywhere under reports/ (PDF text, HTML, SVG, CSV, executed
notebooks), and `--min-cell` suppression reaches every count in every published table.

Identifiers under any name (issue 12): every spelling ICE uses, and a column recognisable only
by the shape of its values, is kept out of the report, `analysis diff`, `analysis export` and
the terminal, even with few distinct values (where it would pass for a category)."""

from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from bs4 import BeautifulSoup
from pypdf import PdfReader

from analysis.cli import main
from tests.conftest import HostileReport
from tests.hostile_release import IDENTIFIER_VALUE, embedded_payloads, html_problems

pytestmark = pytest.mark.e2e

TEXT_SUFFIXES = {".html", ".svg", ".csv", ".ipynb", ".md", ".txt", ".json", ".typ", ".css"}
ISO_DATE = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")
US_DATE = re.compile(r"\b(\d{1,2})/(\d{1,2})/(\d{4})\b")
YEAR = re.compile(r"\b(19\d{2}|20\d{2})\b")
# Columns whose whole numbers are not counts of records: days, quantiles, sizes, versions, ranks...
# (years and dates need no exclusion: they are never a whole number from 1 to 10)
NOT_COUNTS = re.compile(
    r"(?i)quartile|pct|percent|median|mean|average|\bdays\b|rate|share|\bper\b|version|value|parameter|code|"
    r"bytes|sha|column|spelling|month|rank|\bage\b"
)
SMALL_CELL_MARK = re.compile(r"^<\d+$")


def report_of_sample(project: Path, *options: str) -> Path:
    assert main(["-q", "sample", "--rows", "2000"]) == 0
    assert main(["-q", "report", "sample", *options]) == 0
    return project / "reports" / "sample"


def output_texts(reports: Path) -> dict[Path, str]:
    """The text of every file under reports/: PDFs through their extracted text."""
    texts = {}
    for path in sorted(p for p in reports.rglob("*") if p.is_file()):
        if path.suffix == ".pdf":
            texts[path] = "\n".join(page.extract_text() or "" for page in PdfReader(path).pages)
        elif path.suffix in TEXT_SUFFIXES:
            texts[path] = path.read_text(encoding="utf-8", errors="replace")
    return texts


def lines_of(text: str) -> list[str]:
    """Lines, with HTML/SVG table rows and JSON string breaks counted as line ends too."""
    return re.split(r"\n|\\n|</tr>|</text>", text)


def dates_in(line: str) -> set[str]:
    found = {f"{y}-{m}-{d}" for y, m, d in ISO_DATE.findall(line)}
    found |= {f"{y}-{int(m):02d}-{int(d):02d}" for m, d, y in US_DATE.findall(line)}
    return found


def test_no_identifier_or_record_in_any_published_output(project: Path) -> None:
    reports = report_of_sample(project)
    processed = project / "data" / "processed" / "sample"
    identifiers: set[str] = set()
    for table in ("detainers", "arrests"):
        values = pq.read_table(processed / f"{table}.parquet", columns=["anonymized_identifier"]).column(0)
        identifiers |= {v for v in values.to_pylist() if v}
    assert len(identifiers) > 1000
    shape = re.compile(r"SYN-A?\d{6,7}")
    assert all(shape.fullmatch(i) for i in identifiers)

    detainers = pq.read_table(processed / "detainers.parquet",
                              columns=["facility", "detainer_prepare_date", "birth_year"]).to_pylist()
    records: dict[str, set[tuple[str, str]]] = defaultdict(set)
    for row in detainers:
        if row["facility"] and row["detainer_prepare_date"] and row["birth_year"]:
            records[row["facility"]].add((row["detainer_prepare_date"].isoformat(), str(row["birth_year"])))

    page = (reports / "report.html").read_text(encoding="utf-8")
    assert html_problems(page) == [] and len(embedded_payloads(page)) >= 10  # inert; figures embedded
    texts = output_texts(reports)
    assert any(p.suffix == ".pdf" for p in texts) and any(p.suffix == ".ipynb" for p in texts)
    assert any(p.suffix == ".svg" for p in texts) and any(p.suffix == ".csv" for p in texts)
    for path, text in texts.items():
        leaked = set(shape.findall(text)) & identifiers
        assert not leaked, f"anonymized identifier(s) {sorted(leaked)[:3]} in {path.relative_to(project)}"
        for line in lines_of(text):
            facilities = [f for f in records if f in line]
            if not facilities:
                continue
            years = set(YEAR.findall(line))
            for facility in facilities:
                triples = {(d, y) for d in dates_in(line) for y in years} & records[facility]
                assert not triples, (f"a record (facility, prepare date, birth year) {facility}, {sorted(triples)[0]} "
                                     f"in {path.relative_to(project)}")


def published_tables(reports: Path) -> dict[str, list[list[str]]]:
    """Every table of the report: the CSV files, and the tables of the HTML page."""
    import csv

    tables = {}
    for path in sorted((reports / "tables").glob("*.csv")):
        with path.open(encoding="utf-8", newline="") as handle:
            tables[path.name] = list(csv.reader(handle))
    page = BeautifulSoup((reports / "report.html").read_text(encoding="utf-8"), "html.parser")
    for number, table in enumerate(page.find_all("table"), start=1):
        rows = [[cell.get_text(" ", strip=True) for cell in row.find_all(["th", "td"])] for row in table.find_all("tr")]
        tables[f"report.html table {number}"] = rows
    return tables


def count_columns(rows: list[list[str]]) -> list[int]:
    """Columns that hold counts: named as such, and every cell a whole number or a suppression mark."""
    if len(rows) < 2:
        return []
    header, body = rows[0], rows[1:]
    found = []
    for index, name in enumerate(header):
        cells = [row[index] for row in body if index < len(row) and row[index] not in ("", "–")]
        if not cells or NOT_COUNTS.search(name) or index == 0:
            continue
        if all(re.fullmatch(r"\d{1,3}(,\d{3})*", c) or SMALL_CELL_MARK.match(c) for c in cells):
            found.append(index)
    return found


def test_min_cell_suppression_reaches_every_published_count(project: Path) -> None:
    reports = report_of_sample(project, "--min-cell", "11")
    tables = published_tables(reports)
    assert sum(name.endswith(".csv") for name in tables) >= 5 and any(name.startswith("report.html") for name in tables)
    checked, marks = 0, 0
    for name, rows in tables.items():
        for index in count_columns(rows):
            for row in rows[1:]:
                cell = row[index] if index < len(row) else ""
                marks += bool(SMALL_CELL_MARK.match(cell))
                if re.fullmatch(r"\d{1,3}(,\d{3})*", cell):
                    checked += 1
                    value = int(cell.replace(",", ""))
                    assert not 1 <= value <= 10, f"{name}: count {value} in column {rows[0][index]!r} (min_cell 11)"
                else:
                    assert cell in ("", "–", "<11"), f"{name}: {cell!r} in count column {rows[0][index]!r}"
    assert checked > 100 and marks > 0  # the check saw real tables, and suppression happened


def test_a_table_with_a_total_publishes_no_suppressed_count_that_its_row_gives_away(monkeypatch) -> None:
    import io

    import pandas as pd

    from analysis.metrics import enforcement as em
    from analysis.report import context
    from analysis.report.outputs import OUTPUT_KEY
    from tests.fakes import FakeContext

    published: list[dict] = []
    monkeypatch.setattr(context, "display", lambda data, raw, metadata: published.append(metadata[OUTPUT_KEY]))
    arrests = pd.DataFrame({"fiscal_year": [2016] * 3 + [2017] * 40 + [2016] * 25 + [2017] * 60,
                            "apprehension_method": ["CAP"] * 43 + ["287(g) Program"] * 85})
    table = em.category_table(arrests, "apprehension_method", top=5)
    FakeContext({"arrests": ["apprehension_method"]}, min_cell=10).show_table(
        table, name="t", caption="t", table="arrests", counts=["FY2016", "FY2017", "Total"], total="Total")
    shown = pd.read_csv(io.StringIO(published[0]["csv"]), dtype=str).set_index("category")
    values = table.set_index("category")
    assert shown.loc["CAP", "FY2016"] == "<10"
    for category, row in shown.iterrows():
        hidden = [c for c in ("FY2016", "FY2017") if not row[c].replace(",", "").isdigit()]
        if hidden and row["Total"].replace(",", "").isdigit():
            rest = int(row["Total"].replace(",", "")) - sum(int(row[c].replace(",", "")) for c in ("FY2016", "FY2017")
                                                             if c not in hidden)
            assert all(values.loc[category, c] != rest for c in hidden)


# ---------------------------------------------------------------- identifiers under any name


ICE_SPELLINGS = ["Anonymized Identifier", "Anonymized Unique Identifier", "Unique Identifier", "EID Subject ID",
                 "EID Case ID", "Alien File Number", "Event Number"]
VARIANTS = ["A-Number", "A Number", "Subject ID", "Anonymized ID", "Booking Number", "Person Identifier"]


def identifier_release(folder: Path, header: str, tag: str) -> None:
    """Arrests with one identifier column of three distinct values, which look like a category."""
    from tests.test_bad_input import BANNERS

    rows = [f"Seattle Area of Responsibility|10/{day}/2020|Located|MEXICO|SECRETID{tag}{day % 3}" for day in range(1, 29)]
    folder.mkdir(parents=True)
    (folder / "arrests.txt").write_text("\n".join([*BANNERS, f"Area of Responsibility|Apprehension Date|"
                                                    f"Apprehension Method|Citizenship|{header}", *rows]) + "\n")


@pytest.mark.parametrize("header", ICE_SPELLINGS + VARIANTS)
def test_an_identifier_under_any_name_stays_out_of_diff_export_and_terminal(
        project: Path, capsys: pytest.CaptureFixture[str], header: str) -> None:
    from analysis.reading.manifest import identifier_columns, read_manifest

    identifier_release(project / "data" / "raw" / "old", header, "OLD")
    identifier_release(project / "data" / "raw" / "new", header, "NEW")
    assert main(["ingest", "old"]) == 0 and main(["ingest", "new"]) == 0
    hidden = identifier_columns(read_manifest(project / "data" / "processed" / "new")["tables"]["arrests"])
    assert len(hidden) == 1, f"{header!r} is not recognised as an identifier"
    assert main(["diff", "new", "old"]) == 0
    assert main(["export", "new", "--format", "csv"]) == 0
    assert main(["export", "new", "--format", "dta", "--out", str(project / "stata")]) == 0
    terminal = "".join(capsys.readouterr())
    exported = [(project / "data" / "exports" / "new" / "arrests.csv").read_text(), (project / "stata" / "arrests.dta").read_bytes().decode("latin-1")]
    for text in [terminal, *exported]:
        assert "SECRETID" not in text
    assert hidden.pop() in terminal  # named as left out, never shown


def test_an_identifier_known_only_by_its_shape_is_found(project: Path) -> None:
    from analysis.reading.manifest import read_manifest
    from analysis.vocab.columns import looks_like_identifiers

    folder = project / "data" / "raw" / "shape"
    identifier_release(folder, "Booking Ref", "X")
    rows = [f"Seattle Area of Responsibility|10/1/2020|Located|MEXICO|BK-{n:08d}" for n in range(150)]
    (folder / "more.txt").write_text((folder / "arrests.txt").read_text().replace("SECRETIDX", "BK-0") + "\n".join(rows) + "\n")
    (folder / "arrests.txt").unlink()
    assert main(["-q", "ingest", "shape"]) == 0
    columns = read_manifest(project / "data" / "processed" / "shape")["tables"]["arrests"]["columns"]
    assert columns["booking_ref"]["identifier"] == "shape"
    assert "identifier" not in columns["citizenship"] and "identifier" not in columns["apprehension_date"]
    # what is not an identifier, however many values: names, charge sections, dates, facility codes
    assert not looks_like_identifiers([f"COUNTY JAIL {n}" for n in range(500)])
    assert not looks_like_identifiers([f"237a2A{n % 150}" for n in range(5000)])
    assert not looks_like_identifiers([f"2021-10-{n % 28 + 1:02d}" for n in range(200)])
    assert looks_like_identifiers([f"A{n:09d}" for n in range(200)])


def test_no_identifier_of_the_hostile_release_in_any_output(hostile_report: HostileReport) -> None:
    """Every spelling, and the shape-only column, with few distinct values: not in the report (PDF
    text, HTML, CSV, SVG, executed notebooks), the export, or what `ingest`, `report`, `diff` and
    `export` printed."""
    assert hostile_report.exit_codes == [0, 0, 0, 0, 0], hostile_report.terminal
    texts = output_texts(hostile_report.reports)
    texts |= {p: p.read_text(encoding="utf-8") for p in hostile_report.exports.glob("*") if p.is_file()}
    texts[Path("terminal")] = hostile_report.terminal
    assert len(texts) > 40
    for path, text in texts.items():
        leaked = IDENTIFIER_VALUE.findall(text)
        assert not leaked, f"identifier(s) {leaked[:3]} in {path}"
    left_out = (hostile_report.exports / "README.txt").read_text()
    for column in ("anonymized_identifier", "eid_subject_id", "eid_case_id", "alien_file_number", "event_number",
                   "booking_ref"):
        assert column in left_out


@pytest.mark.real
def test_the_real_release_has_no_column_mistaken_for_identifiers(real_project: Path) -> None:
    """The real release names no identifier, and none of its columns (landmarks, charge sections,
    dispositions, dates) has the shape of one: the shape rule finds nothing false there."""
    from analysis.reading.manifest import identifier_columns, read_manifest

    manifest = read_manifest(real_project / "data" / "processed" / "ice-lesa-2019-ICFO-53623-fy2016-2017")
    assert {name: identifier_columns(info) for name, info in manifest["tables"].items()} == {
        name: set() for name in manifest["tables"]}
