"""The synthetic sample: deterministic, in the real raw layout, and its planted truth recovered."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from analysis.errors import ReleaseError
from analysis.reading.sheets import NoteSheet, RawSheet, SkippedSheet, list_data_files, open_sheets
from analysis.sample.generator import SampleSpec, write_sample


def _digests(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


def test_same_seed_gives_byte_identical_files(tmp_path: Path) -> None:
    for run, seed in (("a", 7), ("b", 7), ("c", 8)):
        write_sample(tmp_path / run / "sample", SampleSpec(rows=500, seed=seed))
    first, again, other = (_digests(tmp_path / run / "sample") for run in "abc")
    assert first == again
    assert first["SYNTHETIC_Detainers_FY2021-FY2025.xlsx"] != other["SYNTHETIC_Detainers_FY2021-FY2025.xlsx"]


def test_existing_release_is_never_overwritten(tmp_path: Path) -> None:
    write_sample(tmp_path / "s", SampleSpec(rows=200))
    with pytest.raises(ReleaseError, match="never overwritten"):
        write_sample(tmp_path / "s", SampleSpec(rows=200))
    real = tmp_path / "real"
    real.mkdir()
    (real / "data.csv").write_text("x")
    with pytest.raises(ReleaseError, match="not a generated sample"):
        write_sample(real, SampleSpec(rows=200), force=True)


def test_sample_has_the_raw_layout_of_an_ice_release(sample_project: Path) -> None:
    raw = sample_project / "data" / "raw" / "sample"
    items = [item for path in list_data_files(raw) for item in open_sheets(path, path.name)]
    sheets = [i for i in items if isinstance(i, RawSheet)]
    ices_own = {i.sheet: i.role for i in items if isinstance(i, NoteSheet)}  # not records: ICE's totals and notes
    assert ices_own == {"Summary": "summary", "Footnotes": "footnotes"}
    assert not [i for i in items if isinstance(i, SkippedSheet)]
    detainer_sheets = [s for s in sheets if "Detainers" in s.name]
    assert [s.sheet for s in detainer_sheets] == ["FY2021", "FY2022", "FY2023", "FY2024", "FY2025"]
    for sheet in sheets:
        assert sheet.layout.is_synthetic, f"{sheet.name} {sheet.sheet} banners must say SYNTHETIC"
        assert sheet.layout.foia_number
    assert {s.layout.header_row for s in sheets} == {6, 7}  # header position differs between files
    older, newest = detainer_sheets[0].layout.header, detainer_sheets[-1].layout.header
    assert "Birth Year" in older and "Birth Year" not in newest  # a column present in older sheets only
    assert "Detainer Prepared Date" in newest and "Detainer Prepare Date" in older  # drift within a release


def test_ingest_recovers_the_planted_truth(sample_project: Path) -> None:
    truth = json.loads((sample_project / "data/raw/sample/truth.json").read_text())
    manifest = json.loads((sample_project / "data/processed/sample/manifest.json").read_text())
    for table in ("detainers", "arrests"):
        assert manifest["tables"][table]["rows"] == truth[table]["rows"]
        assert manifest["tables"][table]["rows_by_fiscal_year"] == truth[table]["rows_by_fiscal_year"]
    detainers = manifest["tables"]["detainers"]
    assert detainers["likely_duplicates"] == truth["detainers"]["likely_duplicates"] > 0
    columns = detainers["columns"]
    names = {"Birth Year": "birth_year", "Facility City": "city", "Apprehension Method": "apprehension_method", "MSC Charge": "msc_charge"}
    for raw_name, planted in truth["detainers"]["redacted"].items():
        assert columns[names[raw_name]]["redacted"] == planted > 0
    assert manifest["synthetic"] is True
    assert manifest["tables"]["detainers"]["rows_without_fiscal_year"] == 0


def test_sample_covers_the_features_later_analyses_need(sample_project: Path) -> None:
    frame = pq.read_table(sample_project / "data/processed/sample/detainers.parquet").to_pandas()
    truth = json.loads((sample_project / "data/raw/sample/truth.json").read_text())
    assert frame["state"].nunique() >= 45
    assert not frame["facility"].str.contains("County Jail|Sheriff", regex=True).any()  # not mistakable for real jails
    assert frame["facility"].str.startswith("Synthetic").all()
    reasons = set(frame["detainer_lift_reason"].dropna())
    assert len(reasons) == 12 and frame["detainer_lift_reason"].isna().sum() == truth["detainers"]["lift_reasons"]["(blank)"] > 0
    per_person = frame.groupby("anonymized_identifier").size()
    assert (per_person > 1).sum() > 100  # repeat people
    assert frame["criminality"].nunique() == 3 and frame["msc_charge"].notna().any()
    assert sorted(frame["fiscal_year"].unique()) == [2021, 2022, 2023, 2024, 2025]
    arrests = pq.read_table(sample_project / "data/processed/sample/arrests.parquet").to_pandas()
    linked = set(arrests["anonymized_identifier"]) & set(frame["anonymized_identifier"])
    assert len(linked) > 100  # arrests linked to detainers by identifier
