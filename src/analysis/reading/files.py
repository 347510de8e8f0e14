"""Which files of a release folder are data (light: no parsing libraries imported)."""

from __future__ import annotations

from pathlib import Path

from analysis.errors import InputFileError

WORKBOOK_SUFFIXES = (".xlsx", ".xlsm", ".xls")
TEXT_SUFFIXES = (".csv", ".txt", ".tsv")


def is_data_file(path: Path) -> bool:
    suffixes = [s.lower() for s in path.suffixes[-2:]]
    if suffixes and suffixes[-1] == ".gz":
        suffixes = suffixes[:-1]
    return bool(suffixes) and suffixes[-1] in WORKBOOK_SUFFIXES + TEXT_SUFFIXES


def list_data_files(raw_dir: Path) -> list[Path]:
    """The release's data files, by name, with every symbolic link checked (`check_inside`):
    a broken link or one leading out of the release folder is an error, not skipped."""
    found = sorted(p for p in raw_dir.iterdir() if not p.name.startswith(".") and is_data_file(p))
    for path in found:
        check_inside(path, raw_dir, path.name)
    return [p for p in found if p.is_file()]


def check_inside(path: Path, raw_dir: Path, name: str) -> None:
    """The release is what its folder holds: a file reached through a symbolic link that
    leads outside the folder (or nowhere) is refused, so ingest never reads elsewhere."""
    try:
        target = path.resolve(strict=True)
    except (OSError, RuntimeError):
        raise InputFileError("is a broken or looping symbolic link", file=name) from None
    if not target.is_relative_to(raw_dir.resolve()):
        raise InputFileError(
            f"is a symbolic link to {target}, outside the release folder; copy the file into the folder instead",
            file=name,
        )
