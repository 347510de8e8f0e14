"""Benchmarks of issues 6 and 13: ingest speed, report build times, scale to 10 million detainers, PDF engines.

Run `make bench` (or `.venv/bin/python benchmarks/bench.py`). Everything happens in a throw-away
project root under a temporary folder; every command runs as a subprocess of this venv's python.
Prints a Markdown document (machine, commit, results table) on stdout, progress on stderr.
No timed assertions: the table says which targets were met on this machine.

The package is measured as it was when the benchmark started: src/ (and the data/reference and
data/claims it falls back to) are copied into the temporary folder and put first on PYTHONPATH,
so edits made to the checkout during a long run neither mix versions nor invalidate the report
cache (which fingerprints the library's source).

Peak memory: the summed RSS of the command's whole process tree (the CLI and the Jupyter kernels
it starts), sampled with psutil every 0.1 s. `/usr/bin/time -v` (when installed) reports only the
largest single process, which misses a kernel running beside the CLI, so it is shown as a cross-check.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import psutil

REPO = Path(__file__).resolve().parents[1]
# ../shared beside the checkout, or beside a folder that holds it (a git worktree such as ../wt/<name>)
SHARED_RELEASES = next((p / "shared" / "releases" for p in REPO.parents if (p / "shared" / "releases").is_dir()),
                       REPO.parent / "shared" / "releases")
REAL_RELEASE = SHARED_RELEASES / "ice-lesa-2019-ICFO-53623-fy2016-2017"
GNU_TIME = Path("/usr/bin/time")
SAMPLE_INTERVAL = 0.1  # seconds between RSS samples of the process tree
SIZES = (1_000_000, 5_000_000, 10_000_000)
DEFAULT_TIMEOUT = 20 * 60  # seconds any one command may take before it is stopped and reported as such
TIMEOUT = DEFAULT_TIMEOUT
MB = 1024 * 1024


@dataclass
class Measurement:
    section: str
    what: str
    seconds: float | None = None
    peak_mb: float | None = None  # process tree, psutil
    largest_mb: float | None = None  # largest single process, /usr/bin/time -v
    value: str = ""  # a result that is not a time (a ratio, a list of notebooks)
    target: str = ""
    passed: bool | None = None
    note: str = ""


@dataclass
class Run:
    seconds: float
    peak_mb: float
    largest_mb: float | None
    returncode: int
    stdout: str
    stderr: str
    timed_out: bool = False
    cpu_seconds: float | None = None  # user + system time of the command (/usr/bin/time -v), children included

    @property
    def failure(self) -> str:
        if self.timed_out:
            return f"stopped after {self.seconds / 60:.0f} min (time limit)"
        lines = [line for line in self.stderr.splitlines() if line.strip()]
        return f"failed (exit {self.returncode}): {lines[-1] if lines else 'no message'}"


def say(message: str) -> None:
    print(f"bench: {message}", file=sys.stderr, flush=True)


def run(command: list[str], root: Path, work: Path, extra_env: dict[str, str] | None = None) -> Run:
    """Run `command` with ANALYSIS_ROOT=root and the source snapshot first on PYTHONPATH; wall
    time and peak RSS of its process tree."""
    env = {**os.environ, "ANALYSIS_ROOT": str(root), "PYTHONPATH": str(work / "snapshot" / "src"), **(extra_env or {})}
    time_log = work / "time-v.txt"
    wrapped = [str(GNU_TIME), "-v", "-o", str(time_log), *command] if GNU_TIME.exists() else command
    out_path, err_path = work / "stdout.txt", work / "stderr.txt"
    with out_path.open("w") as out, err_path.open("w") as err:
        started = time.perf_counter()
        child = subprocess.Popen(wrapped, stdout=out, stderr=err, env=env, cwd=root)
        peak, timed_out = _watch_tree(child, started + TIMEOUT)
        seconds = time.perf_counter() - started
    largest = cpu = None
    if GNU_TIME.exists() and time_log.exists():
        log = time_log.read_text()
        found = re.search(r"Maximum resident set size \(kbytes\): (\d+)", log)
        largest = int(found.group(1)) / 1024 if found else None
        times = [float(t) for t in re.findall(r"(?:User|System) time \(seconds\): ([\d.]+)", log)]
        cpu = sum(times) if len(times) == 2 else None
    return Run(seconds, peak / MB, largest, child.returncode, out_path.read_text(), err_path.read_text(), timed_out,
               cpu)


def _watch_tree(child: subprocess.Popen, deadline: float) -> tuple[int, bool]:
    """Poll the child's process tree until it exits (or, past the deadline, stop the tree):
    the largest summed RSS seen, in bytes, and whether it was stopped."""
    peak = 0
    while child.poll() is None:
        members = _tree(child.pid)
        total = 0
        for member in members:
            try:
                total += member.memory_info().rss
            except psutil.NoSuchProcess:
                pass
        peak = max(peak, total)
        if time.perf_counter() > deadline:
            for member in reversed(members):  # the tree this benchmark started, children first
                try:
                    member.kill()
                except psutil.NoSuchProcess:
                    pass
            child.wait()
            return peak, True
        time.sleep(SAMPLE_INTERVAL)
    return peak, False


def _tree(pid: int) -> list[psutil.Process]:
    try:
        root = psutil.Process(pid)
        return [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return []


def analysis(*args: str) -> list[str]:
    return [sys.executable, "-m", "analysis", *args]


def snapshot_sources(work: Path) -> None:
    """The package's source as it is now, for every command of this run (see the module docstring)."""
    target = work / "snapshot"
    shutil.copytree(REPO / "src", target / "src", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    for folder in ("data/reference", "data/claims"):
        if (REPO / folder).is_dir():
            shutil.copytree(REPO / folder, target / folder)
    sys.path.insert(0, str(target / "src"))  # section 5 imports the package in this process


def make_project(root: Path) -> Path:
    for folder in ("data/raw", "data/processed", "reports"):
        (root / folder).mkdir(parents=True, exist_ok=True)
    (root / "pyproject.toml").write_text("# benchmark project\n")
    shutil.copytree(REPO / "notebooks", root / "notebooks", dirs_exist_ok=True)
    return root


def measured(section: str, what: str, result: Run, target: str = "", limit_s: float | None = None,
             limit_mb: float | None = None) -> Measurement:
    if result.returncode != 0:
        return Measurement(section, what, result.seconds, result.peak_mb, result.largest_mb, target=target,
                           passed=False if target else None, note=result.failure)
    passed = None
    if limit_s is not None:
        passed = result.seconds <= limit_s
    if limit_mb is not None:
        passed = (passed is not False) and result.peak_mb <= limit_mb
    return Measurement(section, what, result.seconds, result.peak_mb, result.largest_mb, target=target, passed=passed)


# ------------------------------------------------------------------ 1. ingest against a bare read

BARE_READ = """
import sys, time
import pyarrow as pa, pyarrow.csv as pacsv
started = time.perf_counter()
rows = 0
for path in sys.argv[1:]:
    with pa.input_stream(path, compression="gzip") as stream:
        rows += pacsv.read_csv(stream, pacsv.ReadOptions(skip_rows=5), pacsv.ParseOptions(delimiter="|")).num_rows
print(rows, time.perf_counter() - started)
"""


PAIRS = 3  # bare read and ingest, one after the other, this many times; medians compared
RATIO_TARGET = 2.5
INGEST_PEAK_MB = 1536


def _cpu_note(runs: list[Run]) -> str:
    cpu = [r.cpu_seconds for r in runs if r.cpu_seconds is not None]
    return f"; CPU (user+sys) median {statistics.median(cpu):.2f} s" if len(cpu) == len(runs) else ""


def measure_ingest(root: Path, work: Path) -> list[Measurement]:
    """`analysis ingest --force` of the real release against a bare `pyarrow.csv.read_csv` of its
    files: PAIRS pairs run alternately (so both see the same machine load), medians compared."""
    files = sorted(str(p) for p in REAL_RELEASE.glob("*.csv.gz"))
    load = " ".join(f"{x:.1f}" for x in os.getloadavg())
    bare_runs: list[Run] = []
    ingest_runs: list[Run] = []
    for pair in range(1, PAIRS + 1):
        say(f"1. pair {pair}/{PAIRS}: bare pyarrow read of {len(files)} real files, then analysis ingest --force")
        bare = run([sys.executable, "-c", BARE_READ, *files], root, work)
        if bare.returncode != 0:
            return [measured("1", "bare `pyarrow.csv.read_csv` of the real files", bare)]
        ingest = run(analysis("ingest", str(REAL_RELEASE), "--force"), root, work)
        if ingest.returncode != 0:
            return [measured("1", "`analysis ingest` real release (--force)", ingest, "peak ≤ 1.5 GB",
                             limit_mb=INGEST_PEAK_MB)]
        bare_runs.append(bare)
        ingest_runs.append(ingest)
    bare_seconds = statistics.median(r.seconds for r in bare_runs)
    ingest_seconds = statistics.median(r.seconds for r in ingest_runs)
    rows = int(bare_runs[0].stdout.split()[0])
    reads = statistics.median(float(r.stdout.split()[1]) for r in bare_runs)
    first = Measurement("1", f"bare `pyarrow.csv.read_csv`, 6 real files ({rows:,} rows), median of {PAIRS}",
                        bare_seconds, max(r.peak_mb for r in bare_runs), _largest(bare_runs),
                        note=f"subprocess incl. python start-up and imports; the reads alone {reads:.2f} s"
                        + _cpu_note(bare_runs))
    peak = max(r.peak_mb for r in ingest_runs)
    second = Measurement("1", f"`analysis ingest` real release (--force), median of {PAIRS}", ingest_seconds, peak,
                         _largest(ingest_runs), target="peak ≤ 1.5 GB", passed=peak <= INGEST_PEAK_MB,
                         note=f"runs {', '.join(f'{r.seconds:.2f}' for r in ingest_runs)} s" + _cpu_note(ingest_runs))
    ratio = ingest_seconds / bare_seconds
    pairs = ", ".join(f"{i.seconds / b.seconds:.2f}" for b, i in zip(bare_runs, ingest_runs, strict=True))
    third = Measurement("1", "ratio ingest / bare read (medians)", value=f"{ratio:.2f}", target=f"≤ {RATIO_TARGET}",
                        passed=ratio <= RATIO_TARGET, note=f"pair by pair {pairs}; load average before {load}")
    return [first, second, third]


def _largest(runs: list[Run]) -> float | None:
    sizes = [r.largest_mb for r in runs if r.largest_mb is not None]
    return max(sizes) if sizes else None


# ------------------------------------------------------------------ 2 and 3. reports of the real release

def measure_cold_report(root: Path, work: Path) -> list[Measurement]:
    say("2. full cold report of the real release (--force)")
    report = run(analysis("report", str(REAL_RELEASE), "--force"), root, work)
    return [measured("2", "full cold `analysis report` real release (--force: ingest, notebooks, PDF)", report,
                     "≤ 60 s", limit_s=60)]


def _notebook_progress(stderr: str) -> dict[str, str]:
    """Per notebook: 'executed' or 'cached', from the report's progress lines."""
    states: dict[str, str] = {}
    for line in stderr.splitlines():
        name = re.search(r"(\d\w*\.ipynb)", line)
        word = re.search(r"\b(executed|cached)\b", line)
        if name and word:
            states[name.group(1)] = word.group(1)
    return states


def _notebooks_in_state(result: Run, state: str) -> list[str]:
    return sorted(name for name, found in _notebook_progress(result.stderr).items() if found == state)


def _rerun_note(result: Run) -> str:
    if not _notebook_progress(result.stderr):
        return "no per-notebook 'executed'/'cached' progress lines in the report's output"
    return (f"executed: {', '.join(_notebooks_in_state(result, 'executed')) or 'none'}; "
            f"cached: {len(_notebooks_in_state(result, 'cached'))} notebooks")


def _edit_notebook(path: Path, cell_type: str) -> None:
    """A markdown edit changes the text of the first markdown cell; a code edit appends `x = 1`
    to the last code cell that is not the parameters cell."""
    import nbformat

    nb = nbformat.read(path, as_version=4)
    cells = [c for c in nb.cells if c.cell_type == cell_type and "parameters" not in c.metadata.get("tags", [])]
    cell = cells[0] if cell_type == "markdown" else cells[-1]
    cell.source = cell.source + (" (benchmark edit)" if cell_type == "markdown" else "\nx = 1")
    nbformat.write(nb, path)


def measure_incremental(root: Path, work: Path) -> list[Measurement]:
    notebook = sorted((root / "notebooks").glob("[0-9]*.ipynb"))[0]
    results = []
    say("3. no-op report")
    again = run(analysis("report", str(REAL_RELEASE)), root, work)
    results.append(measured("3", "no-op `analysis report` (nothing changed)", again, "≤ 2 s", limit_s=2))
    say(f"3. markdown-only edit of {notebook.name}")
    _edit_notebook(notebook, "markdown")
    markdown = run(analysis("report", str(REAL_RELEASE)), root, work)
    row = measured("3", f"report after a markdown-only edit of {notebook.name}", markdown, "≤ 3 s", limit_s=3)
    row.note = _rerun_note(markdown)
    results.append(row)
    say(f"3. code edit of {notebook.name}")
    _edit_notebook(notebook, "code")
    code = run(analysis("report", str(REAL_RELEASE)), root, work)
    executed = _notebooks_in_state(code, "executed")
    row = measured("3", f"report after a code edit of {notebook.name}: notebooks re-executed", code,
                   f"only {notebook.name}")
    row.value = ", ".join(executed) if _notebook_progress(code.stderr) else "n/a"
    row.passed = executed == [notebook.name]
    row.note = _rerun_note(code)
    results.append(row)
    shutil.copy2(REPO / "notebooks" / notebook.name, notebook)  # later sections run the notebooks as shipped
    return results


# ------------------------------------------------------------------ 4. synthetic releases at scale

LARGEST = 10_000_000
REPORT_SECONDS = 60  # issue 13: a report of 10M detainers (after ingest) within a minute ...
REPORT_PEAK_MB = 1536  # ... and 1.5 GB summed over the process tree; ingest of 10M within 1.5 GB too
FLAT_MEMORY = 1.5  # "memory roughly flat": the peak at 10M at most this many times the peak at 1M


def measure_scale(root: Path, work: Path, sizes: tuple[int, ...]) -> list[Measurement]:
    """For each size: a synthetic release generated (not counted), ingested, then reported; the
    time and summed peak of ingest and of the report, against issue 13's targets at 10M."""
    results: list[Measurement] = []
    measured_runs: dict[int, tuple[Run, Run]] = {}
    for rows in sizes:
        release = f"big-{rows // 1_000_000}m" if rows % 1_000_000 == 0 else f"big-{rows}"
        label = f"{rows / 1e6:g}M"
        say(f"4. generating {label} synthetic detainers")
        generated = run(analysis("sample", "--rows", str(rows), "--out", str(root / "data/raw" / release)), root, work)
        results.append(measured("4", f"generate synthetic {label} (`analysis sample`; not counted)", generated))
        if generated.returncode != 0:
            continue
        is_largest = rows == LARGEST
        say(f"4. ingest {release}")
        ingest = run(analysis("ingest", release), root, work)
        results.append(measured("4", f"synthetic {label}: `analysis ingest`", ingest,
                                "peak ≤ 1.5 GB" if is_largest else "", limit_mb=REPORT_PEAK_MB if is_largest else None))
        if ingest.returncode == 0:
            say(f"4. report {release}")
            report = run(analysis("report", release), root, work)
            results.append(measured("4", f"synthetic {label}: `analysis report` (after ingest)", report,
                                    "≤ 60 s, peak ≤ 1.5 GB" if is_largest else "",
                                    limit_s=REPORT_SECONDS if is_largest else None,
                                    limit_mb=REPORT_PEAK_MB if is_largest else None))
            if report.returncode == 0:
                measured_runs[rows] = (ingest, report)
        shutil.rmtree(root / "data/raw" / release, ignore_errors=True)  # disk: only the parquet is needed later
    smallest = min(measured_runs, default=None)
    if smallest is not None and LARGEST in measured_runs and smallest < LARGEST:
        small, large = measured_runs[smallest], measured_runs[LARGEST]
        scale = f"{LARGEST / 1e6:g}M / {smallest / 1e6:g}M"
        for index, what in enumerate(("ingest", "report")):
            growth = large[index].peak_mb / small[index].peak_mb
            results.append(Measurement("4", f"peak memory {scale}: {what}", value=f"{growth:.2f}",
                                       target=f"≤ {FLAT_MEMORY} (roughly flat)", passed=growth <= FLAT_MEMORY))
        ratio = (large[0].seconds + large[1].seconds) / (small[0].seconds + small[1].seconds)
        results.append(Measurement("4", f"time ratio {scale} (ingest + report)", value=f"{ratio:.1f}",
                                   target="≤ 12", passed=ratio <= 12))
    return results


# ------------------------------------------------------------------ 5. PDF engines

# nbconvert's LaTeX template lacks the counter pandoc >= 3.8.2 names for caption-less tables
# ("No counter 'none' defined", jupyter/nbconvert#2243); this template adds it.
NBCONVERT_TEMPLATE = r"""((* extends 'index.tex.j2' *))
((* block packages *))
((( super() )))
\newcounter{none}
((* endblock packages *))
"""

def measure_pdf(root: Path, work: Path, release: str) -> list[Measurement]:
    """Typst (the report's engine) against nbconvert's LaTeX PDF, over the same executed notebooks."""
    os.environ["ANALYSIS_ROOT"] = str(root)
    import nbformat
    import typst

    from analysis.paths import processed_dir, reports_dir
    from analysis.report.build import Assembly, render_pdf, report_metadata
    from analysis.report.parameters import ReportParameters

    executed = sorted((reports_dir(release) / "notebooks").glob("[0-9]*.ipynb"))
    if not executed:
        return [Measurement("5", "PDF compile", note=f"skipped: no executed notebooks in reports/{release}")]
    build = work / "pdf-build"
    shutil.rmtree(build, ignore_errors=True)
    build.mkdir()
    assembly = Assembly(build, "")
    for path in executed:
        assembly.notebook(nbformat.read(path, as_version=4))
    manifest = json.loads((processed_dir(release) / "manifest.json").read_text())
    meta = report_metadata(manifest, ReportParameters(release=release))
    say(f"5. pandoc + typst PDF of the {release} report")
    started = time.perf_counter()
    render_pdf(assembly.markdown(), meta, build)
    both = time.perf_counter() - started
    started = time.perf_counter()
    typst.compile(str(build / "report.typ"), root=str(build), sys_inputs=meta, ignore_system_fonts=True)
    alone = time.perf_counter() - started
    results = [
        Measurement("5", f"PDF of the {release} report: pandoc → Typst (`render_pdf`)", both,
                    note=f"typst.compile alone {alone:.1f} s; {len(executed)} notebooks, {assembly.figures} figures"),
    ]
    results.append(measure_nbconvert(root, work, executed))
    return results


def measure_nbconvert(root: Path, work: Path, executed: list[Path]) -> Measurement:
    what = f"nbconvert `--to pdf` (xelatex) of the same {len(executed)} executed notebooks, summed"
    if not shutil.which("xelatex"):
        return Measurement("5", what, note="skipped: xelatex not installed (apt-get install -y texlive-xetex "
                                           "texlive-fonts-recommended texlive-plain-generic)")
    import pypandoc

    pandoc_dir = str(Path(pypandoc.get_pandoc_path()).parent)  # nbconvert needs pandoc on PATH
    env = {"PATH": f"{pandoc_dir}{os.pathsep}{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    out = work / "nbconvert"
    out.mkdir(exist_ok=True)
    template = work / "bench.tex.j2"
    template.write_text(NBCONVERT_TEMPLATE)
    seconds, peak, failures = 0.0, 0.0, []
    for path in executed:
        say(f"5. nbconvert --to pdf {path.name}")
        # SVG2PDF needs Inkscape; without it LaTeX takes each figure's PNG, as the HTML report does
        result = run([sys.executable, "-m", "jupyter", "nbconvert", "--to", "pdf", "--output-dir", str(out),
                      "--SVG2PDFPreprocessor.enabled=False", "--template-file", str(template), str(path)],
                     root, work, env)
        seconds += result.seconds
        peak = max(peak, result.peak_mb)
        if result.returncode != 0:
            failures.append(f"{path.name}: {result.failure}")
    note = "; ".join(failures)[:300] if failures else (
        f"{len(executed)} PDFs, one per notebook; figures as PNG (no Inkscape); template adds \\newcounter{{none}}")
    return Measurement("5", what, seconds, peak, note=note)


# ------------------------------------------------------------------ the document

def machine() -> list[tuple[str, str]]:
    cpuinfo = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").exists() else ""
    model = re.search(r"model name\s*:\s*(.+)", cpuinfo)
    meminfo = Path("/proc/meminfo").read_text() if Path("/proc/meminfo").exists() else ""
    total = re.search(r"MemTotal:\s*(\d+) kB", meminfo)
    release = {}
    if Path("/etc/os-release").exists():
        release = dict(re.findall(r'^(\w+)="?([^"\n]*)"?$', Path("/etc/os-release").read_text(), re.MULTILINE))
    return [
        ("CPU", model.group(1).strip() if model else platform.processor() or "unknown"),
        ("Cores", str(os.cpu_count())),
        ("RAM", f"{int(total.group(1)) / 1024 / 1024:.1f} GiB" if total else "unknown"),
        ("Python", platform.python_version()),
        ("OS", f"{release.get('PRETTY_NAME', platform.system())}, kernel {platform.release()}"),
        ("Load average at start", " ".join(f"{x:.1f}" for x in os.getloadavg())),
        ("Peak memory", "summed RSS of the process tree (psutil, every 0.1 s); 'largest' is /usr/bin/time -v"),
    ]


def commit() -> str:
    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=REPO, capture_output=True, text=True).stdout.strip()

    head = git("rev-parse", "--short", "HEAD") or "unknown"
    return f"{head} (with uncommitted changes)" if git("status", "--porcelain") else head


def table(rows: list[Measurement]) -> str:
    def cell(value: float | None, fmt: str) -> str:
        return "" if value is None else fmt.format(value)

    lines = ["| # | measurement | time | peak RSS (tree) | largest process | value | target | result | note |",
             "|---|---|---:|---:|---:|---|---|---|---|"]
    for m in rows:
        result = {True: "pass", False: "miss", None: ""}[m.passed]
        lines.append(f"| {m.section} | {m.what} | {cell(m.seconds, '{:.1f} s')} | {cell(m.peak_mb, '{:,.0f} MB')} | "
                     f"{cell(m.largest_mb, '{:,.0f} MB')} | {m.value} | {m.target} | {result} | {m.note} |")
    return "\n".join(lines)


def main() -> int:
    global TIMEOUT
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sections", default="1,2,3,4,5", help="which measurements to run (default all)")
    parser.add_argument("--sizes", default=",".join(map(str, SIZES)), help="synthetic release sizes for section 4")
    parser.add_argument("--keep", action="store_true", help="keep the temporary project root")
    parser.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT / 60, help="minutes any one command may take")
    parser.add_argument("--quick", action="store_true",
                        help="the ingest / bare read ratio and 1M synthetic detainers only (sections 1 and 4, --sizes "
                             "1000000)")
    args = parser.parse_args()
    TIMEOUT = args.timeout * 60
    sections = {"1", "4"} if args.quick else set(args.sections.split(","))
    sizes = (1_000_000,) if args.quick else tuple(int(s) for s in args.sizes.split(",") if s)
    started, measured_commit = dt.datetime.now(), commit()
    work = Path(tempfile.mkdtemp(prefix="ice-bench-"))
    snapshot_sources(work)
    root = make_project(work / "project")
    rows: list[Measurement] = []
    real = REAL_RELEASE.is_dir()
    try:
        if real:
            if "1" in sections:
                rows += measure_ingest(root, work)
            if "2" in sections or "3" in sections or "5" in sections:
                rows += measure_cold_report(root, work)
            if "3" in sections:
                rows += measure_incremental(root, work)
        else:
            rows.append(Measurement("1-3", "real release", note=f"skipped: {REAL_RELEASE} is absent"))
        if "4" in sections:
            rows += measure_scale(root, work, sizes)
        if "5" in sections:
            pdf_release = REAL_RELEASE.name if real else next(
                (p.name for p in sorted((root / "reports").iterdir()) if (p / "notebooks").is_dir()), "")
            rows += measure_pdf(root, work, pdf_release) if pdf_release else [
                Measurement("5", "PDF compile", note="skipped: no report was built")]
    finally:
        if args.keep:
            say(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    minutes = (dt.datetime.now() - started).total_seconds() / 60
    command = " ".join(["benchmarks/bench.py", *sys.argv[1:]])
    print(f"# Benchmark results\n\nMeasured {started:%Y-%m-%d %H:%M} at commit {measured_commit} with "
          f"`{command}`; the whole benchmark took {minutes:.0f} min.\n")
    print("| machine | |\n|---|---|")
    for key, value in machine():
        print(f"| {key} | {value} |")
    print()
    print(table(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
