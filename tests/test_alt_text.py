"""Alt text: every chart function attaches one, made of the finding its title states and a
sentence with what it shows and its key numbers; counts in it follow the small-cell rule; the
report requires it for every figure and carries it, as text, into the HTML (`alt`) and the
tagged PDF/UA file (each figure's /Alt)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from pypdf import PdfReader
from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject

from analysis.figures import alt, style
from analysis.report.build import Assembly, parse_report, render_html, render_pdf
from analysis.report.context import ReportContext
from analysis.report.outputs import OUTPUT_KEY
from analysis.words import count as format_count

from .chart_cases import CHARTS

HOSTILE = 'Rose to 1,234 "quoted" \\ back <script>alert(1)</script> #read("/etc/passwd") *x* @cite $y$ ![i](p)'
META = {"title": "ICE detainers and enforcement", "subtitle": "What release test shows", "release": "test",
        "foia": "2026-ICFO-99999", "source_title": "Test", "period": "2021-10-01 to 2022-09-30", "as_of": "2022",
        "geography": "United States (all states)", "years": "all in the release", "declined": "strict",
        "run_date": "2026-01-01", "synthetic": "false"}


@pytest.mark.parametrize("case", sorted(CHARTS))
def test_every_chart_function_attaches_its_finding_and_key_numbers(case: str) -> None:
    fig, title = CHARTS[case]()
    text = alt.alt_of(fig).text(format_count)
    finding, _, description = text.partition(". ")
    assert finding == title.rstrip(".")
    assert re.search(r"\d", description), f"{case}: no number in {description!r}"
    assert len(description) > 40 and text.count(". ") <= 1  # the title and one more sentence


def test_counts_in_alt_text_follow_min_cell() -> None:
    fig, _title = CHARTS["fiscal_year_bars"]()  # values 40, 52, 3 and 60, 71, 9
    text = alt.alt_of(fig).text(lambda value: format_count(value, 10))
    assert "FY2023 (partial) <10" in text and "FY2022 52" in text
    assert not re.search(r"\b[39]\b", text)


def test_drawn_bars_are_described_as_drawn_with_partial_years() -> None:
    fig, ax = style.new_figure("The detainers table is the largest: 1,500 records", subtitle="Records")
    for i, (table, heights) in enumerate({"arrests": [700, 300], "detainers": [1000, 500]}.items()):
        bars = ax.bar([x + 0.4 * i for x in range(2)], heights, width=0.4, label=table, color=style.PALETTE[i])
        style.mark_partial_bars(ax, bars, [False, True])
    ax.set_xticks([0.2, 1.2], ["FY2021", "FY2022"])
    alt.drawn_bars(fig, "Records per table and fiscal year")
    assert alt.alt_of(fig).text(format_count) == (
        "The detainers table is the largest: 1,500 records. Records per table and fiscal year: arrests: FY2021 700, "
        "FY2022 (partial) 300; detainers: FY2021 1,000, FY2022 (partial) 500.")


def test_a_figure_without_alt_text_is_refused(sample_project: Path) -> None:
    ctx = ReportContext.from_parameters(release="sample", min_cell=5)
    fig, _title = CHARTS["ranked_bars"]()
    assert ctx.alt(fig).endswith("down to Seattle with <5.")
    bare, _ax = style.new_figure("A title", subtitle="A subtitle")
    with pytest.raises(ValueError, match="no alt text"):
        ctx.alt(bare)
    with pytest.raises(TypeError):
        ctx.show_figure(fig, name="x", caption="Detainers", table="detainers")  # type: ignore[call-arg]
    with pytest.raises(ValueError, match="not its caption"):
        ctx.show_figure(fig, name="x", caption="Detainers", table="detainers", alt="Detainers")


def _figure_alts(pdf: Path) -> list[str]:
    """The /Alt of every /Figure element of the PDF's structure tree, in document order."""
    found: list[str] = []

    def walk(node) -> None:
        node = node.get_object()
        if not isinstance(node, DictionaryObject):
            return
        if node.get("/S") == "/Figure":
            found.append(str(node.get("/Alt", "")))
        kids = node.get("/K")
        for kid in kids if isinstance(kids, ArrayObject) else [kids]:
            if isinstance(kid, IndirectObject | DictionaryObject):
                walk(kid)

    walk(PdfReader(pdf).trailer["/Root"]["/StructTreeRoot"])
    return found


def tagging(pdf: Path) -> dict[str, object]:
    """What makes the PDF accessible: marked content, a structure tree, a language, PDF/UA-1."""
    root = PdfReader(pdf).trailer["/Root"]
    metadata = root["/Metadata"].get_object().get_data().decode("utf-8")
    return {"marked": bool(root.get("/MarkInfo", {}).get("/Marked")), "structure": "/StructTreeRoot" in root,
            "language": root.get("/Lang"), "pdf_ua": bool(re.search(r"pdfuaid:part[^>]*>\s*1\s*<|pdfuaid:part=\"1\"",
                                                                     metadata))}


def test_alt_text_reaches_html_and_the_tagged_pdf_as_literal_text(tmp_path: Path) -> None:
    fig, _title = CHARTS["fiscal_year_bars"]()
    svg, png = style.render(fig)
    import base64

    assembly = Assembly(tmp_path, "")
    assembly.output({"output_type": "display_data",
                     "data": {"image/svg+xml": svg.decode(), "image/png": base64.b64encode(png).decode()},
                     "metadata": {OUTPUT_KEY: {"kind": "figure", "name": "test", "caption": "Declined detainers",
                                               "source": "ICE release test", "alt": HOSTILE}}})
    document = parse_report("# Section\n\n" + assembly.markdown(), list(assembly.alt_texts))
    page = BeautifulSoup(render_html(document, META, tmp_path), "html.parser")
    assert [img["alt"] for img in page.find_all("img")] == [HOSTILE]
    assert page.find("script") is None
    pdf = tmp_path / "report.pdf"
    pdf.write_bytes(render_pdf(document, META, tmp_path, assembly.alt_texts))
    assert _figure_alts(pdf) == [HOSTILE]
    assert tagging(pdf) == {"marked": True, "structure": True, "language": "en", "pdf_ua": True}

