"""Stage, then swap: outputs appear whole or not at all, for ingest and report alike. What a run
killed midway left (a staging, build or retired folder named with its process id) is removed
by the next run once that process is gone."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

# .<name>.staging-PID and .<name>.retired-PID (ingest, swaps), .build<suffix>-PID (report)
LEFTOVER = re.compile(r"^\..+\.(?:staging|retired)-(\d+)$|^\.build[^/]*-(\d+)$")


def pid_alive(pid: int) -> bool:
    """Whether a process with this id exists (one owned by another user counts as alive)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def swap_into_place(staging: Path, final: Path) -> None:
    """Replace `final` by `staging` with renames, so readers see the old or the new, never a mix."""
    retired = final.with_name(f".{final.name}.retired-{os.getpid()}")
    if final.exists() or final.is_symlink():
        final.rename(retired)
    staging.rename(final)
    remove(retired)


def remove(path: Path) -> None:
    """A folder with its contents, a file or a symbolic link (never what a link points to)."""
    if path.is_symlink() or (path.exists() and not path.is_dir()):
        path.unlink(missing_ok=True)
    else:
        shutil.rmtree(path, ignore_errors=True)


def clean_leftovers(folder: Path) -> list[Path]:
    """Remove what runs that no longer exist left in `folder`; returns what was removed."""
    removed: list[Path] = []
    if not folder.is_dir():
        return removed
    for path in sorted(folder.iterdir()):
        match = LEFTOVER.match(path.name)
        pid = int(match.group(1) or match.group(2)) if match else None
        if pid is not None and pid != os.getpid() and not pid_alive(pid):
            remove(path)
            removed.append(path)
    return removed
