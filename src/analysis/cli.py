"""The `analysis` command: sample, ingest, report. Errors are one line on stderr, exit status 2."""

from __future__ import annotations

import argparse
import functools
import gc
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from analysis import __version__
from analysis.errors import AnalysisError, ReportError
from analysis.locking import release_lock
from analysis.progress import Progress


class OneLineParser(argparse.ArgumentParser):
    """Usage mistakes are one line too: what was wrong and where to read more."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"{self.prog}: error: {message} (see `{self.prog} --help`)\n")


def _global_options(parser: argparse.ArgumentParser, default: object) -> None:
    parser.add_argument("--debug", action="store_true", default=default,
                        help="show the full traceback of unexpected errors")
    parser.add_argument("-q", "--quiet", action="store_true", default=default, help="no progress lines")


def _parser() -> argparse.ArgumentParser:
    parser = OneLineParser(prog="analysis", description="Turn ICE detainer data releases into tidy data and reports.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    _global_options(parser, default=False)
    # the same options after the command (`analysis report sample -q`); SUPPRESS keeps the value given before it
    common = OneLineParser(add_help=False)
    _global_options(common, default=argparse.SUPPRESS)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    command = functools.partial(commands.add_parser, parents=[common])

    sample = command("sample", help="write the synthetic sample release (default data/raw/sample/)")
    sample.add_argument("--rows", type=int, default=None, help="number of detainer records (default 12,000)")
    sample.add_argument("--seed", type=int, default=None, help="random seed (same seed, same files)")
    sample.add_argument("--out", type=Path, default=None, help="folder to write (default data/raw/sample)")
    sample.add_argument("--force", action="store_true", help="replace an existing generated sample")

    ingest = command("ingest", help="read a raw release into data/processed/<id>/")
    ingest.add_argument("release", help="release id under data/raw/, or a path to a folder of raw files")
    ingest.add_argument("--force", action="store_true", help="ingest again even if the processed data is current")

    report = command("report", help="ingest if needed, run the notebooks, write reports/<id>/report.pdf")
    report.add_argument("release", help="release id under data/raw/, or a path to a folder of raw files")
    report.add_argument("--previous-release", default=None, help="release to compare with (default: release.yml's)")
    report.add_argument("--state", default=None, help="limit to one state (two-letter code, e.g. CA)")
    report.add_argument("--aor", default=None, help="limit to one ICE area of responsibility (e.g. Seattle)")
    report.add_argument("--fy-start", type=int, default=None, help="first fiscal year to include")
    report.add_argument("--fy-end", type=int, default=None, help="last fiscal year to include")
    report.add_argument("--declined-definition", choices=("strict", "broad"), default="strict")
    report.add_argument("--min-cell", type=int, default=1, help="show counts below this as '<N' (default 1: none)")
    report.add_argument("--facility", default=None, help="limit to one facility, by its code (facility_code)")
    report.add_argument("--force", action="store_true", help="re-run every step even if outputs exist")
    batch = report.add_argument_group(
        "one report per geography", "--each writes reports/<id>/by-<kind>/<place>/report.pdf and .html for every "
        "place of that kind in the release, and reports/<id>/index.html and index.csv; on Dask (a local cluster, "
        "or --scheduler)")
    batch.add_argument("--each", choices=("state", "aor", "facility"), default=None,
                       help="one report per state, area of responsibility or facility")
    batch.add_argument("--min-records", type=int, default=None,
                       help="only places with at least N records (default 1)")
    batch.add_argument("--scheduler", default=None, metavar="ADDRESS",
                       help="run on this Dask scheduler (tcp://host:8786) instead of a local cluster")
    batch.add_argument("--workers", type=int, default=None,
                       help="local cluster size (default: one single-threaded worker per core)")

    diff = command("diff", help="what RELEASE changed compared with PREVIOUS (ingests both if needed)")
    diff.add_argument("release", help="the new release: id under data/raw/, or a path to a folder of raw files")
    diff.add_argument("previous", help="the release it replaces: id or path")

    combine = command(
        "combine", help="write data/raw/NEW_ID/release.yml combining productions into one series, and ingest it",
        description="Combine productions of one request into one release: for a table and fiscal year that several "
        "cover, the newest production's records are used (newest by as-of date, then by the order given: list them "
        "oldest first). Every overlap and its revision is listed in the manifest and the report.",
    )
    combine.add_argument("new_id", metavar="NEW_ID", help="id of the combined release (folder data/raw/NEW_ID/)")
    combine.add_argument("productions", nargs="+", metavar="PRODUCTION",
                         help="release ids under data/raw/ or folder paths, oldest first (at least two)")

    claims = command("claims", help="check published figures (data/claims/*.yml) against a release")
    claims.add_argument("release", help="release id under data/raw/, or a path to a folder of raw files")
    claims.add_argument("--claims", type=Path, default=None, help="folder of claim files (default data/claims)")

    export = command(
        "export", help="write the processed tables as csv, parquet or dta (record-level; identifiers left out)",
        description="Write a release's processed tables for other tools (ingests first if needed). Exports are "
        "RECORD-LEVEL working data, not publications: identifiers (by name or shape) and row hashes are always left out, "
        "CSV cells that a spreadsheet would run as formulas are prefixed with ', and files go to "
        "data/exports/<id>/ (never into reports/, data/raw/ or data/processed/). Publish aggregates only, via "
        "`analysis report`.",
    )
    export.add_argument("release", help="release id under data/raw/, or a path to a folder of raw files")
    export.add_argument("--format", required=True, choices=("csv", "parquet", "dta"), help="file format (csv and parquet are written in batches, any size; "
                        "dta, Stata 14+, holds each whole table in memory)")
    export.add_argument("--out", type=Path, default=None, help="folder to write (default data/exports/<id>/)")
    export.add_argument("--table", action="append", default=None, help="export only this table (repeatable)")
    return parser


def _sample(args: argparse.Namespace, progress: Progress) -> None:
    from analysis.paths import raw_root
    from analysis.sample.generator import DEFAULT_ROWS, DEFAULT_SEED, SAMPLE_ID, SampleSpec, write_sample

    out = args.out or raw_root() / SAMPLE_ID
    spec = SampleSpec(rows=args.rows or DEFAULT_ROWS, seed=DEFAULT_SEED if args.seed is None else args.seed)
    truth = write_sample(out, spec, force=args.force, progress=progress)
    print(f"wrote {out} ({truth['detainers']['rows']:,} detainers, {truth['arrests']['rows']:,} arrests; SYNTHETIC)")


def _ingest(args: argparse.Namespace, progress: Progress) -> None:
    from analysis.paths import display_path, locate_release, processed_dir
    from analysis.reading.ingest import ingest

    location = locate_release(args.release)
    with release_lock(location.release_id, progress):
        manifest = ingest(location, force=args.force, progress=progress)
    tables = ", ".join(f"{name} {info['rows']:,}" for name, info in sorted(manifest["tables"].items()))
    print(f"{manifest['release']}: {tables} -> {display_path(processed_dir(manifest['release']))}")
    for warning in manifest["warnings"]:
        print(f"warning: {warning}", file=sys.stderr)


def _report(args: argparse.Namespace, progress: Progress) -> None:
    from analysis.paths import display_path, locate_release
    from analysis.report.build import build_report
    from analysis.report.parameters import ReportParameters

    location = locate_release(args.release)
    check_batch_options(args)
    params = ReportParameters(
        release=location.release_id,
        previous_release=args.previous_release or location.previous_release,
        state=args.state, aor=args.aor, fy_start=args.fy_start, fy_end=args.fy_end,
        declined_definition=args.declined_definition, min_cell=args.min_cell, facility=args.facility,
    )
    if args.each:
        _report_each(args, location, params, progress)
        return
    with release_lock(location.release_id, progress):
        pdf = build_report(location, params, force=args.force, progress=progress)
    print(f"wrote {display_path(pdf)} and {display_path(pdf.with_suffix('.html'))}")


def check_batch_options(args: argparse.Namespace) -> None:
    batch_only = [f"--{name.replace('_', '-')}" for name in ("min_records", "scheduler", "workers")
                  if getattr(args, name) is not None]
    if batch_only and not args.each:
        raise AnalysisError(f"{', '.join(batch_only)} only go with --each")
    places = [f"--{name}" for name in ("state", "aor", "facility") if getattr(args, name)]
    if args.each and places:
        raise AnalysisError(f"--each {args.each} makes one report per place: leave out {', '.join(places)}")
    for name in ("min_records", "workers"):
        value = getattr(args, name)
        if value is not None and value < 1:
            raise AnalysisError(f"--{name.replace('_', '-')} must be at least 1 (got {value})")


def _report_each(args: argparse.Namespace, location, params, progress: Progress) -> None:
    from analysis.report.batch import build_each, failure_lines, summary_line

    with release_lock(location.release_id, progress):
        result = build_each(location, params, args.each, min_records=args.min_records or 1,
                            scheduler=args.scheduler, workers=args.workers, force=args.force, progress=progress)
    print(summary_line(result))
    if result.failures:
        print("failed:", *failure_lines(result), sep="\n", file=sys.stderr)
        raise ReportError(f"{len(result.failures)} of {len(result.outcomes)} reports failed (listed above; "
                          f"the index marks them)")


def _diff(args: argparse.Namespace, progress: Progress) -> None:
    from analysis.checks.compare import compare_releases, format_comparison
    from analysis.paths import locate_release
    from analysis.reading.ingest import ingest

    current, previous = (ingest(locate_release(name), progress=progress)["release"] for name in (args.release, args.previous))
    print(format_comparison(compare_releases(current, previous)))


def _combine(args: argparse.Namespace, progress: Progress) -> None:
    from analysis.paths import display_path, locate_release
    from analysis.reading.combine import format_overlaps, write_combination
    from analysis.reading.ingest import ingest

    config = write_combination(args.new_id, args.productions)
    print(f"wrote {display_path(config)}")
    with release_lock(args.new_id, progress):
        manifest = ingest(locate_release(args.new_id), progress=progress)
    print(format_overlaps(manifest))
    for warning in manifest["warnings"]:
        print(f"warning: {warning}", file=sys.stderr)


def _claims(args: argparse.Namespace, progress: Progress) -> None:
    from analysis.checks.claims import check_claims, format_results, load_claims
    from analysis.paths import locate_release
    from analysis.reading.ingest import ingest

    release = ingest(locate_release(args.release), progress=progress)["release"]
    print(format_results(check_claims(release, load_claims(args.claims)), release))


def _export(args: argparse.Namespace, progress: Progress) -> None:
    from analysis.export import export_release
    from analysis.paths import display_path, locate_release
    from analysis.reading.ingest import ingest

    location = locate_release(args.release)
    with release_lock(location.release_id, progress):
        ingest(location, progress=progress)
        result = export_release(location.release_id, args.format, args.out, args.table)
    left_out = sorted({column for columns in result.left_out.values() for column in columns})
    print(f"wrote {len(result.left_out)} table(s) as {args.format} to {display_path(result.out_dir)}: record-level "
          f"data for analysis, not for publication; left out: {', '.join(left_out) or 'nothing'}")


COMMANDS = {"sample": _sample, "ingest": _ingest, "report": _report, "diff": _diff, "combine": _combine,
            "claims": _claims, "export": _export}


def run() -> None:
    """The `analysis` command: `main`, then exit. What is still in memory at exit is frozen out of
    the cycle collector (`gc.freeze`): Python would otherwise walk every object left (pandas,
    pyarrow and numpy hold hundreds of thousands) once more just before the process ends, about a
    tenth of a second per command. Files and workers are closed by the commands themselves."""
    code = main()
    gc.freeze()
    raise SystemExit(code)


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    progress = Progress(quiet=args.quiet)
    started = time.perf_counter()
    try:
        COMMANDS[args.command](args, progress)
    except AnalysisError as error:
        print(f"analysis: error: {error.one_line()}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("analysis: interrupted; outputs of the interrupted step were not published", file=sys.stderr)
        return 130
    except Exception as error:  # noqa: BLE001 - the user's first message is never a traceback
        if args.debug:
            raise
        first = str(error).splitlines()[0] if str(error) else ""
        print(f"analysis: internal error: {type(error).__name__}: {first} (run `analysis --debug "
              f"{args.command} ...` for the traceback, and please report it)", file=sys.stderr)
        return 1
    progress.say(f"analysis {args.command}: finished in {time.perf_counter() - started:.1f} s")
    return 0
