"""`analysis ingest`: every sheet of a raw release -> one parquet file per table + manifest.json.

This module decides whether a release must be (re)read and guards raw-data integrity; the
reading itself is in `build`, and a combined release (`combines:` in release.yml) is built by
`combine`. Outputs are written to a staging folder and swapped in at the end, so a failure
leaves the previous processed data as it was. Raw files are only ever read.
"""

from __future__ import annotations

from analysis.errors import ReleaseError
from analysis.fingerprint import reader_fingerprint
from analysis.paths import ReleaseLocation, display_path, processed_dir, require_folder
from analysis.progress import Progress
from analysis.reading.files import list_data_files
from analysis.reading.manifest import MANIFEST_NAME, file_record, read_manifest


def ingest(location: ReleaseLocation, *, force: bool = False, progress: Progress | None = None) -> dict:
    """Ingest a release unless its processed data is current; returns the manifest."""
    progress = progress or Progress(quiet=True)
    out_dir = processed_dir(location.release_id)
    require_folder(out_dir.parent)
    require_folder(out_dir, link_allowed=False)
    if location.raw_dir is None:
        return read_manifest(out_dir)
    if "combines" in location.config:  # a series built from other productions (reading/combine.py)
        from analysis.reading.combine import ingest_combined

        return ingest_combined(location, ingest, force=force, progress=progress)
    files = list_data_files(location.raw_dir)
    if not files:
        raise ReleaseError(
            "release directory holds no data files (.xlsx, .xlsm, .xls, .xlsb, .ods, .csv, .txt, .tsv, optionally "
            "gzip-compressed)",
            file=display_path(location.raw_dir),
        )
    records = [file_record(path, location.raw_dir) for path in files]
    previous = read_manifest(out_dir) if (out_dir / MANIFEST_NAME).is_file() else None
    if previous is not None:
        check_raw_unchanged(previous, records, location)
        if not force and previous.get("reader_fingerprint") == reader_fingerprint():
            progress.say(f"ingest {location.release_id}: up to date ({display_path(out_dir)})")
            return previous
    from analysis.reading.build import build_tables  # the parsing stack is imported only when a release is (re)read

    return build_tables(location, files, records, out_dir, progress)


def check_raw_unchanged(previous: dict, records: list[dict], location: ReleaseLocation) -> None:
    """Raw data is immutable: a file that changed, appeared or vanished since the first ingest is an error."""
    before = {f["path"]: f for f in previous.get("files", [])}
    now = {f["path"]: f for f in records}
    for path in sorted(set(before) | set(now)):
        old, new = before.get(path), now.get(path)
        if old and new and old["sha256"] == new["sha256"]:
            continue
        change = "changed" if old and new else ("appeared" if new else "vanished")
        raise ReleaseError(
            f"raw file {change} since release {location.release_id!r} was first ingested; raw files are never "
            f"modified: put a new release in a new folder (or delete {display_path(processed_dir(location.release_id))} "
            "to start this one over)",
            file=display_path(location.raw_dir / path) if location.raw_dir else path,
        )
