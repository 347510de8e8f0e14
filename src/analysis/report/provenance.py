"""Where a report came from: raw files, code version, environment, parameters."""

from __future__ import annotations

import platform
import subprocess
from importlib import metadata
from pathlib import Path

import pandas as pd

from analysis import words
from analysis.report.parameters import ReportParameters
from analysis.vocab.definitions import (
    BUCKETS,
    CRIMINALITY_LABELS,
    DECLINED_DESCRIPTIONS,
    FISCAL_YEAR_DEFINITION,
    LIFT_REASON_BUCKET,
)

MAIN_PACKAGES = ("pandas", "pyarrow", "numpy", "python-calamine", "openpyxl", "matplotlib", "papermill",
                 "nbformat", "pypandoc-binary", "typst")


def git_state(folder: Path | None = None) -> dict[str, str | bool | None]:
    """The commit of the package's source checkout and whether its working tree had changes."""
    folder = folder or Path(__file__).resolve().parent

    def git(*args: str) -> str | None:
        try:
            done = subprocess.run(["git", "-C", str(folder), *args], capture_output=True, text=True, timeout=20)
        except (OSError, subprocess.TimeoutExpired):
            return None
        return done.stdout.strip() if done.returncode == 0 else None

    commit = git("rev-parse", "HEAD")
    if commit is None:
        return {"commit": None, "dirty": None}
    status = git("status", "--porcelain", "--untracked-files=no")
    return {"commit": commit, "dirty": bool(status)}


def package_versions() -> pd.DataFrame:
    rows = [{"Component": "Python", "Version": platform.python_version()}]
    for name in MAIN_PACKAGES:
        try:
            rows.append({"Component": name, "Version": metadata.version(name)})
        except metadata.PackageNotFoundError:
            rows.append({"Component": name, "Version": "not installed"})
    try:
        import pypandoc

        rows.append({"Component": "pandoc (bundled)", "Version": pypandoc.get_pandoc_version()})
    except (ImportError, OSError):
        pass
    try:
        rows.append({"Component": "ice-detainer-analysis", "Version": metadata.version("ice-detainer-analysis")})
    except metadata.PackageNotFoundError:
        pass
    return pd.DataFrame(rows)


def code_version_sentence(state: dict) -> str:
    if state["commit"] is None:
        return "The package's source is not a git checkout here, so no commit can be named."
    dirty = ("with uncommitted changes in the working tree (the report may not be reproducible from the commit alone)"
             if state["dirty"] else "with a clean working tree")
    return f"Code: git commit `{state['commit'][:12]}`, {dirty}."


def raw_files(manifest: dict) -> pd.DataFrame:
    return pd.DataFrame(
        [{"File": f["path"], "Bytes": f["bytes"], "SHA-256": f["sha256"]} for f in manifest["files"]]
    )


def parameters_table(params: ReportParameters) -> pd.DataFrame:
    shown = {key: ("(not set)" if value is None else str(value)) for key, value in params.as_dict().items()}
    return pd.DataFrame({"Parameter": list(shown), "Value": list(shown.values())})


def suppression_markdown(min_cell: int) -> str:
    """How small cells are suppressed (`--min-cell`), as Markdown; '' when nothing is."""
    if min_cell <= 1:
        return ""
    return (f"**Small cells.** A count from 1 to {min_cell - 1:,} is shown as `{words.small_label(min_cell)}`, in "
            "tables, figure labels and prose, and a share, rate or change computed from it is left out. In a table "
            "with a total, a suppressed count could otherwise be recomputed as the total minus the other counts "
            "shown, so a second count is withheld in every row (and column) that would have exactly one: the "
            f"smallest other non-zero count, shown as `{words.WITHHELD}` (or the total, when there is none). This "
            "repeats until no total leaves a single count unknown.")


def definitions_markdown(min_cell: int = 1) -> str:
    """The definitions every section relies on, as Markdown (with how small cells are suppressed,
    when the report suppresses them)."""
    reasons: dict[str, list[str]] = {}
    for reason, bucket in LIFT_REASON_BUCKET.items():
        reasons.setdefault(bucket, []).append(f"'{reason}'")
    lines = [f"**Fiscal year.** {FISCAL_YEAR_DEFINITION} A fiscal year whose records start or stop more than a week "
             "inside its bounds is marked *partial*.", "", "**Outcome of a detainer** (from its lift reason):", ""]
    for bucket, label in BUCKETS.items():
        if bucket == "still_open":
            members = "no lift reason recorded (still active, or not recorded)"
        elif bucket == "unrecognised":
            members = "a lift reason not in ICE's documented list; shown, never dropped"
        else:
            members = ", ".join(reasons.get(bucket, []))
        lines.append(f"- *{label}*: {members}.")
    lines += ["", "**Declined detainer.** Two definitions are in use, and every number names the one it uses:", ""]
    lines += [f"- *{name}*: {text}." for name, text in DECLINED_DESCRIPTIONS.items()]
    lines += ["", "**Criminality** (ICE's classification when the detainer was prepared):", ""]
    lines += [f"- *{label}* (`{code}`)." for code, label in CRIMINALITY_LABELS.items()]
    if suppression := suppression_markdown(min_cell):
        lines += ["", suppression]
    return "\n".join(lines)
