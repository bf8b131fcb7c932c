"""The layer contract, read from the imports: web -> domain -> engine, and no import cycle.

Every import counts, those inside functions too (a cycle held apart by a late import is still a
cycle); only `if TYPE_CHECKING:` blocks are left out. Run alone with
`.venv/bin/python -m pytest tests/unit/test_layers.py -q`.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("app", "jobs", "media")

# layer -> the layers it may import (itself included)
KERNEL = "kernel"  # settings and the extension objects, shared by every layer
MAY_IMPORT = {
    "engine": {"engine"},
    KERNEL: {KERNEL},
    "platform": {"platform", KERNEL},
    "domain": {"domain", "platform", KERNEL, "engine"},
    "worker": {"worker", "domain", "platform", KERNEL, "engine"},
    "web": {"web", "domain", "platform", KERNEL},
}
# the engine runs anywhere: nothing of Flask, the database or Redis
ENGINE_FORBIDDEN = ("flask", "flask_sqlalchemy", "sqlalchemy", "redis", "rq", "app", "jobs")


def layer(module: str) -> str:
    if module.startswith("media"):
        return "engine"
    if module in ("app.config", "app.extensions"):
        return KERNEL
    if module.startswith("app.platform"):
        return "platform"
    if module.startswith("app.domain"):
        return "domain"
    if module.startswith(("app.workers", "jobs")):
        return "worker"
    return "web"


def modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            parts = path.relative_to(ROOT).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            found[name] = path
    return found


def imports(path: Path, name: str) -> set[str]:
    """Every module `path` imports, type-checking-only imports aside."""
    tree = ast.parse(path.read_text())
    skipped = {
        id(child)
        for node in ast.walk(tree)
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)
        for statement in node.body
        for child in ast.walk(statement)
    }
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: from the package, up level - 1
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(parts + ([base] if base else []))
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return found


def first_party_graph() -> dict[str, set[str]]:
    known = modules()
    return {
        name: {target for target in imports(path, name) if target in known and target != name}
        for name, path in known.items()
    }


GRAPH = first_party_graph()


@pytest.mark.parametrize("module", sorted(GRAPH))
def test_imports_point_one_way(module):
    wrong = sorted(t for t in GRAPH[module] if layer(t) not in MAY_IMPORT[layer(module)])
    assert not wrong, f"{module} ({layer(module)}) imports {wrong}: its layer may not"


def test_the_engine_imports_nothing_of_the_app_flask_the_database_or_redis():
    for name, path in modules().items():
        if layer(name) == "engine":
            bad = sorted(m for m in imports(path, name) if m.split(".")[0] in ENGINE_FORBIDDEN)
            assert not bad, f"{name} imports {bad}"


def test_the_web_never_imports_job_code():
    for name, targets in GRAPH.items():
        if layer(name) == "web":
            assert not {t for t in targets if t.startswith(("jobs", "app.workers"))}, name


def test_no_import_cycle():
    """Depth-first search over the first-party graph; the first cycle found is shown."""
    state: dict[str, int] = {}  # 1: on the path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for target in sorted(_modules_only(GRAPH[node])):
            if state.get(target) == 1:
                return path[path.index(target) :] + [target]
            if target not in state and (cycle := visit(target)):
                return cycle
        path.pop()
        state[node] = 2
        return None

    for start in sorted(GRAPH):
        if start not in state and (cycle := visit(start)):
            pytest.fail("import cycle: " + " -> ".join(cycle))


def _modules_only(targets: set[str]) -> set[str]:
    """`from app.domain import plan` names the module app.domain.plan, not the package app.domain:
    a package's own __init__ is an edge only when something is imported from it by name."""
    return {t for t in targets if not any(other.startswith(t + ".") for other in targets)}
