"""Large synthetic releases (more rows than a workbook holds): gzip text files in ICE's layout,
written one fiscal year at a time, deterministic, and with a truth.json that matches the files."""

from __future__ import annotations

import datetime as dt
import gzip
import hashlib
import json
from collections import Counter
from pathlib import Path

import pytest

from analysis.sample.generator import FISCAL_YEARS, XLSX_MAX_ROWS, SampleSpec, write_sample

ROWS = XLSX_MAX_ROWS + 50_000  # just above the threshold: the text path, still quick
DETAINER_FILES = [f"SYNTHETIC_Detainers_FY{fy}.txt.gz" for fy in FISCAL_YEARS]
ARREST_FILE = f"SYNTHETIC_Arrests_FY{FISCAL_YEARS[0]}-FY{FISCAL_YEARS[-1]}.txt.gz"
PREAMBLE_LINES = {"Detainers": 6, "Arrests": 5}  # banner rows and title above the header row


@pytest.fixture(scope="module")
def large_runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The same large sample written twice, into folders of the same name."""
    runs = []
    for run in ("first", "second"):
        folder = tmp_path_factory.mktemp(run) / "big"
        write_sample(folder, SampleSpec(rows=ROWS))
        runs.append(folder)
    return runs[0], runs[1]


def _lines(path: Path) -> list[str]:
    with gzip.open(path, "rt", encoding="utf-8", newline="\n") as handle:
        return handle.read().splitlines()


def _digests(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


def _fiscal_year(text: str) -> int:
    month, day, year = (int(part) for part in text.split("/"))
    return dt.date(year, month, day).year + (month >= 10)


def test_large_sample_is_gzip_text_with_banners_and_a_header(large_runs: tuple[Path, Path]) -> None:
    folder = large_runs[0]
    assert sorted(p.name for p in folder.glob("*.gz")) == sorted([*DETAINER_FILES, ARREST_FILE])
    assert not list(folder.glob("*.xlsx"))
    for name in [*DETAINER_FILES, ARREST_FILE]:
        assert (folder / name).read_bytes()[:2] == b"\x1f\x8b", f"{name} is not gzip"
        lines = _lines(folder / name)
        preamble = PREAMBLE_LINES["Arrests" if "Arrests" in name else "Detainers"]
        header = lines[preamble].split("|")
        width = len(header)
        assert all(h.startswith('"') and h.endswith('"') for h in header), f"{name}: header row not found"
        assert any("SYNTHETIC" in line for line in lines[:preamble]), f"{name}: banners must say SYNTHETIC"
        assert "SYNTHETIC" in lines[preamble - 1], f"{name}: title row must say SYNTHETIC"
        assert {line.count("|") for line in lines} == {width - 1}, f"{name}: rows and header differ in width"
        assert all(line.split("|")[-1].startswith("SYN-") for line in lines[preamble + 1:])
    older, newest = (_lines(folder / DETAINER_FILES[i])[6] for i in (0, -1))
    assert '"Birth Year"' in older and '"Birth Year"' not in newest  # columns drift as in the workbooks
    assert '"Detainer Prepare Date"' in older and '"Detainer Prepared Date"' in newest


def test_large_sample_is_deterministic(large_runs: tuple[Path, Path]) -> None:
    first, second = (_digests(folder) for folder in large_runs)
    assert first == second


def test_truth_counts_match_the_lines_in_the_files(large_runs: tuple[Path, Path]) -> None:
    folder = large_runs[0]
    truth = json.loads((folder / "truth.json").read_text())
    detainers = {}
    for fy, name in zip(FISCAL_YEARS, DETAINER_FILES, strict=True):
        records = _lines(folder / name)[PREAMBLE_LINES["Detainers"] + 1:]
        detainers[str(fy)] = len(records)
        assert {_fiscal_year(line.split("|", 1)[0]) for line in records} == {fy}
    assert truth["detainers"]["rows_by_fiscal_year"] == detainers
    assert truth["detainers"]["rows"] == sum(detainers.values()) > ROWS  # planted repeats come on top
    arrests = Counter(str(_fiscal_year(line.split("|")[1]))
                      for line in _lines(folder / ARREST_FILE)[PREAMBLE_LINES["Arrests"] + 1:])
    assert truth["arrests"]["rows_by_fiscal_year"] == dict(sorted(arrests.items()))
    assert truth["arrests"]["rows"] == sum(arrests.values())
