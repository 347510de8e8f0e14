"""`analysis report --each`: one report per geography on Dask, the index, and the index and a
report opened in a real (headless) browser.

The batch tests run on a small sample and on two or three geographies, chosen with --min-records
from the sample's own counts. One state is made to fail by a notebook cell that raises for that
state's parameter, as a bug hitting one geography would.
"""

from __future__ import annotations

import csv
import json
import re
import shutil
import subprocess
from pathlib import Path
from urllib.parse import unquote, urlparse

import nbformat
import pandas as pd
import pytest
from bs4 import BeautifulSoup

from analysis.cli import main
from analysis.errors import AnalysisError
from analysis.report.index import Row, index_html, write_batch_record, write_release_index
from analysis.report.parameters import ReportParameters

from .conftest import make_project, project_env

FIXED_DAY = "1767225600"  # 2026-01-01: the batch and the single report share the run date
PLANTED = "planted failure for one geography"
CHROMIUM = next((shutil.which(name) for name in ("chromium", "chromium-browser", "google-chrome")
                 if shutil.which(name)), None)


@pytest.fixture(autouse=True)
def fixed_run_date(monkeypatch: pytest.MonkeyPatch) -> None:
    """The run date is in every report's key: all runs here share it (else a later run rebuilds)."""
    monkeypatch.setenv("SOURCE_DATE_EPOCH", FIXED_DAY)


def threshold(counts: pd.Series, wanted: tuple[int, ...] = (3, 2)) -> tuple[int, list[str]]:
    """The smallest --min-records that keeps exactly 3 (else 2) of the largest geographies."""
    ordered = counts.sort_values(ascending=False)
    for n in wanted:
        if len(ordered) > n and ordered.iloc[n - 1] > ordered.iloc[n]:
            return int(ordered.iloc[n - 1]), list(ordered.index[:n])
    raise AssertionError(f"no threshold keeps {wanted} geographies: {ordered.head(5).to_dict()}")


def plant_failure(project: Path, state: str) -> None:
    """The project's copy of one notebook raises when it runs for `state`."""
    path = project / "notebooks" / "04_repeat_detainers.ipynb"
    notebook = nbformat.read(path, as_version=4)
    at = next(i for i, c in enumerate(notebook.cells) if "parameters" in c.metadata.get("tags", [])) + 1
    notebook.cells.insert(at, nbformat.v4.new_code_cell(f'if state == "{state}":\n    raise RuntimeError("{PLANTED}")'))
    nbformat.write(notebook, path)


def read_index(project: Path) -> dict[str, dict[str, str]]:
    with (project / "reports/sample/index.csv").open(newline="", encoding="utf-8") as handle:
        return {f"{row['batch']}/{row['code']}": row for row in csv.DictReader(handle)}


@pytest.fixture(scope="module")
def batch(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """A sample project; --each state on the three largest states, the second of which fails."""
    root = make_project(tmp_path_factory.mktemp("batch"))
    with project_env(root), pytest.MonkeyPatch.context() as patch:
        patch.setenv("SOURCE_DATE_EPOCH", FIXED_DAY)
        assert main(["-q", "sample", "--rows", "1500"]) == 0
        assert main(["-q", "ingest", "sample"]) == 0
        detainers = pd.read_parquet(root / "data/processed/sample/detainers.parquet", columns=["state", "aor"])
        min_records, states = threshold(detainers["state"].value_counts())
        failing = states[1]
        plant_failure(root, failing)
        first = main(["-q", "report", "sample", "--each", "state", "--min-records", str(min_records), "--workers", "2"])
        stamps = {s: (root / f"reports/sample/by-state/{s}/report.pdf").stat().st_mtime_ns for s in states if s != failing}
        index_after_first = read_index(root)
        second = main(["-q", "report", "sample", "--each", "state", "--min-records", str(min_records)])
    return {"root": root, "states": states, "failing": failing, "ok": [s for s in states if s != failing],
            "min_records": min_records, "exit": (first, second), "stamps": stamps, "first_index": index_after_first,
            "detainers": detainers}


@pytest.mark.e2e
def test_one_failing_geography_does_not_stop_the_others(batch: dict) -> None:
    root = batch["root"]
    assert batch["exit"][0] != 0, "a failed geography makes the command fail"
    for state in batch["ok"]:
        folder = root / f"reports/sample/by-state/{state}"
        assert (folder / "report.pdf").stat().st_size > 10_000
        assert "SYNTHETIC DATA" in (folder / "report.html").read_text(encoding="utf-8")
    assert not (root / f"reports/sample/by-state/{batch['failing']}/report.pdf").exists()
    rows = batch["first_index"]
    assert set(rows) == {f"by-state/{s}" for s in batch["states"]}
    failed = rows[f"by-state/{batch['failing']}"]
    assert failed["status"] == "failed" and PLANTED in failed["message"] and "RuntimeError" in failed["message"]
    assert "04_repeat_detainers.ipynb" in failed["message"] and "\n" not in failed["message"]
    assert failed["pdf"] == failed["html"] == ""
    for state in batch["ok"]:
        assert rows[f"by-state/{state}"]["status"] == "built"
        assert rows[f"by-state/{state}"]["pdf"] == f"by-state/{state}/report.pdf"
    page = (root / "reports/sample/index.html").read_text(encoding="utf-8")
    assert PLANTED in page and "1 failed" in page


@pytest.mark.e2e
def test_index_counts_are_the_reports_own(batch: dict) -> None:
    """Records and both kinds of declines per state, counted independently from the parquet."""
    root = batch["root"]
    frame = pd.read_parquet(root / "data/processed/sample/detainers.parquet", columns=["state", "detainer_lift_reason"])
    reason = frame["detainer_lift_reason"].astype("string").str.strip().str.lower()
    strict = reason == "detainer declined by lea"
    broad = strict | reason.isin(["insufficient notice to ice", "early release"])
    rows = batch["first_index"]
    for state in batch["ok"]:
        mine = frame["state"] == state
        row = rows[f"by-state/{state}"]
        assert (int(row["records"]), int(row["declined_strict"]), int(row["declined_broad"])) == (
            int(mine.sum()), int((mine & strict).sum()), int((mine & broad).sum()))


@pytest.mark.e2e
def test_rerun_redoes_only_what_changed(batch: dict, capsys: pytest.CaptureFixture) -> None:
    root = batch["root"]
    assert batch["exit"][1] != 0, "the failing geography still fails"
    rows = read_index(root)
    for state in batch["ok"]:
        assert rows[f"by-state/{state}"]["status"] == "up to date"
        assert (root / f"reports/sample/by-state/{state}/report.pdf").stat().st_mtime_ns == batch["stamps"][state]
    assert rows[f"by-state/{batch['failing']}"]["status"] == "failed"


@pytest.mark.e2e
def test_failures_are_listed_at_the_end(batch: dict, capsys: pytest.CaptureFixture) -> None:
    root = batch["root"]
    with project_env(root):
        code = main(["-q", "report", "sample", "--each", "state", "--min-records", str(batch["min_records"])])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2
    assert err[-1].startswith("analysis: error: 1 of 3 reports failed")
    assert err[-3] == "failed:" and f"({batch['failing']}): " in err[-2]
    assert PLANTED in err[-2] and "Traceback" not in "\n".join(err)


@pytest.mark.e2e
def test_batch_report_is_byte_identical_to_a_single_report(batch: dict) -> None:
    """One kernel per report (batch) and one kernel per notebook (single) give the same report."""
    root, state = batch["root"], batch["ok"][0]
    with project_env(root), pytest.MonkeyPatch.context() as patch:
        patch.setenv("SOURCE_DATE_EPOCH", FIXED_DAY)
        assert main(["-q", "report", "sample", "--state", state, "--force"]) == 0
    single, batched = root / "reports/sample", root / f"reports/sample/by-state/{state}"
    assert (single / f"report-{state}.pdf").read_bytes() == (batched / "report.pdf").read_bytes()
    assert (single / f"report-{state}.html").read_bytes() == (batched / "report.html").read_bytes()
    for folder in ("figures", "tables"):
        names = sorted(p.name for p in (single / f"{folder}-{state}").iterdir())
        assert names == sorted(p.name for p in (batched / folder).iterdir())
        for name in names:
            assert (single / f"{folder}-{state}" / name).read_bytes() == (batched / folder / name).read_bytes(), name


@pytest.mark.e2e
def test_two_geographies_on_an_existing_cluster(batch: dict) -> None:
    """--scheduler sends the tasks to a cluster started here (not the batch's own LocalCluster)."""
    from distributed import LocalCluster

    root = batch["root"]
    min_records, aors = threshold(batch["detainers"]["aor"].value_counts(), wanted=(2,))
    with project_env(root), pytest.MonkeyPatch.context() as patch, LocalCluster(
            n_workers=1, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None) as cluster:
        patch.setenv("SOURCE_DATE_EPOCH", FIXED_DAY)
        code = main(["-q", "report", "sample", "--each", "aor", "--min-records", str(min_records),
                     "--scheduler", cluster.scheduler_address])
        prefixes = list(cluster.scheduler.task_prefixes)
    assert code == 0
    assert any(p.startswith("report-aor") for p in prefixes), prefixes
    rows = read_index(root)
    built = {key: row for key, row in rows.items() if key.startswith("by-aor/")}
    assert len(built) == 2 and all(row["status"] == "built" for row in built.values())
    for row in built.values():
        assert (root / "reports/sample" / row["pdf"]).is_file() and (root / "reports/sample" / row["html"]).is_file()
    assert any(key.startswith("by-state/") for key in rows), "the index keeps the state batch beside the AOR batch"


# ------------------------------------------------------------------------ in a browser

def chromium(url: str, tmp: Path, *options: str) -> subprocess.CompletedProcess:
    command = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
               "--disable-background-networking", "--disable-component-update", "--disable-sync",
               f"--user-data-dir={tmp / 'profile'}", "--enable-logging=stderr", "--v=0", *options, url]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)


def console_messages(stderr: str) -> list[str]:
    """What the page wrote to the browser console (log lines `...:CONSOLE...] "message", source: ...`)."""
    return [line for line in stderr.splitlines() if ":CONSOLE" in line]


def assert_not_blank(png: Path) -> None:
    from PIL import Image

    with Image.open(png) as image:
        pixels = image.convert("L")
        low, high = pixels.getextrema()
        assert high - low > 100, f"{png.name} is (nearly) one colour"
        dark = sum(count for value, count in enumerate(pixels.histogram()) if value < 128)
        assert dark > 0.002 * pixels.width * pixels.height, f"{png.name} shows almost no text"


@pytest.mark.e2e
@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (Debian package `chromium`; .ci/run "
                                             "installs it when it runs as root)")
def test_index_and_a_report_in_a_browser(batch: dict, tmp_path: Path) -> None:
    root = batch["root"]
    release_dir = root / "reports/sample"
    index = release_dir / "index.html"
    state = batch["ok"][0]
    searched = chromium(f"{index.as_uri()}#q={state}&sort=-records", tmp_path, "--dump-dom")
    assert searched.returncode == 0, searched.stderr[-2000:]
    assert console_messages(searched.stderr) == []
    dom = BeautifulSoup(searched.stdout, "html.parser")
    assert dom.html.get("data-index-ready") == "yes", "the index's script ran to the end"
    assert dom.find(id="errors").get_text() == ""
    visible = [row for row in dom.select("table.index tbody tr") if not row.has_attr("hidden")]
    assert visible and all(state in row.get_text() for row in visible), "the search in the address filtered rows"
    assert "shown" in dom.find(id="shown").get_text()
    links = [a["href"] for a in dom.find_all("a", href=True)]
    listed = [row[kind] for row in read_index(root).values() for kind in ("pdf", "html") if row[kind]]
    assert len(links) == len(listed) >= 2 * len(batch["ok"]), "one PDF and one HTML link per report made"
    for href in links:
        assert not urlparse(href).scheme, f"{href}: the index links only to its own files"
        assert (release_dir / unquote(href)).is_file(), f"{href} does not resolve to a file"
    sorted_rows = [row for row in dom.select("section#by-state tbody tr")]
    records = [float(row.find_all("td")[2]["data-sort"]) for row in sorted_rows]
    assert records == sorted(records, reverse=True), "#sort=-records sorted the table"

    report = release_dir / f"by-state/{state}/report.html"
    opened = chromium(report.as_uri(), tmp_path, "--dump-dom")
    assert opened.returncode == 0 and console_messages(opened.stderr) == []
    assert "SYNTHETIC DATA" in opened.stdout and ("<svg" in opened.stdout or "data:image/svg+xml" in opened.stdout)
    for page, name in ((index, "index.png"), (report, "report.png")):
        shot = tmp_path / name
        taken = chromium(page.as_uri(), tmp_path, f"--screenshot={shot}", "--window-size=1280,900",
                         "--hide-scrollbars")
        assert taken.returncode == 0 and shot.is_file(), taken.stderr[-2000:]
        assert console_messages(taken.stderr) == []
        assert_not_blank(shot)
        shutil.copy2(shot, root / f"reports/{name}")  # kept beside the reports for a person to look at


# ------------------------------------------------------------------------ units

def test_index_page_escapes_release_text_and_never_holds_suppressed_counts(tmp_path: Path) -> None:
    hostile = '<script>alert("x")</script> & "Jail" <b>'
    rows = [Row(hostile, "X1", 3, 1, 2, "built", "", "by-facility/X1/report.pdf", "by-facility/X1/report.html"),
            Row("Plain", "X2", 250, 40, 60, "failed", "error: <img src=x onerror=alert(1)>")]
    write_batch_record(tmp_path / "by-facility", kind="facility", noun="facility", plural="facilities",
                       table="detainers", min_records=1, min_cell=11, left_out=4, unassigned=7, rows=rows)
    _, page_path = write_release_index(tmp_path, "sample", synthetic=True)
    page = page_path.read_text(encoding="utf-8")
    soup = BeautifulSoup(page, "html.parser")
    assert len(soup.find_all("script")) == 1 and soup.find("b", string=re.compile("^$")) is None
    assert "<script>alert" not in page and "&lt;script&gt;alert" in page
    assert "<img src=x" not in page and "&lt;img src=x" in page
    assert soup.find("td", string=hostile) is not None, "the name is shown as text"
    first = soup.select("tbody tr")[0].find_all("td")
    assert [td.get_text() for td in first[2:5]] == ["<11", "<11", "<11"]
    assert {td["data-sort"] for td in first[2:5]} == {"10.5"}, "sort keys do not reveal a suppressed count"
    assert "<11 records have no facility" in soup.get_text()
    assert "SYNTHETIC DATA" in page and not re.search(r'(src|href)="https?://', page)
    record = json.loads((tmp_path / "by-facility/index.json").read_text())
    assert record["rows"][0]["records"] == "<11"
    lines = (tmp_path / "index.csv").read_text(encoding="utf-8").splitlines()
    assert lines[1].split(",")[5:8] == ["<11", "<11", "<11"]


def test_index_csv_neutralises_formulas(tmp_path: Path) -> None:
    rows = [Row("=HYPERLINK(\"http://x\")", "F1", 20, 0, 0, "built", "", "a.pdf", "a.html")]
    write_batch_record(tmp_path / "by-facility", kind="facility", noun="facility", plural="facilities",
                       table="detainers", min_records=1, min_cell=1, left_out=0, unassigned=0, rows=rows)
    csv_path, _ = write_release_index(tmp_path, "r", synthetic=False)
    with csv_path.open(newline="") as handle:
        row = next(csv.DictReader(handle))
    assert row["name"].startswith("'=")


def test_empty_index_page_says_how_to_fill_it() -> None:
    assert "--each state" in index_html({}, "r", synthetic=False)


def test_facility_parameter() -> None:
    params = ReportParameters(release="sample", facility=" SYNCA01 ")
    assert params.facility == "SYNCA01" and params.geography == "facility SYNCA01"
    assert params.suffix == "-facility-SYNCA01" and params.as_dict()["facility"] == "SYNCA01"
    assert "facility" not in ReportParameters(release="sample").as_dict(), "unset: old cache keys stay valid"
    for bad in ("", "*bold*", "a" * 41, "x$y$", "[link](x)"):
        with pytest.raises(AnalysisError):
            ReportParameters(release="sample", facility=bad)


def test_facility_filter_and_geography_listing(sample_project: Path) -> None:
    from analysis.report.context import ReportContext
    from analysis.report.geographies import list_geographies, summarize

    base = ReportParameters(release="sample")
    facilities = list_geographies(base, "facility", min_records=1)
    frame = pd.read_parquet(sample_project / "data/processed/sample/detainers.parquet",
                            columns=["facility_code", "facility", "state"])
    assert len(facilities.geographies) == frame["facility_code"].nunique()
    largest = facilities.geographies[0]
    assert largest.records == frame["facility_code"].value_counts().max()
    mine = frame[frame["facility_code"] == largest.code]
    assert largest.name == f"{mine['facility'].mode()[0]} ({mine['state'].mode()[0]})"
    loaded = ReportContext(largest.parameters(base)).load("detainers", ["state"])
    assert len(loaded) == largest.records and summarize(largest.parameters(base), "detainers")["records"] == largest.records
    some = list_geographies(base, "facility", min_records=largest.records)
    assert largest.code in {g.code for g in some.geographies} and {g.records for g in some.geographies} == {largest.records}
    assert some.left_out == len(facilities.geographies) - len(some.geographies)
    states = list_geographies(base, "state")
    assert sum(g.records for g in states.geographies) + states.unassigned == len(frame)
    assert {g.folder for g in states.geographies} == {g.code for g in states.geographies}


def test_aor_spellings_are_one_geography_and_unknown_values_are_kept_with_the_reason(
        sample_project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from analysis.report.geographies import list_geographies

    project = make_project(tmp_path / "p", notebooks=False)
    processed = project / "data/processed/sample"
    shutil.copytree(sample_project / "data/processed/sample", processed)
    table = pd.read_parquet(processed / "detainers.parquet")
    table.loc[table.index[:5], "aor"] = "Seattle"            # the short spelling beside the long one
    table.loc[table.index[5:8], "aor"] = "SEA"               # a code the parameters do not know
    table.loc[table.index[8:10], "aor"] = None
    table.to_parquet(processed / "detainers.parquet", index=False)
    monkeypatch.setenv("ANALYSIS_ROOT", str(project))
    listing = list_geographies(ReportParameters(release="sample"), "aor")
    by_code = {g.code: g for g in listing.geographies}
    long_spelling = int((table["aor"] == "Seattle Area of Responsibility").sum())
    assert by_code["Seattle"].records == long_spelling + 5 and by_code["Seattle"].folder == "Seattle"
    assert by_code["SEA"].problem.startswith("unknown area of responsibility 'SEA'") and not by_code["SEA"].folder
    assert listing.unassigned == 2


@pytest.mark.parametrize("argv, message", [
    (["--each", "state", "--state", "CA"], "leave out --state"),
    (["--scheduler", "tcp://127.0.0.1:8786"], "only go with --each"),
    (["--each", "facility", "--min-records", "0"], "--min-records must be at least 1"),
])
def test_batch_options_that_do_not_fit_are_one_line(sample_project: Path, capsys: pytest.CaptureFixture,
                                                    argv: list[str], message: str) -> None:
    assert main(["-q", "report", "sample", *argv]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0]


def test_every_notebook_takes_every_report_parameter() -> None:
    """A parameter a notebook does not pass on (say `facility`) would make national numbers of a facility report."""
    import dataclasses

    from .conftest import REPO

    names = [f.name for f in dataclasses.fields(ReportParameters)]
    for path in sorted((REPO / "notebooks").glob("*.ipynb")):
        notebook = nbformat.read(path, as_version=4)
        cell = next(c for c in notebook.cells if "parameters" in c.metadata.get("tags", []))
        code = "\n".join(c.source for c in notebook.cells if c.cell_type == "code")
        for name in names:
            assert re.search(rf"^{name} = ", cell.source, re.M), f"{path.name}: no {name} in the parameters cell"
            passed = f"{name}={name}" in code or "ReportContext.from_globals(globals())" in code
            assert passed, f"{path.name}: {name} is not passed to the report context"
