"""Text from a release is data, never markup (issue 12). One report on a hostile release (built
in tests/hostile_release.py: payloads in values, headers, sheet names and file names, aimed at a
planted local file and a local port) renders; every payload shows as text; nothing in any output
can run, embed or fetch anything; no byte of the planted file reaches an output; CSV cells and
header cells cannot run as formulas. The same checks run on the sample report (test_privacy) and
on the real release's processed data."""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pypandoc
import pytest
from bs4 import BeautifulSoup
from pypdf import PdfReader

from analysis.escaping import MARKDOWN_READER, check_document, csv_cell, csv_header, md_code, md_text, typst_safe
from tests.conftest import HostileReport
from tests.hostile_release import (
    MARKER,
    as_typed,
    embedded_payloads,
    formula_cells,
    html_problems,
    payloads,
)

pytestmark = pytest.mark.e2e

EVERY_OUTPUT_SUFFIX = {".pdf", ".html", ".csv", ".svg", ".png", ".ipynb", ".typ", ".txt", ".parquet"}


def output_files(hostile: HostileReport) -> list[Path]:
    files = [p for folder in (hostile.reports, hostile.exports) for p in folder.rglob("*") if p.is_file()]
    assert {p.suffix for p in files} >= {".pdf", ".html", ".csv", ".svg", ".png", ".ipynb"}
    return files


def test_the_hostile_report_renders(hostile_report: HostileReport) -> None:
    assert hostile_report.exit_codes == [0, 0, 0, 0, 0], hostile_report.terminal
    assert (hostile_report.reports / "report.pdf").stat().st_size > 10_000
    assert (hostile_report.reports / "report.html").stat().st_size > 10_000


def test_every_payload_appears_as_text_in_html_and_pdf(hostile_report: HostileReport) -> None:
    page = BeautifulSoup((hostile_report.reports / "report.html").read_text(encoding="utf-8"), "html.parser")
    html_text = as_typed(page.get_text(" "))
    pdf = PdfReader(hostile_report.reports / "report.pdf")
    pdf_text = re.sub(r"\s+", "", as_typed("".join(p.extract_text() or "" for p in pdf.pages)))
    for payload in hostile_report.payloads:
        assert payload in html_text, f"{payload!r} is not shown as text in the HTML report"
        assert re.sub(r"\s+", "", payload) in pdf_text, f"{payload!r} is not shown as text in the PDF report"


def test_html_holds_no_script_handler_or_outside_reference(hostile_report: HostileReport) -> None:
    page = (hostile_report.reports / "report.html").read_text(encoding="utf-8")
    assert html_problems(page) == []
    assert "<script" not in page.lower()


def test_no_request_was_made_to_an_address_the_data_names(hostile_report: HostileReport) -> None:
    assert hostile_report.connections == []


def test_no_byte_of_the_planted_file_in_any_output(hostile_report: HostileReport) -> None:
    planted = hostile_report.planted.read_bytes()
    encoded = base64.b64encode(planted)[:24]
    for path in output_files(hostile_report):
        data = path.read_bytes()
        assert MARKER.encode() not in data and encoded not in data, f"planted file in {path}"
        if path.suffix == ".html":
            assert all(MARKER.encode() not in blob for blob in embedded_payloads(data.decode("utf-8")))


def test_csv_cells_and_header_cells_are_never_formulas(hostile_report: HostileReport) -> None:
    tables = sorted((hostile_report.reports / "tables").glob("*.csv")) + sorted(hostile_report.exports.glob("*.csv"))
    assert len(tables) > 10
    for path in tables:
        assert formula_cells(path) == [], path.name
    types = next(p for p in tables if p.name.endswith("issued-types.csv")).read_text(encoding="utf-8").splitlines()[0]
    assert "'+cmd|' /C calc'!A0" in types and "'@SUM(1+1)" in types  # data as header cells, neutralised


def test_executed_notebooks_show_nothing_active(hostile_report: HostileReport) -> None:
    """What Jupyter would render from the executed notebooks: their HTML outputs, and their
    Markdown outputs read with raw HTML allowed, as Jupyter reads Markdown."""
    notebooks = sorted((hostile_report.reports / "notebooks").glob("*.ipynb"))
    assert len(notebooks) == 9
    for path in notebooks:
        for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]:
            for output in cell.get("outputs", []):
                data = output.get("data", {})
                if "text/html" in data:
                    assert html_problems("".join(data["text/html"])) == [], path.name
                if "text/markdown" in data:
                    rendered = pypandoc.convert_text("".join(data["text/markdown"]), "html", format="markdown")
                    assert html_problems(rendered) == [] and "<img" not in rendered, path.name


def test_figure_files_are_named_by_the_package(hostile_report: HostileReport) -> None:
    for folder in ("figures", "tables"):
        for path in (hostile_report.reports / folder).iterdir():
            assert re.fullmatch(r"(fig|tab)\d{2}-[A-Za-z0-9_-]+\.(svg|png|csv)", path.name), path.name


# ---------------------------------------------------------------- the escaping rules themselves


CORPUS = [*payloads(Path("/tmp/planted")), "\\", "***b***", "~~s~~", "x^2^", "<!-- c -->", "&lt;&amp;", "{.class}",
          "[^1]", "^[note]", "(@)", "1. one", "a) x", "iv. x", "> quote", "/ term: x", "+ y", "== z", "`code`",
          "St. Paul", "O'Brien", "line\nbreak", "tab\there", "| pipe |", "---", ":::", "%title", "\u2028separated"]


def parsed(markdown: str) -> dict:
    return json.loads(pypandoc.convert_text(markdown, "json", format=MARKDOWN_READER))


def stringify(inlines: list) -> str:
    """The text of inline elements: what a reader sees."""
    parts = []
    for item in inlines:
        if item["t"] == "Str":
            parts.append(item["c"])
        elif item["t"] == "Space":
            parts.append(" ")
        elif item["t"] == "Quoted":
            mark = "'" if item["c"][0]["t"] == "SingleQuote" else '"'
            parts.append(mark + stringify(item["c"][1]) + mark)
        else:
            raise AssertionError(f"not text: {item['t']}")
    return "".join(parts)


def walk_nodes(item: object, visit: Callable[[dict], bool]) -> None:
    """Call `visit` on every pandoc node under `item`; a node for which it returns True is not descended into."""
    if isinstance(item, dict):
        if "t" in item and visit(item):
            return
        for value in item.values():
            walk_nodes(value, visit)
    elif isinstance(item, list):
        for value in item:
            walk_nodes(value, visit)


def shown_texts(document: dict) -> list[str]:
    """The text of every paragraph, plain block (table cells, list items) and heading."""
    texts: list[str] = []

    def visit(node: dict) -> bool:
        if node["t"] in ("Para", "Plain"):
            texts.append(stringify(node["c"]))
            return True
        if node["t"] == "Header":
            texts.append(stringify(node["c"][2]))
            return True
        return False

    walk_nodes(document["blocks"], visit)
    return texts


def inline_kinds(document: dict) -> set[str]:
    kinds: set[str] = set()
    walk_nodes(document["blocks"], lambda node: kinds.add(node["t"]) or False)
    return kinds


def test_md_text_is_read_as_text_in_prose_cells_lists_and_headings() -> None:
    cells = "\n".join(f"| {md_text(text)} | x |" for text in CORPUS)
    markdown = ("\n\n".join(md_text(text) for text in CORPUS) + "\n\n| h | i |\n|:--|--:|\n" + cells + "\n\n"
                + "\n".join(f"- {md_text(text)}" for text in CORPUS) + "\n\n"
                + "\n\n".join(f"## {md_text(text)}" for text in CORPUS))
    document = parsed(markdown)
    assert inline_kinds(document) <= {"Para", "Plain", "Str", "Space", "Quoted", "SingleQuote", "DoubleQuote", "Table",
                                      "AlignLeft", "AlignRight", "AlignDefault", "ColWidthDefault", "BulletList",
                                      "Header"}
    check_document(document, [])
    shown = [as_typed(text) for text in shown_texts(document)]
    for text in CORPUS:
        expected = as_typed(re.sub(r"[\s\u2028]+", " ", text).strip())
        assert shown.count(expected) == 4, f"{text!r} not shown as typed: {shown.count(expected)}"


def test_typst_sees_text_at_the_start_of_cells_items_and_headings(tmp_path: Path) -> None:
    import typst

    starts = ["= heading", "- item", "+ item", "1. item", "/ term: x", "#read(\"x\")", "@ref", "$x$", "<label>"]
    markdown = ("| h |\n|:--|\n" + "\n".join(f"| {md_text(t)} |" for t in starts) + "\n\n"
                + "\n".join(f"- {md_text(t)}" for t in starts) + "\n\n" + "\n\n".join(f"## {md_text(t)}" for t in starts))
    body = pypandoc.convert_text(json.dumps(typst_safe(parsed(markdown))), "typst", format="json")
    (tmp_path / "t.typ").write_text(body, encoding="utf-8")
    typst.compile(str(tmp_path / "t.typ"), output=str(tmp_path / "t.pdf"), root=str(tmp_path))
    text = as_typed("\n".join(page.extract_text() for page in PdfReader(tmp_path / "t.pdf").pages))
    for start in starts:
        assert text.count(start) == 3, (start, text)


def test_the_document_check_refuses_what_escaping_would_have_stopped() -> None:
    from analysis.errors import ReportError

    for markdown, says in [("![x](/etc/passwd)", "an image the package did not write"),
                           ("[x](javascript:alert(1))", "a link to 'javascript"),
                           ("[x]{onclick=alert(1)}", "an attribute 'onclick'"),
                           ("`x`{=html}", "raw markup")]:
        document = json.loads(pypandoc.convert_text(markdown, "json", format="markdown"))
        with pytest.raises(ReportError, match=re.escape(says)):
            check_document(document, ["figures/fig01-x.svg"])
    check_document(parsed("![Figure 1](figures/fig01-x.svg){width=100%} [w](https://example.org)"), ["figures/fig01-x.svg"])


def test_md_code_fences_any_backticks() -> None:
    for text in ["plain", "a`b", "``x", "data/raw/<img src=x onerror=1>"]:
        code = [n for n in parsed(md_code(text))["blocks"][0]["c"] if n["t"] == "Code"]
        assert code and code[0]["c"][1] == text


def test_csv_rule_covers_header_cells() -> None:
    assert csv_header(["=cmd", "Total", 2021]) == ["'=cmd", "Total", "2021"]
    assert csv_cell("@SUM(1)") == "'@SUM(1)" and csv_cell(-3) == -3


# ---------------------------------------------------------------- the real release


@pytest.mark.real
def test_every_text_of_the_real_release_is_shown_as_it_is(real_project: Path) -> None:
    """Every distinct text value of the real release's processed tables, its header spellings and
    file names, through md_text, comes out of pandoc as the same text: nothing in real data is
    read as markup (quotes set typographically aside)."""
    from analysis.reading.manifest import read_manifest

    processed = real_project / "data" / "processed" / "ice-lesa-2019-ICFO-53623-fy2016-2017"
    manifest = read_manifest(processed)
    texts = {f["path"] for f in manifest["files"]} | {t for s in manifest["sheets"] for t in s["columns"]}
    for table in manifest["tables"]:
        data = pq.read_table(processed / f"{table}.parquet")
        for name in data.column_names:
            if pa.types.is_string(data.schema.field(name).type):
                texts |= set(data.column(name).unique().drop_null().to_pylist()[:3000])
    texts = sorted(t for t in texts if t.strip())
    assert len(texts) > 1000
    cells = "\n".join(f"| {md_text(t)} |" for t in texts)
    document = parsed("| value |\n|:--|\n" + cells)
    check_document(document, [])
    shown = {as_typed(text) for text in shown_texts(document)}
    missing = [t for t in texts if as_typed(" ".join(t.split())) not in shown]
    assert missing == []


@pytest.mark.parametrize("url", ["javascript:alert(1)", "file:///etc/passwd", "https://x.org/a b", "<https://x>"])
def test_a_claim_source_must_be_a_web_address(url: str) -> None:
    from analysis.checks.claims import ClaimError, parse_claim

    source = {"publisher": "Test", "date": "2020-01-01", "title": "A report", "url": url}
    entry = {"id": "c", "claim": "A figure.", "published": 0, "comparison": "exact", "measure": "not computable",
             "reason": "test"}
    with pytest.raises(ClaimError, match="is not a web address"):
        parse_claim(entry, source, "claims.yml", 1)
