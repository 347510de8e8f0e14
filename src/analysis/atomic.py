"""Stage, then swap: outputs appear whole or not at all, for ingest and report alike."""

from __future__ import annotations

import os
import shutil
from pathlib import Path


def swap_into_place(staging: Path, final: Path) -> None:
    """Replace `final` by `staging` with renames, so readers see the old or the new, never a mix."""
    retired = final.with_name(f".{final.name}.retired-{os.getpid()}")
    if final.exists():
        final.rename(retired)
    staging.rename(final)
    shutil.rmtree(retired, ignore_errors=True)
