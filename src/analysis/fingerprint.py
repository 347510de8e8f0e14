"""Fingerprints of what outputs depend on besides their inputs: the code and the environment.

The reader's fingerprint covers whole folders (`reading/`, `vocab/`) and the shell modules they
import, so a module added or renamed there is covered without a list to keep up to date."""

from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
READER_FOLDERS = ("reading", "vocab")
READER_SHELL = ("errors.py", "paths.py", "progress.py", "words.py")  # the shell modules the reader imports
READER_PACKAGES = ("pyarrow", "pandas", "numpy", "python-calamine", "openpyxl", "defusedxml")


def digest(*parts: str | bytes) -> str:
    hasher = hashlib.sha256()
    for part in parts:
        data = part.encode("utf-8") if isinstance(part, str) else part
        hasher.update(len(data).to_bytes(8, "big"))
        hasher.update(data)
    return hasher.hexdigest()


def _files_digest(paths: list[Path]) -> str:
    named = sorted((p.relative_to(PACKAGE_DIR).as_posix(), p) for p in paths)
    return digest(*[item for name, path in named for item in (name, path.read_bytes())])


def _versions(names: tuple[str, ...]) -> str:
    from importlib import metadata  # imported when a fingerprint is made (it pulls in the email package)

    found = []
    for name in names:
        try:
            found.append(f"{name}=={metadata.version(name)}")
        except metadata.PackageNotFoundError:
            found.append(f"{name}==absent")
    return ";".join(found)


@lru_cache(maxsize=1)
def reader_fingerprint() -> str:
    """What the processed tables depend on besides the raw files: the reading code and its libraries."""
    modules = [p for folder in READER_FOLDERS for p in (PACKAGE_DIR / folder).rglob("*.py")]
    modules += [PACKAGE_DIR / name for name in READER_SHELL]
    return digest(_files_digest(modules), _versions(READER_PACKAGES))[:16]


@lru_cache(maxsize=1)
def library_fingerprint() -> str:
    sources = [p for p in PACKAGE_DIR.rglob("*") if p.is_file() and p.suffix in (".py", ".typ", ".css", ".csv", ".yml")]
    reference = PACKAGE_DIR.parents[1] / "data" / "reference"
    if reference.is_dir():
        sources += [p for p in reference.rglob("*") if p.is_file()]
    root = PACKAGE_DIR.parents[1]
    return digest(*[item for p in sorted(sources) for item in (p.relative_to(root).as_posix(), p.read_bytes())])


@lru_cache(maxsize=1)
def environment_fingerprint() -> str:
    """Every installed distribution and its version: the pinned environment as it really is."""
    from importlib import metadata

    installed = sorted({f"{d.metadata['Name']}=={d.version}".lower() for d in metadata.distributions()})
    return digest(*installed)
