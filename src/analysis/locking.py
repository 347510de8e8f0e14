"""One run at a time per release: a second `ingest` or `report` on the same release waits for
the first, then stops with a clear message if it waited too long. Different releases run freely."""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager

from analysis.errors import ReleaseError
from analysis.paths import check_release_id, project_root, require_folder
from analysis.progress import Progress

DEFAULT_WAIT_SECONDS = 600


@contextmanager
def release_lock(release_id: str, progress: Progress | None = None) -> Iterator[None]:
    folder = require_folder(require_folder(project_root() / "data" / "processed") / ".locks")
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{check_release_id(release_id)}.lock"
    wait = float(os.environ.get("ANALYSIS_LOCK_WAIT", DEFAULT_WAIT_SECONDS))
    with path.open("a+") as handle:
        if not _try_lock(handle):
            holder = path.read_text().strip() or "another process"
            (progress or Progress()).say(f"release {release_id!r} is in use by {holder}; waiting up to {wait:.0f} s ...")
            deadline = time.monotonic() + wait
            while not _try_lock(handle):
                if time.monotonic() >= deadline:
                    raise ReleaseError(
                        f"another run is still working on release {release_id!r} ({holder}); try again when it "
                        f"has finished (lock: {path})"
                    )
                time.sleep(0.2)
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()}\n")
        handle.flush()
        try:
            yield
        finally:
            handle.seek(0)
            handle.truncate()
            fcntl.flock(handle, fcntl.LOCK_UN)


def _try_lock(handle) -> bool:
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except BlockingIOError:
        return False
