"""Notebooks 04 (repeat detainers) and 05 (enforcement context) run with papermill, as the
report runs them, on the synthetic sample and on the real release (which has no detainers)."""

from __future__ import annotations

from pathlib import Path

import pytest

from analysis.report.build import Assembly, ensure_kernel, execute
from analysis.report.context import OUTPUT_KEY
from analysis.report.parameters import ReportParameters

REAL_RELEASE_ID = "ice-lesa-2019-ICFO-53623-fy2016-2017"
REPEAT = "04_repeat_detainers.ipynb"
CONTEXT = "05_enforcement_context.ipynb"


def run(root: Path, notebook: str, tmp_path: Path, **params) -> tuple[list[dict], str]:
    """Execute one notebook of the project; its report outputs (figure/table metadata) and prose."""
    ensure_kernel()
    target = tmp_path / notebook
    nb = execute(root / "notebooks" / notebook, target, ReportParameters(**params), tmp_path / "failed")
    outputs = [o for cell in nb.cells for o in cell.get("outputs", [])]
    errors = [o for o in outputs if o.get("output_type") == "error" and o.get("ename") != "SectionSkipped"]
    assert not errors, errors
    items = [o["metadata"][OUTPUT_KEY] for o in outputs if OUTPUT_KEY in o.get("metadata", {})]
    return items, prose_of(nb)


def prose_of(nb) -> str:
    """The section's text as the report shows it: markdown cells and the notebook's own
    Markdown outputs, up to the sentence of a section that stopped."""
    parts = []
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            parts.append(cell.source)
        for o in cell.get("outputs", []):
            if "text/markdown" in o.get("data", {}) and OUTPUT_KEY not in o.get("metadata", {}):
                parts.append(o["data"]["text/markdown"])
        if any(o.get("ename") == "SectionSkipped" for o in cell.get("outputs", [])):
            break
    return "\n".join(parts)


def figures_of(items: list[dict]) -> dict[str, str]:
    """Figure name -> caption."""
    return {i["name"]: i["caption"] for i in items if i["kind"] == "figure"}


def tables_of(items: list[dict]) -> dict[str, str]:
    """Table name -> CSV text."""
    return {i["name"]: i["csv"] for i in items if i["kind"] == "table"}


def test_repeat_detainers_on_the_sample(sample_project, tmp_path):
    items, prose = run(sample_project, REPEAT, tmp_path, release="sample")
    assert list(figures_of(items)) == ["repeat-detainers-within-days"]
    tables = tables_of(items)
    assert set(tables) == {"repeat-detainers-by-group", "repeat-detainers-within-days", "repeat-detainers-days-to-next"}
    assert "Declined detainer" in tables["repeat-detainers-by-group"]
    assert "within this release only" in prose and "proxy, not a measure of re-offending" in prose
    assert "exact duplicate records" in prose
    everything = prose + "".join(tables.values())
    assert "SYN-" not in everything  # no anonymized identifier in any output


def test_repeat_detainers_with_broad_definition_aor_and_small_cells(sample_project, tmp_path):
    items, prose = run(sample_project, REPEAT, tmp_path, release="sample", aor="Seattle",
                       declined_definition="broad", min_cell=5)
    assert "Only detainers in the Seattle area of responsibility are counted" in prose
    assert "broad definition" in prose
    assert "repeat-detainers-by-group" in tables_of(items)


def test_repeat_detainers_skip_on_the_real_release(real_project, tmp_path):
    items, prose = run(real_project, REPEAT, tmp_path, release=REAL_RELEASE_ID)
    assert items == []
    assert prose.strip().endswith("*This release has no detainers table, so the repeat-detainer analysis is skipped.*")


def test_skipped_section_in_the_report_is_its_title_and_one_sentence(real_project, tmp_path):
    ensure_kernel()
    target = tmp_path / REPEAT
    nb = execute(real_project / "notebooks" / REPEAT, target, ReportParameters(release=REAL_RELEASE_ID), tmp_path / "failed")
    assembly = Assembly(tmp_path, "")
    assembly.notebook(nb)
    markdown = assembly.markdown()
    assert "papermill" not in markdown.lower() and "exception" not in markdown.lower()
    assert markdown.strip().endswith("*This release has no detainers table, so the repeat-detainer analysis is skipped.*")


def test_enforcement_context_on_the_sample(sample_project, tmp_path):
    items, prose = run(sample_project, CONTEXT, tmp_path, release="sample")
    assert list(figures_of(items)) == ["arrests-by-method", "arrests-local-jail-287g", "arrests-by-aor",
                                       "local-jail-arrests-vs-detainers"]
    assert "This release has no encounters table, so the encounters part is not shown." in prose
    assert "This release has no removals table, so the removals part is not shown." in prose
    comparison = tables_of(items)["local-jail-arrests-vs-detainers"]
    assert comparison.splitlines()[0] == "Area of responsibility,Arrests in local jails,Detainers,Arrests per detainer"
    assert "SYN-" not in prose + "".join(tables_of(items).values())


def test_enforcement_context_on_the_real_release(real_project, tmp_path):
    items, prose = run(real_project, CONTEXT, tmp_path, release=REAL_RELEASE_ID)
    assert list(figures_of(items)) == ["arrests-by-method", "arrests-local-jail-287g", "arrests-by-aor",
                                       "encounters-by-disposition", "removals-by-year", "local-jail-arrests-vs-detainers"]
    tables = tables_of(items)
    assert "FY2016,110104,36514,3149" in tables["arrests-local-jail-287g"]
    assert "FY2017,143470,56887,7164" in tables["arrests-local-jail-287g"]
    assert "FY2016,240255" in tables["removals-by-year"] and "FY2017,226119" in tables["removals-by-year"]
    assert "Detainer,45099,72502,117601" in tables["encounters-by-disposition"]
    assert "Area of responsibility,Arrests in local jails,Encounters ending in a detainer" in \
        tables["local-jail-arrests-vs-detainers"]
    assert "HQ" not in tables["local-jail-arrests-vs-detainers"]
    assert "Encounters ending in a detainer are not detainers prepared" in prose


def test_enforcement_context_under_a_state_filter_skips_each_part(real_project, tmp_path):
    items, prose = run(real_project, CONTEXT, tmp_path, release=REAL_RELEASE_ID, state="WA")
    assert items == []
    for part in ("the arrests part", "the encounters part", "the removals part", "this comparison"):
        assert f"has no state column, so {part} cannot be limited to Washington (WA) and is not shown." in prose


@pytest.mark.parametrize("aor", ["Seattle"])
def test_enforcement_context_under_an_aor_filter(real_project, tmp_path, aor):
    items, prose = run(real_project, CONTEXT, tmp_path, release=REAL_RELEASE_ID, aor=aor)
    tables = tables_of(items)
    aors = {line.split(",")[0] for line in tables["arrests-by-aor"].splitlines()[1:]}
    assert aors == {aor}
    assert "arrests-by-aor" not in figures_of(items)  # one area is not a comparison
    assert "Fewer than three areas of responsibility" in prose
