"""The package's shape: imports flow one way, no cycle between packages, cited sources resolve.

The rule (also at the top of ``neurosim/__init__.py``): a module imports only from its own tier or
the tiers below it, and the packages of one tier import each other without a cycle::

    api, cli, bench  →  mission, bounds, energy, report
                →  compiler, sim, radiation, training, interchange
                →  chip, mlp, data  →  errors, fileio, resources, references, sniff
"""
import ast
import pathlib
import re

import neurosim
from neurosim.references import REFERENCES

ROOT = pathlib.Path(neurosim.__file__).parent
TIERS = [
    {"api", "cli", "bench", "__main__"},
    {"mission", "bounds", "energy", "report"},
    {"compiler", "sim", "radiation", "training", "interchange", "_core"},
    {"chip", "mlp", "data", "activation", "validation"},
    {"errors", "fileio", "resources", "references", "sniff", "_shipped"},
]
TIER = {name: i for i, names in enumerate(TIERS) for name in names}


def _package(path):
    """The top-level part of neurosim a file belongs to ('neurosim' for the package façade)."""
    rel = path.relative_to(ROOT).with_suffix("")
    return rel.parts[0] if rel.parts != ("__init__",) else "neurosim"


def _imported_parts(tree):
    """Top-level parts of neurosim imported anywhere in a module (function bodies included)."""
    parts = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
        else:
            continue
        for name in names:
            bits = name.split(".")
            if bits[0] == "neurosim" and len(bits) > 1:
                parts.add(bits[1])
    return parts


def _edges():
    edges = {}
    for path in ROOT.rglob("*.py"):
        src = _package(path)
        for dst in _imported_parts(ast.parse(path.read_text(encoding="utf-8"))):
            if dst != src and dst != "__version__":
                edges.setdefault(src, {}).setdefault(dst, set()).add(str(path.relative_to(ROOT)))
    return edges


def test_every_part_of_the_package_has_a_tier():
    parts = {_package(p) for p in ROOT.rglob("*.py")} - {"neurosim"}
    assert parts <= set(TIER), f"not in a tier: {sorted(parts - set(TIER))}"


def test_imports_flow_downward():
    upward = [f"{src} -> {dst} ({', '.join(sorted(files))})"
              for src, dsts in _edges().items() if src != "neurosim"
              for dst, files in dsts.items() if TIER.get(dst, 99) < TIER[src]]
    assert not upward, "upward imports:\n" + "\n".join(upward)


def test_no_import_cycle_between_packages():
    edges = {src: set(d) for src, d in _edges().items() if src != "neurosim"}
    seen, stack = set(), []

    def visit(node):
        if node in stack:
            raise AssertionError("import cycle: " + " -> ".join(stack[stack.index(node):] + [node]))
        if node in seen:
            return
        stack.append(node)
        for nxt in sorted(edges.get(node, ())):
            visit(nxt)
        stack.pop()
        seen.add(node)

    for node in sorted(edges):
        visit(node)


def test_cited_reference_keys_resolve():
    cited = {}
    for path in ROOT.rglob("*.py"):
        for key in re.findall(r"\[([a-z][a-z0-9-]*\d{4}[a-z0-9-]*)\]", path.read_text("utf-8")):
            cited.setdefault(key, path.name)
    missing = {k: f for k, f in cited.items() if k not in REFERENCES}
    assert not missing, f"cited but not in neurosim.references: {missing}"


def test_no_citation_points_outside_the_repository():
    bad = [str(p.relative_to(ROOT)) for p in ROOT.rglob("*.py")
           if re.search(r"REFERENCES(\.md)? ?§|\bissue \d+\b", p.read_text("utf-8"))]
    assert not bad, f"cite neurosim.references keys instead: {bad}"


def test_readme_lists_every_reference():
    readme = (pathlib.Path(__file__).resolve().parents[1] / "README.md").read_text("utf-8")
    missing = [key for key in REFERENCES if f"`[{key}]`" not in readme]
    assert not missing, f"README 'References' lacks {missing}"
