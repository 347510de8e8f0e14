"""Content-addressed keys for incremental builds.

A notebook re-executes only when one of its inputs changed: its code cells, its parameters,
the processed data of its release (the manifest: raw sha256s and the reader's fingerprint),
the library source, or the installed environment. Markdown cells are not part of the key, so
a prose edit re-renders from the cached outputs without starting a kernel.
"""

from __future__ import annotations

import hashlib
import json
from functools import lru_cache
from importlib import metadata
from pathlib import Path
from typing import Any

PACKAGE_DIR = Path(__file__).resolve().parent
READER_MODULES = ("sources.py", "layout.py", "columns.py", "kinds.py", "cleaning.py", "ingest.py", "tables.py",
                  "manifest.py", "errors.py", "validation.py", "safety.py", "release_files.py", "definitions.py",
                  "geography.py", "fiscal.py")
READER_PACKAGES = ("pyarrow", "pandas", "numpy", "python-calamine", "openpyxl", "defusedxml")


def digest(*parts: str | bytes) -> str:
    hasher = hashlib.sha256()
    for part in parts:
        data = part.encode("utf-8") if isinstance(part, str) else part
        hasher.update(len(data).to_bytes(8, "big"))
        hasher.update(data)
    return hasher.hexdigest()


def _files_digest(paths: list[Path]) -> str:
    return digest(*[item for path in sorted(paths) for item in (path.name, path.read_bytes())])


def _versions(names: tuple[str, ...]) -> str:
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
    modules = [PACKAGE_DIR / name for name in READER_MODULES if (PACKAGE_DIR / name).is_file()]
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
    installed = sorted({f"{d.metadata['Name']}=={d.version}".lower() for d in metadata.distributions()})
    return digest(*installed)


def _source(cell: dict[str, Any]) -> str:
    text = cell.get("source", "")
    return "".join(text) if isinstance(text, list) else text


def code_cells(notebook: dict[str, Any]) -> list[str]:
    return [_source(cell) for cell in notebook["cells"] if cell["cell_type"] == "code"]


def notebook_key(notebook: dict[str, Any], parameters: dict, manifest_bytes: bytes) -> str:
    """Key of a notebook read as plain JSON (nbformat is slow to import; a no-op build avoids it)."""
    return digest(
        json.dumps(code_cells(notebook)),
        json.dumps(notebook.get("metadata", {}).get("kernelspec", {}), sort_keys=True),
        json.dumps(parameters, sort_keys=True),
        manifest_bytes,
        library_fingerprint(),
        environment_fingerprint(),
    )


def is_injected(cell: dict[str, Any]) -> bool:
    return "injected-parameters" in cell.get("metadata", {}).get("tags", [])


def with_cached_outputs(source: dict[str, Any], executed: Any) -> Any:
    """The current notebook (its markdown as edited now) with the outputs of a cached execution
    whose code cells are the same, and the parameters papermill injected into that execution."""
    import nbformat

    merged = nbformat.reads(json.dumps(source), as_version=4)  # joins on-disk line lists into strings
    executed_code = [c for c in executed.cells if c.cell_type == "code" and not is_injected(c)]
    current_code = [c for c in merged.cells if c.cell_type == "code"]
    if [c.source for c in executed_code] != [c.source for c in current_code]:
        raise ValueError("cached notebook does not match the current code cells")
    for cell, done in zip(current_code, executed_code, strict=True):
        cell["outputs"] = done.get("outputs", [])
        cell["execution_count"] = done.get("execution_count")
    injected = [c for c in executed.cells if is_injected(c)]
    if injected:
        tagged = [i for i, c in enumerate(merged.cells) if "parameters" in c.get("metadata", {}).get("tags", [])]
        merged.cells.insert(tagged[0] + 1 if tagged else 0, injected[0])
    merged.metadata = executed.metadata
    return merged
