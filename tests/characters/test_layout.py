"""The layout rules of characters/: avatars never import personas, formats/ readers never touch
the database, and no import cycle inside the app (function-level imports count too: a cycle
hidden in a function is still a cycle for a reader)."""
from __future__ import annotations

import ast
from pathlib import Path

from django.conf import settings

ROOT = Path(settings.BASE_DIR) / "characters"


def _modules() -> dict[str, Path]:
    found = {}
    for path in ROOT.rglob("*.py"):
        if "migrations" in path.parts:
            continue
        parts = path.relative_to(ROOT.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = path
    return found


def _imports(name: str, path: Path, known: dict[str, Path]) -> set[str]:
    """Every module (known or not) that `name` imports, relative imports resolved."""
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    targets: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                module = ".".join([*base, node.module] if node.module else base)
            else:
                module = node.module or ""
            targets.add(module)
            targets.update(f"{module}.{alias.name}" for alias in node.names if f"{module}.{alias.name}" in known)
        elif isinstance(node, ast.Import):
            targets.update(alias.name for alias in node.names)
    targets.discard(name)
    return targets


def test_avatars_never_import_personas():
    known = _modules()
    offenders = {
        name: sorted(t for t in _imports(name, path, known) if t.startswith("characters.personas"))
        for name, path in known.items()
        if name.startswith("characters.avatars")
    }
    assert {k: v for k, v in offenders.items() if v} == {}


def test_format_readers_do_not_touch_the_database():
    known = _modules()
    offenders = {
        name: sorted(t for t in _imports(name, path, known) if t.startswith(("django.db", "characters.models")))
        for name, path in known.items()
        if name.startswith("characters.avatars.formats")
    }
    assert {k: v for k, v in offenders.items() if v} == {}


def test_no_import_cycles_inside_characters():
    known = _modules()
    edges = {name: {t for t in _imports(name, path, known) if t in known} for name, path in known.items()}
    cycles: list[list[str]] = []
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(edges[node]):
            if state.get(nxt) == 1:
                cycles.append([*stack[stack.index(nxt):], nxt])
            elif nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = 2

    for name in sorted(known):
        if name not in state:
            visit(name)
    assert cycles == []
