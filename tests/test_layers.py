"""The engine's import rules: the module graph reads as the pipeline, click lives in the CLI.

Every module under ``autograder/`` (imported as ``dlgrade``) is parsed, never imported, and
every import of ``dlgrade.*`` or ``click`` in it is collected, at module level, inside
functions and under ``if TYPE_CHECKING``:

* no import cycles between engine modules (the ``dlgrade.cli`` package is one node);
* only ``dlgrade.cli`` imports ``click``, and nothing but it (and ``python -m dlgrade``)
  imports ``dlgrade.cli``;
* ``dlgrade.results`` imports nothing from dlgrade;
* ``dlgrade.sandbox.*`` imports only ``dlgrade.sandbox.*``;
* ``dlgrade.core.*`` (compare, gradcheck, diagnose) import only each other;
* the bundled course (``assignments/``) imports from dlgrade only ``dlgrade.authoring``.

The checks are plain functions over a ``{module: imported modules}`` graph, so the test of
the checker itself runs them on a made-up graph that breaks every rule.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
ENGINE = ROOT / "autograder"
COURSE_SPECS = ROOT / "assignments"
PACKAGE = "dlgrade"
CLI = "dlgrade.cli"
#: Entry points, like the ``dlgrade`` console script: they may import the CLI.
ENTRY_POINTS = {"dlgrade.__main__"}
LEAF = "dlgrade.results"
SANDBOX = "dlgrade.sandbox"
NUMERICS = {"dlgrade.core.compare", "dlgrade.core.gradcheck", "dlgrade.core.diagnose"}
AUTHORING = "dlgrade.authoring"

#: Imports that break a rule today, in modules this change could not touch; each says why.
#: The test fails when one of them is gone, so that this list only ever shrinks.
KNOWN_EXCEPTIONS: dict[tuple[str, str], str] = {}


# ---------------------------------------------------------------- collecting the graph


def module_name(path: Path, base: Path = ENGINE, package: str = PACKAGE) -> str:
    """``autograder/sandbox/runner.py`` -> ``dlgrade.sandbox.runner``."""
    parts = path.relative_to(base).with_suffix("").parts
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join((package, *parts))


def engine_modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(ENGINE.rglob("*.py"))
            if "__pycache__" not in p.parts}


def _ours(name: str) -> bool:
    return any(name == top or name.startswith(f"{top}.") for top in (PACKAGE, "click"))


def imports_of(source: str, name: str, *, is_package: bool = False,
               modules: Iterable[str] = ()) -> set[str]:
    """The ``dlgrade.*`` and ``click`` modules the code of module ``name`` imports anywhere
    in it. ``from P import x`` counts as ``P.x`` when that is one of ``modules``, else as
    ``P``; relative imports are resolved against ``name``."""
    known = set(modules)
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = name.split(".") if is_package else name.split(".")[:-1]
                base = base[:len(base) - (node.level - 1)]
                target = ".".join([*base, *([node.module] if node.module else [])])
            else:
                target = node.module or ""
            for alias in node.names:
                sub = f"{target}.{alias.name}"
                found.add(sub if sub in known else target)
    return {m for m in found if _ours(m)}


def engine_graph() -> dict[str, set[str]]:
    modules = engine_modules()
    return {name: imports_of(path.read_text(encoding="utf-8"), name,
                             is_package=path.name == "__init__.py", modules=modules)
            for name, path in modules.items()}


# ---------------------------------------------------------------- the rules


def _within(name: str, package: str) -> bool:
    return name == package or name.startswith(f"{package}.")


def _node(name: str) -> str:
    return CLI if _within(name, CLI) else name


def _allowed(module: str, target: str, allowed: Iterable[tuple[str, str]]) -> bool:
    return (module, target) in set(allowed)


def cycles(graph: Mapping[str, Iterable[str]], allowed: Iterable[tuple[str, str]] = ()
           ) -> list[list[str]]:
    """The import cycles among the graph's modules (strongly connected components of more
    than one node; the CLI package is one node), each sorted; ``allowed`` edges ignored."""
    allowed = set(allowed)
    edges: dict[str, set[str]] = {}
    for module in graph:
        edges.setdefault(_node(module), set())
    for module, targets in graph.items():
        for target in targets:
            a, b = _node(module), _node(target)
            if a != b and b in edges and (module, target) not in allowed:
                edges[a].add(b)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:  # Tarjan's algorithm; the graph is a few dozen modules
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(edges[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return sorted(found)


def layer_problems(graph: Mapping[str, Iterable[str]],
                   allowed: Iterable[tuple[str, str]] = ()) -> list[str]:
    """Every import that breaks a layering rule (see the module docstring)."""
    problems = []
    for module, targets in sorted(graph.items()):
        for target in sorted(targets):
            if _allowed(module, target, allowed):
                continue
            ours = _within(target, PACKAGE)
            if not _within(module, CLI) and _within(target, "click"):
                problems.append(f"{module} imports click (only {CLI} may)")
            if not _within(module, CLI) and module not in ENTRY_POINTS and _within(target, CLI):
                problems.append(f"{module} imports {target} (the CLI is the top layer)")
            if module == LEAF and ours:
                problems.append(f"{module} imports {target} ({LEAF} is a leaf)")
            if _within(module, SANDBOX) and ours and not _within(target, SANDBOX):
                problems.append(f"{module} imports {target} (the sandbox imports only "
                                f"{SANDBOX}.*)")
            if module in NUMERICS and ours and target not in NUMERICS:
                problems.append(f"{module} imports {target} (the numerics import only "
                                f"{', '.join(sorted(NUMERICS))})")
    return problems


def course_problems(files: Mapping[str, str], modules: Iterable[str] = ()) -> list[str]:
    """Imports of dlgrade other than dlgrade.authoring in a course's spec files
    (``{path: source}``)."""
    problems = []
    for path, source in sorted(files.items()):
        for target in sorted(imports_of(source, "course_spec", modules=modules)):
            if _within(target, PACKAGE) and target != AUTHORING:
                problems.append(f"{path} imports {target} (a course imports only {AUTHORING})")
    return problems


# ---------------------------------------------------------------- the engine


@pytest.fixture(scope="module")
def graph() -> dict[str, set[str]]:
    found = engine_graph()
    assert {"dlgrade", CLI, "dlgrade.cli.errors", LEAF, "dlgrade.outputs.atomic",
            "dlgrade.grading.grader", "dlgrade.sandbox.runner"} <= set(found)
    return found


def test_no_import_cycles(graph):
    assert cycles(graph, KNOWN_EXCEPTIONS) == []


def test_layers(graph):
    assert layer_problems(graph, KNOWN_EXCEPTIONS) == []


def test_only_the_cli_imports_click(graph):
    users = sorted(m for m, targets in graph.items() if any(_within(t, "click") for t in targets))
    assert users and all(_within(m, CLI) for m in users), users
    assert graph[LEAF] == set()


def test_the_known_exceptions_still_exist(graph):
    """Each known exception still happens; when one is fixed, drop it from the list."""
    gone = [edge for edge in KNOWN_EXCEPTIONS if edge[1] not in graph.get(edge[0], set())]
    assert gone == [], f"fixed, remove from KNOWN_EXCEPTIONS: {gone}"


def test_the_course_imports_only_authoring():
    files = {str(p.relative_to(ROOT)): p.read_text(encoding="utf-8")
             for p in sorted(COURSE_SPECS.rglob("*.py")) if "__pycache__" not in p.parts}
    assert files
    assert course_problems(files, engine_modules()) == []


def test_the_text_report_does_not_load_the_sandbox():
    code = ("import sys\nimport dlgrade.outputs.report\n"
            "print(sorted(m for m in ('dlgrade.sandbox.runner', 'dlgrade.grading.grader', 'click')"
            " if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=ROOT, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


# ---------------------------------------------------------------- the checker itself


def test_the_collector_sees_every_kind_of_import():
    source = '''
from __future__ import annotations
import os
from typing import TYPE_CHECKING
import dlgrade.sandbox.runner
from dlgrade import course, registry
from dlgrade.spec import Assignment
from . import compare
from .sandbox import wire
if TYPE_CHECKING:
    from dlgrade.deadlines import LateResult

def later():
    import click
    from dlgrade.cli import main
    return main
'''
    modules = {"dlgrade.course", "dlgrade.registry", "dlgrade.compare", "dlgrade.sandbox.wire"}
    assert imports_of(source, "dlgrade.report", modules=modules) == {
        "dlgrade.sandbox.runner", "dlgrade.course", "dlgrade.registry", "dlgrade.spec",
        "dlgrade.compare", "dlgrade.sandbox.wire", "dlgrade.deadlines", "click", "dlgrade.cli"}
    # Relative to a package's __init__, and two levels up.
    assert imports_of("from . import wire\nfrom .. import spec", "dlgrade.sandbox",
                      is_package=True) == {"dlgrade.sandbox", "dlgrade"}
    assert imports_of("from ..spec import Exercise", "dlgrade.sandbox.child") == {"dlgrade.spec"}


def test_the_checker_catches_every_rule():
    bad = {
        "dlgrade.a": {"dlgrade.b"},
        "dlgrade.b": {"dlgrade.c"},
        "dlgrade.c": {"dlgrade.a"},                                     # a -> b -> c -> a
        CLI: {"dlgrade.cli.errors", "dlgrade.a", "click"},
        "dlgrade.cli.errors": {CLI, "click"},  # inside the CLI node: no cycle, click allowed
        "dlgrade.report": {"dlgrade.cli.errors", "click.testing"},
        LEAF: {"dlgrade.spec"},
        "dlgrade.spec": set(),
        "dlgrade.sandbox.child": {"dlgrade.sandbox.wire", "dlgrade.submission"},
        "dlgrade.sandbox.wire": set(),
        "dlgrade.submission": set(),
        "dlgrade.core.compare": {"dlgrade.core.gradcheck"},
        "dlgrade.core.gradcheck": {"dlgrade.core.compare", "dlgrade.grading"},     # also a cycle
        "dlgrade.grading": {"dlgrade.core.gradcheck"},
        "dlgrade.__main__": {CLI},                                      # an entry point
    }
    assert cycles(bad) == [["dlgrade.a", "dlgrade.b", "dlgrade.c"],
                           ["dlgrade.core.compare", "dlgrade.core.gradcheck", "dlgrade.grading"]]
    assert cycles(bad, [("dlgrade.c", "dlgrade.a"),
                        ("dlgrade.grading", "dlgrade.core.gradcheck")]
                  ) == [["dlgrade.core.compare", "dlgrade.core.gradcheck"]]
    problems = layer_problems(bad)
    assert problems == [
        "dlgrade.core.gradcheck imports dlgrade.grading (the numerics import only "
        "dlgrade.core.compare, dlgrade.core.diagnose, dlgrade.core.gradcheck)",
        "dlgrade.report imports click (only dlgrade.cli may)",
        "dlgrade.report imports dlgrade.cli.errors (the CLI is the top layer)",
        "dlgrade.results imports dlgrade.spec (dlgrade.results is a leaf)",
        "dlgrade.sandbox.child imports dlgrade.submission (the sandbox imports only "
        "dlgrade.sandbox.*)",
    ]
    assert layer_problems(bad, [("dlgrade.results", "dlgrade.spec")]) == \
        [p for p in problems if not p.startswith("dlgrade.results")]
    good = {
        "dlgrade.a": {"dlgrade.b"}, "dlgrade.b": {"dlgrade.c"}, "dlgrade.c": set(),
        CLI: {"dlgrade.cli.errors", "dlgrade.a", "click"}, "dlgrade.cli.errors": {CLI, "click"},
        "dlgrade.report": {LEAF, "dlgrade.spec"}, LEAF: set(), "dlgrade.spec": set(),
        "dlgrade.sandbox.child": {"dlgrade.sandbox.wire"}, "dlgrade.sandbox.wire": set(),
        "dlgrade.core.compare": set(), "dlgrade.core.gradcheck": {"dlgrade.core.compare"},
        "dlgrade.grading": {"dlgrade.core.gradcheck", "dlgrade.sandbox.child", LEAF},
        "dlgrade.__main__": {CLI},
    }
    assert cycles(good) == [] and layer_problems(good) == []
    assert course_problems({"a9/exercises.py": "from dlgrade.authoring import Exercise\n"
                                               "def f():\n    from dlgrade.grading import x\n",
                            "a9/__init__.py": "from dlgrade import authoring\n"},
                           {"dlgrade.authoring", "dlgrade.grading"}) == [
        "a9/exercises.py imports dlgrade.grading (a course imports only dlgrade.authoring)"]
