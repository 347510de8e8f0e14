"""The real release in ../shared ingests completely, with ICE's published totals."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

pytestmark = pytest.mark.real

RELEASE = "ice-lesa-2019-ICFO-53623-fy2016-2017"


@pytest.fixture
def manifest(real_project: Path) -> dict:
    return json.loads((real_project / "data/processed" / RELEASE / "manifest.json").read_text())


def test_rows_by_fiscal_year_equal_ice_published_figures(manifest: dict) -> None:
    tables = manifest["tables"]
    assert tables["arrests"]["rows_by_fiscal_year"] == {"2016": 110_104, "2017": 143_470}
    assert tables["removals"]["rows_by_fiscal_year"] == {"2016": 240_255, "2017": 226_119}
    assert tables["encounters"]["rows_by_fiscal_year"] == {"2016": 368_645, "2017": 439_903}
    assert sum(t["rows"] for t in tables.values()) == 1_528_496
    assert manifest["foia_numbers"] == ["2019-ICFO-53623"]
    assert manifest["synthetic"] is False
    assert [s["header_row"] for s in manifest["sheets"]] == [6] * 6


def test_encounters_with_a_detainer_disposition(real_project: Path) -> None:
    table = pq.read_table(real_project / "data/processed" / RELEASE / "encounters.parquet", columns=["processing_disposition", "fiscal_year"])
    detainer = table.filter(pc.equal(table["processing_disposition"], "Detainer"))
    counts = {r["values"]: r["counts"] for r in pc.value_counts(detainer["fiscal_year"]).to_pylist()}
    assert counts == {2016: 45_099, 2017: 72_502}


def test_redactions_and_na_are_counted_not_kept(manifest: dict) -> None:
    removals = manifest["tables"]["removals"]["columns"]
    assert removals["birth_date"]["redacted"] == 466_374  # every birth date is withheld
    assert removals["rc_threat_level"]["redacted"] > 0 and removals["rc_threat_level"]["na_literal"] > 0
    assert all(f["sha256"] for f in manifest["files"]) and len(manifest["files"]) == 6
