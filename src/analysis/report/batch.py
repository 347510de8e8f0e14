"""`analysis report RELEASE --each state|aor|facility`: one report per geography, run as Dask tasks.

The release is ingested once, here. The geographies whose report is up to date (same notebook
cache keys and report key as `analysis report --state CA` would compute) are not sent anywhere;
the others become one Dask task each, on a `LocalCluster` started for the batch or on an existing
cluster (`--scheduler`). A task never raises: a failure comes back as its one line, so one
geography's failure is one row of the index and the others go on.

Sizing: each task runs its report's notebooks one after the other in one kernel (see
`report.kernel`), so a worker with one thread keeps about one core busy. The local cluster has
one single-threaded worker per core, at every release size (a kernel holds DuckDB's small
results, not the tables).
"""

from __future__ import annotations

import json
import logging
import os
import platform
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from analysis.errors import AnalysisError, ReportError
from analysis.fingerprint import environment_fingerprint, library_fingerprint
from analysis.paths import ReleaseLocation, display_path, project_root, reports_dir
from analysis.progress import Progress
from analysis.reading.ingest import ingest
from analysis.reading.manifest import MANIFEST_NAME
from analysis.report.build import ReportPaths, build_report, plan_report
from analysis.report.geographies import Geography, Listing, list_geographies, summarize
from analysis.report.index import Row, write_batch_record, write_release_index
from analysis.report.parameters import ReportParameters

SUMMARY_FILE = ".cache/summary.json"  # beside report.key: the counts of that report
CONNECT_TIMEOUT = "20s"
WORKER_WAIT_SECONDS = 60
POLL_SECONDS = 0.5


@dataclass
class Outcome:
    geography: Geography
    status: str                  # built, up to date, failed
    message: str = ""
    summary: dict[str, Any] = field(default_factory=dict)


@dataclass
class BatchResult:
    batch_dir: Path
    index_html: Path
    index_csv: Path
    outcomes: list[Outcome]

    @property
    def failures(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.status == "failed"]

    def counts(self) -> str:
        statuses = [o.status for o in self.outcomes]
        return ", ".join(f"{statuses.count(s)} {s}" for s in ("built", "up to date", "failed") if s in statuses) or "none"


def build_each(location: ReleaseLocation, base: ReportParameters, kind: str, *, min_records: int = 1,
               scheduler: str | None = None, workers: int | None = None, force: bool = False,
               progress: Progress | None = None) -> BatchResult:
    """One report per geography of `kind`, then the release's index. Returns every outcome."""
    progress = progress or Progress(quiet=True)
    manifest = ingest(location, force=force, progress=progress)
    listing = list_geographies(base, kind, min_records)
    batch_dir = reports_dir(base.release) / f"by-{kind}{base.suffix}"
    progress.say(f"{len(listing.geographies)} {listing.kind.plural} in release {base.release}"
                 + (f" with at least {min_records:,} records ({listing.left_out:,} with fewer)" if listing.left_out else ""))
    if listing.unassigned:
        progress.say(f"warning: {listing.unassigned:,} {listing.table} records have no {listing.kind.noun}; "
                     "they are in no report of this batch")
    outcomes: dict[str, Outcome] = {}
    stale: list[Geography] = []
    for geography in listing.geographies:
        if geography.problem:
            outcomes[geography.code] = Outcome(geography, "failed", geography.problem)
            continue
        summary = None if force else current_summary(manifest, geography.parameters(base), batch_dir / geography.folder)
        if summary is not None:
            outcomes[geography.code] = Outcome(geography, "up to date", summary=summary)
        else:
            stale.append(geography)
    if stale:
        progress.say(f"{len(listing.geographies) - len(stale)} up to date; {len(stale)} to build")
        outcomes.update(run_on_dask(stale, base, listing, batch_dir, force=force, scheduler=scheduler,
                                    workers=workers or default_workers(), quiet=progress.quiet))
    ordered = [outcomes[g.code] for g in listing.geographies]
    write_batch_record(batch_dir, kind=kind, noun=listing.kind.noun, plural=listing.kind.plural, table=listing.table,
                       min_records=min_records, min_cell=base.min_cell, left_out=listing.left_out,
                       unassigned=listing.unassigned, rows=[_row(o, batch_dir) for o in ordered])
    index_csv, index_html = write_release_index(reports_dir(base.release), base.release, bool(manifest.get("synthetic")))
    return BatchResult(batch_dir, index_html, index_csv, ordered)


def default_workers() -> int:
    return max(1, os.cpu_count() or 1)


def current_summary(manifest: dict, params: ReportParameters, folder: Path) -> dict | None:
    """The counts written beside a report that is up to date, else None."""
    report_key = plan_report(manifest, params).report_key
    if not ReportPaths.of(params, folder).is_current(report_key):
        return None
    try:
        summary = json.loads((folder / SUMMARY_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return summary if summary.get("report_key") == report_key else None


def _row(outcome: Outcome, batch_dir: Path) -> Row:
    geography, summary = outcome.geography, outcome.summary
    built = outcome.status != "failed"
    link = f"{batch_dir.name}/{geography.folder}/report" if built else ""
    message = outcome.message
    if built and summary.get("records") != geography.records:
        message = (f"the report counts {summary.get('records')} records of this {geography.kind}; "
                   f"{geography.records} carry its code in some spelling")
    return Row(geography.name, geography.code, summary.get("records", geography.records),
               summary.get("declined_strict"), summary.get("declined_broad"), outcome.status, message,
               f"{link}.pdf" if built else "", f"{link}.html" if built else "")


# ------------------------------------------------------------------------------------ Dask

def build_geography(root: str, params: dict, folder: str, table: str, force: bool, library: str,
                    environment: str) -> dict[str, Any]:
    """A Dask task: one geography's report, then its counts for the index. Returns
    {"status": "built", "summary": {...}} or {"status": "failed", "message": one line}."""
    try:
        os.environ["ANALYSIS_ROOT"] = root
        report = ReportParameters(**params)
        _check_worker(root, report.release, library, environment)
        build_report(ReleaseLocation(report.release, None, {}), report, force=force, folder=Path(folder),
                     one_kernel=True)
        summary: dict[str, Any] = {**summarize(report, table)}
        summary["report_key"] = ReportPaths.of(report, Path(folder)).key_file.read_text()
        (Path(folder) / SUMMARY_FILE).write_text(json.dumps(summary, sort_keys=True) + "\n", encoding="utf-8")
        return {"status": "built", "summary": summary}
    except AnalysisError as error:
        return {"status": "failed", "message": error.one_line()}
    except Exception as error:  # noqa: BLE001 - one geography's failure is one line of the index
        return {"status": "failed", "message": _one_line(error)}


def _check_worker(root: str, release: str, library: str, environment: str) -> None:
    """A worker of an existing cluster must see this project and run this code in this environment."""
    host = platform.node()
    manifest = Path(root) / "data" / "processed" / release / MANIFEST_NAME
    if not manifest.is_file():
        raise ReportError(f"worker {host} does not see {manifest}: workers need the project folder, with the "
                          "release's processed data, at the same path (a shared folder)")
    if library_fingerprint() != library:
        raise ReportError(f"worker {host} runs other code of this package than {root}: restart the workers "
                          "after changing the checkout")
    if environment_fingerprint() != environment:
        raise ReportError(f"worker {host} runs another Python environment: start the workers with the "
                          "project's .venv (same packages, same versions)")


def _one_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return f"internal error: {type(error).__name__}" + (f": {text[0]}" if text else "")


def run_on_dask(stale: list[Geography], base: ReportParameters, listing: Listing, batch_dir: Path, *, force: bool,
                scheduler: str | None, workers: int, quiet: bool) -> dict[str, Outcome]:
    outcomes: dict[str, Outcome] = {}
    root = str(project_root())
    library, environment = library_fingerprint(), environment_fingerprint()
    with dask_client(scheduler, min(workers, len(stale))) as client:
        futures = {}
        for rank, geography in enumerate(stale):  # largest first: the long tasks start early
            args = (root, geography.parameters(base).as_dict(), str(batch_dir / geography.folder), listing.table,
                    force, library, environment)
            key = f"report-{listing.kind.name}-{geography.folder}-{uuid.uuid4().hex[:8]}"
            futures[client.submit(build_geography, *args, key=key, pure=False, priority=len(stale) - rank)] = geography
        with batch_progress(f"by-{listing.kind.name}", len(futures), quiet) as bar:
            remaining = dict(futures)
            while remaining:
                done = [f for f in remaining if f.done()]
                for future in done:
                    geography = remaining.pop(future)
                    outcome = _outcome(future, geography)
                    outcomes[geography.code] = outcome
                    bar.finished(geography, outcome)
                bar.update(running=_running(client, len(remaining)))
                if not done:
                    time.sleep(POLL_SECONDS)
    return outcomes


def _outcome(future: Any, geography: Geography) -> Outcome:
    if future.status == "finished":
        result = future.result()
        return Outcome(geography, result["status"], result.get("message", ""), result.get("summary", {}))
    error = future.exception()
    return Outcome(geography, "failed", f"the task did not finish: {_one_line(error)}" if error else "cancelled")


def _running(client: Any, remaining: int) -> int:
    try:
        processing = sum(len(tasks) for tasks in client.processing().values())
        threads = sum(client.nthreads().values())
    except Exception:  # noqa: BLE001 - the count is for the progress bar only
        return 0
    return min(processing, threads, remaining)


@contextmanager
def dask_client(scheduler: str | None, workers: int) -> Iterator[Any]:
    """A client of the cluster at `scheduler`, or of a LocalCluster of `workers` single-threaded
    worker processes started (and stopped) here. Dask's own log lines are silenced."""
    from distributed import Client, LocalCluster

    logging.getLogger("distributed").setLevel(logging.ERROR)
    if scheduler:
        try:
            client = Client(scheduler, timeout=CONNECT_TIMEOUT)
        except (OSError, TimeoutError) as error:
            raise ReportError(f"cannot reach the Dask scheduler at {scheduler}: {_one_line(error)}") from None
        with client:
            try:
                client.wait_for_workers(1, timeout=WORKER_WAIT_SECONDS)
            except TimeoutError:
                raise ReportError(f"the Dask scheduler at {scheduler} has no workers (waited "
                                  f"{WORKER_WAIT_SECONDS} s)") from None
            yield client
        return
    with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, host="127.0.0.1",
                      dashboard_address=None, silence_logs=logging.ERROR) as cluster, Client(cluster) as client:
        yield client


class BatchBar:
    """The batch's progress on stderr (rich): done, running, failed, time left; and one line per
    finished geography (plain text: names from the release are never read as markup)."""

    def __init__(self, label: str, total: int, quiet: bool) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        self.failed = 0
        self.progress = Progress(
            TextColumn("{task.description}"), BarColumn(bar_width=24), MofNCompleteColumn(), TextColumn("done ·"),
            TextColumn("{task.fields[running]} running · {task.fields[failed]} failed ·"), TimeElapsedColumn(),
            TextColumn("·"), TimeRemainingColumn(compact=True), TextColumn("left"),
            console=Console(stderr=True), disable=quiet, refresh_per_second=4, speed_estimate_period=300,
        )
        self.task = self.progress.add_task(label, total=total, running=0, failed=0)
        self.quiet = quiet

    def finished(self, geography: Geography, outcome: Outcome) -> None:
        if outcome.status == "failed":
            self.failed += 1
        self.progress.update(self.task, advance=1, failed=self.failed)
        if not self.quiet:
            line = f"{geography.name} ({geography.code}): {outcome.status}"
            if outcome.message:
                line += f": {outcome.message}"
            self.progress.console.print(line, markup=False, highlight=False, emoji=False)

    def update(self, running: int) -> None:
        self.progress.update(self.task, running=running)


@contextmanager
def batch_progress(label: str, total: int, quiet: bool) -> Iterator[BatchBar]:
    bar = BatchBar(label, total, quiet)
    with bar.progress:
        yield bar


def failure_lines(result: BatchResult) -> list[str]:
    return [f"  {o.geography.name} ({o.geography.code}): {o.message}" for o in result.failures]


def summary_line(result: BatchResult) -> str:
    return f"{result.batch_dir.name}: {result.counts()} -> {display_path(result.index_html)}"

