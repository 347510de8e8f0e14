"""The report's progress output carries nothing a user cannot act on: the kernel papermill starts
does not warn that it runs over TCP without encryption (its sockets are encrypted instead)."""

from __future__ import annotations

import logging
from pathlib import Path

import nbformat
import pytest

from analysis.report.build import ensure_kernel, execute
from analysis.report.parameters import ReportParameters

WARNING = "without encryption"


def test_one_notebook_execution_prints_no_kernel_transport_warning(
    tmp_path: Path, capfd: pytest.CaptureFixture, caplog: pytest.LogCaptureFixture
) -> None:
    notebook = nbformat.v4.new_notebook(metadata={"kernelspec": {"name": "ice-detainers", "display_name": "Python", "language": "python"}})
    notebook.cells = [nbformat.v4.new_code_cell("print('ran', 6 * 7)")]
    source, target = tmp_path / "one.ipynb", tmp_path / "one-executed.ipynb"
    nbformat.write(notebook, source)
    ensure_kernel()
    with caplog.at_level(logging.DEBUG):
        executed = execute(source, target, ReportParameters(release="sample"), tmp_path / "failed")
    assert executed.cells[-1].outputs[0]["text"] == "ran 42\n"  # the kernel ran
    captured = capfd.readouterr()  # the kernel process writes to the inherited file descriptors
    assert WARNING not in captured.err and WARNING not in captured.out
    assert not [r for r in caplog.records if WARNING in r.getMessage()]
