"""Incremental builds: keys change with code, parameters and data, not with prose; a no-op
build does nothing; a markdown edit re-renders without a kernel; a code edit re-runs one notebook."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from analysis.cli import main
from analysis.report.cache import notebook_key, with_cached_outputs

from .conftest import REPO, make_project, project_env

NOTEBOOK = {
    "cells": [
        {"cell_type": "markdown", "metadata": {}, "source": ["# Title\n", "prose"]},
        {"cell_type": "code", "metadata": {"tags": ["parameters"]}, "source": "release = 'x'", "outputs": [], "execution_count": None},
        {"cell_type": "code", "metadata": {}, "source": ["a = 1\n", "a"], "outputs": [], "execution_count": None},
    ],
    "metadata": {"kernelspec": {"name": "ice-detainers"}},
    "nbformat": 4,
    "nbformat_minor": 5,
}


def _edited(**changes) -> dict:
    notebook = json.loads(json.dumps(NOTEBOOK))
    for index, source in changes.items():
        notebook["cells"][int(index[1:])]["source"] = source
    return notebook


def test_key_ignores_prose_but_not_code_parameters_or_data() -> None:
    key = notebook_key(NOTEBOOK, {"release": "x"}, b"manifest")
    assert notebook_key(_edited(c0="# Other title"), {"release": "x"}, b"manifest") == key
    assert notebook_key(_edited(c2="a = 2\na"), {"release": "x"}, b"manifest") != key
    assert notebook_key(NOTEBOOK, {"release": "y"}, b"manifest") != key
    assert notebook_key(NOTEBOOK, {"release": "x"}, b"other manifest") != key


def test_cached_outputs_are_grafted_onto_current_prose() -> None:
    executed = json.loads(json.dumps(NOTEBOOK))
    executed["cells"][2]["outputs"] = [{"output_type": "execute_result", "data": {"text/plain": "1"}, "metadata": {}, "execution_count": 1}]
    executed["cells"].insert(2, {"cell_type": "code", "metadata": {"tags": ["injected-parameters"]}, "source": "release = 'y'", "outputs": [], "execution_count": None})
    import nbformat

    merged = with_cached_outputs(_edited(c0="# New title"), nbformat.reads(json.dumps(executed), as_version=4))
    assert merged.cells[0].source == "# New title"
    assert merged.cells[2].source == "release = 'y'"  # the parameters that execution really used
    assert merged.cells[3].outputs[0]["data"]["text/plain"] == "1"
    with pytest.raises(ValueError):
        with_cached_outputs(_edited(c2="b = 2"), nbformat.reads(json.dumps(executed), as_version=4))


def _report(root: Path, capsys: pytest.CaptureFixture) -> str:
    capsys.readouterr()
    with project_env(root):
        assert main(["report", "sample"]) == 0
    return capsys.readouterr().err


def _edit(path: Path, cell_type: str, change) -> None:
    notebook = json.loads(path.read_text())
    cell = [c for c in notebook["cells"] if c["cell_type"] == cell_type][-1]
    source = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
    cell["source"] = change(source)
    path.write_text(json.dumps(notebook))


@pytest.mark.e2e
def test_no_op_markdown_edit_and_code_edit(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    root = make_project(tmp_path / "p")
    for extra in (root / "notebooks").glob("*.ipynb"):
        if not extra.name.startswith(("01_", "90_")):
            extra.unlink()
    with project_env(root):
        assert main(["-q", "sample", "--rows", "300"]) == 0
    first = _report(root, capsys)
    assert first.count(": executed in") == 2
    assert "up to date (reports/sample/report.pdf)" in _report(root, capsys)

    _edit(root / "notebooks/01_release_overview.ipynb", "markdown", lambda s: s + "\n\nA sentence added by an editor.")
    log = _report(root, capsys)
    assert "01_release_overview.ipynb: cached" in log and "executed in" not in log
    assert "A sentence added by an editor." in (root / "reports/sample/report.html").read_text()

    _edit(root / "notebooks/90_appendix.ipynb", "code", lambda s: s + "\nx = 1")
    log = _report(root, capsys)
    assert "01_release_overview.ipynb: cached" in log
    assert "90_appendix.ipynb: executed in" in log

    with project_env(root):
        capsys.readouterr()
        assert main(["report", "sample", "--force"]) == 0
    assert capsys.readouterr().err.count(": executed in") == 2


def test_a_notebook_that_asks_to_run_alone_says_why(tmp_path):
    """The repeat-detainer notebook's query needs more memory than a kernel's share: it runs after
    the others, by itself (`report.build.execute_all`), which keeps the 10M report under 1.5 GB."""
    import nbformat

    from analysis.report.build import runs_alone

    notebooks = {p.name: nbformat.read(p, as_version=4) for p in (REPO / "notebooks").glob("*.ipynb")}
    alone = sorted(name for name, notebook in notebooks.items() if runs_alone(notebook))
    assert alone == ["04_repeat_detainers.ipynb"]
    assert "memory" in notebooks["04_repeat_detainers.ipynb"].metadata["analysis"]["runs_alone"]
    assert not runs_alone({"metadata": {"analysis": {"runs_alone": ""}}}) and not runs_alone({})


def test_notebooks_that_run_alone_run_after_the_others(tmp_path, monkeypatch):
    from analysis.progress import Progress
    from analysis.report import build

    ran: list[str] = []
    monkeypatch.setattr(build, "_execute_one", lambda source, *rest: ran.append(Path(source).name) or 0.0)
    paths = [tmp_path / f"{n}.ipynb" for n in ("00_a", "04_heavy", "05_b", "90_c")]
    done = build.execute_all(paths, build.ReportParameters(release="sample"), tmp_path, tmp_path, Progress(quiet=True),
                             "test", len(paths), paths, parallel=1, alone={paths[1]})
    assert done == paths
    assert ran == ["00_a.ipynb", "05_b.ipynb", "90_c.ipynb", "04_heavy.ipynb"]
