"""End to end: the README's path from a fresh project to a PDF, on a small sample."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import nbformat
import pytest
from pypdf import PdfReader

from analysis.cli import main

from .conftest import make_project, project_env

pytestmark = pytest.mark.e2e
FIXED_DAY = "1767225600"  # 2026-01-01, so both determinism runs share the run date


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = make_project(tmp_path_factory.mktemp("e2e"))
    with project_env(root), pytest.MonkeyPatch.context() as patch:
        patch.setenv("SOURCE_DATE_EPOCH", FIXED_DAY)
        assert main(["-q", "sample", "--rows", "1500"]) == 0
        assert main(["-q", "report", "sample"]) == 0
    return root


def _pdf_pages(path: Path) -> list[str]:
    return [page.extract_text() or "" for page in PdfReader(str(path)).pages]


def test_pdf_marks_synthetic_data_on_every_page(rendered: Path) -> None:
    pages = _pdf_pages(rendered / "reports/sample/report.pdf")
    assert len(pages) >= 3
    for number, text in enumerate(pages, start=1):
        assert "SYNTHETIC" in text, f"page {number} does not say SYNTHETIC"


def test_pdf_has_title_block_sections_and_numbered_captions(rendered: Path) -> None:
    text = "\n".join(_pdf_pages(rendered / "reports/sample/report.pdf"))
    for expected in ("ICE detainers and enforcement", "Release", "sample", "2026-ICFO-99999", "Release overview",
                     "Figure 1.", "Table 1.", "Source: ICE release sample", "Contents"):
        assert expected in text, expected
    assert "import " not in text and "ctx." not in text  # code hidden


def test_outputs_beside_the_pdf(rendered: Path) -> None:
    out = rendered / "reports/sample"
    assert (out / "report.html").is_file()
    html = (out / "report.html").read_text()
    assert "SYNTHETIC DATA" in html
    assert "data:image/svg+xml" in html or "<svg" in html  # figures embedded
    assert not re.search(r'(src|href)="(?!data:|#|https?://)', html), "self-contained: no local file references"
    assert not re.search(r'<(img|script|link)[^>]+(src|href)="https?://', html), "nothing fetched when opened"
    figures = sorted(p.name for p in (out / "figures").iterdir())
    assert any(n.endswith(".svg") for n in figures) and any(n.endswith(".png") for n in figures)
    assert any(p.suffix == ".csv" for p in (out / "tables").iterdir())
    executed = nbformat.read(out / "notebooks/01_release_overview.ipynb", as_version=4)
    assert any(c.get("outputs") for c in executed.cells if c.cell_type == "code")


def test_every_figure_has_alt_text_in_the_html_and_the_tagged_pdf(rendered: Path) -> None:
    from bs4 import BeautifulSoup

    from .test_alt_text import _figure_alts, tagging

    out = rendered / "reports/sample"
    page = BeautifulSoup((out / "report.html").read_text(encoding="utf-8"), "html.parser")
    figures = page.find_all("figure")
    assert len(figures) == len(list((out / "figures").glob("*.svg"))) >= 10
    alts = []
    for figure in figures:
        text, caption = figure.find("img").get("alt", ""), figure.find("figcaption").get_text(" ", strip=True)
        assert text.strip() and text != caption and not caption.endswith(text), caption
        assert re.search(r"\d", text), f"no number in the alt text of {caption!r}: {text!r}"
        alts.append(text)
    assert _figure_alts(out / "report.pdf") == alts  # the same text, figure by figure, in the PDF's structure
    assert tagging(out / "report.pdf") == {"marked": True, "structure": True, "language": "en", "pdf_ua": True}


def test_codebook_beside_the_report_and_in_its_appendix(rendered: Path) -> None:
    import csv

    out = rendered / "reports/sample"
    with (out / "codebook.csv").open(encoding="utf-8", newline="") as handle:
        rows = {(r["Table"], r["Column"]): r for r in csv.DictReader(handle)}
    assert rows[("detainers", "anonymized_identifier")]["Values"].endswith("not shown (identifier)")
    assert rows[("detainers", "detainer_prepare_date")]["Type"] == "date"
    assert rows[("detainers", "criminality")]["Values"].startswith("3 distinct values: ")
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "Codebook of the detainers table" in html and "Codebook of the arrests table" in html


def _digest_tree(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file() and "notebooks" not in p.parts}


def test_second_run_is_byte_identical(rendered: Path, tmp_path: Path) -> None:
    before = {**_digest_tree(rendered / "reports/sample"), **_digest_tree(rendered / "data/processed/sample")}
    with project_env(rendered), pytest.MonkeyPatch.context() as patch:
        patch.setenv("SOURCE_DATE_EPOCH", FIXED_DAY)
        assert main(["-q", "report", "sample", "--force"]) == 0
    after = {**_digest_tree(rendered / "reports/sample"), **_digest_tree(rendered / "data/processed/sample")}
    assert before == after


def test_broken_notebook_fails_clearly_and_keeps_previous_report(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    root = make_project(tmp_path / "p")
    for extra in (root / "notebooks").glob("*.ipynb"):
        if not extra.name.startswith("01_"):
            extra.unlink()
    with project_env(root):
        assert main(["-q", "sample", "--rows", "300"]) == 0
        assert main(["-q", "report", "sample"]) == 0
        pdf = (root / "reports/sample/report.pdf").read_bytes()
        broken = nbformat.v4.new_notebook()
        broken.metadata["kernelspec"] = {"name": "ice-detainers", "display_name": "Python (ICE detainers)", "language": "python"}
        broken.cells = [nbformat.v4.new_markdown_cell("# Broken"), nbformat.v4.new_code_cell("x = 1"),
                        nbformat.v4.new_code_cell("raise ValueError('planted failure')")]
        nbformat.write(broken, root / "notebooks/99_broken.ipynb")
        capsys.readouterr()
        assert main(["-q", "report", "sample"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert "99_broken.ipynb" in err[0] and "code cell 2 (`raise ValueError('planted failure')`)" in err[0] and "ValueError: planted failure" in err[0]
    assert "Traceback" not in err[0]
    assert (root / "reports/sample/failed/99_broken.ipynb").is_file()
    assert (root / "reports/sample/report.pdf").read_bytes() == pdf
    assert (root / "reports/sample/FAILED.txt").is_file()
    assert not [p for p in (root / "reports/sample").iterdir() if p.name.startswith(".build")]


def test_state_report_is_named_and_titled_for_its_state(rendered: Path) -> None:
    with project_env(rendered), pytest.MonkeyPatch.context() as patch:
        patch.setenv("SOURCE_DATE_EPOCH", FIXED_DAY)
        assert main(["-q", "report", "sample", "--state", "CA"]) == 0
    pdf = rendered / "reports/sample/report-CA.pdf"
    text = "\n".join(_pdf_pages(pdf))
    assert "California (CA)" in text
    assert (rendered / "reports/sample/report.pdf").is_file()  # the national report is still there
    assert (rendered / "reports/sample/figures-CA").is_dir()


@pytest.mark.real
def test_real_release_report(real_release_dir: Path, tmp_path: Path) -> None:
    root = make_project(tmp_path / "real")
    with project_env(root):
        assert main(["-q", "report", str(real_release_dir)]) == 0
    pages = _pdf_pages(root / "reports/ice-lesa-2019-ICFO-53623-fy2016-2017/report.pdf")
    text = "\n".join(pages)
    assert not any("SYNTHETIC" in page for page in pages)
    for expected in ("2019-ICFO-53623", "Key findings", "Release overview", "Enforcement context", "Published claims",
                     "Appendix", "110,104", "143,470", "240,255", "226,119", "45,099", "72,502",
                     "This release has no detainers table"):
        assert expected in text, expected
    assert "Execution using papermill" not in text and "An Exception was encountered" not in text
