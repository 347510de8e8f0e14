"""Content-addressed keys for incremental builds.

A notebook re-executes only when one of its inputs changed: its code cells, its parameters,
the processed data of its release (the manifest: raw sha256s and the reader's fingerprint),
the library source, or the installed environment. Markdown cells are not part of the key, so
a prose edit re-renders from the cached outputs without starting a kernel.
"""

from __future__ import annotations

import json
from typing import Any

from analysis.fingerprint import digest, environment_fingerprint, library_fingerprint


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
