"""Notebooks 02 (detainers issued) and 03 (outcomes) executed with papermill: on the sample they
complete with figures and tables; on the real release (no detainers table) 02 counts encounters
ending in a detainer under that name, 03 stops with its one sentence, and a state filter stops
02 rather than show national numbers."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from analysis.report.build import ensure_kernel, execute
from analysis.report.context import OUTPUT_KEY
from analysis.report.parameters import ReportParameters
from tests.conftest import REAL_RELEASE_ID
from tests.test_notebooks_context import prose_of

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
ISSUED = "02_detainers_issued.ipynb"
OUTCOMES = "03_detainer_outcomes.ipynb"


def run(name: str, tmp_path: Path, **parameters) -> dict:
    """Execute one notebook; return its figures and tables (by name), markdown and errors."""
    ensure_kernel()
    nb = execute(NOTEBOOKS / name, tmp_path / name, ReportParameters(**parameters), tmp_path / "failed")
    found: dict = {"figures": {}, "tables": {}, "markdown": [], "errors": [], "prose": prose_of(nb)}
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            meta = output.get("metadata", {}).get(OUTPUT_KEY)
            if output.get("output_type") == "error":
                found["errors"].append(output["ename"])
            elif meta:
                if "markdown" in meta:  # cells are escaped text (escaping.md_text): compare them as shown
                    meta = {**meta, "markdown": re.sub(r"\\(.)", r"\1", meta["markdown"])}
                found["figures" if meta["kind"] == "figure" else "tables"][meta["name"]] = meta
            elif "text/markdown" in output.get("data", {}):
                found["markdown"].append(output["data"]["text/markdown"])
    return found


def test_issued_on_the_sample(sample_project, tmp_path):
    out = run(ISSUED, tmp_path, release="sample")
    assert out["errors"] == []
    assert set(out["figures"]) == {"issued-by-month", "issued-by-fiscal-year", "issued-by-aor", "issued-by-state",
                                   "issued-top-facilities", "issued-criminality-shares", "issued-type-shares"}
    assert {"issued-by-fiscal-year", "issued-top-states", "issued-top-facilities", "issued-criminality",
            "issued-types"} <= set(out["tables"])
    by_year = out["tables"]["issued-by-fiscal-year"]["markdown"]
    truth = json.loads((sample_project / "data/raw/sample/truth.json").read_text())["detainers"]
    assert "FY2025 (partial)" in by_year
    assert all(f"| {count:,} |" in by_year for count in truth["rows_by_fiscal_year"].values())
    assert "encounters" not in " ".join(out["markdown"])


def test_outcomes_on_the_sample(sample_project, tmp_path):
    out = run(OUTCOMES, tmp_path, release="sample", declined_definition="broad")
    assert out["errors"] == []
    assert set(out["figures"]) == {"outcomes-shares", "declined-by-fiscal-year", "declines-by-state",
                                   "declines-top-facilities", "declines-facility-rates", "declined-convictions",
                                   "days-to-lift"}
    declined = out["tables"]["declined-by-fiscal-year"]
    assert "Declined (strict)" in declined["markdown"] and "Declined (broad)" in declined["markdown"]
    assert "'Detainer Declined by LEA' only" in declined["caption"] and "Center for Immigration Studies" in declined["caption"]
    prose = out["prose"]
    assert "headline definition of a declined detainer is **broad**" in prose
    assert "ICE does not record why a detainer was declined" in prose and "undercounted" in prose
    assert "at least **50 detainers**" in prose or "at least 50 detainers" in prose


@pytest.mark.real
def test_issued_on_the_real_release_counts_encounters_ending_in_a_detainer(real_project, tmp_path):
    out = run(ISSUED, tmp_path, release=REAL_RELEASE_ID)
    assert out["errors"] == ["SectionSkipped"]  # after the encounter-based part
    assert set(out["figures"]) == {"issued-by-month", "issued-by-fiscal-year", "issued-by-aor"}
    for meta in [*out["figures"].values(), *out["tables"].values()]:
        assert "ncounters ending in a detainer" in meta["caption"]
        assert meta["source"].endswith("table encounters, processing disposition 'Detainer'")
    by_year = out["tables"]["issued-by-fiscal-year"]["markdown"]
    assert "45,099" in by_year and "72,502" in by_year  # the README's counts
    prose = out["prose"]
    assert "This release has no detainers table" in prose and "different measure from detainers prepared" in prose
    assert prose.rstrip().endswith("(encounters record none of these) is skipped.*")


@pytest.mark.real
def test_issued_on_the_real_release_with_a_state_skips_in_one_sentence(real_project, tmp_path):
    out = run(ISSUED, tmp_path, release=REAL_RELEASE_ID, state="CA")
    assert out["errors"] == ["SectionSkipped"] and out["figures"] == {} and out["tables"] == {}
    assert out["markdown"] == ["*This release has no detainers table, and its encounters table has no state column, "
                               "so encounters ending in a detainer cannot be limited to California (CA) and this "
                               "section is skipped rather than show national numbers.*"]


@pytest.mark.real
def test_outcomes_on_the_real_release_skips_in_one_sentence(real_project, tmp_path):
    out = run(OUTCOMES, tmp_path, release=REAL_RELEASE_ID)
    assert out["errors"] == ["SectionSkipped"] and out["figures"] == {} and out["tables"] == {}
    assert out["markdown"] == ["*This release has no detainers table, so the analysis of detainer outcomes (lift "
                               "reasons are recorded only in detainer records, not in encounters, arrests or "
                               "removals) is skipped.*"]


@pytest.mark.parametrize("notebook", [ISSUED, OUTCOMES])
def test_notebooks_are_stored_without_outputs(notebook):
    import nbformat

    nb = nbformat.read(NOTEBOOKS / notebook, as_version=4)
    assert nb.metadata["kernelspec"]["name"] == "ice-detainers"
    assert all(not c.get("outputs") and not c.get("execution_count") for c in nb.cells if c.cell_type == "code")
    assert any("parameters" in c.metadata.get("tags", []) for c in nb.cells)
