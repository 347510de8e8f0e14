"""Ingest: manifest contents, text formats, idempotence, atomic replacement, raw integrity."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from analysis.errors import InputFileError, ReleaseError
from analysis.paths import locate_release
from analysis.reading.ingest import ingest

HEADER = ["Area of Responsibility", "Apprehension Date", "Apprehension Method", "Citizenship"]
ROWS = [
    ["Seattle Area of Responsibility", "10/1/2020", "Located", "MEXICO"],
    ["Chicago Area of Responsibility", "9/30/2021", "CAP Local Incarceration", "(b)(6),(b)(7)(c )"],
    ["Chicago Area of Responsibility", "10/2/2021", "287(g) Program", "NA"],
]
BANNERS = ["ERO-LESA Statistical Tracking Unit", "Law Enforcement Sensitive", "2022-ICFO-09023", "", "ERO Administrative Arrests FY2021-FY2022"]


def write_text_release(folder: Path, name: str, delimiter: str, *, encoding: str = "utf-8", gz: bool = False) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    width = len(HEADER)
    lines = [(f'"{b}"' if b else "") + delimiter * (width - 1) for b in BANNERS]
    lines += [delimiter.join(f'"{h}"' for h in HEADER)]
    lines += [delimiter.join(f'"{c}"' for c in r) for r in ROWS]
    data = ("\n".join(lines) + "\n").encode(encoding)
    path = folder / name
    path.write_bytes(gzip.compress(data, mtime=0) if gz else data)
    return path


@pytest.mark.parametrize(("name", "delimiter", "gz"), [("a.csv", ",", False), ("a.txt", "|", False), ("a.tsv", "\t", False), ("a.csv.gz", "|", True)])
def test_delimited_text_in_any_common_form(project: Path, name: str, delimiter: str, gz: bool) -> None:
    write_text_release(project / "data/raw/r1", name, delimiter, gz=gz)
    manifest = ingest(locate_release("r1"))
    arrests = manifest["tables"]["arrests"]
    assert arrests["rows"] == 3
    assert arrests["rows_by_fiscal_year"] == {"2021": 2, "2022": 1}
    assert arrests["fiscal_year_source"] == ["apprehension_date"]
    assert arrests["columns"]["citizenship"]["redacted"] == 1
    assert arrests["columns"]["citizenship"]["na_literal"] == 1
    assert manifest["sheets"][0]["delimiter"] == delimiter
    assert manifest["foia_numbers"] == ["2022-ICFO-09023"]
    table = pq.read_table(project / "data/processed/r1/arrests.parquet")
    assert table.column("source_row").to_pylist() == [7, 8, 9]
    assert table.column("source_file").to_pylist() == [name] * 3


def test_cp1252_text_is_read(project: Path) -> None:
    global ROWS
    saved = ROWS
    ROWS = [["Seattle Area of Responsibility", "10/1/2020", "Located", "PERÚ"]]
    try:
        write_text_release(project / "data/raw/r2", "a.csv", ",", encoding="cp1252")
    finally:
        ROWS = saved
    ingest(locate_release("r2"))
    table = pq.read_table(project / "data/processed/r2/arrests.parquet")
    assert table.column("citizenship").to_pylist() == ["PERÚ"]


def test_manifest_records_files_tables_and_columns(sample_project: Path) -> None:
    manifest = json.loads((sample_project / "data/processed/sample/manifest.json").read_text())
    assert manifest["release"] == "sample"
    for record in manifest["files"]:
        assert set(record) == {"path", "bytes", "sha256"} and len(record["sha256"]) == 64
    assert {f["path"] for f in manifest["files"]} == {"SYNTHETIC_Arrests_FY2021-FY2025.xlsx", "SYNTHETIC_Detainers_FY2021-FY2025.xlsx"}
    column = manifest["tables"]["detainers"]["columns"]["detainer_prepare_date"]
    assert column["type"] == "date32[day]" and column["nulls"] == 0 and column["redacted"] == 0
    assert column["source_names"] == ["Detainer Prepare Date", "Detainer Prepared Date"]
    assert all(isinstance(k, str) for k in manifest["tables"]["detainers"]["rows_by_fiscal_year"])


def test_second_ingest_is_a_no_op_and_force_rebuilds(project: Path) -> None:
    write_text_release(project / "data/raw/r3", "a.csv", ",")
    ingest(locate_release("r3"))
    parquet = project / "data/processed/r3/arrests.parquet"
    before = parquet.stat().st_mtime_ns
    ingest(locate_release("r3"))
    assert parquet.stat().st_mtime_ns == before
    ingest(locate_release("r3"), force=True)
    assert parquet.stat().st_mtime_ns != before


def test_changed_raw_file_stops_ingest_and_keeps_processed_data(project: Path) -> None:
    path = write_text_release(project / "data/raw/r4", "a.csv", ",")
    ingest(locate_release("r4"))
    manifest_before = (project / "data/processed/r4/manifest.json").read_bytes()
    path.write_bytes(path.read_bytes() + b"Seattle Area of Responsibility,1/1/2021,Located,CUBA\n")
    with pytest.raises(ReleaseError, match="changed since release 'r4' was first ingested"):
        ingest(locate_release("r4"), force=True)
    assert (project / "data/processed/r4/manifest.json").read_bytes() == manifest_before


def test_failed_ingest_leaves_previous_output_and_no_staging(project: Path) -> None:
    write_text_release(project / "data/raw/r5", "a.csv", ",")
    ingest(locate_release("r5"))
    before = (project / "data/processed/r5/arrests.parquet").read_bytes()
    (project / "data/processed/r5/manifest.json").unlink()  # forces a rebuild on the next call
    bad = project / "data/raw/r5/b.csv"
    bad.write_text("no header here\n1,2\n")
    with pytest.raises(InputFileError, match="b.csv"):
        ingest(locate_release("r5"))
    assert (project / "data/processed/r5/arrests.parquet").read_bytes() == before
    assert [p.name for p in (project / "data/processed").iterdir() if p.name.startswith(".")] == []


def test_release_yml_names_the_id_of_a_path(project: Path, tmp_path: Path) -> None:
    folder = tmp_path / "elsewhere" / "download-2024"
    write_text_release(folder, "a.csv", ",")
    (folder / "release.yml").write_text("release: foia-2024-march\nprevious_release: foia-2023\n")
    location = locate_release(str(folder))
    assert location.release_id == "foia-2024-march" and location.previous_release == "foia-2023"
    ingest(location)
    assert (project / "data/processed/foia-2024-march/manifest.json").is_file()


def test_unknown_tables_are_kept_and_reported(project: Path) -> None:
    folder = project / "data/raw/r6"
    folder.mkdir(parents=True)
    (folder / "Detention_Stays_FY2020.csv").write_text("Stay Book In Date,Facility Name,Length\n1/2/2020,X,3\n")
    manifest = ingest(locate_release("r6"))
    assert "detention_stays" in manifest["tables"]
    assert any("not a known table kind" in w for w in manifest["warnings"])
