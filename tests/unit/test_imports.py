"""The suite's imports: no cycle inside conformance/, and every third-party module it imports is declared."""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from functools import cache
from importlib.metadata import packages_distributions
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "conformance"
# Modules of conformance/ that import a distribution pyproject.toml does not declare (module -> distributions);
# each is a known problem to fix, not an allowance: the lead empties this list.
UNDECLARED_KNOWN: dict[str, set[str]] = {}


def module_name(path: Path) -> str:
    """The dotted name of a module file under the repository root."""
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def suite_modules() -> dict[str, Path]:
    """Every module of conformance/ by dotted name."""
    return {module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def imported_names(name: str, path: Path) -> set[str]:
    """Every name an import statement of the module reaches, at any depth (function-level imports count too)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parent, *([node.module] if node.module else [])])
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)
    return names


def import_graph() -> dict[str, set[str]]:
    """Module -> the modules of conformance/ it imports."""
    modules = suite_modules()
    return {name: {n for n in imported_names(name, path) if n in modules and n != name} for name, path in modules.items()}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_no_import_cycle_inside_conformance() -> None:
    found = cycles(import_graph())
    assert not found, f"import cycles inside conformance/ (break each by moving what both need): {found}"


def declared_distributions() -> set[str]:
    """The runtime dependencies of pyproject.toml, by normalized name."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    return {normalized(re.split(r"[<>=!~;\[ ]", spec, maxsplit=1)[0]) for spec in project["dependencies"]}


def normalized(distribution: str) -> str:
    """A distribution name as PEP 503 compares them."""
    return re.sub(r"[-_.]+", "-", distribution).lower()


@cache
def module_owners() -> dict[str, list[str]]:
    """Top-level module name -> the installed distributions providing it (slow to compute: once)."""
    return dict(packages_distributions())


def third_party_distributions(name: str, path: Path) -> set[str]:
    """The installed distributions whose modules the module imports (stdlib and the suite itself left out)."""
    owners = module_owners()
    tops = {n.split(".")[0] for n in imported_names(name, path)} - {"conformance", "__future__"}
    return {normalized(d) for top in tops - set(sys.stdlib_module_names) for d in owners.get(top, [top])}


def test_every_third_party_import_is_declared() -> None:
    declared = declared_distributions()
    undeclared = {}
    for name, path in suite_modules().items():
        missing = third_party_distributions(name, path) - declared - UNDECLARED_KNOWN.get(name, set())
        if missing:
            undeclared[name] = sorted(missing)
    assert not undeclared, f"imported but not declared in pyproject.toml [project] dependencies: {undeclared}"


def test_the_known_offenders_still_offend() -> None:
    """An entry of UNDECLARED_KNOWN that no longer applies is removed, so the list only ever shrinks."""
    modules = suite_modules()
    stale = {name: sorted(dists - third_party_distributions(name, modules[name]) if name in modules else dists)
             for name, dists in UNDECLARED_KNOWN.items()}
    stale = {name: dists for name, dists in stale.items() if dists}
    assert not stale, f"no longer imported: remove from UNDECLARED_KNOWN: {stale}"
