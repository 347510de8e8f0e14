"""Limits and operations (issue 12): YAML bombs and deep nesting refused in one line, fast; what a
run killed with `kill -9` left is cleaned by the next run, and its child processes die with it;
a file or link where the package writes a folder is a one-line error with nothing left behind;
`analysis export --out` never writes into a release folder."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from analysis.cli import main
from tests.test_bad_input import ARREST_ROW, arrests_text, digests, error_line, nothing_processed, release_dir

REPO = Path(__file__).resolve().parents[1]

ALIAS_BOMB = "\n".join(["a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
                       + [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, 10)]) + "\n"
DEEP = "x: " + "[" * 50_000 + "]" * 50_000 + "\n"


def timed_error(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    started = time.perf_counter()
    line = error_line(argv, capsys)
    assert time.perf_counter() - started < 3, "not refused fast"
    return line


# ---------------------------------------------------------------- YAML


@pytest.mark.parametrize(("text", "says"), [
    (ALIAS_BOMB, "uses a YAML alias (*a0), which this file never needs: refused; write the value out"),
    (DEEP, "nests lists and mappings deeper than 64 levels: refused"),
    ("release: bad\nprevious_release: &p old\nnote: *p\n", "uses a YAML alias (*p)"),
    ("note: " + "x" * (1 << 20) + "\n", "more than the 1,048,576 any such file needs: refused"),
])
def test_release_yml_limits(project: Path, capsys: pytest.CaptureFixture[str], text: str, says: str) -> None:
    folder = release_dir(project)
    (folder / "arrests.txt").write_text(arrests_text())
    (folder / "release.yml").write_text(text)
    line = timed_error(["ingest", str(folder)], capsys)
    assert line.startswith(f"analysis: error: {folder / 'release.yml'}: ") and says in line, line
    nothing_processed(project)


@pytest.mark.parametrize(("text", "says"), [
    (ALIAS_BOMB, "would hold more than 100,000 values once its aliases are expanded (an alias bomb?): refused"),
    (DEEP, "nests lists and mappings deeper than 64 levels: refused"),
])
def test_claim_file_limits(sample_project: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str,
                           says: str) -> None:
    (tmp_path / "bomb.yml").write_text(text)
    line = timed_error(["claims", "sample", "--claims", str(tmp_path)], capsys)
    assert "bomb.yml: " in line and says in line, line


def test_claim_files_may_still_share_text_through_anchors(tmp_path: Path) -> None:
    from analysis.safe_yaml import load_yaml

    (tmp_path / "c.yml").write_text("note: &n shared\nclaims:\n  - note: *n\n  - note: *n\n")
    assert load_yaml(tmp_path / "c.yml", aliases=True) == {"note": "shared", "claims": [{"note": "shared"}] * 2}


# ---------------------------------------------------------------- what a killed run leaves


def dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def environment(project: Path, **extra: str) -> dict[str, str]:
    return {**os.environ, "ANALYSIS_ROOT": str(project), "PYTHONPATH": str(REPO / "src"), **extra}


def test_kill_9_during_ingest_leaves_staging_that_the_next_run_removes(project: Path) -> None:
    folder = release_dir(project)
    (folder / "arrests.txt").write_text(arrests_text([ARREST_ROW] * 400_000))
    processed = project / "data" / "processed"
    run = subprocess.Popen([sys.executable, "-m", "analysis", "-q", "ingest", "bad"], env=environment(project))
    deadline = time.monotonic() + 60
    while not list(processed.glob(".bad.staging-*")) and run.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    run.send_signal(signal.SIGKILL)
    run.wait()
    left = list(processed.glob(".bad.staging-*"))
    assert left == [processed / f".bad.staging-{run.pid}"], "the run was not caught while staging"
    alive = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        (processed / f".other.staging-{alive.pid}").mkdir()  # a run still going: left alone
        (processed / f".other.retired-{dead_pid()}").write_text("a file swapped out by a dead run")
        assert main(["-q", "ingest", "bad"]) == 0
        assert {p.name for p in processed.iterdir()} == {f".other.staging-{alive.pid}", ".locks", "bad"}
    finally:
        alive.kill()
        alive.wait()


SLEEPING_CELL = ("import os, pathlib, time\n"
                 "pathlib.Path(os.environ['MARK_DIR'], str(os.getpid())).write_text('')\n"
                 "time.sleep(float(os.environ['SLEEP']))\n")


def write_notebooks(folder: Path) -> None:
    """Two notebooks whose kernels mark their process id, then sleep for $SLEEP seconds."""
    for name in ("01_first.ipynb", "02_second.ipynb"):
        cells = [{"cell_type": "code", "metadata": {"tags": ["parameters"]}, "source": "release = 'x'\n",
                  "outputs": [], "execution_count": None, "id": "p"},
                 {"cell_type": "code", "metadata": {}, "source": SLEEPING_CELL, "outputs": [], "execution_count": None,
                  "id": "s"}]
        notebook = {"cells": cells, "metadata": {"kernelspec": {"name": "ice-detainers", "display_name": "Python",
                                                                "language": "python"}},
                    "nbformat": 4, "nbformat_minor": 5}
        (folder / name).write_text(json.dumps(notebook))


def living(processes: list[psutil.Process]) -> list[psutil.Process]:
    alive = []
    for process in processes:
        try:
            if process.is_running() and process.status() != psutil.STATUS_ZOMBIE:
                alive.append(process)
        except psutil.NoSuchProcess:
            pass
    return alive


def test_kill_9_during_report_children_die_and_the_next_run_cleans_up(project: Path, tmp_path: Path) -> None:
    folder = release_dir(project)
    (folder / "arrests.txt").write_text(arrests_text())
    for old in (project / "notebooks").glob("*.ipynb"):
        old.unlink()
    write_notebooks(project / "notebooks")
    marks = tmp_path / "marks"
    marks.mkdir()
    env = environment(project, MARK_DIR=str(marks), SLEEP="120")
    run = subprocess.Popen([sys.executable, "-m", "analysis", "-q", "report", "bad"], env=env,
                           stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while len(list(marks.iterdir())) < 2 and time.monotonic() < deadline and run.poll() is None:
        time.sleep(0.2)
    assert len(list(marks.iterdir())) == 2, "the kernels did not start"
    children = psutil.Process(run.pid).children(recursive=True)
    kernels = {int(p.name) for p in marks.iterdir()}
    assert kernels <= {c.pid for c in children} and len(children) >= 4  # two workers, two kernels, a tracker
    run.send_signal(signal.SIGKILL)
    run.wait()
    deadline = time.monotonic() + 20
    while living(children) and time.monotonic() < deadline:
        time.sleep(0.2)
    survivors = [(p.pid, " ".join(p.cmdline())[:80]) for p in living(children)]
    for process in living(children):
        process.kill()
    assert survivors == [], f"outlived the killed run: {survivors}"
    reports = project / "reports" / "bad"
    assert (reports / f".build-{run.pid}").is_dir()
    env["SLEEP"] = "0"
    done = subprocess.run([sys.executable, "-m", "analysis", "-q", "report", "bad"], env=env, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert not [p.name for p in reports.iterdir() if p.name.startswith((".build", ".figures", ".tables", ".notebooks"))]


# ---------------------------------------------------------------- files where folders belong


def test_reports_folder_that_is_a_file(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = release_dir(project)
    (folder / "arrests.txt").write_text(arrests_text())
    (project / "reports" / "bad").write_text("not a folder")
    line = error_line(["report", "bad"], capsys)
    assert line == ("analysis: error: reports/bad: is a file where the package writes a folder of that name: "
                    "move or remove it")
    nothing_processed(project)
    assert sorted(p.name for p in (project / "reports").iterdir()) == ["bad"]


@pytest.mark.parametrize("kind", ["symlink", "file"])
def test_processed_folder_that_is_a_link_or_a_file(project: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                   kind: str) -> None:
    folder = release_dir(project)
    (folder / "arrests.txt").write_text(arrests_text())
    target = project / "data" / "processed" / "bad"
    if kind == "symlink":
        (tmp_path / "elsewhere").mkdir()
        target.symlink_to(tmp_path / "elsewhere")
        says = "is a symbolic link, and this folder is replaced whole on every run: remove the link"
    else:
        target.write_text("x")
        says = "is a file where the package writes a folder of that name: move or remove it"
    line = error_line(["ingest", "bad"], capsys)
    assert line == f"analysis: error: data/processed/bad: {says}" + (
        " (to keep processed data elsewhere, link data/processed itself)" if kind == "symlink" else "")
    assert sorted(p.name for p in (project / "data" / "processed").iterdir()) == [".locks", "bad"]
    assert target.is_symlink() == (kind == "symlink")
    if kind == "symlink":
        assert list((tmp_path / "elsewhere").iterdir()) == []


def test_a_swap_removes_whatever_stood_in_the_way(tmp_path: Path) -> None:
    from analysis.atomic import swap_into_place

    for final in (tmp_path / "a-file", tmp_path / "a-link"):
        final.write_text("old") if final.name == "a-file" else final.symlink_to(tmp_path)
        staging = tmp_path / "staging"
        staging.mkdir()
        swap_into_place(staging, final)
        assert final.is_dir() and not final.is_symlink()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a-file", "a-link"]


# ---------------------------------------------------------------- export never into a release


def test_export_refuses_a_raw_release_folder_elsewhere(project: Path, tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    outside = tmp_path / "received" / "release-2026"
    outside.mkdir(parents=True)
    (outside / "arrests.txt").write_text(arrests_text())
    assert main(["-q", "ingest", str(outside)]) == 0
    before = digests(outside)
    line = error_line(["export", "release-2026", "--format", "csv", "--out", str(outside)], capsys)
    assert "it holds arrests.txt, so it is a release folder" in line
    line = error_line(["export", "release-2026", "--format", "csv", "--out", str(outside / "exports")], capsys)
    assert "it is inside the raw folder of an ingested release" in line
    assert digests(outside) == before and sorted(p.name for p in outside.iterdir()) == ["arrests.txt"]
    assert main(["-q", "ingest", str(outside)]) == 0  # still the same release


@pytest.mark.parametrize("holds", ["manifest.json", "release.yml", "other.csv.gz", "book.xlsx"])
def test_export_refuses_a_folder_holding_release_files(project: Path, tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str], holds: str) -> None:
    folder = release_dir(project)
    (folder / "arrests.txt").write_text(arrests_text())
    assert main(["-q", "ingest", "bad"]) == 0
    out = tmp_path / "out"
    out.mkdir()
    (out / holds).write_text("{}")
    line = error_line(["export", "bad", "--format", "csv", "--out", str(out)], capsys)
    assert f"it holds {holds}, so it is a release folder" in line
    assert sorted(p.name for p in out.iterdir()) == [holds]


def test_export_may_replace_an_earlier_export(project: Path, tmp_path: Path) -> None:
    folder = release_dir(project)
    (folder / "arrests.txt").write_text(arrests_text())
    out = tmp_path / "out"
    for _ in range(2):
        assert main(["-q", "export", "bad", "--format", "csv", "--out", str(out)]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["README.txt", "arrests.csv"]
