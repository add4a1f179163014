"""The bounds package's import rules: no cycle, nothing upward (mission, radiation, report, cli)."""
import ast
import pathlib

import neurosim.bounds

PACKAGE = pathlib.Path(neurosim.bounds.__file__).parent
ORDER = ["report", "studies", "checkpoints", "chip", "observed", "theory"]  # a module imports only those after it


def _imports(path):
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{a.name}" for a in node.names)
    return names


def test_bounds_imports_flow_one_way():
    for path in PACKAGE.glob("*.py"):
        names = _imports(path)
        upward = [n for n in names if n.split(".")[:2] in (["neurosim", "mission"],
                                                         ["neurosim", "radiation"],
                                                         ["neurosim", "report"],
                                                         ["neurosim", "cli"])]
        assert not upward, f"{path.name} imports {upward}"
        if path.stem in ORDER:
            later = ORDER[ORDER.index(path.stem) + 1:]
            own = {n.split(".")[2] for n in names
                   if n.startswith("neurosim.bounds.") and len(n.split(".")) > 2}
            assert own <= set(later), f"{path.stem} imports {own - set(later)} (not below it)"


def test_theory_is_numpy_only():
    names = _imports(PACKAGE / "theory.py")
    external = {n.split(".")[0] for n in names} - {"__future__", "math", "dataclasses", "numpy",
                                                     "neurosim"}
    assert not external
    assert {n for n in names if n.startswith("neurosim")} <= {"neurosim.errors",
                                                              "neurosim.errors.ValidationError"}
