"""Which files of a release folder are data (light: no parsing libraries imported).

A release is everything its folder holds, subfolders included (a file's name is its path
relative to the folder). Hidden files and folders (`.git`, `.ipynb_checkpoints`) are not part
of it; Excel's lock files (`~$Name.xlsx`) are skipped with a warning, and so are files that
look like data the reader cannot read (archives, other spreadsheet formats)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

from analysis.errors import InputFileError

WORKBOOK_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".xlsb", ".ods")
TEXT_SUFFIXES = (".csv", ".txt", ".tsv")
LOCK_FILE_PREFIX = "~$"  # Excel's owner file beside an open workbook: a user name, not data
UNREAD_DATA_SUFFIXES = (".zip", ".7z", ".rar", ".tar", ".tgz", ".numbers", ".xlt", ".xltx", ".xltm", ".fods", ".ots",
                        ".dbf", ".xml")


def is_data_file(path: Path) -> bool:
    suffixes = [s.lower() for s in path.suffixes[-2:]]
    if suffixes and suffixes[-1] == ".gz":
        suffixes = suffixes[:-1]
    return bool(suffixes) and suffixes[-1] in WORKBOOK_SUFFIXES + TEXT_SUFFIXES


def _is_lock_file(path: Path) -> bool:
    return path.name.startswith(LOCK_FILE_PREFIX)


def _release_paths(raw_dir: Path) -> Iterator[Path]:
    """Every file under the release folder, hidden ones left out. Symbolic links to folders are
    not followed (a link out of the folder is refused; one inside leads to files read where they are)."""
    for folder, subfolders, names in os.walk(raw_dir):
        here = Path(folder)
        kept = []
        for sub in sorted(subfolders):
            if sub.startswith("."):
                continue
            if (here / sub).is_symlink():
                check_inside(here / sub, raw_dir, (here / sub).relative_to(raw_dir).as_posix())
                continue
            kept.append(sub)
        subfolders[:] = kept
        yield from (here / name for name in names if not name.startswith("."))


def list_data_files(raw_dir: Path) -> list[Path]:
    """The release's data files, by relative path, with every symbolic link checked (`check_inside`):
    a broken link or one leading out of the release folder is an error, not skipped. A link to a
    file the listing holds anyway is left out, so no file is read twice."""
    found = sorted((p for p in _release_paths(raw_dir) if is_data_file(p) and not _is_lock_file(p)),
                   key=lambda p: p.relative_to(raw_dir).as_posix())
    for path in found:
        check_inside(path, raw_dir, path.relative_to(raw_dir).as_posix())
    files = [p for p in found if p.is_file()]
    real = {p.resolve() for p in files if not p.is_symlink()}
    return [p for p in files if not (p.is_symlink() and p.resolve() in real)]


def listing_warnings(raw_dir: Path) -> list[str]:
    """What the listing left out that a reader should know of: lock files, files that look like
    data but are not read, and links to files that are read under their own name."""
    notes = []
    listed = set(list_data_files(raw_dir))
    for path in sorted(_release_paths(raw_dir), key=lambda p: p.relative_to(raw_dir).as_posix()):
        name = path.relative_to(raw_dir).as_posix()
        if is_data_file(path) and _is_lock_file(path):
            notes.append(f"{name}: an Excel lock file (left while a workbook is open), not data; skipped")
        elif is_data_file(path) and path not in listed and path.is_file():
            target = path.resolve().relative_to(raw_dir.resolve()).as_posix()
            notes.append(f"{name}: a symbolic link to {target}, which is read under its own name; not read twice")
        elif path.suffix.lower() in UNREAD_DATA_SUFFIXES:
            notes.append(f"{name}: not read (only .xlsx, .xlsm, .xls, .xlsb, .ods, .csv, .txt and .tsv files are); "
                         "if it holds records, convert or unpack it into the release folder")
    return notes


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
