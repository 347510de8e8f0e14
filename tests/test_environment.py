"""The project's own files: dependency lists agree, notebooks are committed without outputs."""

from __future__ import annotations

import json
import re
import tomllib

import yaml

from .conftest import REPO


def _pins(lines: list[str]) -> dict[str, str]:
    pins = {}
    for line in lines:
        match = re.fullmatch(r"([A-Za-z0-9_.\-\[\]]+)==([^\s;]+)", line.strip())
        if match:
            pins[re.sub(r"[-_.]+", "-", match.group(1).lower())] = match.group(2)
    return pins


def test_environment_yml_and_pyproject_list_the_same_pinned_packages() -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    declared = project["dependencies"] + [d for group in project["optional-dependencies"].values() for d in group]
    env = yaml.safe_load((REPO / "environment.yml").read_text())
    pip_section = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict) and "pip" in d)
    assert _pins(declared) == _pins([d for d in pip_section if not d.startswith("-e")])
    assert all("==" in d for d in declared), "every dependency is pinned exactly"


def test_lock_file_pins_every_declared_package_at_the_same_version() -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    declared = _pins(project["dependencies"] + project["optional-dependencies"]["dev"])
    locked = _pins((REPO / "requirements.lock").read_text().splitlines())
    for name, version in declared.items():
        assert locked.get(name) == version, f"{name}: pyproject {version}, requirements.lock {locked.get(name)}"


def test_committed_notebooks_carry_no_outputs() -> None:
    notebooks = sorted((REPO / "notebooks").glob("*.ipynb"))
    assert notebooks
    for path in notebooks:
        notebook = json.loads(path.read_text())
        for cell in notebook["cells"]:
            if cell["cell_type"] == "code":
                assert not cell.get("outputs") and cell.get("execution_count") is None, f"{path.name} has outputs"
        assert notebook["metadata"]["kernelspec"]["name"] == "ice-detainers"
        tags = [c.get("metadata", {}).get("tags", []) for c in notebook["cells"]]
        assert any("parameters" in t for t in tags), f"{path.name} has no parameters cell"
