"""Handouts: which version of a course's template a student's file was written against.

Every template, and so every kit and source notebook made from the templates, starts with
a stamp::

    # dlgrade handout: activations.py, version 2026.1, interface 3f2a9c01b7e4 (keep this line)

The *interface* is a digest of what a student writes code against: the name, signature and
docstring of every function and method of the template (not the stubs' bodies, not the
comments). The version is the course's ``version`` in ``course.toml``, for people to read.
When a student's file carries a stamp whose interface is not the course's current one (a
signature or a docstring changed since the handout), ``check`` says so before anything else
and ``grade`` lists the student, naming the signatures that changed: a failure that comes
from an old handout is not a confusing "wrong". A file without a stamp (the student deleted
it, or wrote the file from scratch) is not judged: nothing is said.

The student's file is read as text in the grading process, never run and never parsed as a
whole: only the ``def`` lines of the handout's functions are, to compare their signatures.
"""

from __future__ import annotations

import ast
import hashlib
import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from dlgrade.sandbox.parsing import parse

if TYPE_CHECKING:
    from dlgrade.load.submission import Submission

STAMP_PREFIX = "# dlgrade handout: "
_STAMP = re.compile(r"^# dlgrade handout: (?P<file>[\w.-]+), (?:version "
                    r"(?P<version>[^,\n]{1,40}), )?interface (?P<interface>[0-9a-f]{12})\b",
                    re.MULTILINE)


@dataclass(frozen=True)
class Handout:
    """What the current template of one student module looks like to its student."""

    file: str  # activations.py
    version: str  # the course's version ("" when it has none)
    interface: str  # 12 hex digits of the signatures and docstrings
    signatures: dict[str, str]  # qualified name -> "relu(x, negative_slope=0.01)"

    def stamp(self) -> str:
        version = f"version {self.version}, " if self.version else ""
        return (f"{STAMP_PREFIX}{self.file}, {version}interface {self.interface} "
                "(keep this line)")

    def to_json(self) -> dict[str, object]:
        return {"file": self.file, "version": self.version, "interface": self.interface,
                "signatures": dict(self.signatures)}

    @classmethod
    def from_json(cls, data: dict) -> Handout:
        return cls(str(data["file"]), str(data["version"]), str(data["interface"]),
                   {str(k): str(v) for k, v in dict(data["signatures"]).items()})


def describe(file: str, version: str, template: str) -> Handout:
    """The handout of a template's text (trusted course code: it must parse)."""
    tree = parse(template)
    found = _interface(tree)
    digest = hashlib.sha256(json.dumps(
        [[name, sig, doc] for name, (sig, doc) in found.items()]).encode()).hexdigest()
    return Handout(file, version, digest[:12], {name: sig for name, (sig, _) in found.items()})


def stamped(text: str, handout: Handout) -> str:
    """``text`` with the handout's stamp as its first line."""
    return f"{handout.stamp()}\n{text}"


def _interface(tree: ast.Module) -> dict[str, tuple[str, str]]:
    """Qualified name -> (signature, docstring) of the functions and methods of a module."""
    found: dict[str, tuple[str, str]] = {}

    def visit(body: Iterable[ast.stmt], prefix: str) -> None:
        for node in body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                found[f"{prefix}{node.name}"] = (_signature(node), ast.get_docstring(node) or "")
            elif isinstance(node, ast.ClassDef):
                visit(node.body, f"{prefix}{node.name}.")

    visit(tree.body, "")
    return found


def _signature(node: ast.FunctionDef | ast.AsyncFunctionDef) -> str:
    return f"{node.name}({ast.unparse(node.args)})"


def _signatures(text: str, names: Iterable[str]) -> dict[str, str]:
    """The signatures of the functions ``names`` (qualified: ``Value.__add__``) as a
    student's file defines them, where it does. Never the whole file parsed: a hostile
    1 MiB file took 1.8 s and 270 MB of the grading process's memory to parse; each
    ``def`` line found is parsed alone (at most 2,000 characters of it)."""
    found = {}
    for name in names:
        match = _definition(text, name)
        if match is None:
            continue
        head = text[match.start():match.start() + 2000].lstrip()
        end = _close(head, head.index("("))
        if end is None:
            continue
        try:
            node = parse(f"{head[:end + 1]}: pass\n").body[0]
        except (SyntaxError, ValueError, IndexError):
            continue
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            found[name] = _signature(node)
    return found


def _definition(text: str, name: str) -> re.Match[str] | None:
    """Where ``name`` is defined in ``text``: a function at the top level (``forward``), a
    method at its class's body depth (``Value.__add__``: not the ``__add__`` of a class
    before it, of a class nested in it, nor a top-level one); nested classes likewise. A
    class's block ends at the next ``def``, ``class`` or decorator indented no deeper than
    its ``class`` line."""
    start, end, indent = 0, len(text), ""
    *classes, function = name.split(".")
    for cls in classes:
        header = re.compile(rf"^{re.escape(indent)}class[ \t]+{re.escape(cls)}\b[^\n]*\n",
                            re.MULTILINE).search(text, start, end)
        if header is None:
            return None
        # The next def, class or decorator no deeper than this class ends its block (not
        # any line at the margin: a docstring may hold one).
        below = re.compile(rf"^[ \t]{{0,{len(indent)}}}(?:def|class|async[ \t]+def|@)\b",
                           re.MULTILINE)
        stop = below.search(text, header.end(), end)
        start, end = header.end(), stop.start() if stop is not None else end
        body = re.compile(r"^([ \t]+)[^#\s]", re.MULTILINE).search(text, start, end)
        if body is None:
            return None
        indent = body[1]
    return re.compile(rf"^{re.escape(indent)}(?:async[ \t]+)?def[ \t]+{re.escape(function)}"
                      r"[ \t]*\(", re.MULTILINE).search(text, start, end)


def _close(text: str, start: int) -> int | None:
    """Where the parenthesis opened at ``start`` closes (strings and comments not looked
    into: a signature's defaults rarely hold parentheses in strings), or None."""
    depth = 0
    for i in range(start, len(text)):
        if text[i] in "([{":
            depth += 1
        elif text[i] in ")]}":
            depth -= 1
            if depth == 0:
                return i
    return None


def outdated(current: Handout, text: str) -> str | None:
    """What to tell a student whose file (``text``) was written against an older handout
    than ``current``; None when it was not, or when it carries no stamp."""
    # One file may hold several modules' code (a notebook, everything in one .py file).
    match = next((m for m in _STAMP.finditer(text) if m["file"] == current.file), None)
    if match is None or match["interface"] == current.interface:
        return None
    then = f"version {match['version']}" if match["version"] else f"interface {match['interface']}"
    now = (f"version {current.version}" if current.version and current.version != match["version"]
           else f"interface {current.interface}")
    said = [f"{current.file} was written against an older handout ({then}; the course's is "
            f"now {now})."]
    mine = _signatures(text, current.signatures)
    changed = [f"{mine[name]} is now {sig}" for name, sig in current.signatures.items()
               if name in mine and mine[name] != sig]
    new = [sig for name, sig in current.signatures.items() if name not in mine]
    if new and mine:  # (a file with none of them is not this module's code)
        changed.append(f"new in the current handout: {', '.join(new)}")
    said.append(f"Since then: {'; '.join(changed)}." if changed else
                "Its signatures match, so docstrings (the formulas, shapes or conventions) "
                "changed: compare yours with the current handout's.")
    said.append("Move your code into the current handout before you trust these results.")
    return " ".join(said)


def notices(submission: Submission, modules: Iterable[str],
            current: Callable[[str], Handout | None]) -> list[str]:
    """One line per module of ``submission`` written against an older handout than
    ``current(module)`` says is the course's (modules it lacks or that are refused: none)."""
    from dlgrade.sandbox.files import read_regular

    said = []
    for module in dict.fromkeys(modules):
        handout = current(module)
        if handout is None or submission.problem(module) is not None:
            continue
        path = submission.module_path(module)
        data = read_regular(path) if path is not None else None
        message = outdated(handout, data.decode("utf-8", "replace")) if data else None
        if message is not None:
            said.append(message)
    return said
