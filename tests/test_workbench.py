"""The researcher's workbench: CI workflow, pre-commit hooks, notebook stripping, locks."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import yaml

from analysis.errors import ReleaseError
from analysis.locking import release_lock

from .conftest import REPO


def _tool(name: str) -> str:
    path = Path(sys.executable).parent / name
    if not path.exists():
        found = shutil.which(name)
        if not found:
            pytest.fail(f"{name} is not installed in this environment (it is a pinned dev dependency)")
        return found
    return str(path)


def test_github_workflow_passes_actionlint() -> None:
    workflow = REPO / ".github/workflows/ci.yml"
    done = subprocess.run([_tool("actionlint"), str(workflow)], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    steps = yaml.safe_load(workflow.read_text())["jobs"]["test-and-report"]["steps"]
    runs = [s.get("run") for s in steps]
    assert "make test" in runs and "make report" in runs
    assert any(s.get("uses", "").startswith("actions/upload-artifact") for s in steps)


def test_actionlint_catches_a_broken_workflow(tmp_path: Path) -> None:
    broken = tmp_path / "bad.yml"
    broken.write_text("on: push\njobs:\n  x:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo ${{ github.nope }}\n")
    assert subprocess.run([_tool("actionlint"), str(broken)], capture_output=True).returncode != 0


def test_pre_commit_strips_notebooks_with_the_pinned_nbstripout(tmp_path: Path) -> None:
    config = yaml.safe_load((REPO / ".pre-commit-config.yaml").read_text())
    hooks = {h["id"]: h for repo in config["repos"] for h in repo["hooks"]}
    assert "nbstripout" in hooks and hooks["nbstripout"]["files"] == r"\.ipynb$"
    notebook = json.loads((REPO / "notebooks/01_release_overview.ipynb").read_text())
    notebook["cells"][2]["outputs"] = [{"output_type": "stream", "name": "stdout", "text": "x"}]
    notebook["cells"][2]["execution_count"] = 3
    path = tmp_path / "nb.ipynb"
    path.write_text(json.dumps(notebook))
    subprocess.run([_tool("nbstripout"), str(path)], check=True)
    stripped = json.loads(path.read_text())
    assert stripped["cells"][2]["outputs"] == [] and stripped["cells"][2]["execution_count"] is None


def test_second_run_on_a_release_waits_then_stops_clearly(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANALYSIS_LOCK_WAIT", "0.5")
    held = threading.Event()
    release = threading.Event()

    def first_run() -> None:
        with release_lock("r1"):
            held.set()
            release.wait(5)

    worker = threading.Thread(target=first_run)
    worker.start()
    held.wait(5)
    try:
        # flock is per open file description: a second open in this process contends like another process
        started = time.monotonic()
        with pytest.raises(ReleaseError, match="another run is still working on release 'r1'"):
            with release_lock("r1"):
                pass
        assert time.monotonic() - started >= 0.4
        with release_lock("r2"):  # other releases are not blocked
            pass
    finally:
        release.set()
        worker.join()
    with release_lock("r1"):  # free again once the first run ends
        pass


def test_make_lab_opens_the_notebooks_on_the_sample_release() -> None:
    done = subprocess.run(["make", "-n", "lab"], cwd=REPO, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "analysis ingest sample" in done.stdout and "jupyter lab notebooks/" in done.stdout


@pytest.mark.e2e
def test_parameters_cells_work_as_they_are(sample_project: Path, tmp_path: Path) -> None:
    """A researcher opens a notebook and runs it: the defaults point at the sample release."""
    import papermill as pm

    from analysis.report.build import KERNEL_NAME, ensure_kernel

    ensure_kernel()
    for name in ("01_release_overview.ipynb", "03_detainer_outcomes.ipynb"):
        pm.execute_notebook(str(REPO / "notebooks" / name), str(tmp_path / name), kernel_name=KERNEL_NAME,
                            cwd=str(REPO / "notebooks"), progress_bar=False)
        executed = json.loads((tmp_path / name).read_text())
        assert not [o for c in executed["cells"] for o in c.get("outputs", []) if o.get("output_type") == "error"]
