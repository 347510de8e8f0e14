"""The package's design, checked: no import cycles between its modules, and every module in a subpackage."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "analysis"
SHELL = {"__init__", "__main__", "cli", "errors", "paths", "progress", "locking", "atomic", "fingerprint",
         "release", "words", "escaping", "safe_yaml", "export"}


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path, modules: set[str]) -> set[str]:
    """Modules of the package that `path` imports, at module level or inside functions alike."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module in modules:
                found.add(node.module)
            for alias in node.names:
                if f"{node.module}.{alias.name}" in modules:
                    found.add(f"{node.module}.{alias.name}")
        elif isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names if alias.name in modules}
    found.discard("analysis")  # the package itself holds only __version__
    return found


def import_graph() -> dict[str, set[str]]:
    paths = {module_name(p): p for p in PACKAGE.rglob("*.py")}
    modules = set(paths)
    return {name: imports_of(path, modules) - {name} for name, path in paths.items()}


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}  # 1 on the current path, 2 done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for target in sorted(graph.get(node, ())):
            if state.get(target) == 1:
                return path[path.index(target):] + [target]
            if target not in state and (cycle := visit(target)):
                return cycle
        path.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def test_find_cycle_finds_a_cycle():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set(), "c": {"a"}}) is None


def test_no_import_cycles():
    cycle = find_cycle(import_graph())
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


def test_every_module_is_in_a_subpackage_or_the_shell():
    loose = sorted(p.stem for p in PACKAGE.glob("*.py") if p.stem not in SHELL)
    assert loose == [], f"modules outside a subpackage: {loose}"


def external_imports(path: Path) -> set[str]:
    """Top-level names of the packages outside `analysis` that `path` imports."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
        elif isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
    return found - {"analysis"}


def reachable(graph: dict[str, set[str]], start: str) -> set[str]:
    seen, todo = set(), [start]
    while todo:
        node = todo.pop()
        if node not in seen:
            seen.add(node)
            todo += graph.get(node, set())
    return seen


def test_reachable_follows_imports_of_imports():
    assert reachable({"a": {"b"}, "b": {"c"}, "c": set(), "d": {"a"}}, "a") == {"a", "b", "c"}


def test_measures_vocabulary_and_reading_know_nothing_of_the_report():
    """metrics/, vocab/ and reading/ take frames and files: they reach no module of report/
    (the notebook context, its prose) and never import IPython, directly or through another module."""
    graph = import_graph()
    paths = {module_name(p): p for p in PACKAGE.rglob("*.py")}
    for name in sorted(paths):
        if name.split(".")[1:2] not in (["metrics"], ["vocab"], ["reading"]):
            continue
        used = reachable(graph, name)
        assert not [m for m in used if m.startswith("analysis.report")], f"{name} reaches report/: {sorted(used)}"
        assert not [m for m in used if "IPython" in external_imports(paths[m])], f"{name} reaches IPython"


# Each layer imports only layers before it: the order the README's layout section describes.
LAYERS = (
    {"errors", "safe_yaml", "paths", "progress", "locking", "atomic", "fingerprint", "escaping"},
    {"vocab"},
    {"words"},
    {"reading"},
    {"release"},
    {"metrics"},
    {"figures"},
    {"checks"},
    {"sample", "export"},
    {"report"},
    {"sections"},
    {"cli", "__main__"},
)


def layer_of(module: str) -> int:
    part = module.split(".")[1]
    return next(i for i, layer in enumerate(LAYERS) if part in layer)


def test_every_module_has_a_layer():
    assert [name for name in import_graph() if name != "analysis" and not any(
        name.split(".")[1] in layer for layer in LAYERS)] == []


def test_layers_import_only_the_layers_before_them():
    upward = sorted(f"{a} -> {b}" for a, targets in import_graph().items() if a != "analysis" for b in targets
                    if layer_of(b) > layer_of(a))
    assert upward == []
